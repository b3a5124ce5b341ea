/*
 * route: which page a request names (pure: method and path in, a page
 * and its parameters out), and what the page needs before it runs.
 *
 * The path is the one the client sent, taken as hostile: it matches a
 * route exactly, or it is a 404; a parameter must have its exact form
 * (a tracking id, 64 lower-case hex digits) or it is a 404 too, so no
 * page ever sees a parameter it did not ask for.
 */
#ifndef BEIAND_WEB_ROUTE_H
#define BEIAND_WEB_ROUTE_H

enum web_page {
	PAGE_LOGIN,        /* GET /login */
	PAGE_LOGIN_POST,   /* POST /login */
	PAGE_LOGOUT,       /* POST /logout */
	PAGE_QUEUE,        /* GET / */
	PAGE_FILING,       /* GET /filings/ID */
	PAGE_FILE,         /* GET /filings/ID/files/HEX */
	PAGE_VERIFY,       /* POST /filings/ID/verify: pass */
	PAGE_RETURN,       /* POST /filings/ID/return: to the owner */
	PAGE_HANDBACK,     /* POST /filings/ID/handback */
	PAGE_APPROVE,      /* POST /filings/ID/approve */
	PAGE_REJECT,       /* POST /filings/ID/reject */
	PAGE_QUARANTINE,   /* GET /quarantine */
	PAGE_REQUEUE,      /* POST /quarantine/requeue */
	PAGE_OUTBOX,       /* GET /outbox */
	PAGE_RETRY,        /* POST /outbox/retry */
	PAGE_STYLE,        /* GET /static/console.css */
};

/* What a page needs (bits of web_route_match.needs). */
#define ROUTE_SESSION  0x01 /* a live session (else: to /login) */
#define ROUTE_CSRF     0x02 /* the form's csrf is the session's */
#define ROUTE_PROVIDER 0x04 /* role provider:CODE */
#define ROUTE_BUREAU   0x08 /* role bureau:NN */
#define ROUTE_OPERATOR 0x10 /* role operator */
#define ROUTE_FORM     0x20 /* a POST body to read (form fields, files) */
#define ROUTE_ANY_ROLE (ROUTE_PROVIDER | ROUTE_BUREAU | ROUTE_OPERATOR)

struct web_route_match {
	enum web_page page;
	unsigned needs;
	char id[16];  /* the tracking id of /filings/ID… */
	char hex[65]; /* the digest of …/files/HEX */
};

/*
 * Match method and path: 0 and *m; 404 when no route has the path (or a
 * parameter has not its form); 405 when a route has it for another
 * method.
 */
int web_route(const char *method, const char *path, struct web_route_match *m);

/* 1 when s is a tracking id, BA-YYYY-NNNNNN(N). */
int web_tracking_id_valid(const char *s);

#endif
