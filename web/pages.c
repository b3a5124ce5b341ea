/*
 * pages: the frame every page of the console shares (header, navigation
 * for the role, the style sheet), the small answers (a status page, a
 * redirect) and the pieces pages are made of (times, ages, labels, the
 * CSRF field, the findings of a refusal).
 *
 * Every value is written by html.h's escaping writer; the literals here
 * are the only markup.  The style sheet is a file of its own (the CSP
 * allows no inline style): small, readable on a phone at a counter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/labels.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "store/accounts.h"
#include "store/store.h"
#include "web/web_int.h"

void
page_begin(struct html *h, const struct web_req *req, const char *title_zh,
    const char *title_en)
{
	html_raw(h, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\"><title>");
	html_text(h, title_zh);
	html_raw(h, " / ");
	html_text(h, title_en);
	html_raw(h, " · ICP备案控制台</title>"
	    "<link rel=\"stylesheet\" href=\"/static/console.css\">"
	    "</head><body><header><a class=\"brand\" href=\"/\">"
	    "ICP备案控制台 <span class=\"en\">Filing console</span></a>");
	if (req != NULL && req->authed) {
		const struct store_role *r = &req->role;
		const struct config_provider *p;

		html_raw(h, "<nav><a href=\"/\">待办 <span class=\"en\">Queue"
		    "</span></a>");
		if (r->kind == STORE_ROLE_OPERATOR)
			html_raw(h, "<a href=\"/quarantine\">隔离区 <span "
			    "class=\"en\">Quarantine</span></a>"
			    "<a href=\"/outbox\">发件箱 <span class=\"en\">"
			    "Outbox</span></a>");
		html_raw(h, "</nav><div class=\"who\"><span class=\"account\">");
		html_text(h, req->sess.account->name);
		html_raw(h, "</span> <span class=\"role\">");
		switch (r->kind) {
		case STORE_ROLE_PROVIDER:
			html_raw(h, "接入服务商 <span class=\"en\">provider"
			    "</span> ");
			html_text(h, r->code);
			p = config_provider_find(req->w->cf, r->code);
			if (p != NULL && p->name[0] != '\0') {
				html_raw(h, " · ");
				html_text(h, p->name);
			}
			break;
		case STORE_ROLE_BUREAU:
			html_raw(h, "通信管理局 <span class=\"en\">bureau</span> ");
			html_text(h, r->code);
			break;
		case STORE_ROLE_OPERATOR:
			html_raw(h, "运维人员 <span class=\"en\">operator</span>");
			break;
		}
		html_raw(h, "</span><form method=\"post\" action=\"/logout\" "
		    "class=\"inline\">");
		html_csrf(h, req);
		html_raw(h, "<button type=\"submit\" id=\"logout\">退出 <span "
		    "class=\"en\">Log out</span></button></form></div>");
	}
	html_raw(h, "</header><main><h1>");
	html_text(h, title_zh);
	html_raw(h, " <span class=\"en\">");
	html_text(h, title_en);
	html_raw(h, "</span></h1>\n");
}

void
page_end(struct html *h, struct web_resp *resp, int status)
{
	html_raw(h, "</main><footer>beiand · ICP备案 "
	    "<span class=\"en\">ICP filing</span></footer></body></html>\n");
	free(resp->body);
	resp->body = html_take(h, &resp->len);
	resp->status = status;
	resp->personal = 1;
}

void
page_status(const struct web_req *req, struct web_resp *resp, int status,
    const char *zh, const char *en)
{
	struct html h;
	char t[16];

	snprintf(t, sizeof(t), "%d", status);
	html_init(&h);
	page_begin(&h, req, zh, en);
	html_raw(&h, "<p class=\"status\">HTTP ");
	html_text(&h, t);
	html_raw(&h, "</p><p><a href=\"/\">返回待办 <span class=\"en\">Back "
	    "to the queue</span></a></p>");
	page_end(&h, resp, status);
}

void
page_store_unavailable(const struct web_req *req, struct web_resp *resp)
{
	log_err("web: store: %s", req->st != NULL ? store_errmsg(req->st) :
	    "not open");
	page_status(req, resp, 503, "数据库暂时不可用，请稍后再试",
	    "The database is not available; try again soon");
}

void
page_redirect(struct web_resp *resp, const char *location)
{
	free(resp->location);
	resp->location = xstrdup(location);
	resp->status = 303;
	free(resp->body);
	resp->body = xstrdup("");
	resp->len = 0;
}

void
html_time(struct html *h, time_t t)
{
	time_t c = t + 8 * 3600;
	struct tm tm;
	char buf[32];

	if (t == 0) {
		html_raw(h, "—");
		return;
	}
	gmtime_r(&c, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm);
	html_text(h, buf);
}

void
html_age(struct html *h, time_t now, time_t t)
{
	long s = (long)(now - t);

	if (s < 0)
		s = 0;
	if (s >= 86400)
		html_textf(h, "%ld 天 / %ld d", s / 86400, s / 86400);
	else if (s >= 3600)
		html_textf(h, "%ld 小时 / %ld h", s / 3600, s / 3600);
	else
		html_textf(h, "%ld 分钟 / %ld min", s / 60, s / 60);
}

void
html_label(struct html *h, int set, const char *name)
{
	const char *zh = label_zh((enum label_set)set, name);

	if (zh != NULL) {
		html_text(h, zh);
		html_raw(h, " ");
	}
	html_raw(h, "<code>");
	html_text(h, name != NULL ? name : "—");
	html_raw(h, "</code>");
}

void
html_csrf(struct html *h, const struct web_req *req)
{
	html_raw(h, "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_attr(h, req->sess.csrf);
	html_raw(h, "\">");
}

void
html_findings(struct html *h, const struct errlist *errs)
{
	html_raw(h, "<ul class=\"findings\">");
	for (size_t i = 0; i < errlist_count(errs); i++) {
		const struct err_item *e = errlist_get(errs, i);

		html_raw(h, "<li><code>");
		html_text(h, e->path);
		html_raw(h, "</code>: <strong class=\"code\">");
		html_text(h, err_code_name(e->code));
		html_raw(h, "</strong>: ");
		html_text(h, e->message);
		html_raw(h, "</li>");
	}
	html_raw(h, "</ul>");
}

/* The style sheet: a file, since the CSP allows no inline style. */
static const char style[] =
    ":root{--ink:#1d2330;--muted:#5b6475;--line:#d9dde5;--bg:#f6f7f9;"
    "--accent:#0b5cad;--ok:#1d7a38;--bad:#a32020}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:16px/1.5 system-ui,\"Noto Sans CJK SC\","
    "\"Microsoft YaHei\",sans-serif;color:var(--ink);background:var(--bg)}\n"
    "header{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center;"
    "padding:.6rem 1rem;background:#fff;border-bottom:1px solid var(--line)}\n"
    ".brand{font-weight:700;color:var(--ink);text-decoration:none}\n"
    "nav{display:flex;gap:1rem;flex-wrap:wrap}\n"
    "nav a{color:var(--accent);text-decoration:none}\n"
    ".who{margin-left:auto;display:flex;gap:.6rem;align-items:center;"
    "flex-wrap:wrap;color:var(--muted)}\n"
    ".account{font-weight:600;color:var(--ink)}\n"
    "main{max-width:1100px;margin:0 auto;padding:1rem}\n"
    "h1{font-size:1.4rem;margin:.4rem 0 1rem}\n"
    "h2{font-size:1.1rem;margin:1.6rem 0 .6rem;border-bottom:1px solid "
    "var(--line);padding-bottom:.2rem}\n"
    ".en{color:var(--muted);font-weight:400;font-size:.88em}\n"
    "code{font-size:.85em;background:#eef1f5;padding:0 .25em;"
    "border-radius:3px}\n"
    "table{width:100%;border-collapse:collapse;background:#fff}\n"
    "th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid "
    "var(--line);vertical-align:top}\n"
    "th{font-size:.9rem;color:var(--muted);font-weight:600}\n"
    ".scroll{overflow-x:auto}\n"
    "dl.fields{display:grid;grid-template-columns:minmax(8rem,14rem) 1fr;"
    "gap:.25rem 1rem;background:#fff;padding:.8rem;margin:0;"
    "border:1px solid var(--line)}\n"
    "dl.fields dt{color:var(--muted)}\n"
    "dl.fields dd{margin:0;overflow-wrap:anywhere}\n"
    ".counts{display:flex;flex-wrap:wrap;gap:.6rem;padding:0;"
    "list-style:none}\n"
    ".counts li{background:#fff;border:1px solid var(--line);"
    "padding:.4rem .7rem;border-radius:4px}\n"
    ".counts strong{font-size:1.2rem;margin-right:.3rem}\n"
    ".photos{display:flex;flex-wrap:wrap;gap:.8rem}\n"
    ".photos figure{margin:0;background:#fff;border:1px solid var(--line);"
    "padding:.4rem;max-width:220px}\n"
    ".photos img{display:block;max-width:200px;max-height:200px;"
    "height:auto}\n"
    ".photos figcaption{font-size:.85rem;color:var(--muted);"
    "overflow-wrap:anywhere}\n"
    "form.action{background:#fff;border:1px solid var(--line);"
    "padding:.8rem;margin:.8rem 0}\n"
    "form.inline{display:inline;margin:0}\n"
    "details{background:#fff;border:1px solid var(--line);"
    "padding:.6rem .8rem;margin:.8rem 0}\n"
    "details form.action{border:0;padding:0}\n"
    "summary{cursor:pointer;font-weight:600}\n"
    "label{display:block;margin:.5rem 0 .2rem}\n"
    "label.check{display:flex;gap:.4rem;align-items:baseline}\n"
    "input[type=text],input[type=password],textarea,select{width:100%;"
    "max-width:32rem;padding:.45rem;font:inherit;border:1px solid "
    "var(--line);border-radius:4px}\n"
    "input[type=file]{max-width:100%}\n"
    "textarea{min-height:4rem}\n"
    "button{font:inherit;padding:.45rem 1rem;border:1px solid "
    "var(--accent);background:var(--accent);color:#fff;border-radius:4px;"
    "cursor:pointer;margin-top:.6rem}\n"
    ".who button{background:#fff;color:var(--accent);margin:0;"
    "padding:.2rem .6rem}\n"
    "button.danger{background:var(--bad);border-color:var(--bad)}\n"
    "button .en{color:inherit;opacity:.85}\n"
    ".banner{padding:.7rem 1rem;margin:0 0 1rem;border-radius:4px;"
    "background:#e8f4ec;border:1px solid #b9dcc4}\n"
    ".banner.refused{background:#fbeaea;border-color:#e4b5b5}\n"
    ".findings{margin:.4rem 0;padding-left:1.2rem}\n"
    ".code{font-family:monospace}\n"
    ".state{white-space:nowrap}\n"
    ".login{max-width:24rem;margin:2rem auto;background:#fff;"
    "border:1px solid var(--line);padding:1.2rem}\n"
    ".muted{color:var(--muted)}\n"
    "footer{text-align:center;color:var(--muted);font-size:.8rem;"
    "padding:2rem 0}\n"
    "@media (max-width:640px){dl.fields{grid-template-columns:1fr}"
    "dl.fields dt{font-size:.85rem;margin-top:.4rem}"
    "th,td{padding:.35rem}main{padding:.6rem}"
    ".hide-narrow{display:none}}\n";

void
page_style(struct web_req *req, struct web_resp *resp)
{
	(void)req;
	resp->status = 200;
	resp->ctype = "text/css; charset=utf-8";
	resp->body = xstrdup(style);
	resp->len = sizeof(style) - 1;
	resp->cache = 1;
}
