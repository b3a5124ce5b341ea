/*
 * ops: the operator's pages — the quarantine (input that could not be
 * read safely, each with its reason; requeue sends it back to be
 * processed again) and the outbox (mails not yet sent; retry queues a
 * failed or deferred one again).  The same store calls as beianctl
 * requeue and retry.
 *
 * Hostile input: the item name and mail id a form sends; both are only
 * looked up (an item is one file name the store lists; an id a number).
 * Reasons, addresses and replies shown came from outside: escaped.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "lib/log.h"
#include "store/outbox.h"
#include "store/status.h"
#include "store/store.h"
#include "web/web_int.h"

struct octx {
	struct html *h;
	const struct web_req *req;
	size_t n;
};

static void
banner(struct html *h, int refused, const char *zh, const char *en,
    const char *detail)
{
	html_raw(h, "<div class=\"banner");
	if (refused)
		html_raw(h, " refused");
	html_raw(h, "\" id=\"result\">");
	html_text(h, zh);
	html_raw(h, " <span class=\"en\">");
	html_text(h, en);
	html_raw(h, "</span>");
	if (detail != NULL) {
		html_raw(h, "<br><code>");
		html_text(h, detail);
		html_raw(h, "</code>");
	}
	html_raw(h, "</div>");
}

/* ---- quarantine ------------------------------------------------------------------ */

static int
quarantine_cb(const char *item, const char *source, time_t at,
    const char *reason, void *arg)
{
	struct octx *o = arg;
	struct html *h = o->h;

	if (o->n++ == 0)
		html_raw(h, "<div class=\"scroll\"><table id=\"quarantine\">"
		    "<thead><tr><th>文件 <span class=\"en\">Item</span></th>"
		    "<th>来源 <span class=\"en\">Source</span></th>"
		    "<th>时间 <span class=\"en\">At</span></th>"
		    "<th>原因 <span class=\"en\">Reason</span></th><th></th>"
		    "</tr></thead><tbody>");
	html_raw(h, "<tr><td><code>");
	html_text(h, item);
	html_raw(h, "</code></td><td><code>");
	html_text(h, source != NULL ? source : "—");
	html_raw(h, "</code></td><td>");
	html_time(h, at);
	html_raw(h, "</td><td>");
	html_text(h, reason);
	html_raw(h, "</td><td><form method=\"post\" action=\"/quarantine/"
	    "requeue\" class=\"inline\">");
	html_csrf(h, o->req);
	html_raw(h, "<input type=\"hidden\" name=\"item\" value=\"");
	html_attr(h, item);
	html_raw(h, "\"><button type=\"submit\" class=\"requeue\">重新处理 "
	    "<span class=\"en\">Requeue</span></button></form></td></tr>");
	return 0;
}

static void
quarantine_render(struct web_req *req, struct web_resp *resp, int status,
    int refused, const char *zh, const char *en, const char *detail)
{
	struct html h;
	struct octx o = { &h, req, 0 };

	html_init(&h);
	page_begin(&h, req, "隔离区", "Quarantine");
	if (zh != NULL)
		banner(&h, refused, zh, en, detail);
	html_raw(&h, "<p class=\"muted\">无法安全读取的输入；重新处理会把文件"
	    "移回原处 <span class=\"en\">Input that could not be read "
	    "safely; requeue moves the file back where it came from</span>"
	    "</p>");
	if (store_quarantine_list(req->st, quarantine_cb, &o) == -1) {
		html_free(&h);
		page_store_unavailable(req, resp);
		return;
	}
	if (o.n > 0)
		html_raw(&h, "</tbody></table></div>");
	else
		html_raw(&h, "<p id=\"empty\">隔离区为空 <span class=\"en\">"
		    "Nothing is quarantined</span></p>");
	page_end(&h, resp, status);
}

void
page_quarantine(struct web_req *req, struct web_resp *resp)
{
	quarantine_render(req, resp, 200, 0, NULL, NULL, NULL);
}

void
act_requeue(struct web_req *req, struct web_resp *resp)
{
	const char *item = web_form_text(req->form, "item");
	char *source = NULL;
	int rc;

	rc = item != NULL ? store_quarantine_requeue(req->st,
	    req->w->cf->spool_dir, item, &source) : 1;
	if (rc == 1) {
		quarantine_render(req, resp, 409, 1, "没有这个隔离项",
		    "No such quarantined item", item);
		return;
	}
	log_info("web: quarantine item=%s requeue account=%s origin=%s%s%s",
	    item, req->sess.account->name, req->origin, rc == -1 ?
	    " failed: " : "", rc == -1 ? store_errmsg(req->st) : "");
	if (rc == -1)
		quarantine_render(req, resp, 409, 1, "未能重新处理",
		    "Not requeued", store_errmsg(req->st));
	else
		quarantine_render(req, resp, 200, 0, "已移回，将重新处理",
		    "Moved back, to be processed again", source);
	free(source);
}

/* ---- outbox ---------------------------------------------------------------------- */

static int
outbox_cb(const struct store_mail *m, void *arg)
{
	struct octx *o = arg;
	struct html *h = o->h;
	const char *tpl = workflow_template_name(m->tpl);

	if (o->n++ == 0)
		html_raw(h, "<div class=\"scroll\"><table id=\"outbox\"><thead>"
		    "<tr><th>编号 <span class=\"en\">Id</span></th>"
		    "<th>备案 <span class=\"en\">Filing</span></th>"
		    "<th>收件人 <span class=\"en\">To</span></th>"
		    "<th>邮件 <span class=\"en\">Mail</span></th>"
		    "<th>状态 <span class=\"en\">State</span></th>"
		    "<th>尝试 <span class=\"en\">Tries</span></th>"
		    "<th>最后回复 <span class=\"en\">Last reply</span></th>"
		    "<th>下次 <span class=\"en\">Next try</span></th><th></th>"
		    "</tr></thead><tbody>");
	html_raw(h, "<tr><td>");
	html_textf(h, "%" PRId64, m->id);
	html_raw(h, "</td><td>");
	if (m->filing != NULL) {
		html_raw(h, "<a href=\"/filings/");
		html_url_segment(h, m->filing);
		html_raw(h, "\">");
		html_text(h, m->filing);
		html_raw(h, "</a>");
	} else
		html_raw(h, "—");
	html_raw(h, "</td><td>");
	html_text(h, m->to);
	html_raw(h, "</td><td><code>");
	html_text(h, tpl);
	html_raw(h, "</code></td><td><code>");
	html_text(h, m->state);
	html_raw(h, "</code></td><td>");
	html_textf(h, "%d", m->attempts);
	html_raw(h, "</td><td>");
	html_text(h, m->last_reply);
	html_raw(h, "</td><td>");
	html_time(h, m->next_try);
	html_raw(h, "</td><td>");
	if (m->state != NULL && (strcmp(m->state, "failed") == 0 ||
	    strcmp(m->state, "deferred") == 0)) {
		html_raw(h, "<form method=\"post\" action=\"/outbox/retry\" "
		    "class=\"inline\">");
		html_csrf(h, o->req);
		html_raw(h, "<input type=\"hidden\" name=\"id\" value=\"");
		html_attrf(h, "%" PRId64, m->id);
		html_raw(h, "\"><button type=\"submit\" class=\"retry\">重试 "
		    "<span class=\"en\">Retry</span></button></form>");
	}
	html_raw(h, "</td></tr>");
	return 0;
}

static void
outbox_render(struct web_req *req, struct web_resp *resp, int status,
    int refused, const char *zh, const char *en, const char *detail)
{
	struct html h;
	struct octx o = { &h, req, 0 };

	html_init(&h);
	page_begin(&h, req, "发件箱", "Outbox");
	if (zh != NULL)
		banner(&h, refused, zh, en, detail);
	html_raw(&h, "<p class=\"muted\">尚未发出的邮件 <span class=\"en\">"
	    "Mails not sent yet</span></p>");
	if (store_outbox_list(req->st, 0, outbox_cb, &o) == -1) {
		html_free(&h);
		page_store_unavailable(req, resp);
		return;
	}
	if (o.n > 0)
		html_raw(&h, "</tbody></table></div>");
	else
		html_raw(&h, "<p id=\"empty\">没有待发的邮件 <span class=\"en\">"
		    "Every mail is sent</span></p>");
	page_end(&h, resp, status);
}

void
page_outbox(struct web_req *req, struct web_resp *resp)
{
	outbox_render(req, resp, 200, 0, NULL, NULL, NULL);
}

void
act_retry(struct web_req *req, struct web_resp *resp)
{
	const char *v = web_form_text(req->form, "id");
	struct store_mail *m = NULL;
	long long id = 0;
	char *end = NULL;
	int rc;

	if (v != NULL && v[0] >= '1' && v[0] <= '9') {
		errno = 0;
		id = strtoll(v, &end, 10);
		if (errno != 0 || *end != '\0')
			id = 0;
	}
	if (id <= 0 || (rc = store_outbox_get(req->st, (int64_t)id, &m)) == 1) {
		outbox_render(req, resp, 409, 1, "没有这封邮件",
		    "No such mail", v);
		return;
	}
	if (rc == 0)
		rc = store_outbox_retry(req->st, (int64_t)id);
	if (rc == -1) {
		store_mail_free(m);
		page_store_unavailable(req, resp);
		return;
	}
	log_info("web: mail=%lld retry account=%s origin=%s%s", id,
	    req->sess.account->name, req->origin, rc == 1 ? " refused" : "");
	if (rc == 1)
		outbox_render(req, resp, 409, 1, "WRONG_STATE：只有失败或推迟的"
		    "邮件可以重试", "WRONG_STATE: only a failed or deferred mail "
		    "is retried", m->to == NULL || m->to[0] == '\0' ?
		    "no address for this recipient" : m->state);
	else {
		/* (the store woke the daemon's mailer with the commit) */
		outbox_render(req, resp, 200, 0, "已重新排队", "Queued again",
		    NULL);
	}
	store_mail_free(m);
}
