/*
 * queue: the role's start page — the counts of its filings by state and
 * the queue of those waiting for it, longest waiting first, with how
 * long each has waited.  A provider's verifier sees the filings to
 * verify and those the bureau returned; a reviewer those under review in
 * its province; the operator every open filing and the counts of the
 * whole store (filings, outbox, quarantine).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/labels.h"
#include "lib/log.h"
#include "store/console.h"
#include "store/status.h"
#include "store/store.h"
#include "web/web_int.h"

#define QUEUE_PAGE 100 /* rows a page shows: a person works from the top */

struct qctx {
	struct html *h;
	const struct web_req *req;
	size_t n;
};

static int
count_cb(const char *state, long count, void *arg)
{
	struct qctx *q = arg;

	html_raw(q->h, "<li class=\"count\" data-state=\"");
	html_attr(q->h, state);
	html_raw(q->h, "\"><strong>");
	html_textf(q->h, "%ld", count);
	html_raw(q->h, "</strong>");
	html_label(q->h, LABEL_STATE, state);
	html_raw(q->h, "</li>");
	return 0;
}

static int
status_cb(const char *kind, const char *name, long count, void *arg)
{
	struct qctx *q = arg;

	html_raw(q->h, "<li class=\"count\"><strong>");
	html_textf(q->h, "%ld", count);
	html_raw(q->h, "</strong>");
	if (strcmp(kind, "filings") == 0)
		html_label(q->h, LABEL_STATE, name);
	else if (strcmp(kind, "outbox") == 0) {
		html_raw(q->h, "邮件 <span class=\"en\">mails</span> <code>");
		html_text(q->h, name);
		html_raw(q->h, "</code>");
	} else
		html_raw(q->h, "隔离区 <span class=\"en\">quarantined</span>");
	html_raw(q->h, "</li>");
	return 0;
}

static int
row_cb(const struct store_queue_row *r, void *arg)
{
	struct qctx *q = arg;
	struct html *h = q->h;

	/* one row more than a page is asked for: it says there is a next */
	if (q->n == QUEUE_PAGE) {
		q->n++;
		return 1;
	}
	if (q->n++ == 0)
		html_raw(h, "<div class=\"scroll\"><table id=\"queue\"><thead>"
		    "<tr><th>受理编号 <span class=\"en\">Tracking id</span></th>"
		    "<th>类型 <span class=\"en\">Type</span></th>"
		    "<th>状态 <span class=\"en\">State</span></th>"
		    "<th>主办者 <span class=\"en\">Sponsor</span></th>"
		    "<th class=\"hide-narrow\">网站 <span class=\"en\">"
		    "Websites</span></th>"
		    "<th>接入商 <span class=\"en\">Provider</span></th>"
		    "<th>已等待 <span class=\"en\">Waiting</span></th>"
		    "</tr></thead><tbody>");
	html_raw(h, "<tr class=\"filing\" data-id=\"");
	html_attr(h, r->id);
	html_raw(h, "\"><td><a class=\"filing-link\" href=\"/filings/");
	html_url_segment(h, r->id);
	html_raw(h, "\">");
	html_text(h, r->id);
	html_raw(h, "</a></td><td>");
	html_label(h, LABEL_TYPE, r->type);
	html_raw(h, "</td><td class=\"state\">");
	html_label(h, LABEL_STATE, r->state);
	html_raw(h, "</td><td>");
	html_text(h, r->sponsor != NULL ? r->sponsor : "—");
	html_raw(h, "</td><td class=\"hide-narrow\">");
	html_text(h, r->sites != NULL ? r->sites : "—");
	html_raw(h, "</td><td>");
	html_text(h, r->provider != NULL ? r->provider : "—");
	html_raw(h, "</td><td title=\"");
	html_time(h, r->updated);
	html_raw(h, "\">");
	html_age(h, q->req->now, r->updated);
	html_raw(h, "</td></tr>");
	return 0;
}

void
page_queue(struct web_req *req, struct web_resp *resp)
{
	struct html h;
	struct qctx q = { &h, req, 0 };
	const char *states = NULL;
	int rc;

	html_init(&h);
	page_begin(&h, req, "待办", "Queue");
	switch (req->role.kind) {
	case STORE_ROLE_PROVIDER:
		states = "awaiting_verification,returned_to_provider";
		html_raw(&h, "<p class=\"muted\">待核验的备案与管局退回的备案"
		    " <span class=\"en\">Filings to verify, and those the "
		    "bureau returned</span></p>");
		break;
	case STORE_ROLE_BUREAU:
		states = "under_review";
		html_raw(&h, "<p class=\"muted\">待审核的备案 <span class=\"en\">"
		    "Filings to review</span></p>");
		break;
	case STORE_ROLE_OPERATOR:
		html_raw(&h, "<p class=\"muted\">所有未结束的备案（只读） "
		    "<span class=\"en\">Every open filing (read only)</span>"
		    "</p>");
		break;
	}
	html_raw(&h, "<ul class=\"counts\" id=\"counts\">");
	if (req->role.kind == STORE_ROLE_OPERATOR)
		rc = store_counts(req->st, status_cb, &q);
	else
		rc = store_queue_counts(req->st, &req->scope, count_cb, &q);
	html_raw(&h, "</ul>");
	if (rc == 0)
		rc = store_queue_list(req->st, &req->scope, states,
		    (size_t)(req->page - 1) * QUEUE_PAGE, QUEUE_PAGE + 1, row_cb,
		    &q);
	if (rc == -1) {
		html_free(&h);
		page_store_unavailable(req, resp);
		return;
	}
	if (q.n > 0)
		html_raw(&h, "</tbody></table></div>");
	else
		html_raw(&h, "<p id=\"empty\">没有待办的备案 <span class=\"en\">"
		    "Nothing is waiting</span></p>");
	html_raw(&h, "<p class=\"pages\">");
	if (req->page > 1) {
		html_raw(&h, "<a rel=\"prev\" href=\"/?page=");
		html_attrf(&h, "%ld", req->page - 1);
		html_raw(&h, "\">← 上一页 <span class=\"en\">earlier</span></a> ");
	}
	if (q.n > QUEUE_PAGE) {
		html_raw(&h, "<a rel=\"next\" href=\"/?page=");
		html_attrf(&h, "%ld", req->page + 1);
		html_raw(&h, "\">下一页 <span class=\"en\">later</span> →</a>");
	}
	html_raw(&h, "</p>");
	page_end(&h, resp, 200);
}
