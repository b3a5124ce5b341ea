/*
 * test_store_numbers: approval — subject and site numbers (FORMAT.md §4),
 * numbers a bureau issued, the first filing's password, and two
 * processes approving at once.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/workflow.h"
#include "lib/compat.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "store/admin.h"
#include "store/filings.h"
#include "store/outbox.h"
#include "store/query.h"
#include "store/store.h"
#include "store/transition.h"
#include "test_store.h"
#include "unit.h"

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
