/*
 * filings: the filing row, a package filed as a new filing or over an
 * existing one (resubmission), its tracking id, its review rounds and
 * its last errors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "common/workflow.h"
#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "parsers/tracking_id.h"
#include "store/filings.h"
#include "store/store.h"
#include "store/store_priv.h"
#include "store/transition.h"

/* ---- the filing row ---------------------------------------------------- */

void
frow_clear(struct frow *f)
{
	free(f->type);
	free(f->mode);
	free(f->province);
	free(f->provider);
	free(f->owner);
	free(f->token);
	free(f->subject_cert);
	free(f->subject_licence);
	free(f->site_licence);
	memset(f, 0, sizeof(*f));
}

/* 0 loaded, 1 unknown id, -1 error. */
int
frow_load(struct store *st, const char *id, struct frow *f)
{
	sqlite3_stmt *s;
	int rc;

	memset(f, 0, sizeof(*f));
	if (id == NULL || strlen(id) >= sizeof(f->id))
		return 1;
	s = query(st, "SELECT state, type, mode, province, provider, owner,"
	    " owner_token, subject_cert, subject_licence, site_licence,"
	    " review_round FROM filings WHERE id = ?", "s", id);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		strlcpy(f->id, id, sizeof(f->id));
		if (workflow_state_parse(col_str(s, 0), &f->state) == -1)
			f->state = WF_NONE;
		f->type = col_dup(s, 1);
		f->mode = col_dup(s, 2);
		f->province = col_dup(s, 3);
		f->provider = col_dup(s, 4);
		f->owner = col_dup(s, 5);
		f->token = col_dup(s, 6);
		f->subject_cert = col_dup(s, 7);
		f->subject_licence = col_dup(s, 8);
		f->site_licence = col_dup(s, 9);
		f->round = sqlite3_column_int(s, 10);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = 1;
	else
		rc = dberr(st, "load filing");
	sqlite3_reset(s);
	return rc;
}

/* ---- the filing's last errors ------------------------------------------ */

int
errors_replace(struct store *st, const char *id, const struct errlist *a,
    const struct errlist *b, const struct store_issue *issues, size_t nissues)
{
	const struct errlist *lists[2] = { a, b };
	int idx = 0;

	if (run(st, "DELETE FROM filing_errors WHERE filing = ?", "s", id) == -1)
		return -1;
	for (size_t l = 0; l < 2; l++) {
		if (lists[l] == NULL)
			continue;
		for (size_t i = 0; i < errlist_count(lists[l]); i++) {
			const struct err_item *e = errlist_get(lists[l], i);

			if (e->severity != SEV_ERROR)
				continue;
			if (run(st, "INSERT INTO filing_errors(filing, idx, path,"
			    " code, message) VALUES(?, ?, ?, ?, ?)", "sisss", id,
			    idx++, e->path, err_code_name(e->code),
			    e->message) == -1)
				return -1;
		}
	}
	for (size_t i = 0; i < nissues; i++) {
		if (run(st, "INSERT INTO filing_errors(filing, idx, path, code,"
		    " message) VALUES(?, ?, ?, ?, ?)", "sisss", id, idx++,
		    issues[i].path ? issues[i].path : "/",
		    issues[i].code ? issues[i].code : "",
		    issues[i].text ? issues[i].text : "") == -1)
			return -1;
	}
	return 0;
}

/* ---- the package's data ------------------------------------------------ */

/* The words of FORMAT.md §1 (kept here so the store links without the
 * XML parser). */
static const char *
type_name(enum filing_type t)
{
	switch (t) {
	case FILING_FIRST:
		return "firstFiling";
	case FILING_ADD_SITE:
		return "addSite";
	case FILING_CANCEL_SITE:
		return "cancelSite";
	case FILING_CANCEL_ACCESS:
		return "cancelAccess";
	case FILING_TYPE_UNKNOWN:
		break;
	}
	return NULL;
}

static const char *
mode_name(enum filing_mode m)
{
	switch (m) {
	case FILING_MODE_SELF:
		return "self";
	case FILING_MODE_DELEGATED:
		return "delegated";
	case FILING_MODE_UNKNOWN:
		break;
	}
	return NULL;
}

/* Websites and domains of a package, replacing earlier ones. */
static int
websites_store(struct store *st, const char *id, const struct filing *f)
{
	if (run(st, "DELETE FROM filing_domains WHERE filing = ?", "s", id) == -1 ||
	    run(st, "DELETE FROM filing_websites WHERE filing = ?", "s", id) == -1)
		return -1;
	if (f == NULL)
		return 0;
	for (size_t i = 0; i < f->nwebsites; i++) {
		struct jbuf doms = { 0 };

		jb_puts(&doms, "");
		for (size_t k = 0; k < f->websites[i].ndomains; k++) {
			char *d = domain_norm(f->websites[i].domains[k]);

			if (k > 0)
				jb_puts(&doms, " ");
			jb_puts(&doms, d);
			if (run(st, "INSERT OR IGNORE INTO filing_domains(filing,"
			    " domain) VALUES(?, ?)", "ss", id, d) == -1) {
				free(d);
				free(doms.s);
				return -1;
			}
			free(d);
		}
		if (run(st, "INSERT INTO filing_websites(filing, idx, name,"
		    " domains) VALUES(?, ?, ?, ?)", "siss", id, (int)i,
		    f->websites[i].name, doms.s) == -1) {
			free(doms.s);
			return -1;
		}
		free(doms.s);
	}
	return 0;
}

static int
filing_data_store(struct store *st, const char *id, const struct filing *f,
    const char *xml, const struct facts *x, time_t now)
{
	if (run(st, "UPDATE filings SET type = ?, mode = ?, province = ?,"
	    " owner = ?, subject_cert = ?, subject_licence = ?,"
	    " site_licence = ?, sponsor_name = ?, sponsor_nature = ?,"
	    " sponsor_cert_type = ?, xml = ?, updated = ? WHERE id = ?",
	    "sssssssssssIs",
	    f != NULL ? type_name(f->type) : NULL,
	    f != NULL ? mode_name(f->mode) : NULL,
	    f != NULL ? f->province : NULL, x->owner, x->cert,
	    x->subject_licence, x->site_licence, x->name, x->nature,
	    x->cert_type, xml, (int64_t)now, id) == -1)
		return -1;
	return websites_store(st, id, f);
}

/* ---- tracking ids -------------------------------------------------------- */

static int
tracking_id_new(struct store *st, time_t now, char id[STORE_ID_SIZE],
    int *yearp, int64_t *seqp)
{
	int year = cst_year(now);
	int64_t seq;

	if (one_int(st, &seq, "INSERT INTO tracking_seq(year, last) VALUES(?, 1)"
	    " ON CONFLICT(year) DO UPDATE SET last = last + 1 RETURNING last",
	    "i", year) != 1)
		return -1;
	/* a seventh digit after the first million (DESIGN.md, States) */
	if (tracking_id_format(id, STORE_ID_SIZE, year, (long)seq) == -1)
		return seterr(st, "tracking ids for %d are exhausted", year);
	st->hw_dirty = 1; /* the mark follows before the commit */
	*yearp = year;
	*seqp = seq;
	return 0;
}

/* ---- create ---------------------------------------------------------------- */

int
sender_check(const char *from, const char *owner, struct errlist *errs)
{
	if (from != NULL && (owner == NULL || strcasecmp(from, owner) != 0)) {
		add(errs, ERR_SENDER_MISMATCH, "/");
		return 1;
	}
	return 0;
}

static void
jb_findings_extra(struct jbuf *j, const struct errlist *a,
    const struct errlist *b)
{
	jb_puts(j, "");
	jb_errors(j, "errors", a, b);
}

static int
create_body(struct store *st, const struct store_package *pkg,
    const struct store_actor *who, time_t now, struct errlist *mine,
    struct store_result *res)
{
	struct facts x = { 0 };
	struct frow f = { 0 };
	struct jbuf extra = { 0 };
	struct mailx mx = { 0 };
	char token[STORE_TOKEN_LEN + 1];
	int64_t seq = 0, ev = 0;
	int year = 0, invalid, rc = -1;

	if (tracking_id_new(st, now, f.id, &year, &seq) == -1)
		return -1;
	store_random_token(token, STORE_TOKEN_LEN);
	if (run(st, "INSERT INTO filings(id, year, seq, state, provider,"
	    " owner_token, created, updated) VALUES(?, ?, ?, 'received', ?, ?,"
	    " ?, ?)", "siIssII", f.id, year, seq, who->provider, token,
	    (int64_t)now, (int64_t)now) == -1)
		goto out;
	if (event_add(st, f.id, who, who->kind, WF_NONE, WF_RECEIVED, NULL, now,
	    &ev) == -1)
		goto out;
	if (package_check(st, f.id, pkg->f, who, now, mine, &x) == -1)
		goto out;
	if (pkg->f != NULL)
		sender_check(pkg->from, x.owner, mine);
	if (filing_data_store(st, f.id, pkg->f, pkg->xml, &x, now) == -1)
		goto out;
	invalid = pkg->f == NULL || errlist_nerrors(mine) > 0 ||
	    (pkg->errs != NULL && errlist_nerrors(pkg->errs) > 0);
	if (errors_replace(st, f.id, pkg->errs, mine, NULL, 0) == -1)
		goto out;
	strlcpy(res->id, f.id, sizeof(res->id)); /* frow_load clears f */
	if (frow_load(st, res->id, &f) != 0) {
		seterr(st, "create: the new filing vanished");
		goto out;
	}
	if (invalid) {
		jb_findings_extra(&extra, pkg->errs, mine);
		mx.extra = extra.s;
	}
	rc = move(st, &f, invalid ? WF_INVALID : WF_AWAITING_VERIFICATION, who,
	    WF_ACTOR_SYSTEM, NULL, &mx, now, mine, &ev);
	if (rc == 1)
		rc = seterr(st, "create: the new filing changed state");
	if (rc == 0) {
		res->state = f.state;
		res->event = ev;
	}
out:
	free(extra.s);
	facts_clear(&x);
	frow_clear(&f);
	return rc;
}

int
store_filing_create(struct store *st, const struct store_package *pkg,
    const struct store_actor *who, struct store_result *out)
{
	struct store_result res = { 0 };
	struct errlist *mine = errlist_new();
	time_t now = now_or(who->now);
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, create_body(st, pkg, who, now, mine, &res));
	if (rc == 0) {
		res.errs = out->errs;
		*out = res;
		if (out->errs != NULL)
			errlist_splice(out->errs, mine, NULL);
	}
	errlist_free(mine);
	return rc;
}

/* ---- review rounds ----------------------------------------------------- */

int
review_round_new(struct store *st, struct frow *f, time_t now,
    char token[STORE_REVIEW_TOKEN_LEN + 1])
{
	store_random_token(token, STORE_REVIEW_TOKEN_LEN);
	if (run(st, "UPDATE review_tokens SET used = 1 WHERE filing = ?", "s",
	    f->id) == -1 ||
	    run(st, "UPDATE filings SET review_round = review_round + 1"
	    " WHERE id = ?", "s", f->id) == -1 ||
	    run(st, "INSERT INTO review_tokens(filing, round, token, created)"
	    " VALUES(?, ?, ?, ?)", "sisI", f->id, f->round + 1, token,
	    (int64_t)now) == -1)
		return -1;
	f->round++;
	return 0;
}

void
jb_review_extra(struct jbuf *j, const struct frow *f, const char *token)
{
	char n[24];

	snprintf(n, sizeof(n), "%d", f->round);
	jb_puts(j, "");
	jb_kv(j, "review_token", token);
	jb_key(j, "review_round");
	jb_sep(j);
	jb_puts(j, n);
}

/* ---- resubmission --------------------------------------------------------- */

/* Refusals common to acting on an existing filing; 1 when refused. */
int
actor_check(const struct frow *f, const struct store_actor *who,
    const char *owner_token, struct errlist *errs)
{
	int refused = 0;

	if (who->kind == WF_ACTOR_PROVIDER && !streq(who->provider, f->provider)) {
		add(errs, ERR_NOT_YOUR_FILING, "/");
		refused = 1;
	}
	if (who->kind == WF_ACTOR_BUREAU && who->province != NULL &&
	    !streq(who->province, f->province)) {
		add(errs, ERR_NOT_YOUR_FILING, "/");
		refused = 1;
	}
	if (who->kind == WF_ACTOR_OWNER && !token_eq(owner_token, f->token)) {
		add(errs, ERR_TOKEN_INVALID, "/");
		refused = 1;
	}
	return refused;
}

static int
resubmit_body(struct store *st, const char *id, const char *owner_token,
    const struct store_package *pkg, const struct store_actor *who,
    time_t now, struct errlist *mine, struct store_result *res)
{
	struct frow f;
	struct facts x = { 0 };
	struct jbuf extra = { 0 };
	struct mailx mx = { 0 };
	char rtoken[STORE_REVIEW_TOKEN_LEN + 1];
	enum wf_state to;
	int64_t ev = 0;
	int rc, refused = 0;

	if ((rc = frow_load(st, id, &f)) == -1)
		return -1;
	if (rc == 1) {
		add(mine, ERR_TRACKING_ID_UNKNOWN, "/filing/@id");
		res->state = WF_NONE;
		return 1;
	}
	strlcpy(res->id, f.id, sizeof(res->id));
	res->state = f.state;
	refused |= actor_check(&f, who, owner_token, mine);
	if (who->kind == WF_ACTOR_OWNER)
		refused |= sender_check(pkg->from, f.owner, mine);
	if (workflow_resubmit_target(f.state, who->kind, &to) == -1) {
		add(mine, ERR_WRONG_STATE, "/filing/@id");
		refused = 1;
	}
	if (refused) {
		rc = 1;
		goto out;
	}
	rc = -1;
	if (package_check(st, f.id, pkg->f, who, now, mine, &x) == -1)
		goto out;
	if (pkg->f == NULL || errlist_nerrors(mine) > 0 ||
	    (pkg->errs != NULL && errlist_nerrors(pkg->errs) > 0)) {
		/* the state is kept; the attempt is recorded and answered */
		if (errors_replace(st, f.id, pkg->errs, mine, NULL, 0) == -1 ||
		    run(st, "UPDATE filings SET updated = ? WHERE id = ?", "Is",
		    (int64_t)now, f.id) == -1 ||
		    event_add(st, f.id, who, who->kind, f.state, f.state,
		    "resubmission invalid", now, &ev) == -1)
			goto out;
		jb_findings_extra(&extra, pkg->errs, mine);
		mx.extra = extra.s;
		if (mails_queue(st, &f, f.state, f.state,
		    workflow_attempt_invalid(), ev, who, who->kind, &mx,
		    now) == -1)
			goto out;
	} else {
		if (filing_data_store(st, f.id, pkg->f, pkg->xml, &x, now) == -1 ||
		    errors_replace(st, f.id, NULL, NULL, NULL, 0) == -1)
			goto out;
		free(f.owner);
		f.owner = x.owner ? xstrdup(x.owner) : NULL;
		free(f.type);
		f.type = type_name(pkg->f->type) ?
		    xstrdup(type_name(pkg->f->type)) : NULL;
		free(f.mode);
		f.mode = mode_name(pkg->f->mode) ?
		    xstrdup(mode_name(pkg->f->mode)) : NULL;
		free(f.province);
		f.province = pkg->f->province ? xstrdup(pkg->f->province) : NULL;
		if (to == WF_UNDER_REVIEW) {
			if (review_round_new(st, &f, now, rtoken) == -1)
				goto out;
			jb_review_extra(&extra, &f, rtoken);
			mx.extra = extra.s;
		}
		if ((rc = move(st, &f, to, who, who->kind, "resubmitted", &mx,
		    now, mine, &ev)) != 0)
			goto out;
	}
	rc = 0;
	res->state = f.state;
	res->event = ev;
out:
	free(extra.s);
	facts_clear(&x);
	frow_clear(&f);
	return rc;
}

int
store_filing_resubmit(struct store *st, const char *id,
    const char *owner_token, const struct store_package *pkg,
    const struct store_actor *who, struct store_result *out)
{
	struct store_result res = { 0 };
	struct errlist *mine = errlist_new();
	time_t now = now_or(who->now);
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, resubmit_body(st, id, owner_token, pkg, who,
		    now, mine, &res));
	if (rc >= 0) {
		res.errs = out->errs;
		*out = res;
		if (out->errs != NULL)
			errlist_splice(out->errs, mine, NULL);
	}
	errlist_free(mine);
	return rc;
}
