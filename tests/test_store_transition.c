/*
 * test_store_transition: store_transition() — every pair of states for
 * every actor, review tokens and rounds, who may act on a filing.
 */
#include <stdlib.h>
#include <string.h>

#include "common/workflow.h"
#include "parsers/errlist.h"
#include "store/filings.h"
#include "store/query.h"
#include "store/store.h"
#include "store/transition.h"
#include "test_store.h"
#include "unit.h"

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
