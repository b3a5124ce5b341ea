/*
 * ctl: `beianctl provider add CODE` and `provider remove CODE` — a
 * provider's SFTP account and spool folders (DESIGN.md, Spool layout and
 * ownership), made and unmade by root in one command each.
 *
 * This file runs as root and acts on the file system: it refuses to run
 * as anyone else, takes the code only in the configuration's alphabet
 * (so the account name and the folder name stay plain), makes accounts
 * with the distribution's own useradd/userdel (run by path, without a
 * shell), and changes owners and modes only through descriptors opened
 * with O_NOFOLLOW|O_DIRECTORY below spool_dir, so a link planted in the
 * tree cannot turn a chown onto another file.  It never deletes an
 * upload: a folder that still holds files is moved aside, whole.
 *
 * With --root DIR every path (spool_dir, /etc/passwd, /etc/group) is
 * taken below DIR, as systemd-sysusers and useradd take theirs; what it
 * prints names the paths as they are on the target system.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "ctl/ctl.h"
#include "lib/compat.h"

#define ACCOUNT_PREFIX "beiand-"
#define ACCOUNT_MAX 32          /* useradd's longest name on Debian */
#define CODE_MAX (ACCOUNT_MAX - (int)sizeof(ACCOUNT_PREFIX) + 1)
#define USERADD "/usr/sbin/useradd"
#define USERDEL "/usr/sbin/userdel"
#define GROUPDEL "/usr/sbin/groupdel"
#define NOLOGIN "/usr/sbin/nologin"

extern char **environ;

struct prov {
	const char *code;
	const char *root;       /* --root, or "" */
	char account[ACCOUNT_MAX + 1];
	char spool[PATH_MAX];   /* spool_dir as on the target system */
	char base[PATH_MAX];    /* <spool>/providers/<code>, below root */
	const struct config *cf;
};

static int
code_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > (size_t)CODE_MAX || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

/* A user or group in the target system: NSS for the running system,
 * root's own files with --root.  0 found, -1 not. */
static int
user_find(const struct prov *p, const char *name, uid_t *uid, gid_t *gid)
{
	char path[PATH_MAX];
	struct passwd *pw = NULL;
	FILE *fp;

	if (p->root[0] == '\0') {
		if ((pw = getpwnam(name)) == NULL)
			return -1;
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/etc/passwd", p->root);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while ((pw = fgetpwent(fp)) != NULL)
		if (strcmp(pw->pw_name, name) == 0) {
			*uid = pw->pw_uid;
			*gid = pw->pw_gid;
			break;
		}
	fclose(fp);
	return pw != NULL ? 0 : -1;
}

static int
group_find(const struct prov *p, const char *name, gid_t *gid)
{
	char path[PATH_MAX];
	struct group *gr = NULL;
	FILE *fp;

	if (p->root[0] == '\0') {
		if ((gr = getgrnam(name)) == NULL)
			return -1;
		*gid = gr->gr_gid;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/etc/group", p->root);
	if ((fp = fopen(path, "re")) == NULL)
		return -1;
	while ((gr = fgetgrent(fp)) != NULL)
		if (strcmp(gr->gr_name, name) == 0) {
			*gid = gr->gr_gid;
			break;
		}
	fclose(fp);
	return gr != NULL ? 0 : -1;
}

/* Run a tool of the distribution by its path, no shell; 0 when it
 * exited 0.  Its own messages go to our stderr. */
static int
run_tool(char *const argv[])
{
	pid_t pid;
	int st, e;

	if ((e = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ)) != 0) {
		fprintf(stderr, "beianctl: %s: %s\n", argv[0], strerror(e));
		return -1;
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	fprintf(stderr, "beianctl: %s failed (%s %d)\n", argv[0],
	    WIFEXITED(st) ? "exit status" : "signal", WIFEXITED(st) ?
	    WEXITSTATUS(st) : WTERMSIG(st));
	return -1;
}

/*
 * Open folder name below dfd, making it (mode) when missing; never a
 * link.  The fd, or -1 with a message printed.
 */
static int
dir_open(int dfd, const char *shown, const char *name, mode_t mode)
{
	int fd;

	if (mkdirat(dfd, name, mode) == -1 && errno != EEXIST) {
		fprintf(stderr, "beianctl: %s: %s\n", shown, strerror(errno));
		return -1;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		fprintf(stderr, "beianctl: %s: %s\n", shown, errno == ELOOP ||
		    errno == ENOTDIR ? "not a folder (a link?): refused" :
		    strerror(errno));
	return fd;
}

/* Owner and mode of an open folder, as DESIGN.md wants them. */
static int
dir_own(int fd, const char *shown, uid_t uid, gid_t gid, mode_t mode)
{
	if (fchown(fd, uid, gid) == -1 || fchmod(fd, mode) == -1) {
		fprintf(stderr, "beianctl: %s: %s\n", shown, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * sshd's ChrootDirectory wants every folder from the chroot up to / to
 * belong to root and not be writable by group or others: say which one
 * is not (a warning; sshd would refuse the login).
 */
static void
chroot_check(const char *path)
{
	char cur[PATH_MAX];
	struct stat st;

	if (realpath(path, cur) == NULL)
		return;
	for (;;) {
		char *slash;

		if (stat(cur, &st) == 0 && (st.st_uid != 0 ||
		    (st.st_mode & 022) != 0))
			fprintf(stderr, "beianctl: warning: %s is uid %ld mode "
			    "%04o: sshd refuses a chroot below a folder not "
			    "owned by root or writable by others\n", cur,
			    (long)st.st_uid, (unsigned)(st.st_mode & 07777));
		if (strcmp(cur, "/") == 0)
			return;
		slash = strrchr(cur, '/');
		if (slash == cur)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

static int
prov_setup(struct prov *p, const char *code, const char *root,
    const struct config *cf, const char *verb)
{
	size_t i;

	if (geteuid() != 0) {
		fprintf(stderr, "beianctl: provider %s must be run as root: it "
		    "%s a system account and the folders it owns\n", verb,
		    strcmp(verb, "add") == 0 ? "makes" : "removes");
		return -1;
	}
	if (!code_valid(code)) {
		fprintf(stderr, "beianctl: provider %s: a code is 1-%d of "
		    "A-Z a-z 0-9 _ -, not starting with -\n", verb, CODE_MAX);
		return -1;
	}
	memset(p, 0, sizeof(*p));
	p->code = code;
	p->root = root;
	p->cf = cf;
	snprintf(p->account, sizeof(p->account), ACCOUNT_PREFIX "%s", code);
	for (i = 0; p->account[i] != '\0'; i++)
		if (p->account[i] >= 'A' && p->account[i] <= 'Z')
			p->account[i] = (char)(p->account[i] - 'A' + 'a');
	/* one account per code: P001 and p001 would share it */
	for (i = 0; i < cf->nproviders; i++)
		if (strcasecmp(cf->providers[i].code, code) == 0 &&
		    strcmp(cf->providers[i].code, code) != 0) {
			fprintf(stderr, "beianctl: provider %s: [provider.%s] "
			    "is configured, and its account would be %s too\n",
			    verb, cf->providers[i].code, p->account);
			return -1;
		}
	if (strlcpy(p->spool, cf->spool_dir, sizeof(p->spool)) >=
	    sizeof(p->spool) || (size_t)snprintf(p->base, sizeof(p->base),
	    "%s%s/providers/%s", root, cf->spool_dir, code) >= sizeof(p->base)) {
		fprintf(stderr, "beianctl: provider %s: path too long\n", verb);
		return -1;
	}
	return 0;
}

/*
 * Has the configuration file a [provider.CODE] section?  Asked of the
 * file, not of the loaded configuration: a file without any provider
 * section keeps the built-in example one (DESIGN.md), which is nobody's.
 */
static int
configured(const struct prov *p)
{
	char line[512], want[128];
	FILE *fp;
	int found = 0;

	if (p->cf->path == NULL || config_provider_find(p->cf, p->code) == NULL)
		return 0;
	if ((fp = fopen(p->cf->path, "re")) == NULL)
		return 1; /* loaded a moment ago: assume it is there */
	snprintf(want, sizeof(want), "[provider.%s]", p->code);
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		const char *l = line + strspn(line, " \t");

		found = strncmp(l, want, strlen(want)) == 0;
	}
	fclose(fp);
	return found;
}

static void
print_next_steps(const struct prov *p, int configured)
{
	const char *cfp = p->cf->path != NULL ? p->cf->path :
	    "/etc/beiand/beiand.conf";

	if (configured)
		printf("\n[provider.%s] is in %s already.\n", p->code, cfp);
	else
		printf("\nAdd to %s (then beiand -n, and systemctl reload "
		    "beiand):\n\n[provider.%s]\nname      = \nemail     = \n"
		    "ip_ranges = \n", cfp, p->code);
	printf("\nAdd to /etc/ssh/sshd_config, or a file in "
	    "/etc/ssh/sshd_config.d/ (then sshd -t, and systemctl reload "
	    "ssh):\n\n"
	    "Match User %s\n"
	    "\tChrootDirectory %s/providers/%s\n"
	    "\tForceCommand internal-sftp -u 0027\n"
	    "\tAuthorizedKeysFile /etc/ssh/beiand-keys/%%u\n"
	    "\tPasswordAuthentication no\n"
	    "\tAllowTcpForwarding no\n"
	    "\tX11Forwarding no\n"
	    "\tPermitTTY no\n"
	    "\nThe provider's public key goes in /etc/ssh/beiand-keys/%s "
	    "(root's, mode 0644).\n", p->account, p->spool, p->code,
	    p->account);
}

static int
provider_add(struct prov *p)
{
	char shown[PATH_MAX + 32], parent[PATH_MAX];
	uid_t bu, au;
	gid_t bg, ag, dummy;
	int made = 0, pfd = -1, bfd = -1, ifd = -1, ofd = -1, rc = CTL_USAGE;
	char *slash;

	if (user_find(p, "beiand", &bu, &dummy) == -1 ||
	    group_find(p, "beiand", &bg) == -1) {
		fprintf(stderr, "beianctl: provider add: no user and group "
		    "beiand%s%s: run systemd-sysusers first\n",
		    p->root[0] ? " in " : "", p->root);
		return CTL_USAGE;
	}
	if (user_find(p, p->account, &au, &ag) == -1) {
		char *argv[16];
		char comment[64];
		int n = 0;

		snprintf(comment, sizeof(comment), "beiand provider %s",
		    p->code);
		argv[n++] = (char *)USERADD;
		if (p->root[0] != '\0') {
			argv[n++] = (char *)"--root";
			argv[n++] = (char *)p->root;
		}
		argv[n++] = (char *)"--system";
		argv[n++] = (char *)"--user-group";
		argv[n++] = (char *)"--no-create-home";
		argv[n++] = (char *)"--home-dir";
		argv[n++] = (char *)"/";
		argv[n++] = (char *)"--shell";
		argv[n++] = (char *)NOLOGIN;
		argv[n++] = (char *)"--comment";
		argv[n++] = comment;
		argv[n++] = p->account;
		argv[n] = NULL;
		if (run_tool(argv) == -1 ||
		    user_find(p, p->account, &au, &ag) == -1) {
			fprintf(stderr, "beianctl: provider add: the account "
			    "%s was not made\n", p->account);
			return CTL_USAGE;
		}
		made = 1;
	}
	printf("account %s (uid %ld): %s\n", p->account, (long)au,
	    made ? "made" : "there already");

	/* <spool>/providers/ (tmpfiles makes it; root:root 0755 for sshd) */
	if (strlcpy(parent, p->base, sizeof(parent)) >= sizeof(parent) ||
	    (slash = strrchr(parent, '/')) == NULL)
		return CTL_USAGE;
	*slash = '\0';
	if ((pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "beianctl: %s: %s (systemd-tmpfiles --create "
		    "makes the spool tree)\n", parent, strerror(errno));
		goto out;
	}
	snprintf(shown, sizeof(shown), "%s/providers/%s", p->spool, p->code);
	if ((bfd = dir_open(pfd, shown, p->code, 0755)) == -1 ||
	    dir_own(bfd, shown, 0, 0, 0755) == -1)
		goto out;
	printf("%-48s root:root 0755 (the SFTP chroot)\n", shown);
	snprintf(shown, sizeof(shown), "%s/providers/%s/incoming", p->spool,
	    p->code);
	if ((ifd = dir_open(bfd, shown, "incoming", 0700)) == -1 ||
	    dir_own(ifd, shown, au, bg, 02770) == -1)
		goto out;
	printf("%-48s %s:beiand 2770 (uploads)\n", shown, p->account);
	snprintf(shown, sizeof(shown), "%s/providers/%s/outgoing", p->spool,
	    p->code);
	if ((ofd = dir_open(bfd, shown, "outgoing", 0700)) == -1 ||
	    dir_own(ofd, shown, bu, ag, 02750) == -1)
		goto out;
	printf("%-48s beiand:%s 2750 (receipts)\n", shown, p->account);
	chroot_check(p->base);
	print_next_steps(p, configured(p));
	rc = CTL_OK;
out:
	if (pfd != -1)
		close(pfd);
	if (bfd != -1)
		close(bfd);
	if (ifd != -1)
		close(ifd);
	if (ofd != -1)
		close(ofd);
	return rc;
}

/* Entries of folder name below dfd (-1 when it cannot be read; a
 * missing folder has none). */
static long
dir_entries(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	struct dirent *de;
	long n = 0;
	DIR *d;

	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Entries of an open provider folder besides incoming/ and outgoing/
 * (-1 when it cannot be read). */
static long
dir_others(int bfd)
{
	int fd = openat(bfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	long n = 0;
	DIR *d;

	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, "incoming") != 0 &&
		    strcmp(de->d_name, "outgoing") != 0)
			n++;
	closedir(d);
	return n;
}

static int
provider_remove(struct prov *p)
{
	char parent[PATH_MAX], aside[128], stamp[32];
	const char *cfp = p->cf->path != NULL ? p->cf->path :
	    "/etc/beiand/beiand.conf";
	uid_t au;
	gid_t ag;
	long nin, nout;
	int pfd = -1, bfd = -1, rc = CTL_USAGE;
	char *slash;
	time_t now = time(NULL);
	struct tm tm;

	if (configured(p)) {
		fprintf(stderr, "beianctl: provider remove %s: [provider.%s] is "
		    "still in %s: remove the section and reload beiand first "
		    "(systemctl reload beiand)\n", p->code, p->code, cfp);
		return CTL_REFUSED;
	}
	if (strlcpy(parent, p->base, sizeof(parent)) >= sizeof(parent) ||
	    (slash = strrchr(parent, '/')) == NULL)
		return CTL_USAGE;
	*slash = '\0';
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bfd = pfd == -1 ? -1 : openat(pfd, p->code, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (bfd == -1 && errno != ENOENT) {
		fprintf(stderr, "beianctl: %s/providers/%s: %s\n", p->spool,
		    p->code, strerror(errno));
		goto out;
	}
	if (bfd != -1) {
		nin = dir_entries(bfd, "incoming");
		nout = dir_entries(bfd, "outgoing");
		if (nin == 0 && nout == 0 && dir_others(bfd) == 0 &&
		    (unlinkat(bfd, "incoming", AT_REMOVEDIR) == 0 ||
		    errno == ENOENT) && (unlinkat(bfd, "outgoing",
		    AT_REMOVEDIR) == 0 || errno == ENOENT) &&
		    unlinkat(pfd, p->code, AT_REMOVEDIR) == 0)
			printf("%s/providers/%s: empty, removed\n", p->spool,
			    p->code);
		else {
			/* Uploads and receipts are the provider's record:
			 * kept, whole, where only root can reach them (the
			 * account's uid may be given to someone else). */
			localtime_r(&now, &tm);
			strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
			snprintf(aside, sizeof(aside), "%s.removed-%s", p->code,
			    stamp);
			if (fchown(bfd, 0, 0) == -1 || fchmod(bfd, 0700) == -1 ||
			    renameat(pfd, p->code, pfd, aside) == -1) {
				fprintf(stderr, "beianctl: %s/providers/%s: %s\n",
				    p->spool, p->code, strerror(errno));
				goto out;
			}
			printf("%s/providers/%s: kept as %s/providers/%s "
			    "(root only): %ld in incoming/, %ld in outgoing/\n",
			    p->spool, p->code, p->spool, aside, nin < 0 ? 0 :
			    nin, nout < 0 ? 0 : nout);
		}
	} else
		printf("%s/providers/%s: not there\n", p->spool, p->code);

	if (user_find(p, p->account, &au, &ag) == 0) {
		char *argv[6];
		gid_t g;
		int n = 0;

		argv[n++] = (char *)USERDEL;
		if (p->root[0] != '\0') {
			argv[n++] = (char *)"--root";
			argv[n++] = (char *)p->root;
		}
		argv[n++] = p->account;
		argv[n] = NULL;
		if (run_tool(argv) == -1)
			goto out;
		/* userdel keeps the user's group where login.defs says
		 * USERGROUPS_ENAB no (or, with --root, has no login.defs) */
		if (group_find(p, p->account, &g) == 0) {
			argv[0] = (char *)GROUPDEL;
			if (run_tool(argv) == -1)
				goto out;
		}
		printf("account %s (uid %ld): removed\n", p->account, (long)au);
	} else
		printf("account %s: not there\n", p->account);
	printf("\nRemove its Match User %s block from the sshd configuration "
	    "(then sshd -t, and systemctl reload ssh), and its key "
	    "/etc/ssh/beiand-keys/%s.\n", p->account, p->account);
	rc = CTL_OK;
out:
	if (bfd != -1)
		close(bfd);
	if (pfd != -1)
		close(pfd);
	return rc;
}

int
ctl_provider(int argc, char **argv, const struct config *cf)
{
	const char *root = "", *code = NULL, *verb;
	char rootbuf[PATH_MAX];
	struct prov p;

	if (argc < 3 || (strcmp(argv[1], "add") != 0 &&
	    strcmp(argv[1], "remove") != 0))
		goto usage;
	verb = argv[1];
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--root") == 0 && i + 1 < argc) {
			if (realpath(argv[++i], rootbuf) == NULL) {
				fprintf(stderr, "beianctl: %s: %s\n", argv[i],
				    strerror(errno));
				return CTL_USAGE;
			}
			/* "/" is the running system */
			root = strcmp(rootbuf, "/") == 0 ? "" : rootbuf;
		} else if (argv[i][0] != '-' && code == NULL)
			code = argv[i];
		else
			goto usage;
	}
	if (code == NULL)
		goto usage;
	if (prov_setup(&p, code, root, cf, verb) == -1)
		return CTL_USAGE;
	return strcmp(verb, "add") == 0 ? provider_add(&p) :
	    provider_remove(&p);
usage:
	fprintf(stderr, "usage: beianctl provider add|remove [--root DIR] "
	    "CODE\n");
	return CTL_USAGE;
}
