/*
 * ctl_backup: beianctl backup and restore (DESIGN.md, Command line;
 * docs/operations.md, "Backup and restore").
 *
 * backup FILE copies the database alone; backup DIR everything a restore
 * needs: the database, the blob store and the high-water marks.  restore
 * takes the place of beiand on state_dir (its lock: it refuses while
 * beiand runs, and beiand cannot start meanwhile), puts the backup in
 * place, then opens the store — which moves every sequence past the
 * marks — and scans the receipts and .eml names for ids the restored
 * database never knew.  What moved is printed, one line each.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/idscan.h"
#include "ctl/ctl.h"
#include "lib/pidlock.h"
#include "lib/xmalloc.h"
#include "store/admin.h"
#include "store/highwater.h"
#include "store/store.h"

/* A folder named as such: it exists as one, or the name ends in '/'. */
static int
names_folder(const char *path)
{
	struct stat sb;
	size_t n = strlen(path);

	return (n > 0 && path[n - 1] == '/') ||
	    (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
}

/* The folder a backup goes to must be there and writable: say so
 * plainly, not as a failure to create a temporary file in it. */
static int
backup_dir_check(const char *file)
{
	const char *slash = strrchr(file, '/');
	char dir[4096];
	struct stat sb;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == file)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file), file);
	if (stat(dir, &sb) == -1 && errno == ENOENT) {
		fprintf(stderr, "beianctl: backup: the folder %s does not "
		    "exist; make it first (install -d -m 0700 %s, owned by "
		    "the user that runs beianctl)\n", dir, dir);
		return -1;
	}
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == -1) {
		fprintf(stderr, "beianctl: backup: the folder %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
ctl_backup(int argc, char **argv, const struct config *cf)
{
	struct store_backup_stats bs;
	struct store *st;
	int rc = CTL_OK;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: beianctl backup FILE|DIR\n");
		return CTL_USAGE;
	}
	if (!names_folder(argv[1]) && backup_dir_check(argv[1]) == -1)
		return CTL_USAGE;
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	if (!names_folder(argv[1])) {
		if (store_backup(st, argv[1]) == -1)
			rc = ctl_store_error(st);
		else {
			ctl_put_escaped(stdout, argv[1]);
			fputs(": backup written\n", stdout);
		}
		store_close(st);
		return rc;
	}
	if (store_backup_dir(st, argv[1], &bs) == -1)
		rc = ctl_store_error(st);
	else {
		ctl_put_escaped(stdout, argv[1]);
		printf(": backup written (beiand.db, %zu new blobs in store/,"
		    " highwater)\n", bs.blobs_copied);
		if (bs.blobs_bad > 0)
			fprintf(stderr, "beianctl: %zu blobs of the store do not"
			    " match their names and were left out\n",
			    bs.blobs_bad);
	}
	store_close(st);
	return rc;
}

/* The receipts' and mails' ids the restored database may not know. */
static int
restore_scan(const struct config *cf, struct store *st)
{
	struct idscan_hit *h = NULL;
	struct idscan_stats s;
	char *maildir;
	time_t newest;
	size_t n = 0;
	int rc = 0;

	if (store_filings_newest(st, &newest) == -1)
		return ctl_store_error(st);
	maildir = xasprintf("%s/mail", cf->state_dir);
	if (idscan_run(cf->spool_dir, maildir, newest > 86400 ? newest -
	    86400 : 0, &h, &n, &s) == -1) {
		fprintf(stderr, "beianctl: scanning receipts and mails: %s\n",
		    strerror(errno));
		rc = CTL_USAGE;
	}
	free(maildir);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (store_tracking_floor(st, h[i].year, h[i].seq,
		    h[i].where) == -1)
			rc = ctl_store_error(st);
	free(h);
	if (rc == 0)
		printf("receipts read: %zu (%zu older left), mail names: %zu\n",
		    s.receipts_read, s.receipts_skipped, s.emls);
	return rc;
}

int
ctl_restore(int argc, char **argv, const struct config *cf)
{
	struct store_backup_stats bs;
	struct store *st;
	char *lock, err[1024];
	pid_t holder;
	int lfd, rc;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: beianctl restore DIR|FILE\n");
		return CTL_USAGE;
	}
	if (mkdir(cf->state_dir, 0700) == -1 && errno != EEXIST) {
		ctl_put_file_error(cf->state_dir, errno);
		return CTL_USAGE;
	}
	/* beiand's own lock: no daemon on the state while it changes */
	lock = xasprintf("%s/beiand.lock", cf->state_dir);
	lfd = pidlock_take(lock, &holder);
	free(lock);
	if (lfd == -1) {
		if (errno == EWOULDBLOCK && holder > 0)
			fprintf(stderr, "beianctl: beiand (pid %ld) runs on"
			    " state_dir %s: stop it first\n", (long)holder,
			    cf->state_dir);
		else if (errno == EWOULDBLOCK)
			fprintf(stderr, "beianctl: state_dir %s is locked (a"
			    " beiand runs on it): stop it first\n",
			    cf->state_dir);
		else
			fprintf(stderr, "beianctl: %s/beiand.lock: %s\n",
			    cf->state_dir, strerror(errno));
		return CTL_USAGE;
	}
	if (store_restore(cf->state_dir, argv[1], &bs, err, sizeof(err)) ==
	    -1) {
		fputs("beianctl: ", stderr);
		ctl_put_escaped(stderr, err);
		fputc('\n', stderr);
		pidlock_release(lfd);
		return CTL_USAGE;
	}
	ctl_put_escaped(stdout, argv[1]);
	printf(": restored into %s (%zu blobs copied)\n", cf->state_dir,
	    bs.blobs_copied);
	if (bs.kept[0] != '\0') {
		fputs("the database it replaced is kept as ", stdout);
		ctl_put_escaped(stdout, bs.kept);
		fputc('\n', stdout);
	}
	if (bs.blobs_bad > 0)
		fprintf(stderr, "beianctl: %zu blobs of the backup do not match"
		    " their names and were left out\n", bs.blobs_bad);
	/* opening moves the sequences past the marks (notes on stderr) */
	if ((st = ctl_store_open(cf)) == NULL) {
		pidlock_release(lfd);
		return CTL_USAGE;
	}
	rc = restore_scan(cf, st);
	ctl_put_notes(st);
	store_close(st);
	pidlock_release(lfd);
	return rc;
}
