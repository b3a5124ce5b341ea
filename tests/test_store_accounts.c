/*
 * test_store_accounts: the console's accounts and sessions
 * (store/accounts.c), and what a console action leaves in the events
 * (channel web, its origin; a bureau account bound to its province).
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/workflow.h"
#include "parsers/errlist.h"
#include "store/accounts.h"
#include "store/query.h"
#include "store/store.h"
#include "store/transition.h"
#include "test_store.h"
#include "unit.h"

UNIT_TEST(store_role_words)
{
	static const struct {
		const char *s;
		int ok;
		enum store_role_kind kind;
		const char *code;
	} rows[] = {
		{ "operator", 1, STORE_ROLE_OPERATOR, "" },
		{ "provider:P001", 1, STORE_ROLE_PROVIDER, "P001" },
		{ "provider:a_b-9", 1, STORE_ROLE_PROVIDER, "a_b-9" },
		{ "bureau:11", 1, STORE_ROLE_BUREAU, "11" },
		{ "bureau:1", 0, 0, NULL },
		{ "bureau:111", 0, 0, NULL },
		{ "bureau:ab", 0, 0, NULL },
		{ "provider:", 0, 0, NULL },
		{ "provider:-x", 0, 0, NULL },
		{ "provider:a/b", 0, 0, NULL },
		{ "provider:<script>", 0, 0, NULL },
		{ "provider:P01234567890123456789012345678901", 0, 0, NULL },
		{ "Operator", 0, 0, NULL },
		{ "", 0, 0, NULL },
		{ "admin", 0, 0, NULL },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct store_role r;
		char back[64];
		int rc = store_role_parse(rows[i].s, &r);

		CHECKM((rc == 0) == rows[i].ok, "%s", rows[i].s);
		if (rc != 0 || !rows[i].ok)
			continue;
		CHECKM(r.kind == rows[i].kind, "%s", rows[i].s);
		CHECK_STR(r.code, rows[i].code);
		store_role_format(&r, back, sizeof(back));
		CHECK_STR(back, rows[i].s);
	}
	CHECK(store_account_name_valid("li.si@p001"));
	CHECK(store_account_name_valid("a"));
	CHECK(!store_account_name_valid(""));
	CHECK(!store_account_name_valid("-x"));
	CHECK(!store_account_name_valid("a b"));
	CHECK(!store_account_name_valid("<b>"));
	CHECK(!store_account_name_valid("李四"));
}

struct names {
	char buf[256];
	int n;
};

static int
names_cb(const struct store_account *a, void *arg)
{
	struct names *nm = arg;

	strcat(nm->buf, a->name);
	strcat(nm->buf, a->disabled ? "(off) " : " ");
	nm->n++;
	return 0;
}

UNIT_TEST(store_accounts_passwords)
{
	struct tctx t;
	struct store_account *a = NULL;
	struct names nm = { "", 0 };
	sqlite3 *db;
	sqlite3_stmt *s;

	tctx_open(&t);
	CHECK_INT(store_account_add(t.st, "verifier", "provider:P001",
	    "correct horse", T0), 0);
	CHECK_INT(store_account_add(t.st, "verifier", "operator", "x1234567",
	    T0), 1);
	CHECK_INT(store_account_add(t.st, "reviewer", "bureau:11", "s3cret-s3cret",
	    T0), 0);
	CHECK_INT(store_account_get(t.st, "verifier", &a), 0);
	CHECK_STR(a->role, "provider:P001");
	CHECK_INT(a->last_login, 0);
	store_account_free(a);
	a = NULL;
	CHECK_INT(store_account_get(t.st, "nobody", &a), 1);

	CHECK_INT(store_account_login(t.st, "verifier", "correct horse",
	    T0 + 5, &a), 0);
	CHECK(a != NULL && a->last_login == T0 + 5);
	store_account_free(a);
	a = NULL;
	CHECK_INT(store_account_login(t.st, "verifier", "wrong horse", T0, &a),
	    1);
	CHECK_INT(store_account_login(t.st, "nobody", "correct horse", T0, &a),
	    1);
	CHECK(a == NULL);

	/* a new password: the old one is refused, the new one works */
	CHECK_INT(store_account_password(t.st, "verifier", "battery staple",
	    T0), 0);
	CHECK_INT(store_account_password(t.st, "nobody", "battery staple",
	    T0), 1);
	CHECK_INT(store_account_login(t.st, "verifier", "correct horse", T0,
	    &a), 1);
	CHECK_INT(store_account_login(t.st, "verifier", "battery staple", T0,
	    &a), 0);
	store_account_free(a);
	a = NULL;

	/* disabled: the right password no longer logs in */
	CHECK_INT(store_account_set_disabled(t.st, "verifier", 1, T0), 0);
	CHECK_INT(store_account_login(t.st, "verifier", "battery staple", T0,
	    &a), 1);
	CHECK_INT(store_account_set_disabled(t.st, "nobody", 1, T0), 1);
	CHECK_INT(store_account_list(t.st, names_cb, &nm), 0);
	CHECK_STR(nm.buf, "reviewer verifier(off) ");
	CHECK_INT(store_account_set_disabled(t.st, "verifier", 0, T0), 0);
	CHECK_INT(store_account_login(t.st, "verifier", "battery staple", T0,
	    &a), 0);
	store_account_free(a);

	/* the hash is Argon2id; no password is kept in clear */
	CHECK(sqlite3_open(t.db, &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "SELECT password_hash FROM accounts",
	    -1, &s, NULL) == SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(s, 0);

		CHECKM(strncmp(h, "$argon2id$", 10) == 0, "%s", h);
		CHECK(strstr(h, "battery") == NULL && strstr(h, "s3cret") == NULL);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	tctx_close(&t);
}

UNIT_TEST(store_sessions)
{
	struct tctx t;
	struct store_session ss;
	char id[STORE_SESSION_ID_LEN + 1], csrf[STORE_CSRF_LEN + 1];
	char id2[STORE_SESSION_ID_LEN + 1], csrf2[STORE_CSRF_LEN + 1];
	char bad[STORE_SESSION_ID_LEN + 1];
	sqlite3 *db;
	sqlite3_stmt *s;
	int found;

	tctx_open(&t);
	CHECK_INT(store_account_add(t.st, "v", "provider:P001", "pw-pw-pw-pw",
	    T0), 0);
	CHECK_INT(store_session_new(t.st, "nobody", "127.0.0.1", T0, 60, id,
	    csrf), 1);
	CHECK_INT(store_session_new(t.st, "v", "127.0.0.1", T0, 60, id, csrf),
	    0);
	CHECK_INT(strlen(id), STORE_SESSION_ID_LEN);
	CHECK_INT(strlen(csrf), STORE_CSRF_LEN);
	CHECK(strcmp(id, csrf) != 0);

	CHECK_INT(store_session_get(t.st, id, T0 + 10, 60, 5, &ss), 0);
	CHECK_STR(ss.account->name, "v");
	CHECK_STR(ss.account->role, "provider:P001");
	CHECK_STR(ss.csrf, csrf);
	CHECK_INT(ss.seen, T0 + 10);
	store_session_clear(&ss);
	/* seen again within the touch interval: not written */
	CHECK_INT(store_session_get(t.st, id, T0 + 12, 60, 5, &ss), 0);
	CHECK_INT(ss.seen, T0 + 10);
	store_session_clear(&ss);
	/* idle for the limit from the last seen: ended */
	CHECK_INT(store_session_get(t.st, id, T0 + 69, 60, 5, &ss), 0);
	store_session_clear(&ss);
	CHECK_INT(store_session_get(t.st, id, T0 + 69 + 60, 60, 5, &ss), 1);
	CHECK_INT(store_session_get(t.st, id, T0 + 70, 60, 5, &ss), 1);

	/* an id not of 64 hex digits, or one never issued */
	memcpy(bad, id, sizeof(bad));
	bad[0] = bad[0] == 'a' ? 'b' : 'a';
	CHECK_INT(store_session_get(t.st, bad, T0, 60, 5, &ss), 1);
	CHECK_INT(store_session_get(t.st, "' OR 1=1 --", T0, 60, 5, &ss), 1);
	CHECK_INT(store_session_get(t.st, "", T0, 60, 5, &ss), 1);

	/* logout ends it; disabling the account ends the others */
	CHECK_INT(store_session_new(t.st, "v", NULL, T0, 60, id, csrf), 0);
	CHECK_INT(store_session_new(t.st, "v", NULL, T0, 60, id2, csrf2), 0);
	CHECK(strcmp(csrf, csrf2) != 0);
	CHECK_INT(store_session_end(t.st, id), 0);
	CHECK_INT(store_session_get(t.st, id, T0 + 1, 60, 5, &ss), 1);
	CHECK_INT(store_session_get(t.st, id2, T0 + 1, 60, 5, &ss), 0);
	store_session_clear(&ss);
	CHECK_INT(store_account_set_disabled(t.st, "v", 1, T0 + 2), 0);
	CHECK_INT(store_session_get(t.st, id2, T0 + 3, 60, 5, &ss), 1);
	CHECK_INT(store_account_set_disabled(t.st, "v", 0, T0 + 2), 0);
	CHECK_INT(store_session_get(t.st, id2, T0 + 3, 60, 5, &ss), 1);

	/* a new password ends every session of the account */
	CHECK_INT(store_session_new(t.st, "v", NULL, T0, 60, id, csrf), 0);
	CHECK_INT(store_account_password(t.st, "v", "another-one", T0), 0);
	CHECK_INT(store_session_get(t.st, id, T0 + 1, 60, 5, &ss), 1);

	/* at most STORE_SESSIONS_MAX per account: the oldest go */
	CHECK_INT(store_session_new(t.st, "v", NULL, T0, 600, id, csrf), 0);
	for (int i = 1; i <= STORE_SESSIONS_MAX; i++)
		CHECK_INT(store_session_new(t.st, "v", NULL, T0 + i, 600, id2,
		    csrf2), 0);
	CHECK_INT(store_session_get(t.st, id, T0 + 20, 600, 5, &ss), 1);
	CHECK_INT(store_session_get(t.st, id2, T0 + 20, 600, 5, &ss), 0);
	store_session_clear(&ss);
	CHECK(store_sessions_prune(t.st, T0 + 20 + 600, 600) >= 1);
	CHECK_INT(store_session_get(t.st, id2, T0 + 21, 600, 5, &ss), 1);

	/* the database has the id's digest, never the id */
	CHECK_INT(store_session_new(t.st, "v", NULL, T0, 60, id, csrf), 0);
	CHECK(sqlite3_open(t.db, &db) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, "SELECT id_hash FROM sessions", -1, &s,
	    NULL) == SQLITE_OK);
	found = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		found++;
		CHECK(strcmp((const char *)sqlite3_column_text(s, 0), id) != 0);
	}
	CHECK_INT(found, 1);
	sqlite3_finalize(s);
	sqlite3_close(db);
	tctx_close(&t);
}

/* A console action: channel web, the origin kept; a bureau account acts
 * in its own province only. */
UNIT_TEST(store_console_events)
{
	struct tctx t;
	struct store_filing_detail *d = NULL;
	struct store_transition_req req = { 0 };
	struct store_actor w = { 0 };
	struct store_result r = { 0 };
	struct filing *f;
	char id[STORE_ID_SIZE];

	tctx_open(&t);
	f = tf_first("CERTWEB01", "web", 1);
	CHECK(file_new(t.st, f, NULL, T0, id, NULL) == WF_AWAITING_VERIFICATION);
	tf_free(f);
	CHECK_INT(op_move(t.st, id, WF_UNDER_REVIEW, NULL, T0, NULL), 0);

	r.errs = errlist_new();
	w.kind = WF_ACTOR_BUREAU;
	w.channel = WF_CHANNEL_WEB;
	w.name = "reviewer";
	w.origin = "192.0.2.7";
	w.province = "12";
	w.now = T0 + 60;
	req.id = id;
	req.to = WF_APPROVED;
	/* another province's reviewer: refused, no token asked */
	CHECK_INT(store_transition(t.st, &req, &w, &r), 1);
	CHECK(errlist_has(r.errs, ERR_NOT_YOUR_FILING));
	CHECK(!errlist_has(r.errs, ERR_TOKEN_INVALID));
	errlist_free(r.errs);
	r.errs = errlist_new();
	w.province = "11";
	CHECK_INT(store_transition(t.st, &req, &w, &r), 0);
	CHECK(r.state == WF_APPROVED);
	errlist_free(r.errs);

	CHECK_INT(store_filing_show(t.st, id, &d), 0);
	CHECK(d->nevents >= 2);
	if (d->nevents >= 2) {
		const struct store_event *e = &d->events[d->nevents - 1];

		CHECK_STR(e->channel, "web");
		CHECK_STR(e->actor, "reviewer");
		CHECK_STR(e->actor_kind, "bureau");
		CHECK_STR(e->origin, "192.0.2.7");
		CHECK(d->events[0].origin == NULL);
	}
	store_filing_detail_free(d);
	tctx_close(&t);
}
