/*
 * test_store: the SQLite store against a temporary database under /tmp.
 *
 * Filings are built as structs (no XML); times are fixed instants in 2026
 * so numbers and days are predictable.  Password hashing uses the MIN
 * limits (BEIAND_PWHASH_FAST=1).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/blob.h"
#include "lib/compat.h"
#include "common/config.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "lib/sha256.h"
#include "store/store.h"
#include "unit.h"
#include "common/workflow.h"
#include "lib/xmalloc.h"

#define T0 ((time_t)1795000000) /* 2026-11-18 19:06:40 CST */
#define DAY ((time_t)86400)

struct tctx {
	char dir[64];
	char db[128];
	struct config cfg;
	struct config_provider prov[2];
	struct config_bureau bur;
	char *baddr[2];
	struct store *st;
};

static void
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

static void
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

static void
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
static struct filing *
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

static struct filing *
tf_other(enum filing_type type, enum filing_mode mode, const char *subject,
    const char *site, const char *password)
{
	struct filing *f = tf_new(type, mode);

	f->subject_licence = subject ? xstrdup(subject) : NULL;
	f->site_licence = site ? xstrdup(site) : NULL;
	f->password = password ? xstrdup(password) : NULL;
	return f;
}

static void
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

static struct store_actor
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

static struct store_actor
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
static enum wf_state
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
static int
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

static enum wf_state
state_of(struct store *st, const char *id)
{
	enum wf_state s = WF_NONE;

	CHECK(store_filing_state(st, id, &s) == 0);
	return s;
}

/* ---- outbox inspection -------------------------------------------------- */

struct mails {
	size_t n;
	struct {
		char *filing, *to, *tpl, *role, *msgid, *state, *params, *secret;
		int64_t id, event;
	} m[64];
};

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

static void
mails_load(struct store *st, struct mails *v)
{
	memset(v, 0, sizeof(*v));
	CHECK(store_outbox_list(st, 0, mails_cb, v) == 0);
}

static void
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
static int
mail_find(const struct mails *v, const char *id, const char *tpl,
    const char *role)
{
	for (size_t i = 0; i < v->n; i++)
		if ((id == NULL || (v->m[i].filing && !strcmp(v->m[i].filing, id))) &&
		    !strcmp(v->m[i].tpl, tpl) && !strcmp(v->m[i].role, role))
			return (int)i;
	return -1;
}

static size_t
mails_of(const struct mails *v, const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < v->n; i++)
		n += v->m[i].filing != NULL && !strcmp(v->m[i].filing, id);
	return n;
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

UNIT_TEST(store_create_valid_and_mails)
{
	struct tctx t;
	struct filing *f = tf_first("91110108MA01XY3K34", "a", 2);
	struct store_filing_detail *d = NULL;
	struct mails v;
	char id[STORE_ID_SIZE], want[128];
	int i;

	tctx_open(&t);
	CHECK_INT(file_new(t.st, f, NULL, T0, id, NULL),
	    WF_AWAITING_VERIFICATION);
	CHECK_STR(id, "BA-2026-000001");
	mails_load(t.st, &v);
	CHECK_INT(mails_of(&v, id), 3); /* delegated: owner + provider + verify */
	i = mail_find(&v, id, "received", "owner");
	CHECK(i >= 0);
	if (i >= 0) {
		CHECK_STR(v.m[i].to, "owner-a@example.cn");
		snprintf(want, sizeof(want), "<%s.%lld.received.owner@provider.example>",
		    id, (long long)v.m[i].event);
		CHECK_STR(v.m[i].msgid, want);
		CHECK(strstr(v.m[i].params, "\"owner_token\":\"") != NULL);
	}
	i = mail_find(&v, id, "received", "provider");
	CHECK(i >= 0 && !strcmp(v.m[i].to, "filing@p001.example"));
	CHECK(i >= 0 && strstr(v.m[i].params, "owner_token") == NULL);
	CHECK(mail_find(&v, id, "awaiting_verification", "provider") >= 0);
	mails_free(&v);

	CHECK(store_filing_show(t.st, id, &d) == 0);
	if (d != NULL) {
		CHECK_STR(d->info.state, "awaiting_verification");
		CHECK_STR(d->info.type, "firstFiling");
		CHECK_STR(d->info.mode, "delegated");
		CHECK_STR(d->info.provider, "P001");
		CHECK_STR(d->info.owner, "owner-a@example.cn");
		CHECK_STR(d->sponsor_cert_number, "91110108MA01XY3K34");
		CHECK_INT(d->nwebsites, 2);
		if (d->nwebsites == 2)
			CHECK_STR(d->websites[1].domains, "a-2.example.cn");
		CHECK_INT(d->nevents, 2);
		if (d->nevents == 2) {
			CHECK(d->events[0].from == NULL);
			CHECK_STR(d->events[0].to, "received");
			CHECK_STR(d->events[0].actor_kind, "provider");
			CHECK_STR(d->events[1].from, "received");
			CHECK_STR(d->events[1].to, "awaiting_verification");
			CHECK_STR(d->events[1].actor_kind, "system");
			CHECK_STR(d->events[1].channel, "spool");
		}
	}
	store_filing_detail_free(d);
	CHECK(store_filing_show(t.st, "BA-2026-999999", &d) == 1);
	tf_free(f);
	tctx_close(&t);
}

UNIT_TEST(store_create_invalid)
{
	struct tctx t;
	struct filing *f = tf_first("91350200776049653A", "b", 1);
	struct errlist *pe = errlist_new(), *errs = errlist_new();
	struct store_package pkg = { NULL, NULL, NULL, NULL };
	struct store_actor w;
	struct store_result r = { 0 };
	struct store_filing_detail *d = NULL;
	struct mails v;
	char id[STORE_ID_SIZE];
	int i;

	tctx_open(&t);
	errlist_add(pe, ERR_MOBILE_INVALID, "/filing/sponsor/principal/mobile",
	    "bad");
	CHECK_INT(file_new(t.st, f, pe, T0, id, NULL), WF_INVALID);
	mails_load(t.st, &v);
	i = mail_find(&v, id, "invalid", "provider");
	CHECK(i >= 0 && strstr(v.m[i].params, "MOBILE_INVALID") != NULL);
	CHECK_INT(mails_of(&v, id), 1);
	mails_free(&v);
	CHECK(store_filing_show(t.st, id, &d) == 0);
	CHECK(d != NULL && d->nerrors == 1 && !strcmp(d->errors[0].code,
	    "MOBILE_INVALID"));
	store_filing_detail_free(d);

	/* by mail: the envelope sender hears of it, unless automated */
	w = who_spool("P001", T0);
	w.kind = WF_ACTOR_OWNER;
	w.channel = WF_CHANNEL_MAIL;
	w.sender = "someone@example.org";
	r.errs = errs;
	CHECK(store_filing_create(t.st, &pkg, &w, &r) == 0);
	CHECK_INT(r.state, WF_INVALID);
	CHECK_STR(r.id, "BA-2026-000002");
	w.no_sender_mail = 1;
	CHECK(store_filing_create(t.st, &pkg, &w, &r) == 0);
	mails_load(t.st, &v);
	i = mail_find(&v, "BA-2026-000002", "invalid", "sender");
	CHECK(i >= 0 && !strcmp(v.m[i].to, "someone@example.org"));
	CHECK_INT(mails_of(&v, "BA-2026-000003"), 0);
	mails_free(&v);
	/* the invalid one does not hold the subject: a new one is fine */
	CHECK_INT(file_new(t.st, f, NULL, T0, id, NULL), WF_AWAITING_VERIFICATION);
	errlist_free(pe);
	errlist_free(errs);
	tf_free(f);
	tctx_close(&t);
}

/*
 * Put a fresh filing into state s by the documented path.  k makes the
 * subject and domains unique.
 */
static int
reach(struct store *st, enum wf_state s, int k, char id[STORE_ID_SIZE])
{
	struct filing *f;
	struct errlist *pe = NULL;
	char cert[32], tag[16];
	int ok = 1;

	snprintf(cert, sizeof(cert), "CERT%06d", k);
	snprintf(tag, sizeof(tag), "r%d", k);
	f = tf_first(cert, tag, 1);
	if (s == WF_INVALID) {
		pe = errlist_new();
		errlist_add(pe, ERR_SCHEMA_VIOLATION, "/filing", "x");
	}
	ok = file_new(st, f, pe, T0, id, NULL) ==
	    (s == WF_INVALID ? WF_INVALID : WF_AWAITING_VERIFICATION);
	errlist_free(pe);
	tf_free(f);
	switch (s) {
	case WF_RETURNED_TO_OWNER:
		ok = ok && op_move(st, id, s, NULL, T0, NULL) == 0;
		break;
	case WF_UNDER_REVIEW:
	case WF_WITHDRAWN:
		ok = ok && op_move(st, id, s, NULL, T0, NULL) == 0;
		break;
	case WF_RETURNED_TO_PROVIDER:
	case WF_APPROVED:
		ok = ok && op_move(st, id, WF_UNDER_REVIEW, NULL, T0, NULL) == 0 &&
		    op_move(st, id, s, NULL, T0, NULL) == 0;
		break;
	default:
		break;
	}
	return ok && state_of(st, id) == s;
}

UNIT_TEST(store_transitions_all_pairs)
{
	struct tctx t;
	int k = 0;

	tctx_open(&t);
	/* one group: each refused attempt rolls back alone */
	CHECK(store_begin(t.st) == 0);
	for (int from = WF_INVALID; from < WF_NSTATES; from++) {
		for (int to = WF_RECEIVED; to < WF_NSTATES; to++) {
			for (int a = 0; a < WF_NACTORS; a++) {
				struct store_transition_req req = { 0 };
				struct store_actor w = who_op(T0);
				struct store_result r = { 0 };
				char id[STORE_ID_SIZE], tok[STORE_TOKEN_LEN + 1];
				char *owner = NULL;
				int allowed, rc;

				if (!reach(t.st, (enum wf_state)from, ++k, id)) {
					CHECKM(0, "reach %s",
					    workflow_state_name((enum wf_state)from));
					continue;
				}
				store_filing_owner(t.st, id, &owner, tok);
				free(owner);
				w.kind = (enum wf_actor)a;
				req.id = id;
				req.to = (enum wf_state)to;
				req.owner_token = tok;
				r.errs = errlist_new();
				allowed = workflow_transition_allowed(
				    (enum wf_state)from, (enum wf_state)to,
				    (enum wf_actor)a) == 0;
				rc = store_transition(t.st, &req, &w, &r);
				CHECKM(rc == (allowed ? 0 : 1), "%s -> %s by %s: %d %s",
				    workflow_state_name((enum wf_state)from),
				    workflow_state_name((enum wf_state)to),
				    workflow_actor_name((enum wf_actor)a), rc,
				    store_errmsg(t.st));
				CHECK_INT(state_of(t.st, id), allowed ? to : from);
				if (!allowed)
					CHECKM(errlist_has(r.errs, ERR_WRONG_STATE),
					    "%d->%d", from, to);
				errlist_free(r.errs);
			}
		}
	}
	CHECK(store_commit(t.st) == 0);
	tctx_close(&t);
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

static int
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

UNIT_TEST(store_approval_numbers_password)
{
	struct tctx t;
	struct filing *f1 = tf_first("CERTN1", "n1", 2);
	struct filing *f2 = tf_first("CERTN2", "n2", 1);
	struct filing *f3 = tf_first("CERTN3", "n3", 1);
	struct filing *f4 = tf_first("CERTN4", "n4", 1);
	struct filing *add = NULL, *cancel = NULL;
	struct store_filing_detail *d = NULL;
	struct store_mail *m = NULL;
	struct errlist *e = errlist_new();
	char id1[STORE_ID_SIZE], id2[STORE_ID_SIZE], id3[STORE_ID_SIZE];
	char id4[STORE_ID_SIZE], ida[STORE_ID_SIZE], idc[STORE_ID_SIZE];
	char pw[32];
	int64_t mail;
	struct mails v;
	int i;

	tctx_open(&t);
	file_new(t.st, f1, NULL, T0, id1, NULL);
	file_new(t.st, f2, NULL, T0, id2, NULL);
	file_new(t.st, f3, NULL, T0, id3, NULL);
	file_new(t.st, f4, NULL, T0, id4, NULL);
	CHECK(op_move(t.st, id1, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECK(op_move(t.st, id1, WF_APPROVED, NULL, T0, NULL) == 0);
	CHECK(store_filing_show(t.st, id1, &d) == 0);
	if (d != NULL) {
		CHECK_STR(d->subject_licence, "京ICP备2026000001号");
		CHECK(d->nwebsites == 2 &&
		    !strcmp(d->websites[0].site_licence, "京ICP备2026000001号-1") &&
		    !strcmp(d->websites[1].site_licence, "京ICP备2026000001号-2"));
	}
	store_filing_detail_free(d);

	/* the bureau issued 000002 itself; the local sequence skips it */
	CHECK(op_move(t.st, id2, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECK(op_move(t.st, id2, WF_APPROVED, "京ICP备2026000002号", T0, NULL) == 0);
	CHECK(op_move(t.st, id3, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECK(op_move(t.st, id3, WF_APPROVED, "京ICP备2026000002号", T0, e) == 1);
	CHECK(errlist_has(e, ERR_LICENCE_CONFLICT));
	CHECK(op_move(t.st, id3, WF_APPROVED, NULL, T0, NULL) == 0);
	CHECK(store_filing_show(t.st, id3, &d) == 0);
	CHECK(d != NULL && d->subject_licence &&
	    !strcmp(d->subject_licence, "京ICP备2026000003号"));
	store_filing_detail_free(d);
	/* a number further ahead, then the sequence goes on past it */
	CHECK(op_move(t.st, id4, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECK(op_move(t.st, id4, WF_APPROVED, "京ICP备2026000004号", T0, NULL) == 0);

	/* the password: in the owner's mail only, hashed in the subject */
	CHECK(mail_secret(t.st, id1, pw, sizeof(pw), &mail));
	CHECK_INT(strlen(pw), 12);
	CHECK(store_password_check(t.st, "京ICP备2026000001号", pw) == 0);
	CHECK(store_password_check(t.st, "京ICP备2026000001号", "wrongwrong12") == -1);
	mails_load(t.st, &v);
	i = mail_find(&v, id1, "approved_provider", "provider");
	CHECK(i >= 0 && v.m[i].secret == NULL && strstr(v.m[i].params, pw) == NULL);
	i = mail_find(&v, id1, "approved_bureau", "bureau");
	CHECK(i >= 0 && !strcmp(v.m[i].to, "records@bureau.example"));
	i = mail_find(&v, id1, "approved_owner", "owner");
	CHECK(i >= 0 && strstr(v.m[i].params, "京ICP备2026000001号-2") != NULL);
	mails_free(&v);
	CHECK(store_outbox_mark_sent(t.st, mail, "250 ok") == 1); /* not sending */
	CHECK(store_outbox_mark_sending(t.st, mail) == 0);
	CHECK(store_outbox_mark_sent(t.st, mail, "250 ok") == 0);
	CHECK(store_outbox_get(t.st, mail, &m) == 0);
	CHECK(m != NULL && m->secret == NULL && !strcmp(m->state, "sent"));
	store_mail_free(m);

	/* addSite continues the count; cancelSite never gives it back */
	add = tf_other(FILING_ADD_SITE, FILING_MODE_DELEGATED,
	    "京ICP备2026000001号", NULL, NULL);
	tf_sites(add, "n1x", 1);
	CHECK_INT(file_new(t.st, add, NULL, T0, ida, NULL),
	    WF_AWAITING_VERIFICATION);
	CHECK(op_move(t.st, ida, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECK(op_move(t.st, ida, WF_APPROVED, NULL, T0, NULL) == 0);
	CHECK(store_filing_show(t.st, ida, &d) == 0);
	CHECK(d != NULL && d->nwebsites == 1 && d->websites[0].site_licence &&
	    !strcmp(d->websites[0].site_licence, "京ICP备2026000001号-3"));
	store_filing_detail_free(d);
	CHECK(!mail_secret(t.st, ida, pw, sizeof(pw), &mail)); /* no new password */

	cancel = tf_other(FILING_CANCEL_SITE, FILING_MODE_DELEGATED,
	    "京ICP备2026000001号", "京ICP备2026000001号-3", NULL);
	CHECK_INT(file_new(t.st, cancel, NULL, T0, idc, NULL),
	    WF_AWAITING_VERIFICATION);
	CHECK(op_move(t.st, idc, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECK(op_move(t.st, idc, WF_APPROVED, NULL, T0, NULL) == 0);
	/* cancelled: unknown now */
	errlist_clear(e);
	CHECK_INT(file_new(t.st, cancel, NULL, T0, idc, e), WF_INVALID);
	CHECK(errlist_has(e, ERR_LICENCE_UNKNOWN));
	/* the next site is -4, not -3 again */
	tf_free(add);
	add = tf_other(FILING_ADD_SITE, FILING_MODE_DELEGATED,
	    "京ICP备2026000001号", NULL, NULL);
	tf_sites(add, "n1y", 1);
	file_new(t.st, add, NULL, T0, ida, NULL);
	CHECK(op_move(t.st, ida, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECK(op_move(t.st, ida, WF_APPROVED, NULL, T0, NULL) == 0);
	CHECK(store_filing_show(t.st, ida, &d) == 0);
	CHECK(d != NULL && d->nwebsites == 1 && d->websites[0].site_licence &&
	    !strcmp(d->websites[0].site_licence, "京ICP备2026000001号-4"));
	store_filing_detail_free(d);

	/* a firstFiling for an approved subject */
	errlist_clear(e);
	CHECK_INT(file_new(t.st, f1, NULL, T0, idc, e), WF_INVALID);
	CHECK(errlist_has(e, ERR_SUBJECT_ALREADY_FILED));
	/* an unknown subject */
	tf_free(add);
	add = tf_other(FILING_ADD_SITE, FILING_MODE_DELEGATED,
	    "京ICP备2026000099号", NULL, NULL);
	tf_sites(add, "n9", 1);
	errlist_clear(e);
	CHECK_INT(file_new(t.st, add, NULL, T0, idc, e), WF_INVALID);
	CHECK(errlist_has(e, ERR_LICENCE_UNKNOWN));

	errlist_free(e);
	tf_free(add);
	tf_free(cancel);
	tf_free(f1);
	tf_free(f2);
	tf_free(f3);
	tf_free(f4);
	tctx_close(&t);
}

/* Approve a first filing and return its subject number and password. */
static void
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

UNIT_TEST(store_cancel_password_lock)
{
	struct tctx t;
	char lic[64], site[80], pw[32], id[STORE_ID_SIZE];
	struct errlist *e = errlist_new();
	struct filing *c;

	tctx_open(&t);
	approved_subject(t.st, "CERTP1", "p", lic, sizeof(lic), pw, sizeof(pw));
	snprintf(site, sizeof(site), "%s-1", lic);
	c = tf_other(FILING_CANCEL_SITE, FILING_MODE_SELF, lic, site, "WRONGpass234");
	for (int i = 0; i < 5; i++) {
		errlist_clear(e);
		CHECK_INT(file_new(t.st, c, NULL, T0 + i, id, e), WF_INVALID);
		CHECKM(errlist_has(e, ERR_PASSWORD_WRONG), "try %d", i);
	}
	/* locked for the day, even with the right password */
	free(c->password);
	c->password = xstrdup(pw);
	errlist_clear(e);
	CHECK_INT(file_new(t.st, c, NULL, T0 + 10, id, e), WF_INVALID);
	CHECK(errlist_has(e, ERR_PASSWORD_LOCKED));
	CHECK(!errlist_has(e, ERR_PASSWORD_WRONG));
	/* the next CST day it works */
	errlist_clear(e);
	CHECK_INT(file_new(t.st, c, NULL, T0 + DAY, id, e),
	    WF_AWAITING_VERIFICATION);
	CHECK_INT(errlist_count(e), 0);
	/* delegated cancelSite needs no password */
	errlist_free(e);
	tf_free(c);
	tctx_close(&t);
}

UNIT_TEST(store_cancel_access_last)
{
	struct tctx t;
	char lic[64], site[80], pw[32], id[STORE_ID_SIZE];
	struct errlist *e = errlist_new();
	struct filing *c;
	struct store_package pkg = { NULL, NULL, NULL, NULL };
	struct store_actor w = who_spool("P002", T0);
	struct store_result r = { 0 };

	tctx_open(&t);
	approved_subject(t.st, "CERTL1", "l", lic, sizeof(lic), pw, sizeof(pw));
	snprintf(site, sizeof(site), "%s-1", lic);
	c = tf_other(FILING_CANCEL_ACCESS, FILING_MODE_DELEGATED, lic, site, NULL);
	CHECK_INT(file_new(t.st, c, NULL, T0, id, e), WF_INVALID);
	CHECK(errlist_has(e, ERR_LAST_ACCESS));
	/* another provider has no access to end */
	pkg.f = c;
	r.errs = errlist_new();
	CHECK(store_filing_create(t.st, &pkg, &w, &r) == 0);
	CHECK(r.state == WF_INVALID && errlist_has(r.errs, ERR_LICENCE_UNKNOWN));
	errlist_free(r.errs);
	errlist_free(e);
	tf_free(c);
	tctx_close(&t);
}

UNIT_TEST(store_conflicts)
{
	struct tctx t;
	struct filing *a = tf_first("CERTX1", "x", 1);
	struct filing *b = tf_first("CERTX1", "y", 1);
	struct filing *c = tf_first("CERTX2", "x", 1); /* same domain as a */
	struct errlist *e = errlist_new();
	char ida[STORE_ID_SIZE], id[STORE_ID_SIZE];

	tctx_open(&t);
	CHECK_INT(file_new(t.st, a, NULL, T0, ida, NULL), WF_AWAITING_VERIFICATION);
	CHECK_INT(file_new(t.st, b, NULL, T0, id, e), WF_INVALID);
	CHECK(errlist_has(e, ERR_SUBJECT_CONFLICT));
	CHECK(!errlist_has(e, ERR_DOMAIN_CONFLICT));
	errlist_clear(e);
	CHECK_INT(file_new(t.st, c, NULL, T0, id, e), WF_INVALID);
	CHECK(errlist_has(e, ERR_DOMAIN_CONFLICT));
	CHECK(!errlist_has(e, ERR_SUBJECT_CONFLICT));
	/* approved for another subject: still a conflict */
	CHECK(op_move(t.st, ida, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECK(op_move(t.st, ida, WF_APPROVED, NULL, T0, NULL) == 0);
	errlist_clear(e);
	CHECK_INT(file_new(t.st, c, NULL, T0, id, e), WF_INVALID);
	CHECK(errlist_has(e, ERR_DOMAIN_CONFLICT));
	errlist_free(e);
	tf_free(a);
	tf_free(b);
	tf_free(c);
	tctx_close(&t);
}

UNIT_TEST(store_conflict_released_by_withdrawal)
{
	struct tctx t;
	struct filing *a = tf_first("CERTW1", "w", 1);
	char ida[STORE_ID_SIZE], id[STORE_ID_SIZE];

	tctx_open(&t);
	file_new(t.st, a, NULL, T0, ida, NULL);
	CHECK_INT(file_new(t.st, a, NULL, T0, id, NULL), WF_INVALID);
	CHECK(op_move(t.st, ida, WF_WITHDRAWN, NULL, T0, NULL) == 0);
	CHECK_INT(file_new(t.st, a, NULL, T0, id, NULL), WF_AWAITING_VERIFICATION);
	tf_free(a);
	tctx_close(&t);
}

UNIT_TEST(store_resubmission)
{
	struct tctx t;
	struct filing *f = tf_first("CERTR1", "rs", 1);
	struct errlist *pe = errlist_new();
	struct store_package pkg = { NULL, "<filing/>", NULL, NULL };
	struct store_actor owner = who_spool("P001", T0), p2 = who_spool("P002", T0);
	struct store_result r = { 0 };
	struct store_filing_detail *d = NULL;
	char id[STORE_ID_SIZE], tok[STORE_TOKEN_LEN + 1];
	char *addr = NULL;
	struct mails v;
	int rc;

	tctx_open(&t);
	pkg.f = f;
	file_new(t.st, f, NULL, T0, id, NULL);
	CHECK(store_filing_owner(t.st, id, &addr, tok) == 0);
	CHECK_STR(addr, "owner-rs@example.cn");
	free(addr);
	owner.kind = WF_ACTOR_OWNER;
	owner.channel = WF_CHANNEL_MAIL;
	owner.sender = "owner-rs@example.cn";
	r.errs = errlist_new();
	/* not in a state to resubmit from */
	CHECK(store_filing_resubmit(t.st, id, tok, &pkg, &owner, &r) == 1);
	CHECK(errlist_has(r.errs, ERR_WRONG_STATE));
	CHECK(op_move(t.st, id, WF_RETURNED_TO_OWNER, NULL, T0, NULL) == 0);
	errlist_clear(r.errs);
	CHECK(store_filing_resubmit(t.st, id, "AAAAAAAA", &pkg, &owner, &r) == 1);
	CHECK(errlist_has(r.errs, ERR_TOKEN_INVALID));
	errlist_clear(r.errs);
	CHECK(store_filing_resubmit(t.st, id, NULL, &pkg, &p2, &r) == 1);
	CHECK(errlist_has(r.errs, ERR_NOT_YOUR_FILING));
	errlist_clear(r.errs);
	CHECK(store_filing_resubmit(t.st, "BA-2026-000077", tok, &pkg, &owner,
	    &r) == 1);
	CHECK(errlist_has(r.errs, ERR_TRACKING_ID_UNKNOWN));
	/* invalid: state kept, attempt recorded, sender told */
	errlist_add(pe, ERR_EMAIL_INVALID, "/filing/sponsor/principal/email", "x");
	pkg.errs = pe;
	errlist_clear(r.errs);
	rc = store_filing_resubmit(t.st, id, tok, &pkg, &owner, &r);
	CHECK(rc == 0 && r.state == WF_RETURNED_TO_OWNER);
	CHECK(store_filing_show(t.st, id, &d) == 0);
	CHECK(d != NULL && d->nevents == 4 &&
	    !strcmp(d->events[3].from, "returned_to_owner") &&
	    !strcmp(d->events[3].to, "returned_to_owner") &&
	    d->nerrors == 1);
	store_filing_detail_free(d);
	mails_load(t.st, &v);
	CHECK(mail_find(&v, id, "invalid", "sender") >= 0);
	mails_free(&v);
	/* valid: on to awaiting_verification */
	pkg.errs = NULL;
	errlist_clear(r.errs);
	CHECK(store_filing_resubmit(t.st, id, tok, &pkg, &owner, &r) == 0);
	CHECK_INT(r.state, WF_AWAITING_VERIFICATION);
	CHECK_INT(state_of(t.st, id), WF_AWAITING_VERIFICATION);

	/* provider resubmission after a bureau rejection: new review round */
	CHECK(op_move(t.st, id, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECK(op_move(t.st, id, WF_RETURNED_TO_PROVIDER, NULL, T0, NULL) == 0);
	errlist_clear(r.errs);
	CHECK(store_filing_resubmit(t.st, id, tok, &pkg, &owner, &r) == 1);
	CHECK(errlist_has(r.errs, ERR_WRONG_STATE)); /* owners may not */
	errlist_clear(r.errs);
	owner = who_spool("P001", T0);
	CHECK(store_filing_resubmit(t.st, id, NULL, &pkg, &owner, &r) == 0);
	CHECK_INT(r.state, WF_UNDER_REVIEW);
	mails_load(t.st, &v);
	{
		int n = 0;

		for (size_t i = 0; i < v.n; i++)
			n += !strcmp(v.m[i].tpl, "review_request") &&
			    strstr(v.m[i].params, "\"review_round\":2") != NULL;
		CHECK_INT(n, 1);
	}
	mails_free(&v);
	errlist_free(r.errs);
	errlist_free(pe);
	tf_free(f);
	tctx_close(&t);
}

/* The review token of the latest review_request of id, from its params. */
static int
review_token(struct store *st, const char *id, char tok[17])
{
	struct mails v;
	int ok = 0;

	mails_load(st, &v);
	for (size_t i = 0; i < v.n; i++) {
		const char *p;

		if (v.m[i].filing == NULL || strcmp(v.m[i].filing, id) ||
		    strcmp(v.m[i].tpl, "review_request"))
			continue;
		if ((p = strstr(v.m[i].params, "\"review_token\":\"")) != NULL) {
			p += strlen("\"review_token\":\"");
			memcpy(tok, p, 16);
			tok[16] = '\0';
			ok = 1;
		}
	}
	mails_free(&v);
	return ok;
}

UNIT_TEST(store_review_token)
{
	struct tctx t;
	struct filing *f = tf_first("CERTT1", "tk", 1);
	struct store_transition_req req = { 0 };
	struct store_actor bureau = who_spool("P001", T0);
	struct store_result r = { 0 };
	char id[STORE_ID_SIZE], tok[17], old[17];
	struct mails v;

	tctx_open(&t);
	file_new(t.st, f, NULL, T0, id, NULL);
	CHECK(op_move(t.st, id, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECK(review_token(t.st, id, tok));
	mails_load(t.st, &v);
	{
		int i = mail_find(&v, id, "review_request", "bureau");

		CHECK(i >= 0 && !strcmp(v.m[i].to, "review@bureau.example"));
	}
	mails_free(&v);
	bureau.kind = WF_ACTOR_BUREAU;
	bureau.channel = WF_CHANNEL_MAIL;
	bureau.name = "review@bureau.example";
	bureau.provider = NULL;
	req.id = id;
	req.to = WF_RETURNED_TO_PROVIDER;
	req.review_token = "xxxxxxxxxxxxxxxx";
	r.errs = errlist_new();
	CHECK(store_transition(t.st, &req, &bureau, &r) == 1);
	CHECK(errlist_has(r.errs, ERR_TOKEN_INVALID));
	CHECK_INT(r.state, WF_UNDER_REVIEW);
	req.review_token = tok;
	errlist_clear(r.errs);
	CHECK(store_transition(t.st, &req, &bureau, &r) == 0);
	CHECK_INT(r.state, WF_RETURNED_TO_PROVIDER);
	/* a new round voids the old token */
	memcpy(old, tok, sizeof(old));
	{
		struct store_package pkg = { f, NULL, NULL, NULL };
		struct store_actor p = who_spool("P001", T0);

		errlist_clear(r.errs);
		CHECK(store_filing_resubmit(t.st, id, NULL, &pkg, &p, &r) == 0);
	}
	CHECK(review_token(t.st, id, tok));
	CHECK(strcmp(tok, old) != 0);
	req.to = WF_APPROVED;
	req.review_token = old;
	errlist_clear(r.errs);
	CHECK(store_transition(t.st, &req, &bureau, &r) == 1);
	CHECK(errlist_has(r.errs, ERR_TOKEN_INVALID));
	req.review_token = tok;
	errlist_clear(r.errs);
	CHECK(store_transition(t.st, &req, &bureau, &r) == 0);
	CHECK_INT(r.state, WF_APPROVED);
	errlist_free(r.errs);
	tf_free(f);
	tctx_close(&t);
}

UNIT_TEST(store_owner_withdraw_and_provider_scope)
{
	struct tctx t;
	struct filing *f = tf_first("CERTO1", "ow", 1);
	struct store_transition_req req = { 0 };
	struct store_actor w = who_spool("P002", T0);
	struct store_result r = { 0 };
	char id[STORE_ID_SIZE], tok[STORE_TOKEN_LEN + 1];
	char *owner = NULL;
	struct mails v;

	tctx_open(&t);
	file_new(t.st, f, NULL, T0, id, NULL);
	CHECK(store_filing_owner(t.st, id, &owner, tok) == 0);
	req.id = id;
	req.to = WF_WITHDRAWN;
	r.errs = errlist_new();
	CHECK(store_transition(t.st, &req, &w, &r) == 1);
	CHECK(errlist_has(r.errs, ERR_NOT_YOUR_FILING));
	w.kind = WF_ACTOR_OWNER;
	w.channel = WF_CHANNEL_MAIL;
	w.sender = "intruder@example.org";
	req.owner_token = tok;
	errlist_clear(r.errs);
	CHECK(store_transition(t.st, &req, &w, &r) == 1);
	CHECK(errlist_has(r.errs, ERR_SENDER_MISMATCH));
	w.sender = owner;
	errlist_clear(r.errs);
	CHECK(store_transition(t.st, &req, &w, &r) == 0);
	CHECK_INT(r.state, WF_WITHDRAWN);
	mails_load(t.st, &v);
	CHECK(mail_find(&v, id, "withdrawn", "owner") >= 0);
	CHECK(mail_find(&v, id, "withdrawn", "provider") >= 0);
	CHECK(mail_find(&v, id, "withdrawn", "bureau") < 0);
	mails_free(&v);
	free(owner);
	errlist_free(r.errs);
	tf_free(f);
	tctx_close(&t);
}

UNIT_TEST(store_outbox_states)
{
	struct tctx t;
	struct store_mail *due = NULL, *m = NULL;
	struct store_actor w = who_spool("P001", T0);
	size_t n = 0;
	int64_t id = 0;

	tctx_open(&t);
	w.channel = WF_CHANNEL_MAIL;
	w.kind = WF_ACTOR_OWNER;
	w.sender = "asker@example.org";
	CHECK(store_mail_loose(t.st, WF_TPL_HELP, "deadbeef0123", NULL, &w,
	    &id) == 0);
	CHECK(store_outbox_get(t.st, id, &m) == 0);
	if (m != NULL) {
		char want[128];

		snprintf(want, sizeof(want), "<deadbeef0123.%lld.help.sender@"
		    "provider.example>", (long long)m->event);
		CHECK_STR(m->message_id, want);
		CHECK_STR(m->to, "asker@example.org");
		CHECK_STR(m->state, "queued");
		CHECK(m->filing == NULL);
	}
	store_mail_free(m);
	CHECK(store_outbox_due(t.st, T0 - 1, 10, &due, &n) == 0 && n == 0);
	store_mails_free(due, n);
	CHECK(store_outbox_due(t.st, T0, 10, &due, &n) == 0 && n == 1);
	store_mails_free(due, n);
	CHECK(store_outbox_mark_sending(t.st, id) == 0);
	CHECK(store_outbox_mark_sending(t.st, id) == 1);
	CHECK(store_outbox_mark_deferred(t.st, id, T0 + 300, "451 later") == 0);
	CHECK(store_outbox_due(t.st, T0 + 299, 10, &due, &n) == 0 && n == 0);
	store_mails_free(due, n);
	CHECK(store_outbox_due(t.st, T0 + 300, 10, &due, &n) == 0 && n == 1);
	CHECK(n == 1 && due[0].attempts == 1 && !strcmp(due[0].last_reply,
	    "451 later"));
	store_mails_free(due, n);
	CHECK(store_outbox_mark_sending(t.st, id) == 0);
	CHECK(store_outbox_mark_failed(t.st, id, "550 no") == 0);
	CHECK(store_outbox_retry(t.st, id) == 0);
	CHECK(store_outbox_retry(t.st, id) == 1);
	CHECK(store_outbox_mark_sending(t.st, id) == 0);
	CHECK(store_outbox_recover(t.st) == 1);
	CHECK(store_outbox_get(t.st, id, &m) == 0);
	CHECK(m != NULL && !strcmp(m->state, "queued") && m->attempts == 3);
	store_mail_free(m);
	CHECK(store_outbox_get(t.st, 999, &m) == 1);
	tctx_close(&t);
}

UNIT_TEST(store_missing_recipient_fails_visibly)
{
	struct tctx t;
	struct filing *f = tf_first("CERTM1", "m", 1);
	struct store_package pkg = { NULL, NULL, NULL, NULL };
	struct store_actor w = who_spool("P999", T0); /* not configured */
	struct store_result r = { 0 };
	struct mails v;
	int i;

	tctx_open(&t);
	pkg.f = f;
	CHECK(store_filing_create(t.st, &pkg, &w, &r) == 0);
	mails_load(t.st, &v);
	i = mail_find(&v, r.id, "awaiting_verification", "provider");
	CHECK(i >= 0 && !strcmp(v.m[i].state, "failed") && v.m[i].to[0] == '\0');
	i = mail_find(&v, r.id, "received", "owner");
	CHECK(i >= 0 && !strcmp(v.m[i].state, "queued"));
	mails_free(&v);
	tf_free(f);
	tctx_close(&t);
}

UNIT_TEST(store_ingest_idempotent)
{
	struct tctx t;
	struct errlist *e = errlist_new(), *back = errlist_new();
	struct store_ingest in = { { 0 }, WF_NONE, 0, NULL };
	const char *sha = "ab12";

	tctx_open(&t);
	in.errs = back;
	CHECK(store_ingest_lookup(t.st, "P001", sha, &in) == 1);
	errlist_add(e, ERR_CERT_EXPIRED, "/filing/sponsor/principal/certValidTo",
	    "soon");
	errlist_add(e, ERR_ATTACHMENT_UNUSED, "notes.txt", "unused");
	CHECK(store_ingest_record(t.st, "P001", sha, "BA-2026-000005",
	    WF_INVALID, 0, e) == 0);
	CHECK(store_ingest_lookup(t.st, "P001", sha, &in) == 1); /* not final */
	CHECK(store_ingest_record(t.st, "P001", sha, "BA-2026-000005",
	    WF_INVALID, 1, e) == 0);
	CHECK(store_ingest_lookup(t.st, "P001", sha, &in) == 0);
	CHECK_STR(in.filing, "BA-2026-000005");
	CHECK_INT(in.state, WF_INVALID);
	CHECK_INT(errlist_count(back), 2);
	if (errlist_count(back) == 2) {
		CHECK_INT(errlist_get(back, 0)->code, ERR_CERT_EXPIRED);
		CHECK_STR(errlist_get(back, 0)->message, "soon");
		CHECK_INT(errlist_get(back, 1)->severity, SEV_WARNING);
	}
	CHECK(store_ingest_lookup(t.st, "P002", sha, &in) == 1);
	errlist_free(e);
	errlist_free(back);
	tctx_close(&t);
}

static int
count_cb(const char *kind, const char *name, long n, void *arg)
{
	long *v = arg;

	if (!strcmp(kind, "filings") && name && !strcmp(name, "invalid"))
		v[0] = n;
	if (!strcmp(kind, "quarantine"))
		v[1] = n;
	if (!strcmp(kind, "outbox") && name && !strcmp(name, "queued"))
		v[2] = n;
	return 0;
}

static int
q_cb(const char *item, const char *source, time_t at, const char *reason,
    void *arg)
{
	(*(int *)arg)++;
	return !(item && source && reason && at == T0);
}

static int
err_cb(time_t at, const char *source, const char *code, const char *message,
    void *arg)
{
	int *n = arg;

	if (*n == 0 && !strcmp(code, "E104"))
		*n = 1000;
	(*n)++;
	return 0;
}

static int
list_cb(const struct store_filing_info *i, void *arg)
{
	(*(int *)arg)++;
	return strcmp(i->state, "invalid") != 0;
}

UNIT_TEST(store_small_state)
{
	struct tctx t;
	long counts[3] = { -1, -1, -1 };
	int n = 0;
	uint32_t uv = 0, uid = 0;
	char code[16];

	tctx_open(&t);
	file_new(t.st, NULL, NULL, T0, NULL, NULL);
	file_new(t.st, NULL, NULL, T0, NULL, NULL);
	CHECK(store_quarantine_add(t.st, "x.zip", "P001", "worker crashed",
	    T0) == 0);
	CHECK(store_counts(t.st, count_cb, counts) == 0);
	CHECK_INT(counts[0], 2);
	CHECK_INT(counts[1], 1);
	CHECK_INT(counts[2], 2);
	CHECK(store_quarantine_list(t.st, q_cb, &n) == 0 && n == 1);
	CHECK(store_quarantine_remove(t.st, "x.zip") == 0);
	CHECK(store_quarantine_remove(t.st, "x.zip") == 1);
	n = 0;
	CHECK(store_filing_list(t.st, "invalid", list_cb, &n) == 0 && n == 2);
	n = 0;
	CHECK(store_filing_list(t.st, "approved", list_cb, &n) == 0 && n == 0);

	for (int i = 0; i < 105; i++) {
		snprintf(code, sizeof(code), "E%d", i);
		CHECK(store_error_add(t.st, "spool", code, "m", T0 + i) == 0);
	}
	n = 0;
	CHECK(store_errors_recent(t.st, 1000, err_cb, &n) == 0);
	CHECK_INT(n, 1100); /* newest first, 100 kept */

	CHECK(store_imap_get(t.st, "INBOX", &uv, &uid) == 1);
	CHECK(store_imap_set(t.st, "INBOX", 7, 42) == 0);
	CHECK(store_imap_set(t.st, "INBOX", 7, 43) == 0);
	CHECK(store_imap_get(t.st, "INBOX", &uv, &uid) == 0 && uv == 7 && uid == 43);

	CHECK(store_reply_take(t.st, "A@x.example", T0, 2) == 0);
	CHECK(store_reply_take(t.st, "a@x.example", T0, 2) == 0);
	CHECK(store_reply_take(t.st, "a@x.example", T0, 2) == 1);
	CHECK(store_reply_take(t.st, "a@x.example", T0 + DAY, 2) == 0);
	tctx_close(&t);
}

UNIT_TEST(store_attachments)
{
	struct tctx t;
	struct store_entry ent[2] = {
		{ "filing.xml", (const unsigned char *)"<filing/>", 9, NULL },
		{ "a.jpg", (const unsigned char *)"\xff\xd8", 2, NULL },
	};
	struct store_blob blob = { "archive-bytes", 13, NULL, 0 };
	unsigned char known[32];
	char sha[65], sha2[65], path[512];
	struct stat sb;
	char id[STORE_ID_SIZE];

	tctx_open(&t);
	file_new(t.st, NULL, NULL, T0, id, NULL);
	CHECK(store_attachment_put(t.st, id, "package", &blob, ent, 2, sha) ==
	    0);
	/* sha256("archive-bytes"), by sha256sum */
	CHECK_STR(sha, "0c982986710a026635603031674053ca851fc0e3ea760094a34f59b84f7f6da6");
	CHECK(store_attachment_path(t.st, sha, path, sizeof(path)) == 0);
	CHECK(stat(path, &sb) == 0 && sb.st_size == 13 &&
	    (sb.st_mode & 0777) == 0600);
	/* stored once; hashes the caller has are taken, not computed (an
	 * entry without its bytes, as a lean worker answer gives it) */
	sha256("archive-bytes", 13, known);
	blob.sha256 = known;
	ent[1].data = NULL;
	ent[1].sha256 = known;
	CHECK(store_attachment_put(t.st, id, "package", &blob, ent, 2, sha2) ==
	    0);
	CHECK_STR(sha, sha2);
	CHECK(store_attachment_latest(t.st, id, "package", sha2) == 0);
	CHECK_STR(sha, sha2);
	CHECK(store_attachment_latest(t.st, id, "verification", sha2) == 1);
	CHECK(store_attachment_path(t.st, "../../etc", path, sizeof(path)) == -1);
	tctx_close(&t);
}

/* A blob written ahead of its group (blob_put, unsynced) is only
 * recorded by the group; one no attachment names is dropped, one named
 * stays. */
UNIT_TEST(store_blob_ahead)
{
	struct tctx t;
	struct store_entry ent = { "filing.xml",
	    (const unsigned char *)"<filing/>", 9, NULL };
	unsigned char d1[32], d2[32];
	struct store_blob b1 = { NULL, 9, d1, 1 };
	char id[STORE_ID_SIZE], sha[65], hex[65], p1[512], p2[512], err[256];
	struct stat sb;
	int created = -1;

	tctx_open(&t);
	sha256("ahead-one", 9, d1);
	sha256("ahead-two", 9, d2);
	sha256_to_hex(d1, hex);
	CHECK(store_attachment_path(t.st, hex, p1, sizeof(p1)) == 0);
	sha256_to_hex(d2, hex);
	CHECK(store_attachment_path(t.st, hex, p2, sizeof(p2)) == 0);
	sha256_to_hex(d1, hex);
	CHECK(blob_put(t.dir, hex, "ahead-one", 9, BLOB_NOSYNC, &created, err,
	    sizeof(err)) == 0 && created == 1);
	CHECK(blob_put(t.dir, hex, "ahead-one", 9, BLOB_NOSYNC, &created, err,
	    sizeof(err)) == 0 && created == 0);
	sha256_to_hex(d2, hex);
	CHECK(blob_put(t.dir, hex, "ahead-two", 9, BLOB_NOSYNC, &created, err,
	    sizeof(err)) == 0 && created == 1);
	CHECK(stat(p1, &sb) == 0 && sb.st_size == 9 &&
	    (sb.st_mode & 0777) == 0600);
	/* recorded without its bytes */
	file_new(t.st, NULL, NULL, T0, id, NULL);
	CHECK(store_begin(t.st) == 0);
	CHECK(store_attachment_put(t.st, id, "package", &b1, &ent, 1, sha) ==
	    0);
	CHECK(store_commit(t.st) == 0);
	CHECK(store_blob_drop(t.st, d1) == 0);
	CHECK(stat(p1, &sb) == 0);
	CHECK(store_blob_drop(t.st, d2) == 0);
	CHECK(stat(p2, &sb) == -1);
	CHECK(store_blob_drop(t.st, d2) == 0); /* gone already */
	tctx_close(&t);
}

/* Outbox rows above the horizon wait: due, next due and oldest deferred. */
UNIT_TEST(store_outbox_horizon)
{
	struct tctx t;
	struct store_actor w = who_spool("P001", T0);
	struct store_mail *due = NULL;
	int64_t id1 = 0, id2 = 0, last = -1;
	time_t when;
	size_t n;

	tctx_open(&t);
	CHECK(store_outbox_last(t.st, &last) == 0 && last == 0);
	w.channel = WF_CHANNEL_MAIL;
	w.kind = WF_ACTOR_OWNER;
	w.sender = "asker@example.org";
	CHECK(store_mail_loose(t.st, WF_TPL_HELP, "0123456789abcdef", NULL,
	    &w, &id1) == 0);
	CHECK(store_outbox_last(t.st, &last) == 0 && last == id1);
	CHECK(store_mail_loose(t.st, WF_TPL_HELP, "fedcba9876543210", NULL,
	    &w, &id2) == 0);
	store_outbox_horizon(t.st, id1);
	CHECK(store_outbox_due(t.st, T0 + 10, 10, &due, &n) == 0 && n == 1 &&
	    due[0].id == id1);
	store_mails_free(due, n);
	CHECK(store_outbox_mark_sending(t.st, id1) == 0);
	CHECK(store_outbox_mark_sent(t.st, id1, "250 ok") == 0);
	CHECK_INT(store_outbox_next_due(t.st, &when), 1);
	CHECK(store_outbox_due(t.st, T0 + 10, 10, &due, &n) == 0 && n == 0);
	store_mails_free(due, n);
	store_outbox_horizon(t.st, 0);
	CHECK(store_outbox_next_due(t.st, &when) == 0);
	CHECK(store_outbox_due(t.st, T0 + 10, 10, &due, &n) == 0 && n == 1 &&
	    due[0].id == id2);
	store_mails_free(due, n);
	tctx_close(&t);
}

/* Each child files and approves n filings in its own connection. */
static int
child_approve(const char *db, const struct config *cfg, int who, int n)
{
	char err[256], cert[32], tag[16], id[STORE_ID_SIZE];
	struct store *st = store_open(db, cfg, err, sizeof(err));

	if (st == NULL)
		return 10;
	for (int i = 0; i < n; i++) {
		struct filing *f;
		struct store_package pkg = { NULL, NULL, NULL, NULL };
		struct store_actor w = who_spool("P001", T0);
		struct store_actor op = who_op(T0);
		struct store_transition_req req = { 0 };
		struct store_result r = { 0 };

		snprintf(cert, sizeof(cert), "CHILD%d-%d", who, i);
		snprintf(tag, sizeof(tag), "c%d-%d", who, i);
		f = tf_first(cert, tag, 1);
		pkg.f = f;
		if (store_filing_create(st, &pkg, &w, &r) != 0 ||
		    r.state != WF_AWAITING_VERIFICATION) {
			tf_free(f);
			return 11;
		}
		tf_free(f);
		strlcpy(id, r.id, sizeof(id));
		req.id = id;
		req.to = WF_UNDER_REVIEW;
		if (store_transition(st, &req, &op, &r) != 0)
			return 12;
		req.to = WF_APPROVED;
		if (store_transition(st, &req, &op, &r) != 0)
			return 13;
	}
	store_close(st);
	return 0;
}

struct seen {
	int n, bad;
	unsigned char serial[64];
	struct store *st;
};

static int
seen_cb(const struct store_filing_info *i, void *arg)
{
	struct seen *s = arg;

	s->n++;
	(void)i;
	return 0;
}

UNIT_TEST(store_numbers_two_processes)
{
	enum { N = 12 };
	struct tctx t;
	pid_t pid[2];
	struct seen s = { 0 };
	int status;
	char id[STORE_ID_SIZE];

	tctx_open(&t);
	store_close(t.st); /* no connection across fork */
	t.st = NULL;
	for (int c = 0; c < 2; c++) {
		fflush(NULL);
		pid[c] = fork();
		if (pid[c] == 0)
			_exit(child_approve(t.db, &t.cfg, c, N));
	}
	for (int c = 0; c < 2; c++) {
		CHECK(waitpid(pid[c], &status, 0) == pid[c]);
		CHECKM(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "child %d status %d", c, status);
	}
	{
		char err[256];

		t.st = store_open(t.db, &t.cfg, err, sizeof(err));
	}
	CHECK(t.st != NULL);
	if (t.st == NULL)
		return;
	CHECK(store_filing_list(t.st, "approved", seen_cb, &s) == 0);
	CHECK_INT(s.n, 2 * N);
	/* tracking ids and subject numbers: 1..2N, each once */
	for (int k = 1; k <= 2 * N; k++) {
		struct store_filing_detail *d = NULL;
		unsigned serial;

		snprintf(id, sizeof(id), "BA-2026-%06d", k);
		CHECKM(store_filing_show(t.st, id, &d) == 0, "%s", id);
		if (d == NULL)
			continue;
		CHECKM(d->subject_licence != NULL &&
		    sscanf(d->subject_licence, "京ICP备2026%6u号", &serial) == 1 &&
		    serial >= 1 && serial <= 2 * N, "%s", id);
		if (d->subject_licence != NULL &&
		    sscanf(d->subject_licence, "京ICP备2026%6u号", &serial) == 1 &&
		    serial >= 1 && serial <= 2 * N) {
			CHECKM(!s.serial[serial], "serial %u twice", serial);
			s.serial[serial] = 1;
		}
		store_filing_detail_free(d);
	}
	for (int k = 1; k <= 2 * N; k++)
		CHECKM(s.serial[k], "serial %d missing", k);
	tctx_close(&t);
}

UNIT_TEST(store_import_subjects)
{
	struct tctx t;
	struct store_import_row row = {
		"京ICP备2026000002号", "京ICP备2026000002号-3", "旧单位",
		"uscc", "CERTI1", "old.example.cn legacy.example.cn",
		"boss@old.example.cn", "P001 P002"
	};
	struct errlist *e = errlist_new();
	struct filing *f;
	char id[STORE_ID_SIZE], lic[64], pw[32];

	tctx_open(&t);
	CHECK(store_subject_import(t.st, &row, e) == 0);
	CHECK(store_subject_import(t.st, &row, e) == 1);
	CHECK(errlist_has(e, ERR_LICENCE_CONFLICT));
	/* imported: no password, but cancelAccess by one of two providers works */
	CHECK(store_password_check(t.st, "京ICP备2026000002号", "x") == -1);
	f = tf_other(FILING_CANCEL_ACCESS, FILING_MODE_DELEGATED,
	    "京ICP备2026000002号", "京ICP备2026000002号-3", NULL);
	CHECK_INT(file_new(t.st, f, NULL, T0, id, NULL), WF_AWAITING_VERIFICATION);
	CHECK(op_move(t.st, id, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECK(op_move(t.st, id, WF_APPROVED, NULL, T0, NULL) == 0);
	tf_free(f);
	/* its domains belong to it */
	f = tf_first("CERTI2", "legacy", 1);
	free(f->websites[0].domains[0]);
	f->websites[0].domains[0] = xstrdup("legacy.example.cn");
	errlist_clear(e);
	CHECK_INT(file_new(t.st, f, NULL, T0, id, e), WF_INVALID);
	CHECK(errlist_has(e, ERR_DOMAIN_CONFLICT));
	tf_free(f);
	/* the local sequence skips the imported number */
	approved_subject(t.st, "CERTI3", "i3", lic, sizeof(lic), pw, sizeof(pw));
	CHECK_STR(lic, "京ICP备2026000001号");
	approved_subject(t.st, "CERTI4", "i4", lic, sizeof(lic), pw, sizeof(pw));
	CHECK_STR(lic, "京ICP备2026000003号");
	/* a second site of the same subject; a bad row */
	row.site_licence = "京ICP备2026000002号-1";
	row.domains = "second.example.cn";
	errlist_clear(e);
	CHECK(store_subject_import(t.st, &row, e) == 0);
	row.site_licence = "京ICP备2026000009号-1";
	CHECK(store_subject_import(t.st, &row, e) == 1);
	CHECK(errlist_has(e, ERR_LICENCE_FORMAT));
	errlist_free(e);
	tctx_close(&t);
}
