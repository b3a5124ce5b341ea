/*
 * web_int: what the files of web/ share — the server, one request and
 * its answer, the form a POST sent, and the pages' entry points.
 */
#ifndef BEIAND_WEB_INT_H
#define BEIAND_WEB_INT_H

#include <netinet/in.h>

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include "store/accounts.h"
#include "store/console.h"
#include "web/html.h"
#include "web/route.h"

struct config;
struct store;
struct web_view;
struct web_throttle;

#define WEB_SESSION_COOKIE "beiand_session"
#define WEB_LOGIN_COOKIE "beiand_login"
#define WEB_FORM_FIELDS_MAX 256
#define WEB_ORIGIN_SIZE INET6_ADDRSTRLEN

/* The server: one per process, shared by the request threads. */
struct web {
	const struct config *cf;
	char *db_path;
	int tls;                 /* served over TLS */
	int secure_cookies;      /* TLS, or base_url https */
	unsigned char proxy[16]; /* trusted_proxy as an IPv6 address */
	int has_proxy;
	time_t touch;            /* a session's "seen" is written this often */
	struct web_throttle *throttle;
	struct web_view *view;
	pthread_key_t store_key; /* each thread's connection to the store */
};

/* One field of a POST body: text, or a file (filename set). */
struct web_field {
	char *name, *filename;
	unsigned char *data;
	size_t len;
};

struct web_form {
	struct web_field *f;
	size_t n, cap;
	size_t total;        /* bytes of the body so far */
	int too_large;       /* over request_max: the rest was dropped */
	int bad;             /* too many fields, or a body that is no form */
};

/*
 * A text field: NULL when absent, or when it is not valid UTF-8 or holds
 * a control character other than tab, CR and LF (a person typed it).
 */
const char *web_form_text(const struct web_form *fm, const char *name);
/* A file field with at least one byte, or NULL. */
const struct web_field *web_form_file(const struct web_form *fm,
    const char *name);
void web_form_clear(struct web_form *fm);

struct web_req {
	struct web *w;
	struct store *st;            /* this thread's */
	const char *method, *path;
	struct web_route_match rm;
	char origin[WEB_ORIGIN_SIZE]; /* the client's address */
	int https;                   /* the client came over HTTPS */
	const char *cookie_session, *cookie_login;
	struct web_form *form;
	/* with ROUTE_SESSION */
	struct store_session sess;
	int authed;
	struct store_role role;
	struct store_scope scope;    /* what the role may see */
	long page;                   /* ?page=N of a list (1, the first) */
	time_t now;
};

struct web_resp {
	int status;
	const char *ctype;           /* NULL: text/html; charset=utf-8 */
	char *body;                  /* malloc'd */
	size_t len;
	char *location;              /* a redirect's target (malloc'd) */
	char *cookies[3];            /* Set-Cookie values (malloc'd) */
	size_t ncookies;
	int personal;                /* no-store: a page with personal data */
	int file;                    /* a stored file: no scripts, no frames */
	char *disposition;           /* Content-Disposition (malloc'd) */
	int cache;                   /* may be cached (the style sheet) */
};

/* ---- web.c ----------------------------------------------------------------- */

/* The store of the calling thread, opened at its first request; NULL
 * (logged) when it cannot be opened. */
struct store *web_store(struct web *w);

/* ---- http.c: the server's side of HTTP (libmicrohttpd) ---------------------- */

struct MHD_Daemon;
/* Start serving on the bound socket fd; NULL (logged) on failure. */
struct MHD_Daemon *web_http_start(struct web *w, int fd, int family,
    const char *cert_pem, const char *key_pem);
void web_http_stop(struct MHD_Daemon *d);

/* ---- pages.c: the frame every page shares, and the simple answers ---------- */

/* <html> … the header, the navigation for req's role, <main>. */
void page_begin(struct html *h, const struct web_req *req,
    const char *title_zh, const char *title_en);
/* </main> … and the page into resp (status, personal data). */
void page_end(struct html *h, struct web_resp *resp, int status);
/* A page that says one thing: 404, 400, 403, 413, 500 … */
void page_status(const struct web_req *req, struct web_resp *resp,
    int status, const char *zh, const char *en);
/* 503: the store failed (logged with its message). */
void page_store_unavailable(const struct web_req *req, struct web_resp *resp);
/* 303 to location. */
void page_redirect(struct web_resp *resp, const char *location);
/* Times as people read them: "2026-11-28 10:00" (CST) and an age. */
void html_time(struct html *h, time_t t);
void html_age(struct html *h, time_t now, time_t t);
/* A label with its interface name beside it: 首次备案 <code>firstFiling</code>. */
void html_label(struct html *h, int set, const char *name);
/* A hidden csrf field with the session's token. */
void html_csrf(struct html *h, const struct web_req *req);
/* The findings of a refusal, as the mails show them: path: CODE: message. */
struct errlist;
void html_findings(struct html *h, const struct errlist *errs);
void page_style(struct web_req *req, struct web_resp *resp);

/* ---- login.c --------------------------------------------------------------- */

void page_login(struct web_req *req, struct web_resp *resp);
void page_login_post(struct web_req *req, struct web_resp *resp);
void page_logout(struct web_req *req, struct web_resp *resp);
/*
 * The session of req's cookie: 0 and req->sess, role and scope set; 1
 * none (or idle, or the account disabled); -1 a store error.
 */
int web_session_load(struct web_req *req);

/* ---- queue.c, filing.c, act.c, ops.c ----------------------------------------- */

void page_queue(struct web_req *req, struct web_resp *resp);
void page_filing(struct web_req *req, struct web_resp *resp);
void page_file(struct web_req *req, struct web_resp *resp);
/*
 * The filing page, with a banner above it: the outcome of an action
 * (errs NULL or without errors: done, else the refusal).  status 200 or
 * 409.
 */
void page_filing_result(struct web_req *req, struct web_resp *resp,
    const char *done_zh, const char *done_en, const struct errlist *errs);
void act_verify(struct web_req *req, struct web_resp *resp);
void act_return(struct web_req *req, struct web_resp *resp);
void act_handback(struct web_req *req, struct web_resp *resp);
void act_approve(struct web_req *req, struct web_resp *resp);
void act_reject(struct web_req *req, struct web_resp *resp);
void page_quarantine(struct web_req *req, struct web_resp *resp);
void act_requeue(struct web_req *req, struct web_resp *resp);
void page_outbox(struct web_req *req, struct web_resp *resp);
void act_retry(struct web_req *req, struct web_resp *resp);


#endif
