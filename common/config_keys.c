/*
 * config: the words of the configuration — the built-in defaults (an INI
 * text, read by the same parser as a file), every section and key with
 * the kind of its value, and the setters that check a value and store it
 * (sizes, durations, addresses, URLs, CIDR ranges).  config.c reads the
 * lines and calls them.
 *
 * A value is refused, with file:line, rather than clamped or guessed at;
 * it is echoed in the message only when it is known to be printable UTF-8
 * (the line was checked), and a URL (which may carry a password) never.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/config_int.h"
#include "common/tls_policy.h"
#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "parsers/rules.h"

#define CONFIG_WORKERS_MAX	1024
#define CONFIG_PROVIDER_MAX	32

static const char config_builtin[] =
    "[daemon]\n"
    "spool_dir      = spool\n"
    "state_dir      = var\n"
    "workers        = 0\n"
    "settle_ms      = 2000\n"
    "upload_timeout = 1h\n"
    "metrics_file   =\n"
    "min_free       = 1G\n"
    "[limits]\n"
    "archive_max_bytes    = 64M\n"
    "archive_max_entries  = 1000\n"
    "archive_max_unpacked = 256M\n"
    "entry_max_bytes      = 16M\n"
    "archive_max_ratio    = 100\n"
    "path_max             = 255\n"
    "xml_max_bytes        = 1M\n"
    "photo_max_bytes      = 5M\n"
    "mail_max_bytes       = 64M\n"
    "[imap]\n"
    "url           =\n"
    "address       =\n"
    "provider      = P001\n"
    "done_folder   = Processed\n"
    "poll_interval = 5m\n"
    "tls           = auto\n"
    "tls_pin       =\n"
    "password_file =\n"
    "ca_file       =\n"
    "reply_cap     = 20\n"
    "inbox_max     = 1000\n"
    "sender_max    = 30\n"
    "sender_window = 1h\n"
    "[smtp]\n"
    "url       =\n"
    "from      = beian@provider.example\n"
    "tls       = auto\n"
    "tls_pin   =\n"
    "password_file =\n"
    "ca_file   =\n"
    "timeout   = 10m\n"
    "retry_min = 5m\n"
    "retry_max = 1h\n"
    "max_age   = 5d\n"
    "recipient_max = 20\n"
    "[web]\n"
    "listen        = 127.0.0.1:8080\n"
    "base_url      =\n"
    "tls_cert      =\n"
    "tls_key       =\n"
    "trusted_proxy =\n"
    "session_idle  = 30m\n"
    "request_max   = 12M\n"
    "login_fail_max    = 5\n"
    "login_fail_window = 15m\n"
    "connections_max   = 64\n"
    "threads       = 4\n"
    "cache_max     = 64M\n"
    "[bureau.11]\n"
    "addresses = review@bureau.example\n"
    "record_to =\n"
    "[provider.P001]\n"
    "name      = \xe7\xa4\xba\xe4\xbe\x8b\xe7\xbd\x91\xe7\xbb\x9c"
    "\xe7\xa7\x91\xe6\x8a\x80\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac"
    "\xe5\x8f\xb8\n" /* 示例网络科技有限公司 */
    "email     = filing@p001.example\n"
    "ip_ranges = 203.0.113.0/24, 2001:db8::/32\n";

enum config_kind {
	KIND_PATH,       /* made absolute; never empty */
	KIND_PATH_OPT,   /* made absolute; empty is NULL */
	KIND_STRING,
	KIND_ADDRESS,    /* one mail address, required */
	KIND_ADDRESS_OPT,
	KIND_ADDRESSES,  /* comma-separated */
	KIND_IMAP_URL,
	KIND_SMTP_URL,
	KIND_WORKERS,
	KIND_MSEC,
	KIND_DURATION,
	KIND_SIZE,
	KIND_COUNT,
	KIND_TLS,        /* auto | none | may | encrypt | verify */
	KIND_TLS_PIN,    /* empty, or sha256//BASE64[;...] */
	KIND_GONE,       /* a key of old that is refused with a pointer */
	KIND_IP_RANGES,
	KIND_LISTEN,     /* host:port, or empty */
	KIND_IP_OPT,     /* one IPv4 or IPv6 address, or empty */
	KIND_HTTP_URL_OPT, /* http://… or https://…, or empty */
};

/* Offsets are into struct config, or into struct config_bureau /
 * config_provider for those sections. */
static const struct config_key {
	enum config_section sect;
	const char *name;
	enum config_kind kind;
	size_t off;
	uint64_t min;
} config_keys[] = {
#define C(f) offsetof(struct config, f)
	{ SECT_DAEMON, "spool_dir", KIND_PATH, C(spool_dir), 0 },
	{ SECT_DAEMON, "state_dir", KIND_PATH, C(state_dir), 0 },
	{ SECT_DAEMON, "workers", KIND_WORKERS, C(workers), 0 },
	{ SECT_DAEMON, "settle_ms", KIND_MSEC, C(settle_ms), 0 },
	{ SECT_DAEMON, "upload_timeout", KIND_DURATION, C(upload_timeout), 1 },
	{ SECT_DAEMON, "metrics_file", KIND_PATH_OPT, C(metrics_file), 0 },
	{ SECT_DAEMON, "min_free", KIND_SIZE, C(min_free), 0 },
	{ SECT_LIMITS, "archive_max_bytes", KIND_SIZE,
	    C(limits.archive_max_bytes), 1 },
	{ SECT_LIMITS, "archive_max_entries", KIND_COUNT,
	    C(limits.archive_max_entries), 1 },
	{ SECT_LIMITS, "archive_max_unpacked", KIND_SIZE,
	    C(limits.archive_max_unpacked), 1 },
	{ SECT_LIMITS, "entry_max_bytes", KIND_SIZE,
	    C(limits.entry_max_bytes), 1 },
	{ SECT_LIMITS, "archive_max_ratio", KIND_COUNT,
	    C(limits.archive_max_ratio), 1 },
	{ SECT_LIMITS, "path_max", KIND_SIZE, C(limits.path_max), 1 },
	{ SECT_LIMITS, "xml_max_bytes", KIND_SIZE, C(limits.xml_max_bytes), 1 },
	{ SECT_LIMITS, "photo_max_bytes", KIND_SIZE,
	    C(limits.photo_max_bytes), 1 },
	{ SECT_LIMITS, "mail_max_bytes", KIND_SIZE,
	    C(limits.mail_max_bytes), 1 },
	{ SECT_IMAP, "url", KIND_IMAP_URL, C(imap_url), 0 },
	{ SECT_IMAP, "address", KIND_ADDRESS_OPT, C(imap_address), 0 },
	{ SECT_IMAP, "provider", KIND_STRING, C(imap_provider), 0 },
	{ SECT_IMAP, "done_folder", KIND_STRING, C(imap_done_folder), 0 },
	{ SECT_IMAP, "poll_interval", KIND_DURATION, C(imap_poll_interval), 1 },
	{ SECT_IMAP, "tls", KIND_TLS, C(imap_tls), 0 },
	{ SECT_IMAP, "tls_pin", KIND_TLS_PIN, C(imap_tls_pin), 0 },
	{ SECT_IMAP, "password_file", KIND_PATH_OPT, C(imap_password_file), 0 },
	{ SECT_IMAP, "ca_file", KIND_PATH_OPT, C(imap_ca_file), 0 },
	{ SECT_IMAP, "reply_cap", KIND_COUNT, C(imap_reply_cap), 0 },
	{ SECT_IMAP, "inbox_max", KIND_COUNT, C(imap_inbox_max), 1 },
	{ SECT_IMAP, "sender_max", KIND_COUNT, C(imap_sender_max), 1 },
	{ SECT_IMAP, "sender_window", KIND_DURATION, C(imap_sender_window), 1 },
	{ SECT_SMTP, "url", KIND_SMTP_URL, C(smtp_url), 0 },
	{ SECT_SMTP, "from", KIND_ADDRESS, C(smtp_from), 0 },
	{ SECT_SMTP, "tls", KIND_TLS, C(smtp_tls), 0 },
	{ SECT_SMTP, "tls_pin", KIND_TLS_PIN, C(smtp_tls_pin), 0 },
	{ SECT_SMTP, "password_file", KIND_PATH_OPT, C(smtp_password_file), 0 },
	{ SECT_SMTP, "ca_file", KIND_PATH_OPT, C(smtp_ca_file), 0 },
	/* refused: its try verified the certificate, so no level is the
	 * same; the operator chooses one */
	{ SECT_SMTP, "starttls", KIND_GONE, 0, 0 },
	{ SECT_SMTP, "timeout", KIND_DURATION, C(smtp_timeout), 1 },
	{ SECT_SMTP, "retry_min", KIND_DURATION, C(smtp_retry_min), 1 },
	{ SECT_SMTP, "retry_max", KIND_DURATION, C(smtp_retry_max), 1 },
	{ SECT_SMTP, "max_age", KIND_DURATION, C(smtp_max_age), 1 },
	{ SECT_SMTP, "recipient_max", KIND_COUNT, C(smtp_recipient_max), 0 },
	{ SECT_WEB, "listen", KIND_LISTEN, C(web_listen), 0 },
	{ SECT_WEB, "base_url", KIND_HTTP_URL_OPT, C(web_base_url), 0 },
	{ SECT_WEB, "tls_cert", KIND_PATH_OPT, C(web_tls_cert), 0 },
	{ SECT_WEB, "tls_key", KIND_PATH_OPT, C(web_tls_key), 0 },
	{ SECT_WEB, "trusted_proxy", KIND_IP_OPT, C(web_trusted_proxy), 0 },
	{ SECT_WEB, "session_idle", KIND_DURATION, C(web_session_idle), 1 },
	{ SECT_WEB, "request_max", KIND_SIZE, C(web_request_max), 4096 },
	{ SECT_WEB, "login_fail_max", KIND_COUNT, C(web_login_fail_max), 1 },
	{ SECT_WEB, "login_fail_window", KIND_DURATION,
	    C(web_login_fail_window), 1 },
	{ SECT_WEB, "connections_max", KIND_COUNT, C(web_connections_max), 1 },
	{ SECT_WEB, "threads", KIND_COUNT, C(web_threads), 1 },
	{ SECT_WEB, "cache_max", KIND_SIZE, C(web_cache_max), 0 },
#undef C
	{ SECT_BUREAU, "addresses", KIND_ADDRESSES, 0, 0 },
	{ SECT_BUREAU, "record_to", KIND_ADDRESS_OPT,
	    offsetof(struct config_bureau, record_to), 0 },
	{ SECT_PROVIDER, "name", KIND_STRING,
	    offsetof(struct config_provider, name), 0 },
	{ SECT_PROVIDER, "email", KIND_ADDRESS_OPT,
	    offsetof(struct config_provider, email), 0 },
	{ SECT_PROVIDER, "ip_ranges", KIND_IP_RANGES, 0, 0 },
};
#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))
/* struct config_parser's seen has a bit per key */
_Static_assert(CONFIG_NKEYS <= 64, "too many keys for config_parser.seen");

/* Digits only, no sign, no space; overflow-checked against max. */
static int
config_parse_digits(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (n > (max - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*out = n;
	return 0;
}

int
config_parse_size(const char *s, uint64_t *out)
{
	size_t len = strlen(s);
	unsigned shift = 0;
	uint64_t n;

	if (len > 0) {
		switch (s[len - 1]) {
		case 'K': case 'k': shift = 10; break;
		case 'M': case 'm': shift = 20; break;
		case 'G': case 'g': shift = 30; break;
		}
		if (shift != 0)
			len--;
	}
	if (config_parse_digits(s, len, CONFIG_SIZE_MAX >> shift, &n) == -1)
		return -1;
	*out = n << shift;
	return 0;
}

int
config_parse_duration(const char *s, uint64_t *seconds)
{
	size_t len = strlen(s);
	uint64_t unit = 1, n;

	if (len > 0) {
		switch (s[len - 1]) {
		case 's': unit = 1; len--; break;
		case 'm': unit = 60; len--; break;
		case 'h': unit = 3600; len--; break;
		case 'd': unit = 86400; len--; break;
		}
	}
	if (config_parse_digits(s, len, CONFIG_DURATION_MAX / unit, &n) == -1)
		return -1;
	*seconds = n * unit;
	return 0;
}

/* One address: local@domain, printable, no spaces; the mailer and the
 * rules of FORMAT.md judge the rest (tests use single-label domains). */
static int
config_address_valid(const char *s, size_t len)
{
	size_t i, at = len;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= ' ' || ch == 0x7f || ch == ',' || ch == '<' ||
		    ch == '>' || ch == '"')
			return -1;
		if (ch == '@') {
			if (at != len)
				return -1;
			at = i;
		}
	}
	if (at == len || at == 0 || at == len - 1)
		return -1;
	return 0;
}

static int
config_provider_code_valid(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > CONFIG_PROVIDER_MAX || s[0] == '-')
		return -1;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return -1;
	}
	return 0;
}

/* host:port or [v6]:port, port 1-65535, host printable without spaces */
static int
config_listen_valid(const char *s)
{
	const char *colon = strrchr(s, ':');
	uint64_t port;
	size_t hl;

	if (colon == NULL || colon == s ||
	    config_parse_digits(colon + 1, strlen(colon + 1), 65535,
	    &port) == -1 || port == 0)
		return -1;
	hl = (size_t)(colon - s);
	if (s[0] == '[' && (hl < 3 || s[hl - 1] != ']'))
		return -1;
	if (s[0] != '[' && memchr(s, ':', hl) != NULL)
		return -1; /* an IPv6 address goes in brackets */
	for (size_t i = 0; i < hl; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return -1;
	return 0;
}

/* Split a comma-separated value into trimmed, non-empty items. */
static int
config_split(const char *value, char ***itemsp, size_t *np)
{
	char **items = NULL;
	size_t n = 0, cap = 0;
	const char *s = value, *e;

	if (*value == '\0') {
		*itemsp = NULL;
		*np = 0;
		return 0;
	}
	for (;;) {
		const char *a, *b;

		e = strchr(s, ',');
		if (e == NULL)
			e = s + strlen(s);
		a = s;
		b = e;
		while (a < b && config_isspace(*a))
			a++;
		while (b > a && config_isspace(b[-1]))
			b--;
		if (a == b)
			goto fail;
		xgrow(&items, &cap, n, sizeof(*items));
		items[n++] = xstrndup(a, (size_t)(b - a));
		if (*e == '\0')
			break;
		s = e + 1;
	}
	*itemsp = items;
	*np = n;
	return 0;
fail:
	while (n > 0)
		free(items[--n]);
	free(items);
	return -1;
}

static void
config_split_free(char **items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(items[i]);
	free(items);
}

static int
config_bad_value(struct config_parser *p, const struct config_key *k,
    const char *value, const char *why)
{
	config_line_error(p, "bad value for %s: \"%s\" (%s)", k->name, value,
	    why);
	return -1;
}

static int
config_value_set(struct config_parser *p, const struct config_key *k,
    const char *value)
{
	struct config *c = p->c;
	char *base;
	uint64_t n = 0;
	size_t i;

	if (k->sect == SECT_BUREAU)
		base = (char *)&c->bureaus[p->cur];
	else if (k->sect == SECT_PROVIDER)
		base = (char *)&c->providers[p->cur];
	else
		base = (char *)c;

	switch (k->kind) {
	case KIND_PATH:
		if (*value == '\0')
			return config_bad_value(p, k, value, "a path is needed");
		/* FALLTHROUGH */
	case KIND_PATH_OPT:
		config_string_set((char **)(base + k->off), *value == '\0' ?
		    NULL : config_path_join(p->base, value));
		return 0;
	case KIND_STRING:
		config_string_set((char **)(base + k->off), xstrdup(value));
		return 0;
	case KIND_ADDRESS:
		if (*value == '\0')
			return config_bad_value(p, k, value,
			    "an address is needed");
		/* FALLTHROUGH */
	case KIND_ADDRESS_OPT:
		if (*value != '\0' &&
		    config_address_valid(value, strlen(value)) == -1)
			return config_bad_value(p, k, value,
			    "expected one address like name@example.org");
		config_string_set((char **)(base + k->off), xstrdup(value));
		return 0;
	case KIND_ADDRESSES: {
		struct config_bureau *b = (struct config_bureau *)base;
		char **items;
		size_t nitems;

		if (config_split(value, &items, &nitems) == -1)
			return config_bad_value(p, k, value,
			    "expected comma-separated addresses");
		for (i = 0; i < nitems; i++) {
			if (config_address_valid(items[i],
			    strlen(items[i])) == -1) {
				config_split_free(items, nitems);
				return config_bad_value(p, k, value,
				    "expected comma-separated addresses");
			}
		}
		config_split_free(b->addresses, b->naddresses);
		b->addresses = items;
		b->naddresses = nitems;
		return 0;
	}
	case KIND_IMAP_URL:
	case KIND_SMTP_URL: {
		const char *a = k->kind == KIND_IMAP_URL ? "imap://" : "smtp://";
		const char *s = k->kind == KIND_IMAP_URL ? "imaps://" :
		    "smtps://";

		/* Not echoed: the URL may carry a password. */
		if (*value != '\0' && strncmp(value, a, strlen(a)) != 0 &&
		    strncmp(value, s, strlen(s)) != 0) {
			config_line_error(p, "bad value for %s: expected "
			    "%s... or %s...", k->name, a, s);
			return -1;
		}
		config_string_set((char **)(base + k->off), xstrdup(value));
		return 0;
	}
	case KIND_WORKERS:
		if (config_parse_digits(value, strlen(value),
		    CONFIG_WORKERS_MAX, &n) == -1)
			return config_bad_value(p, k, value,
			    "expected a whole number from 0 to 1024");
		*(int *)(base + k->off) = (int)n;
		return 0;
	case KIND_MSEC:
		if (config_parse_digits(value, strlen(value),
		    CONFIG_DURATION_MAX * 1000, &n) == -1)
			return config_bad_value(p, k, value,
			    "expected a whole number of milliseconds");
		break;
	case KIND_DURATION:
		if (config_parse_duration(value, &n) == -1)
			return config_bad_value(p, k, value,
			    "expected a number with an optional s, m, h or d "
			    "suffix, at most 36500d");
		break;
	case KIND_SIZE:
		if (config_parse_size(value, &n) == -1)
			return config_bad_value(p, k, value,
			    "expected a number with an optional K, M or G "
			    "suffix");
		break;
	case KIND_COUNT:
		if (config_parse_digits(value, strlen(value), CONFIG_SIZE_MAX,
		    &n) == -1)
			return config_bad_value(p, k, value,
			    "expected a whole number");
		break;
	case KIND_TLS: {
		enum tls_level l;

		if (tls_level_parse(value, &l) == -1)
			return config_bad_value(p, k, value,
			    "expected auto, none, may, encrypt or verify");
		*(enum tls_level *)(base + k->off) = l;
		return 0;
	}
	case KIND_TLS_PIN:
		if (*value != '\0' && !tls_pin_valid(value))
			return config_bad_value(p, k, value, "expected "
			    "sha256//BASE64 of a public key, as beianctl probe "
			    "prints it; several separated by ;");
		config_string_set((char **)(base + k->off), xstrdup(value));
		return 0;
	case KIND_GONE:
		config_line_error(p, "%s is gone: set tls = none, may, encrypt "
		    "or verify instead (see beiand.conf(5), \"TLS\")",
		    k->name);
		return -1;
	case KIND_LISTEN:
		if (*value != '\0' && config_listen_valid(value) == -1)
			return config_bad_value(p, k, value,
			    "expected host:port, [IPv6]:port or nothing");
		config_string_set((char **)(base + k->off), xstrdup(value));
		return 0;
	case KIND_IP_OPT: {
		unsigned char a[16];

		if (*value != '\0' && inet_pton(AF_INET, value, a) != 1 &&
		    inet_pton(AF_INET6, value, a) != 1)
			return config_bad_value(p, k, value,
			    "expected an IPv4 or IPv6 address");
		config_string_set((char **)(base + k->off), xstrdup(value));
		return 0;
	}
	case KIND_HTTP_URL_OPT:
		if (*value != '\0' && ((strncmp(value, "http://", 7) != 0 &&
		    strncmp(value, "https://", 8) != 0) ||
		    strpbrk(value, " \"<>'") != NULL))
			return config_bad_value(p, k, value,
			    "expected http://… or https://…");
		config_string_set((char **)(base + k->off), xstrdup(value));
		return 0;
	case KIND_IP_RANGES: {
		struct config_provider *pr = (struct config_provider *)base;
		struct ip_range *r = NULL;
		char **items;
		size_t nitems;

		if (config_split(value, &items, &nitems) == -1)
			return config_bad_value(p, k, value,
			    "expected comma-separated CIDR ranges");
		if (nitems > 0)
			r = xreallocarray(NULL, nitems, sizeof(*r));
		for (i = 0; i < nitems; i++) {
			if (rules_cidr_parse(items[i], &r[i]) == -1) {
				config_line_error(p, "bad value for %s: "
				    "\"%s\" is not a CIDR range", k->name,
				    items[i]);
				config_split_free(items, nitems);
				free(r);
				return -1;
			}
		}
		config_split_free(items, nitems);
		free(pr->ip_ranges);
		pr->ip_ranges = r;
		pr->nip_ranges = nitems;
		return 0;
	}
	}

	/* the numeric kinds that land in a uint64_t */
	if (n < k->min) {
		config_line_error(p, "bad value for %s: \"%s\" (must be at "
		    "least %llu)", k->name, value, (unsigned long long)k->min);
		return -1;
	}
	*(uint64_t *)(base + k->off) = n;
	return 0;
}

int
config_section_begin(struct config_parser *p, char *name)
{
	struct config *c = p->c;
	static const struct {
		const char *name;
		enum config_section sect;
	} fixed[] = {
		{ "daemon", SECT_DAEMON },
		{ "limits", SECT_LIMITS },
		{ "imap", SECT_IMAP },
		{ "smtp", SECT_SMTP },
		{ "web", SECT_WEB },
	};
	size_t i;

	p->seen = 0;
	if (!config_name_valid(name)) {
		config_line_error(p, "malformed section header");
		return -1;
	}
	if (strlen(name) >= sizeof(p->sectname)) {
		config_line_error(p, "unknown section [%.40s...]", name);
		return -1;
	}
	strlcpy(p->sectname, name, sizeof(p->sectname));

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (strcmp(name, fixed[i].name) != 0)
			continue;
		if (p->fixed_seen & (1U << fixed[i].sect)) {
			config_line_error(p, "duplicate section [%s]", name);
			return -1;
		}
		p->fixed_seen |= 1U << fixed[i].sect;
		p->sect = fixed[i].sect;
		return 0;
	}

	if (strncmp(name, "bureau.", 7) == 0) {
		const char *code = name + 7;
		struct config_bureau *b;

		if (strlen(code) != 2 || !rules_province_valid(code)) {
			config_line_error(p, "unknown section [%s]: \"%s\" is "
			    "not a province code (FORMAT.md 4)", name, code);
			return -1;
		}
		if (!p->own_bureaus) {
			/* The file's bureaus replace the built-in ones. */
			for (i = 0; i < c->nbureaus; i++)
				config_bureau_clear(&c->bureaus[i]);
			c->nbureaus = 0;
			p->own_bureaus = 1;
		}
		if (config_bureau_find(c, code) != NULL) {
			config_line_error(p, "duplicate section [%s]", name);
			return -1;
		}
		xgrow(&c->bureaus, &p->bureaucap, c->nbureaus,
		    sizeof(*c->bureaus));
		b = &c->bureaus[c->nbureaus];
		memset(b, 0, sizeof(*b));
		memcpy(b->province, code, 3);
		b->record_to = xstrdup("");
		p->cur = c->nbureaus++;
		p->sect = SECT_BUREAU;
		return 0;
	}

	if (strncmp(name, "provider.", 9) == 0) {
		const char *code = name + 9;
		struct config_provider *pr;

		if (config_provider_code_valid(code) == -1) {
			config_line_error(p, "unknown section [%s]: a provider "
			    "code is 1-%d of A-Z a-z 0-9 _ -, not starting "
			    "with -", name, CONFIG_PROVIDER_MAX);
			return -1;
		}
		if (!p->own_providers) {
			for (i = 0; i < c->nproviders; i++)
				config_provider_clear(&c->providers[i]);
			c->nproviders = 0;
			p->own_providers = 1;
		}
		if (config_provider_find(c, code) != NULL) {
			config_line_error(p, "duplicate section [%s]", name);
			return -1;
		}
		xgrow(&c->providers, &p->providercap, c->nproviders,
		    sizeof(*c->providers));
		pr = &c->providers[c->nproviders];
		memset(pr, 0, sizeof(*pr));
		pr->code = xstrdup(code);
		pr->name = xstrdup("");
		pr->email = xstrdup("");
		p->cur = c->nproviders++;
		p->sect = SECT_PROVIDER;
		return 0;
	}

	config_line_error(p, "unknown section [%s]", name);
	return -1;
}

int
config_key_set(struct config_parser *p, const char *key, const char *value)
{
	size_t i;

	if (p->sect == SECT_NONE) {
		config_line_error(p, "key \"%s\" before any section", key);
		return -1;
	}
	for (i = 0; i < CONFIG_NKEYS; i++)
		if (config_keys[i].sect == p->sect &&
		    strcmp(config_keys[i].name, key) == 0)
			break;
	if (i == CONFIG_NKEYS) {
		config_line_error(p, "unknown key \"%s\" in [%s]", key,
		    p->sectname);
		return -1;
	}
	if (p->seen & (1ULL << i)) {
		config_line_error(p, "duplicate key \"%s\" in [%s]", key,
		    p->sectname);
		return -1;
	}
	p->seen |= 1ULL << i;
	return config_value_set(p, &config_keys[i], value);
}

void
config_finish(struct config *c)
{
	size_t i;

	for (i = 0; i < c->nbureaus; i++) {
		struct config_bureau *b = &c->bureaus[i];

		if (b->record_to[0] == '\0' && b->naddresses > 0)
			config_string_set(&b->record_to,
			    xstrdup(b->addresses[0]));
	}
}

/* The built-in configuration; relative paths against the current folder. */
struct config *
config_defaults(size_t *bureaucap, size_t *providercap, char *err,
    size_t errsize)
{
	struct config_parser p;
	char *cwd;

	if ((cwd = getcwd(NULL, 0)) == NULL) {
		config_error_set(err, errsize, "getcwd: %s", strerror(errno));
		return NULL;
	}
	memset(&p, 0, sizeof(p));
	p.c = xcalloc(1, sizeof(*p.c));
	p.c->imap_url = xstrdup("");
	p.c->imap_provider = xstrdup("");
	p.file = "(built-in)";
	p.base = cwd;
	p.err = err;
	p.errsize = errsize;
	if (config_apply(&p, config_builtin, sizeof(config_builtin) - 1) ==
	    -1) {
		/* Only a broken build can get here. */
		free(cwd);
		config_free(p.c);
		return NULL;
	}
	free(cwd);
	*bureaucap = p.bureaucap;
	*providercap = p.providercap;
	return p.c;
}
