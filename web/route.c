/*
 * route: the console's routing table (route.h).
 */
#include <string.h>

#include "lib/compat.h"
#include "web/route.h"

#define LOGGED (ROUTE_SESSION | ROUTE_ANY_ROLE)
#define ACTION (ROUTE_SESSION | ROUTE_CSRF | ROUTE_FORM)

static const struct route {
	const char *method;
	const char *pattern; /* {id} a tracking id, {hex} a digest */
	enum web_page page;
	unsigned needs;
} routes[] = {
	{ "GET", "/login", PAGE_LOGIN, 0 },
	{ "POST", "/login", PAGE_LOGIN_POST, ROUTE_FORM },
	{ "POST", "/logout", PAGE_LOGOUT, ACTION | ROUTE_ANY_ROLE },
	{ "GET", "/", PAGE_QUEUE, LOGGED },
	{ "GET", "/filings/{id}", PAGE_FILING, LOGGED },
	{ "GET", "/filings/{id}/files/{hex}", PAGE_FILE, LOGGED },
	{ "POST", "/filings/{id}/verify", PAGE_VERIFY, ACTION | ROUTE_PROVIDER },
	{ "POST", "/filings/{id}/return", PAGE_RETURN, ACTION | ROUTE_PROVIDER },
	{ "POST", "/filings/{id}/handback", PAGE_HANDBACK,
	    ACTION | ROUTE_PROVIDER },
	{ "POST", "/filings/{id}/approve", PAGE_APPROVE, ACTION | ROUTE_BUREAU },
	{ "POST", "/filings/{id}/reject", PAGE_REJECT, ACTION | ROUTE_BUREAU },
	{ "GET", "/quarantine", PAGE_QUARANTINE, ROUTE_SESSION | ROUTE_OPERATOR },
	{ "POST", "/quarantine/requeue", PAGE_REQUEUE, ACTION | ROUTE_OPERATOR },
	{ "GET", "/outbox", PAGE_OUTBOX, ROUTE_SESSION | ROUTE_OPERATOR },
	{ "POST", "/outbox/retry", PAGE_RETRY, ACTION | ROUTE_OPERATOR },
	{ "GET", "/static/console.css", PAGE_STYLE, 0 },
};

static int
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int
web_tracking_id_valid(const char *s)
{
	size_t n = strlen(s);

	return (n == 14 || n == 15) && strncmp(s, "BA-", 3) == 0 &&
	    digits(s + 3, 4) && s[7] == '-' && digits(s + 8, n - 8);
}

static int
hex64(const char *s, size_t n)
{
	if (n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* path against pattern, segment by segment; parameters into m. */
static int
match(const char *pattern, const char *path, struct web_route_match *m)
{
	const char *p = pattern, *q = path;

	for (;;) {
		size_t pl = strcspn(p, "/"), ql = strcspn(q, "/");

		if (pl == 4 && strncmp(p, "{id}", 4) == 0) {
			char id[16];

			if (ql >= sizeof(id))
				return 0;
			memcpy(id, q, ql);
			id[ql] = '\0';
			if (!web_tracking_id_valid(id))
				return 0;
			memcpy(m->id, id, ql + 1);
		} else if (pl == 5 && strncmp(p, "{hex}", 5) == 0) {
			if (!hex64(q, ql))
				return 0;
			memcpy(m->hex, q, 64);
			m->hex[64] = '\0';
		} else if (pl != ql || strncmp(p, q, pl) != 0)
			return 0;
		p += pl;
		q += ql;
		if (*p == '\0' || *q == '\0')
			return *p == '\0' && *q == '\0';
		p++;
		q++;
	}
}

int
web_route(const char *method, const char *path, struct web_route_match *m)
{
	int other_method = 0;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		struct web_route_match t;

		memset(&t, 0, sizeof(t));
		if (!match(routes[i].pattern, path, &t))
			continue;
		if (strcmp(routes[i].method, method) != 0) {
			other_method = 1;
			continue;
		}
		t.page = routes[i].page;
		t.needs = routes[i].needs;
		*m = t;
		return 0;
	}
	return other_method ? 405 : 404;
}
