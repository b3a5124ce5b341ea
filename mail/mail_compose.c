/*
 * mail_compose: the bilingual templates made into RFC 5322 messages.
 *
 * Hostile input: parameter values and findings come from packages that
 * strangers sent (sponsor names, site names, archive entry names).  They
 * only ever land in the base64 body or inside RFC 2047 encoded-words of
 * the Subject, never raw in a header; invalid UTF-8 becomes U+FFFD and
 * control bytes are dropped (body) or turned into spaces (Subject).  The
 * header fields taken as given (addresses, Message-IDs, tag, token) are
 * refused, not cleaned, when they hold a CR, LF or other control byte.
 *
 * The template language (daemon/templates/NAME.txt):
 *   - the first line is "Subject: 中文 / English", then one empty line,
 *     then the body, zh-CN first and English below;
 *   - {{name}} is replaced by the parameter's value (name: [a-z0-9_]+);
 *     a placeholder without a value is left as it is, so that the unit
 *     test that renders every template with every parameter finds any
 *     misspelt one;
 *   - {{#name}}…{{/name}} is kept only when name has a non-empty value,
 *     {{^name}}…{{/name}} only when it has none; sections nest, and a
 *     section tag alone on its line takes the line with it;
 *   - {{errors}} lists the findings, one per line "  PATH  CODE  message";
 *     {{#errors}} is true when there is at least one;
 *   - {{tag}} and {{review_token}} come from the spec, not the params.
 * There is no escaping: the mail is plain text.  Composition is
 * deterministic (the multipart boundary is derived from the Message-ID),
 * so the same spec gives the same bytes.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"
#include "mail/mail.h"

#define MAIL_LINE	76	/* RFC 2045/2047 line length, without CRLF */
#define MAIL_WORD_MAX	75	/* RFC 2047 encoded-word */

extern const unsigned char mail_tpl_received[], mail_tpl_invalid[],
    mail_tpl_awaiting_verification[], mail_tpl_returned_to_owner[],
    mail_tpl_review_request[], mail_tpl_returned_to_provider[],
    mail_tpl_approved_owner[], mail_tpl_approved_provider[],
    mail_tpl_approved_bureau[], mail_tpl_withdrawn[], mail_tpl_help[],
    mail_tpl_password_reset[], mail_tpl_password_failed[];
extern const size_t mail_tpl_received_len, mail_tpl_invalid_len,
    mail_tpl_awaiting_verification_len, mail_tpl_returned_to_owner_len,
    mail_tpl_review_request_len, mail_tpl_returned_to_provider_len,
    mail_tpl_approved_owner_len, mail_tpl_approved_provider_len,
    mail_tpl_approved_bureau_len, mail_tpl_withdrawn_len, mail_tpl_help_len,
    mail_tpl_password_reset_len, mail_tpl_password_failed_len;

static const struct {
	const char *name;
	const unsigned char *text;
	const size_t *len;
} templates[] = {
	{ "received", mail_tpl_received, &mail_tpl_received_len },
	{ "invalid", mail_tpl_invalid, &mail_tpl_invalid_len },
	{ "awaiting_verification", mail_tpl_awaiting_verification,
	    &mail_tpl_awaiting_verification_len },
	{ "returned_to_owner", mail_tpl_returned_to_owner,
	    &mail_tpl_returned_to_owner_len },
	{ "review_request", mail_tpl_review_request,
	    &mail_tpl_review_request_len },
	{ "returned_to_provider", mail_tpl_returned_to_provider,
	    &mail_tpl_returned_to_provider_len },
	{ "approved_owner", mail_tpl_approved_owner,
	    &mail_tpl_approved_owner_len },
	{ "approved_provider", mail_tpl_approved_provider,
	    &mail_tpl_approved_provider_len },
	{ "approved_bureau", mail_tpl_approved_bureau,
	    &mail_tpl_approved_bureau_len },
	{ "withdrawn", mail_tpl_withdrawn, &mail_tpl_withdrawn_len },
	{ "help", mail_tpl_help, &mail_tpl_help_len },
	{ "password_reset", mail_tpl_password_reset,
	    &mail_tpl_password_reset_len },
	{ "password_failed", mail_tpl_password_failed,
	    &mail_tpl_password_failed_len },
};

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
}

/* ---- UTF-8 ----------------------------------------------------------- */

enum clean_mode {
	CLEAN_BODY,	/* keep LF and TAB, drop other controls */
	CLEAN_LINE,	/* every control, LF too, becomes a space */
	CLEAN_ESCAPE	/* controls and invalid bytes become \xHH (names) */
};

/* Append s made safe for a text part; invalid UTF-8 becomes U+FFFD. */
static void
buf_clean(struct buf *b, const char *str, enum clean_mode mode)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0, k;
	uint32_t cp;
	char hex[8];

	while (i < n) {
		k = utf8_seq(s + i, n - i, &cp);
		if (k == 0 || s[i] < 0x20 || s[i] == 0x7f) {
			if (mode == CLEAN_ESCAPE) {
				snprintf(hex, sizeof(hex), "\\x%02X", s[i]);
				buf_str(b, hex);
			} else if (k == 0)
				buf_str(b, "\xef\xbf\xbd");
			else if (mode == CLEAN_LINE)
				buf_ch(b, ' ');
			else if (s[i] == '\n' || s[i] == '\t')
				buf_ch(b, (char)s[i]);
			/* else: CR and other controls dropped */
			i++;
			continue;
		}
		buf_add(b, s + i, k);
		i += k;
	}
}

/* ---- rendering ------------------------------------------------------- */

struct render {
	const struct mail_spec *spec;
	enum clean_mode mode;
};

static const char *
render_value(const struct render *r, const char *name, size_t nlen)
{
	const struct mail_spec *sp = r->spec;
	size_t i;

	if (nlen == 3 && memcmp(name, "tag", 3) == 0)
		return sp->tag && *sp->tag ? sp->tag : NULL;
	if (nlen == 12 && memcmp(name, "review_token", 12) == 0)
		return sp->review_token && *sp->review_token ?
		    sp->review_token : NULL;
	for (i = 0; i < sp->nparams; i++) {
		const char *k = sp->params[i].key;

		if (k != NULL && strlen(k) == nlen &&
		    memcmp(k, name, nlen) == 0) {
			const char *v = sp->params[i].value;

			return v && *v ? v : NULL;
		}
	}
	return NULL;
}

static int
render_present(const struct render *r, const char *name, size_t nlen)
{
	if (nlen == 6 && memcmp(name, "errors", 6) == 0)
		return r->spec->nfindings > 0;
	return render_value(r, name, nlen) != NULL;
}

static int
name_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

static const char *
find(const char *s, const char *end, const char *needle)
{
	size_t nl = strlen(needle);

	if ((size_t)(end - s) < nl)
		return NULL;
	return memmem(s, (size_t)(end - s), needle, nl);
}

/*
 * The "{{/name}}" closing the section whose body starts at s, skipping
 * nested sections of the same name; NULL when there is none.
 */
static const char *
section_close(const char *s, const char *end, const char *name, size_t nlen)
{
	const char *p = s;
	int depth = 0;

	while ((p = find(p, end, "{{")) != NULL) {
		if (p + 2 < end && (p[2] == '#' || p[2] == '^' ||
		    p[2] == '/') && (size_t)(end - p) >= nlen + 5 &&
		    memcmp(p + 3, name, nlen) == 0 &&
		    memcmp(p + 3 + nlen, "}}", 2) == 0) {
			if (p[2] != '/')
				depth++;
			else if (depth-- == 0)
				return p;
		}
		p += 2;
	}
	return NULL;
}

static void
render_errors(const struct render *r, struct buf *out)
{
	const struct mail_spec *sp = r->spec;
	size_t i;

	for (i = 0; i < sp->nfindings; i++) {
		const struct mail_finding *f = &sp->findings[i];

		if (i > 0)
			buf_ch(out, '\n');
		buf_str(out, "  ");
		buf_clean(out, f->path ? f->path : "/", CLEAN_ESCAPE);
		buf_str(out, "  ");
		buf_clean(out, f->code ? f->code : "", CLEAN_ESCAPE);
		buf_str(out, "  ");
		buf_clean(out, f->message ? f->message : "", CLEAN_LINE);
	}
}

static void
render_text(const struct render *r, struct buf *out, const char *s,
    const char *end)
{
	const char *p, *q, *name, *body, *close, *after;
	size_t nlen;
	char kind;

	while (s < end) {
		if ((p = find(s, end, "{{")) == NULL ||
		    (q = find(p + 2, end, "}}")) == NULL) {
			buf_add(out, s, (size_t)(end - s));
			return;
		}
		buf_add(out, s, (size_t)(p - s));
		kind = p[2];
		name = p + 2;
		if (kind == '#' || kind == '^' || kind == '/')
			name++;
		nlen = (size_t)(q - name);
		if (!name_valid(name, nlen) || kind == '/') {
			/* not ours, or a stray close: shown as is */
			buf_add(out, p, (size_t)(q + 2 - p));
			s = q + 2;
			continue;
		}
		if (kind != '#' && kind != '^') {
			const char *v;

			if (nlen == 6 && memcmp(name, "errors", 6) == 0)
				render_errors(r, out);
			else if ((v = render_value(r, name, nlen)) != NULL)
				buf_clean(out, v, r->mode);
			else
				buf_add(out, p, (size_t)(q + 2 - p));
			s = q + 2;
			continue;
		}
		body = q + 2;
		/* a tag alone on its line takes the line with it */
		/* (p[-1] exists: every template starts with "Subject: ") */
		if (body < end && *body == '\n' && p[-1] == '\n')
			body++;
		if ((close = section_close(body, end, name, nlen)) == NULL) {
			buf_add(out, p, (size_t)(q + 2 - p));
			s = q + 2;
			continue;
		}
		after = close + nlen + 5;
		if (after < end && *after == '\n' && close[-1] == '\n')
			after++;
		if (render_present(r, name, nlen) == (kind == '#'))
			render_text(r, out, body, close);
		s = after;
	}
}

static int
template_find(const char *tpl, const char **text, size_t *len)
{
	size_t i;

	if (tpl == NULL)
		return -1;
	for (i = 0; i < sizeof(templates) / sizeof(templates[0]); i++)
		if (strcmp(templates[i].name, tpl) == 0) {
			*text = (const char *)templates[i].text;
			*len = *templates[i].len;
			return 0;
		}
	return -1;
}

int
mail_template_exists(const char *tpl)
{
	const char *t;
	size_t n;

	return template_find(tpl, &t, &n) == 0;
}

int
mail_render(const struct mail_spec *spec, char **subject, char **body,
    char *err, size_t errsize)
{
	struct buf sb = { 0 }, bb = { 0 }, tmp = { 0 };
	struct render r = { spec, CLEAN_LINE };
	const char *text, *end, *nl;
	size_t len;

	if (template_find(spec->tpl, &text, &len) == -1) {
		seterr(err, errsize, "unknown mail template \"%s\"",
		    spec->tpl ? spec->tpl : "(null)");
		return -1;
	}
	end = text + len;
	/* the Subject: line, an empty line, the body (checked by the tests) */
	if (len < 9 || memcmp(text, "Subject: ", 9) != 0 ||
	    (nl = memchr(text, '\n', len)) == NULL) {
		seterr(err, errsize, "template %s: no Subject line", spec->tpl);
		return -1;
	}
	if (spec->tag && *spec->tag) {
		buf_clean(&sb, spec->tag, CLEAN_LINE);
		buf_ch(&sb, ' ');
	}
	render_text(&r, &tmp, text + 9, nl);
	buf_clean(&sb, tmp.p ? tmp.p : "", CLEAN_LINE);
	buf_free(&tmp);
	if (spec->review_token && *spec->review_token) {
		buf_str(&sb, " [review:");
		buf_clean(&sb, spec->review_token, CLEAN_LINE);
		buf_ch(&sb, ']');
	}
	text = nl + 1;
	if (text < end && *text == '\n')
		text++;
	r.mode = CLEAN_BODY;
	render_text(&r, &bb, text, end);
	if (bb.len == 0 || bb.p[bb.len - 1] != '\n')
		buf_ch(&bb, '\n');
	*subject = buf_take(&sb, NULL);
	*body = buf_take(&bb, NULL);
	return 0;
}

/* ---- encodings ------------------------------------------------------- */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
buf_b64(struct buf *b, const unsigned char *s, size_t n)
{
	char q[4];
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		q[0] = b64chars[s[i] >> 2];
		q[1] = b64chars[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		q[2] = b64chars[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		q[3] = b64chars[s[i + 2] & 63];
		buf_add(b, q, 4);
	}
	if (n - i == 1) {
		q[0] = b64chars[s[i] >> 2];
		q[1] = b64chars[(s[i] & 3) << 4];
		q[2] = q[3] = '=';
		buf_add(b, q, 4);
	} else if (n - i == 2) {
		q[0] = b64chars[s[i] >> 2];
		q[1] = b64chars[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		q[2] = b64chars[(s[i + 1] & 15) << 2];
		q[3] = '=';
		buf_add(b, q, 4);
	}
}

/* A base64 body: 76-column lines, each ended by CRLF. */
static void
buf_b64_lines(struct buf *b, const unsigned char *s, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < 57 ? n - i : 57;	/* 57 bytes -> 76 characters */
		buf_b64(b, s + i, k);
		buf_str(b, "\r\n");
	}
}

/*
 * UTF-8 text as RFC 2047 B encoded-words, the first starting at column
 * col, the others on continuation lines; each word at most 75 characters,
 * each line at most 76, never a UTF-8 character split between words.
 */
static void
buf_words(struct buf *b, const char *str, size_t col)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0, take, k, room, max;
	uint32_t cp;
	int first = 1;

	do {
		if (!first) {
			buf_str(b, "\r\n ");
			col = 1;
		}
		room = MAIL_LINE - col;
		if (room > MAIL_WORD_MAX)
			room = MAIL_WORD_MAX;
		/* "=?UTF-8?B?" + "?=" is 12; 4 base64 characters per 3 bytes */
		max = (room - 12) / 4 * 3;
		take = 0;
		while (i + take < n) {
			k = utf8_seq(s + i + take, n - i - take, &cp);
			if (k == 0)
				k = 1;	/* cleaned before; never split anyway */
			if (take + k > max)
				break;
			take += k;
		}
		if (take == 0 && i < n)
			abort();	/* col too far right: a bug */
		buf_str(b, "=?UTF-8?B?");
		buf_b64(b, s + i, take);
		buf_str(b, "?=");
		i += take;
		first = 0;
	} while (i < n);
}

static int
is_ascii_text(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* RFC 2231 attr-char */
static int
attr_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("!#$&+-.^_`|~", c) != NULL;
}

/*
 * filename*=UTF-8''%E7%A4%BA… (RFC 2231), as continuations
 * filename*0*=…; filename*1*=… each on its own line when long; a
 * segment never ends inside a UTF-8 character.
 */
static void
buf_rfc2231(struct buf *b, const char *param, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	struct buf seg[64];
	size_t nseg = 0, i, n = strlen(str);
	char hex[4], num[32];

	memset(seg, 0, sizeof(seg));
	for (i = 0; i < n; i++) {
		size_t need = attr_char(s[i]) ? 1 : 3;

		/* start a new segment at a character boundary when full */
		if (seg[nseg].len + need > 48 && (s[i] & 0xc0) != 0x80 &&
		    nseg + 1 < sizeof(seg) / sizeof(seg[0]))
			nseg++;
		if (need == 1)
			buf_ch(&seg[nseg], (char)s[i]);
		else {
			snprintf(hex, sizeof(hex), "%%%02X", s[i]);
			buf_str(&seg[nseg], hex);
		}
	}
	nseg++;
	for (i = 0; i < nseg; i++) {
		buf_str(b, i == 0 ? "\r\n " : ";\r\n ");
		buf_str(b, param);
		if (nseg > 1) {
			snprintf(num, sizeof(num), "*%zu", i);
			buf_str(b, num);
		}
		buf_str(b, i == 0 ? "*=UTF-8''" : "*=");
		buf_add(b, seg[i].p, seg[i].len);
		buf_free(&seg[i]);
	}
}

/* ---- validation ------------------------------------------------------ */

int
mail_addr_valid(const char *s)
{
	const char *at = NULL, *p;

	if (s == NULL || *s == '\0' || strlen(s) > 254)
		return 0;
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || strchr("<>()[]\\,;:\"", c))
			return 0;
		if (c == '@') {
			if (at != NULL)
				return 0;
			at = p;
		}
	}
	return at != NULL && at != s && at[1] != '\0';
}

/* Length of the msg-id at s, 0 when there is none. */
static size_t
msgid_len(const char *s)
{
	const char *p;
	int at = 0;

	if (*s != '<')
		return 0;
	for (p = s + 1; *p && *p != '>'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || c == '<')
			return 0;
		if (c == '@')
			at++;
	}
	if (*p != '>' || at != 1 || p[-1] == '@' || s[1] == '@' ||
	    p - s + 1 > 250)
		return 0;
	return (size_t)(p - s + 1);
}

int
mail_msgid_valid(const char *s)
{
	size_t n;

	return s != NULL && (n = msgid_len(s)) != 0 && s[n] == '\0';
}

static int
msgid_list_valid(const char *s)
{
	size_t n;

	if (s == NULL || *s == '\0')
		return 0;
	for (;;) {
		if ((n = msgid_len(s)) == 0)
			return 0;
		s += n;
		if (*s == '\0')
			return 1;
		if (*s != ' ' || s[1] == '\0')
			return 0;
		s++;
	}
}

/* Printable ASCII only: what may stand in the tag and the token. */
static int
header_text_valid(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static int
content_type_valid(const char *s)
{
	int slash = 0;
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) > 100)
		return 0;
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '/') {
			if (slash++ || p == s || p[1] == '\0')
				return 0;
			continue;
		}
		if (c <= 0x20 || c >= 0x7f || strchr("()<>@,;:\\\"[]?=", c))
			return 0;
	}
	return slash == 1;
}

/* ---- headers --------------------------------------------------------- */

int
mail_date_format(time_t t, char *buf, size_t size)
{
	static const char days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr",
		"May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	int n;

	/* beiand serves China: +0800, no daylight saving, no TZ lookup */
	if (t > (time_t)(INT64_MAX - 8 * 3600))
		return -1;
	t += 8 * 3600;
	if (gmtime_r(&t, &tm) == NULL || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11)
		return -1;
	n = snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d +0800",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* "Name: v1 v2 …", folded at the spaces between ids when too long. */
static void
buf_header_ids(struct buf *b, const char *name, const char *list)
{
	const char *p = list, *sp;
	size_t col, n;

	buf_str(b, name);
	buf_str(b, ":");
	col = strlen(name) + 1;
	while (*p) {
		sp = strchr(p, ' ');
		n = sp ? (size_t)(sp - p) : strlen(p);
		if (col > strlen(name) + 1 && col + 1 + n > MAIL_LINE) {
			buf_str(b, "\r\n");
			col = 0;
		}
		buf_ch(b, ' ');
		buf_add(b, p, n);
		col += 1 + n;
		p += n;
		if (*p == ' ')
			p++;
	}
	buf_str(b, "\r\n");
}

static void
buf_header(struct buf *b, const char *name, const char *value)
{
	buf_str(b, name);
	buf_str(b, ": ");
	buf_str(b, value);
	buf_str(b, "\r\n");
}

static uint64_t
fnv1a(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The MIME part of one attachment, without its boundary line. */
static void
buf_attachment(struct buf *b, const struct mail_attachment *a)
{
	const char *ct = a->content_type ? a->content_type :
	    "application/octet-stream";
	const char *fn = a->filename && *a->filename ? a->filename :
	    "attachment";
	struct buf clean = { 0 };

	buf_clean(&clean, fn, CLEAN_LINE);
	buf_str(b, "Content-Type: ");
	buf_str(b, ct);
	if (is_ascii_text(clean.p) && strpbrk(clean.p, "\"\\") == NULL &&
	    clean.len <= 50) {
		buf_str(b, ";\r\n name=\"");
		buf_str(b, clean.p);
		buf_str(b, "\"\r\nContent-Disposition: attachment;\r\n"
		    " filename=\"");
		buf_str(b, clean.p);
		buf_str(b, "\"\r\n");
	} else {
		/*
		 * RFC 2231 for readers that know it, an RFC 2047 name= for
		 * the many that only know that.  Some of those decode the
		 * word before unquoting (libetpan does): no '"' or '\\' in
		 * the fallback name, the exact name is in filename*.
		 */
		char *alt = xstrdup(clean.p), *q;

		for (q = alt; *q; q++)
			if (*q == '"')
				*q = '\'';
			else if (*q == '\\')
				*q = '_';
		buf_str(b, ";\r\n name=\"");
		buf_words(b, alt, 7);
		free(alt);
		buf_str(b, "\"\r\nContent-Disposition: attachment;");
		buf_rfc2231(b, "filename", clean.p);
		buf_str(b, "\r\n");
	}
	buf_str(b, "Content-Transfer-Encoding: base64\r\n\r\n");
	buf_b64_lines(b, a->data, a->len);
	buf_free(&clean);
}

int
mail_compose(const struct mail_spec *spec, char **out, size_t *outlen,
    char *err, size_t errsize)
{
	struct buf m = { 0 }, text = { 0 }, parts = { 0 };
	char *subject = NULL, *plain = NULL, date[64], boundary[64];
	const char *p;
	uint64_t h;
	size_t i;
	int rc = -1, attempt;

	if (!mail_addr_valid(spec->from) || !mail_addr_valid(spec->to) ||
	    (spec->reply_to && !mail_addr_valid(spec->reply_to))) {
		seterr(err, errsize, "mail %s: bad From, To or Reply-To address",
		    spec->tpl ? spec->tpl : "?");
		goto out;
	}
	if (!mail_msgid_valid(spec->message_id) ||
	    (spec->in_reply_to && !mail_msgid_valid(spec->in_reply_to)) ||
	    (spec->references && !msgid_list_valid(spec->references))) {
		seterr(err, errsize, "mail %s: bad Message-ID, In-Reply-To or "
		    "References", spec->tpl ? spec->tpl : "?");
		goto out;
	}
	if ((spec->tag && !header_text_valid(spec->tag)) ||
	    (spec->review_token && !header_text_valid(spec->review_token))) {
		seterr(err, errsize, "mail %s: control byte in tag or token",
		    spec->tpl ? spec->tpl : "?");
		goto out;
	}
	for (i = 0; i < spec->nattachments; i++)
		if (spec->attachments[i].content_type &&
		    !content_type_valid(spec->attachments[i].content_type)) {
			seterr(err, errsize, "mail %s: bad content type of "
			    "attachment %zu", spec->tpl, i + 1);
			goto out;
		}
	if (mail_date_format(spec->date, date, sizeof(date)) == -1) {
		seterr(err, errsize, "mail %s: date out of range", spec->tpl);
		goto out;
	}
	if (mail_render(spec, &subject, &plain, err, errsize) == -1)
		goto out;

	/* the text in canonical form: CRLF line ends */
	for (p = plain; *p; p++) {
		if (*p == '\n')
			buf_ch(&text, '\r');
		buf_ch(&text, *p);
	}

	buf_header(&m, "Date", date);
	buf_header(&m, "From", spec->from);
	buf_header(&m, "To", spec->to);
	if (spec->reply_to)
		buf_header(&m, "Reply-To", spec->reply_to);
	buf_str(&m, "Subject: ");
	buf_words(&m, subject, 9);
	buf_str(&m, "\r\n");
	buf_header(&m, "Message-ID", spec->message_id);
	if (spec->in_reply_to)
		buf_header(&m, "In-Reply-To", spec->in_reply_to);
	if (spec->references)
		buf_header_ids(&m, "References", spec->references);
	buf_header(&m, "MIME-Version", "1.0");
	buf_header(&m, "Auto-Submitted", "auto-generated");
	buf_header(&m, MAIL_LOOP_HEADER, spec->from);

	if (spec->nattachments == 0) {
		buf_str(&m, "Content-Type: text/plain; charset=UTF-8\r\n"
		    "Content-Transfer-Encoding: base64\r\n\r\n");
		buf_b64_lines(&m, (const unsigned char *)text.p, text.len);
	} else {
		buf_str(&parts, "Content-Type: text/plain; charset=UTF-8\r\n"
		    "Content-Transfer-Encoding: base64\r\n\r\n");
		buf_b64_lines(&parts, (const unsigned char *)text.p, text.len);
		buf_ch(&parts, '\0');	/* part separator for the check */
		for (i = 0; i < spec->nattachments; i++) {
			buf_attachment(&parts, &spec->attachments[i]);
			buf_ch(&parts, '\0');
		}
		/*
		 * "=_" never occurs in base64 nor in B encoded-words, so the
		 * first candidate always fits; the check keeps it honest.
		 */
		h = fnv1a(0xcbf29ce484222325ULL, spec->message_id,
		    strlen(spec->message_id));
		for (attempt = 0;; attempt++) {
			snprintf(boundary, sizeof(boundary),
			    "=_beiand_%016llx_%d", (unsigned long long)h,
			    attempt);
			if (memmem(parts.p, parts.len, boundary,
			    strlen(boundary)) == NULL)
				break;
			h = fnv1a(h, boundary, strlen(boundary));
		}
		buf_str(&m, "Content-Type: multipart/mixed;\r\n boundary=\"");
		buf_str(&m, boundary);
		buf_str(&m, "\"\r\n\r\n"
		    "This is a MIME message in several parts.\r\n");
		for (p = parts.p; p < parts.p + parts.len; p += strlen(p) + 1) {
			buf_str(&m, "\r\n--");
			buf_str(&m, boundary);
			buf_str(&m, "\r\n");
			buf_str(&m, p);
		}
		buf_str(&m, "\r\n--");
		buf_str(&m, boundary);
		buf_str(&m, "--\r\n");
	}
	*outlen = m.len;
	*out = buf_take(&m, NULL);
	rc = 0;
out:
	free(subject);
	free(plain);
	buf_free(&m);
	buf_free(&text);
	buf_free(&parts);
	return rc;
}
