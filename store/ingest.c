/*
 * ingest: what a checked item means for the store.
 *
 * Every channel ends here: the spool watcher, the mail fetcher and
 * `beianctl submit` / `verify --record` hand over items that package.c
 * has checked, and this file turns each into one store call (plus the
 * attachments to keep), then records its outcome for repeats.
 */
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/pack.h"
#include "lib/compat.h"
#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "parsers/rules.h"
#include "store/attachments.h"
#include "store/filings.h"
#include "store/ingest.h"
#include "store/query.h"
#include "store/repeats.h"
#include "store/transition.h"

static const enum err_code transient_codes[] = {
	ERR_WRONG_STATE, ERR_SUBJECT_CONFLICT, ERR_DOMAIN_CONFLICT,
	ERR_LICENCE_CONFLICT, ERR_LICENCE_UNKNOWN, ERR_PROVINCE_NOT_SERVED,
	ERR_CERT_EXPIRED, ERR_IP_NOT_PROVIDER, ERR_SUBJECT_ALREADY_FILED,
	ERR_LAST_ACCESS, ERR_PASSWORD_WRONG,
	ERR_TRACKING_ID_UNKNOWN, ERR_NOT_YOUR_FILING, ERR_TOKEN_INVALID,
	ERR_SENDER_MISMATCH,
};

int
ingest_code_transient(enum err_code code)
{
	for (size_t i = 0; i < sizeof(transient_codes) / sizeof(*transient_codes); i++)
		if (transient_codes[i] == code)
			return 1;
	return 0;
}

static int
outcome_final(const struct errlist *el)
{
	for (size_t i = 0; i < errlist_count(el); i++) {
		const struct err_item *e = errlist_get(el, i);
		if (e->severity == SEV_ERROR && ingest_code_transient(e->code))
			return 0;
	}
	return 1;
}

static void
errs_copy(struct errlist *dst, const struct errlist *src)
{
	for (size_t i = 0; i < errlist_count(src); i++) {
		const struct err_item *e = errlist_get(src, i);
		errlist_add(dst, e->code, e->path, "%s", e->message);
	}
}

/* Domains go to the store as A-labels, so that 例子.中国 and
 * xn--fsqu00a.xn--fiqs8s are one domain for DOMAIN_CONFLICT. */
static void
filing_domains_alabel(struct filing *f)
{
	char buf[256];

	for (size_t i = 0; i < f->nwebsites; i++)
		for (size_t k = 0; k < f->websites[i].ndomains; k++) {
			char **d = &f->websites[i].domains[k];
			if (rules_domain(*d, buf, sizeof(buf), 0) == DOMAIN_OK) {
				free(*d);
				*d = xstrdup(buf);
			}
		}
}

static const struct pkg_file *
item_file(const struct item *it, const char *name)
{
	for (size_t i = 0; i < it->nfiles; i++)
		if (strcmp(it->files[i].name, name) == 0)
			return &it->files[i];
	return NULL;
}

/*
 * Keep the accepted package: the upload itself when it was this one
 * package and carries no password, else the item's files packed anew
 * with the canonical filing.xml (which never holds the password).
 */
static int
keep_package(struct store *st, const char *id, const struct item *it,
    const char *xml, const struct store_blob *original, int *kept)
{
	struct store_blob blob = { 0 };
	struct store_entry *ents;
	struct pkg_file *files;
	unsigned char *packed = NULL;
	size_t packed_len = 0;
	char hex[SHA256_HEX];
	int rc = -1, repack;

	repack = original == NULL || it->filing->password != NULL;
	files = xreallocarray(NULL, it->nfiles + 1, sizeof(*files));
	ents = xreallocarray(NULL, it->nfiles + 1, sizeof(*ents));
	for (size_t i = 0; i < it->nfiles; i++) {
		files[i] = it->files[i];
		if (repack && strcmp(files[i].name, "filing.xml") == 0 && xml) {
			files[i].data = (const unsigned char *)xml;
			files[i].size = strlen(xml);
		}
		ents[i].name = files[i].name;
		ents[i].data = files[i].data;
		ents[i].size = files[i].size;
		/* the worker's hash is used only for a member whose bytes
		 * were left out (an upload kept whole, hashed by the daemon) */
		ents[i].sha256 = files[i].data == it->files[i].data ?
		    it->files[i].sha256 : NULL;
	}
	if (repack) {
		if (pack_zip(files, it->nfiles, &packed, &packed_len) != 0)
			goto out;
		blob.bytes = packed;
		blob.len = packed_len;
		blob.sha256 = NULL;
		original = &blob;
	}
	rc = store_attachment_put(st, id, "package", original, ents,
	    it->nfiles, hex) == -1 ? -1 : 0;
	*kept = rc == 0 && !repack;
out:
	free(packed);
	free(files);
	free(ents);
	return rc;
}

/*
 * A package: a new filing, or (id set) a resubmission of filing id, with
 * the owner token of a mail follow-up (else NULL).
 */
static int
ingest_filing(struct store *st, const struct item *it,
    const struct store_actor *who, const char *id, const char *token,
    const struct store_blob *original, struct ingest_outcome *out)
{
	struct store_result res = { .errs = out->errs };
	struct store_package pkg = { 0 };
	char *xml = NULL;
	int rc;

	if (it->filing != NULL) {
		filing_domains_alabel(it->filing);
		xml = filing_to_xml(it->filing, NULL);
	}
	pkg.f = it->filing;
	pkg.xml = xml;
	pkg.errs = it->errs;
	pkg.from = who->channel == WF_CHANNEL_MAIL ? who->name : NULL;
	if (id != NULL)
		rc = store_filing_resubmit(st, id, token, &pkg, who, &res);
	else
		rc = store_filing_create(st, &pkg, who, &res);
	if (rc == -1)
		goto out;
	strlcpy(out->id, res.id, sizeof(out->id));
	out->state = res.state;
	rc = 0;
	if (it->filing != NULL && out->id[0] != '\0' &&
	    (res.state == WF_AWAITING_VERIFICATION ||
	    res.state == WF_UNDER_REVIEW) && errlist_nerrors(out->errs) == 0)
		rc = keep_package(st, out->id, it, xml, original,
		    &out->kept);
out:
	free(xml);
	return rc;
}

static int
keep_file(struct store *st, const char *id, const char *kind,
    const struct pkg_file *f)
{
	/* hashed by the store, whatever the worker said (f->sha256) */
	struct store_entry e = { f->name, f->data, f->size, NULL };
	struct store_blob b = { f->data, f->size, NULL, 0 };
	char hex[SHA256_HEX];

	return store_attachment_put(st, id, kind, &b, &e, 1, hex) == -1 ? -1 :
	    0;
}

/*
 * A verification record acts on a filing awaiting verification and a
 * handback on one returned to the provider (FORMAT.md §5, §6), although
 * both end in returned_to_owner: refuse any other start here.  Returns
 * 1 when refused (WRONG_STATE added), 0 to go on, -1 on error.
 */
static int
start_state(struct store *st, const char *id, enum wf_state want,
    struct ingest_outcome *out)
{
	enum wf_state s;
	int rc;

	if ((rc = store_filing_state(st, id, &s)) != 0)
		return rc == -1 ? -1 : 0; /* unknown: the store says so */
	if (s == want)
		return 0;
	strlcpy(out->id, id, sizeof(out->id));
	out->state = s;
	errlist_add(out->errs, ERR_WRONG_STATE, "/", "当前状态为 %s / the "
	    "filing is %s", workflow_state_name(s), workflow_state_name(s));
	return 1;
}

static int
transition(struct store *st, struct store_transition_req *req,
    const struct store_actor *who, struct ingest_outcome *out)
{
	struct store_result res = { .errs = out->errs };
	int rc;

	strlcpy(out->id, req->id, sizeof(out->id));
	if ((rc = store_transition(st, req, who, &res)) == -1)
		return -1;
	out->state = res.state;
	if (res.id[0] == '\0' && res.state == WF_NONE)
		out->id[0] = '\0'; /* no such filing */
	return 0;
}

static struct store_issue *
issues_of(const struct issue *is, size_t n)
{
	struct store_issue *si = xreallocarray(NULL, n ? n : 1, sizeof(*si));

	for (size_t i = 0; i < n; i++) {
		si[i].path = is[i].path ? is[i].path : "/";
		si[i].code = is[i].code ? is[i].code : "";
		si[i].text = is[i].text ? is[i].text : "";
	}
	return si;
}

static int
ingest_verification(struct store *st, const struct item *it,
    const struct store_actor *who, struct ingest_outcome *out)
{
	const struct verification *v = it->verification;
	struct store_transition_req req = { 0 };
	struct store_issue *issues = NULL;
	const char *base;
	int rc;

	req.id = v->filing;
	if ((rc = start_state(st, v->filing, WF_AWAITING_VERIFICATION, out)) != 0)
		return rc == 1 ? 0 : -1;
	/* Another provider's record keeps nothing with the filing: who may
	 * act is asked before its files are stored. */
	if ((rc = store_actor_may(st, v->filing, who, NULL, out->errs,
	    &out->state)) != 0) {
		if (rc == 1)
			strlcpy(out->id, v->filing, sizeof(out->id));
		return rc == 1 ? 0 : -1;
	}
	if (v->result != NULL && strcmp(v->result, "pass") == 0) {
		const struct pkg_file *rec, *photo, *scan;

		req.to = WF_UNDER_REVIEW;
		req.reason = v->verifier;
		base = strrchr(it->path, '/') ? strrchr(it->path, '/') + 1 : it->path;
		rec = item_file(it, base);
		photo = v->photo_file ? item_file(it, v->photo_file) : NULL;
		scan = v->scan_file ? item_file(it, v->scan_file) : NULL;
		/* What the review request attaches; kept before the move so
		 * the mail never lacks them (a refused move leaves them
		 * unreferenced but harmless). */
		if (store_filing_state(st, v->filing, &out->state) == 0 &&
		    out->state == WF_AWAITING_VERIFICATION &&
		    ((rec && keep_file(st, v->filing, "verification", rec) == -1) ||
		    (photo && keep_file(st, v->filing, "onsite_photo", photo) == -1) ||
		    (scan && keep_file(st, v->filing, "checklist_scan", scan) == -1)))
			return -1;
	} else {
		req.to = WF_RETURNED_TO_OWNER;
		req.reason = v->verifier;
		issues = issues_of(v->issues, v->nissues);
		req.issues = issues;
		req.nissues = v->nissues;
	}
	rc = transition(st, &req, who, out);
	free(issues);
	return rc;
}

static int
ingest_decision(struct store *st, const struct item *it,
    const struct store_actor *who, struct ingest_outcome *out)
{
	const struct decision *d = it->decision;
	struct store_transition_req req = { 0 };
	struct store_issue issue;

	req.id = d->filing;
	req.review_token = d->token;
	if (d->result != NULL && strcmp(d->result, "approve") == 0) {
		req.to = WF_APPROVED;
		req.licence = d->licence;
		req.reason = d->reviewer;
	} else {
		req.to = WF_RETURNED_TO_PROVIDER;
		issue.path = "/";
		issue.code = d->reason_code ? d->reason_code : "";
		issue.text = d->reason_text ? d->reason_text : "";
		req.issues = &issue;
		req.nissues = 1;
		req.reason = d->reason_text;
	}
	return transition(st, &req, who, out);
}

int
ingest_item(struct store *st, const struct config *cf, const struct item *it,
    const struct store_actor *who, const char *source,
    const struct store_blob *original, struct ingest_outcome *out)
{
	struct store_transition_req req = { 0 };
	struct store_issue *issues = NULL;
	char hex[SHA256_HEX];
	int rc = 0;

	(void)cf;
	out->id[0] = '\0';
	out->state = WF_NONE;
	out->repeated = 0;
	sha256_to_hex(it->sha256, hex);
	if (source != NULL) {
		struct store_ingest prev = { .errs = out->errs };

		rc = store_ingest_lookup(st, source, hex, &prev);
		if (rc == -1)
			return -1;
		if (rc == 0) {
			strlcpy(out->id, prev.filing, sizeof(out->id));
			out->state = prev.state;
			out->repeated = 1;
			return 0;
		}
	}

	/* The item's own findings come first, as the sender wrote them. */
	errs_copy(out->errs, it->errs);
	switch (it->kind) {
	case ITEM_FILING:
		rc = ingest_filing(st, it, who, it->filing != NULL ?
		    it->filing->id : NULL, NULL, original, out);
		break;
	case ITEM_VERIFICATION:
		if (it->verification == NULL || errlist_nerrors(it->errs) > 0) {
			if (it->verification != NULL &&
			    it->verification->filing != NULL) {
				strlcpy(out->id, it->verification->filing,
				    sizeof(out->id));
				if (store_filing_state(st, out->id, &out->state) != 0)
					out->id[0] = '\0';
			}
			break;
		}
		rc = ingest_verification(st, it, who, out);
		break;
	case ITEM_WITHDRAWAL:
		if (it->withdrawal == NULL || errlist_nerrors(it->errs) > 0)
			break;
		req.id = it->withdrawal->filing;
		req.to = WF_WITHDRAWN;
		req.reason = it->withdrawal->reason;
		rc = transition(st, &req, who, out);
		break;
	case ITEM_HANDBACK:
		if (it->handback == NULL || errlist_nerrors(it->errs) > 0)
			break;
		req.id = it->handback->filing;
		if ((rc = start_state(st, req.id, WF_RETURNED_TO_PROVIDER,
		    out)) != 0) {
			rc = rc == 1 ? 0 : -1;
			break;
		}
		req.to = WF_RETURNED_TO_OWNER;
		issues = issues_of(it->handback->issues, it->handback->nissues);
		req.issues = it->handback->nissues ? issues : NULL;
		req.nissues = it->handback->nissues;
		rc = transition(st, &req, who, out);
		break;
	case ITEM_DECISION:
		if (it->decision == NULL || errlist_nerrors(it->errs) > 0)
			break;
		rc = ingest_decision(st, it, who, out);
		break;
	}
	free(issues);
	if (rc == -1)
		return -1;
	if (source != NULL && store_ingest_record(st, source, hex, out->id,
	    out->state, outcome_final(out->errs), out->errs) == -1)
		return -1;
	return 0;
}

/* ---- mail (daemon/intake.c) ------------------------------------------ */

/*
 * A follow-up's package: the subject tag names the filing and carries the
 * owner token; an @id in the package must agree with the tag.
 */
static int
ingest_mail_resubmit(struct store *st, const struct item *it,
    const struct store_actor *who, const char *tag_id, const char *tag_token,
    struct ingest_outcome *out)
{
	if (it->filing != NULL && it->filing->id != NULL &&
	    strcmp(it->filing->id, tag_id) != 0) {
		errlist_add(out->errs, ERR_TRACKING_ID_UNKNOWN, "/filing/@id",
		    "filing/@id 与邮件主题中的受理编号 %s 不一致 / filing/@id "
		    "does not agree with the tracking id %s of the subject",
		    tag_id, tag_id);
		return 0;
	}
	return ingest_filing(st, it, who, tag_id, tag_token, NULL, out);
}

int
ingest_mail_item(struct store *st, const struct config *cf,
    const struct item *it, const struct store_actor *who, const char *tag_id,
    const char *tag_token, struct ingest_outcome *out)
{
	if (it->kind != ITEM_FILING || tag_id == NULL || tag_id[0] == '\0')
		return ingest_item(st, cf, it, who, NULL, NULL, out);
	out->id[0] = '\0';
	out->state = WF_NONE;
	out->repeated = 0;
	errs_copy(out->errs, it->errs);
	return ingest_mail_resubmit(st, it, who, tag_id, tag_token, out);
}
