/*
 * restore: a full backup of state_dir — the database, the blob store,
 * the high-water marks — and its restore (beianctl backup DIR, restore).
 *
 * A restore must not make beiand issue again what it already told, so
 * the high-water file is never taken back: the backup's marks are merged
 * into the live ones (each value the higher), and the database opened
 * afterwards goes on past them (store/highwater.c).  The database it
 * replaces is kept beside it, renamed, never deleted.
 *
 * What is hostile here: a backup folder is the operator's, but its blobs
 * are checked against their names (a sha256) before they join the store,
 * its database must pass SQLite's integrity check and be a beiand
 * database no newer than this program, and its mark file is read by the
 * strict reader of highwater.c.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "store/admin.h"
#include "store/blob.h"
#include "store/highwater.h"
#include "store/store.h"
#include "store/store_priv.h"

static int
is_hex(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

static int
dir_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1)
		return -1;
	if (fsync(fd) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Every blob of from/store/ that to/store/ lacks, copied (checked against
 * its name, written as blob_put writes: temporary name, fsync, rename).
 * *copied counts them; a blob whose bytes do not match its name is
 * skipped and counted in *bad.  0, or -1 with err set.
 */
static int
blobs_copy(const char *from, const char *to, size_t *copied, size_t *bad,
    char *err, size_t errsize)
{
	char top[4096], sub[4200], path[4300], want[4300];
	struct dirent *a, *b;
	struct stat sb;
	DIR *d1, *d2;
	int rc = 0;

	*copied = *bad = 0;
	snprintf(top, sizeof(top), "%s/store", from);
	if ((d1 = opendir(top)) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errsize, "%s: %s", top, strerror(errno));
		return -1;
	}
	while (rc == 0 && (a = readdir(d1)) != NULL) {
		if (!is_hex(a->d_name, 2))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", top, a->d_name);
		if ((d2 = opendir(sub)) == NULL)
			continue;
		while (rc == 0 && (b = readdir(d2)) != NULL) {
			unsigned char *bytes = NULL;
			char hex[SHA256_HEX];
			size_t len = 0;

			if (!is_hex(b->d_name, 64) ||
			    strncmp(b->d_name, a->d_name, 2) != 0)
				continue;
			if (blob_path(to, b->d_name, want, sizeof(want)) == -1 ||
			    (lstat(want, &sb) == 0 && S_ISREG(sb.st_mode)))
				continue;
			snprintf(path, sizeof(path), "%s/%s", sub, b->d_name);
			if (blob_read(path, &bytes, &len) == -1) {
				snprintf(err, errsize, "%s: %s", path,
				    strerror(errno));
				rc = -1;
				break;
			}
			sha256_hex(bytes, len, hex);
			if (strcmp(hex, b->d_name) != 0)
				(*bad)++;
			else if (blob_put(to, bytes, len, 0, NULL, NULL, err,
			    errsize) == -1)
				rc = -1;
			else
				(*copied)++;
			free(bytes);
		}
		closedir(d2);
	}
	closedir(d1);
	return rc;
}

int
store_backup_dir(struct store *st, const char *dir,
    struct store_backup_stats *out)
{
	char db[4096], err[512];

	memset(out, 0, sizeof(*out));
	if (st->state_dir == NULL)
		return seterr(st, "backup: no state_dir");
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return seterr(st, "%s: %s", dir, strerror(errno));
	if ((size_t)snprintf(db, sizeof(db), "%s/beiand.db", dir) >= sizeof(db))
		return seterr(st, "%s: path too long", dir);
	/* the database first: every blob it names is in the store already
	 * (blobs are on disk before the commit that names them) */
	if (store_backup(st, db) == -1)
		return -1;
	if (blobs_copy(st->state_dir, dir, &out->blobs_copied, &out->blobs_bad,
	    err, sizeof(err)) == -1)
		return seterr(st, "backup: %s", err);
	/* the marks last: at least as high as the database copied */
	if (store_highwater_merge(dir, st->state_dir, 0, err, sizeof(err)) ==
	    -1)
		return seterr(st, "backup: %s", err);
	if (dir_sync(dir) == -1)
		return seterr(st, "%s: fsync: %s", dir, strerror(errno));
	return 0;
}

/* The backup database at path is whole, beiand's and not newer than us. */
static int
db_check(const char *path, char *err, size_t errsize)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int ok = 0, v = -1, tables = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		snprintf(err, errsize, "%s: %s", path, db != NULL ?
		    sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return -1;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) ==
	    SQLITE_OK && sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_text(s, 0) != NULL &&
	    strcmp((const char *)sqlite3_column_text(s, 0), "ok") == 0)
		ok = 1;
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) ==
	    SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema WHERE"
	    " type = 'table' AND name IN ('filings', 'outbox', 'tracking_seq')",
	    -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		tables = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	if (!ok)
		snprintf(err, errsize, "%s: not a whole SQLite database"
		    " (integrity_check)", path);
	else if (tables != 3 || v < 1)
		snprintf(err, errsize, "%s: not a beiand database", path);
	else if (v > store_schema_version())
		snprintf(err, errsize, "%s: schema version %d is newer than this"
		    " program's %d", path, v, store_schema_version());
	else
		return 0;
	return -1;
}

/* A consistent copy of the database at from into the new file to (mode
 * 0600), synced. */
static int
db_copy(const char *from, const char *to, char *err, size_t errsize)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b;
	int fd, rc = -1, r;

	unlink(to);
	fd = open(to, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		snprintf(err, errsize, "%s: %s", to, strerror(errno));
		return -1;
	}
	close(fd);
	if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK ||
	    sqlite3_open_v2(to, &dst, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		snprintf(err, errsize, "restore: cannot open %s or %s", from, to);
		goto out;
	}
	if ((b = sqlite3_backup_init(dst, "main", src, "main")) == NULL) {
		snprintf(err, errsize, "restore: %s", sqlite3_errmsg(dst));
		goto out;
	}
	r = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (r != SQLITE_DONE) {
		snprintf(err, errsize, "restore: %s", sqlite3_errstr(r));
		goto out;
	}
	if (sqlite3_close(dst) != SQLITE_OK) {
		snprintf(err, errsize, "restore: %s: close failed", to);
		dst = NULL;
		goto out;
	}
	dst = NULL;
	if ((fd = open(to, O_RDONLY | O_CLOEXEC)) == -1 || fsync(fd) == -1) {
		snprintf(err, errsize, "%s: fsync: %s", to, strerror(errno));
		if (fd != -1)
			close(fd);
		goto out;
	}
	close(fd);
	rc = 0;
out:
	sqlite3_close(src);
	sqlite3_close(dst);
	if (rc == -1)
		unlink(to);
	return rc;
}

int
store_restore(const char *state_dir, const char *from,
    struct store_backup_stats *out, char *err, size_t errsize)
{
	char src[4096], live[4096], tmp[4200], keep[4200], a[4300], b[4300];
	char stamp[32];
	struct stat sb;
	struct tm tm;
	time_t now = time(NULL);
	int isdir;

	memset(out, 0, sizeof(*out));
	if (stat(from, &sb) == -1) {
		snprintf(err, errsize, "%s: %s", from, strerror(errno));
		return -1;
	}
	isdir = S_ISDIR(sb.st_mode);
	if ((size_t)snprintf(src, sizeof(src), isdir ? "%s/beiand.db" : "%s",
	    from) >= sizeof(src) || (size_t)snprintf(live, sizeof(live),
	    "%s/beiand.db", state_dir) >= sizeof(live)) {
		snprintf(err, errsize, "restore: path too long");
		return -1;
	}
	if (db_check(src, err, errsize) == -1)
		return -1;
	if (mkdir(state_dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errsize, "%s: %s", state_dir, strerror(errno));
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.restore.tmp", live);
	if (db_copy(src, tmp, err, errsize) == -1)
		return -1;
	/* the database it replaces stays, with its WAL, under a name of its
	 * own: never deleted by a restore */
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	snprintf(keep, sizeof(keep), "%s.replaced-%s", live, stamp);
	if (lstat(live, &sb) == 0) {
		if (rename(live, keep) == -1) {
			snprintf(err, errsize, "%s: %s", live, strerror(errno));
			unlink(tmp);
			return -1;
		}
		snprintf(out->kept, sizeof(out->kept), "%s", keep);
		snprintf(a, sizeof(a), "%s-wal", live);
		snprintf(b, sizeof(b), "%s-wal", keep);
		if (rename(a, b) == -1 && errno != ENOENT) {
			snprintf(err, errsize, "%s: %s", a, strerror(errno));
			unlink(tmp);
			return -1;
		}
	}
	/* the old shared memory index must not meet the new database */
	snprintf(a, sizeof(a), "%s-shm", live);
	if (unlink(a) == -1 && errno != ENOENT) {
		snprintf(err, errsize, "%s: %s", a, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, live) == -1 || dir_sync(state_dir) == -1) {
		snprintf(err, errsize, "%s: %s", live, strerror(errno));
		return -1;
	}
	if (isdir && blobs_copy(from, state_dir, &out->blobs_copied,
	    &out->blobs_bad, err, errsize) == -1)
		return -1;
	/* The backup's marks can only raise the live ones; and every mark
	 * now counts as committed: the database that was just put in place
	 * must go on past each (store/highwater.c). */
	return store_highwater_merge(state_dir, isdir ? from : state_dir, 1,
	    err, errsize);
}
