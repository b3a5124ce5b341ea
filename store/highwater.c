/*
 * highwater: the high-water marks of issued ids and numbers, outside the
 * database (include/store/highwater.h says why).
 *
 * Each mark has two values.  LAST is raised, durably, inside the writing
 * transaction before its COMMIT, whenever the transaction goes above it:
 * nothing is ever told above LAST (tracking ids are marked
 * HW_TRACKING_AHEAD ahead, so most commits need no durable write).  CONF
 * is raised right after every COMMIT (a rename, no fsync of its own):
 * what is known to have been committed.  At open a database below LAST
 * is told apart:
 *   - at or above CONF: nothing was forgotten — LAST is only ahead (the
 *     marking, or a transaction that died before its COMMIT and told
 *     nothing): the sequences go on from the database, no gap;
 *   - below CONF: it forgot what was committed — a restore: it goes on
 *     past LAST (under the write lock), with a note; a gap, never a
 *     reuse.
 * `beianctl restore` marks everything confirmed (store_highwater_merge),
 * so that a restored database always goes on past LAST.  A restore the
 * file cannot see is one whose backup is newer than every confirmation
 * since — only if the commits after the backup all died between their
 * COMMIT and their confirmation.
 *
 * What is hostile here: nothing a stranger sends; but the file is read
 * back, and anything in it that is not a line this file writes is an
 * error naming the file and the line, never guessed at: a mark misread
 * as lower could let a number be issued twice.  Lines (text, "#"
 * comments heading them):
 *
 *   tracking YEAR LAST CONF            tracking ids of YEAR
 *   number PROVINCE YEAR LAST CONF     local subject serials
 *   given PROVINCE YEAR SERIAL CONF    a bureau's serial above them (CONF 0|1)
 *   added_sites LAST CONF              site numbers addSite approvals issued
 *
 * Every read-modify-write of the file holds an flock on state_dir itself,
 * so that one process's confirmation never undoes another's mark.
 */
#include <sys/file.h>
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
/* Tracking ids are marked this far ahead (as PostgreSQL logs sequence
 * values ahead): one durable write per this many ids, not per commit.
 * A restore then goes on past what was marked: a gap of at most this
 * many ids, which nobody relies on.  Numbers are marked one by one. */
#define HW_TRACKING_AHEAD 128

struct hw_seq {
	char province[4];       /* "" for tracking ids */
	int year;
	int64_t last;           /* given: the serial */
	int64_t conf;           /* given: 1 confirmed, 0 pending */
};

struct hw {
	struct hw_seq *t;       /* tracking: year */
	size_t nt, capt;
	struct hw_seq *n;       /* numbers: province, year */
	size_t nn, capn;
	struct hw_seq *g;       /* given: province, year, serial */
	size_t ng, capg;
	int64_t sites, sites_conf; /* site numbers of addSite approvals */
};

static void
hw_free(struct hw *h)
{
	if (h == NULL)
		return;
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

static struct hw_seq *
seq_push(struct hw_seq **v, size_t *n, size_t *cap, const char *province,
    int year, int64_t last, int64_t conf)
{
	struct hw_seq *s;

	xgrow(v, cap, *n, sizeof(**v));
	s = &(*v)[(*n)++];
	memset(s, 0, sizeof(*s));
	snprintf(s->province, sizeof(s->province), "%s", province);
	s->year = year;
	s->last = last;
	s->conf = conf;
	return s;
}

/* Raise the entry (province, year): last and conf each to the higher. */
static void
seq_max(struct hw_seq **v, size_t *n, size_t *cap, const char *province,
    int year, int64_t last, int64_t conf)
{
	struct hw_seq *s = seq_find(*v, *n, province, year);

	if (s == NULL) {
		seq_push(v, n, cap, province, year, last, conf);
		return;
	}
	if (s->last < last)
		s->last = last;
	if (s->conf < conf)
		s->conf = conf;
}

static struct hw_seq *
given_find(struct hw *h, const char *province, int year, int64_t serial)
{
	for (size_t i = 0; i < h->ng; i++)
		if (h->g[i].year == year && h->g[i].last == serial &&
		    strcmp(h->g[i].province, province) == 0)
			return &h->g[i];
	return NULL;
}

static void
given_add(struct hw *h, const char *province, int year, int64_t serial,
    int64_t confirmed)
{
	struct hw_seq *g = given_find(h, province, year, serial);

	if (g == NULL)
		seq_push(&h->g, &h->ng, &h->capg, province, year, serial,
		    confirmed);
	else if (confirmed)
		g->conf = 1;
}

/* A given serial at or below the confirmed local sequence can never be
 * reached by it again: no need to keep it. */
static void
given_prune(struct hw *h)
{
	size_t k = 0;

	for (size_t i = 0; i < h->ng; i++) {
		struct hw_seq *s = seq_find(h->n, h->nn, h->g[i].province,
		    h->g[i].year);

		if (s == NULL || h->g[i].last > s->conf)
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
	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	return x->conf < y->conf ? -1 : x->conf > y->conf;
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

/*
 * dst raised to src: each LAST and CONF the higher of the two (with
 * confirm, src's values count as confirmed too: CONF := LAST).
 */
static void
hw_merge(struct hw *dst, const struct hw *src, int confirm)
{
	for (size_t i = 0; i < src->nt; i++)
		seq_max(&dst->t, &dst->nt, &dst->capt, "", src->t[i].year,
		    src->t[i].last, confirm ? src->t[i].last : src->t[i].conf);
	for (size_t i = 0; i < src->nn; i++)
		seq_max(&dst->n, &dst->nn, &dst->capn, src->n[i].province,
		    src->n[i].year, src->n[i].last, confirm ? src->n[i].last :
		    src->n[i].conf);
	for (size_t i = 0; i < src->ng; i++)
		given_add(dst, src->g[i].province, src->g[i].year,
		    src->g[i].last, confirm || src->g[i].conf);
	if (dst->sites < src->sites)
		dst->sites = src->sites;
	if (dst->sites_conf < (confirm ? src->sites : src->sites_conf))
		dst->sites_conf = confirm ? src->sites : src->sites_conf;
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
	    a->sites == b->sites && a->sites_conf == b->sites_conf &&
	    seqs_same(a->t, b->t, a->nt) && seqs_same(a->n, b->n, a->nn) &&
	    seqs_same(a->g, b->g, a->ng);
}

/* Everything in h counted as committed. */
static void
hw_confirm_all(struct hw *h)
{
	for (size_t i = 0; i < h->nt; i++)
		h->t[i].conf = h->t[i].last;
	for (size_t i = 0; i < h->nn; i++)
		h->n[i].conf = h->n[i].last;
	for (size_t i = 0; i < h->ng; i++)
		h->g[i].conf = 1;
	h->sites_conf = h->sites;
	given_prune(h);
	hw_sort(h);
}

static void
hw_copy(struct hw *dst, const struct hw *src)
{
	memset(dst, 0, sizeof(*dst));
	hw_merge(dst, src, 0);
	dst->sites = src->sites;
	dst->sites_conf = src->sites_conf;
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
	char *w[6], *save = NULL, *p = line;
	int64_t y, v, c;
	size_t n = 0;

	while (n < 6 && (w[n] = strtok_r(p, " \t", &save)) != NULL) {
		p = NULL;
		n++;
	}
	if (n == 0 || w[0][0] == '#')
		return 0;
	if (n == 4 && strcmp(w[0], "tracking") == 0) {
		if (num_parse(w[1], 1000, 9999, &y) == -1 ||
		    num_parse(w[2], 0, INT64_MAX, &v) == -1 ||
		    num_parse(w[3], 0, v, &c) == -1)
			return -1;
		seq_max(&h->t, &h->nt, &h->capt, "", (int)y, v, c);
		return 0;
	}
	if (n == 5 && strcmp(w[0], "number") == 0) {
		if (!province_ok(w[1]) || num_parse(w[2], 1000, 9999, &y) == -1 ||
		    num_parse(w[3], 0, 99999999, &v) == -1 ||
		    num_parse(w[4], 0, v, &c) == -1)
			return -1;
		seq_max(&h->n, &h->nn, &h->capn, w[1], (int)y, v, c);
		return 0;
	}
	if (n == 5 && strcmp(w[0], "given") == 0) {
		if (!province_ok(w[1]) || num_parse(w[2], 1000, 9999, &y) == -1 ||
		    num_parse(w[3], 1, 99999999, &v) == -1 ||
		    num_parse(w[4], 0, 1, &c) == -1)
			return -1;
		given_add(h, w[1], (int)y, v, c);
		return 0;
	}
	if (n == 3 && strcmp(w[0], "added_sites") == 0) {
		if (num_parse(w[1], 0, INT64_MAX, &v) == -1 ||
		    num_parse(w[2], 0, v, &c) == -1)
			return -1;
		if (h->sites < v)
			h->sites = v;
		if (h->sites_conf < c)
			h->sites_conf = c;
		return 0;
	}
	return -1;
}

static char *
hw_path(const char *dir)
{
	return xasprintf("%s/%s", dir, STORE_HIGHWATER_FILE);
}

/* Read dir's mark file into h (empty when there is none). */
static int
hw_load(const char *dir, struct hw *h, char *err, size_t errsize)
{
	char line[256], *path = hw_path(dir);
	FILE *fp = NULL;
	int fd, lineno = 0, rc = 0;

	memset(h, 0, sizeof(*h));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1 || (fp = fdopen(fd, "r")) == NULL) {
		if (fd == -1 && errno == ENOENT) {
			free(path);
			return 0;
		}
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		free(path);
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
		rc = -2;
	} else if (rc == -1)
		snprintf(err, errsize, "%s:%d: not a line of a high-water mark"
		    " file; no id or number is issued until it is repaired"
		    " (beiand(8), STATE)", path, lineno);
	fclose(fp);
	free(path);
	if (rc != 0) {
		hw_free(h);
		return -1;
	}
	given_prune(h);
	hw_sort(h);
	return 0;
}

/*
 * Write h as dir/highwater: a temporary file, rename.  With sync, the
 * file is fdatasynced before the rename and the folder fsynced after it,
 * unless dir_sync is 0 (the daemon's syncfs makes the rename durable
 * before anything of the commit is told).
 */
static int
hw_write(const char *dir, const struct hw *h, int sync, int dir_sync,
    char *err, size_t errsize)
{
	char *path = hw_path(dir), *tmp;
	FILE *fp;
	int fd, bad, rc = -1;

	tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1 || (fp = fdopen(fd, "w")) == NULL) {
		snprintf(err, errsize, "%s: %s", tmp, strerror(errno));
		if (fd != -1)
			close(fd);
		goto out;
	}
	fprintf(fp, "# beiand: the last tracking ids and filing numbers issued"
	    " (and confirmed);\n# never issued again, also by a database"
	    " restored from a backup (beiand(8), STATE).  Do not edit.\n");
	for (size_t i = 0; i < h->nt; i++)
		fprintf(fp, "tracking %d %" PRId64 " %" PRId64 "\n", h->t[i].year,
		    h->t[i].last, h->t[i].conf);
	for (size_t i = 0; i < h->nn; i++)
		fprintf(fp, "number %s %d %" PRId64 " %" PRId64 "\n",
		    h->n[i].province, h->n[i].year, h->n[i].last, h->n[i].conf);
	for (size_t i = 0; i < h->ng; i++)
		fprintf(fp, "given %s %d %" PRId64 " %d\n", h->g[i].province,
		    h->g[i].year, h->g[i].last, h->g[i].conf ? 1 : 0);
	fprintf(fp, "added_sites %" PRId64 " %" PRId64 "\n", h->sites,
	    h->sites_conf);
	bad = fflush(fp) == EOF || ferror(fp) ||
	    (sync && fdatasync(fileno(fp)) == -1);
	if (fclose(fp) == EOF)
		bad = 1;
	if (bad || rename(tmp, path) == -1) {
		snprintf(err, errsize, "%s: %s", bad ? tmp : path,
		    strerror(errno));
		goto out;
	}
	if (sync && dir_sync) {
		if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
		    fsync(fd) == -1) {
			snprintf(err, errsize, "%s: fsync: %s", dir,
			    strerror(errno));
			if (fd != -1)
				close(fd);
			goto out;
		}
		close(fd);
	}
	rc = 0;
out:
	if (rc == -1)
		unlink(tmp);
	free(tmp);
	free(path);
	return rc;
}

/* The flock on state_dir that every read-modify-write of the file
 * holds; the descriptor, or -1 with err set. */
static int
hw_lock(const char *dir, char *err, size_t errsize)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1) {
		snprintf(err, errsize, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) == -1) {
		if (errno == EINTR)
			continue;
		snprintf(err, errsize, "%s: flock: %s", dir, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
hw_unlock(int fd)
{
	if (fd != -1)
		close(fd); /* the lock goes with the descriptor */
}

/* ---- the database's side -------------------------------------------------- */

/* What the database holds of the same marks (all of it committed, as far
 * as this connection sees: CONF = LAST). */
static int
hw_from_db(struct store *st, struct hw *h)
{
	sqlite3_stmt *s;
	int rc = SQLITE_DONE;

	memset(h, 0, sizeof(*h));
	if ((s = query(st, "SELECT year, last FROM tracking_seq", "")) == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		seq_push(&h->t, &h->nt, &h->capt, "", sqlite3_column_int(s, 0),
		    sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 1));
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
			    sqlite3_column_int(s, 1), sqlite3_column_int64(s, 2),
			    sqlite3_column_int64(s, 2));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		goto fail;
	/* the serials a bureau gave above each local sequence */
	for (size_t i = 0; i < h->nn; i++) {
		s = query(st, "SELECT serial FROM issued_numbers WHERE province = ?"
		    " AND year = ? AND serial > ? AND old_form = 0 AND origin <>"
		    " 'import' ORDER BY serial LIMIT ?", "siIi", h->n[i].province,
		    h->n[i].year, h->n[i].last, HW_MAX_GIVEN);
		if (s == NULL)
			goto fail;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			seq_push(&h->g, &h->ng, &h->capg, h->n[i].province,
			    h->n[i].year, sqlite3_column_int64(s, 0), 1);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			goto fail;
	}
	if (one_int(st, &h->sites, "SELECT value FROM highwater WHERE name ="
	    " 'added_sites'", "") == -1)
		goto fail_quiet;
	h->sites_conf = h->sites;
	hw_sort(h);
	return 0;
fail:
	dberr(st, "highwater");
fail_quiet:
	hw_free(h);
	return -1;
}

static int
given_in_db(struct store *st, const struct hw_seq *g)
{
	return one_int(st, NULL, "SELECT 1 FROM issued_numbers WHERE province ="
	    " ? AND year = ? AND serial = ? AND old_form = 0", "siI",
	    g->province, g->year, g->last);
}

/*
 * Before the COMMIT of a transaction that issued ids or numbers (store.c):
 * each LAST raised, durably, to what the database will hold; the values
 * kept for the confirmation after the COMMIT.  -1: no COMMIT.
 */
int
highwater_before_commit(struct store *st)
{
	struct hw *v, file, next;
	char err[512];
	int lk, rc = 0;

	if (!st->hw_dirty || st->state_dir == NULL)
		return 0;
	st->hw_dirty = 0;
	v = xcalloc(1, sizeof(*v));
	if (hw_from_db(st, v) == -1) {
		free(v);
		return -1;
	}
	if ((lk = hw_lock(st->state_dir, err, sizeof(err))) == -1) {
		hw_free(v);
		free(v);
		return seterr(st, "highwater: %s", err);
	}
	if (hw_load(st->state_dir, &file, err, sizeof(err)) == -1)
		rc = seterr(st, "highwater: %s", err);
	else {
		struct hw raise;

		/* LAST only: CONF waits for the COMMIT; tracking ids marked
		 * ahead when they pass the mark */
		hw_copy(&raise, v);
		for (size_t i = 0; i < raise.nt; i++) {
			struct hw_seq *m = seq_find(file.t, file.nt, "",
			    raise.t[i].year);

			if (m == NULL || raise.t[i].last > m->last)
				raise.t[i].last += HW_TRACKING_AHEAD;
			raise.t[i].conf = 0;
		}
		for (size_t i = 0; i < raise.nn; i++)
			raise.n[i].conf = 0;
		for (size_t i = 0; i < raise.ng; i++)
			raise.g[i].conf = 0;
		raise.sites_conf = 0;
		hw_copy(&next, &file);
		hw_merge(&next, &raise, 0);
		if (!hw_same(&next, &file) && hw_write(st->state_dir, &next, 1,
		    st->sy == NULL, err, sizeof(err)) == -1)
			rc = seterr(st, "highwater: %s", err);
		hw_free(&raise);
		hw_free(&next);
		hw_free(&file);
	}
	hw_unlock(lk);
	if (rc == -1) {
		hw_free(v);
		free(v);
		return -1;
	}
	highwater_forget(st);
	st->hw_pending = v;
	return 0;
}

/* After that COMMIT (store.c): the values confirmed.  Not synced: a
 * confirmation lost with a power cut only makes the next open go on past
 * LAST (a gap, never a reuse).  Failures change nothing else. */
void
highwater_after_commit(struct store *st)
{
	struct hw file, next;
	char err[512];
	int lk;

	if (st->hw_pending == NULL)
		return;
	if ((lk = hw_lock(st->state_dir, err, sizeof(err))) != -1) {
		if (hw_load(st->state_dir, &file, err, sizeof(err)) == 0) {
			hw_copy(&next, &file);
			hw_merge(&next, st->hw_pending, 1);
			if (!hw_same(&next, &file))
				hw_write(st->state_dir, &next, 0, 0, err,
				    sizeof(err));
			hw_free(&next);
			hw_free(&file);
		}
		hw_unlock(lk);
	}
	highwater_forget(st);
}

void
highwater_forget(struct store *st)
{
	hw_free(st->hw_pending);
	free(st->hw_pending);
	st->hw_pending = NULL;
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
    " (restored from a backup?):";

/* ---- at open: the database and the file agree again ----------------------- */

/* 1 when the database forgot what was committed (below CONF, and so
 * below LAST): it must go on past LAST; else 0. */
static int
forgot(int64_t db, int64_t last, int64_t conf)
{
	return db < last && db < conf;
}

static int
needs_work(struct store *st, const struct hw *f, const struct hw *db)
{
	for (size_t i = 0; i < f->nt; i++) {
		struct hw_seq *d = seq_find(db->t, db->nt, "", f->t[i].year);

		if (forgot(d != NULL ? d->last : 0, f->t[i].last, f->t[i].conf))
			return 1;
	}
	for (size_t i = 0; i < f->nn; i++) {
		struct hw_seq *d = seq_find(db->n, db->nn, f->n[i].province,
		    f->n[i].year);

		if (forgot(d != NULL ? d->last : 0, f->n[i].last, f->n[i].conf))
			return 1;
	}
	for (size_t i = 0; i < f->ng; i++) {
		int rc;

		if (!f->g[i].conf)
			continue; /* its transaction may have died */
		if ((rc = given_in_db(st, &f->g[i])) != 1)
			return rc == -1 ? -1 : 1;
	}
	return forgot(db->sites, f->sites, f->sites_conf);
}

/* The addSite site numbers issued that the database does not know: each
 * subject's next site number skips that many.  Sites of a first filing
 * need nothing: they come with their subject's number, which the number
 * marks keep. */
static int
sites_catch_up(struct store *st, int64_t have, int64_t mark)
{
	int64_t lost = mark - have;

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

/* Under the write lock and the file's lock: f (the file) and the
 * database made to agree; f changed in place. */
static int
reconcile(struct store *st, struct hw *f, const struct hw *db)
{
	char text[STORE_LICENCE_SIZE];
	struct licence l;
	size_t k;
	int rc;

	for (size_t i = 0; i < f->nt; i++) {
		struct hw_seq *d = seq_find(db->t, db->nt, "", f->t[i].year);
		int64_t had = d != NULL ? d->last : 0;

		if (forgot(had, f->t[i].last, f->t[i].conf)) {
			if (run(st, "INSERT INTO tracking_seq(year, last)"
			    " VALUES(?, ?) ON CONFLICT(year) DO UPDATE SET last ="
			    " max(last, excluded.last)", "iI", f->t[i].year,
			    f->t[i].last) == -1)
				return -1;
			f->t[i].conf = f->t[i].last;
			note(st, "highwater: %s tracking ids of %d go on after"
			    " BA-%d-%06" PRId64 " (the database knew up to"
			    " BA-%d-%06" PRId64 "); none of those is issued again",
			    behind, f->t[i].year, f->t[i].year, f->t[i].last,
			    f->t[i].year, had);
		}
	}
	for (size_t i = 0; i < f->nn; i++) {
		struct hw_seq *d = seq_find(db->n, db->nn, f->n[i].province,
		    f->n[i].year);
		int64_t had = d != NULL ? d->last : 0;

		if (forgot(had, f->n[i].last, f->n[i].conf)) {
			if (run(st, "INSERT INTO number_seq(province, year, last)"
			    " VALUES(?, ?, ?) ON CONFLICT(province, year) DO"
			    " UPDATE SET last = max(last, excluded.last)", "siI",
			    f->n[i].province, f->n[i].year, f->n[i].last) == -1)
				return -1;
			f->n[i].conf = f->n[i].last;
			note(st, "highwater: %s subject numbers of province %s, %d"
			    " go on after serial %06" PRId64 " (the database knew"
			    " up to %06" PRId64 "); none of those is issued again",
			    behind, f->n[i].province, f->n[i].year, f->n[i].last,
			    had);
		}
	}
	for (size_t i = k = 0; i < f->ng; i++) {
		if ((rc = given_in_db(st, &f->g[i])) == -1)
			return -1;
		if (rc == 1 || !f->g[i].conf) {
			/* known; or given by a transaction that died (or not
			 * confirmed yet: it stays until it is) */
			f->g[k++] = f->g[i];
			continue;
		}
		memset(&l, 0, sizeof(l));
		memcpy(l.province, f->g[i].province, 2); /* province_ok */
		l.province[2] = '\0';
		l.year = f->g[i].year;
		l.serial = (long)f->g[i].last;
		if (licence_format(&l, text, sizeof(text)) < 0)
			return seterr(st, "highwater: no abbreviation for province"
			    " %s", l.province);
		if (run(st, "INSERT INTO number_seq(province, year, last)"
		    " VALUES(?, ?, 0) ON CONFLICT(province, year) DO NOTHING",
		    "si", l.province, l.year) == -1 ||
		    run(st, "INSERT OR IGNORE INTO issued_numbers(province, year,"
		    " serial, old_form, licence, origin, at) VALUES(?, ?, ?, 0, ?,"
		    " 'highwater', strftime('%s','now'))", "siIs", l.province,
		    l.year, (int64_t)l.serial, text) == -1)
			return -1;
		f->g[k++] = f->g[i];
		note(st, "highwater: %s %s, issued by the bureau, is recorded as"
		    " issued again so that the local sequence skips it", behind,
		    text);
	}
	f->ng = k;
	if (forgot(db->sites, f->sites, f->sites_conf)) {
		if (sites_catch_up(st, db->sites, f->sites) == -1)
			return -1;
		f->sites_conf = f->sites;
	}
	return 0;
}

/* At open (store.c): the database and the mark file made to agree. */
int
highwater_open(struct store *st)
{
	struct hw f, db, before;
	char err[512];
	int lk, rc;

	if (st->state_dir == NULL)
		return 0;
	if (hw_load(st->state_dir, &f, err, sizeof(err)) == -1)
		return seterr(st, "highwater: %s", err);
	if (f.nt + f.nn + f.ng == 0 && f.sites == 0)
		return 0;
	if (hw_from_db(st, &db) == -1) {
		hw_free(&f);
		return -1;
	}
	rc = needs_work(st, &f, &db);
	hw_free(&db);
	hw_free(&f);
	if (rc <= 0)
		return rc;
	/* Again under the write lock, the database's and the file's: another
	 * process may have caught up meanwhile. */
	if (op_begin(st) == -1)
		return -1;
	if ((lk = hw_lock(st->state_dir, err, sizeof(err))) == -1)
		return op_finish(st, seterr(st, "highwater: %s", err));
	rc = hw_load(st->state_dir, &f, err, sizeof(err));
	if (rc == -1) {
		hw_unlock(lk);
		return op_finish(st, seterr(st, "highwater: %s", err));
	}
	if (hw_from_db(st, &db) == -1) {
		hw_free(&f);
		hw_unlock(lk);
		return op_finish(st, -1);
	}
	hw_copy(&before, &f);
	rc = reconcile(st, &f, &db);
	given_prune(&f);
	hw_sort(&f);
	if (rc == 0 && !hw_same(&f, &before) && hw_write(st->state_dir, &f, 1,
	    1, err, sizeof(err)) == -1)
		rc = seterr(st, "highwater: %s", err);
	rc = op_finish(st, rc);
	hw_unlock(lk);
	hw_free(&before);
	hw_free(&f);
	hw_free(&db);
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
store_highwater_merge(const char *state_dir, const char *from_dir,
    int confirm, char *err, size_t errsize)
{
	struct hw a, b, next;
	int lk, rc;

	if (hw_load(from_dir, &b, err, errsize) == -1)
		return -1;
	if ((lk = hw_lock(state_dir, err, errsize)) == -1) {
		hw_free(&b);
		return -1;
	}
	rc = hw_load(state_dir, &a, err, errsize);
	if (rc == 0) {
		hw_copy(&next, &a);
		hw_merge(&next, &b, confirm);
		if (confirm)
			hw_confirm_all(&next);
		rc = hw_write(state_dir, &next, 1, 1, err, errsize);
		hw_free(&next);
		hw_free(&a);
	}
	hw_unlock(lk);
	hw_free(&b);
	return rc;
}
