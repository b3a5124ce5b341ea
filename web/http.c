/*
 * http: the console's side of HTTP, on libmicrohttpd — a request read
 * and bounded, routed, checked (session, role, CSRF) and answered with
 * the headers every answer carries.
 *
 * Hostile input: everything a client sends — the path, the headers, the
 * cookies, the body.  A body is read only for a route that takes a form,
 * only as urlencoded or multipart/form-data, and only up to request_max
 * (a Content-Length above it is refused before a byte is read; a body
 * that grows past it is dropped and answered 413); at most
 * WEB_FORM_FIELDS_MAX fields.  X-Forwarded-For and X-Forwarded-Proto
 * are believed only from trusted_proxy, and only as an IP address and
 * "https".  Every answer says: no framing, no sniffing, scripts and
 * everything else from this origin only; pages and files that show a
 * person's data are never stored by a cache.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>
#include <sodium.h>

#include "common/config.h"
#include "lib/log.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"
#include "web/session.h"
#include "web/web_int.h"

#define POST_BUFFER 65536

/* What one connection's request has gathered between the calls. */
struct conn {
	struct web_route_match rm;
	int route;                 /* web_route()'s answer */
	int early;                 /* an answer is due before the body: its status */
	struct web_form form;
	struct MHD_PostProcessor *pp;
};

/* ---- the form ---------------------------------------------------------------- */

void
web_form_clear(struct web_form *fm)
{
	for (size_t i = 0; i < fm->n; i++) {
		free(fm->f[i].name);
		free(fm->f[i].filename);
		if (fm->f[i].data != NULL)
			sodium_memzero(fm->f[i].data, fm->f[i].len);
		free(fm->f[i].data);
	}
	free(fm->f);
	memset(fm, 0, sizeof(*fm));
}

static int
text_ok(const unsigned char *s, size_t n)
{
	if (!utf8_valid(s, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((s[i] < 0x20 && s[i] != '\t' && s[i] != '\r' &&
		    s[i] != '\n') || s[i] == 0x7f)
			return 0;
	return 1;
}

const char *
web_form_text(const struct web_form *fm, const char *name)
{
	for (size_t i = 0; fm != NULL && i < fm->n; i++) {
		const struct web_field *f = &fm->f[i];

		if (strcmp(f->name, name) != 0 || f->filename != NULL)
			continue;
		if (f->data == NULL)
			return "";
		return text_ok(f->data, f->len) ? (const char *)f->data : NULL;
	}
	return NULL;
}

const struct web_field *
web_form_file(const struct web_form *fm, const char *name)
{
	for (size_t i = 0; fm != NULL && i < fm->n; i++)
		if (strcmp(fm->f[i].name, name) == 0 &&
		    fm->f[i].filename != NULL && fm->f[i].len > 0)
			return &fm->f[i];
	return NULL;
}

/* The post processor's pieces: appended to the field they belong to. */
static enum MHD_Result
form_piece(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *filename, const char *content_type,
    const char *transfer_encoding, const char *data, uint64_t off,
    size_t size)
{
	struct conn *c = cls;
	struct web_form *fm = &c->form;
	struct web_field *f = NULL;

	(void)kind;
	(void)content_type;
	(void)transfer_encoding;
	if (key == NULL || strlen(key) > 64)
		return MHD_YES; /* not a field any page asks for */
	/* a new field starts at offset 0; a piece after it continues it */
	if (off > 0 && fm->n > 0 && strcmp(fm->f[fm->n - 1].name, key) == 0)
		f = &fm->f[fm->n - 1];
	if (f == NULL) {
		if (fm->n >= WEB_FORM_FIELDS_MAX) {
			fm->bad = 1;
			return MHD_NO;
		}
		xgrow(&fm->f, &fm->cap, fm->n, sizeof(*fm->f));
		f = &fm->f[fm->n++];
		memset(f, 0, sizeof(*f));
		f->name = xstrdup(key);
		if (filename != NULL)
			f->filename = xstrndup(filename, strnlen(filename, 255));
	}
	if (size > 0) {
		/* the body as a whole is bounded by request_max already */
		f->data = xreallocarray(f->data, f->len + size + 1, 1);
		memcpy(f->data + f->len, data, size);
		f->len += size;
		f->data[f->len] = '\0';
	}
	return MHD_YES;
}

/* ---- the client --------------------------------------------------------------- */

/* addr as 16 bytes (IPv4 as ::ffff:a.b.c.d) */
static int
addr16(const struct sockaddr *sa, unsigned char out[16])
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

/* The last address of an X-Forwarded-For list (what the proxy saw), if
 * it is an address. */
static int
forwarded_for(const char *xff, char *out, size_t size)
{
	const char *last = strrchr(xff, ',');
	char buf[WEB_ORIGIN_SIZE + 8];
	unsigned char a[16];
	size_t n;

	last = last != NULL ? last + 1 : xff;
	while (*last == ' ' || *last == '\t')
		last++;
	n = strcspn(last, " \t");
	if (n == 0 || n >= sizeof(buf) || n >= size)
		return -1;
	memcpy(buf, last, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, a) != 1 && inet_pton(AF_INET6, buf, a) != 1)
		return -1;
	memcpy(out, buf, n + 1);
	return 0;
}

static void
client_learn(struct web *w, struct MHD_Connection *mc, struct web_req *req)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	unsigned char a[16];
	const char *v;

	snprintf(req->origin, sizeof(req->origin), "unknown");
	req->https = w->tls;
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (getnameinfo(sa, sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
	    req->origin, sizeof(req->origin), NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(req->origin, sizeof(req->origin), "unknown");
	/* an IPv4 client of a dual-stack socket, as people write it */
	if (strncmp(req->origin, "::ffff:", 7) == 0 &&
	    strchr(req->origin + 7, ':') == NULL)
		memmove(req->origin, req->origin + 7, strlen(req->origin + 7) + 1);
	if (!w->has_proxy || addr16(sa, a) == -1 ||
	    memcmp(a, w->proxy, 16) != 0)
		return;
	if ((v = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
	    "X-Forwarded-For")) != NULL)
		(void)forwarded_for(v, req->origin, sizeof(req->origin));
	if ((v = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
	    "X-Forwarded-Proto")) != NULL && strcmp(v, "https") == 0)
		req->https = 1;
}

/* ---- answers ------------------------------------------------------------------ */

static enum MHD_Result
send_resp(struct web *w, struct MHD_Connection *mc, const struct web_req *req,
    struct web_resp *r)
{
	struct MHD_Response *m;
	enum MHD_Result rc;

	if (r->body == NULL) {
		r->body = xstrdup("");
		r->len = 0;
	}
	m = MHD_create_response_from_buffer(r->len, r->body,
	    MHD_RESPMEM_MUST_FREE);
	if (m == NULL) {
		free(r->body);
		r->body = NULL;
		return MHD_NO;
	}
	r->body = NULL; /* transferred */
	MHD_add_response_header(m, "Content-Type", r->ctype != NULL ? r->ctype :
	    "text/html; charset=utf-8");
	MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(m, "X-Frame-Options", "DENY");
	MHD_add_response_header(m, "Referrer-Policy", "same-origin");
	if (r->file)
		/* a stored file is shown, never run: no scripts, no forms */
		MHD_add_response_header(m, "Content-Security-Policy",
		    "default-src 'none'; img-src 'self'; sandbox");
	else
		MHD_add_response_header(m, "Content-Security-Policy",
		    "default-src 'self'; form-action 'self'; "
		    "frame-ancestors 'none'; base-uri 'none'");
	MHD_add_response_header(m, "Cache-Control", r->cache ?
	    "public, max-age=3600" : "no-store");
	if (r->personal)
		MHD_add_response_header(m, "Pragma", "no-cache");
	if (w->tls)
		MHD_add_response_header(m, "Strict-Transport-Security",
		    "max-age=31536000");
	if (r->disposition != NULL)
		MHD_add_response_header(m, "Content-Disposition",
		    r->disposition);
	if (r->location != NULL)
		MHD_add_response_header(m, "Location", r->location);
	for (size_t i = 0; i < r->ncookies; i++)
		MHD_add_response_header(m, "Set-Cookie", r->cookies[i]);
	rc = MHD_queue_response(mc, (unsigned)r->status, m);
	MHD_destroy_response(m);
	(void)req;
	return rc;
}

static void
resp_clear(struct web_resp *r)
{
	free(r->body);
	free(r->location);
	free(r->disposition);
	for (size_t i = 0; i < r->ncookies; i++)
		free(r->cookies[i]);
	memset(r, 0, sizeof(*r));
}

/* ---- the dispatch -------------------------------------------------------------- */

static const struct {
	enum web_page page;
	void (*fn)(struct web_req *, struct web_resp *);
} pages[] = {
	{ PAGE_LOGIN, page_login },
	{ PAGE_LOGIN_POST, page_login_post },
	{ PAGE_LOGOUT, page_logout },
	{ PAGE_QUEUE, page_queue },
	{ PAGE_FILING, page_filing },
	{ PAGE_FILE, page_file },
	{ PAGE_VERIFY, act_verify },
	{ PAGE_RETURN, act_return },
	{ PAGE_HANDBACK, act_handback },
	{ PAGE_APPROVE, act_approve },
	{ PAGE_REJECT, act_reject },
	{ PAGE_QUARANTINE, page_quarantine },
	{ PAGE_REQUEUE, act_requeue },
	{ PAGE_OUTBOX, page_outbox },
	{ PAGE_RETRY, act_retry },
	{ PAGE_STYLE, page_style },
};

/* Does the role of req satisfy needs? */
static int
role_allowed(const struct web_req *req, unsigned needs)
{
	switch (req->role.kind) {
	case STORE_ROLE_PROVIDER:
		return (needs & ROUTE_PROVIDER) != 0;
	case STORE_ROLE_BUREAU:
		return (needs & ROUTE_BUREAU) != 0;
	case STORE_ROLE_OPERATOR:
		return (needs & ROUTE_OPERATOR) != 0;
	}
	return 0;
}

static void
dispatch(struct web_req *req, struct web_resp *resp)
{
	unsigned needs = req->rm.needs;
	int rc;

	if (needs & ROUTE_SESSION) {
		if ((rc = web_session_load(req)) == -1) {
			page_store_unavailable(req, resp);
			return;
		}
		if (rc == 1) {
			/* no session, or it ended: nothing is done, and the
			 * login page says why */
			page_redirect(resp, "/login");
			return;
		}
		if ((needs & ROUTE_ANY_ROLE) && !role_allowed(req, needs)) {
			/* a page of another role: as if it did not exist */
			page_status(req, resp, 404, "没有这个页面",
			    "No such page");
			return;
		}
	}
	if ((needs & ROUTE_CSRF) && !web_token_eq(web_form_text(req->form,
	    "csrf"), req->sess.csrf)) {
		log_warn("web: account=%s origin=%s path=%s refused: the form's "
		    "csrf token is missing or wrong", req->authed ?
		    req->sess.account->name : "-", req->origin, req->path);
		page_status(req, resp, 403, "表单已失效：请重新打开页面后再提交",
		    "The form is no longer valid: open the page again and "
		    "resend");
		return;
	}
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		if (pages[i].page == req->rm.page) {
			pages[i].fn(req, resp);
			return;
		}
	page_status(req, resp, 404, "没有这个页面", "No such page");
}

/* ?page=N: 1 to 100000, else 1 */
static long
page_arg(const char *v)
{
	long n = 0;

	if (v == NULL || strlen(v) > 6 || v[strspn(v, "0123456789")] != '\0')
		return 1;
	n = strtol(v, NULL, 10);
	return n >= 1 && n <= 100000 ? n : 1;
}

static enum MHD_Result
answer(struct web *w, struct MHD_Connection *mc, struct conn *c,
    const char *url, const char *method)
{
	struct web_req req;
	struct web_resp resp;
	enum MHD_Result rc;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.w = w;
	req.method = method;
	req.path = url;
	req.rm = c->rm;
	req.form = &c->form;
	req.now = time(NULL);
	client_learn(w, mc, &req);
	req.cookie_session = MHD_lookup_connection_value(mc, MHD_COOKIE_KIND,
	    WEB_SESSION_COOKIE);
	req.cookie_login = MHD_lookup_connection_value(mc, MHD_COOKIE_KIND,
	    WEB_LOGIN_COOKIE);
	req.page = page_arg(MHD_lookup_connection_value(mc,
	    MHD_GET_ARGUMENT_KIND, "page"));
	if (c->early != 0 || c->route != 0) {
		int st = c->early != 0 ? c->early : c->route;

		page_status(&req, &resp, st, st == 413 ?
		    "请求过大（照片请小于限制）" : st == 405 ?
		    "不支持此方法" : st == 400 ? "无法读取此表单" :
		    "没有这个页面", st == 413 ?
		    "The request is too large (photos must stay within the "
		    "limit)" : st == 405 ? "Method not allowed" : st == 400 ?
		    "The form cannot be read" : "No such page");
	} else if (c->form.too_large) {
		page_status(&req, &resp, 413, "请求过大（照片请小于限制）",
		    "The request is too large (photos must stay within the "
		    "limit)");
	} else if (c->form.bad) {
		page_status(&req, &resp, 400, "无法读取此表单",
		    "The form cannot be read");
	} else if ((req.st = web_store(w)) == NULL &&
	    c->rm.page != PAGE_STYLE && c->rm.page != PAGE_LOGIN) {
		page_store_unavailable(&req, &resp);
	} else
		dispatch(&req, &resp);
	if (resp.status == 0)
		resp.status = 200;
	rc = send_resp(w, mc, &req, &resp);
	resp_clear(&resp);
	store_session_clear(&req.sess);
	return rc;
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct web *w = cls;
	struct conn *c = *con_cls;

	(void)version;
	if (c == NULL) {
		const char *cl;

		c = xcalloc(1, sizeof(*c));
		*con_cls = c;
		c->route = web_route(method, url, &c->rm);
		if (c->route == 0 && (c->rm.needs & ROUTE_FORM)) {
			cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
			    MHD_HTTP_HEADER_CONTENT_LENGTH);
			if (cl != NULL && strtoull(cl, NULL, 10) >
			    w->cf->web_request_max)
				c->early = 413;
			else if ((c->pp = MHD_create_post_processor(mc,
			    POST_BUFFER, form_piece, c)) == NULL)
				c->early = 400; /* no form content type */
		}
		if (c->early == 413)
			/* answered now, the body never read */
			return answer(w, mc, c, url, method);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (c->pp == NULL || c->form.too_large || c->form.bad)
			return MHD_YES; /* not read: the answer says why */
		if (n > w->cf->web_request_max - c->form.total) {
			c->form.too_large = 1;
			return MHD_YES;
		}
		c->form.total += n;
		if (MHD_post_process(c->pp, upload_data, n) != MHD_YES)
			c->form.bad = 1;
		return MHD_YES;
	}
	return answer(w, mc, c, url, method);
}

static void
completed_cb(void *cls, struct MHD_Connection *mc, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn *c = *con_cls;

	(void)cls;
	(void)mc;
	(void)toe;
	if (c == NULL)
		return;
	if (c->pp != NULL)
		MHD_destroy_post_processor(c->pp);
	web_form_clear(&c->form);
	free(c);
	*con_cls = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_warn("web: http: %s", buf);
}

struct MHD_Daemon *
web_http_start(struct web *w, int fd, int family, const char *cert_pem,
    const char *key_pem)
{
	struct MHD_OptionItem opts[16];
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	size_t n = 0;
	struct MHD_Daemon *d;

	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cert_pem != NULL)
		flags |= MHD_USE_TLS;
#define OPT(o, v, p) (opts[n].option = (o), opts[n].value = (intptr_t)(v), \
	opts[n].ptr_value = (p), n++)
	OPT(MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL);
	OPT(MHD_OPTION_LISTEN_SOCKET, fd, NULL);
	OPT(MHD_OPTION_THREAD_POOL_SIZE, (unsigned)w->cf->web_threads, NULL);
	OPT(MHD_OPTION_CONNECTION_LIMIT, (unsigned)w->cf->web_connections_max,
	    NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, 60u, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)256 * 1024, NULL);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL);
	if (cert_pem != NULL) {
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cert_pem);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)key_pem);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0,
		    (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	d = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, w,
	    MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (d == NULL)
		log_err("web: the HTTP server did not start");
	return d;
}

void
web_http_stop(struct MHD_Daemon *d)
{
	if (d != NULL)
		MHD_stop_daemon(d);
}
