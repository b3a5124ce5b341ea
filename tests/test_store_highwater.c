/*
 * test_store_highwater: ids and numbers that left the system are never
 * issued again (store/highwater.h).  A database restored from a backup
 * goes on past what was issued after the backup — tracking ids, local
 * subject numbers, a number the bureau gave, site numbers — each with a
 * note; a mark above a database that stands at its confirmed value (a
 * stop between the mark and its commit; tracking ids marked ahead) leaves
 * no gap; a damaged mark file stops the store from opening; receipts' and mails' ids found by a scan move the
 * sequence too.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/workflow.h"
#include "lib/compat.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "store/admin.h"
#include "store/filings.h"
#include "store/highwater.h"
#include "store/query.h"
#include "store/store.h"
#include "test_store.h"
#include "unit.h"

/* Replace the database with the backup at path, as the documented
 * restore does (the -wal and -shm of the old one go), and reopen. */
static void
restore(struct tctx *t, const char *path)
{
	char p[256], err[256];

	store_close(t->st);
	snprintf(p, sizeof(p), "%s-wal", t->db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", t->db);
	unlink(p);
	CHECK(rename(path, t->db) == 0);
	t->st = store_open(t->db, &t->cfg, err, sizeof(err));
	CHECKM(t->st != NULL, "reopen: %s", err);
}

static int
notes_match(struct store *st, const char *needle)
{
	const char *n;
	int found = 0;

	while ((n = store_note_next(st)) != NULL)
		if (strstr(n, needle) != NULL)
			found = 1;
	return found;
}

static void
subject_of(struct store *st, const char *id, char *buf, size_t size)
{
	struct store_filing_detail *d = NULL;

	buf[0] = '\0';
	CHECK(store_filing_show(st, id, &d) == 0);
	if (d != NULL && d->subject_licence != NULL)
		strlcpy(buf, d->subject_licence, size);
	store_filing_detail_free(d);
}

static void
site_of(struct store *st, const char *id, char *buf, size_t size)
{
	struct store_filing_detail *d = NULL;

	buf[0] = '\0';
	CHECK(store_filing_show(st, id, &d) == 0);
	if (d != NULL && d->nwebsites > 0 && d->websites[0].site_licence)
		strlcpy(buf, d->websites[0].site_licence, size);
	store_filing_detail_free(d);
}

static void
approve(struct store *st, const char *id, const char *given)
{
	CHECK(op_move(st, id, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECKM(op_move(st, id, WF_APPROVED, given, T0, NULL) == 0, "%s: %s",
	    id, store_errmsg(st));
}

UNIT_TEST(store_highwater_restore_issues_nothing_twice)
{
	struct tctx t;
	struct filing *f[6];
	struct filing *add;
	struct errlist *e = errlist_new();
	char id[8][STORE_ID_SIZE], bk[128], lic[STORE_LICENCE_SIZE];
	char mark[160];
	struct stat sb;

	for (int i = 0; i < 6; i++) {
		char cert[16], tag[8];

		snprintf(cert, sizeof(cert), "CERTHW%d", i);
		snprintf(tag, sizeof(tag), "hw%d", i);
		f[i] = tf_first(cert, tag, 1);
	}
	tctx_open(&t);
	snprintf(bk, sizeof(bk), "%s/backup.db", t.dir);
	snprintf(mark, sizeof(mark), "%s/%s", t.dir, STORE_HIGHWATER_FILE);

	/* before the backup: one approved subject with one site */
	file_new(t.st, f[0], NULL, T0, id[0], NULL);
	approve(t.st, id[0], NULL);
	subject_of(t.st, id[0], lic, sizeof(lic));
	CHECK_STR(lic, "京ICP备2026000001号");
	CHECK(stat(mark, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	CHECK(store_backup(t.st, bk) == 0);

	/* after it: ids 2..4, subject numbers 2 (local) and 50 (bureau),
	 * and site -2 of the first subject, all told */
	file_new(t.st, f[1], NULL, T0, id[1], NULL);
	file_new(t.st, f[2], NULL, T0, id[2], NULL);
	approve(t.st, id[1], NULL);
	subject_of(t.st, id[1], lic, sizeof(lic));
	CHECK_STR(lic, "京ICP备2026000002号");
	approve(t.st, id[2], "京ICP备2026000050号");
	add = tf_other(FILING_ADD_SITE, FILING_MODE_DELEGATED,
	    "京ICP备2026000001号", NULL, NULL);
	tf_sites(add, "hwadd", 1);
	file_new(t.st, add, NULL, T0, id[3], NULL);
	approve(t.st, id[3], NULL);
	site_of(t.st, id[3], lic, sizeof(lic));
	CHECK_STR(lic, "京ICP备2026000001号-2");
	CHECK_STR(id[3], "BA-2026-000004");

	/* the restore: the database of the backup, the mark file kept */
	restore(&t, bk);
	/* tracking ids go on past BA-2026-000004 (and past the ids marked
	 * ahead: a gap) */
	file_new(t.st, f[3], NULL, T0, id[4], NULL);
	CHECKM(strcmp(id[4], "BA-2026-000004") > 0, "%s", id[4]);
	/* local subject numbers after 000002 */
	approve(t.st, id[4], NULL);
	subject_of(t.st, id[4], lic, sizeof(lic));
	CHECK_STR(lic, "京ICP备2026000003号");
	/* the bureau's 000050 is known as issued again */
	file_new(t.st, f[4], NULL, T0, id[5], NULL);
	CHECK(op_move(t.st, id[5], WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECK(op_move(t.st, id[5], WF_APPROVED, "京ICP备2026000050号", T0,
	    e) == 1);
	CHECK(errlist_has(e, ERR_LICENCE_CONFLICT));
	/* the first subject's next site number is not -2 again */
	tf_free(add);
	add = tf_other(FILING_ADD_SITE, FILING_MODE_DELEGATED,
	    "京ICP备2026000001号", NULL, NULL);
	tf_sites(add, "hwadd2", 1);
	file_new(t.st, add, NULL, T0, id[6], NULL);
	approve(t.st, id[6], NULL);
	site_of(t.st, id[6], lic, sizeof(lic));
	CHECK_STR(lic, "京ICP备2026000001号-3");

	tctx_close(&t);

	tctx_open(&t);
	snprintf(bk, sizeof(bk), "%s/backup.db", t.dir);
	file_new(t.st, f[5], NULL, T0, id[7], NULL);
	CHECK(store_backup(t.st, bk) == 0);
	file_new(t.st, f[0], NULL, T0, id[0], NULL);
	file_new(t.st, f[1], NULL, T0, id[1], NULL);
	restore(&t, bk);
	CHECK(notes_match(t.st, "tracking ids of 2026 go on after"
	    " BA-2026-000129 (the database knew up to BA-2026-000001)"));
	CHECK(store_note_next(t.st) == NULL);
	tctx_close(&t);

	for (int i = 0; i < 6; i++)
		tf_free(f[i]);
	tf_free(add);
	errlist_free(e);
}

/* The mark above the database.  At or above the confirmed value, the
 * database was not restored: the mark is ahead, or the transaction that
 * raised it died before its COMMIT (nothing of it was told) — no gap.
 * Below the confirmed value, it forgot a commit: it goes on past the
 * mark, with a note.  A damaged mark file: no open. */
static void
mark_write(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	CHECK(fp != NULL);
	if (fp != NULL) {
		fputs(text, fp);
		fclose(fp);
	}
}

UNIT_TEST(store_highwater_crash_restore_damage)
{
	struct tctx t;
	struct filing *f = tf_first("CERTHWG", "hwg", 1);
	char id[STORE_ID_SIZE], mark[160], err[256];
	struct store *st;
	unsigned char *b;
	size_t len;

	tctx_open(&t);
	snprintf(mark, sizeof(mark), "%s/%s", t.dir, STORE_HIGHWATER_FILE);
	file_new(t.st, f, NULL, T0, id, NULL);
	CHECK_STR(id, "BA-2026-000001");
	/* marked ahead, confirmed as committed */
	b = unit_read_file(mark, &len);
	CHECK(b != NULL && strstr((char *)b, "\ntracking 2026 129 1\n") !=
	    NULL);
	free(b);
	store_close(t.st);

	/* marks above a database that stands at (or above) their confirmed
	 * values: a transaction died before its COMMIT; no gap, no note */
	mark_write(mark, "tracking 2026 9 1\nnumber 11 2026 7 0\n"
	    "given 11 2026 30 0\nadded_sites 4 0\n");
	t.st = store_open(t.db, &t.cfg, err, sizeof(err));
	CHECKM(t.st != NULL, "%s", err);
	CHECK(store_note_next(t.st) == NULL);
	file_new(t.st, f, NULL, T0, id, NULL);
	CHECK_STR(id, "BA-2026-000002");
	b = unit_read_file(mark, &len);
	CHECK(b != NULL && strstr((char *)b, "\ntracking 2026 9 2\n") != NULL);
	free(b);
	store_close(t.st);

	/* the database below what was confirmed: it goes on past the mark */
	mark_write(mark, "tracking 2026 9 5\nadded_sites 0 0\n");
	t.st = store_open(t.db, &t.cfg, err, sizeof(err));
	CHECK(t.st != NULL);
	CHECK(notes_match(t.st, "tracking ids of 2026 go on after"
	    " BA-2026-000009 (the database knew up to BA-2026-000002)"));
	file_new(t.st, f, NULL, T0, id, NULL);
	CHECK_STR(id, "BA-2026-000010");
	store_close(t.st);

	/* damaged: refused, naming the file and the line */
	mark_write(mark, "# x\ntracking 2026 10 10\ntracking 2026 x 1\n");
	st = store_open(t.db, &t.cfg, err, sizeof(err));
	CHECK(st == NULL);
	CHECKM(strstr(err, "highwater:3: not a line of a high-water mark") !=
	    NULL, "%s", err);
	store_close(st);
	mark_write(mark, "tracking 2026 10 11\n"); /* confirmed above last */
	st = store_open(t.db, &t.cfg, err, sizeof(err));
	CHECK(st == NULL);
	store_close(st);
	unlink(mark);
	t.st = store_open(t.db, &t.cfg, err, sizeof(err));
	CHECK(t.st != NULL);
	tctx_close(&t);
	tf_free(f);
}

UNIT_TEST(store_highwater_tracking_floor)
{
	struct tctx t;
	struct filing *f = tf_first("CERTHWF", "hwf", 1);
	char id[STORE_ID_SIZE], mark[160];
	unsigned char *b;
	size_t len;

	tctx_open(&t);
	snprintf(mark, sizeof(mark), "%s/%s", t.dir, STORE_HIGHWATER_FILE);
	file_new(t.st, f, NULL, T0, id, NULL);
	CHECK_INT(store_tracking_floor(t.st, 2026, 1, "x"), 0);
	CHECK_INT(store_tracking_floor(t.st, 2026, 41, "a.receipt.xml"), 1);
	CHECK(notes_match(t.st, "BA-2026-000041 was issued (a.receipt.xml)"));
	/* the floor is in the mark too */
	b = unit_read_file(mark, &len);
	CHECK(b != NULL && strstr((char *)b, "tracking 2026 129 41\n") != NULL);
	free(b);
	CHECK_INT(store_tracking_floor(t.st, 2026, 300, "b.eml"), 1);
	b = unit_read_file(mark, &len);
	CHECK(b != NULL && strstr((char *)b, "tracking 2026 428 300\n") != NULL);
	free(b);
	file_new(t.st, f, NULL, T0, id, NULL);
	CHECK_STR(id, "BA-2026-000301");
	tctx_close(&t);
	tf_free(f);
}
