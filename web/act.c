/*
 * act: what a verifier and a reviewer do in the console — the forms on
 * a filing's page and the actions behind them: pass the verification
 * (on-site photo and signed 核验单 scan), return to the owner with
 * remarks per field, hand the bureau's reason back, approve (with the
 * number the bureau issued, if it did), reject with a reason.
 *
 * Each goes through the same workflow as the other channels: a
 * verification is a record (verification_to_xml) with its files, read by
 * the parser worker as a provider's batch is (photo checks, limits) and
 * applied by ingest_item(); the others are store transitions.  The
 * actor is the account, the channel web, the origin the client's
 * address.  A refusal (WRONG_STATE, VERIFICATION_INCOMPLETE,
 * PHOTO_DIMENSIONS …) is shown as the mails show it, with the state the
 * filing is in; nothing is changed then.
 *
 * Hostile input: every form field and file.  Text must be UTF-8 without
 * control characters (else it counts as absent), a remark's path is one
 * the page offered (it starts with "/filing" or is "/"), a code one of
 * the list below; files are only handed to the worker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/labels.h"
#include "lib/log.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "store/console.h"
#include "store/ingest.h"
#include "store/store.h"
#include "store/transition.h"
#include "web/filing_int.h"
#include "web/view.h"
#include "web/web_int.h"

#define TEXT_MAX 500   /* characters of a remark or a reason */
#define NAME_MAX_CH 50 /* characters of a verifier's or reviewer's name */

/* The codes a remark or a rejection may carry. */
static const struct {
	const char *code, *zh, *en;
} codes[] = {
	{ "INFO_INCORRECT", "信息有误", "information incorrect" },
	{ "NAME_MISMATCH", "与证件不符", "does not match the certificate" },
	{ "CERT_INVALID", "证件无效或不清晰", "certificate invalid or unreadable" },
	{ "CONTACT_INVALID", "联系方式有误", "contact details wrong" },
	{ "PHOTO_UNCLEAR", "照片不清晰", "photo unclear" },
	{ "DOMAIN_OWNER_MISMATCH", "域名持有者与主办单位不一致",
	    "the domain's holder is not the sponsor" },
	{ "SITE_NAME_INVALID", "网站名称不符合要求",
	    "website name not acceptable" },
	{ "PREAPPROVAL_MISSING", "缺少前置审批", "pre-approval missing" },
};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

/* The seven checks of FORMAT.md §6, in struct verification's order. */
static const struct {
	const char *name, *zh, *en;
} checks[7] = {
	{ "subjectCert", "主体证件已核对", "the sponsor's certificate checked" },
	{ "personCert", "负责人证件已核对", "the responsible person's "
	    "certificate checked" },
	{ "contacts", "联系方式已核实", "contact details confirmed" },
	{ "siteName", "网站名称已核实", "website name confirmed" },
	{ "preApproval", "前置审批已核对", "pre-approvals checked" },
	{ "domainOwner", "域名持有者已核实", "domain holder confirmed" },
	{ "photoTaken", "已拍摄现场照片", "on-site photo taken" },
};

/* ---- the forms ----------------------------------------------------------------- */

static void
form_open(struct html *h, const struct web_req *req, const char *id,
    const char *action, int multipart)
{
	html_raw(h, "<form class=\"action\" method=\"post\" id=\"");
	html_attr(h, id);
	html_raw(h, "\" action=\"/filings/");
	html_url_segment(h, req->rm.id);
	html_raw(h, "/");
	html_attr(h, action);
	html_raw(h, "\"");
	if (multipart)
		html_raw(h, " enctype=\"multipart/form-data\"");
	html_raw(h, ">");
	html_csrf(h, req);
}

static void
code_select(struct html *h, const char *name)
{
	html_raw(h, "<select name=\"");
	html_attr(h, name);
	html_raw(h, "\">");
	for (size_t i = 0; i < NCODES; i++) {
		html_raw(h, "<option value=\"");
		html_attr(h, codes[i].code);
		html_raw(h, "\">");
		html_text(h, codes[i].zh);
		html_raw(h, " / ");
		html_text(h, codes[i].en);
		html_raw(h, "</option>");
	}
	html_raw(h, "</select>");
}

static void
name_input(struct html *h, const char *name, const char *zh, const char *en,
    const char *value)
{
	html_raw(h, "<label for=\"");
	html_attr(h, name);
	html_raw(h, "\">");
	html_text(h, zh);
	html_raw(h, " <span class=\"en\">");
	html_text(h, en);
	html_raw(h, "</span></label><input type=\"text\" id=\"");
	html_attr(h, name);
	html_raw(h, "\" name=\"");
	html_attr(h, name);
	html_raw(h, "\" maxlength=\"50\" required value=\"");
	html_attr(h, value);
	html_raw(h, "\">");
}

static void
verify_forms(struct html *h, const struct web_req *req,
    const struct filing_view *fv)
{
	char n[16], k[32];

	form_open(h, req, "verify-form", "verify", 1);
	html_raw(h, "<h3>核验通过 <span class=\"en\">Pass the verification"
	    "</span></h3>");
	name_input(h, "verifier", "核验人", "verifier",
	    req->sess.account->name);
	for (size_t i = 0; i < 7; i++) {
		html_raw(h, "<label class=\"check\"><input type=\"checkbox\" "
		    "value=\"1\" name=\"check_");
		html_attr(h, checks[i].name);
		html_raw(h, "\">");
		html_text(h, checks[i].zh);
		html_raw(h, " <span class=\"en\">");
		html_text(h, checks[i].en);
		html_raw(h, "</span></label>");
	}
	html_raw(h, "<label for=\"photo\">负责人现场照片 <span class=\"en\">"
	    "On-site photo of the responsible person</span></label>"
	    "<input type=\"file\" id=\"photo\" name=\"photo\" "
	    "accept=\"image/*\" capture>"
	    "<label for=\"scan\">签字的核验单扫描件 <span class=\"en\">Scan of "
	    "the signed verification form (核验单)</span></label>"
	    "<input type=\"file\" id=\"scan\" name=\"scan\" accept=\"image/*\" "
	    "capture><br><button type=\"submit\" id=\"verify-submit\">"
	    "核验通过，提交管局审核 <span class=\"en\">Pass, and send to the "
	    "bureau</span></button></form>");

	/* the second way, folded until wanted (no script needed) */
	html_raw(h, "<details id=\"return\"><summary>退回主办者 <span "
	    "class=\"en\">Return to the owner</span></summary>");
	form_open(h, req, "return-form", "return", 0);
	name_input(h, "return-verifier", "核验人", "verifier",
	    req->sess.account->name);
	html_raw(h, "<p class=\"muted\">对需要修改的项目填写意见 <span "
	    "class=\"en\">Write a remark on each field to correct</span></p>"
	    "<div class=\"scroll\"><table><thead><tr><th>项目 <span "
	    "class=\"en\">Field</span></th><th>问题 <span class=\"en\">Issue"
	    "</span></th><th>意见 <span class=\"en\">Remark</span></th></tr>"
	    "</thead><tbody>");
	for (size_t i = 0; i <= fv->nremarks; i++) {
		const char *path = i < fv->nremarks ? fv->remarks[i].path : "/";

		snprintf(n, sizeof(n), "%zu", i);
		html_raw(h, "<tr><td>");
		if (i < fv->nremarks) {
			html_text(h, fv->remarks[i].zh);
			html_raw(h, " <span class=\"en\">");
			html_text(h, fv->remarks[i].en);
			html_raw(h, "</span>");
		} else
			html_raw(h, "其他 <span class=\"en\">other</span>");
		html_raw(h, "<br><code>");
		html_text(h, path);
		html_raw(h, "</code><input type=\"hidden\" name=\"path_");
		html_attr(h, n);
		html_raw(h, "\" value=\"");
		html_attr(h, path);
		html_raw(h, "\"></td><td>");
		snprintf(k, sizeof(k), "code_%zu", i);
		code_select(h, k);
		html_raw(h, "</td><td><input type=\"text\" maxlength=\"500\" "
		    "name=\"text_");
		html_attr(h, n);
		html_raw(h, "\"></td></tr>");
	}
	html_raw(h, "</tbody></table></div><button type=\"submit\" "
	    "class=\"danger\" id=\"return-submit\">退回主办者修改 <span "
	    "class=\"en\">Return to the owner</span></button></form>"
	    "</details>");
}

void
filing_actions(struct html *h, const struct web_req *req,
    const struct filing_view *fv)
{
	const char *state = fv->d->info.state;

	if (req->role.kind == STORE_ROLE_OPERATOR || state == NULL)
		return;
	if (req->role.kind == STORE_ROLE_PROVIDER &&
	    strcmp(state, "awaiting_verification") == 0) {
		html_raw(h, "<h2 id=\"actions\">操作 <span class=\"en\">Actions"
		    "</span></h2>");
		verify_forms(h, req, fv);
	} else if (req->role.kind == STORE_ROLE_PROVIDER &&
	    strcmp(state, "returned_to_provider") == 0) {
		html_raw(h, "<h2 id=\"actions\">操作 <span class=\"en\">Actions"
		    "</span></h2>");
		form_open(h, req, "handback-form", "handback", 0);
		html_raw(h, "<h3>将管局意见转交主办者 <span class=\"en\">Hand the "
		    "bureau's reason to the owner</span></h3><p class=\"muted\">"
		    "更正后的材料也可由接入商重新上传 <span class=\"en\">Or upload "
		    "the corrected package with filing/@id</span></p>"
		    "<label for=\"remark\">补充说明（可选） <span class=\"en\">"
		    "A remark of your own (optional)</span></label>"
		    "<textarea id=\"remark\" name=\"remark\" maxlength=\"500\">"
		    "</textarea><button type=\"submit\" id=\"handback-submit\">"
		    "转交主办者 <span class=\"en\">Hand back</span></button>"
		    "</form>");
	} else if (req->role.kind == STORE_ROLE_BUREAU &&
	    strcmp(state, "under_review") == 0) {
		html_raw(h, "<h2 id=\"actions\">审核 <span class=\"en\">Review"
		    "</span></h2>");
		form_open(h, req, "approve-form", "approve", 0);
		html_raw(h, "<h3>通过 <span class=\"en\">Approve</span></h3>");
		name_input(h, "reviewer", "审核人", "reviewer",
		    req->sess.account->name);
		html_raw(h, "<label for=\"licence\">管局已分配的备案号（可选） "
		    "<span class=\"en\">The number the bureau issued, if it did "
		    "(optional)</span></label><input type=\"text\" "
		    "id=\"licence\" name=\"licence\" maxlength=\"64\">"
		    "<button type=\"submit\" id=\"approve-submit\">通过 <span "
		    "class=\"en\">Approve</span></button></form>");
		form_open(h, req, "reject-form", "reject", 0);
		html_raw(h, "<h3>退回接入商 <span class=\"en\">Reject, back to "
		    "the provider</span></h3>");
		name_input(h, "reject-reviewer", "审核人", "reviewer",
		    req->sess.account->name);
		html_raw(h, "<label>问题 <span class=\"en\">Issue</span></label>");
		code_select(h, "code");
		html_raw(h, "<label for=\"reason\">原因 <span class=\"en\">Reason"
		    "</span></label><textarea id=\"reason\" name=\"reason\" "
		    "maxlength=\"500\" required></textarea><button "
		    "type=\"submit\" class=\"danger\" id=\"reject-submit\">退回 "
		    "<span class=\"en\">Reject</span></button></form>");
	}
}

/* ---- the actions ---------------------------------------------------------------- */

static void
actor(const struct web_req *req, struct store_actor *who)
{
	memset(who, 0, sizeof(*who));
	who->kind = req->role.kind == STORE_ROLE_BUREAU ? WF_ACTOR_BUREAU :
	    WF_ACTOR_PROVIDER;
	who->channel = WF_CHANNEL_WEB;
	who->name = req->sess.account->name;
	who->provider = req->role.kind == STORE_ROLE_PROVIDER ?
	    req->role.code : NULL;
	who->province = req->role.kind == STORE_ROLE_BUREAU ?
	    req->role.code : NULL;
	who->origin = req->origin;
	who->source = "web";
	who->now = req->now;
}

/* A text field of at most max characters, trimmed of spaces; NULL when
 * absent, empty or longer. */
static char *
text_get(const struct web_req *req, const char *name, long max)
{
	const char *v = web_form_text(req->form, name);
	size_t a, b;
	char *s;

	if (v == NULL)
		return NULL;
	a = strspn(v, " \t\r\n");
	b = strlen(v);
	while (b > a && strchr(" \t\r\n", v[b - 1]) != NULL)
		b--;
	if (a == b)
		return NULL;
	s = xstrndup(v + a, b - a);
	if (utf8_len(s) > max) {
		free(s);
		return NULL;
	}
	return s;
}

static int
code_known(const char *c)
{
	for (size_t i = 0; c != NULL && i < NCODES; i++)
		if (strcmp(codes[i].code, c) == 0)
			return 1;
	return 0;
}

/* In scope and known: 0; else the page is a 404 and 1. */
static int
in_scope(struct web_req *req, struct web_resp *resp)
{
	int rc = store_scope_check(req->st, &req->scope, req->rm.id);

	if (rc == 0)
		return 0;
	if (rc == -1) {
		page_store_unavailable(req, resp);
	} else
		page_status(req, resp, 404, "没有这个备案", "No such filing");
	return 1;
}

static void
store_failed(struct web_req *req, struct web_resp *resp)
{
	page_store_unavailable(req, resp);
}

/* After an action: the log line, the mails, the page with its outcome. */
static void
acted(struct web_req *req, struct web_resp *resp, const char *what,
    const char *zh, const char *en, const struct errlist *errs)
{
	int refused = errlist_nerrors(errs) > 0;

	log_info("web: filing=%s %s account=%s origin=%s%s%s", req->rm.id,
	    what, req->sess.account->name, req->origin,
	    refused ? " refused: " : "", refused ?
	    err_code_name(errlist_get(errs, 0)->code) : "");
	/* the mails it queued: the store woke the daemon's mailer with the
	 * commit (store/wake.h) */
	page_filing_result(req, resp, zh, en, errs);
}

/*
 * A verification record with its files, through the worker as a batch
 * is, then ingest: the outcome into errs.  0, or -1 (the page is made).
 */
static int
verification_apply(struct web_req *req, struct web_resp *resp,
    const struct verification *v, const struct web_field *photo,
    const struct web_field *scan, struct errlist *errs)
{
	struct pkg_file files[3];
	struct store_actor who;
	struct ingest_outcome out = { 0 };
	struct upload *u = NULL;
	char *xml, *rname, err[256];
	size_t n = 0, xlen;
	int rc = -1;

	xml = verification_to_xml(v, &xlen);
	rname = xasprintf("%s.verification.xml", req->rm.id);
	files[n++] = (struct pkg_file){ rname, (unsigned char *)xml, xlen,
	    NULL };
	if (photo != NULL)
		files[n++] = (struct pkg_file){ v->photo_file, photo->data,
		    photo->len, NULL };
	if (scan != NULL)
		files[n++] = (struct pkg_file){ v->scan_file, scan->data,
		    scan->len, NULL };
	if (web_photo_check(req->w->view, req->role.code, files, n, &u, err,
	    sizeof(err)) == -1) {
		log_err("web: filing=%s verification: %s", req->rm.id, err);
		page_status(req, resp, 503, "照片检查暂时无法进行，请稍后再试",
		    "The photos cannot be checked now; try again soon");
		goto out;
	}
	rc = 0;
	for (size_t i = 0; i < errlist_count(u->errs); i++) {
		const struct err_item *e = errlist_get(u->errs, i);

		errlist_add(errs, e->code, e->path, "%s", e->message);
	}
	if (errlist_nerrors(errs) > 0)
		goto out;
	if (u->nitems != 1 || u->items[0].kind != ITEM_VERIFICATION ||
	    (u->items[0].verification != NULL &&
	    (u->items[0].verification->filing == NULL ||
	    strcmp(u->items[0].verification->filing, req->rm.id) != 0))) {
		/* the worker answered for something else: trust none of it */
		log_err("web: filing=%s verification: the worker's answer "
		    "holds %zu items, not this record", req->rm.id, u->nitems);
		rc = -1;
		page_status(req, resp, 503, "照片检查暂时无法进行，请稍后再试",
		    "The photos cannot be checked now; try again soon");
		goto out;
	}
	actor(req, &who);
	out.errs = errs;
	if (ingest_item(req->st, req->w->cf, &u->items[0], &who, NULL, NULL,
	    &out) == -1) {
		rc = -1;
		store_failed(req, resp);
	}
out:
	upload_free(u);
	free(rname);
	free(xml);
	return rc;
}

/* "onsite.jpg" or "onsite.png", by the file's first bytes */
static const char *
photo_name(const struct web_field *f, const char *jpg, const char *png)
{
	return f->len >= 8 && memcmp(f->data, "\x89PNG\r\n\x1a\n", 8) == 0 ?
	    png : jpg;
}

void
act_verify(struct web_req *req, struct web_resp *resp)
{
	const struct web_field *photo, *scan;
	struct verification v;
	struct errlist *errs;
	char at[32], *verifier;

	if (in_scope(req, resp))
		return;
	if ((verifier = text_get(req, "verifier", NAME_MAX_CH)) == NULL) {
		page_status(req, resp, 400, "请填写核验人姓名",
		    "Give the verifier's name");
		return;
	}
	photo = web_form_file(req->form, "photo");
	scan = web_form_file(req->form, "scan");
	memset(&v, 0, sizeof(v));
	time_rfc3339_cst(req->now, at);
	v.filing = req->rm.id;
	v.result = (char *)"pass";
	v.verifier = verifier;
	v.verified_at = at;
	for (size_t i = 0; i < 7; i++) {
		char name[32];

		snprintf(name, sizeof(name), "check_%s", checks[i].name);
		v.checks[i] = web_form_text(req->form, name) != NULL;
	}
	v.photo_file = photo != NULL ? (char *)photo_name(photo, "onsite.jpg",
	    "onsite.png") : NULL;
	v.scan_file = scan != NULL ? (char *)photo_name(scan, "checklist.jpg",
	    "checklist.png") : NULL;
	errs = errlist_new();
	if (verification_apply(req, resp, &v, photo, scan, errs) == 0)
		acted(req, resp, "verify pass", "核验通过，已提交管局审核",
		    "Verification passed: sent to the bureau for review", errs);
	errlist_free(errs);
	free(verifier);
}

void
act_return(struct web_req *req, struct web_resp *resp)
{
	struct verification v;
	struct issue is[REMARKS_MAX + 1];
	struct errlist *errs;
	char *texts[REMARKS_MAX + 1], at[32], *verifier;
	size_t n = 0;

	if (in_scope(req, resp))
		return;
	if ((verifier = text_get(req, "return-verifier", NAME_MAX_CH)) ==
	    NULL) {
		page_status(req, resp, 400, "请填写核验人姓名",
		    "Give the verifier's name");
		return;
	}
	for (size_t i = 0; i <= REMARKS_MAX; i++) {
		char k[32], c[32];
		const char *path, *code;
		char *text;

		snprintf(k, sizeof(k), "text_%zu", i);
		if ((text = text_get(req, k, TEXT_MAX)) == NULL)
			continue;
		snprintf(k, sizeof(k), "path_%zu", i);
		snprintf(c, sizeof(c), "code_%zu", i);
		path = web_form_text(req->form, k);
		code = web_form_text(req->form, c);
		if (path == NULL || strlen(path) > 95 || (strcmp(path, "/") !=
		    0 && strncmp(path, "/filing/", 8) != 0) || !code_known(code)) {
			free(text);
			continue;
		}
		texts[n] = text;
		is[n].path = (char *)path;
		is[n].code = (char *)code;
		is[n].text = text;
		n++;
	}
	memset(&v, 0, sizeof(v));
	time_rfc3339_cst(req->now, at);
	v.filing = req->rm.id;
	v.result = (char *)"return";
	v.verifier = verifier;
	v.verified_at = at;
	for (size_t i = 0; i < 7; i++)
		v.checks[i] = -1;
	v.issues = is;
	v.nissues = n;
	errs = errlist_new();
	if (verification_apply(req, resp, &v, NULL, NULL, errs) == 0)
		acted(req, resp, "verify return", "已退回主办者修改",
		    "Returned to the owner for correction", errs);
	errlist_free(errs);
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(verifier);
}

void
act_handback(struct web_req *req, struct web_resp *resp)
{
	struct store_filing_detail *d = NULL;
	struct store_issue *is = NULL;
	struct store_result res = { 0 };
	struct store_actor who;
	char *remark;
	size_t n = 0;
	int rc;

	if (in_scope(req, resp))
		return;
	remark = text_get(req, "remark", TEXT_MAX);
	if (remark != NULL) {
		/* the bureau's reason and the provider's remark beside it */
		if (store_filing_show(req->st, req->rm.id, &d) != 0) {
			free(remark);
			store_failed(req, resp);
			return;
		}
		is = xreallocarray(NULL, d->nerrors + 1, sizeof(*is));
		for (size_t i = 0; i < d->nerrors; i++) {
			is[n].path = d->errors[i].path;
			is[n].code = d->errors[i].code;
			is[n++].text = d->errors[i].message;
		}
		is[n].path = "/";
		is[n].code = "PROVIDER_REMARK";
		is[n++].text = remark;
	}
	actor(req, &who);
	res.errs = errlist_new();
	rc = store_handback(req->st, req->rm.id, is, n, &who, &res);
	if (rc == -1)
		store_failed(req, resp);
	else
		acted(req, resp, "handback", "已将管局意见转交主办者",
		    "The bureau's reason was handed to the owner", res.errs);
	errlist_free(res.errs);
	store_filing_detail_free(d);
	free(is);
	free(remark);
}

static void
review(struct web_req *req, struct web_resp *resp, int approve)
{
	struct store_transition_req tr = { 0 };
	struct store_result res = { 0 };
	struct store_actor who;
	struct store_issue issue;
	char *reviewer, *licence = NULL, *reason = NULL;
	const char *code;
	int rc;

	if (in_scope(req, resp))
		return;
	reviewer = text_get(req, approve ? "reviewer" : "reject-reviewer",
	    NAME_MAX_CH);
	if (approve) {
		licence = text_get(req, "licence", 64);
		tr.to = WF_APPROVED;
		tr.licence = licence;
		/* as a decision record's approval: the reviewer is the reason */
		tr.reason = reviewer != NULL ? reviewer : req->sess.account->name;
	} else {
		code = web_form_text(req->form, "code");
		if ((reason = text_get(req, "reason", TEXT_MAX)) == NULL ||
		    !code_known(code)) {
			free(reviewer);
			free(reason);
			page_status(req, resp, 400, "请选择问题并填写退回原因",
			    "Choose the issue and give the reason");
			return;
		}
		issue.path = "/";
		issue.code = code;
		issue.text = reason;
		tr.to = WF_RETURNED_TO_PROVIDER;
		tr.issues = &issue;
		tr.nissues = 1;
		tr.reason = reason;
	}
	tr.id = req->rm.id;
	actor(req, &who);
	res.errs = errlist_new();
	if ((rc = store_transition(req->st, &tr, &who, &res)) == -1)
		store_failed(req, resp);
	else if (approve)
		acted(req, resp, "approve", "已通过，备案号已发放",
		    "Approved: the numbers are issued", res.errs);
	else
		acted(req, resp, "reject", "已退回接入商",
		    "Rejected: back to the provider", res.errs);
	errlist_free(res.errs);
	free(reviewer);
	free(licence);
	free(reason);
}

void
act_approve(struct web_req *req, struct web_resp *resp)
{
	review(req, resp, 1);
}

void
act_reject(struct web_req *req, struct web_resp *resp)
{
	review(req, resp, 0);
}
