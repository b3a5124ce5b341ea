/*
 * test_store_limits: what the store does against hostile senders
 * (DESIGN.md) — recipient_max on the mails mail intake causes to an
 * outside address (capped rows, retry, the exemptions), no password
 * lockout and the owner told once a day, the counters and the limit
 * rows `beianctl status` shows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/workflow.h"
#include "lib/xmalloc.h"
#include "parsers/filing.h"
#include "store/filings.h"
#include "store/metrics.h"
#include "store/outbox.h"
#include "store/status.h"
#include "store/store.h"
#include "store/transition.h"
#include "test_store.h"
#include "unit.h"

#define VICTIM "victim@third-party.example"

/* A package mailed From addr (the owner address it names). */
static struct store_actor
who_mail(const char *addr, time_t now)
{
	struct store_actor w = { 0 };

	w.kind = WF_ACTOR_OWNER;
	w.channel = WF_CHANNEL_MAIL;
	w.name = addr;
	w.provider = "P001";
	w.sender = addr;
	w.no_sender_mail = 1; /* refusals are daemon/intake.c's */
	w.source = "<m@mua.example>";
	w.now = now;
	return w;
}

/* A self-mode first filing naming owner, filed as w: its state. */
static enum wf_state
file_as(struct store *st, const char *cert, const char *tag,
    const char *owner, const struct store_actor *w, char id[STORE_ID_SIZE])
{
	struct filing *f = tf_first(cert, tag, 1);
	struct store_package pkg = { f, "<filing/>", NULL, NULL };
	struct store_result r = { 0 };
	int rc;

	f->mode = FILING_MODE_SELF;
	free(f->sponsor->principal->email);
	f->sponsor->principal->email = xstrdup(owner);
	pkg.from = w->channel == WF_CHANNEL_MAIL ? w->name : NULL;
	r.errs = errlist_new();
	rc = store_filing_create(st, &pkg, w, &r);
	CHECKM(rc == 0, "create: %s", store_errmsg(st));
	if (id != NULL)
		snprintf(id, STORE_ID_SIZE, "%s", r.id);
	errlist_free(r.errs);
	tf_free(f);
	return rc == 0 ? r.state : WF_NONE;
}

/* The state and last_reply of the received mail to the owner of id. */
static int
received_capped(struct store *st, const char *id, int64_t *mail)
{
	struct mails v;
	struct store_mail *m = NULL;
	int i, capped = -1;

	mails_load(st, &v);
	i = mail_find(&v, id, "received", "owner");
	if (i >= 0 && store_outbox_get(st, v.m[i].id, &m) == 0) {
		capped = strcmp(m->state, "failed") == 0 &&
		    m->last_reply != NULL &&
		    strcmp(m->last_reply, STORE_CAPPED_REPLY) == 0;
		CHECKM(capped || strcmp(m->state, "queued") == 0, "%s: %s",
		    id, m->state);
		if (mail != NULL)
			*mail = m->id;
	}
	store_mail_free(m);
	mails_free(&v);
	return capped;
}

static int
limits_cb(const char *name, time_t since, const char *detail, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s@%lld:%s\n", name, (long long)since,
	    detail);
	return 0;
}

UNIT_TEST(store_recipient_max)
{
	struct tctx t;
	char id[8][STORE_ID_SIZE], lim[512] = "";
	struct store_actor w;
	int64_t mail = 0, n = -1;

	tctx_open(&t);
	t.cfg.smtp_recipient_max = 3;
	/* mail intake: three to the outside address, then capped */
	for (int i = 0; i < 5; i++) {
		char cert[16], tag[8];

		snprintf(cert, sizeof(cert), "CERTR%d", i);
		snprintf(tag, sizeof(tag), "r%d", i);
		/* the address compared without regard to case */
		w = who_mail(i == 4 ? "Victim@THIRD-party.example" : VICTIM,
		    T0 + i);
		CHECK_INT(file_as(t.st, cert, tag, w.name, &w, id[i]),
		    WF_AWAITING_VERIFICATION);
		CHECKM(received_capped(t.st, id[i], i == 3 ? &mail : NULL) ==
		    (i >= 3), "filing %d", i);
	}
	/* the provider's mails of the same filings are never capped */
	{
		struct mails v;

		mails_load(t.st, &v);
		for (size_t i = 0; i < v.n; i++)
			if (strcmp(v.m[i].role, "owner") != 0)
				CHECKM(strcmp(v.m[i].state, "queued") == 0,
				    "%s to %s: %s", v.m[i].tpl, v.m[i].to,
				    v.m[i].state);
		mails_free(&v);
	}
	CHECK(store_counter_get(t.st, "mails_capped", &n) == 0);
	CHECK_INT(n, 2);
	CHECK(store_limits_list(t.st, limits_cb, lim) == 0);
	CHECKM(strstr(lim, "recipient_max@") == lim &&
	    strstr(lim, ":2 mails caused by mail intake") != NULL, "%s", lim);
	/* retry sends a capped mail anyway: queued, due now */
	CHECK(store_outbox_retry(t.st, mail) == 0);
	CHECK_INT(received_capped(t.st, id[3], NULL), 0);
	/* an authenticated channel is never capped (spool, CLI) */
	w = who_spool("P001", T0 + 10);
	CHECK_INT(file_as(t.st, "CERTR5", "r5", VICTIM, &w, id[5]),
	    WF_AWAITING_VERIFICATION);
	CHECK_INT(received_capped(t.st, id[5], NULL), 0);
	/* the next CST day the address may be mailed again */
	w = who_mail(VICTIM, T0 + DAY);
	CHECK_INT(file_as(t.st, "CERTR6", "r6", VICTIM, &w, id[6]),
	    WF_AWAITING_VERIFICATION);
	CHECK_INT(received_capped(t.st, id[6], NULL), 0);
	tctx_close(&t);
}

UNIT_TEST(store_recipient_max_approval_exempt)
{
	struct tctx t;
	struct store_transition_req req = { 0 };
	struct store_result r = { 0 };
	struct store_actor w = who_mail(VICTIM, T0), bureau = w;
	char id[STORE_ID_SIZE], tok[17] = "";
	struct mails v;
	int i;

	tctx_open(&t);
	t.cfg.smtp_recipient_max = 0; /* nothing mail-caused goes out */
	CHECK_INT(file_as(t.st, "CERTA1", "a1", VICTIM, &w, id),
	    WF_AWAITING_VERIFICATION);
	CHECK_INT(received_capped(t.st, id, NULL), 1);
	CHECK(op_move(t.st, id, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	mails_load(t.st, &v);
	i = mail_find(&v, id, "review_request", "bureau");
	if (i >= 0) {
		const char *p = strstr(v.m[i].params, "\"review_token\":\"");

		if (p != NULL)
			snprintf(tok, sizeof(tok), "%.16s",
			    p + strlen("\"review_token\":\""));
	}
	mails_free(&v);
	/* the bureau approves by mail: the approval with the password goes */
	bureau.kind = WF_ACTOR_BUREAU;
	bureau.name = "review@bureau.example";
	bureau.provider = NULL;
	req.id = id;
	req.to = WF_APPROVED;
	req.review_token = tok;
	r.errs = errlist_new();
	CHECK(store_transition(t.st, &req, &bureau, &r) == 0);
	mails_load(t.st, &v);
	i = mail_find(&v, id, "approved_owner", "owner");
	CHECK(i >= 0 && strcmp(v.m[i].state, "queued") == 0 &&
	    v.m[i].secret != NULL);
	mails_free(&v);
	errlist_free(r.errs);
	tctx_close(&t);
}

UNIT_TEST(store_password_no_lockout)
{
	struct tctx t;
	char lic[64], site[80], pw[32], id[STORE_ID_SIZE];
	struct errlist *e = errlist_new();
	struct store_package pkg = { NULL, "<filing/>", NULL, NULL };
	struct store_actor w;
	struct store_result r = { 0 };
	struct filing *c;
	struct mails v;
	int64_t n = 0;
	size_t notices;

	tctx_open(&t);
	approved_subject(t.st, "CERTP1", "p", lic, sizeof(lic), pw, sizeof(pw));
	snprintf(site, sizeof(site), "%s-1", lic);
	c = tf_other(FILING_CANCEL_SITE, FILING_MODE_SELF, lic, site,
	    "WRONGpass234");
	pkg.f = c;
	r.errs = e;
	/* a stranger forging the owner's address, many times a day */
	for (int i = 0; i < 8; i++) {
		w = who_mail("owner-p@example.cn", T0 + i);
		pkg.from = w.name;
		errlist_clear(e);
		CHECK(store_filing_create(t.st, &pkg, &w, &r) == 0);
		CHECK_INT(r.state, WF_INVALID);
		CHECKM(errlist_has(e, ERR_PASSWORD_WRONG) &&
		    errlist_count(e) == 1, "try %d", i);
	}
	CHECK(store_counter_get(t.st, "password_failures", &n) == 0);
	CHECK_INT(n, 8);
	/* the owner on record is told once, without the password tried */
	mails_load(t.st, &v);
	notices = 0;
	for (size_t i = 0; i < v.n; i++) {
		if (strcmp(v.m[i].tpl, "password_failed") != 0)
			continue;
		notices++;
		CHECK(v.m[i].filing == NULL);
		CHECK_STR(v.m[i].to, "owner-p@example.cn");
		CHECK_STR(v.m[i].role, "owner");
		CHECK(strstr(v.m[i].params, "WRONGpass234") == NULL);
		CHECK(strstr(v.m[i].params, lic) != NULL);
		CHECK(v.m[i].secret == NULL);
	}
	mails_free(&v);
	CHECK_INT(notices, 1);
	/* the owner, right after, with the right password: no lockout */
	free(c->password);
	c->password = xstrdup(pw);
	w = who_mail("owner-p@example.cn", T0 + 60);
	errlist_clear(e);
	CHECK(store_filing_create(t.st, &pkg, &w, &r) == 0);
	CHECK_INT(r.state, WF_AWAITING_VERIFICATION);
	CHECK_INT(errlist_count(e), 0);
	strcpy(id, r.id);
	CHECK(op_move(t.st, id, WF_WITHDRAWN, NULL, T0 + 61, NULL) == 0);
	/* another day, another notice (one a day per subject) */
	free(c->password);
	c->password = xstrdup("WRONGpass567");
	w = who_spool("P001", T0 + DAY);
	pkg.from = NULL;
	errlist_clear(e);
	CHECK(store_filing_create(t.st, &pkg, &w, &r) == 0);
	CHECK(errlist_has(e, ERR_PASSWORD_WRONG));
	mails_load(t.st, &v);
	notices = 0;
	for (size_t i = 0; i < v.n; i++)
		notices += strcmp(v.m[i].tpl, "password_failed") == 0;
	mails_free(&v);
	CHECK_INT(notices, 2);
	errlist_free(e);
	tf_free(c);
	tctx_close(&t);
}

UNIT_TEST(store_limit_rows)
{
	struct tctx t;
	char out[512] = "";

	tctx_open(&t);
	CHECK(store_limit_set(t.st, "sender_max", "1 sender", T0) == 0);
	CHECK(store_limit_set(t.st, "min_free", "low", T0 + 5) == 0);
	/* set again: the detail changes, since stays */
	CHECK(store_limit_set(t.st, "sender_max", "2 senders", T0 + 9) == 0);
	CHECK(store_limits_list(t.st, limits_cb, out) == 0);
	CHECKM(strcmp(out, "min_free@1795000005:low\n"
	    "sender_max@1795000000:2 senders\n") == 0, "%s", out);
	CHECK(store_limit_clear(t.st, "min_free") == 0);
	out[0] = '\0';
	CHECK(store_limits_list(t.st, limits_cb, out) == 0);
	CHECK_STR(out, "sender_max@1795000000:2 senders\n");
	CHECK(store_limit_clear(t.st, NULL) == 0);
	out[0] = '\0';
	CHECK(store_limits_list(t.st, limits_cb, out) == 0);
	CHECK_STR(out, "");
	tctx_close(&t);
}
