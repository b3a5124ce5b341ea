/*
 * test_store_filings: new filings and resubmissions (store/filings.h) and
 * the store's checks of a package — conflicts, numbers named, the filing
 * password and its lock, the last access of a site.
 */
#include <stdlib.h>
#include <string.h>

#include "common/workflow.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "store/filings.h"
#include "store/query.h"
#include "store/store.h"
#include "test_store.h"
#include "unit.h"

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
