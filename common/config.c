/*
 * config: the INI configuration of DESIGN.md; see include/config.h.
 *
 * The file is the operator's, not a user's, but it is read strictly all
 * the same: every line either means something or is an error with
 * file:line, so a typo never falls back silently to a default.  Values
 * are echoed in messages only when they are known to be printable UTF-8,
 * and URL values (which may carry an IMAP password) never are.
 *
 * The built-in defaults are themselves an INI text run through the same
 * parser, so the defaults and the file format cannot drift apart.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/compat.h"
#include "common/config.h"
#include "parsers/rules.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"

/* A configuration file is a few kilobytes; anything this big is a mistake. */
#define CONFIG_FILE_MAX		(1024 * 1024)
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
    "ca_file       =\n"
    "reply_cap     = 20\n"
    "[smtp]\n"
    "url       =\n"
    "from      = beian@provider.example\n"
    "starttls  = try\n"
    "ca_file   =\n"
    "timeout   = 10m\n"
    "retry_min = 5m\n"
    "retry_max = 1h\n"
    "max_age   = 5d\n"
    "[bureau.11]\n"
    "addresses = review@bureau.example\n"
    "record_to =\n"
    "[provider.P001]\n"
    "name      = \xe7\xa4\xba\xe4\xbe\x8b\xe7\xbd\x91\xe7\xbb\x9c"
    "\xe7\xa7\x91\xe6\x8a\x80\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac"
    "\xe5\x8f\xb8\n" /* 示例网络科技有限公司 */
    "email     = filing@p001.example\n"
    "ip_ranges = 203.0.113.0/24, 2001:db8::/32\n";

enum config_section {
	SECT_NONE,
	SECT_DAEMON,
	SECT_LIMITS,
	SECT_IMAP,
	SECT_SMTP,
	SECT_BUREAU,
	SECT_PROVIDER,
};

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
	KIND_STARTTLS,
	KIND_IP_RANGES,
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
	{ SECT_IMAP, "ca_file", KIND_PATH_OPT, C(imap_ca_file), 0 },
	{ SECT_IMAP, "reply_cap", KIND_COUNT, C(imap_reply_cap), 0 },
	{ SECT_SMTP, "url", KIND_SMTP_URL, C(smtp_url), 0 },
	{ SECT_SMTP, "from", KIND_ADDRESS, C(smtp_from), 0 },
	{ SECT_SMTP, "starttls", KIND_STARTTLS, C(smtp_starttls), 0 },
	{ SECT_SMTP, "ca_file", KIND_PATH_OPT, C(smtp_ca_file), 0 },
	{ SECT_SMTP, "timeout", KIND_DURATION, C(smtp_timeout), 1 },
	{ SECT_SMTP, "retry_min", KIND_DURATION, C(smtp_retry_min), 1 },
	{ SECT_SMTP, "retry_max", KIND_DURATION, C(smtp_retry_max), 1 },
	{ SECT_SMTP, "max_age", KIND_DURATION, C(smtp_max_age), 1 },
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

struct config_parser {
	struct config *c;
	const char *file;      /* for messages */
	const char *base;      /* absolute folder for relative paths */
	size_t line;
	enum config_section sect;
	char sectname[64];     /* for messages */
	uint64_t seen;         /* keys (bit = index in config_keys) */
	unsigned fixed_seen;   /* [daemon] .. [smtp] (bit = section) */
	int own_bureaus, own_providers; /* this text replaced the list */
	size_t bureaucap, providercap;
	size_t cur;            /* index of the current bureau/provider */
	char *err;
	size_t errsize;
};

static void config_line_error(struct config_parser *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void config_file_error(struct config_parser *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
config_line_error(struct config_parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errsize, "%s:%zu: %s", p->file, p->line, msg);
}

static void
config_file_error(struct config_parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errsize, "%s: %s", p->file, msg);
}

static void
config_error_set(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
config_error_set(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errsize == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
}

static int
config_isspace(char ch)
{
	return ch == ' ' || ch == '\t';
}

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

/*
 * base and value joined; value absolute is kept, leading "./" dropped.
 * Nothing is resolved on disk: the folders may not exist yet at -n time.
 */
static char *
config_path_join(const char *base, const char *value)
{
	size_t blen;

	if (value[0] == '/')
		return xstrdup(value);
	while (value[0] == '.' && value[1] == '/') {
		value += 2;
		while (*value == '/')
			value++;
	}
	if (strcmp(value, ".") == 0 || *value == '\0')
		return xstrdup(base);
	blen = strlen(base);
	if (blen > 0 && base[blen - 1] == '/')
		return xasprintf("%s%s", base, value);
	return xasprintf("%s/%s", base, value);
}

/* The folder of file as an absolute path; NULL with err set on failure. */
static char *
config_file_dir(const char *file, char *err, size_t errsize)
{
	const char *slash;
	char *cwd, *dir, *abs;

	if ((slash = strrchr(file, '/')) == file)
		return xstrdup("/");
	if (slash != NULL && file[0] == '/')
		return xstrndup(file, (size_t)(slash - file));
	if ((cwd = getcwd(NULL, 0)) == NULL) {
		config_error_set(err, errsize, "getcwd: %s", strerror(errno));
		return NULL;
	}
	if (slash == NULL)
		return cwd;
	dir = xstrndup(file, (size_t)(slash - file));
	abs = config_path_join(cwd, dir);
	free(dir);
	free(cwd);
	return abs;
}

static void
config_bureau_clear(struct config_bureau *b)
{
	size_t i;

	for (i = 0; i < b->naddresses; i++)
		free(b->addresses[i]);
	free(b->addresses);
	free(b->record_to);
}

static void
config_provider_clear(struct config_provider *pr)
{
	free(pr->code);
	free(pr->name);
	free(pr->email);
	free(pr->ip_ranges);
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->path);
	free(c->spool_dir);
	free(c->state_dir);
	free(c->metrics_file);
	free(c->imap_url);
	free(c->imap_address);
	free(c->imap_provider);
	free(c->imap_done_folder);
	free(c->imap_ca_file);
	free(c->smtp_url);
	free(c->smtp_from);
	free(c->smtp_ca_file);
	for (i = 0; i < c->nbureaus; i++)
		config_bureau_clear(&c->bureaus[i]);
	free(c->bureaus);
	for (i = 0; i < c->nproviders; i++)
		config_provider_clear(&c->providers[i]);
	free(c->providers);
	free(c);
}

const struct config_provider *
config_provider_find(const struct config *c, const char *code)
{
	size_t i;

	for (i = 0; i < c->nproviders; i++)
		if (strcmp(c->providers[i].code, code) == 0)
			return &c->providers[i];
	return NULL;
}

const struct config_bureau *
config_bureau_find(const struct config *c, const char *province)
{
	size_t i;

	for (i = 0; i < c->nbureaus; i++)
		if (strcmp(c->bureaus[i].province, province) == 0)
			return &c->bureaus[i];
	return NULL;
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

static void
config_string_set(char **dst, char *v)
{
	free(*dst);
	*dst = v;
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
	case KIND_STARTTLS: {
		enum starttls_mode m;

		if (strcmp(value, "try") == 0)
			m = STARTTLS_TRY;
		else if (strcmp(value, "require") == 0)
			m = STARTTLS_REQUIRE;
		else if (strcmp(value, "no") == 0)
			m = STARTTLS_NO;
		else
			return config_bad_value(p, k, value,
			    "expected try, require or no");
		*(enum starttls_mode *)(base + k->off) = m;
		return 0;
	}
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

/* Printable ASCII without spaces: safe to echo, and all names are. */
static int
config_name_valid(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 0x7f)
			return 0;
	return 1;
}

static int
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

static int
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

/* Trim spaces and tabs in place; returns the new start. */
static char *
config_trim(char *s)
{
	size_t len;

	while (config_isspace(*s))
		s++;
	len = strlen(s);
	while (len > 0 && config_isspace(s[len - 1]))
		s[--len] = '\0';
	return s;
}

static int
config_line(struct config_parser *p, char *s)
{
	char *eq, *key, *value;
	size_t i, len;

	/* A comment starts at ';' or '#' at the start or after white space,
	 * so "a;b" in a URL stays a value. */
	for (i = 0; s[i] != '\0'; i++) {
		if ((s[i] == ';' || s[i] == '#') &&
		    (i == 0 || config_isspace(s[i - 1]))) {
			s[i] = '\0';
			break;
		}
	}
	s = config_trim(s);
	if (*s == '\0')
		return 0;

	len = strlen(s);
	if (!utf8_valid(s, len)) {
		config_line_error(p, "not valid UTF-8");
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			config_line_error(p, "control character in line");
			return -1;
		}
	}

	if (s[0] == '[') {
		if (s[len - 1] != ']') {
			config_line_error(p, "malformed line");
			return -1;
		}
		s[len - 1] = '\0';
		return config_section_begin(p, config_trim(s + 1));
	}

	if ((eq = strchr(s, '=')) == NULL) {
		config_line_error(p, "malformed line");
		return -1;
	}
	*eq = '\0';
	key = config_trim(s);
	value = config_trim(eq + 1);
	if (!config_name_valid(key)) {
		config_line_error(p, "malformed line");
		return -1;
	}
	return config_key_set(p, key, value);
}

static int
config_apply(struct config_parser *p, const char *text, size_t len)
{
	const char *s = text, *end = text + len, *nl;
	char *line;
	int rc;

	/* A UTF-8 byte order mark, as some editors write. */
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	p->line = 0;
	p->sect = SECT_NONE;
	while (s < end) {
		size_t n;

		p->line++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		n = (size_t)(nl - s);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (memchr(s, '\0', n) != NULL) {
			config_line_error(p, "NUL byte in line");
			return -1;
		}
		line = xstrndup(s, n);
		rc = config_line(p, line);
		free(line);
		if (rc == -1)
			return -1;
		s = nl < end ? nl + 1 : end;
	}

	/* Checks that need the whole file. */
	if (p->c->imap_url[0] != '\0' &&
	    config_provider_find(p->c, p->c->imap_provider) == NULL) {
		config_file_error(p, "[imap] provider \"%s\" is not a "
		    "configured provider", p->c->imap_provider);
		return -1;
	}
	if (p->c->smtp_retry_min > p->c->smtp_retry_max) {
		config_file_error(p, "[smtp] retry_min (%llus) exceeds "
		    "retry_max (%llus)",
		    (unsigned long long)p->c->smtp_retry_min,
		    (unsigned long long)p->c->smtp_retry_max);
		return -1;
	}
	return 0;
}

static void
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
static struct config *
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

struct config *
config_parse(const char *text, size_t len, const char *file,
    const char *base_dir, char *err, size_t errsize)
{
	struct config_parser p;
	struct config *c;
	char *base = NULL, *cwd;

	memset(&p, 0, sizeof(p));
	if ((c = config_defaults(&p.bureaucap, &p.providercap, err,
	    errsize)) == NULL)
		return NULL;
	if (text == NULL) {
		config_finish(c);
		return c;
	}
	if (file == NULL)
		file = "(config)";
	if (base_dir != NULL && base_dir[0] == '/')
		base = xstrdup(base_dir);
	else if (base_dir != NULL) {
		if ((cwd = getcwd(NULL, 0)) == NULL) {
			config_error_set(err, errsize, "getcwd: %s",
			    strerror(errno));
			goto fail;
		}
		base = config_path_join(cwd, base_dir);
		free(cwd);
	} else if ((base = config_file_dir(file, err, errsize)) == NULL)
		goto fail;

	p.c = c;
	p.file = file;
	p.base = base;
	p.err = err;
	p.errsize = errsize;
	if (config_apply(&p, text, len) == -1)
		goto fail;
	free(base);
	config_finish(c);
	c->path = xstrdup(file);
	return c;
fail:
	free(base);
	config_free(c);
	return NULL;
}

/* Read a whole configuration file; NULL with "file: reason" in err. */
static char *
config_file_read(const char *path, size_t *lenp, char *err, size_t errsize)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		config_error_set(err, errsize, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		config_error_set(err, errsize, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		config_error_set(err, errsize, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size > CONFIG_FILE_MAX) {
		config_error_set(err, errsize, "%s: larger than %d bytes",
		    path, CONFIG_FILE_MAX);
		goto fail;
	}
	buf = xmalloc(CONFIG_FILE_MAX + 1);
	/* Read to EOF rather than trusting st_size: the file may change. */
	for (;;) {
		r = read(fd, buf + len, CONFIG_FILE_MAX + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			config_error_set(err, errsize, "%s: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > CONFIG_FILE_MAX) {
			config_error_set(err, errsize, "%s: larger than %d "
			    "bytes", path, CONFIG_FILE_MAX);
			goto fail;
		}
	}
	close(fd);
	*lenp = len;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

static struct config *
config_load_file(const char *path, char *err, size_t errsize)
{
	struct config *c;
	char *text, *dir, *abs;
	size_t len;

	if ((text = config_file_read(path, &len, err, errsize)) == NULL)
		return NULL;
	c = config_parse(text, len, path, NULL, err, errsize);
	free(text);
	if (c == NULL)
		return NULL;
	/* Keep the absolute name so that a reload after chdir still works. */
	if (path[0] != '/' && (dir = getcwd(NULL, 0)) != NULL) {
		abs = config_path_join(dir, path);
		free(dir);
		config_string_set(&c->path, abs);
	}
	return c;
}

struct config *
config_load_from(const char *path, const char *const *search, size_t nsearch,
    char *err, size_t errsize)
{
	struct stat st;
	size_t i;

	if (path != NULL)
		return config_load_file(path, err, errsize);
	for (i = 0; i < nsearch; i++) {
		/* Only absence moves on: an unreadable file is an error. */
		if (stat(search[i], &st) == -1 &&
		    (errno == ENOENT || errno == ENOTDIR))
			continue;
		return config_load_file(search[i], err, errsize);
	}
	return config_parse(NULL, 0, NULL, NULL, err, errsize);
}

struct config *
config_load(const char *path, char *err, size_t errsize)
{
	static const char *const search[] = {
		"/etc/beiand/beiand.conf",
		"beiand.conf",
	};

	return config_load_from(path, search, sizeof(search) /
	    sizeof(search[0]), err, errsize);
}
