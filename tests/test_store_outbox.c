/*
 * test_store_outbox: the outbox's states, a mail about no filing, a row
 * nobody can receive, and the horizon the mailer keeps below.
 */
#include <stdio.h>
#include <string.h>

#include "common/workflow.h"
#include "parsers/filing.h"
#include "store/filings.h"
#include "store/outbox.h"
#include "store/store.h"
#include "test_store.h"
#include "unit.h"

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
