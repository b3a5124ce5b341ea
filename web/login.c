/*
 * login: the console's door — the login page, logging in and out, and
 * finding the session of a request.
 *
 * Hostile input: the name and password a form sends, the cookies.  The
 * login form is protected like every other (a random token in a cookie
 * of its own and in the form, compared in constant time), so no other
 * site can log a browser in.  Failures are counted per account and per
 * client address (session.h) and refused past login_fail_max within
 * login_fail_window; an unknown name, a disabled account and a wrong
 * password get the same answer in the same time.  The session id goes
 * only into an HttpOnly, SameSite=Strict cookie (Secure over HTTPS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/accounts.h"
#include "store/store.h"
#include "web/session.h"
#include "web/web_int.h"

int
web_session_load(struct web_req *req)
{
	struct web *w = req->w;
	int rc;

	if (req->cookie_session == NULL)
		return 1;
	rc = store_session_get(req->st, req->cookie_session, req->now,
	    (time_t)w->cf->web_session_idle, w->touch, &req->sess);
	if (rc != 0) {
		if (rc == -1)
			log_err("web: store: %s", store_errmsg(req->st));
		return rc;
	}
	if (store_role_parse(req->sess.account->role, &req->role) == -1) {
		log_err("web: account=%s has no role this program knows: %s",
		    req->sess.account->name, req->sess.account->role);
		store_session_clear(&req->sess);
		return 1;
	}
	req->authed = 1;
	req->scope.provider = req->role.kind == STORE_ROLE_PROVIDER ?
	    req->role.code : NULL;
	req->scope.province = req->role.kind == STORE_ROLE_BUREAU ?
	    req->role.code : NULL;
	return 0;
}

static void
cookie_add(struct web_resp *resp, char *c)
{
	if (resp->ncookies < sizeof(resp->cookies) / sizeof(resp->cookies[0]))
		resp->cookies[resp->ncookies++] = c;
	else
		free(c);
}

/* The login page, with a message (zh/en) when not NULL. */
static void
login_form(struct web_req *req, struct web_resp *resp, int status,
    const char *zh, const char *en, const char *username)
{
	struct html h;
	char token[65];

	web_token_new(token);
	cookie_add(resp, web_cookie(WEB_LOGIN_COOKIE, token, "/login",
	    req->w->secure_cookies || req->https, 3600));
	html_init(&h);
	page_begin(&h, NULL, "登录", "Log in");
	html_raw(&h, "<div class=\"login\">");
	if (zh != NULL) {
		html_raw(&h, "<p class=\"banner refused\" id=\"message\">");
		html_text(&h, zh);
		html_raw(&h, "<br><span class=\"en\">");
		html_text(&h, en);
		html_raw(&h, "</span></p>");
	}
	html_raw(&h, "<form method=\"post\" action=\"/login\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_attr(&h, token);
	html_raw(&h, "\"><label for=\"username\">用户名 <span class=\"en\">"
	    "Username</span></label><input type=\"text\" id=\"username\" "
	    "name=\"username\" autocomplete=\"username\" required "
	    "autofocus value=\"");
	html_attr(&h, username != NULL ? username : "");
	html_raw(&h, "\"><label for=\"password\">密码 <span class=\"en\">"
	    "Password</span></label><input type=\"password\" id=\"password\" "
	    "name=\"password\" autocomplete=\"current-password\" required>"
	    "<button type=\"submit\" id=\"login\">登录 <span class=\"en\">"
	    "Log in</span></button></form></div>");
	page_end(&h, resp, status);
}

void
page_login(struct web_req *req, struct web_resp *resp)
{
	int rc = req->st != NULL ? web_session_load(req) : 1;

	if (rc == 0) {
		page_redirect(resp, "/");
		return;
	}
	/* the session cookie a browser still sends may have ended */
	login_form(req, resp, 200, req->cookie_session != NULL ?
	    "会话已结束，请重新登录" : NULL, req->cookie_session != NULL ?
	    "The session has ended; log in again" : NULL, NULL);
	if (req->cookie_session != NULL)
		cookie_add(resp, web_cookie(WEB_SESSION_COOKIE, "", "/",
		    req->w->secure_cookies || req->https, 0));
}

void
page_login_post(struct web_req *req, struct web_resp *resp)
{
	struct web *w = req->w;
	struct store_account *a = NULL;
	const char *name = web_form_text(req->form, "username");
	const char *pw = web_form_text(req->form, "password");
	char akey[WEB_ORIGIN_SIZE + 8], ukey[STORE_ACCOUNT_NAME_MAX + 3];
	char sid[STORE_SESSION_ID_LEN + 1], csrf[STORE_CSRF_LEN + 1];
	char zh[128], en[128];
	time_t wait = 0, w2 = 0;
	int rc;

	if (!web_token_eq(web_form_text(req->form, "csrf"), req->cookie_login)) {
		login_form(req, resp, 403, "登录表单已过期，请重新登录",
		    "The login form has expired; log in again", name);
		return;
	}
	web_throttle_addr_key(req->origin, akey, sizeof(akey));
	snprintf(ukey, sizeof(ukey), "u:%.64s", name != NULL ? name : "");
	if (web_throttle_check(w->throttle, akey, req->now, &wait) == 1 ||
	    (name != NULL && web_throttle_check(w->throttle, ukey, req->now,
	    &w2) == 1)) {
		long m = (long)((wait > w2 ? wait : w2) + 59) / 60;

		log_warn("web: login refused account=%s origin=%s: too many "
		    "failed logins", name != NULL ? name : "-", req->origin);
		snprintf(zh, sizeof(zh), "登录失败次数过多，请 %ld 分钟后再试",
		    m);
		snprintf(en, sizeof(en), "Too many failed logins: try again "
		    "in %ld min", m);
		login_form(req, resp, 429, zh, en, name);
		return;
	}
	if (name == NULL || pw == NULL || !store_account_name_valid(name))
		rc = 1;
	else
		rc = store_account_login(req->st, name, pw, req->now, &a);
	if (rc == -1) {
		page_store_unavailable(req, resp);
		return;
	}
	if (rc == 1) {
		web_throttle_fail(w->throttle, akey, req->now);
		if (name != NULL && store_account_name_valid(name))
			web_throttle_fail(w->throttle, ukey, req->now);
		log_warn("web: login failed account=%s origin=%s",
		    name != NULL && store_account_name_valid(name) ? name :
		    "(not a name)", req->origin);
		login_form(req, resp, 401, "用户名或密码错误",
		    "Wrong username or password", name);
		return;
	}
	web_throttle_clear(w->throttle, ukey);
	rc = store_session_new(req->st, a->name, req->origin, req->now,
	    (time_t)w->cf->web_session_idle, sid, csrf);
	if (rc != 0) {
		store_account_free(a);
		page_store_unavailable(req, resp);
		return;
	}
	log_info("web: login account=%s role=%s origin=%s", a->name, a->role,
	    req->origin);
	cookie_add(resp, web_cookie(WEB_SESSION_COOKIE, sid, "/",
	    w->secure_cookies || req->https, -1));
	cookie_add(resp, web_cookie(WEB_LOGIN_COOKIE, "", "/login",
	    w->secure_cookies || req->https, 0));
	store_account_free(a);
	page_redirect(resp, "/");
}

void
page_logout(struct web_req *req, struct web_resp *resp)
{
	if (store_session_end(req->st, req->cookie_session) == -1)
		log_err("web: store: %s", store_errmsg(req->st));
	log_info("web: logout account=%s origin=%s", req->sess.account->name,
	    req->origin);
	cookie_add(resp, web_cookie(WEB_SESSION_COOKIE, "", "/",
	    req->w->secure_cookies || req->https, 0));
	page_redirect(resp, "/login");
}
