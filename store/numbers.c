/*
 * numbers: approval — the subject and site numbers it allocates or takes
 * from the bureau (FORMAT.md §4), the sites it creates or cancels, the
 * password of a first filing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "parsers/licence.h"
#include "store/store.h"
#include "store/store_priv.h"

/* ---- numbers (FORMAT.md §4) ---------------------------------------------- */

/*
 * The next local subject number for province in year: the sequence goes
 * on past numbers already issued (by a bureau), each number once.  Runs
 * inside the approving transaction, so a crash loses nothing and leaves
 * no gap.
 */
static int
number_next(struct store *st, const char *province, int year, const char *id,
    time_t now, struct licence *l, char *buf, size_t size)
{
	int64_t last = 0, n;
	int rc;

	if (one_int(st, &last, "SELECT last FROM number_seq WHERE province = ?"
	    " AND year = ?", "si", province, year) == -1)
		return -1;
	for (n = last + 1;; n++) {
		if (n > 999999)
			return seterr(st, "subject numbers of %s/%d are exhausted",
			    province, year);
		rc = one_int(st, NULL, "SELECT 1 FROM issued_numbers WHERE"
		    " province = ? AND year = ? AND serial = ? AND old_form = 0",
		    "siI", province, year, n);
		if (rc == -1)
			return -1;
		if (rc == 0)
			break;
	}
	memset(l, 0, sizeof(*l));
	strlcpy(l->province, province, sizeof(l->province));
	l->year = year;
	l->serial = (long)n;
	if (licence_format(l, buf, size) < 0)
		return seterr(st, "cannot format a number for province %s",
		    province);
	if (run(st, "INSERT INTO number_seq(province, year, last) VALUES(?, ?, ?)"
	    " ON CONFLICT(province, year) DO UPDATE SET last = excluded.last",
	    "siI", province, year, n) == -1 ||
	    run(st, "INSERT INTO issued_numbers(province, year, serial, old_form,"
	    " licence, origin, at) VALUES(?, ?, ?, 0, ?, ?, ?)", "siIssI",
	    province, year, n, buf, id, (int64_t)now) == -1)
		return -1;
	st->hw_dirty = 1; /* the mark follows before the commit */
	return 0;
}

/* A subject number a bureau issued: 1 with LICENCE_CONFLICT when taken. */
static int
number_take(struct store *st, const struct licence *l, const char *text,
    const char *id, time_t now, struct errlist *errs)
{
	int rc;

	/* The local sequence is gap-free: a serial at or below its last
	 * that issued_numbers lacks was issued all the same and forgotten
	 * (a restored database; store/highwater.c) — or lost to a stop
	 * between the mark and its commit: in use either way. */
	rc = one_int(st, NULL, "SELECT 1 FROM issued_numbers WHERE province = ?"
	    " AND year = ? AND serial = ? AND old_form = ? UNION ALL"
	    " SELECT 1 FROM subjects WHERE licence = ? UNION ALL"
	    " SELECT 1 FROM number_seq WHERE province = ? AND year = ? AND"
	    " last >= ? AND ? = 0", "siIissiIi", l->province, l->year,
	    (int64_t)l->serial, l->old_form, text, l->province, l->year,
	    (int64_t)l->serial, l->old_form);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		add(errs, ERR_LICENCE_CONFLICT, "/decision/licence");
		return 1;
	}
	if (run(st, "INSERT INTO issued_numbers(province, year, serial, old_form,"
	    " licence, origin, at) VALUES(?, ?, ?, ?, ?, ?, ?)", "siIissI",
	    l->province, l->year, (int64_t)l->serial, l->old_form, text, id,
	    (int64_t)now) == -1)
		return -1;
	/* a serial given above the local sequence is kept in the mark file:
	 * its (province, year) needs a sequence row to be found there */
	if (!l->old_form && run(st, "INSERT OR IGNORE INTO number_seq(province,"
	    " year, last) VALUES(?, ?, 0)", "si", l->province, l->year) == -1)
		return -1;
	st->hw_dirty = 1;
	return 0;
}

static int
site_add(struct store *st, const char *subject, int n, const char *name,
    const char *domains, const char *provider, const char *id, time_t now,
    char *buf, size_t size)
{
	struct licence l;
	char *d, *p, *tok, *save = NULL;

	if (licence_parse(subject, &l) == -1)
		return seterr(st, "stored subject number %s unreadable", subject);
	l.site = n;
	if (licence_format(&l, buf, size) < 0)
		return seterr(st, "cannot format site %d of %s", n, subject);
	if (run(st, "INSERT INTO sites(licence, subject, n, name, state, filing,"
	    " created, updated) VALUES(?, ?, ?, ?, 'active', ?, ?, ?)",
	    "ssissII", buf, subject, n, name, id, (int64_t)now,
	    (int64_t)now) == -1)
		return -1;
	if (provider != NULL && run(st, "INSERT INTO site_access(site, provider)"
	    " VALUES(?, ?)", "ss", buf, provider) == -1)
		return -1;
	d = xstrdup(domains ? domains : "");
	for (p = d; (tok = strtok_r(p, " ", &save)) != NULL; p = NULL) {
		if (run(st, "INSERT OR IGNORE INTO site_domains(site, domain)"
		    " VALUES(?, ?)", "ss", buf, tok) == -1) {
			free(d);
			return -1;
		}
	}
	free(d);
	return 0;
}

/* The websites of a filing, in order: (idx, name, domains). */
struct wrow {
	int idx;
	char *name, *domains;
};

static int
websites_load(struct store *st, const char *id, struct wrow **out, size_t *n)
{
	sqlite3_stmt *s;
	struct wrow *w = NULL;
	size_t cap = 0, k = 0;
	int rc;

	s = query(st, "SELECT idx, name, domains FROM filing_websites"
	    " WHERE filing = ? ORDER BY idx", "s", id);
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		xgrow(&w, &cap, k, sizeof(*w));
		w[k].idx = sqlite3_column_int(s, 0);
		w[k].name = col_dup(s, 1);
		w[k].domains = col_dup(s, 2);
		k++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		for (size_t i = 0; i < k; i++) {
			free(w[i].name);
			free(w[i].domains);
		}
		free(w);
		return dberr(st, "websites");
	}
	*out = w;
	*n = k;
	return 0;
}

static void
websites_free(struct wrow *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(w[i].name);
		free(w[i].domains);
	}
	free(w);
}

int
approve_first(struct store *st, struct frow *f, const char *given, time_t now,
    struct errlist *errs, struct approval *ap)
{
	char subj[STORE_LICENCE_SIZE], site[STORE_LICENCE_SIZE];
	char hash[crypto_pwhash_STRBYTES];
	struct licence l;
	struct wrow *w = NULL;
	size_t nw = 0;
	int rc;

	if (f->subject_cert == NULL || f->province == NULL)
		return seterr(st, "%s: first filing without subject", f->id);
	rc = one_int(st, NULL, "SELECT 1 FROM subjects WHERE cert_number = ?",
	    "s", f->subject_cert);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		add(errs, ERR_SUBJECT_ALREADY_FILED, "/filing/sponsor/certNumber");
		return 1;
	}
	if (given != NULL) {
		if (licence_canon(given, &l, subj, sizeof(subj)) == -1 ||
		    l.site != 0 || strcmp(l.province, f->province) != 0) {
			add(errs, ERR_LICENCE_FORMAT, "/decision/licence");
			return 1;
		}
		if ((rc = number_take(st, &l, subj, f->id, now, errs)) != 0)
			return rc;
	} else if (number_next(st, f->province, cst_year(now), f->id, now, &l,
	    subj, sizeof(subj)) == -1)
		return -1;

	store_random_token(ap->password, STORE_PASSWORD_LEN);
	if (crypto_pwhash_str_alg(hash, ap->password, STORE_PASSWORD_LEN,
	    st->opslimit, st->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return seterr(st, "password hash: out of memory");
	ap->has_password = 1;
	if (run(st, "INSERT INTO subjects(licence, province, cert_number, name,"
	    " nature, cert_type, owner_email, password_hash, filing, created)"
	    " SELECT ?, province, subject_cert, sponsor_name, sponsor_nature,"
	    " sponsor_cert_type, owner, ?, id, ? FROM filings WHERE id = ?",
	    "ssIs", subj, hash, (int64_t)now, f->id) != 1)
		return -1;
	sodium_memzero(hash, sizeof(hash));
	if (websites_load(st, f->id, &w, &nw) == -1)
		return -1;
	jb_kv(&ap->extra, "subject_licence", subj);
	jb_key(&ap->extra, "site_licences");
	jb_open(&ap->extra, '[');
	rc = 0;
	for (size_t i = 0; i < nw && rc == 0; i++) {
		rc = site_add(st, subj, (int)i + 1, w[i].name, w[i].domains,
		    f->provider, f->id, now, site, sizeof(site));
		if (rc == 0 && run(st, "UPDATE filing_websites SET site_licence = ?"
		    " WHERE filing = ? AND idx = ?", "ssi", site, f->id,
		    w[i].idx) == -1)
			rc = -1;
		if (rc == 0)
			jb_string(&ap->extra, site);
	}
	jb_close(&ap->extra, ']');
	websites_free(w, nw);
	if (rc != 0)
		return rc;
	if (run(st, "UPDATE subjects SET site_count = ? WHERE licence = ?", "is",
	    (int)nw, subj) == -1 ||
	    run(st, "UPDATE filings SET subject_licence = ? WHERE id = ?", "ss",
	    subj, f->id) == -1)
		return -1;
	free(f->subject_licence);
	f->subject_licence = xstrdup(subj);
	return 0;
}

int
approve_add_site(struct store *st, struct frow *f, const char *given,
    time_t now, struct errlist *errs, struct approval *ap)
{
	char site[STORE_LICENCE_SIZE], sbuf[STORE_LICENCE_SIZE];
	struct licence l, subj;
	struct wrow *w = NULL;
	size_t nw = 0;
	int64_t count = 0;
	int rc, given_n = 0;

	rc = one_int(st, &count, "SELECT site_count FROM subjects WHERE"
	    " licence = ?", "s", f->subject_licence);
	if (rc == -1)
		return -1;
	if (rc == 0) {
		add(errs, ERR_LICENCE_UNKNOWN, "/filing/subjectLicence");
		return 1;
	}
	if (websites_load(st, f->id, &w, &nw) == -1)
		return -1;
	if (given != NULL) {
		rc = 0;
		if (nw != 1 || licence_canon(given, &l, site, sizeof(site)) == -1 ||
		    l.site == 0)
			rc = 1;
		else {
			licence_subject(&l, &subj);
			if (licence_format(&subj, sbuf, sizeof(sbuf)) < 0 ||
			    !streq(sbuf, f->subject_licence))
				rc = 1;
		}
		if (rc == 1) {
			websites_free(w, nw);
			add(errs, ERR_LICENCE_FORMAT, "/decision/licence");
			return 1;
		}
		rc = one_int(st, NULL, "SELECT 1 FROM sites WHERE licence = ?"
		    " OR (subject = ? AND n = ?)", "ssi", site, f->subject_licence,
		    l.site);
		if (rc != 0) {
			websites_free(w, nw);
			if (rc == 1)
				add(errs, ERR_LICENCE_CONFLICT, "/decision/licence");
			return rc;
		}
		given_n = l.site;
	}
	jb_kv(&ap->extra, "subject_licence", f->subject_licence);
	jb_key(&ap->extra, "site_licences");
	jb_open(&ap->extra, '[');
	rc = 0;
	for (size_t i = 0; i < nw && rc == 0; i++) {
		int n = given_n ? given_n : (int)++count;

		if (given_n && given_n > count)
			count = given_n;
		rc = site_add(st, f->subject_licence, n, w[i].name, w[i].domains,
		    f->provider, f->id, now, site, sizeof(site));
		if (rc == 0 && run(st, "UPDATE filing_websites SET site_licence = ?"
		    " WHERE filing = ? AND idx = ?", "ssi", site, f->id,
		    w[i].idx) == -1)
			rc = -1;
		if (rc == 0)
			jb_string(&ap->extra, site);
	}
	jb_close(&ap->extra, ']');
	websites_free(w, nw);
	if (rc != 0)
		return rc;
	/* counted for the high-water mark: a restore that forgets them
	 * makes every subject's next site number skip as many */
	rc = run(st, "UPDATE highwater SET value = value + ? WHERE name ="
	    " 'added_sites'", "I", (int64_t)nw);
	if (rc != 1)
		return rc == -1 ? -1 : seterr(st, "highwater: no added_sites row");
	st->hw_dirty = 1;
	return run(st, "UPDATE subjects SET site_count = ? WHERE licence = ?",
	    "Is", count, f->subject_licence) == -1 ? -1 : 0;
}

int
approve_cancel(struct store *st, struct frow *f, time_t now,
    struct errlist *errs, struct approval *ap)
{
	int64_t n = 0;
	int rc;

	if (f->site_licence == NULL) {
		add(errs, ERR_LICENCE_UNKNOWN, "/filing/siteLicence");
		return 1;
	}
	if (streq(f->type, "cancelSite")) {
		rc = run(st, "UPDATE sites SET state = 'cancelled', updated = ?"
		    " WHERE licence = ? AND state = 'active'", "Is", (int64_t)now,
		    f->site_licence);
		if (rc == -1)
			return -1;
		if (rc == 0) {
			add(errs, ERR_LICENCE_UNKNOWN, "/filing/siteLicence");
			return 1;
		}
		jb_kv(&ap->extra, "cancelled", f->site_licence);
	} else {
		if (one_int(st, &n, "SELECT count(*) FROM site_access WHERE"
		    " site = ?", "s", f->site_licence) == -1)
			return -1;
		rc = run(st, "DELETE FROM site_access WHERE site = ? AND"
		    " provider = ?", "ss", f->site_licence, f->provider);
		if (rc == -1)
			return -1;
		if (rc == 0) {
			add(errs, ERR_LICENCE_UNKNOWN, "/filing/siteLicence");
			return 1;
		}
		if (n <= 1) {
			add(errs, ERR_LAST_ACCESS, "/filing/siteLicence");
			return 1;
		}
		jb_kv(&ap->extra, "access_ended", f->site_licence);
	}
	jb_kv(&ap->extra, "subject_licence", f->subject_licence);
	return 0;
}
