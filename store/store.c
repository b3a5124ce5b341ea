/*
 * store: the connection to the SQLite database — open and close, the
 * statement cache, transactions (one operation, a group, its savepoints)
 * and the small helpers every file of store/ uses (store_priv.h).
 *
 * What is hostile here: every string stored came from outside (packages,
 * mails, uploads).  The store never builds SQL from data: every statement
 * is a constant with bound parameters, prepared once per connection.  It
 * never prints; errors are returned and described by store_errmsg().
 * Passwords live in clear only in the approved_owner outbox row until that
 * mail is sent; secure_delete overwrites the freed bytes.  Only store/
 * includes <sqlite3.h>.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "common/config.h"
#include "lib/syncer.h"
#include "lib/xmalloc.h"
#include "store/store.h"
#include "store/store_priv.h"

#define CST_OFFSET (8 * 3600)

static const char alphabet[] =
    "23456789ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz";

/* ---- small helpers ----------------------------------------------------- */

/*
 * Whose fault an SQLite result is (store_errfault()): a full disk, an
 * I/O error, a busy or locked database, memory, a database that cannot
 * be opened or written or is damaged are the environment's and pass (or
 * need the operator), whatever item was being applied; anything else (a
 * constraint or trigger refusing a row, a value too big, a misuse) came
 * with the data of the item being applied.
 */
static enum store_fault
sqlite_fault(int code)
{
	switch (code & 0xff) {
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_NOMEM:
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_PROTOCOL:
	case SQLITE_INTERRUPT:
	case SQLITE_NOLFS:
	case SQLITE_PERM:
		return STORE_FAULT_ENV;
	default:
		return STORE_FAULT_ITEM;
	}
}

enum store_fault
store_errno_fault(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
	case EIO:
	case EROFS:
	case EMFILE:
	case ENFILE:
	case ENOMEM:
	case EAGAIN:
	case EINTR:
	case EACCES:
	case EPERM:
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
	case ESTALE:
	case EBUSY:
	case ENXIO:
		return STORE_FAULT_ENV;
	default:
		return STORE_FAULT_ITEM;
	}
}

int
dberr(struct store *st, const char *what)
{
	snprintf(st->errmsg, sizeof(st->errmsg), "%s: %s", what,
	    sqlite3_errmsg(st->db));
	st->errfault = sqlite_fault(sqlite3_extended_errcode(st->db));
	return -1;
}

int
seterr(struct store *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
	va_end(ap);
	st->errfault = STORE_FAULT_ITEM;
	return -1;
}

int
seterr_errno(struct store *st, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
	va_end(ap);
	st->errfault = store_errno_fault(e);
	return -1;
}

const char *
store_errmsg(const struct store *st)
{
	return st->errmsg;
}

enum store_fault
store_errfault(const struct store *st)
{
	return st->errfault;
}

int
store_in_group(const struct store *st)
{
	return st->in_group && !sqlite3_get_autocommit(st->db);
}

time_t
now_or(time_t t)
{
	return t != 0 ? t : time(NULL);
}

static void
cst_tm(time_t t, struct tm *tm)
{
	time_t c = t + CST_OFFSET;

	gmtime_r(&c, tm);
}

int
cst_year(time_t t)
{
	struct tm tm;

	cst_tm(t, &tm);
	return tm.tm_year + 1900;
}

void
cst_day(time_t t, char buf[11])
{
	struct tm tm;

	cst_tm(t, &tm);
	if (strftime(buf, 11, "%Y-%m-%d", &tm) == 0)
		buf[0] = '\0';
}

void
time_rfc3339_cst(time_t t, char buf[32])
{
	struct tm tm;

	cst_tm(t, &tm);
	if (strftime(buf, 32, "%Y-%m-%dT%H:%M:%S+08:00", &tm) == 0)
		buf[0] = '\0';
}

void
store_random_token(char *buf, size_t n)
{
	/* Bytes from one draw, each taken only below the largest multiple
	 * of the alphabet's size (uniform, like randombytes_uniform(), but
	 * one getrandom(2) a token instead of one a character). */
	const unsigned k = (unsigned)(sizeof(alphabet) - 1);
	const unsigned limit = 256 - 256 % k;
	unsigned char r[64];
	size_t i = 0, j = sizeof(r);

	while (i < n) {
		if (j == sizeof(r)) {
			randombytes_buf(r, sizeof(r));
			j = 0;
		}
		if (r[j] < limit)
			buf[i++] = alphabet[r[j] % k];
		j++;
	}
	sodium_memzero(r, sizeof(r));
	buf[n] = '\0';
}

char *
col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? xstrdup((const char *)t) : NULL;
}

const char *
col_str(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

int
streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Compare secrets without leaking where they differ. */
int
token_eq(const char *a, const char *b)
{
	size_t la, lb;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	return la == lb && la > 0 && sodium_memcmp(a, b, la) == 0;
}

/* ---- statements --------------------------------------------------------- */

/*
 * The cached statement for the literal sql, reset and unbound.  Callers
 * reset it again when done so that no read transaction stays open.
 */
static sqlite3_stmt *
prep(struct store *st, const char *sql)
{
	sqlite3_stmt *s;

	for (size_t i = 0; i < st->ncache; i++) {
		if (st->cache[i].sql == sql) {
			s = st->cache[i].s;
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return s;
		}
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
	    NULL) != SQLITE_OK) {
		dberr(st, "prepare");
		return NULL;
	}
	xgrow(&st->cache, &st->capcache, st->ncache, sizeof(st->cache[0]));
	st->cache[st->ncache].sql = sql;
	st->cache[st->ncache].s = s;
	st->ncache++;
	return s;
}

/* fmt: 's' const char * (NULL binds NULL), 'i' int, 'I' int64_t. */
static int
bindv(struct store *st, sqlite3_stmt *s, const char *fmt, va_list ap)
{
	int i = 1, rc = SQLITE_OK;

	for (const char *p = fmt; *p != '\0'; p++, i++) {
		switch (*p) {
		case 's': {
			const char *v = va_arg(ap, const char *);

			rc = v != NULL ?
			    sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) :
			    sqlite3_bind_null(s, i);
			break;
		}
		case 'i':
			rc = sqlite3_bind_int(s, i, va_arg(ap, int));
			break;
		case 'I':
			rc = sqlite3_bind_int64(s, i, (sqlite3_int64)va_arg(ap, int64_t));
			break;
		default:
			abort(); /* a bug in a format string of this file */
		}
		if (rc != SQLITE_OK)
			return dberr(st, "bind");
	}
	return 0;
}

/* A prepared and bound statement, ready to step; NULL on error. */
sqlite3_stmt *
query(struct store *st, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int rc;

	if ((s = prep(st, sql)) == NULL)
		return NULL;
	va_start(ap, fmt);
	rc = bindv(st, s, fmt, ap);
	va_end(ap);
	if (rc == -1) {
		sqlite3_reset(s);
		return NULL;
	}
	return s;
}

/* Run a statement that returns no rows; the number of rows changed or -1. */
int
run(struct store *st, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int rc;

	if ((s = prep(st, sql)) == NULL)
		return -1;
	va_start(ap, fmt);
	rc = bindv(st, s, fmt, ap);
	va_end(ap);
	if (rc == 0) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE || rc == SQLITE_ROW)
			rc = sqlite3_changes(st->db);
		else
			rc = dberr(st, "step");
	}
	sqlite3_reset(s);
	return rc;
}

/* One integer: 1 found (*out set), 0 no row, -1 error. */
int
one_int(struct store *st, int64_t *out, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int rc;

	if ((s = prep(st, sql)) == NULL)
		return -1;
	va_start(ap, fmt);
	rc = bindv(st, s, fmt, ap);
	va_end(ap);
	if (rc == 0) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			if (out != NULL)
				*out = sqlite3_column_int64(s, 0);
			rc = 1;
		} else if (rc == SQLITE_DONE)
			rc = 0;
		else
			rc = dberr(st, "step");
	}
	sqlite3_reset(s);
	return rc;
}

/* ---- transactions ------------------------------------------------------- */

int
op_begin(struct store *st)
{
	if (st->in_group)
		return run(st, "SAVEPOINT op", "") == -1 ? -1 : 0;
	return run(st, "BEGIN IMMEDIATE", "") == -1 ? -1 : 0;
}

/*
 * End one operation: keep its work (commit) or undo it.  Returns 0, or
 * -1 when keeping it failed (then it is undone).
 */
int
op_end(struct store *st, int commit)
{
	char saved[sizeof(st->errmsg)];
	enum store_fault fault;

	if (st->in_group) {
		if (!commit && run(st, "ROLLBACK TO op", "") == -1)
			return -1;
		return run(st, "RELEASE op", "") == -1 ? -1 : 0;
	}
	if (commit) {
		if (highwater_before_commit(st) == -1) {
			memcpy(saved, st->errmsg, sizeof(saved));
			st->outbox_touched = 0;
			if (!sqlite3_get_autocommit(st->db))
				run(st, "ROLLBACK", "");
			memcpy(st->errmsg, saved, sizeof(saved));
			return -1;
		}
		if (run(st, "COMMIT", "") != -1) {
			highwater_after_commit(st);
			wake_after_commit(st);
			return 0;
		}
		highwater_forget(st);
		st->outbox_touched = 0;
		memcpy(saved, st->errmsg, sizeof(saved));
		fault = st->errfault;
		if (!sqlite3_get_autocommit(st->db))
			run(st, "ROLLBACK", "");
		memcpy(st->errmsg, saved, sizeof(saved));
		st->errfault = fault;
		return -1;
	}
	st->outbox_touched = 0;
	st->hw_dirty = 0;
	highwater_forget(st);
	if (!sqlite3_get_autocommit(st->db))
		run(st, "ROLLBACK", "");
	return 0;
}

/* Finish an operation whose body returned rc (0, 1 refused, -1 error). */
int
op_finish(struct store *st, int rc)
{
	char saved[sizeof(st->errmsg)];
	enum store_fault fault = st->errfault;

	if (rc == 0)
		return op_end(st, 1);
	memcpy(saved, st->errmsg, sizeof(saved));
	op_end(st, 0);
	memcpy(st->errmsg, saved, sizeof(saved));
	st->errfault = fault;
	return rc;
}

int
store_begin(struct store *st)
{
	if (st->in_group)
		return seterr(st, "store_begin: a group is already open");
	if (run(st, "BEGIN IMMEDIATE", "") == -1)
		return -1;
	st->in_group = 1;
	return 0;
}

int
store_commit(struct store *st)
{
	if (!st->in_group)
		return seterr(st, "store_commit: no group open");
	st->in_group = 0;
	if (st->blobs_unsynced && st->sy != NULL) {
		/* a row never names a blob that is not on disk */
		if (syncer_wait(st->sy, syncer_request(st->sy)) == -1) {
			seterr_errno(st, errno, "%s: syncfs: %s", st->state_dir,
			    strerror(errno));
			run(st, "ROLLBACK", "");
			return -1;
		}
		st->blobs_unsynced = 0;
	} else if (st->blobs_unsynced) {
		int fd = open(st->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		/* a row never names a blob that is not on disk */
		if (fd == -1 || syncfs(fd) == -1) {
			int e = errno;

			if (fd != -1)
				close(fd);
			seterr_errno(st, e, "%s: syncfs: %s", st->state_dir,
			    strerror(e));
			run(st, "ROLLBACK", "");
			return -1;
		}
		close(fd);
		st->blobs_unsynced = 0;
	}
	/* the mark first: never below what a durable commit told */
	if (highwater_before_commit(st) == -1) {
		char saved[sizeof(st->errmsg)];

		st->outbox_touched = 0;
		memcpy(saved, st->errmsg, sizeof(saved));
		run(st, "ROLLBACK", "");
		memcpy(st->errmsg, saved, sizeof(saved));
		return -1;
	}
	if (run(st, "COMMIT", "") == -1) {
		char saved[sizeof(st->errmsg)];
		enum store_fault fault = st->errfault;

		highwater_forget(st);
		st->outbox_touched = 0;
		memcpy(saved, st->errmsg, sizeof(saved));
		if (!sqlite3_get_autocommit(st->db))
			run(st, "ROLLBACK", "");
		memcpy(st->errmsg, saved, sizeof(saved));
		st->errfault = fault;
		return -1;
	}
	highwater_after_commit(st);
	wake_after_commit(st);
	return 0;
}

int
store_item_begin(struct store *st)
{
	if (!st->in_group)
		return seterr(st, "store_item_begin: no group open");
	return run(st, "SAVEPOINT item", "") == -1 ? -1 : 0;
}

int
store_item_end(struct store *st, int ok)
{
	if (!store_in_group(st))
		return seterr(st, "store_item_end: the group is gone");
	if (!ok && run(st, "ROLLBACK TO item", "") == -1)
		return -1;
	return run(st, "RELEASE item", "") == -1 ? -1 : 0;
}

int
store_rollback(struct store *st)
{
	if (!st->in_group)
		return seterr(st, "store_rollback: no group open");
	st->in_group = 0;
	st->blobs_unsynced = 0; /* unreferenced blobs are harmless */
	st->outbox_touched = 0;
	st->hw_dirty = 0;
	highwater_forget(st);
	if (!sqlite3_get_autocommit(st->db) && run(st, "ROLLBACK", "") == -1)
		return -1;
	return 0;
}

/* ---- open / close ------------------------------------------------------- */

int
pragma(struct store *st, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		seterr(st, "%s: %s", sql, msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* The domain of [smtp] from ("beian@provider.example" -> provider.example). */
static char *
msgid_domain(const struct config *cfg)
{
	const char *at;
	char *d;
	size_t n;

	if (cfg == NULL || cfg->smtp_from == NULL ||
	    (at = strrchr(cfg->smtp_from, '@')) == NULL || at[1] == '\0')
		return xstrdup("localhost");
	d = xstrdup(at + 1);
	n = strcspn(d, "> \t");
	d[n] = '\0';
	return d[0] != '\0' ? d : (free(d), xstrdup("localhost"));
}

int64_t
store_changes(struct store *st)
{
	return sqlite3_total_changes64(st->db);
}

int
store_set_syncer(struct store *st, struct syncer *sy)
{
	st->sy = sy;
	return pragma(st, sy != NULL ? "PRAGMA synchronous = NORMAL" :
	    "PRAGMA synchronous = FULL");
}

/*
 * Before the library's first use: no global allocation statistics, whose
 * upkeep takes a lock around every allocation of every statement.
 */
static void
sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

struct store *
store_open(const char *path, const struct config *cfg, char *err,
    size_t errsize)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct store *st;
	struct stat sb;
	const char *fast;
	sqlite3_stmt *s;
	int fd, ok;

	if (sodium_init() < 0) {
		snprintf(err, errsize, "store: libsodium failed to start");
		return NULL;
	}
	pthread_once(&once, sqlite_setup);
	/* Create it 0600 ourselves: SQLite would use 0644 minus umask, and
	 * its -wal and -shm files copy the database file's mode.  A file
	 * that exists is never opened here: closing a descriptor of it
	 * would drop the POSIX locks of every other connection this process
	 * has to it (beiand-web keeps one per thread). */
	if (lstat(path, &sb) == 0) {
		if (!S_ISREG(sb.st_mode)) {
			snprintf(err, errsize, "%s: not a regular file", path);
			return NULL;
		}
		if ((sb.st_mode & 07777) != 0600 && chmod(path, 0600) == -1) {
			snprintf(err, errsize, "%s: chmod: %s", path,
			    strerror(errno));
			return NULL;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return NULL;
	} else {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (fd == -1 && errno != EEXIST) {
			snprintf(err, errsize, "%s: %s", path, strerror(errno));
			return NULL;
		}
		if (fd != -1 && fchmod(fd, 0600) == -1) {
			snprintf(err, errsize, "%s: chmod: %s", path,
			    strerror(errno));
			close(fd);
			return NULL;
		}
		/* new, so no connection of ours has it open yet */
		if (fd != -1)
			close(fd);
	}

	st = xcalloc(1, sizeof(*st));
	st->cfg = cfg;
	st->domain = msgid_domain(cfg);
	if (cfg != NULL && cfg->state_dir != NULL)
		st->state_dir = xstrdup(cfg->state_dir);
	fast = getenv("BEIAND_PWHASH_FAST");
	if (fast != NULL && strcmp(fast, "1") == 0) {
		st->opslimit = crypto_pwhash_OPSLIMIT_MIN;
		st->memlimit = crypto_pwhash_MEMLIMIT_MIN;
	} else {
		st->opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		st->memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
	    NULL) != SQLITE_OK) {
		snprintf(err, errsize, "%s: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : "cannot open");
		store_close(st);
		return NULL;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	/* journal_mode answers with the mode it got: insist on wal */
	ok = 0;
	if ((s = prep(st, "PRAGMA journal_mode = WAL")) != NULL) {
		if (sqlite3_step(s) == SQLITE_ROW && col_str(s, 0) != NULL &&
		    strcasecmp(col_str(s, 0), "wal") == 0)
			ok = 1;
		else
			dberr(st, "journal_mode");
		sqlite3_reset(s);
	}
	if (!ok || pragma(st, "PRAGMA synchronous = FULL") == -1 ||
	    pragma(st, "PRAGMA foreign_keys = ON") == -1 ||
	    pragma(st, "PRAGMA secure_delete = ON") == -1 ||
	    pragma(st, "PRAGMA trusted_schema = OFF") == -1 ||
	    /* statement journals of the savepoints in a group: in memory,
	     * not a page and its number written to a temporary file for
	     * every page an item touches */
	    pragma(st, "PRAGMA temp_store = MEMORY") == -1 ||
	    /* a group's pages stay in the cache until its commit */
	    pragma(st, "PRAGMA cache_size = -8192") == -1 ||
	    pragma(st, "PRAGMA wal_autocheckpoint = 8000") == -1 ||
	    migrate(st) == -1 || highwater_open(st) == -1) {
		snprintf(err, errsize, "%s: %s", path, st->errmsg[0] ?
		    st->errmsg : "journal_mode WAL refused");
		store_close(st);
		return NULL;
	}
	return st;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->ncache; i++)
		sqlite3_finalize(st->cache[i].s);
	free(st->cache);
	if (st->db != NULL) {
		if (!sqlite3_get_autocommit(st->db))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(st->db);
	}
	highwater_notes_free(st);
	highwater_forget(st);
	free(st->domain);
	free(st->state_dir);
	free(st);
}
