/*
 * test_store_state: the store's small state — ingest outcomes for
 * repeats, counts, quarantine and recent errors (`status`), the filing
 * list, the intake mailbox's IMAP position and reply counts.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/workflow.h"
#include "parsers/errlist.h"
#include "store/intake_mail.h"
#include "store/query.h"
#include "store/repeats.h"
#include "store/status.h"
#include "store/store.h"
#include "test_store.h"
#include "unit.h"

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
