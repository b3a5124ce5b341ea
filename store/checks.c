/*
 * checks: the checks of a package that need the database (FORMAT.md §1,
 * §4) — conflicts of subject and domains, the numbers it names, the
 * filing password (no lockout: a wrong one is told to the owner), the
 * last access of a site.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "common/workflow.h"
#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "parsers/licence.h"
#include "store/store.h"
#include "store/store_priv.h"

/* The states in which a filing holds its subject and its domains. */
#define OPEN_STATES \
	"('received','awaiting_verification','returned_to_owner'," \
	"'under_review','returned_to_provider')"

/* ---- store checks of a package (FORMAT.md §1, §4) ------------------------ */

void
facts_clear(struct facts *x)
{
	free(x->cert);
	free(x->owner);
	free(x->subject_licence);
	free(x->site_licence);
	free(x->name);
	free(x->nature);
	free(x->cert_type);
	memset(x, 0, sizeof(*x));
}

void
add(struct errlist *errs, enum err_code code, const char *path)
{
	errlist_add(errs, code, path, "%s", err_code_message(code));
}

/* Lower-case, one trailing dot dropped: how domains are compared. */
char *
domain_norm(const char *d)
{
	char *s = xstrdup(d);
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
	if (n > 0 && s[n - 1] == '.')
		s[n - 1] = '\0';
	return s;
}

/* Canonical text of a licence string; -1 when it is no filing number. */
int
licence_canon(const char *s, struct licence *l, char *buf, size_t size)
{
	if (s == NULL || licence_parse(s, l) == -1 ||
	    licence_format(l, buf, size) < 0)
		return -1;
	return 0;
}

/*
 * The owner on record hears of a wrong password, at most once a CST day
 * per subject: an event (no filing) and one password_failed row, with
 * the subject and the site named and never the password tried.
 */
static int
password_notice(struct store *st, const char *subject, const char *site,
    const char *owner, const char *name, const struct store_actor *who,
    time_t now)
{
	char ref[20], at[32], dh[65], reason[128];
	unsigned char d[SHA256_LEN];
	struct jbuf j = { 0 };
	int64_t ev;
	int rc;

	snprintf(reason, sizeof(reason), "password_failed %s", subject);
	if (event_add(st, NULL, who, who->kind, WF_NONE, WF_NONE, reason, now,
	    &ev) == -1)
		return -1;
	sha256(subject, strlen(subject), d);
	hex(d, sizeof(d), dh);
	snprintf(ref, sizeof(ref), "pf%.16s", dh);
	time_rfc3339_cst(now, at);
	/* "2026-03-03T14:05:00+08:00" as people read it */
	at[10] = ' ';
	memmove(at + 20, at + 19, strlen(at + 19) + 1);
	at[19] = ' ';
	jb_open(&j, '{');
	jb_kv(&j, "template", workflow_template_name(WF_TPL_PASSWORD_FAILED));
	jb_kv(&j, "role", workflow_role_name(WF_ROLE_OWNER));
	jb_kv(&j, "subject_licence", subject);
	jb_kv(&j, "site", site);
	jb_kv(&j, "sponsor_name", name);
	jb_kv(&j, "at", at);
	jb_kv(&j, "actor_kind", workflow_actor_name(who->kind));
	jb_kv(&j, "channel", workflow_channel_name(who->channel));
	jb_close(&j, '}');
	rc = outbox_add(st, NULL, ref, ev, WF_TPL_PASSWORD_FAILED,
	    WF_ROLE_OWNER, owner, j.s, NULL, now);
	free(j.s);
	return rc;
}

/*
 * The filing password of a cancelSite in mode self.  There is no lockout
 * and no delay: subject licences are public and a From can be forged,
 * so a count of failures that refused the right password would let any
 * stranger lock the owner out (the 12 random characters resist guessing
 * without one).  A wrong one is refused (PASSWORD_WRONG), counted
 * (password_failures) and, the first of the subject's day, told to the
 * owner on record.  Committed with the invalid filing or the recorded
 * attempt, like the rest of the item.
 */
static int
password_check(struct store *st, const char *subject, const char *site,
    const char *password, const struct store_actor *who, time_t now,
    struct errlist *errs)
{
	char today[11];
	sqlite3_stmt *s;
	char *hash = NULL, *day = NULL, *owner = NULL, *name = NULL;
	int count = 0, ok, rc, first;

	cst_day(now, today);
	s = query(st, "SELECT password_hash, pw_fail_day, pw_fail_count,"
	    " owner_email, name FROM subjects WHERE licence = ?", "s", subject);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		hash = col_dup(s, 0);
		day = col_dup(s, 1);
		count = sqlite3_column_int(s, 2);
		owner = col_dup(s, 3);
		name = col_dup(s, 4);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = dberr(st, "password");
		goto out;
	}
	ok = hash != NULL && password != NULL &&
	    crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
	rc = 0;
	if (ok)
		goto out;
	add(errs, ERR_PASSWORD_WRONG, "/filing/password");
	/* pw_fail_day / pw_fail_count: the day of the last failure and the
	 * failures of that day (informative: nothing is refused by them) */
	first = !streq(day, today);
	if (run(st, "UPDATE subjects SET pw_fail_day = ?, pw_fail_count = ?"
	    " WHERE licence = ?", "sis", today, first ? 1 : count + 1,
	    subject) == -1 ||
	    store_counter_add(st, "password_failures", 1) == -1) {
		rc = -1;
		goto out;
	}
	if (first && owner != NULL && owner[0] != '\0')
		rc = password_notice(st, subject, site, owner, name, who, now);
out:
	free(hash);
	free(day);
	free(owner);
	free(name);
	return rc;
}

static int
subject_load(struct store *st, const char *licence, struct facts *x)
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT cert_number, owner_email, name, nature, cert_type"
	    " FROM subjects WHERE licence = ?", "s", licence);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		x->cert = col_dup(s, 0);
		x->owner = col_dup(s, 1);
		x->name = col_dup(s, 2);
		x->nature = col_dup(s, 3);
		x->cert_type = col_dup(s, 4);
		rc = 1;
	} else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = dberr(st, "subject");
	sqlite3_reset(s);
	return rc;
}

/*
 * The checks that need the database.  self is the filing being
 * (re)submitted, excluded from conflicts.  Findings go to errs; x
 * receives what was learnt.  0 or -1.
 */
int
package_check(struct store *st, const char *self, const struct filing *f,
    const struct store_actor *who, time_t now, struct errlist *errs,
    struct facts *x)
{
	char buf[STORE_LICENCE_SIZE], path[96];
	struct licence sl, tl;
	int rc;

	if (f == NULL)
		return 0;
	if (f->type == FILING_FIRST) {
		if (f->sponsor != NULL) {
			x->cert = f->sponsor->cert_number ?
			    xstrdup(f->sponsor->cert_number) : NULL;
			x->name = f->sponsor->name ? xstrdup(f->sponsor->name) : NULL;
			x->nature = f->sponsor->nature ?
			    xstrdup(f->sponsor->nature) : NULL;
			x->cert_type = f->sponsor->cert_type ?
			    xstrdup(f->sponsor->cert_type) : NULL;
			if (f->sponsor->principal != NULL &&
			    f->sponsor->principal->email != NULL)
				x->owner = xstrdup(f->sponsor->principal->email);
		}
		if (x->cert != NULL) {
			rc = one_int(st, NULL, "SELECT 1 FROM subjects"
			    " WHERE cert_number = ?", "s", x->cert);
			if (rc == -1)
				return -1;
			if (rc == 1)
				add(errs, ERR_SUBJECT_ALREADY_FILED,
				    "/filing/sponsor/certNumber");
		}
	} else if (f->type != FILING_TYPE_UNKNOWN && f->subject_licence != NULL) {
		if (licence_canon(f->subject_licence, &sl, buf, sizeof(buf)) == -1 ||
		    sl.site != 0)
			add(errs, ERR_LICENCE_FORMAT, "/filing/subjectLicence");
		else if ((rc = subject_load(st, buf, x)) == -1)
			return -1;
		else if (rc == 0)
			add(errs, ERR_LICENCE_UNKNOWN, "/filing/subjectLicence");
		else
			x->subject_licence = xstrdup(buf);
	}
	if (x->subject_licence != NULL && (f->type == FILING_CANCEL_SITE ||
	    f->type == FILING_CANCEL_ACCESS) && f->site_licence != NULL) {
		struct licence subj;

		if (licence_canon(f->site_licence, &tl, buf, sizeof(buf)) == -1 ||
		    tl.site == 0)
			add(errs, ERR_LICENCE_FORMAT, "/filing/siteLicence");
		else {
			char sbuf[STORE_LICENCE_SIZE];

			licence_subject(&tl, &subj);
			rc = 0;
			if (licence_format(&subj, sbuf, sizeof(sbuf)) >= 0 &&
			    streq(sbuf, x->subject_licence))
				rc = one_int(st, NULL, "SELECT 1 FROM sites WHERE"
				    " licence = ? AND subject = ? AND state = 'active'",
				    "ss", buf, x->subject_licence);
			if (rc == -1)
				return -1;
			if (rc == 0)
				add(errs, ERR_LICENCE_UNKNOWN, "/filing/siteLicence");
			else
				x->site_licence = xstrdup(buf);
		}
	}
	if (x->subject_licence != NULL && f->type == FILING_CANCEL_SITE &&
	    f->mode == FILING_MODE_SELF &&
	    password_check(st, x->subject_licence, x->site_licence, f->password,
	    who, now, errs) == -1)
		return -1;
	if (x->site_licence != NULL && f->type == FILING_CANCEL_ACCESS) {
		int64_t n = 0;

		if (one_int(st, &n, "SELECT count(*) FROM site_access"
		    " WHERE site = ?", "s", x->site_licence) == -1)
			return -1;
		rc = one_int(st, NULL, "SELECT 1 FROM site_access"
		    " WHERE site = ? AND provider = ?", "ss", x->site_licence,
		    who->provider);
		if (rc == -1)
			return -1;
		if (rc == 0)
			errlist_add(errs, ERR_LICENCE_UNKNOWN, "/filing/siteLicence",
			    "该网站不经本接入商接入 / the site has no access by this "
			    "provider");
		else if (n <= 1)
			add(errs, ERR_LAST_ACCESS, "/filing/siteLicence");
	}
	if (x->cert != NULL) {
		rc = one_int(st, NULL, "SELECT 1 FROM filings WHERE subject_cert = ?"
		    " AND id <> ? AND state IN " OPEN_STATES, "ss", x->cert,
		    self ? self : "");
		if (rc == -1)
			return -1;
		if (rc == 1)
			add(errs, ERR_SUBJECT_CONFLICT, f->type == FILING_FIRST ?
			    "/filing/sponsor/certNumber" : "/filing/subjectLicence");
	}
	for (size_t i = 0; i < f->nwebsites; i++) {
		for (size_t k = 0; k < f->websites[i].ndomains; k++) {
			char *d = domain_norm(f->websites[i].domains[k]);

			rc = one_int(st, NULL,
			    "SELECT 1 FROM filing_domains d"
			    " JOIN filings f ON f.id = d.filing"
			    " WHERE d.domain = ?1 AND f.id <> ?2"
			    " AND f.state IN " OPEN_STATES
			    " UNION ALL SELECT 1 FROM site_domains sd"
			    " JOIN sites s ON s.licence = sd.site"
			    " JOIN subjects j ON j.licence = s.subject"
			    " WHERE sd.domain = ?1 AND s.state = 'active'"
			    " AND (?3 IS NULL OR j.cert_number <> ?3) LIMIT 1",
			    "sss", d, self ? self : "", x->cert);
			free(d);
			if (rc == -1)
				return -1;
			if (rc == 1) {
				snprintf(path, sizeof(path),
				    "/filing/website[%zu]/domain[%zu]", i + 1, k + 1);
				add(errs, ERR_DOMAIN_CONFLICT, path);
			}
		}
	}
	return 0;
}
