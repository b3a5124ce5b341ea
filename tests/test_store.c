/*
 * test_store: the store's fixture (test_store.h) and the tests of the
 * connection itself — opening, the schema and its migrations, group
 * commit, two connections on one file, the small helpers.  The other
 * tests/test_store_*.c test one concern each against the same fixture.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/workflow.h"
#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "store/filings.h"
#include "store/outbox.h"
#include "store/query.h"
#include "store/store.h"
#include "store/transition.h"
#include "test_store.h"
#include "unit.h"

void
tctx_open(struct tctx *t)
{
	char err[256];

	memset(t, 0, sizeof(*t));
	strlcpy(t->dir, "/tmp/beiand-store-XXXXXX", sizeof(t->dir));
	if (mkdtemp(t->dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	snprintf(t->db, sizeof(t->db), "%s/beiand.db", t->dir);
	setenv("BEIAND_PWHASH_FAST", "1", 1);
	t->prov[0].code = (char *)"P001";
	t->prov[0].email = (char *)"filing@p001.example";
	t->prov[1].code = (char *)"P002";
	t->prov[1].email = (char *)"filing@p002.example";
	strlcpy(t->bur.province, "11", sizeof(t->bur.province));
	t->baddr[0] = (char *)"review@bureau.example";
	t->baddr[1] = (char *)"other@bureau.example";
	t->bur.addresses = t->baddr;
	t->bur.naddresses = 2;
	t->bur.record_to = (char *)"records@bureau.example";
	t->cfg.smtp_from = (char *)"beian@provider.example";
	t->cfg.smtp_recipient_max = 20; /* the default */
	t->cfg.state_dir = t->dir;
	t->cfg.providers = t->prov;
	t->cfg.nproviders = 2;
	t->cfg.bureaus = &t->bur;
	t->cfg.nbureaus = 1;
	t->st = store_open(t->db, &t->cfg, err, sizeof(err));
	if (t->st == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		abort();
	}
}

void
tctx_close(struct tctx *t)
{
	store_close(t->st);
	t->st = NULL;
	unit_rmtree(t->dir);
}

/* ---- filings as structs ------------------------------------------------- */

static struct filing *
tf_new(enum filing_type type, enum filing_mode mode)
{
	struct filing *f = xcalloc(1, sizeof(*f));

	f->type = type;
	f->mode = mode;
	f->province = xstrdup("11");
	return f;
}

void
tf_sites(struct filing *f, const char *tag, size_t nsites)
{
	f->nwebsites = nsites;
	f->websites = xcalloc(nsites, sizeof(*f->websites));
	for (size_t i = 0; i < nsites; i++) {
		f->websites[i].name = xasprintf("网站%s%zu", tag, i + 1);
		f->websites[i].ndomains = 1;
		f->websites[i].domains = xcalloc(1, sizeof(char *));
		f->websites[i].domains[0] = xasprintf("%s-%zu.Example.CN.", tag, i + 1);
	}
}

/* A first filing of subject cert with nsites websites named after tag. */
struct filing *
tf_first(const char *cert, const char *tag, size_t nsites)
{
	struct filing *f = tf_new(FILING_FIRST, FILING_MODE_DELEGATED);

	f->sponsor = xcalloc(1, sizeof(*f->sponsor));
	f->sponsor->name = xstrdup("北京示例科技有限公司");
	f->sponsor->nature = xstrdup("enterprise");
	f->sponsor->cert_type = xstrdup("uscc");
	f->sponsor->cert_number = xstrdup(cert);
	f->sponsor->principal = xcalloc(1, sizeof(*f->sponsor->principal));
	f->sponsor->principal->email = xasprintf("owner-%s@example.cn", tag);
	tf_sites(f, tag, nsites);
	return f;
}

struct filing *
tf_other(enum filing_type type, enum filing_mode mode, const char *subject,
    const char *site, const char *password)
{
	struct filing *f = tf_new(type, mode);

	f->subject_licence = subject ? xstrdup(subject) : NULL;
	f->site_licence = site ? xstrdup(site) : NULL;
	f->password = password ? xstrdup(password) : NULL;
	return f;
}

void
tf_free(struct filing *f)
{
	if (f == NULL)
		return;
	free(f->province);
	free(f->subject_licence);
	free(f->site_licence);
	free(f->password);
	if (f->sponsor != NULL) {
		free(f->sponsor->name);
		free(f->sponsor->nature);
		free(f->sponsor->cert_type);
		free(f->sponsor->cert_number);
		if (f->sponsor->principal != NULL)
			free(f->sponsor->principal->email);
		free(f->sponsor->principal);
		free(f->sponsor);
	}
	for (size_t i = 0; i < f->nwebsites; i++) {
		free(f->websites[i].name);
		for (size_t k = 0; k < f->websites[i].ndomains; k++)
			free(f->websites[i].domains[k]);
		free(f->websites[i].domains);
	}
	free(f->websites);
	free(f);
}

/* ---- actors ----------------------------------------------------------- */

struct store_actor
who_spool(const char *provider, time_t now)
{
	struct store_actor w = { 0 };

	w.kind = WF_ACTOR_PROVIDER;
	w.channel = WF_CHANNEL_SPOOL;
	w.name = provider;
	w.provider = provider;
	w.source = "0123abcd";
	w.now = now;
	return w;
}

struct store_actor
who_op(time_t now)
{
	struct store_actor w = { 0 };

	w.kind = WF_ACTOR_OPERATOR;
	w.channel = WF_CHANNEL_CLI;
	w.name = "root";
	w.provider = "P001";
	w.now = now;
	return w;
}

/* File f by spool from P001; returns the state, id into id. */
enum wf_state
file_new(struct store *st, const struct filing *f, const struct errlist *perrs,
    time_t now, char id[STORE_ID_SIZE], struct errlist *errs)
{
	struct store_package pkg = { f, "<filing/>", perrs, NULL };
	struct store_actor w = who_spool("P001", now);
	struct store_result r = { 0 };
	int rc;

	r.errs = errs;
	rc = store_filing_create(st, &pkg, &w, &r);
	CHECKM(rc == 0, "create: %s", store_errmsg(st));
	if (id != NULL)
		strlcpy(id, r.id, STORE_ID_SIZE);
	return rc == 0 ? r.state : WF_NONE;
}

/* Move id to `to` as the operator; returns the store's answer. */
int
op_move(struct store *st, const char *id, enum wf_state to, const char *licence,
    time_t now, struct errlist *errs)
{
	struct store_transition_req req = { 0 };
	struct store_actor w = who_op(now);
	struct store_result r = { 0 };

	req.id = id;
	req.to = to;
	req.licence = licence;
	r.errs = errs;
	return store_transition(st, &req, &w, &r);
}

enum wf_state
state_of(struct store *st, const char *id)
{
	enum wf_state s = WF_NONE;

	CHECK(store_filing_state(st, id, &s) == 0);
	return s;
}

/* ---- outbox inspection -------------------------------------------------- */

static int
mails_cb(const struct store_mail *m, void *arg)
{
	struct mails *v = arg;

	if (v->n == 64)
		return 1;
	v->m[v->n].filing = m->filing ? xstrdup(m->filing) : NULL;
	v->m[v->n].to = xstrdup(m->to);
	v->m[v->n].tpl = xstrdup(workflow_template_name(m->tpl));
	v->m[v->n].role = xstrdup(m->role);
	v->m[v->n].msgid = xstrdup(m->message_id);
	v->m[v->n].state = xstrdup(m->state);
	v->m[v->n].params = xstrdup(m->params);
	v->m[v->n].secret = m->secret ? xstrdup(m->secret) : NULL;
	v->m[v->n].id = m->id;
	v->m[v->n].event = m->event;
	v->n++;
	return 0;
}

void
mails_load(struct store *st, struct mails *v)
{
	memset(v, 0, sizeof(*v));
	CHECK(store_outbox_list(st, 0, mails_cb, v) == 0);
}

void
mails_free(struct mails *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->m[i].filing);
		free(v->m[i].to);
		free(v->m[i].tpl);
		free(v->m[i].role);
		free(v->m[i].msgid);
		free(v->m[i].state);
		free(v->m[i].params);
		free(v->m[i].secret);
	}
	v->n = 0;
}

/* Index of the mail of filing id with template and role, or -1. */
int
mail_find(const struct mails *v, const char *id, const char *tpl,
    const char *role)
{
	for (size_t i = 0; i < v->n; i++)
		if ((id == NULL || (v->m[i].filing && !strcmp(v->m[i].filing, id))) &&
		    !strcmp(v->m[i].tpl, tpl) && !strcmp(v->m[i].role, role))
			return (int)i;
	return -1;
}

size_t
mails_of(const struct mails *v, const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < v->n; i++)
		n += v->m[i].filing != NULL && !strcmp(v->m[i].filing, id);
	return n;
}

int
mail_secret(struct store *st, const char *id, char *pw, size_t size,
    int64_t *mail)
{
	struct mails v;
	int i, ok = 0;

	mails_load(st, &v);
	i = mail_find(&v, id, "approved_owner", "owner");
	if (i >= 0 && v.m[i].secret != NULL) {
		strlcpy(pw, v.m[i].secret, size);
		*mail = v.m[i].id;
		ok = 1;
	}
	mails_free(&v);
	return ok;
}

/* Approve a first filing and return its subject number and password. */
void
approved_subject(struct store *st, const char *cert, const char *tag,
    char *licence, size_t lsize, char *pw, size_t pwsize)
{
	struct filing *f = tf_first(cert, tag, 1);
	struct store_filing_detail *d = NULL;
	char id[STORE_ID_SIZE];
	int64_t mail;

	file_new(st, f, NULL, T0, id, NULL);
	CHECK(op_move(st, id, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECK(op_move(st, id, WF_APPROVED, NULL, T0, NULL) == 0);
	CHECK(store_filing_show(st, id, &d) == 0);
	licence[0] = '\0';
	if (d != NULL && d->subject_licence != NULL)
		strlcpy(licence, d->subject_licence, lsize);
	store_filing_detail_free(d);
	CHECK(mail_secret(st, id, pw, pwsize, &mail));
	tf_free(f);
}

/* ---- tests ------------------------------------------------------------- */

UNIT_TEST(store_open_mode_and_reopen)
{
	struct tctx t;
	struct stat sb;
	char err[256];
	struct store *again;

	tctx_open(&t);
	CHECK(stat(t.db, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	CHECK(store_schema_version() >= 1);
	file_new(t.st, NULL, NULL, T0, NULL, NULL);
	/* WAL mode leaves a -wal file beside the database */
	{
		char wal[160];

		snprintf(wal, sizeof(wal), "%s-wal", t.db);
		CHECK(stat(wal, &sb) == 0 && (sb.st_mode & 0077) == 0);
	}
	again = store_open(t.db, &t.cfg, err, sizeof(err));
	CHECKM(again != NULL, "%s", err);
	store_close(again);
	tctx_close(&t);
}

/* How many temporary b-trees the program of sql opens each time it runs. */
static int
ephemeral_ops(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	char *x = xasprintf("EXPLAIN %s", sql);
	int n = 0;

	CHECKM(sqlite3_prepare_v2(db, x, -1, &s, NULL) == SQLITE_OK, "%s: %s",
	    sql, sqlite3_errmsg(db));
	while (sqlite3_step(s) == SQLITE_ROW)
		n += strcmp((const char *)sqlite3_column_text(s, 1),
		    "OpenEphemeral") == 0;
	sqlite3_finalize(s);
	free(x);
	return n;
}

static int64_t
sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	CHECKM(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK, "%s: %s",
	    sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

#define EVENT_INSERT "INSERT INTO events(filing, at, actor_kind, channel)" \
	" VALUES(NULL, 0, 'system', 'cli')"
#define OUTBOX_INSERT "INSERT INTO outbox(event, template, role, rcpt," \
	" params, message_id, state, next_try, created)" \
	" VALUES(1, 't', 'owner', 'a@b', '{}', 'm', 'queued', 0, 0)"
#define SITE_INSERT(state) "INSERT INTO sites(licence, subject, n, state," \
	" created, updated) VALUES('京ICP备2026999999号-1', 'x', 1, '" state \
	"', 0, 0)"

/* A database of this version back to the shape of schema version 4:
 * without the console's tables, its channel and the events' origin. */
#define TO_VERSION_4 "DROP TABLE sessions; DROP TABLE accounts;" \
	"DROP TABLE highwater; DROP TABLE recipient_counts;" \
	"DROP TABLE counters; DROP TABLE limits; DROP TABLE channels;" \
	"PRAGMA writable_schema = ON;" \
	"UPDATE sqlite_schema SET sql = replace(replace(sql," \
	" ' OR channel = ''web'')', ')'), ', origin TEXT)', ')')" \
	" WHERE name = 'events';" \
	"PRAGMA writable_schema = OFF;" \
	"PRAGMA user_version = 4;"

/*
 * Schema version 4 to the newest (migration 8, the console's): a
 * database of version 4 gains the console's accounts and sessions, the
 * channel web and the events' origin; its events stay.
 */
UNIT_TEST(store_migration_console)
{
	struct tctx t;
	sqlite3 *db;
	char err[256];
	int64_t events;

	tctx_open(&t);
	file_new(t.st, NULL, NULL, T0, NULL, NULL);
	store_close(t.st);
	CHECK(sqlite3_open(t.db, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, TO_VERSION_4, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(sqlite3_open(t.db, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "INSERT INTO events(at, actor_kind, channel)"
	    " VALUES(0, 'system', 'web')", NULL, NULL, NULL) ==
	    SQLITE_CONSTRAINT);
	CHECK(sqlite3_exec(db, "INSERT INTO events(at, actor_kind, channel,"
	    " source) VALUES(0, 'system', 'cli', 'v4')", NULL, NULL, NULL) ==
	    SQLITE_OK);
	events = sql_int(db, "SELECT count(*) FROM events");
	sqlite3_close(db);

	t.st = store_open(t.db, &t.cfg, err, sizeof(err));
	CHECKM(t.st != NULL, "%s", err);
	store_close(t.st);
	t.st = NULL;
	CHECK(sqlite3_open(t.db, &db) == SQLITE_OK);
	CHECK_INT(sql_int(db, "PRAGMA user_version"), store_schema_version());
	CHECK_INT(sql_int(db, "SELECT count(*) FROM events"), events);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM events WHERE source = 'v4'"
	    " AND origin IS NULL"), 1);
	CHECK(sqlite3_exec(db, "INSERT INTO events(at, actor_kind, channel,"
	    " origin) VALUES(0, 'operator', 'web', '192.0.2.7')", NULL, NULL,
	    NULL) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "INSERT INTO events(at, actor_kind, channel)"
	    " VALUES(0, 'system', 'www')", NULL, NULL, NULL) ==
	    SQLITE_CONSTRAINT);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM accounts"), 0);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM sessions"), 0);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM pragma_integrity_check"
	    " WHERE integrity_check <> 'ok'"), 0);
	sqlite3_close(db);
	tctx_close(&t);
}

/*
 * Two programs upgrading at once (beiand and beiand-web started
 * together after an upgrade): four processes open a database of schema
 * version 4 at the same instant; every one opens it, the migrations run
 * once (a second run would fail on the tables they create) and the
 * events' CHECK names the channel web once.
 */
UNIT_TEST(store_migration_two_at_once)
{
	enum { N = 4 };
	struct tctx t;
	sqlite3 *db;
	pid_t pid[N];
	int gate[2], status;
	char c = 0;

	tctx_open(&t);
	store_close(t.st); /* no connection across fork */
	t.st = NULL;
	CHECK(sqlite3_open(t.db, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, TO_VERSION_4, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(pipe(gate) == 0);
	for (int i = 0; i < N; i++) {
		fflush(NULL);
		pid[i] = fork();
		if (pid[i] == 0) {
			struct store *st;
			char err[256];

			close(gate[1]);
			if (read(gate[0], &c, 1) != 0) /* all go when it closes */
				_exit(3);
			st = store_open(t.db, &t.cfg, err, sizeof(err));
			if (st == NULL) {
				fprintf(stderr, "child %d: %s\n", i, err);
				_exit(1);
			}
			store_close(st);
			_exit(0);
		}
	}
	close(gate[0]);
	close(gate[1]);
	for (int i = 0; i < N; i++) {
		CHECK(waitpid(pid[i], &status, 0) == pid[i]);
		CHECKM(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "child %d status %d", i, status);
	}
	CHECK(sqlite3_open(t.db, &db) == SQLITE_OK);
	CHECK_INT(sql_int(db, "PRAGMA user_version"), store_schema_version());
	CHECK_INT(sql_int(db, "SELECT (length(sql) - length(replace(sql,"
	    " '''web''', ''))) / 5 FROM sqlite_schema WHERE name = 'events'"),
	    1);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM pragma_integrity_check"
	    " WHERE integrity_check <> 'ok'"), 0);
	sqlite3_close(db);
	tctx_close(&t);
}

/*
 * A program older than the database's schema refuses it by name and
 * changes nothing (DESIGN.md "Packaging": no old code on a new schema).
 */
UNIT_TEST(store_schema_newer_refused)
{
	struct tctx t;
	struct store *st;
	sqlite3 *db;
	char err[256], sql[64];

	tctx_open(&t);
	store_close(t.st);
	t.st = NULL;
	CHECK(sqlite3_open(t.db, &db) == SQLITE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    store_schema_version() + 1);
	CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	err[0] = '\0';
	st = store_open(t.db, &t.cfg, err, sizeof(err));
	CHECK(st == NULL);
	if (st != NULL)
		store_close(st);
	CHECKM(strstr(err, "newer than this program") != NULL, "%s", err);
	CHECK(sqlite3_open(t.db, &db) == SQLITE_OK);
	CHECK_INT(sql_int(db, "PRAGMA user_version"),
	    store_schema_version() + 1);
	sqlite3_close(db);
	tctx_close(&t);
}

/*
 * The CHECKs that list the allowed values: an IN list there made SQLite
 * build two temporary b-trees for every event and mail inserted.  A
 * database of schema version 3 (the CHECKs as first written) is brought
 * over at open, its rows kept, the constraints as strict as before.
 */
UNIT_TEST(store_checks_without_in_lists)
{
	struct tctx t;
	sqlite3 *db;
	char err[256];
	int64_t events;

	tctx_open(&t);
	file_new(t.st, NULL, NULL, T0, NULL, NULL);
	store_close(t.st);
	CHECK(sqlite3_open(t.db, &db) == SQLITE_OK);
	CHECK_INT(ephemeral_ops(db, EVENT_INSERT), 0);
	CHECK_INT(ephemeral_ops(db, OUTBOX_INSERT), 0);
	events = sql_int(db, "SELECT count(*) FROM events");
	CHECK(events > 0);
	/* back to version 3, as such a database is on disk */
	CHECK(sqlite3_exec(db, TO_VERSION_4, NULL, NULL, NULL) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "PRAGMA writable_schema = ON;"
	    "UPDATE sqlite_schema SET sql = replace(replace(sql,"
	    " 'CHECK(actor_kind = ''owner'' OR actor_kind = ''provider'' OR"
	    " actor_kind = ''bureau'' OR actor_kind = ''system'' OR"
	    " actor_kind = ''operator'')', 'CHECK(actor_kind IN (''owner'',"
	    "''provider'',''bureau'',''system'',''operator''))'),"
	    " 'CHECK(channel = ''spool'' OR channel = ''mail'' OR"
	    " channel = ''cli'')', 'CHECK(channel IN (''spool'',''mail'',"
	    "''cli''))') WHERE name = 'events';"
	    "UPDATE sqlite_schema SET sql = replace(replace(sql,"
	    " 'CHECK(role = ''owner'' OR role = ''provider'' OR"
	    " role = ''bureau'' OR role = ''sender'')', 'CHECK(role IN"
	    " (''owner'',''provider'',''bureau'',''sender''))'),"
	    " 'CHECK(state = ''queued'' OR state = ''sending'' OR"
	    " state = ''sent'' OR state = ''deferred'' OR state = ''failed'')',"
	    " 'CHECK(state IN (''queued'',''sending'',''sent'',''deferred'',"
	    "''failed''))') WHERE name = 'outbox';"
	    "PRAGMA writable_schema = OFF;"
	    /* (TO_VERSION_4 dropped the tables of later versions) */
	    "PRAGMA user_version = 3;", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	CHECK(sqlite3_open(t.db, &db) == SQLITE_OK);
	CHECK_INT(ephemeral_ops(db, EVENT_INSERT), 2); /* the old schema */
	CHECK_INT(ephemeral_ops(db, OUTBOX_INSERT), 2);
	sqlite3_close(db);

	t.st = store_open(t.db, &t.cfg, err, sizeof(err));
	CHECKM(t.st != NULL, "%s", err);
	store_close(t.st);
	t.st = NULL;
	CHECK(sqlite3_open(t.db, &db) == SQLITE_OK);
	CHECK_INT(sql_int(db, "PRAGMA user_version"), store_schema_version());
	CHECK_INT(ephemeral_ops(db, EVENT_INSERT), 0);
	CHECK_INT(ephemeral_ops(db, OUTBOX_INSERT), 0);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM events"), events);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM sqlite_schema"
	    " WHERE sql LIKE '% IN (''%'"), 0);
	/* as strict as before: a listed value in, anything else out */
	CHECK(sqlite3_exec(db, "SAVEPOINT s;" EVENT_INSERT ";" OUTBOX_INSERT ";"
	    SITE_INSERT("active") "; ROLLBACK TO s;", NULL, NULL, NULL) ==
	    SQLITE_OK);
	CHECK(sqlite3_exec(db, "INSERT INTO events(at, actor_kind, channel)"
	    " VALUES(0, 'nobody', 'cli')", NULL, NULL, NULL) ==
	    SQLITE_CONSTRAINT);
	CHECK(sqlite3_exec(db, "INSERT INTO events(at, actor_kind, channel)"
	    " VALUES(0, 'system', 'fax')", NULL, NULL, NULL) ==
	    SQLITE_CONSTRAINT);
	CHECK(sqlite3_exec(db, "INSERT INTO outbox(event, template, role, rcpt,"
	    " params, message_id, state, next_try, created) VALUES(1, 't',"
	    " 'anyone', 'a@b', '{}', 'm', 'queued', 0, 0)", NULL, NULL, NULL) ==
	    SQLITE_CONSTRAINT);
	CHECK(sqlite3_exec(db, "INSERT INTO outbox(event, template, role, rcpt,"
	    " params, message_id, state, next_try, created) VALUES(1, 't',"
	    " 'owner', 'a@b', '{}', 'm', 'lost', 0, 0)", NULL, NULL, NULL) ==
	    SQLITE_CONSTRAINT);
	CHECK(sqlite3_exec(db, SITE_INSERT("gone"), NULL, NULL, NULL) ==
	    SQLITE_CONSTRAINT);
	CHECK_INT(sql_int(db, "SELECT count(*) FROM pragma_integrity_check"
	    " WHERE integrity_check <> 'ok'"), 0);
	sqlite3_close(db);
	tctx_close(&t);
}

UNIT_TEST(store_time_rfc3339)
{
	char buf[32];

	time_rfc3339_cst(0, buf);
	CHECK_STR(buf, "1970-01-01T08:00:00+08:00");
	time_rfc3339_cst(T0, buf);
	CHECK_STR(buf, "2026-11-18T19:06:40+08:00"); /* date -d @1795000000 */
}

UNIT_TEST(store_random_tokens)
{
	char a[17], b[17];

	store_random_token(a, 16);
	store_random_token(b, 16);
	CHECK_INT(strlen(a), 16);
	CHECK(strcmp(a, b) != 0);
	CHECK(strspn(a, "23456789ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz")
	    == 16);
	/* uniform over the 54 characters: 108,000 drawn, 2,000 expected
	 * each (sd 44); a modulo bias would put 14 of them near 1,690 */
	{
		static const char al[] =
		    "23456789ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz";
		char t[541];
		unsigned count[54] = { 0 };

		for (int r = 0; r < 200; r++) {
			store_random_token(t, 540);
			for (int i = 0; i < 540; i++)
				count[strchr(al, t[i]) - al]++;
		}
		for (int c = 0; c < 54; c++)
			CHECKM(count[c] > 1750 && count[c] < 2250,
			    "'%c' drawn %u times", al[c], count[c]);
	}
}

UNIT_TEST(store_group_commit)
{
	struct tctx t;
	struct filing *f = tf_first("CERTG1", "g", 1);
	char id1[STORE_ID_SIZE], id2[STORE_ID_SIZE];
	struct errlist *e = errlist_new();
	enum wf_state s;

	tctx_open(&t);
	CHECK(store_begin(t.st) == 0);
	CHECK(store_begin(t.st) == -1);
	file_new(t.st, f, NULL, T0, id1, NULL);
	CHECK(op_move(t.st, id1, WF_APPROVED, NULL, T0, e) == 1); /* refused */
	CHECK(op_move(t.st, id1, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECK(store_rollback(t.st) == 0);
	CHECK(store_filing_state(t.st, id1, &s) == 1);

	CHECK(store_begin(t.st) == 0);
	file_new(t.st, f, NULL, T0, id2, NULL);
	CHECK_STR(id2, "BA-2026-000001"); /* the rolled back id is reused: no gap */
	CHECK(op_move(t.st, id2, WF_APPROVED, NULL, T0, e) == 1);
	CHECK(op_move(t.st, id2, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECK(store_commit(t.st) == 0);
	CHECK_INT(state_of(t.st, id2), WF_UNDER_REVIEW);
	errlist_free(e);
	tf_free(f);
	tctx_close(&t);
}

UNIT_TEST(store_cas_two_connections)
{
	struct tctx t;
	struct store *b;
	struct filing *f = tf_first("CERTC1", "c", 1);
	struct errlist *e = errlist_new();
	char id[STORE_ID_SIZE], err[256];

	tctx_open(&t);
	b = store_open(t.db, &t.cfg, err, sizeof(err));
	CHECK(b != NULL);
	file_new(t.st, f, NULL, T0, id, NULL);
	CHECK_INT(state_of(b, id), WF_AWAITING_VERIFICATION);
	CHECK(op_move(t.st, id, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	/* b acts on the state it saw: refused, nothing changed */
	CHECK(op_move(b, id, WF_RETURNED_TO_OWNER, NULL, T0, e) == 1);
	CHECK(errlist_has(e, ERR_WRONG_STATE));
	CHECK_INT(state_of(t.st, id), WF_UNDER_REVIEW);
	/* the same move from both: exactly one wins */
	CHECK(op_move(b, id, WF_WITHDRAWN, NULL, T0, NULL) == 0);
	CHECK(op_move(t.st, id, WF_WITHDRAWN, NULL, T0, NULL) == 1);
	store_close(b);
	errlist_free(e);
	tf_free(f);
	tctx_close(&t);
}
