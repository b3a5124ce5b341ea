/*
 * startcheck: see include/daemon/startcheck.h.
 *
 * Only stat(2), faccessat(2), access(2) and readlink(2): nothing is
 * made, opened or changed, so `beiand -n` is safe to run at any time, as
 * any user, beside a running daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "daemon/startcheck.h"
#include "lib/compat.h"
#include "lib/spawn.h"

/* The folder above path ("/" for "/x"); 0, or -1 when path has none. */
static int
parent_of(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash[1] == '\0' || strcmp(path, "/") == 0)
		return -1;
	if (slash == path)
		return strlcpy(out, "/", size) < size ? 0 : -1;
	if ((size_t)(slash - path) >= size)
		return -1;
	memcpy(out, path, (size_t)(slash - path));
	out[slash - path] = '\0';
	return 0;
}

static const char *
needs_text(int need)
{
	if ((need & STARTCHECK_READ) && (need & STARTCHECK_WRITE))
		return "to read, write and enter it";
	if (need & STARTCHECK_WRITE)
		return "to write and enter it";
	if (need & STARTCHECK_READ)
		return "to read and enter it";
	return "to enter it";
}

int
startcheck_dir(const char *path, int need, char *why, size_t whysize)
{
	char cur[4096], up[4096];
	struct stat st;
	int mode = X_OK;

	if (need & STARTCHECK_READ)
		mode |= R_OK;
	if (need & STARTCHECK_WRITE)
		mode |= W_OK;
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			snprintf(why, whysize, "not a folder");
			return -1;
		}
		if (faccessat(AT_FDCWD, path, mode, AT_EACCESS) == 0)
			return 0;
		if (errno == EROFS)
			snprintf(why, whysize, "read-only file system here");
		else
			snprintf(why, whysize, "%s (beiand needs %s)",
			    errno == EACCES ? "permission denied" :
			    strerror(errno), needs_text(need));
		return -1;
	}
	if (errno != ENOENT) {
		/* EACCES: a folder above it may not be entered */
		snprintf(why, whysize, "%s", errno == EACCES ?
		    "permission denied on a folder above it" : strerror(errno));
		return -1;
	}
	/* Missing: the start makes it when it may write where it goes. */
	if (strlcpy(cur, path, sizeof(cur)) >= sizeof(cur)) {
		snprintf(why, whysize, "missing");
		return -1;
	}
	while (parent_of(cur, up, sizeof(up)) == 0) {
		if (stat(up, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				snprintf(why, whysize, "missing, and %s is not "
				    "a folder", up);
				return -1;
			}
			if (faccessat(AT_FDCWD, up, W_OK | X_OK,
			    AT_EACCESS) == 0)
				return 1;
			snprintf(why, whysize, "missing, and beiand may not "
			    "make it: %s is %s", up, errno == EROFS ?
			    "on a read-only file system here" :
			    "not writable for it");
			return -1;
		}
		if (errno != ENOENT || !(need & STARTCHECK_MKDIR_P)) {
			snprintf(why, whysize, "missing, and so is %s", up);
			return -1;
		}
		memcpy(cur, up, strlen(up) + 1);
	}
	snprintf(why, whysize, "missing");
	return -1;
}

/* ---- beiand -n --------------------------------------------------------- */

struct sc {
	FILE *out;
	const char *cfpath;
	char user[64], group[64];
	int problems;
};

static void problem(struct sc *c, const char *path, const char *why,
    const char *fixfmt, ...) __attribute__((format(printf, 4, 5)));

static void
problem(struct sc *c, const char *path, const char *why, const char *fixfmt,
    ...)
{
	va_list ap;

	fprintf(c->out, "%s: %s\n  fix: ", path, why);
	va_start(ap, fixfmt);
	vfprintf(c->out, fixfmt, ap);
	va_end(ap);
	fputc('\n', c->out);
	c->problems++;
}

/* A folder of beiand's own: missing and not makeable, or unusable. */
static void
own_dir(struct sc *c, const char *path, int need, const char *mode)
{
	char why[4200];

	if (startcheck_dir(path, need, why, sizeof(why)) != -1)
		return;
	if (strstr(why, "read-only") != NULL)
		problem(c, path, why, "under systemd: ReadWritePaths=%s in a "
		    "drop-in (systemctl edit beiand)", path);
	else
		problem(c, path, why, "install -d -o %s -g %s -m %s %s",
		    c->user, c->group, mode, path);
}

/* A provider's folder, its incoming/ and outgoing/: all made (or
 * repaired) by `beianctl provider add`, so the first problem is told. */
static void
provider_dirs(struct sc *c, const char *spool, const char *code)
{
	static const char *const sub[] = { "", "/incoming", "/outgoing" };
	char path[4200], why[4200];

	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(path, sizeof(path), "%s/providers/%s%s", spool, code,
		    sub[i]);
		if (startcheck_dir(path, (i > 0 ? STARTCHECK_READ |
		    STARTCHECK_WRITE : 0) | STARTCHECK_MKDIR_P, why,
		    sizeof(why)) != -1)
			continue;
		problem(c, path, why, "as root: beianctl%s%s provider add %s",
		    c->cfpath ? " -c " : "", c->cfpath ? c->cfpath : "", code);
		return;
	}
}

/* A claim is a rename(2): work/ and every incoming/ on one filesystem. */
static void
same_fs(struct sc *c, const char *work, const char *incoming)
{
	struct stat a, b;

	if (stat(work, &a) == -1 || stat(incoming, &b) == -1 ||
	    a.st_dev == b.st_dev)
		return;
	problem(c, incoming, "not on the filesystem of work/ (claims are "
	    "renames)", "keep spool_dir on one filesystem: %s and %s", work,
	    incoming);
}

/* The database's files, when they exist: read and written by beiand (a
 * root-owned -wal left by a tool run as root stops the start). */
static void
db_files(struct sc *c, const char *state)
{
	static const char *const names[] = {
		"beiand.db", "beiand.db-wal", "beiand.db-shm"
	};
	char path[4200];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", state, names[i]);
		if (access(path, F_OK) == -1 ||
		    faccessat(AT_FDCWD, path, R_OK | W_OK, AT_EACCESS) == 0)
			continue;
		problem(c, path, errno == EROFS ? "read-only file system here" :
		    "permission denied (beiand reads and writes it)",
		    "chown %s:%s %s", c->user, c->group, path);
	}
}

static void
metrics_dir(struct sc *c, const char *file)
{
	char dir[4096], why[4200];
	struct stat st;

	if (file == NULL || parent_of(file, dir, sizeof(dir)) == -1)
		return;
	/* Not made by beiand: it must be there. */
	if (stat(dir, &st) == -1 && errno == ENOENT) {
		if (geteuid() == 0)
			problem(c, dir, "missing (the folder of metrics_file)",
			    "install -d -m 0755 %s", dir);
		else
			problem(c, dir, "missing (the folder of metrics_file)",
			    "install -d -m 0755 %s, writable for %s (setfacl "
			    "-m u:%s:rwx %s); under systemd also "
			    "ReadWritePaths=%s (systemctl edit beiand)", dir,
			    c->user, c->user, dir, dir);
		return;
	}
	if (startcheck_dir(dir, STARTCHECK_WRITE, why, sizeof(why)) == 0)
		return;
	if (strstr(why, "read-only") != NULL)
		problem(c, dir, "read-only file system here (the folder of "
		    "metrics_file)", "under systemd: ReadWritePaths=%s in a "
		    "drop-in (systemctl edit beiand)", dir);
	else
		problem(c, dir, why, "setfacl -m u:%s:rwx %s (or give %s the "
		    "folder)", c->user, dir, c->user);
}

/* The helper programs the start runs: beiand-worker always, beiand-imap
 * with an [imap] url (lib/spawn.h finds them as the start will). */
static void
helpers(struct sc *c, const struct config *cf)
{
	static const char *const names[] = { "beiand-worker", "beiand-imap" };
	char path[4096];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (i == 1 && cf->imap_url[0] == '\0')
			continue;
		if (spawn_find(names[i], path, sizeof(path)) == 0)
			continue;
		problem(c, path, "missing, or not an executable file: beiand "
		    "runs it", "make install (it goes to LIBEXECDIR), or set "
		    "BEIAND_LIBEXEC to the folder that holds %s", names[i]);
	}
}

int
startcheck_run(const struct config *cf, const char *cfpath, FILE *out)
{
	static const char *const state_subdirs[] = { "store", "mail", "inbox" };
	struct sc c = { .out = out, .cfpath = cfpath };
	char path[4200], work[4200];
	struct passwd *pw = getpwuid(geteuid());
	struct group *gr = getgrgid(getegid());
	const int rw = STARTCHECK_READ | STARTCHECK_WRITE;

	if (pw != NULL)
		snprintf(c.user, sizeof(c.user), "%s", pw->pw_name);
	else
		snprintf(c.user, sizeof(c.user), "%ld", (long)geteuid());
	if (gr != NULL)
		snprintf(c.group, sizeof(c.group), "%s", gr->gr_name);
	else
		snprintf(c.group, sizeof(c.group), "%ld", (long)getegid());

	snprintf(work, sizeof(work), "%s/work", cf->spool_dir);
	own_dir(&c, work, rw | STARTCHECK_MKDIR_P, "0700");
	snprintf(path, sizeof(path), "%s/quarantine", cf->spool_dir);
	own_dir(&c, path, rw | STARTCHECK_MKDIR_P, "0750");
	for (size_t i = 0; i < cf->nproviders; i++) {
		const char *code = cf->providers[i].code;

		provider_dirs(&c, cf->spool_dir, code);
		snprintf(path, sizeof(path), "%s/providers/%s/incoming",
		    cf->spool_dir, code);
		same_fs(&c, work, path);
	}
	for (size_t i = 0; i < cf->nbureaus; i++) {
		snprintf(path, sizeof(path), "%s/bureau/%s/incoming",
		    cf->spool_dir, cf->bureaus[i].province);
		own_dir(&c, path, rw | STARTCHECK_MKDIR_P, "2770");
		same_fs(&c, work, path);
		snprintf(path, sizeof(path), "%s/bureau/%s/outgoing",
		    cf->spool_dir, cf->bureaus[i].province);
		own_dir(&c, path, rw | STARTCHECK_MKDIR_P, "2750");
	}
	own_dir(&c, cf->state_dir, rw, "0700");
	for (size_t i = 0; i < sizeof(state_subdirs) / sizeof(state_subdirs[0]);
	    i++) {
		snprintf(path, sizeof(path), "%s/%s", cf->state_dir,
		    state_subdirs[i]);
		if (access(path, F_OK) == 0)
			own_dir(&c, path, rw, "0700");
	}
	db_files(&c, cf->state_dir);
	metrics_dir(&c, cf->metrics_file);
	helpers(&c, cf);
	return c.problems;
}
