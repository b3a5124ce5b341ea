/*
 * highwater: the high-water marks of issued ids and numbers, outside the
 * database (include/store/highwater.h says why).
 *
 * What is hostile here: nothing a stranger sends; but the file is read
 * back, and anything in it that is not a line this file writes is an
 * error naming the file and the line, never guessed at: a mark misread
 * as lower could let a number be issued twice.  Lines (text, one
 * "#"-comment heading them):
 *
 *   tracking YEAR LAST            the last tracking id of YEAR
 *   number PROVINCE YEAR LAST     the last local subject serial
 *   given PROVINCE YEAR SERIAL    a bureau's serial above LAST
 *   added_sites COUNT             site numbers addSite approvals issued
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/xmalloc.h"
#include "parsers/licence.h"
#include "store/highwater.h"
#include "store/store.h"
#include "store/store_priv.h"

#define HW_MAX_LINES 100000     /* a file longer than this is not ours */
#define HW_MAX_GIVEN 1000       /* bureau serials kept per province/year */

struct hw_seq {
	char province[4];       /* "" for tracking ids */
	int year;
	int64_t last;
};

struct hw {
	struct hw_seq *t;       /* tracking: year → last */
	size_t nt, capt;
	struct hw_seq *n;       /* numbers: province, year → last */
	size_t nn, capn;
	struct hw_seq *g;       /* given: province, year, serial (in last) */
	size_t ng, capg;
	int64_t sites;          /* site numbers addSite approvals issued */
};

static void
hw_free(struct hw *h)
{
	free(h->t);
	free(h->n);
	free(h->g);
	memset(h, 0, sizeof(*h));
}

static struct hw_seq *
seq_find(struct hw_seq *v, size_t n, const char *province, int year)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].year == year && strcmp(v[i].province, province) == 0)
			return &v[i];
	return NULL;
}

static void
seq_push(struct hw_seq **v, size_t *n, size_t *cap, const char *province,
    int year, int64_t last)
{
	xgrow(v, cap, *n, sizeof(**v));
	memset(&(*v)[*n], 0, sizeof((*v)[*n]));
	snprintf((*v)[*n].province, sizeof((*v)[*n].province), "%s", province);
	(*v)[*n].year = year;
	(*v)[*n].last = last;
	(*n)++;
}

/* Raise the entry (province, year) to last, making it if need be. */
static void
seq_max(struct hw_seq **v, size_t *n, size_t *cap, const char *province,
    int year, int64_t last)
{
	struct hw_seq *s = seq_find(*v, *n, province, year);

	if (s == NULL)
		seq_push(v, n, cap, province, year, last);
	else if (s->last < last)
		s->last = last;
}

static int
given_has(const struct hw *h, const char *province, int year, int64_t serial)
{
	for (size_t i = 0; i < h->ng; i++)
		if (h->g[i].year == year && h->g[i].last == serial &&
		    strcmp(h->g[i].province, province) == 0)
			return 1;
	return 0;
}

static void
given_add(struct hw *h, const char *province, int year, int64_t serial)
{
	if (!given_has(h, province, year, serial))
		seq_push(&h->g, &h->ng, &h->capg, province, year, serial);
}

/* A given serial at or below its local last can never be reached by the
 * sequence again: no need to keep it. */
static void
given_prune(struct hw *h)
{
	size_t k = 0;

	for (size_t i = 0; i < h->ng; i++) {
		struct hw_seq *s = seq_find(h->n, h->nn, h->g[i].province,
		    h->g[i].year);

		if (s == NULL || h->g[i].last > s->last)
			h->g[k++] = h->g[i];
	}
	h->ng = k;
}

static int
seq_cmp(const void *a, const void *b)
{
	const struct hw_seq *x = a, *y = b;
	int c = strcmp(x->province, y->province);

	if (c != 0)
		return c;
	if (x->year != y->year)
		return x->year < y->year ? -1 : 1;
	return x->last < y->last ? -1 : x->last > y->last;
}

static void
hw_sort(struct hw *h)
{
	if (h->nt > 1)
		qsort(h->t, h->nt, sizeof(h->t[0]), seq_cmp);
	if (h->nn > 1)
		qsort(h->n, h->nn, sizeof(h->n[0]), seq_cmp);
	if (h->ng > 1)
		qsort(h->g, h->ng, sizeof(h->g[0]), seq_cmp);
}

/* dst: for each value, the higher of dst's and src's. */
static void
hw_merge(struct hw *dst, const struct hw *src)
{
	for (size_t i = 0; i < src->nt; i++)
		seq_max(&dst->t, &dst->nt, &dst->capt, "", src->t[i].year,
		    src->t[i].last);
	for (size_t i = 0; i < src->nn; i++)
		seq_max(&dst->n, &dst->nn, &dst->capn, src->n[i].province,
		    src->n[i].year, src->n[i].last);
	for (size_t i = 0; i < src->ng; i++)
		given_add(dst, src->g[i].province, src->g[i].year,
		    src->g[i].last);
	if (dst->sites < src->sites)
		dst->sites = src->sites;
	given_prune(dst);
	hw_sort(dst);
}

static int
seqs_same(const struct hw_seq *a, const struct hw_seq *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (seq_cmp(&a[i], &b[i]) != 0)
			return 0;
	return 1;
}

/* Both sorted (hw_sort). */
static int
hw_same(const struct hw *a, const struct hw *b)
{
	return a->nt == b->nt && a->nn == b->nn && a->ng == b->ng &&
	    a->sites == b->sites && seqs_same(a->t, b->t, a->nt) &&
	    seqs_same(a->n, b->n, a->nn) && seqs_same(a->g, b->g, a->ng);
}

/* ---- the file ------------------------------------------------------------- */

static int
num_parse(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
province_ok(const char *s)
{
	return s != NULL && strlen(s) == 2 && s[0] >= '1' && s[0] <= '9' &&
	    s[1] >= '0' && s[1] <= '9';
}

/* One line into h; -1 when it is not one of ours. */
static int
hw_line(struct hw *h, char *line)
{
	char *w[5], *save = NULL, *p = line;
	int64_t y, v;
	size_t n = 0;

	while (n < 5 && (w[n] = strtok_r(p, " \t", &save)) != NULL) {
		p = NULL;
		n++;
	}
	if (n == 0 || w[0][0] == '#')
		return 0;
	if (n == 3 && strcmp(w[0], "tracking") == 0) {
		if (num_parse(w[1], 1000, 9999, &y) == -1 ||
		    num_parse(w[2], 0, INT64_MAX, &v) == -1)
			return -1;
		seq_max(&h->t, &h->nt, &h->capt, "", (int)y, v);
		return 0;
	}
	if (n == 4 && (strcmp(w[0], "number") == 0 ||
	    strcmp(w[0], "given") == 0)) {
		if (!province_ok(w[1]) || num_parse(w[2], 1000, 9999, &y) == -1 ||
		    num_parse(w[3], 0, 99999999, &v) == -1)
			return -1;
		if (w[0][0] == 'n')
			seq_max(&h->n, &h->nn, &h->capn, w[1], (int)y, v);
		else
			given_add(h, w[1], (int)y, v);
		return 0;
	}
	if (n == 2 && strcmp(w[0], "added_sites") == 0) {
		if (num_parse(w[1], 0, INT64_MAX, &v) == -1)
			return -1;
		if (h->sites < v)
			h->sites = v;
		return 0;
	}
	return -1;
}

/* Read the mark file at path into h (empty when there is none). */
static int
hw_load(const char *path, struct hw *h, char *err, size_t errsize)
{
	char line[256];
	FILE *fp;
	int fd, lineno = 0, rc = 0;

	memset(h, 0, sizeof(*h));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		size_t len = strlen(line);

		lineno++;
		if (lineno > HW_MAX_LINES || len == 0 ||
		    (line[len - 1] != '\n' && !feof(fp))) {
			rc = -1;
			break;
		}
		line[strcspn(line, "\n")] = '\0';
		if (hw_line(h, line) == -1) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		fclose(fp);
		hw_free(h);
		return -1;
	}
	fclose(fp);
	if (rc == -1) {
		snprintf(err, errsize, "%s:%d: not a line of a high-water mark"
		    " file; no id or number is issued until it is repaired"
		    " (see beiand(8), FILES)", path, lineno);
		hw_free(h);
		return -1;
	}
	given_prune(h);
	hw_sort(h);
	return 0;
}

/*
 * Write h as dir/highwater: a temporary file, fdatasync, rename; the
 * folder's fsync unless sync_dir is 0 (the daemon's syncfs makes the
 * rename durable before anything of the commit is told).
 */
static int
hw_write(const char *dir, const struct hw *h, int sync_dir, char *err,
    size_t errsize)
{
	char path[4096], tmp[4200];
	FILE *fp;
	int fd, bad;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
	    STORE_HIGHWATER_FILE) >= sizeof(path)) {
		snprintf(err, errsize, "%s: path too long", dir);
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1 || (fp = fdopen(fd, "w")) == NULL) {
		snprintf(err, errsize, "%s: %s", tmp, strerror(errno));
		if (fd != -1)
			close(fd);
		unlink(tmp);
		return -1;
	}
	fprintf(fp, "# beiand: the last tracking ids and filing numbers issued;"
	    " never issued again,\n# also by a database restored from a backup"
	    " (beiand(8), FILES).  Do not edit.\n");
	for (size_t i = 0; i < h->nt; i++)
		fprintf(fp, "tracking %d %" PRId64 "\n", h->t[i].year,
		    h->t[i].last);
	for (size_t i = 0; i < h->nn; i++)
		fprintf(fp, "number %s %d %" PRId64 "\n", h->n[i].province,
		    h->n[i].year, h->n[i].last);
	for (size_t i = 0; i < h->ng; i++)
		fprintf(fp, "given %s %d %" PRId64 "\n", h->g[i].province,
		    h->g[i].year, h->g[i].last);
	fprintf(fp, "added_sites %" PRId64 "\n", h->sites);
	bad = fflush(fp) == EOF || ferror(fp) || fdatasync(fileno(fp)) == -1;
	if (fclose(fp) == EOF)
		bad = 1;
	if (bad || rename(tmp, path) == -1) {
		snprintf(err, errsize, "%s: %s", bad ? tmp : path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (sync_dir) {
		if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
		    fsync(fd) == -1) {
			snprintf(err, errsize, "%s: fsync: %s", dir,
			    strerror(errno));
			if (fd != -1)
				close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static char *
hw_path(const char *dir)
{
	return xasprintf("%s/%s", dir, STORE_HIGHWATER_FILE);
}

/* ---- the database's side -------------------------------------------------- */

/* What the database holds of the same marks. */
static int
hw_from_db(struct store *st, struct hw *h)
{
	sqlite3_stmt *s, *g;
	int rc;

	memset(h, 0, sizeof(*h));
	if ((s = query(st, "SELECT year, last FROM tracking_seq", "")) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		seq_push(&h->t, &h->nt, &h->capt, "", sqlite3_column_int(s, 0),
		    sqlite3_column_int64(s, 1));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		goto fail;
	if ((s = query(st, "SELECT province, year, last FROM number_seq",
	    "")) == NULL)
		goto fail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *p = col_str(s, 0);

		if (p != NULL && province_ok(p))
			seq_push(&h->n, &h->nn, &h->capn, p,
			    sqlite3_column_int(s, 1), sqlite3_column_int64(s, 2));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		goto fail;
	/* the serials a bureau gave above each local sequence */
	for (size_t i = 0; i < h->nn; i++) {
		g = query(st, "SELECT serial FROM issued_numbers WHERE province = ?"
		    " AND year = ? AND serial > ? AND old_form = 0 AND origin <>"
		    " 'import' ORDER BY serial LIMIT ?", "siIi", h->n[i].province,
		    h->n[i].year, h->n[i].last, HW_MAX_GIVEN);
		if (g == NULL)
			goto fail;
		while ((rc = sqlite3_step(g)) == SQLITE_ROW)
			seq_push(&h->g, &h->ng, &h->capg, h->n[i].province,
			    h->n[i].year, sqlite3_column_int64(g, 0));
		sqlite3_reset(g);
		if (rc != SQLITE_DONE)
			goto fail;
	}
	if (one_int(st, &h->sites, "SELECT value FROM highwater WHERE name ="
	    " 'added_sites'", "") == -1)
		goto fail;
	hw_sort(h);
	return 0;
fail:
	if (rc != SQLITE_DONE && rc != SQLITE_ROW && rc != SQLITE_OK)
		dberr(st, "highwater");
	hw_free(h);
	return -1;
}

/* Before the COMMIT of a transaction that issued ids or numbers: the
 * file raised to what the database will hold.  Called by store.c. */
int
highwater_before_commit(struct store *st)
{
	struct hw db, file, merged;
	char *path, err[512];
	int rc = 0;

	if (!st->hw_dirty || st->state_dir == NULL)
		return 0;
	st->hw_dirty = 0;
	path = hw_path(st->state_dir);
	if (hw_load(path, &file, err, sizeof(err)) == -1) {
		free(path);
		return seterr(st, "highwater: %s", err);
	}
	free(path);
	if (hw_from_db(st, &db) == -1) {
		hw_free(&file);
		return -1;
	}
	memset(&merged, 0, sizeof(merged));
	hw_merge(&merged, &file);
	hw_merge(&merged, &db);
	if (!hw_same(&merged, &file) && hw_write(st->state_dir, &merged,
	    st->sy == NULL, err, sizeof(err)) == -1)
		rc = seterr(st, "highwater: %s", err);
	hw_free(&db);
	hw_free(&file);
	hw_free(&merged);
	return rc;
}

/* ---- notes ---------------------------------------------------------------- */

static void
note(struct store *st, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		return;
	xgrow(&st->notes, &st->capnotes, st->nnotes, sizeof(st->notes[0]));
	st->notes[st->nnotes++] = s;
}

const char *
store_note_next(struct store *st)
{
	if (st == NULL || st->note_next >= st->nnotes)
		return NULL;
	return st->notes[st->note_next++];
}

void
highwater_notes_free(struct store *st)
{
	for (size_t i = 0; i < st->nnotes; i++)
		free(st->notes[i]);
	free(st->notes);
	st->notes = NULL;
	st->nnotes = st->capnotes = st->note_next = 0;
}

static const char behind[] = "the database is behind what was issued"
    " (restored from a backup, or stopped between the mark and its commit):";

/* ---- at open: the database brought up to the mark ------------------------ */

/* The addSite site numbers issued that the database does not know: each
 * subject's next site number skips that many (counted inside the
 * transaction).  Sites of a first filing need nothing: they come with
 * their subject's number, which the number marks keep. */
static int
sites_catch_up(struct store *st, int64_t mark)
{
	int64_t have = 0, lost;

	if (one_int(st, &have, "SELECT value FROM highwater WHERE name ="
	    " 'added_sites'", "") == -1)
		return -1;
	if (have >= mark)
		return 0;
	lost = mark - have;
	if (run(st, "UPDATE subjects SET site_count = site_count + ?", "I",
	    lost) == -1 ||
	    run(st, "UPDATE highwater SET value = ? WHERE name ="
	    " 'added_sites'", "I", mark) == -1)
		return -1;
	note(st, "highwater: %s %" PRId64 " site numbers of addSite approvals"
	    " were issued that the database does not know; the next site number"
	    " of every subject skips %" PRId64 " so that none is issued twice",
	    behind, lost, lost);
	return 0;
}

static int
catch_up(struct store *st, const struct hw *f, const struct hw *db)
{
	char text[STORE_LICENCE_SIZE];
	struct licence l;
	int rc;

	for (size_t i = 0; i < f->nt; i++) {
		struct hw_seq *d = seq_find(db->t, db->nt, "", f->t[i].year);
		int64_t had = d != NULL ? d->last : 0;

		if (had >= f->t[i].last)
			continue;
		if (run(st, "INSERT INTO tracking_seq(year, last) VALUES(?, ?)"
		    " ON CONFLICT(year) DO UPDATE SET last = max(last,"
		    " excluded.last)", "iI", f->t[i].year, f->t[i].last) == -1)
			return -1;
		note(st, "highwater: %s tracking ids of %d go on after"
		    " BA-%d-%06" PRId64 " (the database knew up to BA-%d-%06"
		    PRId64 "); none of those is issued again", behind,
		    f->t[i].year, f->t[i].year, f->t[i].last, f->t[i].year, had);
	}
	for (size_t i = 0; i < f->nn; i++) {
		struct hw_seq *d = seq_find(db->n, db->nn, f->n[i].province,
		    f->n[i].year);
		int64_t had = d != NULL ? d->last : 0;

		if (had >= f->n[i].last)
			continue;
		if (run(st, "INSERT INTO number_seq(province, year, last)"
		    " VALUES(?, ?, ?) ON CONFLICT(province, year) DO UPDATE SET"
		    " last = max(last, excluded.last)", "siI", f->n[i].province,
		    f->n[i].year, f->n[i].last) == -1)
			return -1;
		note(st, "highwater: %s subject numbers of province %s, %d go on"
		    " after serial %06" PRId64 " (the database knew up to %06"
		    PRId64 "); none of those is issued again", behind,
		    f->n[i].province, f->n[i].year, f->n[i].last, had);
	}
	for (size_t i = 0; i < f->ng; i++) {
		memset(&l, 0, sizeof(l));
		memcpy(l.province, f->g[i].province, 2); /* province_ok */
		l.province[2] = '\0';
		l.year = f->g[i].year;
		l.serial = (long)f->g[i].last;
		if (licence_format(&l, text, sizeof(text)) < 0)
			continue; /* a province this build cannot spell */
		rc = run(st, "INSERT OR IGNORE INTO issued_numbers(province, year,"
		    " serial, old_form, licence, origin, at) VALUES(?, ?, ?, 0, ?,"
		    " 'highwater', strftime('%s','now'))", "siIs", l.province,
		    l.year, (int64_t)l.serial, text);
		if (rc == -1)
			return -1;
		if (rc == 1)
			note(st, "highwater: %s %s, issued by the bureau, is"
			    " recorded as issued again so that the local sequence"
			    " skips it", behind, text);
	}
	return sites_catch_up(st, f->sites);
}

static int
needs_catch_up(const struct hw *f, const struct hw *db)
{
	for (size_t i = 0; i < f->nt; i++) {
		struct hw_seq *d = seq_find(db->t, db->nt, "", f->t[i].year);

		if (d == NULL || d->last < f->t[i].last)
			return 1;
	}
	for (size_t i = 0; i < f->nn; i++) {
		struct hw_seq *d = seq_find(db->n, db->nn, f->n[i].province,
		    f->n[i].year);

		if (d == NULL || d->last < f->n[i].last)
			return 1;
	}
	/* a given serial the database lost: it is no longer above its
	 * local last there, or not there at all (checked in the catch-up) */
	for (size_t i = 0; i < f->ng; i++)
		if (!given_has(db, f->g[i].province, f->g[i].year, f->g[i].last))
			return 1;
	return db->sites < f->sites;
}

/* At open (store.c): bring the database up to the mark file. */
int
highwater_open(struct store *st)
{
	struct hw f, db;
	char *path, err[512];
	int rc = 0;

	if (st->state_dir == NULL)
		return 0;
	path = hw_path(st->state_dir);
	rc = hw_load(path, &f, err, sizeof(err));
	free(path);
	if (rc == -1)
		return seterr(st, "highwater: %s", err);
	if (f.nt + f.nn + f.ng == 0 && f.sites == 0)
		return 0;
	if (hw_from_db(st, &db) == -1) {
		hw_free(&f);
		return -1;
	}
	if (needs_catch_up(&f, &db)) {
		hw_free(&db);
		/* again inside the write lock: another process may have
		 * caught up meanwhile */
		if (op_begin(st) == -1) {
			hw_free(&f);
			return -1;
		}
		rc = hw_from_db(st, &db);
		if (rc == 0)
			rc = catch_up(st, &f, &db);
		rc = op_finish(st, rc);
	}
	hw_free(&db);
	hw_free(&f);
	return rc;
}

/* ---- what the scans found -------------------------------------------------- */

int
store_tracking_floor(struct store *st, int year, int64_t seq,
    const char *where)
{
	int64_t had = 0;
	int rc;

	if (year < 1000 || year > 9999 || seq <= 0)
		return 0;
	if (op_begin(st) == -1)
		return -1;
	rc = one_int(st, &had, "SELECT last FROM tracking_seq WHERE year = ?",
	    "i", year);
	if (rc == -1)
		return op_finish(st, -1);
	if (had >= seq)
		return op_finish(st, 1) == -1 ? -1 : 0;
	if (run(st, "INSERT INTO tracking_seq(year, last) VALUES(?, ?)"
	    " ON CONFLICT(year) DO UPDATE SET last = max(last, excluded.last)",
	    "iI", year, seq) == -1)
		return op_finish(st, -1);
	st->hw_dirty = 1;
	if (op_finish(st, 0) == -1)
		return -1;
	note(st, "highwater: BA-%d-%06" PRId64 " was issued (%s) but the"
	    " database knew only up to BA-%d-%06" PRId64 ": tracking ids of %d"
	    " go on after it; none of those is issued again", year, seq,
	    where != NULL ? where : "found", year, had, year);
	return 1;
}

int
store_filings_newest(struct store *st, time_t *t)
{
	int64_t v = 0;

	if (one_int(st, &v, "SELECT coalesce(max(created), 0) FROM filings",
	    "") == -1)
		return -1;
	*t = (time_t)v;
	return 0;
}

int
store_highwater_merge(const char *state_dir, const char *from, char *err,
    size_t errsize)
{
	struct hw a, b;
	char *path;
	int rc;

	if (hw_load(from, &b, err, errsize) == -1)
		return -1;
	path = hw_path(state_dir);
	rc = hw_load(path, &a, err, errsize);
	free(path);
	if (rc == -1) {
		hw_free(&b);
		return -1;
	}
	hw_merge(&a, &b);
	rc = hw_write(state_dir, &a, 1, err, errsize);
	hw_free(&a);
	hw_free(&b);
	return rc;
}
