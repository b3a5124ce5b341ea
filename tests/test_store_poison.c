/*
 * test_store_poison: what one item can do to the store, and what it must
 * not (DESIGN.md, Hostile senders) — tracking ids past a year's million,
 * whose fault an error is, one item undone alone inside a group, another
 * provider's record that keeps nothing, and a worker's lying hashes.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/workflow.h"
#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "parsers/package.h"
#include "parsers/tracking_id.h"
#include "store/attachments.h"
#include "store/ingest.h"
#include "store/filings.h"
#include "store/query.h"
#include "store/store.h"
#include "store/store_priv.h"
#include "test_store.h"
#include "unit.h"

/* Run sql on the test's database through a connection of its own. */
static void
sql_side(const struct tctx *t, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	CHECK(sqlite3_open(t->db, &db) == SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	CHECKM(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s",
	    sql, msg ? msg : "?");
	sqlite3_free(msg);
	sqlite3_close(db);
}

static long long
sql_count(const struct tctx *t, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long n = -1;

	CHECK(sqlite3_open(t->db, &db) == SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

/* File f by spool from P001 without expecting success: the store's
 * answer (0 done, 1 refused, -1 error). */
static int
try_new(struct store *st, const struct filing *f, char id[STORE_ID_SIZE])
{
	struct store_package pkg = { f, "<filing/>", NULL, NULL };
	struct store_actor w = who_spool("P001", T0);
	struct store_result r = { 0 };
	int rc;

	r.errs = errlist_new();
	rc = store_filing_create(st, &pkg, &w, &r);
	if (rc == 0)
		snprintf(id, STORE_ID_SIZE, "%s", r.id);
	errlist_free(r.errs);
	return rc;
}

/* Files under state_dir/store/ (the blobs). */
static int
blobs_count(const struct tctx *t)
{
	char top[256], sub[512];
	struct dirent *de, *fe;
	DIR *d, *e;
	int n = 0;

	snprintf(top, sizeof(top), "%s/store", t->dir);
	if ((d = opendir(top)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", top, de->d_name);
		if ((e = opendir(sub)) == NULL)
			continue;
		while ((fe = readdir(e)) != NULL)
			n += fe->d_name[0] != '.';
		closedir(e);
	}
	closedir(d);
	return n;
}

UNIT_TEST(tracking_id_forms)
{
	static const struct {
		const char *s;
		size_t scan;
		int year;
		long seq;
	} rows[] = {
		{ "BA-2026-000123", 14, 2026, 123 },
		{ "BA-2026-999999", 14, 2026, 999999 },
		{ "BA-2026-1000000", 15, 2026, 1000000 },
		{ "BA-2026-9999999", 15, 2026, 9999999 },
		{ "BA-2026-0000123", 0, 0, 0 },   /* not canonical */
		{ "BA-2026-12345", 0, 0, 0 },
		{ "BA-2026-10000000", 0, 0, 0 },  /* runs on */
		{ "BA-26-000123", 0, 0, 0 },
		{ "ba-2026-000123", 0, 0, 0 },
		{ "BA-2026-00012a", 0, 0, 0 },
		{ "BA-2026-", 0, 0, 0 },
		{ "", 0, 0, 0 },
	};
	char buf[TRACKING_ID_SIZE];

	for (size_t i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
		int y = 0;
		long q = 0;

		CHECKM(tracking_id_scan(rows[i].s) == rows[i].scan, "row %zu",
		    i);
		CHECKM((tracking_id_parse(rows[i].s, &y, &q) == 0) ==
		    (rows[i].scan > 0), "row %zu", i);
		if (rows[i].scan > 0) {
			CHECKM(y == rows[i].year && q == rows[i].seq, "row %zu",
			    i);
			CHECKM(tracking_id_format(buf, sizeof(buf), y, q) == 0 &&
			    strcmp(buf, rows[i].s) == 0, "row %zu", i);
		}
	}
	/* an id inside text: followed by "]" or a space, never a digit */
	CHECK(tracking_id_scan("BA-2026-1000000]") == 15);
	CHECK(tracking_id_scan("BA-2026-000123 k3J9xQ2m]") == 14);
	CHECK(tracking_id_format(buf, sizeof(buf), 2026, 10000000) == -1);
	CHECK(tracking_id_format(buf, sizeof(buf), 2026, 0) == -1);
	CHECK(tracking_id_format(buf, 15, 2026, 1000000) == -1);
}

struct listed {
	char ids[8][STORE_ID_SIZE];
	size_t n;
};

static int
list_cb(const struct store_filing_info *i, void *arg)
{
	struct listed *l = arg;

	if (l->n < 8)
		snprintf(l->ids[l->n++], STORE_ID_SIZE, "%s", i->id);
	return 0;
}

/* A year's millionth filing is followed by BA-YYYY-1000000, which every
 * reader takes: lookups, `list` in numeric order, resubmission. */
UNIT_TEST(store_tracking_id_seventh_digit)
{
	struct tctx t;
	struct filing *a = tf_first("91110108MA01XY3K34", "a", 1);
	struct filing *b = tf_first("91350200776049653A", "b", 1);
	struct filing *c = tf_first("121400004062722259", "c", 1);
	struct store_filing_detail *d = NULL;
	struct listed l = { 0 };
	struct errlist *errs = errlist_new();
	char id1[STORE_ID_SIZE], id2[STORE_ID_SIZE], id3[STORE_ID_SIZE];

	tctx_open(&t);
	sql_side(&t, "INSERT INTO tracking_seq(year, last) VALUES(2026, 999998)");
	CHECK_INT(file_new(t.st, a, NULL, T0, id1, NULL),
	    WF_AWAITING_VERIFICATION);
	CHECK_STR(id1, "BA-2026-999999");
	CHECK_INT(file_new(t.st, b, NULL, T0, id2, NULL),
	    WF_AWAITING_VERIFICATION);
	CHECK_STR(id2, "BA-2026-1000000");
	CHECK_INT(state_of(t.st, id2), WF_AWAITING_VERIFICATION);
	CHECK(store_filing_show(t.st, "BA-2026-1000000", &d) == 0);
	if (d != NULL)
		CHECK_STR(d->info.id, "BA-2026-1000000");
	store_filing_detail_free(d);
	/* numeric order, not text order ("1000000" < "999999" as text) */
	CHECK(store_filing_list(t.st, NULL, list_cb, &l) == 0);
	CHECK_INT(l.n, 2);
	CHECK_STR(l.ids[0], "BA-2026-999999");
	CHECK_STR(l.ids[1], "BA-2026-1000000");
	/* moved like any other */
	CHECK_INT(op_move(t.st, id2, WF_WITHDRAWN, NULL, T0, errs), 0);
	CHECK_INT(state_of(t.st, id2), WF_WITHDRAWN);

	/* the seven digits used up too: the item's fault, never the
	 * environment's (it is quarantined, not waited for) */
	sql_side(&t, "UPDATE tracking_seq SET last = 9999999 WHERE year = 2026");
	CHECK_INT(try_new(t.st, c, id3), -1);
	CHECK(strstr(store_errmsg(t.st), "exhausted") != NULL);
	CHECK_INT(store_errfault(t.st), STORE_FAULT_ITEM);
	errlist_free(errs);
	tf_free(a);
	tf_free(b);
	tf_free(c);
	tctx_close(&t);
}

/* Whose fault an error is: a trigger refusing a row follows the item; a
 * full database and the errors of a full or failing disk do not. */
UNIT_TEST(store_error_fault)
{
	struct tctx t;
	struct filing *a = tf_first("91110108MA01XY3K34", "poison", 1);
	struct filing *b = tf_first("91350200776049653A", "good", 1);
	char id[STORE_ID_SIZE];

	tctx_open(&t);
	sql_side(&t, "CREATE TRIGGER refuse_poison BEFORE INSERT ON filing_domains"
	    " WHEN NEW.domain LIKE '%poison%' BEGIN"
	    " SELECT RAISE(ABORT, 'refused by the test'); END");
	CHECK_INT(try_new(t.st, a, id), -1);
	CHECK(strstr(store_errmsg(t.st), "refused by the test") != NULL);
	CHECK_INT(store_errfault(t.st), STORE_FAULT_ITEM);

	/* one item undone alone inside a group; the group goes on */
	CHECK(store_begin(t.st) == 0);
	CHECK(store_item_begin(t.st) == 0);
	CHECK_INT(try_new(t.st, a, id), -1);
	CHECK_INT(store_errfault(t.st), STORE_FAULT_ITEM);
	CHECK(store_in_group(t.st));
	CHECK(store_item_end(t.st, 0) == 0);
	CHECK(store_item_begin(t.st) == 0);
	CHECK_INT(file_new(t.st, b, NULL, T0, id, NULL),
	    WF_AWAITING_VERIFICATION);
	CHECK(store_item_end(t.st, 1) == 0);
	CHECK(store_commit(t.st) == 0);
	CHECK_INT(state_of(t.st, id), WF_AWAITING_VERIFICATION);
	CHECK_INT(sql_count(&t, "SELECT count(*) FROM filings"), 1);

	CHECK_INT(store_errno_fault(ENOSPC), STORE_FAULT_ENV);
	CHECK_INT(store_errno_fault(EIO), STORE_FAULT_ENV);
	CHECK_INT(store_errno_fault(EDQUOT), STORE_FAULT_ENV);
	CHECK_INT(store_errno_fault(EFBIG), STORE_FAULT_ITEM);
	tf_free(a);
	tf_free(b);
	tctx_close(&t);
}

/* A database that cannot grow (SQLITE_FULL) is the environment's fault. */
UNIT_TEST(store_error_fault_full)
{
	struct tctx t;
	struct filing *f;
	char id[STORE_ID_SIZE], pages[64];
	long long n;
	int rc = 0, i;

	tctx_open(&t);
	/* the file may not grow much past its size now: a full disk, as
	 * SQLite reports it to the connection */
	n = sql_count(&t, "PRAGMA page_count");
	CHECK(n > 0);
	snprintf(pages, sizeof(pages), "PRAGMA max_page_count = %lld", n + 2);
	CHECK(pragma(t.st, pages) == 0);
	for (i = 0; i < 200 && rc != -1; i++) {
		char tag[32];

		snprintf(tag, sizeof(tag), "full%d", i);
		f = tf_first("91110108MA01XY3K34", tag, 10);
		rc = try_new(t.st, f, id);
		tf_free(f);
	}
	CHECK(rc == -1);
	CHECKM(store_errfault(t.st) == STORE_FAULT_ENV, "%s",
	    store_errmsg(t.st));
	tctx_close(&t);
}

/* A verification item with its record, photo and scan. */
static void
vitem(struct item *it, struct verification *v, struct pkg_file files[3],
    const char *id, const unsigned char *photo, size_t plen,
    const unsigned char *photo_sha)
{
	static const char rec[] = "<verification/>";
	static const unsigned char scan[] = "scan-bytes-of-the-checklist";
	char *path = xasprintf("%s.verification.xml", id);

	memset(it, 0, sizeof(*it));
	memset(v, 0, sizeof(*v));
	memset(files, 0, 3 * sizeof(*files));
	v->filing = xstrdup(id);
	v->result = xstrdup("pass");
	v->verifier = xstrdup("李四");
	v->photo_file = xstrdup("onsite.jpg");
	v->scan_file = xstrdup("checklist.jpg");
	files[0].name = path;
	files[0].data = (const unsigned char *)rec;
	files[0].size = sizeof(rec) - 1;
	files[1].name = "onsite.jpg";
	files[1].data = photo;
	files[1].size = plen;
	files[1].sha256 = photo_sha;
	files[2].name = "checklist.jpg";
	files[2].data = scan;
	files[2].size = sizeof(scan) - 1;
	it->kind = ITEM_VERIFICATION;
	it->path = path;
	it->errs = errlist_new();
	it->verification = v;
	it->files = files;
	it->nfiles = 3;
	sha256(path, strlen(path), it->sha256);
}

static void
vitem_free(struct item *it, struct verification *v)
{
	free(v->filing);
	free(v->result);
	free(v->verifier);
	free(v->photo_file);
	free(v->scan_file);
	free(it->path);
	errlist_free(it->errs);
}

/* Another provider's record for a filing is refused before anything of
 * it is stored: no attachment row, no blob. */
UNIT_TEST(store_verification_other_provider_keeps_nothing)
{
	static const unsigned char photo[] = "a photo from someone else";
	struct tctx t;
	struct filing *f = tf_first("91110108MA01XY3K34", "own", 1);
	struct store_actor who = who_spool("P002", T0);
	struct ingest_outcome o = { 0 };
	struct verification v;
	struct pkg_file files[3];
	struct item it;
	char id[STORE_ID_SIZE];

	tctx_open(&t);
	CHECK_INT(file_new(t.st, f, NULL, T0, id, NULL),
	    WF_AWAITING_VERIFICATION);
	vitem(&it, &v, files, id, photo, sizeof(photo) - 1, NULL);
	o.errs = errlist_new();
	CHECK(store_begin(t.st) == 0);
	CHECK(ingest_item(t.st, NULL, &it, &who, "spool:P002", NULL, &o) == 0);
	CHECK(store_commit(t.st) == 0);
	CHECK(errlist_has(o.errs, ERR_NOT_YOUR_FILING));
	CHECK_STR(o.id, id);
	CHECK_INT(o.state, WF_AWAITING_VERIFICATION);
	CHECK_INT(state_of(t.st, id), WF_AWAITING_VERIFICATION);
	CHECK_INT(sql_count(&t, "SELECT count(*) FROM filing_attachments"), 0);
	CHECK_INT(sql_count(&t, "SELECT count(*) FROM attachments"), 0);
	CHECK_INT(sql_count(&t, "SELECT count(*) FROM attachment_entries"), 0);
	CHECK_INT(blobs_count(&t), 0);
	errlist_free(o.errs);
	vitem_free(&it, &v);
	tf_free(f);
	tctx_close(&t);
}

/* A worker that names a photo with the hash of another blob of the same
 * size can make the store neither skip writing the photo nor name the
 * filing's photo with that other blob. */
UNIT_TEST(store_worker_hash_not_trusted)
{
	static const unsigned char other[] = "AAAAAAAAAAAAAAAAAAAAAAAA";
	static const unsigned char photo[] = "BBBBBBBBBBBBBBBBBBBBBBBB";
	struct tctx t;
	struct filing *f = tf_first("91110108MA01XY3K34", "own", 1);
	struct store_actor who = who_spool("P001", T0);
	struct ingest_outcome o = { 0 };
	struct store_blob ob = { other, sizeof(other) - 1, NULL, 0 };
	struct store_entry oe = { "other.jpg", other, sizeof(other) - 1, NULL };
	unsigned char lie[SHA256_LEN], real[SHA256_LEN], *back = NULL;
	char id[STORE_ID_SIZE], hex[65], want[65], path[512], sql[256];
	struct verification v;
	struct pkg_file files[3];
	struct item it;
	size_t n = 0;

	tctx_open(&t);
	CHECK_INT(file_new(t.st, f, NULL, T0, id, NULL),
	    WF_AWAITING_VERIFICATION);
	/* another blob, of the photo's size, already in the store */
	CHECK(store_attachment_put(t.st, id, "package", &ob, &oe, 1, hex) == 0);
	sha256(other, sizeof(other) - 1, lie);
	sha256(photo, sizeof(photo) - 1, real);
	sha256_to_hex(real, want);
	vitem(&it, &v, files, id, photo, sizeof(photo) - 1, lie);
	o.errs = errlist_new();
	CHECK(store_begin(t.st) == 0);
	CHECK(ingest_item(t.st, NULL, &it, &who, "spool:P001", NULL, &o) == 0);
	CHECK(store_commit(t.st) == 0);
	CHECK_INT(errlist_nerrors(o.errs), 0);
	CHECK_INT(o.state, WF_UNDER_REVIEW);
	CHECK(store_attachment_latest(t.st, id, "onsite_photo", hex) == 0);
	CHECK_STR(hex, want);
	CHECK(store_attachment_path(t.st, hex, path, sizeof(path)) == 0);
	back = unit_read_file(path, &n);
	CHECK(back != NULL && n == sizeof(photo) - 1 &&
	    memcmp(back, photo, n) == 0);
	free(back);
	/* and the other blob is untouched */
	sha256_to_hex(lie, hex);
	CHECK(store_attachment_path(t.st, hex, path, sizeof(path)) == 0);
	back = unit_read_file(path, &n);
	CHECK(back != NULL && n == sizeof(other) - 1 &&
	    memcmp(back, other, n) == 0);
	free(back);
	/* the member's hash, too, is the store's own */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM attachment_entries"
	    " WHERE name = 'onsite.jpg' AND entry_sha256 = '%s'", want);
	CHECK_INT(sql_count(&t, sql), 1);
	errlist_free(o.errs);
	vitem_free(&it, &v);
	tf_free(f);
	tctx_close(&t);
}
