/*
 * filing: one filing as a person reads it — who, what, the sponsor and
 * its principal, each website with its domains, access and addresses,
 * the owner's photos and scans as pictures, the verification record and
 * its photos, the findings of the last round, the history — and the
 * forms the role may use on it now.  Also the files themselves
 * (/filings/ID/files/HEX).
 *
 * Hostile input: every field shown came from a package; every file from
 * an upload.  Fields go through html.h's writer.  A stored package is
 * read by the parser worker (view.h), never here.  A file is served only
 * when the store says this filing keeps a file of that digest, and only
 * as an image (by its first bytes) or as a download — never as anything
 * a browser would run.  A filing outside the account's scope, and its
 * files, are a 404 like a filing that does not exist.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/labels.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "store/attachments.h"
#include "store/blob.h"
#include "store/console.h"
#include "store/query.h"
#include "store/store.h"
#include "web/filing_int.h"
#include "web/view.h"
#include "web/web_int.h"

/* ---- pieces ------------------------------------------------------------------- */

void
field_row(struct html *h, const char *zh, const char *en, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return;
	html_raw(h, "<dt>");
	html_text(h, zh);
	html_raw(h, " <span class=\"en\">");
	html_text(h, en);
	html_raw(h, "</span></dt><dd>");
	html_text(h, v);
	html_raw(h, "</dd>");
}

/* A field whose value is a word of FORMAT.md: shown as <code>. */
static void
field_word(struct html *h, const char *zh, const char *en, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return;
	html_raw(h, "<dt>");
	html_text(h, zh);
	html_raw(h, " <span class=\"en\">");
	html_text(h, en);
	html_raw(h, "</span></dt><dd><code>");
	html_text(h, v);
	html_raw(h, "</code></dd>");
}

static void
field_label(struct html *h, const char *zh, const char *en, int set,
    const char *v)
{
	html_raw(h, "<dt>");
	html_text(h, zh);
	html_raw(h, " <span class=\"en\">");
	html_text(h, en);
	html_raw(h, "</span></dt><dd>");
	html_label(h, set, v);
	html_raw(h, "</dd>");
}

static void
remark_add(struct filing_view *fv, const char *path, const char *zh,
    const char *en)
{
	if (fv->nremarks >= REMARKS_MAX)
		return;
	snprintf(fv->remarks[fv->nremarks].path,
	    sizeof(fv->remarks[fv->nremarks].path), "%s", path);
	fv->remarks[fv->nremarks].zh = zh;
	fv->remarks[fv->nremarks].en = en;
	fv->nremarks++;
}

int
bytes_image(const unsigned char *b, size_t n, const char **ctype)
{
	if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) {
		*ctype = "image/jpeg";
		return 1;
	}
	if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) {
		*ctype = "image/png";
		return 1;
	}
	return 0;
}

/* The package file named name, or NULL. */
static const struct pkg_file *
pkg_find(const struct filing_view *fv, const char *name)
{
	if (fv->item == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < fv->item->nfiles; i++)
		if (strcmp(fv->item->files[i].name, name) == 0)
			return &fv->item->files[i];
	return NULL;
}

/* One picture (or a link, for a file that is no image): a figure whose
 * image links to itself at full size. */
void
figure(struct html *h, const char *id, const unsigned char *sha,
    const unsigned char *data, size_t size, const char *zh, const char *en,
    const char *name)
{
	char hex[SHA256_HEX];
	const char *ct;

	sha256_to_hex(sha, hex);
	html_raw(h, "<figure><a href=\"/filings/");
	html_url_segment(h, id);
	html_raw(h, "/files/");
	html_attr(h, hex);
	html_raw(h, "\">");
	if (data != NULL && bytes_image(data, size, &ct)) {
		html_raw(h, "<img class=\"photo\" loading=\"lazy\" src=\"/filings/");
		html_url_segment(h, id);
		html_raw(h, "/files/");
		html_attr(h, hex);
		html_raw(h, "\" alt=\"");
		html_attr(h, zh);
		html_raw(h, "\">");
	} else
		html_raw(h, "下载 <span class=\"en\">download</span>");
	html_raw(h, "</a><figcaption>");
	html_text(h, zh);
	html_raw(h, " <span class=\"en\">");
	html_text(h, en);
	html_raw(h, "</span><br><code>");
	html_text(h, name);
	html_raw(h, "</code></figcaption></figure>");
}

static void
attachment_figures(struct html *h, const struct filing_view *fv,
    const struct attachment *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct pkg_file *f = pkg_find(fv, a[i].file);
		const char *zh = "附件", *en = "attachment";

		if (f == NULL || f->sha256 == NULL)
			continue;
		if (a[i].kind != NULL && strcmp(a[i].kind, "sponsorCert") == 0)
			zh = "主体证件", en = "sponsor certificate";
		else if (a[i].kind != NULL && strcmp(a[i].kind, "certFront") == 0)
			zh = "证件正面", en = "certificate, front";
		else if (a[i].kind != NULL && strcmp(a[i].kind, "certBack") == 0)
			zh = "证件背面", en = "certificate, back";
		figure(h, fv->id, f->sha256, f->data, f->size, zh, en,
		    a[i].file);
	}
}

static void
person(struct html *h, struct filing_view *fv, const struct person *p,
    const char *base)
{
	char path[96];

	html_raw(h, "<dl class=\"fields\">");
	field_row(h, "姓名", "name", p->name);
	field_word(h, "证件类型", "certificate type", p->cert_type);
	field_row(h, "证件号码", "certificate number", p->cert_number);
	field_row(h, "证件有效期至", "valid to", p->cert_valid_to);
	field_row(h, "手机", "mobile", p->mobile);
	field_row(h, "办公电话", "office phone", p->office_phone);
	field_row(h, "电子邮箱", "email", p->email);
	html_raw(h, "</dl>");
	if (p->nattachments > 0) {
		html_raw(h, "<div class=\"photos\">");
		attachment_figures(h, fv, p->attachments, p->nattachments);
		html_raw(h, "</div>");
	}
	snprintf(path, sizeof(path), "%s/name", base);
	remark_add(fv, path, "姓名", "name");
	snprintf(path, sizeof(path), "%s/certNumber", base);
	remark_add(fv, path, "证件号码", "certificate number");
	snprintf(path, sizeof(path), "%s/mobile", base);
	remark_add(fv, path, "手机", "mobile");
	snprintf(path, sizeof(path), "%s/email", base);
	remark_add(fv, path, "电子邮箱", "email");
	snprintf(path, sizeof(path), "%s/attachment[1]/@file", base);
	remark_add(fv, path, "证件照片", "certificate photo");
}

static void
sponsor_section(struct html *h, struct filing_view *fv)
{
	const struct filing *f = fv->item != NULL ? fv->item->filing : NULL;
	const struct sponsor *s = f != NULL ? f->sponsor : NULL;
	const struct store_filing_detail *d = fv->d;

	if (s == NULL && d->sponsor_name == NULL)
		return;
	html_raw(h, "<h2 id=\"sponsor\">主办单位 <span class=\"en\">Sponsor"
	    "</span></h2><dl class=\"fields\">");
	if (s != NULL) {
		field_row(h, "名称", "name", s->name);
		field_word(h, "性质", "nature", s->nature);
		field_word(h, "证件类型", "certificate type", s->cert_type);
		field_row(h, "证件号码", "certificate number", s->cert_number);
		field_row(h, "证件住所", "certificate address", s->cert_address);
		field_row(h, "所在地区", "region", s->region);
		field_row(h, "通信地址", "address", s->address);
		field_row(h, "投资人", "investor", s->investor);
	} else {
		field_row(h, "名称", "name", d->sponsor_name);
		field_word(h, "性质", "nature", d->sponsor_nature);
		field_word(h, "证件类型", "certificate type",
		    d->sponsor_cert_type);
		field_row(h, "证件号码", "certificate number",
		    d->sponsor_cert_number);
	}
	html_raw(h, "</dl>");
	remark_add(fv, "/filing/sponsor/name", "主办单位名称", "sponsor name");
	remark_add(fv, "/filing/sponsor/certNumber", "主办单位证件号码",
	    "sponsor certificate number");
	remark_add(fv, "/filing/sponsor/address", "通信地址", "address");
	if (s != NULL && s->nattachments > 0) {
		html_raw(h, "<div class=\"photos\">");
		attachment_figures(h, fv, s->attachments, s->nattachments);
		html_raw(h, "</div>");
		remark_add(fv, "/filing/sponsor/attachment[1]/@file",
		    "主体证件照片", "sponsor certificate photo");
	}
	if (s != NULL && s->principal != NULL) {
		html_raw(h, "<h2 id=\"principal\">主体负责人 <span class=\"en\">"
		    "Principal</span></h2>");
		person(h, fv, s->principal, "/filing/sponsor/principal");
	}
}

static void
access_rows(struct html *h, const struct access *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		html_raw(h, "<dt>接入 <span class=\"en\">access</span></dt><dd>");
		html_raw(h, "<code>");
		html_text(h, a[i].method);
		html_raw(h, "</code> · 服务器所在地 <span class=\"en\">server in"
		    "</span> ");
		html_text(h, a[i].server_location);
		for (size_t k = 0; k < a[i].nips; k++) {
			const struct access_ip *ip = &a[i].ips[k];

			html_raw(h, "<br><code class=\"ip\">");
			if (ip->is_range) {
				html_text(h, ip->start);
				html_raw(h, "–");
				html_text(h, ip->end);
			} else
				html_text(h, ip->ip);
			html_raw(h, "</code>");
		}
		html_raw(h, "</dd>");
	}
}

static void
website_section(struct html *h, struct filing_view *fv, size_t i)
{
	const struct filing *f = fv->item != NULL ? fv->item->filing : NULL;
	const struct website *w = f != NULL && i < f->nwebsites ?
	    &f->websites[i] : NULL;
	const struct store_website *sw = i < fv->d->nwebsites ?
	    &fv->d->websites[i] : NULL;
	char path[96], n[24];

	snprintf(n, sizeof(n), "%zu", i + 1);
	html_raw(h, "<h2 class=\"website\">网站 <span class=\"en\">Website"
	    "</span> ");
	html_text(h, n);
	html_raw(h, "</h2><dl class=\"fields\">");
	if (w != NULL) {
		field_row(h, "网站名称", "name", w->name);
		for (size_t k = 0; k < w->ndomains; k++)
			field_row(h, "域名", "domain", w->domains[k]);
		for (size_t k = 0; k < w->nhome_urls; k++)
			field_row(h, "首页网址", "home page", w->home_urls[k]);
		field_word(h, "服务内容", "service", w->service_content);
		for (size_t k = 0; k < w->nlanguages; k++)
			field_word(h, "语言", "language", w->languages[k]);
		for (size_t k = 0; k < w->npreapprovals; k++) {
			field_word(h, "前置审批", "pre-approval",
			    w->preapprovals[k].type);
			field_row(h, "审批号", "approval number",
			    w->preapprovals[k].number);
		}
		access_rows(h, w->accesses, w->naccesses);
	} else if (sw != NULL) {
		field_row(h, "网站名称", "name", sw->name);
		field_row(h, "域名", "domains", sw->domains);
	}
	if (sw != NULL)
		field_row(h, "网站备案号", "site number", sw->site_licence);
	html_raw(h, "</dl>");
	snprintf(path, sizeof(path), "/filing/website[%zu]/name", i + 1);
	remark_add(fv, path, "网站名称", "website name");
	snprintf(path, sizeof(path), "/filing/website[%zu]/domain[1]", i + 1);
	remark_add(fv, path, "域名", "domain");
	if (w == NULL)
		return;
	for (size_t k = 0; k < w->npreapprovals; k++) {
		const struct pkg_file *pf = pkg_find(fv, w->preapprovals[k].file);

		if (pf != NULL && pf->sha256 != NULL) {
			html_raw(h, "<div class=\"photos\">");
			figure(h, fv->id, pf->sha256, pf->data, pf->size,
			    "前置审批文件", "pre-approval", pf->name);
			html_raw(h, "</div>");
		}
	}
	if (w->manager != NULL) {
		html_raw(h, "<h2>网站负责人 <span class=\"en\">Website manager"
		    "</span> ");
		html_text(h, n);
		html_raw(h, "</h2>");
		snprintf(path, sizeof(path), "/filing/website[%zu]/manager",
		    i + 1);
		person(h, fv, w->manager, path);
	}
}

/* The verification the provider passed: its photos, and who when. */
static void
verification_section(struct html *h, struct web_req *req,
    struct filing_view *fv)
{
	static const struct {
		const char *kind, *zh, *en;
	} kinds[] = {
		{ "onsite_photo", "现场照片", "on-site photo" },
		{ "checklist_scan", "核验单扫描件", "verification form scan" },
		{ "verification", "核验记录", "verification record" },
	};
	const struct store_event *pass = NULL;
	int shown = 0;

	for (size_t i = 0; i < fv->d->nevents; i++) {
		const struct store_event *e = &fv->d->events[i];

		if (e->to != NULL && strcmp(e->to, "under_review") == 0 &&
		    e->from != NULL && strcmp(e->from, "awaiting_verification") ==
		    0)
			pass = e;
	}
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		char hex[65], path[4096];
		unsigned char sha[SHA256_LEN], head[16];
		size_t len = 0;
		int fd;
		ssize_t r;

		if (store_attachment_latest(req->st, fv->id, kinds[k].kind,
		    hex) != 0 || store_attachment_path(req->st, hex, path,
		    sizeof(path)) == -1)
			continue;
		if (!shown++) {
			html_raw(h, "<h2 id=\"verification\">核验记录 <span "
			    "class=\"en\">Verification</span></h2>");
			if (pass != NULL) {
				html_raw(h, "<dl class=\"fields\">");
				field_row(h, "核验人", "verifier", pass->reason);
				field_row(h, "提交者", "submitted by",
				    pass->actor);
				html_raw(h, "<dt>核验通过 <span class=\"en\">passed"
				    "</span></dt><dd>");
				html_time(h, pass->at);
				html_raw(h, "</dd></dl>");
			}
			html_raw(h, "<div class=\"photos\">");
		}
		for (size_t i = 0; i < SHA256_LEN; i++) {
			unsigned v;

			sscanf(hex + 2 * i, "%2x", &v);
			sha[i] = (unsigned char)v;
		}
		/* the first bytes say whether it is a picture */
		if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
			if ((r = read(fd, head, sizeof(head))) > 0)
				len = (size_t)r;
			close(fd);
		}
		figure(h, fv->id, sha, len > 0 ? head : NULL, len, kinds[k].zh,
		    kinds[k].en, kinds[k].kind);
	}
	if (shown)
		html_raw(h, "</div>");
}

static void
history_section(struct html *h, const struct store_filing_detail *d)
{
	html_raw(h, "<h2 id=\"history\">历史 <span class=\"en\">History"
	    "</span></h2><div class=\"scroll\"><table id=\"events\"><thead><tr>"
	    "<th>时间 <span class=\"en\">When</span></th>"
	    "<th>变化 <span class=\"en\">Change</span></th>"
	    "<th>操作者 <span class=\"en\">Who</span></th>"
	    "<th>途径 <span class=\"en\">Channel</span></th>"
	    "<th>说明 <span class=\"en\">Reason</span></th></tr></thead><tbody>");
	for (size_t i = 0; i < d->nevents; i++) {
		const struct store_event *e = &d->events[i];

		html_raw(h, "<tr><td>");
		html_time(h, e->at);
		html_raw(h, "</td><td>");
		if (e->from != NULL) {
			html_label(h, LABEL_STATE, e->from);
			html_raw(h, " → ");
		}
		html_label(h, LABEL_STATE, e->to);
		html_raw(h, "</td><td>");
		html_text(h, label_zh(LABEL_ACTOR, e->actor_kind));
		html_raw(h, " ");
		html_text(h, e->actor);
		html_raw(h, "</td><td>");
		html_label(h, LABEL_CHANNEL, e->channel);
		if (e->origin != NULL) {
			html_raw(h, " <span class=\"origin\">");
			html_text(h, e->origin);
			html_raw(h, "</span>");
		}
		html_raw(h, "</td><td>");
		html_text(h, e->reason);
		html_raw(h, "</td></tr>");
	}
	html_raw(h, "</tbody></table></div>");
}

/* ---- the page ------------------------------------------------------------------- */

/*
 * Load what the page shows into fv: 0; 1 not found (or outside the
 * scope); -1 a store error.  The package is read when it can be: a
 * worker that fails leaves fv->item NULL and a note.
 */
int
filing_view_load(struct web_req *req, struct filing_view *fv)
{
	char hex[65], path[4096], err[256];
	int rc;

	memset(fv, 0, sizeof(*fv));
	fv->id = req->rm.id;
	if ((rc = store_scope_check(req->st, &req->scope, fv->id)) != 0)
		return rc;
	if ((rc = store_filing_show(req->st, fv->id, &fv->d)) != 0)
		return rc;
	rc = store_attachment_latest(req->st, fv->id, "package", hex);
	if (rc == -1)
		return -1;
	if (rc == 0 && store_attachment_path(req->st, hex, path,
	    sizeof(path)) == 0) {
		if (web_view_package(req->w->view, hex, path, &fv->u, err,
		    sizeof(err)) == 0) {
			if (fv->u->nitems == 1 &&
			    fv->u->items[0].kind == ITEM_FILING)
				fv->item = &fv->u->items[0];
		} else {
			log_err("web: filing=%s package=%s: %s", fv->id, hex,
			    err);
			fv->unreadable = 1;
		}
	}
	return 0;
}

void
filing_view_free(struct web_req *req, struct filing_view *fv)
{
	if (fv->u != NULL)
		web_view_release(req->w->view, fv->u);
	store_filing_detail_free(fv->d);
	memset(fv, 0, sizeof(*fv));
}

static void
summary(struct html *h, const struct web_req *req, struct filing_view *fv)
{
	const struct store_filing_detail *d = fv->d;
	const struct config_provider *p = d->info.provider != NULL ?
	    config_provider_find(req->w->cf, d->info.provider) : NULL;

	html_raw(h, "<dl class=\"fields\" id=\"summary\">");
	field_row(h, "受理编号", "tracking id", d->info.id);
	field_label(h, "状态", "state", LABEL_STATE, d->info.state);
	field_label(h, "备案类型", "type", LABEL_TYPE, d->info.type);
	field_label(h, "备案方式", "mode", LABEL_MODE, d->info.mode);
	field_row(h, "省份", "province", d->info.province);
	field_row(h, "接入服务商", "provider", d->info.provider);
	if (p != NULL)
		field_row(h, "接入服务商名称", "provider name", p->name);
	field_row(h, "主办者邮箱", "owner address", d->info.owner);
	field_row(h, "主体备案号", "subject number", d->subject_licence);
	html_raw(h, "<dt>提交 <span class=\"en\">created</span></dt><dd>");
	html_time(h, d->info.created);
	html_raw(h, "</dd><dt>更新 <span class=\"en\">updated</span></dt><dd>");
	html_time(h, d->info.updated);
	html_raw(h, " (");
	html_age(h, req->now, d->info.updated);
	html_raw(h, ")</dd></dl>");
}

static void
errors_section(struct html *h, const struct store_filing_detail *d)
{
	if (d->nerrors == 0)
		return;
	html_raw(h, "<h2 id=\"errors\">问题与意见 <span class=\"en\">Findings "
	    "and remarks</span></h2><ul class=\"findings\">");
	for (size_t i = 0; i < d->nerrors; i++) {
		html_raw(h, "<li><code>");
		html_text(h, d->errors[i].path);
		html_raw(h, "</code>: <strong class=\"code\">");
		html_text(h, d->errors[i].code);
		html_raw(h, "</strong>: ");
		html_text(h, d->errors[i].message);
		html_raw(h, "</li>");
	}
	html_raw(h, "</ul>");
}

static void
filing_render(struct web_req *req, struct web_resp *resp,
    struct filing_view *fv, const char *done_zh, const char *done_en,
    const struct errlist *errs, int status)
{
	struct html h;

	html_init(&h);
	page_begin(&h, req, "备案", "Filing");
	if (done_zh != NULL || errs != NULL) {
		int refused = errs != NULL && errlist_nerrors(errs) > 0;

		html_raw(&h, "<div class=\"banner");
		if (refused)
			html_raw(&h, " refused");
		html_raw(&h, "\" id=\"result\">");
		if (refused) {
			html_raw(&h, "<strong>未执行 <span class=\"en\">Not done"
			    "</span></strong>");
			html_findings(&h, errs);
		} else {
			html_text(&h, done_zh);
			html_raw(&h, " <span class=\"en\">");
			html_text(&h, done_en);
			html_raw(&h, "</span>");
		}
		html_raw(&h, "<div>现在的状态 <span class=\"en\">Now</span>: "
		    "<span id=\"new-state\">");
		html_label(&h, LABEL_STATE, fv->d->info.state);
		html_raw(&h, "</span></div></div>");
	}
	summary(&h, req, fv);
	if (fv->unreadable)
		html_raw(&h, "<p class=\"banner refused\">材料暂时无法显示 "
		    "<span class=\"en\">The package cannot be shown now</span>"
		    "</p>");
	errors_section(&h, fv->d);
	sponsor_section(&h, fv);
	for (size_t i = 0; i < fv->d->nwebsites ||
	    (fv->item && fv->item->filing && i < fv->item->filing->nwebsites);
	    i++)
		website_section(&h, fv, i);
	verification_section(&h, req, fv);
	filing_actions(&h, req, fv);
	history_section(&h, fv->d);
	page_end(&h, resp, status);
}

void
page_filing(struct web_req *req, struct web_resp *resp)
{
	page_filing_result(req, resp, NULL, NULL, NULL);
}

void
page_filing_result(struct web_req *req, struct web_resp *resp,
    const char *done_zh, const char *done_en, const struct errlist *errs)
{
	struct filing_view fv;
	int rc;

	if ((rc = filing_view_load(req, &fv)) != 0) {
		filing_view_free(req, &fv);
		if (rc == -1)
			page_store_unavailable(req, resp);
		else
			page_status(req, resp, 404, "没有这个备案",
			    "No such filing");
		return;
	}
	filing_render(req, resp, &fv, done_zh, done_en, errs,
	    errs != NULL && errlist_nerrors(errs) > 0 ? 409 : 200);
	filing_view_free(req, &fv);
}

/* ---- the files ------------------------------------------------------------------ */

/* A name safe in a quoted header parameter: ASCII letters, digits, . _ - */
static char *
name_ascii(const char *name)
{
	char *s = xstrdup(name != NULL && name[0] != '\0' ? name : "file");

	for (char *p = s; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		    *p == '-'))
			*p = '_';
	return s;
}

void
page_file(struct web_req *req, struct web_resp *resp)
{
	const struct upload *u = NULL;
	unsigned char *data = NULL;
	char blob[65], path[4096], err[256], *name = NULL, *kind = NULL, *safe;
	const char *ct;
	size_t len = 0;
	int rc;

	rc = store_scope_check(req->st, &req->scope, req->rm.id);
	if (rc == 0)
		rc = store_attachment_find(req->st, req->rm.id, req->rm.hex,
		    blob, &name, &kind);
	if (rc == 0 && store_attachment_path(req->st, blob, path,
	    sizeof(path)) == -1)
		rc = 1;
	if (rc == 0 && strcmp(blob, req->rm.hex) == 0) {
		/* a file kept on its own */
		if (blob_read(path, &data, &len) == -1)
			rc = 1;
	} else if (rc == 0) {
		/* an entry of a package: as the worker read it */
		rc = 1;
		if (web_view_package(req->w->view, blob, path, &u, err,
		    sizeof(err)) == 0) {
			for (size_t i = 0; i < u->nitems && rc == 1; i++)
				for (size_t k = 0; k < u->items[i].nfiles; k++) {
					const struct pkg_file *f =
					    &u->items[i].files[k];
					char hex[SHA256_HEX];

					if (f->sha256 == NULL || f->data == NULL)
						continue;
					sha256_to_hex(f->sha256, hex);
					if (strcmp(hex, req->rm.hex) != 0)
						continue;
					data = xmalloc(f->size + 1);
					memcpy(data, f->data, f->size);
					len = f->size;
					rc = 0;
					break;
				}
			web_view_release(req->w->view, u);
		} else
			log_err("web: filing=%s package=%s: %s", req->rm.id,
			    blob, err);
	}
	if (rc != 0) {
		if (rc == -1)
			log_err("web: store: %s", store_errmsg(req->st));
		free(name);
		free(kind);
		free(data);
		page_status(req, resp, 404, "没有这个文件", "No such file");
		return;
	}
	safe = name_ascii(name);
	resp->status = 200;
	resp->body = (char *)data;
	resp->len = len;
	resp->file = 1;
	resp->personal = 1;
	if (bytes_image(data, len, &ct)) {
		resp->ctype = ct;
		resp->disposition = xasprintf("inline; filename=\"%s\"", safe);
	} else {
		resp->ctype = "application/octet-stream";
		resp->disposition = xasprintf("attachment; filename=\"%s\"",
		    safe);
	}
	free(safe);
	free(name);
	free(kind);
}
