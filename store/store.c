/*
 * store: the SQLite database.  The only file that includes <sqlite3.h>.
 *
 * What is hostile here: every string stored came from outside (packages,
 * mails, uploads).  The store never builds SQL from data: every statement
 * is a constant with bound parameters, prepared once per connection.  It
 * never prints; errors are returned and described by store_errmsg().
 * Passwords live in clear only in the approved_owner outbox row until that
 * mail is sent; secure_delete overwrites the freed bytes.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "store/blob.h"
#include "lib/compat.h"
#include "common/config.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "common/json.h"
#include "parsers/licence.h"
#include "lib/sha256.h"
#include "store/store.h"
#include "lib/syncer.h"
#include "common/workflow.h"
#include "lib/xmalloc.h"

#define CST_OFFSET (8 * 3600)
#define PASSWORD_MAX_FAILS 5
#define RECENT_ERRORS_KEEP 100
#define BUSY_TIMEOUT_MS 10000

static const char alphabet[] =
    "23456789ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz";

/* The states in which a filing holds its subject and its domains. */
#define OPEN_STATES \
	"('received','awaiting_verification','returned_to_owner'," \
	"'under_review','returned_to_provider')"

struct stmt_slot {
	const char *sql; /* the literal's address is the key */
	sqlite3_stmt *s;
};

struct store {
	sqlite3 *db;
	const struct config *cfg;
	char *domain;    /* Message-ID domain */
	char *state_dir; /* NULL: no attachments */
	int in_group;
	int blobs_unsynced; /* blobs written in this group, not yet synced */
	struct syncer *sy;  /* commits made durable by the daemon's syncer */
	int64_t horizon;    /* outbox rows above it are not yet durable */
	unsigned long long opslimit;
	size_t memlimit;
	struct stmt_slot *cache;
	size_t ncache, capcache;
	char errmsg[512];
};

/* ---- migrations ------------------------------------------------------ */

/*
 * Each entry brings the schema from version i to i + 1.  Applied in one
 * transaction at open; never edit an entry once released, append one.
 */
static const char *const migrations[] = {
	/* 1 */
	"CREATE TABLE filings("
	" id TEXT PRIMARY KEY,"
	" year INTEGER NOT NULL, seq INTEGER NOT NULL,"
	" type TEXT, mode TEXT, state TEXT NOT NULL,"
	" province TEXT, provider TEXT, owner TEXT,"
	" owner_token TEXT NOT NULL,"
	" subject_cert TEXT, subject_licence TEXT, site_licence TEXT,"
	" sponsor_name TEXT, sponsor_nature TEXT, sponsor_cert_type TEXT,"
	" xml TEXT,"
	" review_round INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL, updated INTEGER NOT NULL,"
	" UNIQUE(year, seq));"
	"CREATE INDEX filings_state ON filings(state);"
	"CREATE INDEX filings_subject ON filings(subject_cert);"
	"CREATE TABLE tracking_seq(year INTEGER PRIMARY KEY, last INTEGER NOT NULL);"
	"CREATE TABLE filing_websites("
	" filing TEXT NOT NULL REFERENCES filings(id), idx INTEGER NOT NULL,"
	" name TEXT, domains TEXT NOT NULL DEFAULT '', site_licence TEXT,"
	" PRIMARY KEY(filing, idx));"
	"CREATE TABLE filing_domains("
	" filing TEXT NOT NULL REFERENCES filings(id), domain TEXT NOT NULL,"
	" PRIMARY KEY(filing, domain));"
	"CREATE INDEX filing_domains_domain ON filing_domains(domain);"
	"CREATE TABLE filing_errors("
	" filing TEXT NOT NULL REFERENCES filings(id), idx INTEGER NOT NULL,"
	" path TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL,"
	" PRIMARY KEY(filing, idx));"
	"CREATE TABLE subjects("
	" licence TEXT PRIMARY KEY, province TEXT NOT NULL,"
	" cert_number TEXT NOT NULL UNIQUE, name TEXT, nature TEXT, cert_type TEXT,"
	" owner_email TEXT, password_hash TEXT,"
	" pw_fail_day TEXT, pw_fail_count INTEGER NOT NULL DEFAULT 0,"
	" site_count INTEGER NOT NULL DEFAULT 0,"
	" filing TEXT, created INTEGER NOT NULL);"
	"CREATE TABLE sites("
	" licence TEXT PRIMARY KEY,"
	" subject TEXT NOT NULL REFERENCES subjects(licence),"
	" n INTEGER NOT NULL, name TEXT,"
	" state TEXT NOT NULL CHECK(state IN ('active','cancelled')),"
	" filing TEXT, created INTEGER NOT NULL, updated INTEGER NOT NULL,"
	" UNIQUE(subject, n));"
	"CREATE TABLE site_access("
	" site TEXT NOT NULL REFERENCES sites(licence), provider TEXT NOT NULL,"
	" PRIMARY KEY(site, provider));"
	"CREATE TABLE site_domains("
	" site TEXT NOT NULL REFERENCES sites(licence), domain TEXT NOT NULL,"
	" PRIMARY KEY(site, domain));"
	"CREATE INDEX site_domains_domain ON site_domains(domain);"
	"CREATE TABLE number_seq("
	" province TEXT NOT NULL, year INTEGER NOT NULL, last INTEGER NOT NULL,"
	" PRIMARY KEY(province, year));"
	"CREATE TABLE issued_numbers("
	" province TEXT NOT NULL, year INTEGER NOT NULL, serial INTEGER NOT NULL,"
	" old_form INTEGER NOT NULL, licence TEXT NOT NULL, origin TEXT NOT NULL,"
	" at INTEGER NOT NULL,"
	" PRIMARY KEY(province, year, serial, old_form));"
	"CREATE TABLE attachments("
	" sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE attachment_entries("
	" sha256 TEXT NOT NULL REFERENCES attachments(sha256), idx INTEGER NOT NULL,"
	" name TEXT NOT NULL, entry_sha256 TEXT NOT NULL, size INTEGER NOT NULL,"
	" PRIMARY KEY(sha256, idx));"
	"CREATE TABLE filing_attachments("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" filing TEXT NOT NULL REFERENCES filings(id), kind TEXT NOT NULL,"
	" sha256 TEXT NOT NULL REFERENCES attachments(sha256), at INTEGER NOT NULL);"
	"CREATE INDEX filing_attachments_filing ON filing_attachments(filing, kind);"
	"CREATE TABLE events("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" filing TEXT REFERENCES filings(id), at INTEGER NOT NULL,"
	" actor TEXT, actor_kind TEXT NOT NULL"
	"  CHECK(actor_kind IN ('owner','provider','bureau','system','operator')),"
	" channel TEXT NOT NULL CHECK(channel IN ('spool','mail','cli')),"
	" from_state TEXT, to_state TEXT, reason TEXT, source TEXT);"
	"CREATE INDEX events_filing ON events(filing);"
	"CREATE TRIGGER events_append_only_u BEFORE UPDATE ON events"
	" BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
	"CREATE TRIGGER events_append_only_d BEFORE DELETE ON events"
	" BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
	"CREATE TABLE outbox("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" filing TEXT REFERENCES filings(id),"
	" event INTEGER NOT NULL REFERENCES events(id),"
	" template TEXT NOT NULL,"
	" role TEXT NOT NULL CHECK(role IN ('owner','provider','bureau','sender')),"
	" rcpt TEXT NOT NULL, params TEXT NOT NULL,"
	" message_id TEXT NOT NULL UNIQUE,"
	" state TEXT NOT NULL"
	"  CHECK(state IN ('queued','sending','sent','deferred','failed')),"
	" attempts INTEGER NOT NULL DEFAULT 0, last_reply TEXT,"
	" next_try INTEGER NOT NULL, created INTEGER NOT NULL, secret TEXT);"
	"CREATE INDEX outbox_due ON outbox(state, next_try);"
	"CREATE TABLE ingests("
	" source TEXT NOT NULL, sha256 TEXT NOT NULL, filing TEXT, state TEXT,"
	" final INTEGER NOT NULL, at INTEGER NOT NULL,"
	" PRIMARY KEY(source, sha256));"
	"CREATE TABLE ingest_findings("
	" source TEXT NOT NULL, sha256 TEXT NOT NULL, idx INTEGER NOT NULL,"
	" code TEXT NOT NULL, path TEXT NOT NULL, message TEXT NOT NULL,"
	" PRIMARY KEY(source, sha256, idx));"
	"CREATE TABLE review_tokens("
	" filing TEXT NOT NULL REFERENCES filings(id), round INTEGER NOT NULL,"
	" token TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL, PRIMARY KEY(filing, round));"
	"CREATE TABLE imap_state("
	" mailbox TEXT PRIMARY KEY, uidvalidity INTEGER NOT NULL,"
	" last_uid INTEGER NOT NULL);"
	"CREATE TABLE quarantine("
	" item TEXT PRIMARY KEY, source TEXT, at INTEGER NOT NULL, reason TEXT);"
	"CREATE TABLE recent_errors("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"
	" source TEXT, code TEXT, message TEXT);"
	"CREATE TABLE reply_counts("
	" address TEXT NOT NULL, day TEXT NOT NULL, count INTEGER NOT NULL,"
	" PRIMARY KEY(address, day));",
	/* 2: spool uploads and their receipts */
	"CREATE TABLE uploads("
	" key TEXT PRIMARY KEY, source TEXT NOT NULL, sha256 TEXT NOT NULL,"
	" received INTEGER NOT NULL, receipt TEXT NOT NULL,"
	" quarantined INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX uploads_source ON uploads(source, sha256, received);",
	/* 3: mails of the intake mailbox whose result is committed */
	"CREATE TABLE mail_seen("
	" mailbox TEXT NOT NULL, uidvalidity INTEGER NOT NULL,"
	" uid INTEGER NOT NULL, message_id TEXT NOT NULL, sha256 TEXT NOT NULL,"
	" stays INTEGER NOT NULL DEFAULT 0, at INTEGER NOT NULL,"
	" PRIMARY KEY(mailbox, uidvalidity, uid));"
	"CREATE INDEX mail_seen_content ON mail_seen(message_id, sha256);",
	/* 4: the same CHECKs without IN lists, for which SQLite builds a
	 * temporary b-tree every time it checks a row (half the CPU of an
	 * insert into events or outbox).  Equivalent constraints, so the
	 * rows stand and only their text in the schema changes: the
	 * writable_schema procedure of SQLite's "ALTER TABLE" page;
	 * migrate() moves schema_version on. */
	"PRAGMA writable_schema = ON;"
	"UPDATE sqlite_schema SET sql = replace(sql,"
	" 'CHECK(state IN (''active'',''cancelled''))',"
	" 'CHECK(state = ''active'' OR state = ''cancelled'')')"
	" WHERE type = 'table' AND name = 'sites';"
	"UPDATE sqlite_schema SET sql = replace(replace(sql,"
	" 'CHECK(actor_kind IN"
	" (''owner'',''provider'',''bureau'',''system'',''operator''))',"
	" 'CHECK(actor_kind = ''owner'' OR actor_kind = ''provider''"
	" OR actor_kind = ''bureau'' OR actor_kind = ''system''"
	" OR actor_kind = ''operator'')'),"
	" 'CHECK(channel IN (''spool'',''mail'',''cli''))',"
	" 'CHECK(channel = ''spool'' OR channel = ''mail''"
	" OR channel = ''cli'')')"
	" WHERE type = 'table' AND name = 'events';"
	"UPDATE sqlite_schema SET sql = replace(replace(sql,"
	" 'CHECK(role IN (''owner'',''provider'',''bureau'',''sender''))',"
	" 'CHECK(role = ''owner'' OR role = ''provider'' OR role = ''bureau''"
	" OR role = ''sender'')'),"
	" 'CHECK(state IN"
	" (''queued'',''sending'',''sent'',''deferred'',''failed''))',"
	" 'CHECK(state = ''queued'' OR state = ''sending'' OR state = ''sent''"
	" OR state = ''deferred'' OR state = ''failed'')')"
	" WHERE type = 'table' AND name = 'outbox';"
	"PRAGMA writable_schema = OFF;",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
store_schema_version(void)
{
	return NMIGRATIONS;
}

/* ---- small helpers ----------------------------------------------------- */

static int
dberr(struct store *st, const char *what)
{
	snprintf(st->errmsg, sizeof(st->errmsg), "%s: %s", what,
	    sqlite3_errmsg(st->db));
	return -1;
}

static int
seterr(struct store *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
seterr(struct store *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
	va_end(ap);
	return -1;
}

const char *
store_errmsg(const struct store *st)
{
	return st->errmsg;
}

static time_t
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

static int
cst_year(time_t t)
{
	struct tm tm;

	cst_tm(t, &tm);
	return tm.tm_year + 1900;
}

static void
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

static char *
col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t != NULL ? xstrdup((const char *)t) : NULL;
}

static const char *
col_str(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static int
streq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Compare secrets without leaking where they differ. */
static int
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
static sqlite3_stmt *
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
static int
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
static int
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

static int
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
static int
op_end(struct store *st, int commit)
{
	char saved[sizeof(st->errmsg)];

	if (st->in_group) {
		if (!commit && run(st, "ROLLBACK TO op", "") == -1)
			return -1;
		return run(st, "RELEASE op", "") == -1 ? -1 : 0;
	}
	if (commit) {
		if (run(st, "COMMIT", "") != -1)
			return 0;
		memcpy(saved, st->errmsg, sizeof(saved));
		if (!sqlite3_get_autocommit(st->db))
			run(st, "ROLLBACK", "");
		memcpy(st->errmsg, saved, sizeof(saved));
		return -1;
	}
	if (!sqlite3_get_autocommit(st->db))
		run(st, "ROLLBACK", "");
	return 0;
}

/* Finish an operation whose body returned rc (0, 1 refused, -1 error). */
static int
op_finish(struct store *st, int rc)
{
	char saved[sizeof(st->errmsg)];

	if (rc == 0)
		return op_end(st, 1);
	memcpy(saved, st->errmsg, sizeof(saved));
	op_end(st, 0);
	memcpy(st->errmsg, saved, sizeof(saved));
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
			seterr(st, "%s: syncfs: %s", st->state_dir,
			    strerror(errno));
			run(st, "ROLLBACK", "");
			return -1;
		}
		st->blobs_unsynced = 0;
	} else if (st->blobs_unsynced) {
		int fd = open(st->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		/* a row never names a blob that is not on disk */
		if (fd == -1 || syncfs(fd) == -1) {
			if (fd != -1)
				close(fd);
			seterr(st, "%s: syncfs: %s", st->state_dir,
			    strerror(errno));
			run(st, "ROLLBACK", "");
			return -1;
		}
		close(fd);
		st->blobs_unsynced = 0;
	}
	if (run(st, "COMMIT", "") == -1) {
		char saved[sizeof(st->errmsg)];

		memcpy(saved, st->errmsg, sizeof(saved));
		if (!sqlite3_get_autocommit(st->db))
			run(st, "ROLLBACK", "");
		memcpy(st->errmsg, saved, sizeof(saved));
		return -1;
	}
	return 0;
}

int
store_rollback(struct store *st)
{
	if (!st->in_group)
		return seterr(st, "store_rollback: no group open");
	st->in_group = 0;
	st->blobs_unsynced = 0; /* unreferenced blobs are harmless */
	if (!sqlite3_get_autocommit(st->db) && run(st, "ROLLBACK", "") == -1)
		return -1;
	return 0;
}

/* ---- open / close ------------------------------------------------------- */

static int
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

static int
migrate(struct store *st)
{
	int64_t v, sv;
	char sql[64];

	if (pragma(st, "BEGIN IMMEDIATE") == -1)
		return -1;
	if (one_int(st, &v, "PRAGMA user_version", "") != 1)
		goto fail;
	if (v > NMIGRATIONS) {
		seterr(st, "database schema version %lld is newer than this "
		    "program's %d", (long long)v, NMIGRATIONS);
		goto fail;
	}
	if (v == NMIGRATIONS)
		return pragma(st, "COMMIT");
	for (; v < NMIGRATIONS; v++)
		if (pragma(st, migrations[v]) == -1)
			goto fail;
	/* A schema written through writable_schema takes effect, here and
	 * in every other connection, once its version moves on. */
	if (one_int(st, &sv, "PRAGMA schema_version", "") != 1)
		goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA schema_version = %lld",
	    (long long)sv + 1);
	if (pragma(st, sql) == -1)
		goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", NMIGRATIONS);
	if (pragma(st, sql) == -1 || pragma(st, "COMMIT") == -1)
		goto fail;
	return 0;
fail:
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
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
	const char *fast;
	sqlite3_stmt *s;
	int fd, ok;

	if (sodium_init() < 0) {
		snprintf(err, errsize, "store: libsodium failed to start");
		return NULL;
	}
	pthread_once(&once, sqlite_setup);
	/* Create it 0600 ourselves: SQLite would use 0644 minus umask, and
	 * its -wal and -shm files copy the database file's mode. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fchmod(fd, 0600) == -1) {
		snprintf(err, errsize, "%s: chmod: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	close(fd);

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
	    migrate(st) == -1) {
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
	free(st->domain);
	free(st->state_dir);
	free(st);
}

/* ---- JSON (mail parameters) ------------------------------------------- */

struct jbuf {
	char *s;
	size_t len, cap;
};

static void
jb_putn(struct jbuf *j, const char *p, size_t n)
{
	if (j->cap - j->len <= n) {
		size_t need;

		if (n > SIZE_MAX / 2 - j->len)
			abort();
		need = j->len + n + 1;
		j->cap = need > 2 * j->cap ? need : 2 * j->cap;
		j->s = xreallocarray(j->s, j->cap, 1);
	}
	memcpy(j->s + j->len, p, n);
	j->len += n;
	j->s[j->len] = '\0';
}

static void
jb_puts(struct jbuf *j, const char *p)
{
	jb_putn(j, p, strlen(p));
}

/* A comma unless this value opens its object or array. */
static void
jb_sep(struct jbuf *j)
{
	if (j->len > 0 && j->s[j->len - 1] != '{' && j->s[j->len - 1] != '[' &&
	    j->s[j->len - 1] != ':')
		jb_putn(j, ",", 1);
}

static void
jb_string(struct jbuf *j, const char *v)
{
	char e[6];
	size_t n;

	jb_sep(j);
	if (v == NULL) {
		jb_puts(j, "null");
		return;
	}
	jb_putn(j, "\"", 1);
	for (;;) {
		n = json_plain_span(v);
		jb_putn(j, v, n);
		if (v[n] == '\0')
			break;
		jb_putn(j, e, json_escape((unsigned char)v[n], e));
		v += n + 1;
	}
	jb_putn(j, "\"", 1);
}

static void
jb_key(struct jbuf *j, const char *k)
{
	jb_string(j, k);
	jb_putn(j, ":", 1);
}

static void
jb_kv(struct jbuf *j, const char *k, const char *v)
{
	jb_key(j, k);
	jb_string(j, v);
}

static void
jb_open(struct jbuf *j, char c)
{
	jb_sep(j);
	jb_putn(j, &c, 1);
}

static void
jb_close(struct jbuf *j, char c)
{
	jb_putn(j, &c, 1);
}

/* "errors":[{path,code,message}...] from findings of severity error. */
static void
jb_errors(struct jbuf *j, const char *key, const struct errlist *a,
    const struct errlist *b)
{
	const struct errlist *lists[2] = { a, b };

	jb_key(j, key);
	jb_open(j, '[');
	for (size_t l = 0; l < 2; l++) {
		if (lists[l] == NULL)
			continue;
		for (size_t i = 0; i < errlist_count(lists[l]); i++) {
			const struct err_item *e = errlist_get(lists[l], i);

			jb_open(j, '{');
			jb_kv(j, "path", e->path);
			jb_kv(j, "code", err_code_name(e->code));
			jb_kv(j, "severity",
			    e->severity == SEV_WARNING ? "warning" : "error");
			jb_kv(j, "message", e->message);
			jb_close(j, '}');
		}
	}
	jb_close(j, ']');
}

/* ---- the filing row ---------------------------------------------------- */

struct frow {
	char id[STORE_ID_SIZE];
	enum wf_state state;
	char *type, *mode, *province, *provider, *owner, *token;
	char *subject_cert, *subject_licence, *site_licence;
	int round;
};

static void
frow_clear(struct frow *f)
{
	free(f->type);
	free(f->mode);
	free(f->province);
	free(f->provider);
	free(f->owner);
	free(f->token);
	free(f->subject_cert);
	free(f->subject_licence);
	free(f->site_licence);
	memset(f, 0, sizeof(*f));
}

/* 0 loaded, 1 unknown id, -1 error. */
static int
frow_load(struct store *st, const char *id, struct frow *f)
{
	sqlite3_stmt *s;
	int rc;

	memset(f, 0, sizeof(*f));
	if (id == NULL || strlen(id) >= sizeof(f->id))
		return 1;
	s = query(st, "SELECT state, type, mode, province, provider, owner,"
	    " owner_token, subject_cert, subject_licence, site_licence,"
	    " review_round FROM filings WHERE id = ?", "s", id);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		strlcpy(f->id, id, sizeof(f->id));
		if (workflow_state_parse(col_str(s, 0), &f->state) == -1)
			f->state = WF_NONE;
		f->type = col_dup(s, 1);
		f->mode = col_dup(s, 2);
		f->province = col_dup(s, 3);
		f->provider = col_dup(s, 4);
		f->owner = col_dup(s, 5);
		f->token = col_dup(s, 6);
		f->subject_cert = col_dup(s, 7);
		f->subject_licence = col_dup(s, 8);
		f->site_licence = col_dup(s, 9);
		f->round = sqlite3_column_int(s, 10);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = 1;
	else
		rc = dberr(st, "load filing");
	sqlite3_reset(s);
	return rc;
}

/* ---- events and outbox --------------------------------------------------- */

static int
event_add(struct store *st, const char *filing, const struct store_actor *who,
    enum wf_actor kind, enum wf_state from, enum wf_state to,
    const char *reason, time_t now, int64_t *event)
{
	if (run(st, "INSERT INTO events(filing, at, actor, actor_kind, channel,"
	    " from_state, to_state, reason, source)"
	    " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)", "sIsssssss", filing,
	    (int64_t)now, kind == WF_ACTOR_SYSTEM ? "beiand" : who->name,
	    workflow_actor_name(kind), workflow_channel_name(who->channel),
	    workflow_state_name(from), workflow_state_name(to), reason,
	    who->source) == -1)
		return -1;
	*event = sqlite3_last_insert_rowid(st->db);
	return 0;
}

static const struct config_provider *
provider_find(const struct store *st, const char *code)
{
	if (st->cfg == NULL || code == NULL)
		return NULL;
	for (size_t i = 0; i < st->cfg->nproviders; i++)
		if (streq(st->cfg->providers[i].code, code))
			return &st->cfg->providers[i];
	return NULL;
}

static const struct config_bureau *
bureau_find(const struct store *st, const char *province)
{
	if (st->cfg == NULL || province == NULL)
		return NULL;
	for (size_t i = 0; i < st->cfg->nbureaus; i++)
		if (streq(st->cfg->bureaus[i].province, province))
			return &st->cfg->bureaus[i];
	return NULL;
}

/* The address of role for a filing; NULL when nobody is configured. */
static const char *
rcpt_resolve(const struct store *st, enum wf_role role, enum wf_template tpl,
    const char *owner, const char *provider, const char *province,
    const struct store_actor *who)
{
	const struct config_provider *p;
	const struct config_bureau *b;

	switch (role) {
	case WF_ROLE_OWNER:
		return owner;
	case WF_ROLE_PROVIDER:
		p = provider_find(st, provider);
		return p != NULL ? p->email : NULL;
	case WF_ROLE_BUREAU:
		if ((b = bureau_find(st, province)) == NULL)
			return NULL;
		if (tpl == WF_TPL_APPROVED_BUREAU && b->record_to != NULL &&
		    b->record_to[0] != '\0')
			return b->record_to;
		return b->naddresses > 0 ? b->addresses[0] : NULL;
	case WF_ROLE_SENDER:
		return who->sender;
	case WF_ROLE_SUBMITTER:
		break;
	}
	return NULL;
}

/*
 * One outbox row.  ref is the Message-ID's ID part; params is the full
 * JSON object.  A row nobody can receive is kept as failed so that
 * `beianctl outbox --failed` shows it.
 */
static int
outbox_add(struct store *st, const char *filing, const char *ref,
    int64_t event, enum wf_template tpl, enum wf_role role, const char *rcpt,
    const char *params, const char *secret, time_t now)
{
	char *msgid;
	int rc, none = rcpt == NULL || rcpt[0] == '\0';

	msgid = xasprintf("<%s.%lld.%s.%s@%s>", ref, (long long)event,
	    workflow_template_name(tpl), workflow_role_name(role), st->domain);
	rc = run(st, "INSERT INTO outbox(filing, event, template, role, rcpt,"
	    " params, message_id, state, last_reply, next_try, created, secret)"
	    " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "sIsssssssIIs",
	    filing, event, workflow_template_name(tpl), workflow_role_name(role),
	    none ? "" : rcpt, params, msgid, none ? "failed" : "queued",
	    none ? "no address configured for this recipient" : NULL,
	    (int64_t)now, (int64_t)now, secret);
	free(msgid);
	return rc == -1 ? -1 : 0;
}

/* What the mails of one transition say besides the filing's own fields. */
struct mailx {
	const char *extra;        /* JSON members to append, or NULL */
	const char *secret;       /* approved_owner's password */
};

static int
mails_queue(struct store *st, const struct frow *f, enum wf_state from,
    enum wf_state to, const struct wf_transition *t, int64_t event,
    const struct store_actor *who, enum wf_actor kind, const struct mailx *x,
    time_t now)
{
	struct wf_mail mails[WF_MAX_MAILS];
	size_t n;

	n = workflow_mails_select(t, streq(f->mode, "delegated"), who->channel,
	    mails);
	for (size_t i = 0; i < n; i++) {
		struct jbuf j = { 0 };
		const char *rcpt;
		int rc;

		if (mails[i].role == WF_ROLE_SENDER && who->no_sender_mail)
			continue;
		rcpt = rcpt_resolve(st, mails[i].role, mails[i].tpl, f->owner,
		    f->provider, f->province, who);
		jb_open(&j, '{');
		jb_kv(&j, "id", f->id);
		jb_kv(&j, "template", workflow_template_name(mails[i].tpl));
		jb_kv(&j, "role", workflow_role_name(mails[i].role));
		jb_kv(&j, "from", workflow_state_name(from));
		jb_kv(&j, "state", workflow_state_name(to));
		jb_kv(&j, "type", f->type);
		jb_kv(&j, "mode", f->mode);
		jb_kv(&j, "province", f->province);
		jb_kv(&j, "provider", f->provider);
		jb_kv(&j, "actor_kind", workflow_actor_name(kind));
		jb_kv(&j, "actor", kind == WF_ACTOR_SYSTEM ? "beiand" : who->name);
		/* the owner token goes to the owner only */
		if (mails[i].role == WF_ROLE_OWNER)
			jb_kv(&j, "owner_token", f->token);
		if (x != NULL && x->extra != NULL && x->extra[0] != '\0') {
			jb_sep(&j);
			jb_puts(&j, x->extra);
		}
		jb_close(&j, '}');
		rc = outbox_add(st, f->id, f->id, event, mails[i].tpl,
		    mails[i].role, rcpt, j.s,
		    mails[i].tpl == WF_TPL_APPROVED_OWNER && x != NULL ?
		    x->secret : NULL, now);
		free(j.s);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/*
 * The compare-and-swap of the state, its event and its mails.  1 with
 * WRONG_STATE when the state is no longer f->state.
 */
static int
move(struct store *st, struct frow *f, enum wf_state to,
    const struct store_actor *who, enum wf_actor kind, const char *reason,
    const struct mailx *x, time_t now, struct errlist *errs, int64_t *event)
{
	const struct wf_transition *t = workflow_transition_find(f->state, to);
	enum wf_state from = f->state;
	int rc;

	if (t == NULL) {
		errlist_add(errs, ERR_WRONG_STATE, "/", "%s",
		    err_code_message(ERR_WRONG_STATE));
		return 1;
	}
	rc = run(st, "UPDATE filings SET state = ?, updated = ?"
	    " WHERE id = ? AND state = ?", "sIss", workflow_state_name(to),
	    (int64_t)now, f->id, workflow_state_name(from));
	if (rc == -1)
		return -1;
	if (rc == 0) {
		errlist_add(errs, ERR_WRONG_STATE, "/", "%s",
		    err_code_message(ERR_WRONG_STATE));
		return 1;
	}
	if (event_add(st, f->id, who, kind, from, to, reason, now, event) == -1)
		return -1;
	f->state = to;
	return mails_queue(st, f, from, to, t, *event, who, kind, x, now);
}

/* ---- the filing's last errors ------------------------------------------ */

static int
errors_replace(struct store *st, const char *id, const struct errlist *a,
    const struct errlist *b, const struct store_issue *issues, size_t nissues)
{
	const struct errlist *lists[2] = { a, b };
	int idx = 0;

	if (run(st, "DELETE FROM filing_errors WHERE filing = ?", "s", id) == -1)
		return -1;
	for (size_t l = 0; l < 2; l++) {
		if (lists[l] == NULL)
			continue;
		for (size_t i = 0; i < errlist_count(lists[l]); i++) {
			const struct err_item *e = errlist_get(lists[l], i);

			if (e->severity != SEV_ERROR)
				continue;
			if (run(st, "INSERT INTO filing_errors(filing, idx, path,"
			    " code, message) VALUES(?, ?, ?, ?, ?)", "sisss", id,
			    idx++, e->path, err_code_name(e->code),
			    e->message) == -1)
				return -1;
		}
	}
	for (size_t i = 0; i < nissues; i++) {
		if (run(st, "INSERT INTO filing_errors(filing, idx, path, code,"
		    " message) VALUES(?, ?, ?, ?, ?)", "sisss", id, idx++,
		    issues[i].path ? issues[i].path : "/",
		    issues[i].code ? issues[i].code : "",
		    issues[i].text ? issues[i].text : "") == -1)
			return -1;
	}
	return 0;
}

/* ---- store checks of a package (FORMAT.md §1, §4) ------------------------ */

/* What the checks learn about the package's subject. */
struct facts {
	char *cert;             /* the subject's certificate number */
	char *owner;            /* the owner address */
	char *subject_licence, *site_licence; /* canonical text */
	char *name, *nature, *cert_type;
};

static void
facts_clear(struct facts *x)
{
	free(x->cert);
	free(x->owner);
	free(x->subject_licence);
	free(x->site_licence);
	free(x->name);
	free(x->nature);
	free(x->cert_type);
	memset(x, 0, sizeof(*x));
}

static void
add(struct errlist *errs, enum err_code code, const char *path)
{
	errlist_add(errs, code, path, "%s", err_code_message(code));
}

/* The words of FORMAT.md §1 (kept here so the store links without the
 * XML parser). */
static const char *
type_name(enum filing_type t)
{
	switch (t) {
	case FILING_FIRST:
		return "firstFiling";
	case FILING_ADD_SITE:
		return "addSite";
	case FILING_CANCEL_SITE:
		return "cancelSite";
	case FILING_CANCEL_ACCESS:
		return "cancelAccess";
	case FILING_TYPE_UNKNOWN:
		break;
	}
	return NULL;
}

static const char *
mode_name(enum filing_mode m)
{
	switch (m) {
	case FILING_MODE_SELF:
		return "self";
	case FILING_MODE_DELEGATED:
		return "delegated";
	case FILING_MODE_UNKNOWN:
		break;
	}
	return NULL;
}

/* Lower-case, one trailing dot dropped: how domains are compared. */
static char *
domain_norm(const char *d)
{
	char *s = xstrdup(d);
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
	if (n > 0 && s[n - 1] == '.')
		s[n - 1] = '\0';
	return s;
}

/* Canonical text of a licence string; -1 when it is no filing number. */
static int
licence_canon(const char *s, struct licence *l, char *buf, size_t size)
{
	if (s == NULL || licence_parse(s, l) == -1 ||
	    licence_format(l, buf, size) < 0)
		return -1;
	return 0;
}

static int
password_check(struct store *st, const char *subject, const char *password,
    time_t now, struct errlist *errs)
{
	char today[11];
	sqlite3_stmt *s;
	char *hash = NULL, *day = NULL;
	int count = 0, ok, rc;

	cst_day(now, today);
	s = query(st, "SELECT password_hash, pw_fail_day, pw_fail_count"
	    " FROM subjects WHERE licence = ?", "s", subject);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		hash = col_dup(s, 0);
		day = col_dup(s, 1);
		count = sqlite3_column_int(s, 2);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dberr(st, "password");
	if (!streq(day, today))
		count = 0;
	free(day);
	if (count >= PASSWORD_MAX_FAILS) {
		free(hash);
		add(errs, ERR_PASSWORD_LOCKED, "/filing/password");
		return 0;
	}
	ok = hash != NULL && password != NULL &&
	    crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
	free(hash);
	if (ok)
		return 0;
	/* the failure counts even though the package is refused: it is
	 * committed with the invalid filing or the recorded attempt */
	if (run(st, "UPDATE subjects SET pw_fail_day = ?, pw_fail_count = ?"
	    " WHERE licence = ?", "sis", today, count + 1, subject) == -1)
		return -1;
	add(errs, ERR_PASSWORD_WRONG, "/filing/password");
	return 0;
}

static int
subject_load(struct store *st, const char *licence, struct facts *x)
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT cert_number, owner_email, name, nature, cert_type"
	    " FROM subjects WHERE licence = ?", "s", licence);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		x->cert = col_dup(s, 0);
		x->owner = col_dup(s, 1);
		x->name = col_dup(s, 2);
		x->nature = col_dup(s, 3);
		x->cert_type = col_dup(s, 4);
		rc = 1;
	} else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = dberr(st, "subject");
	sqlite3_reset(s);
	return rc;
}

/*
 * The checks that need the database.  self is the filing being
 * (re)submitted, excluded from conflicts.  Findings go to errs; x
 * receives what was learnt.  0 or -1.
 */
static int
package_check(struct store *st, const char *self, const struct filing *f,
    const struct store_actor *who, time_t now, struct errlist *errs,
    struct facts *x)
{
	char buf[STORE_LICENCE_SIZE], path[96];
	struct licence sl, tl;
	int rc;

	if (f == NULL)
		return 0;
	if (f->type == FILING_FIRST) {
		if (f->sponsor != NULL) {
			x->cert = f->sponsor->cert_number ?
			    xstrdup(f->sponsor->cert_number) : NULL;
			x->name = f->sponsor->name ? xstrdup(f->sponsor->name) : NULL;
			x->nature = f->sponsor->nature ?
			    xstrdup(f->sponsor->nature) : NULL;
			x->cert_type = f->sponsor->cert_type ?
			    xstrdup(f->sponsor->cert_type) : NULL;
			if (f->sponsor->principal != NULL &&
			    f->sponsor->principal->email != NULL)
				x->owner = xstrdup(f->sponsor->principal->email);
		}
		if (x->cert != NULL) {
			rc = one_int(st, NULL, "SELECT 1 FROM subjects"
			    " WHERE cert_number = ?", "s", x->cert);
			if (rc == -1)
				return -1;
			if (rc == 1)
				add(errs, ERR_SUBJECT_ALREADY_FILED,
				    "/filing/sponsor/certNumber");
		}
	} else if (f->type != FILING_TYPE_UNKNOWN && f->subject_licence != NULL) {
		if (licence_canon(f->subject_licence, &sl, buf, sizeof(buf)) == -1 ||
		    sl.site != 0)
			add(errs, ERR_LICENCE_FORMAT, "/filing/subjectLicence");
		else if ((rc = subject_load(st, buf, x)) == -1)
			return -1;
		else if (rc == 0)
			add(errs, ERR_LICENCE_UNKNOWN, "/filing/subjectLicence");
		else
			x->subject_licence = xstrdup(buf);
	}
	if (x->subject_licence != NULL && (f->type == FILING_CANCEL_SITE ||
	    f->type == FILING_CANCEL_ACCESS) && f->site_licence != NULL) {
		struct licence subj;

		if (licence_canon(f->site_licence, &tl, buf, sizeof(buf)) == -1 ||
		    tl.site == 0)
			add(errs, ERR_LICENCE_FORMAT, "/filing/siteLicence");
		else {
			char sbuf[STORE_LICENCE_SIZE];

			licence_subject(&tl, &subj);
			rc = 0;
			if (licence_format(&subj, sbuf, sizeof(sbuf)) >= 0 &&
			    streq(sbuf, x->subject_licence))
				rc = one_int(st, NULL, "SELECT 1 FROM sites WHERE"
				    " licence = ? AND subject = ? AND state = 'active'",
				    "ss", buf, x->subject_licence);
			if (rc == -1)
				return -1;
			if (rc == 0)
				add(errs, ERR_LICENCE_UNKNOWN, "/filing/siteLicence");
			else
				x->site_licence = xstrdup(buf);
		}
	}
	if (x->subject_licence != NULL && f->type == FILING_CANCEL_SITE &&
	    f->mode == FILING_MODE_SELF &&
	    password_check(st, x->subject_licence, f->password, now, errs) == -1)
		return -1;
	if (x->site_licence != NULL && f->type == FILING_CANCEL_ACCESS) {
		int64_t n = 0;

		if (one_int(st, &n, "SELECT count(*) FROM site_access"
		    " WHERE site = ?", "s", x->site_licence) == -1)
			return -1;
		rc = one_int(st, NULL, "SELECT 1 FROM site_access"
		    " WHERE site = ? AND provider = ?", "ss", x->site_licence,
		    who->provider);
		if (rc == -1)
			return -1;
		if (rc == 0)
			errlist_add(errs, ERR_LICENCE_UNKNOWN, "/filing/siteLicence",
			    "该网站不经本接入商接入 / the site has no access by this "
			    "provider");
		else if (n <= 1)
			add(errs, ERR_LAST_ACCESS, "/filing/siteLicence");
	}
	if (x->cert != NULL) {
		rc = one_int(st, NULL, "SELECT 1 FROM filings WHERE subject_cert = ?"
		    " AND id <> ? AND state IN " OPEN_STATES, "ss", x->cert,
		    self ? self : "");
		if (rc == -1)
			return -1;
		if (rc == 1)
			add(errs, ERR_SUBJECT_CONFLICT, f->type == FILING_FIRST ?
			    "/filing/sponsor/certNumber" : "/filing/subjectLicence");
	}
	for (size_t i = 0; i < f->nwebsites; i++) {
		for (size_t k = 0; k < f->websites[i].ndomains; k++) {
			char *d = domain_norm(f->websites[i].domains[k]);

			rc = one_int(st, NULL,
			    "SELECT 1 FROM filing_domains d"
			    " JOIN filings f ON f.id = d.filing"
			    " WHERE d.domain = ?1 AND f.id <> ?2"
			    " AND f.state IN " OPEN_STATES
			    " UNION ALL SELECT 1 FROM site_domains sd"
			    " JOIN sites s ON s.licence = sd.site"
			    " JOIN subjects j ON j.licence = s.subject"
			    " WHERE sd.domain = ?1 AND s.state = 'active'"
			    " AND (?3 IS NULL OR j.cert_number <> ?3) LIMIT 1",
			    "sss", d, self ? self : "", x->cert);
			free(d);
			if (rc == -1)
				return -1;
			if (rc == 1) {
				snprintf(path, sizeof(path),
				    "/filing/website[%zu]/domain[%zu]", i + 1, k + 1);
				add(errs, ERR_DOMAIN_CONFLICT, path);
			}
		}
	}
	return 0;
}

/* Websites and domains of a package, replacing earlier ones. */
static int
websites_store(struct store *st, const char *id, const struct filing *f)
{
	if (run(st, "DELETE FROM filing_domains WHERE filing = ?", "s", id) == -1 ||
	    run(st, "DELETE FROM filing_websites WHERE filing = ?", "s", id) == -1)
		return -1;
	if (f == NULL)
		return 0;
	for (size_t i = 0; i < f->nwebsites; i++) {
		struct jbuf doms = { 0 };

		jb_puts(&doms, "");
		for (size_t k = 0; k < f->websites[i].ndomains; k++) {
			char *d = domain_norm(f->websites[i].domains[k]);

			if (k > 0)
				jb_puts(&doms, " ");
			jb_puts(&doms, d);
			if (run(st, "INSERT OR IGNORE INTO filing_domains(filing,"
			    " domain) VALUES(?, ?)", "ss", id, d) == -1) {
				free(d);
				free(doms.s);
				return -1;
			}
			free(d);
		}
		if (run(st, "INSERT INTO filing_websites(filing, idx, name,"
		    " domains) VALUES(?, ?, ?, ?)", "siss", id, (int)i,
		    f->websites[i].name, doms.s) == -1) {
			free(doms.s);
			return -1;
		}
		free(doms.s);
	}
	return 0;
}

static int
filing_data_store(struct store *st, const char *id, const struct filing *f,
    const char *xml, const struct facts *x, time_t now)
{
	if (run(st, "UPDATE filings SET type = ?, mode = ?, province = ?,"
	    " owner = ?, subject_cert = ?, subject_licence = ?,"
	    " site_licence = ?, sponsor_name = ?, sponsor_nature = ?,"
	    " sponsor_cert_type = ?, xml = ?, updated = ? WHERE id = ?",
	    "sssssssssssIs",
	    f != NULL ? type_name(f->type) : NULL,
	    f != NULL ? mode_name(f->mode) : NULL,
	    f != NULL ? f->province : NULL, x->owner, x->cert,
	    x->subject_licence, x->site_licence, x->name, x->nature,
	    x->cert_type, xml, (int64_t)now, id) == -1)
		return -1;
	return websites_store(st, id, f);
}

/* ---- tracking ids -------------------------------------------------------- */

static int
tracking_id_new(struct store *st, time_t now, char id[STORE_ID_SIZE],
    int *yearp, int64_t *seqp)
{
	int year = cst_year(now);
	int64_t seq;

	if (one_int(st, &seq, "INSERT INTO tracking_seq(year, last) VALUES(?, 1)"
	    " ON CONFLICT(year) DO UPDATE SET last = last + 1 RETURNING last",
	    "i", year) != 1)
		return -1;
	if (seq < 1 || seq > 999999 || year < 1000 || year > 9999)
		return seterr(st, "tracking ids for %d are exhausted", year);
	snprintf(id, STORE_ID_SIZE, "BA-%04d-%06d", year, (int)seq);
	*yearp = year;
	*seqp = seq;
	return 0;
}

/* ---- create ---------------------------------------------------------------- */

static int
sender_check(const char *from, const char *owner, struct errlist *errs)
{
	if (from != NULL && (owner == NULL || strcasecmp(from, owner) != 0)) {
		add(errs, ERR_SENDER_MISMATCH, "/");
		return 1;
	}
	return 0;
}

static void
jb_findings_extra(struct jbuf *j, const struct errlist *a,
    const struct errlist *b)
{
	jb_puts(j, "");
	jb_errors(j, "errors", a, b);
}

static int
create_body(struct store *st, const struct store_package *pkg,
    const struct store_actor *who, time_t now, struct errlist *mine,
    struct store_result *res)
{
	struct facts x = { 0 };
	struct frow f = { 0 };
	struct jbuf extra = { 0 };
	struct mailx mx = { 0 };
	char token[STORE_TOKEN_LEN + 1];
	int64_t seq = 0, ev = 0;
	int year = 0, invalid, rc = -1;

	if (tracking_id_new(st, now, f.id, &year, &seq) == -1)
		return -1;
	store_random_token(token, STORE_TOKEN_LEN);
	if (run(st, "INSERT INTO filings(id, year, seq, state, provider,"
	    " owner_token, created, updated) VALUES(?, ?, ?, 'received', ?, ?,"
	    " ?, ?)", "siIssII", f.id, year, seq, who->provider, token,
	    (int64_t)now, (int64_t)now) == -1)
		goto out;
	if (event_add(st, f.id, who, who->kind, WF_NONE, WF_RECEIVED, NULL, now,
	    &ev) == -1)
		goto out;
	if (package_check(st, f.id, pkg->f, who, now, mine, &x) == -1)
		goto out;
	if (pkg->f != NULL)
		sender_check(pkg->from, x.owner, mine);
	if (filing_data_store(st, f.id, pkg->f, pkg->xml, &x, now) == -1)
		goto out;
	invalid = pkg->f == NULL || errlist_nerrors(mine) > 0 ||
	    (pkg->errs != NULL && errlist_nerrors(pkg->errs) > 0);
	if (errors_replace(st, f.id, pkg->errs, mine, NULL, 0) == -1)
		goto out;
	strlcpy(res->id, f.id, sizeof(res->id)); /* frow_load clears f */
	if (frow_load(st, res->id, &f) != 0) {
		seterr(st, "create: the new filing vanished");
		goto out;
	}
	if (invalid) {
		jb_findings_extra(&extra, pkg->errs, mine);
		mx.extra = extra.s;
	}
	rc = move(st, &f, invalid ? WF_INVALID : WF_AWAITING_VERIFICATION, who,
	    WF_ACTOR_SYSTEM, NULL, &mx, now, mine, &ev);
	if (rc == 1)
		rc = seterr(st, "create: the new filing changed state");
	if (rc == 0) {
		res->state = f.state;
		res->event = ev;
	}
out:
	free(extra.s);
	facts_clear(&x);
	frow_clear(&f);
	return rc;
}

int
store_filing_create(struct store *st, const struct store_package *pkg,
    const struct store_actor *who, struct store_result *out)
{
	struct store_result res = { 0 };
	struct errlist *mine = errlist_new();
	time_t now = now_or(who->now);
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, create_body(st, pkg, who, now, mine, &res));
	if (rc == 0) {
		res.errs = out->errs;
		*out = res;
		if (out->errs != NULL)
			errlist_splice(out->errs, mine, NULL);
	}
	errlist_free(mine);
	return rc;
}

/* ---- review rounds ----------------------------------------------------- */

static int
review_round_new(struct store *st, struct frow *f, time_t now,
    char token[STORE_REVIEW_TOKEN_LEN + 1])
{
	store_random_token(token, STORE_REVIEW_TOKEN_LEN);
	if (run(st, "UPDATE review_tokens SET used = 1 WHERE filing = ?", "s",
	    f->id) == -1 ||
	    run(st, "UPDATE filings SET review_round = review_round + 1"
	    " WHERE id = ?", "s", f->id) == -1 ||
	    run(st, "INSERT INTO review_tokens(filing, round, token, created)"
	    " VALUES(?, ?, ?, ?)", "sisI", f->id, f->round + 1, token,
	    (int64_t)now) == -1)
		return -1;
	f->round++;
	return 0;
}

static void
jb_review_extra(struct jbuf *j, const struct frow *f, const char *token)
{
	char n[24];

	snprintf(n, sizeof(n), "%d", f->round);
	jb_puts(j, "");
	jb_kv(j, "review_token", token);
	jb_key(j, "review_round");
	jb_sep(j);
	jb_puts(j, n);
}

/* ---- resubmission --------------------------------------------------------- */

/* Refusals common to acting on an existing filing; 1 when refused. */
static int
actor_check(const struct frow *f, const struct store_actor *who,
    const char *owner_token, struct errlist *errs)
{
	int refused = 0;

	if (who->kind == WF_ACTOR_PROVIDER && !streq(who->provider, f->provider)) {
		add(errs, ERR_NOT_YOUR_FILING, "/");
		refused = 1;
	}
	if (who->kind == WF_ACTOR_OWNER && !token_eq(owner_token, f->token)) {
		add(errs, ERR_TOKEN_INVALID, "/");
		refused = 1;
	}
	return refused;
}

static int
resubmit_body(struct store *st, const char *id, const char *owner_token,
    const struct store_package *pkg, const struct store_actor *who,
    time_t now, struct errlist *mine, struct store_result *res)
{
	struct frow f;
	struct facts x = { 0 };
	struct jbuf extra = { 0 };
	struct mailx mx = { 0 };
	char rtoken[STORE_REVIEW_TOKEN_LEN + 1];
	enum wf_state to;
	int64_t ev = 0;
	int rc, refused = 0;

	if ((rc = frow_load(st, id, &f)) == -1)
		return -1;
	if (rc == 1) {
		add(mine, ERR_TRACKING_ID_UNKNOWN, "/filing/@id");
		res->state = WF_NONE;
		return 1;
	}
	strlcpy(res->id, f.id, sizeof(res->id));
	res->state = f.state;
	refused |= actor_check(&f, who, owner_token, mine);
	if (who->kind == WF_ACTOR_OWNER)
		refused |= sender_check(pkg->from, f.owner, mine);
	if (workflow_resubmit_target(f.state, who->kind, &to) == -1) {
		add(mine, ERR_WRONG_STATE, "/filing/@id");
		refused = 1;
	}
	if (refused) {
		rc = 1;
		goto out;
	}
	rc = -1;
	if (package_check(st, f.id, pkg->f, who, now, mine, &x) == -1)
		goto out;
	if (pkg->f == NULL || errlist_nerrors(mine) > 0 ||
	    (pkg->errs != NULL && errlist_nerrors(pkg->errs) > 0)) {
		/* the state is kept; the attempt is recorded and answered */
		if (errors_replace(st, f.id, pkg->errs, mine, NULL, 0) == -1 ||
		    run(st, "UPDATE filings SET updated = ? WHERE id = ?", "Is",
		    (int64_t)now, f.id) == -1 ||
		    event_add(st, f.id, who, who->kind, f.state, f.state,
		    "resubmission invalid", now, &ev) == -1)
			goto out;
		jb_findings_extra(&extra, pkg->errs, mine);
		mx.extra = extra.s;
		if (mails_queue(st, &f, f.state, f.state,
		    workflow_attempt_invalid(), ev, who, who->kind, &mx,
		    now) == -1)
			goto out;
	} else {
		if (filing_data_store(st, f.id, pkg->f, pkg->xml, &x, now) == -1 ||
		    errors_replace(st, f.id, NULL, NULL, NULL, 0) == -1)
			goto out;
		free(f.owner);
		f.owner = x.owner ? xstrdup(x.owner) : NULL;
		free(f.type);
		f.type = type_name(pkg->f->type) ?
		    xstrdup(type_name(pkg->f->type)) : NULL;
		free(f.mode);
		f.mode = mode_name(pkg->f->mode) ?
		    xstrdup(mode_name(pkg->f->mode)) : NULL;
		free(f.province);
		f.province = pkg->f->province ? xstrdup(pkg->f->province) : NULL;
		if (to == WF_UNDER_REVIEW) {
			if (review_round_new(st, &f, now, rtoken) == -1)
				goto out;
			jb_review_extra(&extra, &f, rtoken);
			mx.extra = extra.s;
		}
		if ((rc = move(st, &f, to, who, who->kind, "resubmitted", &mx,
		    now, mine, &ev)) != 0)
			goto out;
	}
	rc = 0;
	res->state = f.state;
	res->event = ev;
out:
	free(extra.s);
	facts_clear(&x);
	frow_clear(&f);
	return rc;
}

int
store_filing_resubmit(struct store *st, const char *id,
    const char *owner_token, const struct store_package *pkg,
    const struct store_actor *who, struct store_result *out)
{
	struct store_result res = { 0 };
	struct errlist *mine = errlist_new();
	time_t now = now_or(who->now);
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, resubmit_body(st, id, owner_token, pkg, who,
		    now, mine, &res));
	if (rc >= 0) {
		res.errs = out->errs;
		*out = res;
		if (out->errs != NULL)
			errlist_splice(out->errs, mine, NULL);
	}
	errlist_free(mine);
	return rc;
}

/* ---- numbers (FORMAT.md §4) ---------------------------------------------- */

/*
 * The next local subject number for province in year: the sequence goes
 * on past numbers already issued (by a bureau), each number once.  Runs
 * inside the approving transaction, so a crash loses nothing and leaves
 * no gap.
 */
static int
number_next(struct store *st, const char *province, int year, const char *id,
    time_t now, struct licence *l, char *buf, size_t size)
{
	int64_t last = 0, n;
	int rc;

	if (one_int(st, &last, "SELECT last FROM number_seq WHERE province = ?"
	    " AND year = ?", "si", province, year) == -1)
		return -1;
	for (n = last + 1;; n++) {
		if (n > 999999)
			return seterr(st, "subject numbers of %s/%d are exhausted",
			    province, year);
		rc = one_int(st, NULL, "SELECT 1 FROM issued_numbers WHERE"
		    " province = ? AND year = ? AND serial = ? AND old_form = 0",
		    "siI", province, year, n);
		if (rc == -1)
			return -1;
		if (rc == 0)
			break;
	}
	memset(l, 0, sizeof(*l));
	strlcpy(l->province, province, sizeof(l->province));
	l->year = year;
	l->serial = (long)n;
	if (licence_format(l, buf, size) < 0)
		return seterr(st, "cannot format a number for province %s",
		    province);
	if (run(st, "INSERT INTO number_seq(province, year, last) VALUES(?, ?, ?)"
	    " ON CONFLICT(province, year) DO UPDATE SET last = excluded.last",
	    "siI", province, year, n) == -1 ||
	    run(st, "INSERT INTO issued_numbers(province, year, serial, old_form,"
	    " licence, origin, at) VALUES(?, ?, ?, 0, ?, ?, ?)", "siIssI",
	    province, year, n, buf, id, (int64_t)now) == -1)
		return -1;
	return 0;
}

/* A subject number a bureau issued: 1 with LICENCE_CONFLICT when taken. */
static int
number_take(struct store *st, const struct licence *l, const char *text,
    const char *id, time_t now, struct errlist *errs)
{
	int rc;

	rc = one_int(st, NULL, "SELECT 1 FROM issued_numbers WHERE province = ?"
	    " AND year = ? AND serial = ? AND old_form = ? UNION ALL"
	    " SELECT 1 FROM subjects WHERE licence = ?", "siIis", l->province,
	    l->year, (int64_t)l->serial, l->old_form, text);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		add(errs, ERR_LICENCE_CONFLICT, "/decision/licence");
		return 1;
	}
	if (run(st, "INSERT INTO issued_numbers(province, year, serial, old_form,"
	    " licence, origin, at) VALUES(?, ?, ?, ?, ?, ?, ?)", "siIissI",
	    l->province, l->year, (int64_t)l->serial, l->old_form, text, id,
	    (int64_t)now) == -1)
		return -1;
	return 0;
}

static int
site_add(struct store *st, const char *subject, int n, const char *name,
    const char *domains, const char *provider, const char *id, time_t now,
    char *buf, size_t size)
{
	struct licence l;
	char *d, *p, *tok, *save = NULL;

	if (licence_parse(subject, &l) == -1)
		return seterr(st, "stored subject number %s unreadable", subject);
	l.site = n;
	if (licence_format(&l, buf, size) < 0)
		return seterr(st, "cannot format site %d of %s", n, subject);
	if (run(st, "INSERT INTO sites(licence, subject, n, name, state, filing,"
	    " created, updated) VALUES(?, ?, ?, ?, 'active', ?, ?, ?)",
	    "ssissII", buf, subject, n, name, id, (int64_t)now,
	    (int64_t)now) == -1)
		return -1;
	if (provider != NULL && run(st, "INSERT INTO site_access(site, provider)"
	    " VALUES(?, ?)", "ss", buf, provider) == -1)
		return -1;
	d = xstrdup(domains ? domains : "");
	for (p = d; (tok = strtok_r(p, " ", &save)) != NULL; p = NULL) {
		if (run(st, "INSERT OR IGNORE INTO site_domains(site, domain)"
		    " VALUES(?, ?)", "ss", buf, tok) == -1) {
			free(d);
			return -1;
		}
	}
	free(d);
	return 0;
}

/* The websites of a filing, in order: (idx, name, domains). */
struct wrow {
	int idx;
	char *name, *domains;
};

static int
websites_load(struct store *st, const char *id, struct wrow **out, size_t *n)
{
	sqlite3_stmt *s;
	struct wrow *w = NULL;
	size_t cap = 0, k = 0;
	int rc;

	s = query(st, "SELECT idx, name, domains FROM filing_websites"
	    " WHERE filing = ? ORDER BY idx", "s", id);
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		xgrow(&w, &cap, k, sizeof(*w));
		w[k].idx = sqlite3_column_int(s, 0);
		w[k].name = col_dup(s, 1);
		w[k].domains = col_dup(s, 2);
		k++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		for (size_t i = 0; i < k; i++) {
			free(w[i].name);
			free(w[i].domains);
		}
		free(w);
		return dberr(st, "websites");
	}
	*out = w;
	*n = k;
	return 0;
}

static void
websites_free(struct wrow *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(w[i].name);
		free(w[i].domains);
	}
	free(w);
}

struct approval {
	struct jbuf extra;
	char password[STORE_PASSWORD_LEN + 1];
	int has_password;
};

static int
approve_first(struct store *st, struct frow *f, const char *given, time_t now,
    struct errlist *errs, struct approval *ap)
{
	char subj[STORE_LICENCE_SIZE], site[STORE_LICENCE_SIZE];
	char hash[crypto_pwhash_STRBYTES];
	struct licence l;
	struct wrow *w = NULL;
	size_t nw = 0;
	int rc;

	if (f->subject_cert == NULL || f->province == NULL)
		return seterr(st, "%s: first filing without subject", f->id);
	rc = one_int(st, NULL, "SELECT 1 FROM subjects WHERE cert_number = ?",
	    "s", f->subject_cert);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		add(errs, ERR_SUBJECT_ALREADY_FILED, "/filing/sponsor/certNumber");
		return 1;
	}
	if (given != NULL) {
		if (licence_canon(given, &l, subj, sizeof(subj)) == -1 ||
		    l.site != 0 || strcmp(l.province, f->province) != 0) {
			add(errs, ERR_LICENCE_FORMAT, "/decision/licence");
			return 1;
		}
		if ((rc = number_take(st, &l, subj, f->id, now, errs)) != 0)
			return rc;
	} else if (number_next(st, f->province, cst_year(now), f->id, now, &l,
	    subj, sizeof(subj)) == -1)
		return -1;

	store_random_token(ap->password, STORE_PASSWORD_LEN);
	if (crypto_pwhash_str_alg(hash, ap->password, STORE_PASSWORD_LEN,
	    st->opslimit, st->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return seterr(st, "password hash: out of memory");
	ap->has_password = 1;
	if (run(st, "INSERT INTO subjects(licence, province, cert_number, name,"
	    " nature, cert_type, owner_email, password_hash, filing, created)"
	    " SELECT ?, province, subject_cert, sponsor_name, sponsor_nature,"
	    " sponsor_cert_type, owner, ?, id, ? FROM filings WHERE id = ?",
	    "ssIs", subj, hash, (int64_t)now, f->id) != 1)
		return -1;
	sodium_memzero(hash, sizeof(hash));
	if (websites_load(st, f->id, &w, &nw) == -1)
		return -1;
	jb_kv(&ap->extra, "subject_licence", subj);
	jb_key(&ap->extra, "site_licences");
	jb_open(&ap->extra, '[');
	rc = 0;
	for (size_t i = 0; i < nw && rc == 0; i++) {
		rc = site_add(st, subj, (int)i + 1, w[i].name, w[i].domains,
		    f->provider, f->id, now, site, sizeof(site));
		if (rc == 0 && run(st, "UPDATE filing_websites SET site_licence = ?"
		    " WHERE filing = ? AND idx = ?", "ssi", site, f->id,
		    w[i].idx) == -1)
			rc = -1;
		if (rc == 0)
			jb_string(&ap->extra, site);
	}
	jb_close(&ap->extra, ']');
	websites_free(w, nw);
	if (rc != 0)
		return rc;
	if (run(st, "UPDATE subjects SET site_count = ? WHERE licence = ?", "is",
	    (int)nw, subj) == -1 ||
	    run(st, "UPDATE filings SET subject_licence = ? WHERE id = ?", "ss",
	    subj, f->id) == -1)
		return -1;
	free(f->subject_licence);
	f->subject_licence = xstrdup(subj);
	return 0;
}

static int
approve_add_site(struct store *st, struct frow *f, const char *given,
    time_t now, struct errlist *errs, struct approval *ap)
{
	char site[STORE_LICENCE_SIZE], sbuf[STORE_LICENCE_SIZE];
	struct licence l, subj;
	struct wrow *w = NULL;
	size_t nw = 0;
	int64_t count = 0;
	int rc, given_n = 0;

	rc = one_int(st, &count, "SELECT site_count FROM subjects WHERE"
	    " licence = ?", "s", f->subject_licence);
	if (rc == -1)
		return -1;
	if (rc == 0) {
		add(errs, ERR_LICENCE_UNKNOWN, "/filing/subjectLicence");
		return 1;
	}
	if (websites_load(st, f->id, &w, &nw) == -1)
		return -1;
	if (given != NULL) {
		rc = 0;
		if (nw != 1 || licence_canon(given, &l, site, sizeof(site)) == -1 ||
		    l.site == 0)
			rc = 1;
		else {
			licence_subject(&l, &subj);
			if (licence_format(&subj, sbuf, sizeof(sbuf)) < 0 ||
			    !streq(sbuf, f->subject_licence))
				rc = 1;
		}
		if (rc == 1) {
			websites_free(w, nw);
			add(errs, ERR_LICENCE_FORMAT, "/decision/licence");
			return 1;
		}
		rc = one_int(st, NULL, "SELECT 1 FROM sites WHERE licence = ?"
		    " OR (subject = ? AND n = ?)", "ssi", site, f->subject_licence,
		    l.site);
		if (rc != 0) {
			websites_free(w, nw);
			if (rc == 1)
				add(errs, ERR_LICENCE_CONFLICT, "/decision/licence");
			return rc;
		}
		given_n = l.site;
	}
	jb_kv(&ap->extra, "subject_licence", f->subject_licence);
	jb_key(&ap->extra, "site_licences");
	jb_open(&ap->extra, '[');
	rc = 0;
	for (size_t i = 0; i < nw && rc == 0; i++) {
		int n = given_n ? given_n : (int)++count;

		if (given_n && given_n > count)
			count = given_n;
		rc = site_add(st, f->subject_licence, n, w[i].name, w[i].domains,
		    f->provider, f->id, now, site, sizeof(site));
		if (rc == 0 && run(st, "UPDATE filing_websites SET site_licence = ?"
		    " WHERE filing = ? AND idx = ?", "ssi", site, f->id,
		    w[i].idx) == -1)
			rc = -1;
		if (rc == 0)
			jb_string(&ap->extra, site);
	}
	jb_close(&ap->extra, ']');
	websites_free(w, nw);
	if (rc != 0)
		return rc;
	return run(st, "UPDATE subjects SET site_count = ? WHERE licence = ?",
	    "Is", count, f->subject_licence) == -1 ? -1 : 0;
}

static int
approve_cancel(struct store *st, struct frow *f, time_t now,
    struct errlist *errs, struct approval *ap)
{
	int64_t n = 0;
	int rc;

	if (f->site_licence == NULL) {
		add(errs, ERR_LICENCE_UNKNOWN, "/filing/siteLicence");
		return 1;
	}
	if (streq(f->type, "cancelSite")) {
		rc = run(st, "UPDATE sites SET state = 'cancelled', updated = ?"
		    " WHERE licence = ? AND state = 'active'", "Is", (int64_t)now,
		    f->site_licence);
		if (rc == -1)
			return -1;
		if (rc == 0) {
			add(errs, ERR_LICENCE_UNKNOWN, "/filing/siteLicence");
			return 1;
		}
		jb_kv(&ap->extra, "cancelled", f->site_licence);
	} else {
		if (one_int(st, &n, "SELECT count(*) FROM site_access WHERE"
		    " site = ?", "s", f->site_licence) == -1)
			return -1;
		rc = run(st, "DELETE FROM site_access WHERE site = ? AND"
		    " provider = ?", "ss", f->site_licence, f->provider);
		if (rc == -1)
			return -1;
		if (rc == 0) {
			add(errs, ERR_LICENCE_UNKNOWN, "/filing/siteLicence");
			return 1;
		}
		if (n <= 1) {
			add(errs, ERR_LAST_ACCESS, "/filing/siteLicence");
			return 1;
		}
		jb_kv(&ap->extra, "access_ended", f->site_licence);
	}
	jb_kv(&ap->extra, "subject_licence", f->subject_licence);
	return 0;
}

/* ---- transitions ------------------------------------------------------------ */

static int
transition_body(struct store *st, const struct store_transition_req *req,
    const struct store_actor *who, time_t now, struct errlist *mine,
    struct store_result *res)
{
	struct frow f;
	struct approval ap;
	struct mailx mx = { 0 };
	char rtoken[STORE_REVIEW_TOKEN_LEN + 1];
	int64_t ev = 0;
	int rc, refused = 0;

	memset(&ap, 0, sizeof(ap));
	if ((rc = frow_load(st, req->id, &f)) == -1)
		return -1;
	if (rc == 1) {
		add(mine, ERR_TRACKING_ID_UNKNOWN, "/");
		res->state = WF_NONE;
		return 1;
	}
	strlcpy(res->id, f.id, sizeof(res->id));
	res->state = f.state;
	if (workflow_transition_allowed(f.state, req->to, who->kind) == -1) {
		add(mine, ERR_WRONG_STATE, "/");
		refused = 1;
	}
	refused |= actor_check(&f, who, req->owner_token, mine);
	if (who->kind == WF_ACTOR_OWNER && who->channel == WF_CHANNEL_MAIL)
		refused |= sender_check(who->sender, f.owner, mine);
	if (!refused && who->kind == WF_ACTOR_BUREAU &&
	    who->channel != WF_CHANNEL_CLI) {
		sqlite3_stmt *s = query(st, "SELECT token FROM review_tokens"
		    " WHERE filing = ? AND round = ? AND used = 0", "si", f.id,
		    f.round);
		int ok = 0;

		if (s == NULL) {
			rc = -1;
			goto out;
		}
		if (sqlite3_step(s) == SQLITE_ROW)
			ok = token_eq(req->review_token, col_str(s, 0));
		sqlite3_reset(s);
		if (!ok) {
			add(mine, ERR_TOKEN_INVALID, "/decision/@token");
			refused = 1;
		}
	}
	if (refused) {
		rc = 1;
		goto out;
	}

	jb_puts(&ap.extra, "");
	if (req->reason != NULL)
		jb_kv(&ap.extra, "reason", req->reason);
	if (req->nissues > 0 || req->to == WF_RETURNED_TO_OWNER ||
	    req->to == WF_RETURNED_TO_PROVIDER) {
		jb_key(&ap.extra, "issues");
		jb_open(&ap.extra, '[');
		for (size_t i = 0; i < req->nissues; i++) {
			jb_open(&ap.extra, '{');
			jb_kv(&ap.extra, "path", req->issues[i].path);
			jb_kv(&ap.extra, "code", req->issues[i].code);
			jb_kv(&ap.extra, "message", req->issues[i].text);
			jb_close(&ap.extra, '}');
		}
		jb_close(&ap.extra, ']');
		if ((rc = errors_replace(st, f.id, NULL, NULL, req->issues,
		    req->nissues)) == -1)
			goto out;
	}
	if (f.state == WF_UNDER_REVIEW && (rc = run(st, "UPDATE review_tokens"
	    " SET used = 1 WHERE filing = ?", "s", f.id)) == -1)
		goto out;
	if (req->to == WF_UNDER_REVIEW) {
		if ((rc = review_round_new(st, &f, now, rtoken)) == -1)
			goto out;
		jb_review_extra(&ap.extra, &f, rtoken);
	}
	if (req->to == WF_APPROVED) {
		if (streq(f.type, "firstFiling"))
			rc = approve_first(st, &f, req->licence, now, mine, &ap);
		else if (streq(f.type, "addSite"))
			rc = approve_add_site(st, &f, req->licence, now, mine, &ap);
		else if (streq(f.type, "cancelSite") ||
		    streq(f.type, "cancelAccess"))
			rc = approve_cancel(st, &f, now, mine, &ap);
		else
			rc = seterr(st, "%s: approval of unknown type", f.id);
		if (rc != 0)
			goto out;
		mx.secret = ap.has_password ? ap.password : NULL;
	}
	mx.extra = ap.extra.s;
	rc = move(st, &f, req->to, who, who->kind, req->reason, &mx, now, mine,
	    &ev);
	if (rc == 0) {
		res->state = f.state;
		res->event = ev;
	}
out:
	sodium_memzero(ap.password, sizeof(ap.password));
	free(ap.extra.s);
	frow_clear(&f);
	return rc;
}

int
store_transition(struct store *st, const struct store_transition_req *req,
    const struct store_actor *who, struct store_result *out)
{
	struct store_result res = { 0 };
	struct errlist *mine = errlist_new();
	time_t now = now_or(who->now);
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, transition_body(st, req, who, now, mine, &res));
	if (rc >= 0) {
		res.errs = out->errs;
		*out = res;
		if (out->errs != NULL)
			errlist_splice(out->errs, mine, NULL);
	}
	errlist_free(mine);
	return rc;
}

int
store_password_check(struct store *st, const char *subject_licence,
    const char *password)
{
	sqlite3_stmt *s;
	int rc = -1;

	s = query(st, "SELECT password_hash FROM subjects WHERE licence = ?",
	    "s", subject_licence);
	if (s == NULL)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW && col_str(s, 0) != NULL &&
	    password != NULL)
		rc = crypto_pwhash_str_verify(col_str(s, 0), password,
		    strlen(password)) == 0 ? 0 : -1;
	sqlite3_reset(s);
	return rc;
}

/* ---- import ------------------------------------------------------------------- */

static int
import_body(struct store *st, const struct store_import_row *row,
    struct errlist *errs)
{
	char subj[STORE_LICENCE_SIZE], site[STORE_LICENCE_SIZE];
	char sbuf[STORE_LICENCE_SIZE];
	struct licence sl, tl, part;
	sqlite3_stmt *s;
	char *cert = NULL, *list, *p, *tok, *save = NULL;
	time_t now = time(NULL);
	int rc, exists = 0, refused = 0;

	if (licence_canon(row->subject_licence, &sl, subj, sizeof(subj)) == -1 ||
	    sl.site != 0) {
		add(errs, ERR_LICENCE_FORMAT, "subject_licence");
		return 1;
	}
	if (licence_canon(row->site_licence, &tl, site, sizeof(site)) == -1 ||
	    tl.site == 0) {
		add(errs, ERR_LICENCE_FORMAT, "site_licence");
		return 1;
	}
	licence_subject(&tl, &part);
	if (licence_format(&part, sbuf, sizeof(sbuf)) < 0 || !streq(sbuf, subj)) {
		add(errs, ERR_LICENCE_FORMAT, "site_licence");
		return 1;
	}
	if (row->cert_number == NULL || row->cert_number[0] == '\0') {
		add(errs, ERR_CERT_NUMBER_INVALID, "cert_number");
		return 1;
	}
	if ((s = query(st, "SELECT cert_number FROM subjects WHERE licence = ?",
	    "s", subj)) == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		exists = 1;
		cert = col_dup(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dberr(st, "import");
	if (exists && !streq(cert, row->cert_number)) {
		add(errs, ERR_LICENCE_CONFLICT, "subject_licence");
		refused = 1;
	}
	free(cert);
	if (!exists) {
		rc = one_int(st, NULL, "SELECT 1 FROM subjects WHERE cert_number = ?",
		    "s", row->cert_number);
		if (rc == -1)
			return -1;
		if (rc == 1) {
			add(errs, ERR_SUBJECT_ALREADY_FILED, "cert_number");
			refused = 1;
		}
	}
	rc = one_int(st, NULL, "SELECT 1 FROM sites WHERE licence = ? OR"
	    " (subject = ? AND n = ?)", "ssi", site, subj, tl.site);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		add(errs, ERR_LICENCE_CONFLICT, "site_licence");
		refused = 1;
	}
	list = xstrdup(row->domains ? row->domains : "");
	for (p = list; (tok = strtok_r(p, " \t", &save)) != NULL; p = NULL) {
		char *d = domain_norm(tok);

		rc = one_int(st, NULL, "SELECT 1 FROM site_domains sd"
		    " JOIN sites s ON s.licence = sd.site"
		    " JOIN subjects j ON j.licence = s.subject"
		    " WHERE sd.domain = ? AND s.state = 'active'"
		    " AND j.cert_number <> ?", "ss", d, row->cert_number);
		free(d);
		if (rc == -1) {
			free(list);
			return -1;
		}
		if (rc == 1) {
			add(errs, ERR_DOMAIN_CONFLICT, "domains");
			refused = 1;
		}
	}
	free(list);
	if (refused)
		return 1;

	if (!exists && (run(st, "INSERT INTO subjects(licence, province,"
	    " cert_number, name, cert_type, owner_email, created)"
	    " VALUES(?, ?, ?, ?, ?, ?, ?)", "ssssssI", subj, sl.province,
	    row->cert_number, row->sponsor_name, row->cert_type,
	    row->owner_email, (int64_t)now) == -1 ||
	    run(st, "INSERT OR IGNORE INTO issued_numbers(province, year, serial,"
	    " old_form, licence, origin, at) VALUES(?, ?, ?, ?, ?, 'import', ?)",
	    "siIisI", sl.province, sl.year, (int64_t)sl.serial, sl.old_form,
	    subj, (int64_t)now) == -1))
		return -1;
	if (run(st, "INSERT INTO sites(licence, subject, n, state, created,"
	    " updated) VALUES(?, ?, ?, 'active', ?, ?)", "ssiII", site, subj,
	    tl.site, (int64_t)now, (int64_t)now) == -1 ||
	    run(st, "UPDATE subjects SET site_count = max(site_count, ?)"
	    " WHERE licence = ?", "is", tl.site, subj) == -1)
		return -1;
	list = xstrdup(row->domains ? row->domains : "");
	save = NULL;
	rc = 0;
	for (p = list; rc == 0 && (tok = strtok_r(p, " \t", &save)) != NULL;
	    p = NULL) {
		char *d = domain_norm(tok);

		rc = run(st, "INSERT OR IGNORE INTO site_domains(site, domain)"
		    " VALUES(?, ?)", "ss", site, d) == -1 ? -1 : 0;
		free(d);
	}
	free(list);
	list = xstrdup(row->providers ? row->providers : "");
	save = NULL;
	for (p = list; rc == 0 && (tok = strtok_r(p, " \t", &save)) != NULL;
	    p = NULL)
		rc = run(st, "INSERT OR IGNORE INTO site_access(site, provider)"
		    " VALUES(?, ?)", "ss", site, tok) == -1 ? -1 : 0;
	free(list);
	return rc;
}

int
store_subject_import(struct store *st, const struct store_import_row *row,
    struct errlist *errs)
{
	struct errlist *mine = errlist_new();
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, import_body(st, row, mine));
	if (rc >= 0 && errs != NULL)
		errlist_splice(errs, mine, NULL);
	errlist_free(mine);
	return rc;
}

/* ---- attachments ------------------------------------------------------------ */

static void
hex(const unsigned char *d, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 15];
	}
	out[2 * n] = '\0';
}

int
store_attachment_path(const struct store *st, const char *sha256_hex,
    char *buf, size_t size)
{
	return blob_path(st->state_dir, sha256_hex, buf, size);
}

/*
 * Write the blob unless it is there already.  In a group, one sync
 * before the commit makes every blob of the group durable at once
 * (store_commit); alone, each is synced.
 */
static int
blob_write(struct store *st, const char *sha, const void *bytes, size_t len)
{
	char err[512];

	if (blob_put(st->state_dir, sha, bytes, len, st->in_group ?
	    BLOB_NOSYNC : 0, NULL, err, sizeof(err)) == -1)
		return seterr(st, "%s", err);
	/* there already or new, maybe not yet durable (a rolled-back group,
	 * a crash before its sync): synced with this group */
	if (st->in_group)
		st->blobs_unsynced = 1;
	return 0;
}

static int
attachment_body(struct store *st, const char *id, const char *kind,
    const char *sha, size_t len, const struct store_entry *entries,
    size_t nentries, time_t now)
{
	unsigned char d[SHA256_LEN];
	char eh[65];

	if (run(st, "INSERT OR IGNORE INTO attachments(sha256, size, created)"
	    " VALUES(?, ?, ?)", "sII", sha, (int64_t)len, (int64_t)now) == -1)
		return -1;
	for (size_t i = 0; i < nentries; i++) {
		if (entries[i].sha256 != NULL)
			memcpy(d, entries[i].sha256, sizeof(d));
		else
			sha256(entries[i].data, entries[i].size, d);
		hex(d, sizeof(d), eh);
		if (run(st, "INSERT OR IGNORE INTO attachment_entries(sha256, idx,"
		    " name, entry_sha256, size) VALUES(?, ?, ?, ?, ?)", "sissI",
		    sha, (int)i, entries[i].name, eh,
		    (int64_t)entries[i].size) == -1)
			return -1;
	}
	if (run(st, "INSERT INTO filing_attachments(filing, kind, sha256, at)"
	    " VALUES(?, ?, ?, ?)", "sssI", id, kind, sha, (int64_t)now) == -1)
		return -1;
	return 0;
}

int
store_attachment_put(struct store *st, const char *id, const char *kind,
    const struct store_blob *blob, const struct store_entry *entries,
    size_t nentries, char sha256_hex[65])
{
	unsigned char d[SHA256_LEN];
	char sha[65];
	int rc;

	if (blob->sha256 != NULL)
		memcpy(d, blob->sha256, sizeof(d));
	else
		sha256(blob->bytes, blob->len, d);
	hex(d, sizeof(d), sha);
	/* the file first: a row never names a blob that is not on disk */
	if (!blob->written && blob_write(st, sha, blob->bytes, blob->len) == -1)
		return -1;
	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, attachment_body(st, id, kind, sha, blob->len,
		    entries, nentries, time(NULL)));
	if (rc == 0)
		memcpy(sha256_hex, sha, sizeof(sha));
	return rc;
}

int
store_blob_drop(struct store *st, const unsigned char sha256[SHA256_LEN])
{
	char sha[65], path[4096];
	int rc;

	hex(sha256, SHA256_LEN, sha);
	rc = one_int(st, NULL, "SELECT 1 FROM attachment_entries WHERE"
	    " sha256 = ?1 UNION ALL SELECT 1 FROM filing_attachments WHERE"
	    " sha256 = ?1 LIMIT 1", "s", sha);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	if (store_attachment_path(st, sha, path, sizeof(path)) == -1)
		return seterr(st, "attachments: no state_dir, or path too long");
	if (unlink(path) == -1 && errno != ENOENT)
		return seterr(st, "%s: %s", path, strerror(errno));
	return 0;
}

int
store_attachment_latest(struct store *st, const char *id, const char *kind,
    char sha256_hex[65])
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT sha256 FROM filing_attachments WHERE filing = ?"
	    " AND kind = ? ORDER BY id DESC LIMIT 1", "ss", id, kind);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		strlcpy(sha256_hex, col_str(s, 0), 65);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = 1;
	else
		rc = dberr(st, "attachment");
	sqlite3_reset(s);
	return rc;
}

/* ---- outbox ------------------------------------------------------------------ */

#define MAIL_COLUMNS "id, filing, event, template, role, rcpt, params," \
	" message_id, state, attempts, last_reply, next_try, created, secret"

static struct store_mail
mail_row(sqlite3_stmt *s)
{
	struct store_mail m;

	memset(&m, 0, sizeof(m));
	m.id = sqlite3_column_int64(s, 0);
	m.filing = col_dup(s, 1);
	m.event = sqlite3_column_int64(s, 2);
	if (workflow_template_parse(col_str(s, 3), &m.tpl) == -1)
		m.tpl = WF_TPL_HELP;
	m.role = col_dup(s, 4);
	m.to = col_dup(s, 5);
	m.params = col_dup(s, 6);
	m.message_id = col_dup(s, 7);
	m.state = col_dup(s, 8);
	m.attempts = sqlite3_column_int(s, 9);
	m.last_reply = col_dup(s, 10);
	m.next_try = (time_t)sqlite3_column_int64(s, 11);
	m.created = (time_t)sqlite3_column_int64(s, 12);
	m.secret = col_dup(s, 13);
	return m;
}

static void
mail_clear(struct store_mail *m)
{
	free(m->filing);
	free(m->role);
	free(m->to);
	free(m->params);
	free(m->message_id);
	free(m->state);
	free(m->last_reply);
	if (m->secret != NULL) {
		sodium_memzero(m->secret, strlen(m->secret));
		free(m->secret);
	}
}

void
store_mail_free(struct store_mail *m)
{
	if (m == NULL)
		return;
	mail_clear(m);
	free(m);
}

void
store_mails_free(struct store_mail *m, size_t n)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		mail_clear(&m[i]);
	free(m);
}

int
store_outbox_due(struct store *st, time_t now, size_t max,
    struct store_mail **out, size_t *n)
{
	struct store_mail *v = NULL;
	size_t cap = 0, k = 0;
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT " MAIL_COLUMNS " FROM outbox WHERE"
	    " (state = 'queued' OR state = 'deferred') AND next_try <= ?"
	    " AND id <= ? ORDER BY next_try, id LIMIT ?", "III", (int64_t)now,
	    st->horizon > 0 ? st->horizon : INT64_MAX,
	    (int64_t)(max > INT64_MAX ? INT64_MAX : max));
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		xgrow(&v, &cap, k, sizeof(*v));
		v[k++] = mail_row(s);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_mails_free(v, k);
		return dberr(st, "outbox");
	}
	*out = v;
	*n = k;
	return 0;
}

/* One guarded update of a mail as its own operation: 0, 1 refused, -1. */
static int
mail_update(struct store *st, int rc)
{
	if (rc == -1)
		return -1;
	return rc == 0 ? 1 : 0;
}

int
store_outbox_mark_sending(struct store *st, int64_t id)
{
	return mail_update(st, run(st, "UPDATE outbox SET state = 'sending',"
	    " attempts = attempts + 1 WHERE id = ? AND state IN"
	    " ('queued','deferred')", "I", id));
}

int
store_outbox_mark_sent(struct store *st, int64_t id, const char *reply)
{
	int rc;

	rc = mail_update(st, run(st, "UPDATE outbox SET state = 'sent',"
	    " last_reply = ?, secret = NULL WHERE id = ? AND state = 'sending'",
	    "sI", reply, id));
	/* the old page images holding the secret sit in the WAL until a
	 * checkpoint; outside a group, fold it back and truncate it */
	if (rc == 0 && !st->in_group)
		sqlite3_wal_checkpoint_v2(st->db, NULL,
		    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return rc;
}

int
store_outbox_mark_deferred(struct store *st, int64_t id, time_t next_try,
    const char *reply)
{
	return mail_update(st, run(st, "UPDATE outbox SET state = 'deferred',"
	    " next_try = ?, last_reply = ? WHERE id = ? AND state = 'sending'",
	    "IsI", (int64_t)next_try, reply, id));
}

int
store_outbox_mark_failed(struct store *st, int64_t id, const char *reply)
{
	return mail_update(st, run(st, "UPDATE outbox SET state = 'failed',"
	    " last_reply = ? WHERE id = ? AND state = 'sending'", "sI", reply,
	    id));
}

int
store_outbox_retry(struct store *st, int64_t id)
{
	return mail_update(st, run(st, "UPDATE outbox SET state = 'queued',"
	    " next_try = ? WHERE id = ? AND state IN ('failed','deferred')"
	    " AND rcpt <> ''", "II", (int64_t)time(NULL), id));
}

int
store_outbox_recover(struct store *st)
{
	return run(st, "UPDATE outbox SET state = 'queued' WHERE state ="
	    " 'sending'", "");
}

int
store_outbox_list(struct store *st, int failed_only,
    int (*cb)(const struct store_mail *, void *), void *arg)
{
	sqlite3_stmt *s;
	int rc;

	s = failed_only ?
	    query(st, "SELECT " MAIL_COLUMNS " FROM outbox WHERE state ="
	    " 'failed' ORDER BY id", "") :
	    query(st, "SELECT " MAIL_COLUMNS " FROM outbox WHERE state <>"
	    " 'sent' ORDER BY id", "");
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_mail m = mail_row(s);
		int stop = cb(&m, arg);

		mail_clear(&m);
		if (stop) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : dberr(st, "outbox");
}

int
store_outbox_get(struct store *st, int64_t id, struct store_mail **out)
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT " MAIL_COLUMNS " FROM outbox WHERE id = ?", "I",
	    id);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*out = xmalloc(sizeof(**out));
		**out = mail_row(s);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = 1;
	else
		rc = dberr(st, "outbox");
	sqlite3_reset(s);
	return rc;
}

static int
loose_body(struct store *st, enum wf_template tpl, const char *ref,
    const char *params, const struct store_actor *who, time_t now,
    int64_t *mail_id)
{
	enum wf_role role;
	const char *rcpt;
	int64_t ev;

	if (workflow_submitter_role(who->channel, &role) == -1)
		return seterr(st, "a mail about no filing needs a spool or mail"
		    " channel");
	rcpt = rcpt_resolve(st, role, tpl, NULL, who->provider, NULL, who);
	if (event_add(st, NULL, who, who->kind, WF_NONE, WF_NONE,
	    workflow_template_name(tpl), now, &ev) == -1 ||
	    outbox_add(st, NULL, ref, ev, tpl, role, rcpt,
	    params ? params : "{}", NULL, now) == -1)
		return -1;
	*mail_id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_mail_loose(struct store *st, enum wf_template tpl, const char *ref,
    const char *params, const struct store_actor *who, int64_t *mail_id)
{
	int64_t id = 0;
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, loose_body(st, tpl, ref, params, who,
		    now_or(who->now), &id));
	if (rc == 0 && mail_id != NULL)
		*mail_id = id;
	return rc;
}

/* ---- ingests ------------------------------------------------------------------- */

int
store_ingest_lookup(struct store *st, const char *source,
    const char *sha256_hex, struct store_ingest *out)
{
	sqlite3_stmt *s;
	char filing[STORE_ID_SIZE] = "";
	enum wf_state state = WF_NONE;
	int rc;

	s = query(st, "SELECT filing, state, final FROM ingests WHERE"
	    " source = ? AND sha256 = ?", "ss", source, sha256_hex);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (col_str(s, 0) != NULL)
			strlcpy(filing, col_str(s, 0), sizeof(filing));
		if (col_str(s, 1) == NULL ||
		    workflow_state_parse(col_str(s, 1), &state) == -1)
			state = WF_NONE;
		rc = sqlite3_column_int(s, 2) ? 0 : 1;
	} else if (rc == SQLITE_DONE)
		rc = 1;
	else
		rc = dberr(st, "ingest");
	sqlite3_reset(s);
	if (rc != 0)
		return rc;

	s = query(st, "SELECT code, path, message FROM ingest_findings WHERE"
	    " source = ? AND sha256 = ? ORDER BY idx", "ss", source, sha256_hex);
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		enum err_code code;

		if (out->errs != NULL &&
		    err_code_parse(col_str(s, 0), &code) == 0)
			errlist_add(out->errs, code, col_str(s, 1), "%s",
			    col_str(s, 2));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return dberr(st, "ingest findings");
	strlcpy(out->filing, filing, sizeof(out->filing));
	out->state = state;
	out->final = 1;
	return 0;
}

static int
ingest_body(struct store *st, const char *source, const char *sha,
    const char *filing, enum wf_state state, int final,
    const struct errlist *errs)
{
	if (run(st, "DELETE FROM ingest_findings WHERE source = ? AND"
	    " sha256 = ?", "ss", source, sha) == -1 ||
	    run(st, "INSERT INTO ingests(source, sha256, filing, state, final, at)"
	    " VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(source, sha256) DO UPDATE SET"
	    " filing = excluded.filing, state = excluded.state,"
	    " final = excluded.final, at = excluded.at", "ssssiI", source, sha,
	    filing != NULL && filing[0] != '\0' ? filing : NULL,
	    workflow_state_name(state), final ? 1 : 0,
	    (int64_t)time(NULL)) == -1)
		return -1;
	for (size_t i = 0; errs != NULL && i < errlist_count(errs); i++) {
		const struct err_item *e = errlist_get(errs, i);

		if (run(st, "INSERT INTO ingest_findings(source, sha256, idx, code,"
		    " path, message) VALUES(?, ?, ?, ?, ?, ?)", "ssisss", source,
		    sha, (int)i, err_code_name(e->code), e->path,
		    e->message) == -1)
			return -1;
	}
	return 0;
}

int
store_ingest_record(struct store *st, const char *source,
    const char *sha256_hex, const char *filing, enum wf_state state,
    int final, const struct errlist *errs)
{
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, ingest_body(st, source, sha256_hex, filing,
		    state, final, errs));
	return rc;
}

/* ---- queries ---------------------------------------------------------------------- */

#define INFO_COLUMNS "id, state, type, mode, province, provider, owner," \
	" created, updated"

static void
info_row(sqlite3_stmt *s, struct store_filing_info *i)
{
	i->id = col_dup(s, 0);
	i->state = col_dup(s, 1);
	i->type = col_dup(s, 2);
	i->mode = col_dup(s, 3);
	i->province = col_dup(s, 4);
	i->provider = col_dup(s, 5);
	i->owner = col_dup(s, 6);
	i->created = (time_t)sqlite3_column_int64(s, 7);
	i->updated = (time_t)sqlite3_column_int64(s, 8);
}

static void
info_clear(struct store_filing_info *i)
{
	free(i->id);
	free(i->state);
	free(i->type);
	free(i->mode);
	free(i->province);
	free(i->provider);
	free(i->owner);
}

int
store_filing_list(struct store *st, const char *state,
    int (*cb)(const struct store_filing_info *, void *), void *arg)
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT " INFO_COLUMNS " FROM filings WHERE ?1 IS NULL"
	    " OR state = ?1 ORDER BY year, seq", "s", state);
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_filing_info i;
		int stop;

		info_row(s, &i);
		stop = cb(&i, arg);
		info_clear(&i);
		if (stop) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : dberr(st, "list");
}

void
store_filing_detail_free(struct store_filing_detail *d)
{
	if (d == NULL)
		return;
	info_clear(&d->info);
	free(d->sponsor_name);
	free(d->sponsor_nature);
	free(d->sponsor_cert_type);
	free(d->sponsor_cert_number);
	free(d->subject_licence);
	free(d->site_licence);
	free(d->xml);
	for (size_t i = 0; i < d->nwebsites; i++) {
		free(d->websites[i].name);
		free(d->websites[i].domains);
		free(d->websites[i].site_licence);
	}
	free(d->websites);
	for (size_t i = 0; i < d->nerrors; i++) {
		free(d->errors[i].path);
		free(d->errors[i].code);
		free(d->errors[i].message);
	}
	free(d->errors);
	for (size_t i = 0; i < d->nevents; i++) {
		free(d->events[i].actor);
		free(d->events[i].actor_kind);
		free(d->events[i].channel);
		free(d->events[i].from);
		free(d->events[i].to);
		free(d->events[i].reason);
		free(d->events[i].source);
	}
	free(d->events);
	free(d);
}

static int
show_body(struct store *st, const char *id, struct store_filing_detail *d)
{
	sqlite3_stmt *s;
	size_t cap;
	int rc;

	s = query(st, "SELECT " INFO_COLUMNS ", sponsor_name, sponsor_nature,"
	    " sponsor_cert_type, subject_cert, subject_licence, site_licence, xml"
	    " FROM filings WHERE id = ?", "s", id);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		info_row(s, &d->info);
		d->sponsor_name = col_dup(s, 9);
		d->sponsor_nature = col_dup(s, 10);
		d->sponsor_cert_type = col_dup(s, 11);
		d->sponsor_cert_number = col_dup(s, 12);
		d->subject_licence = col_dup(s, 13);
		d->site_licence = col_dup(s, 14);
		d->xml = col_dup(s, 15);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 1;
	if (rc != SQLITE_ROW)
		return dberr(st, "show");

	cap = 0;
	s = query(st, "SELECT name, domains, site_licence FROM filing_websites"
	    " WHERE filing = ? ORDER BY idx", "s", id);
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		xgrow(&d->websites, &cap, d->nwebsites, sizeof(*d->websites));
		d->websites[d->nwebsites].name = col_dup(s, 0);
		d->websites[d->nwebsites].domains = col_dup(s, 1);
		d->websites[d->nwebsites].site_licence = col_dup(s, 2);
		d->nwebsites++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return dberr(st, "show websites");

	cap = 0;
	s = query(st, "SELECT path, code, message FROM filing_errors"
	    " WHERE filing = ? ORDER BY idx", "s", id);
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		xgrow(&d->errors, &cap, d->nerrors, sizeof(*d->errors));
		d->errors[d->nerrors].path = col_dup(s, 0);
		d->errors[d->nerrors].code = col_dup(s, 1);
		d->errors[d->nerrors].message = col_dup(s, 2);
		d->nerrors++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return dberr(st, "show errors");

	cap = 0;
	s = query(st, "SELECT id, at, actor, actor_kind, channel, from_state,"
	    " to_state, reason, source FROM events WHERE filing = ? ORDER BY id",
	    "s", id);
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_event *e;

		xgrow(&d->events, &cap, d->nevents, sizeof(*d->events));
		e = &d->events[d->nevents++];
		e->id = sqlite3_column_int64(s, 0);
		e->at = (time_t)sqlite3_column_int64(s, 1);
		e->actor = col_dup(s, 2);
		e->actor_kind = col_dup(s, 3);
		e->channel = col_dup(s, 4);
		e->from = col_dup(s, 5);
		e->to = col_dup(s, 6);
		e->reason = col_dup(s, 7);
		e->source = col_dup(s, 8);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return dberr(st, "show events");
	return 0;
}

int
store_filing_show(struct store *st, const char *id,
    struct store_filing_detail **out)
{
	struct store_filing_detail *d = xcalloc(1, sizeof(*d));
	int rc;

	/* one read transaction: the parts agree with each other */
	if (!st->in_group && run(st, "BEGIN", "") == -1) {
		store_filing_detail_free(d);
		return -1;
	}
	rc = show_body(st, id, d);
	if (!st->in_group)
		run(st, "COMMIT", "");
	if (rc != 0) {
		store_filing_detail_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

int
store_filing_state(struct store *st, const char *id, enum wf_state *state)
{
	struct frow f;
	int rc;

	if ((rc = frow_load(st, id, &f)) == 0)
		*state = f.state;
	frow_clear(&f);
	return rc;
}

int
store_filing_owner(struct store *st, const char *id, char **owner,
    char token[STORE_TOKEN_LEN + 1])
{
	struct frow f;
	int rc;

	if ((rc = frow_load(st, id, &f)) == 0) {
		*owner = f.owner ? xstrdup(f.owner) : NULL;
		strlcpy(token, f.token ? f.token : "", STORE_TOKEN_LEN + 1);
	}
	frow_clear(&f);
	return rc;
}

static int
counts_of(struct store *st, sqlite3_stmt *s, const char *kind,
    int (*cb)(const char *, const char *, long, void *), void *arg)
{
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (cb(kind, col_str(s, 0), (long)sqlite3_column_int64(s, 1), arg))
			break;
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : dberr(st, "counts");
}

int
store_counts(struct store *st,
    int (*cb)(const char *kind, const char *name, long count, void *),
    void *arg)
{
	int64_t q = 0;

	if (counts_of(st, query(st, "SELECT state, count(*) FROM filings"
	    " GROUP BY state ORDER BY state", ""), "filings", cb, arg) == -1 ||
	    counts_of(st, query(st, "SELECT state, count(*) FROM outbox"
	    " GROUP BY state ORDER BY state", ""), "outbox", cb, arg) == -1 ||
	    one_int(st, &q, "SELECT count(*) FROM quarantine", "") == -1)
		return -1;
	cb("quarantine", NULL, (long)q, arg);
	return 0;
}

/* ---- small state ---------------------------------------------------------------- */

static int
single(struct store *st, int rc)
{
	return rc == -1 ? -1 : 0;
}

int
store_quarantine_add(struct store *st, const char *item, const char *source,
    const char *reason, time_t at)
{
	return single(st, run(st, "INSERT INTO quarantine(item, source, at,"
	    " reason) VALUES(?, ?, ?, ?) ON CONFLICT(item) DO UPDATE SET"
	    " source = excluded.source, at = excluded.at,"
	    " reason = excluded.reason", "ssIs", item, source,
	    (int64_t)now_or(at), reason));
}

int
store_quarantine_remove(struct store *st, const char *item)
{
	return mail_update(st, run(st, "DELETE FROM quarantine WHERE item = ?",
	    "s", item));
}

int
store_quarantine_list(struct store *st,
    int (*cb)(const char *, const char *, time_t, const char *, void *),
    void *arg)
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT item, source, at, reason FROM quarantine"
	    " ORDER BY at, item", "");
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (cb(col_str(s, 0), col_str(s, 1),
		    (time_t)sqlite3_column_int64(s, 2), col_str(s, 3), arg)) {
			rc = SQLITE_DONE;
			break;
		}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : dberr(st, "quarantine");
}

static int
error_body(struct store *st, const char *source, const char *code,
    const char *message, time_t at)
{
	if (run(st, "INSERT INTO recent_errors(at, source, code, message)"
	    " VALUES(?, ?, ?, ?)", "Isss", (int64_t)at, source, code,
	    message) == -1 ||
	    run(st, "DELETE FROM recent_errors WHERE id <= (SELECT max(id)"
	    " FROM recent_errors) - ?", "i", RECENT_ERRORS_KEEP) == -1)
		return -1;
	return 0;
}

int
store_error_add(struct store *st, const char *source, const char *code,
    const char *message, time_t at)
{
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, error_body(st, source, code, message,
		    now_or(at)));
	return rc;
}

int
store_errors_recent(struct store *st, size_t max,
    int (*cb)(time_t, const char *, const char *, const char *, void *),
    void *arg)
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT at, source, code, message FROM recent_errors"
	    " ORDER BY id DESC LIMIT ?", "I",
	    (int64_t)(max > INT64_MAX ? INT64_MAX : max));
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (cb((time_t)sqlite3_column_int64(s, 0), col_str(s, 1),
		    col_str(s, 2), col_str(s, 3), arg)) {
			rc = SQLITE_DONE;
			break;
		}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : dberr(st, "recent errors");
}

int
store_imap_get(struct store *st, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid)
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT uidvalidity, last_uid FROM imap_state"
	    " WHERE mailbox = ?", "s", mailbox);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*uidvalidity = (uint32_t)sqlite3_column_int64(s, 0);
		*last_uid = (uint32_t)sqlite3_column_int64(s, 1);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = 1;
	else
		rc = dberr(st, "imap");
	sqlite3_reset(s);
	return rc;
}

int
store_imap_set(struct store *st, const char *mailbox, uint32_t uidvalidity,
    uint32_t last_uid)
{
	return single(st, run(st, "INSERT INTO imap_state(mailbox, uidvalidity,"
	    " last_uid) VALUES(?, ?, ?) ON CONFLICT(mailbox) DO UPDATE SET"
	    " uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid",
	    "sII", mailbox, (int64_t)uidvalidity, (int64_t)last_uid));
}

static int
reply_body(struct store *st, const char *address, time_t now,
    unsigned long cap)
{
	char day[11];
	int64_t n = 0;
	char *a = domain_norm(address); /* lower-cased: one count per address */
	int rc;

	cst_day(now, day);
	rc = one_int(st, &n, "SELECT count FROM reply_counts WHERE address = ?"
	    " AND day = ?", "ss", a, day);
	if (rc != -1 && (uint64_t)n >= (uint64_t)cap)
		rc = 1;
	else if (rc != -1)
		rc = run(st, "INSERT INTO reply_counts(address, day, count)"
		    " VALUES(?, ?, 1) ON CONFLICT(address, day) DO UPDATE SET"
		    " count = count + 1", "ss", a, day) == -1 ? -1 : 0;
	if (rc != -1 && run(st, "DELETE FROM reply_counts WHERE day < ?", "s",
	    day) == -1)
		rc = -1;
	free(a);
	return rc;
}

int
store_reply_take(struct store *st, const char *address, time_t now,
    unsigned long cap)
{
	int rc;

	if ((rc = op_begin(st)) != 0)
		return rc;
	rc = reply_body(st, address, now_or(now), cap);
	/* 1 (cap reached) changed nothing but is no failure: keep the cleanup */
	if (op_end(st, rc != -1) == -1)
		return -1;
	return rc;
}

/* ---- beianctl: backup and password reset ------------------------------------ */

int
store_backup(struct store *st, const char *path)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	char *tmp;
	int fd, rc;

	tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	unlink(tmp);
	/* our own 0600 file first: SQLite would create it 0644 minus umask */
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		seterr(st, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	close(fd);
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		seterr(st, "%s: %s", tmp, dst ? sqlite3_errmsg(dst) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(dst, BUSY_TIMEOUT_MS);
	if ((b = sqlite3_backup_init(dst, "main", st->db, "main")) == NULL) {
		seterr(st, "backup: %s", sqlite3_errmsg(dst));
		goto fail;
	}
	/* all pages in one step: the copy is one consistent snapshot; a
	 * writer holding the lock makes it wait and try again */
	do {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(50);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		seterr(st, "backup: %s", sqlite3_errstr(rc));
		goto fail;
	}
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL,
	    NULL) != SQLITE_OK) {
		seterr(st, "backup: %s", sqlite3_errmsg(dst));
		goto fail;
	}
	if (sqlite3_close(dst) != SQLITE_OK) {
		dst = NULL;
		seterr(st, "backup: close failed");
		goto fail;
	}
	dst = NULL;
	/* the data is synced by SQLite's commit; make the name durable too */
	if ((fd = open(tmp, O_RDONLY | O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
	if (rename(tmp, path) == -1) {
		seterr(st, "%s: %s", path, strerror(errno));
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	if (dst != NULL)
		sqlite3_close(dst);
	unlink(tmp);
	free(tmp);
	return -1;
}

static int
pwreset_body(struct store *st, const char *subj, const struct store_actor *who,
    time_t now, struct errlist *errs, int64_t *mail_id)
{
	char password[STORE_PASSWORD_LEN + 1], ref[20], reason[128];
	char hash[crypto_pwhash_STRBYTES];
	unsigned char d[SHA256_LEN];
	char dh[65];
	struct jbuf j = { 0 };
	sqlite3_stmt *s;
	char *owner = NULL, *name = NULL;
	int64_t ev;
	int rc;

	if ((s = query(st, "SELECT owner_email, name FROM subjects"
	    " WHERE licence = ?", "s", subj)) == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		owner = col_dup(s, 0);
		name = col_dup(s, 1);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE) {
		add(errs, ERR_LICENCE_UNKNOWN, "/");
		return 1;
	}
	if (rc != SQLITE_ROW)
		return dberr(st, "password reset");
	rc = 1;
	if (owner == NULL || owner[0] == '\0') {
		errlist_add(errs, ERR_EMAIL_INVALID, "owner_email",
		    "没有登记的负责人邮箱 / no owner address on record");
		goto out;
	}

	store_random_token(password, STORE_PASSWORD_LEN);
	rc = -1;
	if (crypto_pwhash_str_alg(hash, password, STORE_PASSWORD_LEN,
	    st->opslimit, st->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		seterr(st, "password hash: out of memory");
		goto out;
	}
	if (run(st, "UPDATE subjects SET password_hash = ?, pw_fail_day = NULL,"
	    " pw_fail_count = 0 WHERE licence = ?", "ss", hash, subj) != 1)
		goto out;
	snprintf(reason, sizeof(reason), "password reset %s", subj);
	if (event_add(st, NULL, who, who->kind, WF_NONE, WF_NONE, reason, now,
	    &ev) == -1)
		goto out;
	sha256(subj, strlen(subj), d);
	hex(d, sizeof(d), dh);
	snprintf(ref, sizeof(ref), "pw%.16s", dh);
	jb_open(&j, '{');
	jb_kv(&j, "template", workflow_template_name(WF_TPL_PASSWORD_RESET));
	jb_kv(&j, "role", workflow_role_name(WF_ROLE_OWNER));
	jb_kv(&j, "subject_licence", subj);
	jb_kv(&j, "sponsor_name", name);
	jb_kv(&j, "actor_kind", workflow_actor_name(who->kind));
	jb_kv(&j, "actor", who->name);
	jb_close(&j, '}');
	if (outbox_add(st, NULL, ref, ev, WF_TPL_PASSWORD_RESET, WF_ROLE_OWNER,
	    owner, j.s, password, now) == -1)
		goto out;
	*mail_id = sqlite3_last_insert_rowid(st->db);
	rc = 0;
out:
	sodium_memzero(password, sizeof(password));
	sodium_memzero(hash, sizeof(hash));
	free(j.s);
	free(owner);
	free(name);
	return rc;
}

int
store_password_reset(struct store *st, const char *subject_licence,
    const struct store_actor *who, struct errlist *errs, int64_t *mail_id)
{
	char subj[STORE_LICENCE_SIZE];
	struct errlist *mine;
	struct licence l;
	int64_t id = 0;
	int rc;

	if (licence_canon(subject_licence, &l, subj, sizeof(subj)) == -1 ||
	    l.site != 0) {
		if (errs != NULL)
			add(errs, ERR_LICENCE_UNKNOWN, "/");
		return 1;
	}
	mine = errlist_new();
	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, pwreset_body(st, subj, who, now_or(who->now),
		    mine, &id));
	if (rc >= 0 && errs != NULL)
		errlist_splice(errs, mine, NULL);
	errlist_free(mine);
	if (rc == 0 && mail_id != NULL)
		*mail_id = id;
	return rc;
}

/* ---- spool uploads ------------------------------------------------------ */

int
store_upload_record(struct store *st, const char *key, const char *source,
    const char *sha256_hex, time_t received, const char *receipt,
    int quarantined)
{
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, run(st, "INSERT OR REPLACE INTO uploads(key,"
		    " source, sha256, received, receipt, quarantined)"
		    " VALUES(?, ?, ?, ?, ?, ?)", "sssIsi", key, source,
		    sha256_hex, (int64_t)received, receipt, quarantined) == -1 ?
		    -1 : 0);
	return rc;
}

int
store_upload_get(struct store *st, const char *key, char **receipt,
    int *quarantined)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = query(st, "SELECT receipt, quarantined FROM uploads"
	    " WHERE key = ?", "s", key)) == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*receipt = col_dup(s, 0);
		*quarantined = sqlite3_column_int(s, 1);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = 1;
	else
		rc = dberr(st, "step");
	sqlite3_reset(s);
	return rc;
}

int
store_upload_first(struct store *st, const char *source,
    const char *sha256_hex, time_t *received)
{
	int64_t v;
	int rc;

	rc = one_int(st, &v, "SELECT received FROM uploads WHERE source = ?"
	    " AND sha256 = ? ORDER BY received LIMIT 1", "ss", source,
	    sha256_hex);
	if (rc == 1)
		*received = (time_t)v;
	return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

/* ---- mailer queries (daemon/mailer.c) ------------------------------------ */

/* One text column of the first row: 0 and *out (malloc'd), 1 none, -1. */
static int
one_text(struct store *st, sqlite3_stmt *s, const char *what, char **out)
{
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*out = col_dup(s, 0);
		rc = 0;
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = 1;
	else
		rc = dberr(st, what);
	sqlite3_reset(s);
	return rc;
}

int
store_outbox_thread_root(struct store *st, const char *id, const char *role,
    char **message_id)
{
	return one_text(st, query(st, "SELECT message_id FROM outbox"
	    " WHERE filing = ? AND role = ? ORDER BY id LIMIT 1", "ss", id,
	    role), "outbox", message_id);
}

/* A time the literal sql selects among the outbox rows up to the horizon
 * (its one parameter): 0 and *out, 1 no row, -1 error. */
static int
one_time(struct store *st, const char *sql, time_t *out)
{
	int64_t v;
	int rc = one_int(st, &v, sql, "I", st->horizon > 0 ? st->horizon :
	    INT64_MAX);

	if (rc == 1)
		*out = (time_t)v;
	return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

int
store_outbox_next_due(struct store *st, time_t *when)
{
	return one_time(st, "SELECT next_try FROM outbox WHERE state IN"
	    " ('queued','deferred') AND id <= ? ORDER BY next_try LIMIT 1",
	    when);
}

void
store_outbox_horizon(struct store *st, int64_t id)
{
	st->horizon = id;
}

int
store_outbox_last(struct store *st, int64_t *id)
{
	sqlite3_stmt *s = query(st, "SELECT ifnull(max(id), 0) FROM outbox", "");
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : dberr(st, "outbox");
}

int
store_attachment_name(struct store *st, const char *sha256_hex, char **name)
{
	return one_text(st, query(st, "SELECT name FROM attachment_entries"
	    " WHERE sha256 = ? ORDER BY idx LIMIT 1", "s", sha256_hex),
	    "attachment", name);
}

/* ---- metrics (daemon/metrics.c) ------------------------------------------ */

int
store_outbox_oldest_deferred(struct store *st, time_t *created)
{
	return one_time(st, "SELECT created FROM outbox WHERE state ="
	    " 'deferred' AND id <= ? ORDER BY created LIMIT 1", created);
}

/* ---- intake mail (daemon/intake.c) ------------------------------------- */

int
store_mail_seen_add(struct store *st, const char *mailbox,
    uint32_t uidvalidity, uint32_t uid, const char *message_id,
    const char *sha256_hex, int stays, time_t at)
{
	return single(st, run(st, "INSERT INTO mail_seen(mailbox, uidvalidity,"
	    " uid, message_id, sha256, stays, at) VALUES(?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT(mailbox, uidvalidity, uid) DO NOTHING", "sIIssiI",
	    mailbox, (int64_t)uidvalidity, (int64_t)uid,
	    message_id ? message_id : "", sha256_hex, stays ? 1 : 0,
	    (int64_t)now_or(at)));
}

int
store_mail_seen_uid(struct store *st, const char *mailbox,
    uint32_t uidvalidity, uint32_t uid, int *stays)
{
	int64_t v = 0;
	int rc;

	rc = one_int(st, &v, "SELECT stays FROM mail_seen WHERE mailbox = ?"
	    " AND uidvalidity = ? AND uid = ?", "sII", mailbox,
	    (int64_t)uidvalidity, (int64_t)uid);
	if (rc == 1 && stays != NULL)
		*stays = v != 0;
	return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

int
store_mail_seen_content(struct store *st, const char *message_id,
    const char *sha256_hex)
{
	int rc;

	rc = one_int(st, NULL, "SELECT 1 FROM mail_seen WHERE message_id = ?"
	    " AND sha256 = ? LIMIT 1", "ss", message_id ? message_id : "",
	    sha256_hex);
	return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}
