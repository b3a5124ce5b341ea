/*
 * test_web_route: which page a request names (web/route.c), what each
 * needs, and that a path or parameter not of its exact form is a 404.
 */
#include <string.h>

#include "web/route.h"
#include "unit.h"

#define HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

UNIT_TEST(web_routes)
{
	static const struct {
		const char *method, *path;
		int rc;
		enum web_page page;
		unsigned needs; /* bits that must be set */
		const char *id;
	} rows[] = {
		{ "GET", "/login", 0, PAGE_LOGIN, 0, "" },
		{ "POST", "/login", 0, PAGE_LOGIN_POST, ROUTE_FORM, "" },
		{ "POST", "/logout", 0, PAGE_LOGOUT, ROUTE_SESSION | ROUTE_CSRF, "" },
		{ "GET", "/", 0, PAGE_QUEUE, ROUTE_SESSION, "" },
		{ "GET", "/filings/BA-2026-000123", 0, PAGE_FILING, ROUTE_SESSION,
		    "BA-2026-000123" },
		{ "GET", "/filings/BA-2026-1000000", 0, PAGE_FILING,
		    ROUTE_SESSION, "BA-2026-1000000" },
		{ "GET", "/filings/BA-2026-000123/files/" HEX, 0, PAGE_FILE,
		    ROUTE_SESSION, "BA-2026-000123" },
		{ "POST", "/filings/BA-2026-000123/verify", 0, PAGE_VERIFY,
		    ROUTE_SESSION | ROUTE_CSRF | ROUTE_PROVIDER, "BA-2026-000123" },
		{ "POST", "/filings/BA-2026-000123/return", 0, PAGE_RETURN,
		    ROUTE_CSRF | ROUTE_PROVIDER, "BA-2026-000123" },
		{ "POST", "/filings/BA-2026-000123/handback", 0, PAGE_HANDBACK,
		    ROUTE_CSRF | ROUTE_PROVIDER, "BA-2026-000123" },
		{ "POST", "/filings/BA-2026-000123/approve", 0, PAGE_APPROVE,
		    ROUTE_CSRF | ROUTE_BUREAU, "BA-2026-000123" },
		{ "POST", "/filings/BA-2026-000123/reject", 0, PAGE_REJECT,
		    ROUTE_CSRF | ROUTE_BUREAU, "BA-2026-000123" },
		{ "GET", "/quarantine", 0, PAGE_QUARANTINE, ROUTE_OPERATOR, "" },
		{ "POST", "/quarantine/requeue", 0, PAGE_REQUEUE,
		    ROUTE_CSRF | ROUTE_OPERATOR, "" },
		{ "GET", "/outbox", 0, PAGE_OUTBOX, ROUTE_OPERATOR, "" },
		{ "POST", "/outbox/retry", 0, PAGE_RETRY,
		    ROUTE_CSRF | ROUTE_OPERATOR, "" },
		{ "GET", "/static/console.css", 0, PAGE_STYLE, 0, "" },
		/* another method on a known path */
		{ "POST", "/", 405, 0, 0, NULL },
		{ "GET", "/filings/BA-2026-000123/approve", 405, 0, 0, NULL },
		{ "DELETE", "/filings/BA-2026-000123", 405, 0, 0, NULL },
		{ "HEAD", "/login", 405, 0, 0, NULL },
		/* not a route, or a parameter not of its form */
		{ "GET", "/filings", 404, 0, 0, NULL },
		{ "GET", "/filings/", 404, 0, 0, NULL },
		{ "GET", "/filings/BA-2026-00012", 404, 0, 0, NULL },
		{ "GET", "/filings/BA-2026-00000000", 404, 0, 0, NULL },
		{ "GET", "/filings/ba-2026-000123", 404, 0, 0, NULL },
		{ "GET", "/filings/BA-2026-000123/", 404, 0, 0, NULL },
		{ "GET", "/filings/../etc/passwd", 404, 0, 0, NULL },
		{ "GET", "/filings/BA-2026-000123/files/" HEX "0", 404, 0, 0, NULL },
		{ "GET", "/filings/BA-2026-000123/files/ABCDEF", 404, 0, 0, NULL },
		{ "GET", "/filings/BA-2026-000123/files/"
		    "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		    404, 0, 0, NULL },
		{ "GET", "/filings/BA-2026-000123/files/../../beiand.db", 404, 0,
		    0, NULL },
		{ "GET", "//login", 404, 0, 0, NULL },
		{ "GET", "/login/", 404, 0, 0, NULL },
		{ "GET", "/static/../beiand.conf", 404, 0, 0, NULL },
		{ "GET", "", 404, 0, 0, NULL },
		{ "GET", "/LOGIN", 404, 0, 0, NULL },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct web_route_match m;
		int rc;

		memset(&m, 0x55, sizeof(m));
		rc = web_route(rows[i].method, rows[i].path, &m);
		CHECKM(rc == rows[i].rc, "%s %s: %d", rows[i].method,
		    rows[i].path, rc);
		if (rc != 0 || rows[i].rc != 0)
			continue;
		CHECKM(m.page == rows[i].page, "%s %s", rows[i].method,
		    rows[i].path);
		CHECKM((m.needs & rows[i].needs) == rows[i].needs,
		    "%s %s: needs %#x", rows[i].method, rows[i].path, m.needs);
		CHECKM(strcmp(m.id, rows[i].id) == 0, "%s: id %s",
		    rows[i].path, m.id);
	}
}

/* Every page that changes something asks for a session and its CSRF
 * token; every page but the login, its form and the style sheet asks for
 * a session. */
UNIT_TEST(web_routes_guarded)
{
	static const char *const paths[] = {
		"/", "/filings/BA-2026-000001", "/filings/BA-2026-000001/files/"
		HEX, "/filings/BA-2026-000001/verify",
		"/filings/BA-2026-000001/return",
		"/filings/BA-2026-000001/handback",
		"/filings/BA-2026-000001/approve",
		"/filings/BA-2026-000001/reject", "/quarantine",
		"/quarantine/requeue", "/outbox", "/outbox/retry", "/logout",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		for (int post = 0; post < 2; post++) {
			struct web_route_match m;

			if (web_route(post ? "POST" : "GET", paths[i], &m) != 0)
				continue;
			CHECKM(m.needs & ROUTE_SESSION, "%s", paths[i]);
			CHECKM(!post || (m.needs & ROUTE_CSRF), "%s", paths[i]);
			CHECKM(m.needs & (ROUTE_PROVIDER | ROUTE_BUREAU |
			    ROUTE_OPERATOR), "%s: no role", paths[i]);
		}
	}
	CHECK(web_tracking_id_valid("BA-2026-000001"));
	CHECK(!web_tracking_id_valid("BA-2026-00001"));
	CHECK(!web_tracking_id_valid("BA-2026_000001"));
}
