/*
 * ctl_owner: beianctl run as root acts as the owner of state_dir
 * (DESIGN.md, Command line), as doveadm acts as the mail user.
 *
 * Why: every file beianctl makes under state_dir — the database's -wal
 * and -shm, a blob in store/xx/, the high-water mark — must stay usable
 * by the daemon, which runs as the service user.  A root-owned 0700
 * store/bb/ left by `beianctl submit` made the daemon defer a review
 * request for good ("attachment package of BA-…: Permission denied").
 * So, after the configuration is read (it may be root:beiand 0640) and
 * before anything under state_dir is touched, a root beianctl takes the
 * owner's uid, the owner's primary group and the owner's supplementary
 * groups, for good: the saved ids too, so nothing can take root back.
 *
 * Verbs that touch no state stay root: check (packages only), provider
 * (accounts and folders, root's by nature).  probe connects as the
 * daemon does: it reads its password file as root, then becomes the
 * owner (ctl_act_as_owner()) before the first byte from the server.
 *
 * A state_dir that does not exist yet is made by the owner of the folder
 * that holds it (the nearest existing one above): in the packaged layout
 * /var/lib/beiand exists before either program runs (tmpfiles.d), so this
 * is a run from a checkout or a hand-made setup, where that owner is the
 * one who set it up.
 */
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "ctl/ctl.h"
#include "lib/compat.h"
#include "lib/xmalloc.h"

static char owner_name[64];     /* the user acted as, "" when still root */

/* probe: ctl_act_as_owner() once its password is read */
static const char *const root_verbs[] = { "check", "probe", "provider" };

/* stat() of path, or of the nearest existing folder above it. */
static int
owner_stat(const char *path, struct stat *sb)
{
	char *p = xstrdup(path), *slash;
	int rc;

	for (;;) {
		if ((rc = stat(p, sb)) == 0 || errno != ENOENT)
			break;
		/* up one: "a/b/c" → "a/b", "a" → ".", "/a" → "/" */
		while ((slash = strrchr(p, '/')) != NULL && slash[1] == '\0' &&
		    slash != p)
			*slash = '\0';
		if ((slash = strrchr(p, '/')) == NULL) {
			if (strcmp(p, ".") == 0)
				break;
			strlcpy(p, ".", strlen(p) + 1);
		} else if (slash == p) {
			if (p[1] == '\0')
				break;
			p[1] = '\0';
		} else
			*slash = '\0';
	}
	free(p);
	return rc;
}

int
ctl_become_owner(const struct config *cf, const char *verb)
{
	char err[512];

	for (size_t i = 0; i < sizeof(root_verbs) / sizeof(root_verbs[0]); i++)
		if (strcmp(verb, root_verbs[i]) == 0)
			return 0;
	if (ctl_act_as_owner(cf, err, sizeof(err)) == -1) {
		fputs("beianctl: ", stderr);
		ctl_put_escaped(stderr, err);
		fputc('\n', stderr);
		return -1;
	}
	return 0;
}

int
ctl_act_as_owner(const struct config *cf, char *err, size_t errsize)
{
	struct passwd *pw;
	struct stat sb;
	uid_t ru, eu, su;
	gid_t gid;

	if (geteuid() != 0)
		return 0;
	if (owner_stat(cf->state_dir, &sb) == -1) {
		snprintf(err, errsize, "%s: %s", cf->state_dir,
		    strerror(errno));
		return -1;
	}
	if (sb.st_uid == 0)
		return 0; /* root owns it: nothing to become */
	pw = getpwuid(sb.st_uid);
	gid = pw != NULL ? pw->pw_gid : sb.st_gid;
	if (pw != NULL)
		snprintf(owner_name, sizeof(owner_name), "%s", pw->pw_name);
	else
		snprintf(owner_name, sizeof(owner_name), "uid %lu",
		    (unsigned long)sb.st_uid);
	if ((pw != NULL ? initgroups(pw->pw_name, gid) : setgroups(1, &gid))
	    == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(sb.st_uid, sb.st_uid, sb.st_uid) == -1) {
		snprintf(err, errsize, "cannot act as %s, the owner of %s: %s",
		    owner_name, cf->state_dir, strerror(errno));
		return -1;
	}
	/* for good: no id left that could take root back */
	if (getresuid(&ru, &eu, &su) == -1 || ru != sb.st_uid ||
	    eu != sb.st_uid || su != sb.st_uid || setuid(0) != -1) {
		fprintf(stderr, "beianctl: could not leave root for %s\n",
		    owner_name);
		abort();
	}
	return 0;
}

const char *
ctl_owner_name(void)
{
	return owner_name[0] != '\0' ? owner_name : NULL;
}

void
ctl_put_file_error(const char *path, int err)
{
	fputs("beianctl: ", stderr);
	ctl_put_escaped(stderr, path);
	fprintf(stderr, ": %s", strerror(err));
	if (err == EACCES && owner_name[0] != '\0')
		fprintf(stderr, " (beianctl acts as %s, the owner of state_dir:"
		    " the file must be reachable by it)", owner_name);
	fputc('\n', stderr);
}
