/*
 * json: a strict recursive-descent JSON reader.
 *
 * Hostile input: the text of a database column.  beiand wrote it, but the
 * reader assumes nothing: every read is bounded by the given length, the
 * recursion by JSON_DEPTH_MAX, every allocation size is checked, and a
 * document that is not exactly RFC 8259 JSON (plus the refusals listed in
 * json.h) is refused as a whole, never half-read.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"

struct jp {
	const unsigned char *s;
	size_t len, pos;
	char *err;
	size_t errsize;
};

static int __attribute__((format(printf, 2, 3)))
jp_fail(struct jp *p, const char *fmt, ...)
{
	char msg[128];
	va_list ap;

	if (p->err != NULL && p->errsize > 0) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(p->err, p->errsize, "json: offset %zu: %s", p->pos, msg);
	}
	return -1;
}

static void
jp_ws(struct jp *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
	    p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int
jp_lit(struct jp *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return jp_fail(p, "unexpected token");
	p->pos += n;
	return 0;
}

static int
hex4(struct jp *p, uint32_t *out)
{
	uint32_t v = 0;

	if (p->len - p->pos < 4)
		return jp_fail(p, "short \\u escape");
	for (size_t i = 0; i < 4; i++) {
		unsigned char c = p->s[p->pos + i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return jp_fail(p, "bad \\u escape");
	}
	p->pos += 4;
	*out = v;
	return 0;
}

static size_t
utf8_put(unsigned char *d, uint32_t cp)
{
	if (cp < 0x80) {
		d[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (unsigned char)(0xc0 | (cp >> 6));
		d[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (unsigned char)(0xe0 | (cp >> 12));
		d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		d[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (unsigned char)(0xf0 | (cp >> 18));
	d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	d[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * A string at p->pos (the opening quote).  The decoded text is never
 * longer than the escaped one (\uXXXX: 6 bytes → at most 3, a surrogate
 * pair: 12 → 4), so one buffer of the raw length suffices.
 */
static int
jp_string(struct jp *p, char **out, size_t *outlen)
{
	size_t start, end, o = 0;
	unsigned char *d;

	p->pos++;
	start = p->pos;
	/* find the closing quote first, to size the buffer */
	for (end = start; end < p->len && p->s[end] != '"'; end++)
		if (p->s[end] == '\\')
			end++;
	if (end >= p->len)
		return jp_fail(p, "unterminated string");
	d = xmalloc(end - start + 1);
	while (p->pos < end) {
		unsigned char c = p->s[p->pos];
		uint32_t cp, lo;
		size_t k;

		if (c < 0x20) {
			jp_fail(p, "control byte in string");
			goto bad;
		}
		if (c != '\\') {
			if ((k = utf8_seq(p->s + p->pos, end - p->pos,
			    &cp)) == 0) {
				jp_fail(p, "invalid UTF-8 in string");
				goto bad;
			}
			memcpy(d + o, p->s + p->pos, k);
			o += k;
			p->pos += k;
			continue;
		}
		p->pos++;
		c = p->s[p->pos++];
		switch (c) {
		case '"': d[o++] = '"'; continue;
		case '\\': d[o++] = '\\'; continue;
		case '/': d[o++] = '/'; continue;
		case 'b': d[o++] = '\b'; continue;
		case 'f': d[o++] = '\f'; continue;
		case 'n': d[o++] = '\n'; continue;
		case 'r': d[o++] = '\r'; continue;
		case 't': d[o++] = '\t'; continue;
		case 'u': break;
		default:
			p->pos--;
			jp_fail(p, "unknown escape");
			goto bad;
		}
		if (hex4(p, &cp) == -1)
			goto bad;
		if (cp == 0) {
			jp_fail(p, "\\u0000 in string");
			goto bad;
		}
		if (cp >= 0xdc00 && cp <= 0xdfff) {
			jp_fail(p, "lone low surrogate");
			goto bad;
		}
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (end - p->pos < 6 || p->s[p->pos] != '\\' ||
			    p->s[p->pos + 1] != 'u') {
				jp_fail(p, "lone high surrogate");
				goto bad;
			}
			p->pos += 2;
			if (hex4(p, &lo) == -1)
				goto bad;
			if (lo < 0xdc00 || lo > 0xdfff) {
				jp_fail(p, "high surrogate without low");
				goto bad;
			}
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		o += utf8_put(d + o, cp);
	}
	if (p->pos != end) {
		/* an escape's digits ran over the closing quote */
		jp_fail(p, "unterminated escape");
		goto bad;
	}
	p->pos = end + 1;
	d[o] = '\0';
	*out = (char *)d;
	*outlen = o;
	return 0;
bad:
	free(d);
	return -1;
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
jp_number(struct jp *p, struct json *j)
{
	size_t start = p->pos;
	char *text, *end;
	double v;

	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len || !is_digit(p->s[p->pos]))
		return jp_fail(p, "bad number");
	if (p->s[p->pos] == '0')
		p->pos++;
	else
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (p->pos >= p->len || !is_digit(p->s[p->pos]))
			return jp_fail(p, "bad fraction");
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || !is_digit(p->s[p->pos]))
			return jp_fail(p, "bad exponent");
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}
	text = xmalloc(p->pos - start + 1);
	memcpy(text, p->s + start, p->pos - start);
	text[p->pos - start] = '\0';
	errno = 0;
	v = strtod(text, &end);
	if (*end != '\0' || (errno == ERANGE && isinf(v))) {
		free(text);
		return jp_fail(p, "number out of range");
	}
	j->type = JSON_NUMBER;
	j->str = text;
	j->len = p->pos - start;
	j->num = v;
	return 0;
}

static void
json_clear(struct json *j)
{
	for (size_t i = 0; i < j->n; i++) {
		json_clear(&j->v[i]);
		if (j->k != NULL)
			free(j->k[i]);
	}
	free(j->v);
	free(j->k);
	free(j->str);
	memset(j, 0, sizeof(*j));
}

static int jp_value(struct jp *, struct json *, int);

/* Arrays and objects: members are added one by one, so that a failure
 * half-way leaves j consistent for json_clear. */
static int
jp_container(struct jp *p, struct json *j, int depth)
{
	int obj = p->s[p->pos] == '{';
	char close = obj ? '}' : ']';
	size_t cap = 0;

	if (depth >= JSON_DEPTH_MAX)
		return jp_fail(p, "nested too deeply");
	j->type = obj ? JSON_OBJECT : JSON_ARRAY;
	p->pos++;
	jp_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		size_t klen;

		jp_ws(p);
		if (obj) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return jp_fail(p, "expected a key");
			if (jp_string(p, &key, &klen) == -1)
				return -1;
			for (size_t i = 0; i < j->n; i++)
				if (strcmp(j->k[i], key) == 0) {
					free(key);
					return jp_fail(p, "duplicate key");
				}
			jp_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				free(key);
				return jp_fail(p, "expected ':'");
			}
			p->pos++;
		}
		if (j->n == cap) {
			size_t ncap = cap ? cap * 2 : 4;

			j->v = xreallocarray(j->v, ncap, sizeof(*j->v));
			if (obj)
				j->k = xreallocarray(j->k, ncap, sizeof(*j->k));
			cap = ncap;
		}
		memset(&j->v[j->n], 0, sizeof(j->v[j->n]));
		if (obj)
			j->k[j->n] = key;
		j->n++;
		if (jp_value(p, &j->v[j->n - 1], depth + 1) == -1)
			return -1;
		jp_ws(p);
		if (p->pos >= p->len)
			return jp_fail(p, "unterminated %s", obj ? "object" : "array");
		if (p->s[p->pos] == close) {
			p->pos++;
			return 0;
		}
		if (p->s[p->pos] != ',')
			return jp_fail(p, "expected ',' or '%c'", close);
		p->pos++;
	}
}

static int
jp_value(struct jp *p, struct json *j, int depth)
{
	jp_ws(p);
	if (p->pos >= p->len)
		return jp_fail(p, "expected a value");
	switch (p->s[p->pos]) {
	case '{':
	case '[':
		return jp_container(p, j, depth);
	case '"':
		j->type = JSON_STRING;
		return jp_string(p, &j->str, &j->len);
	case 't':
		j->type = JSON_TRUE;
		return jp_lit(p, "true");
	case 'f':
		j->type = JSON_FALSE;
		return jp_lit(p, "false");
	case 'n':
		j->type = JSON_NULL;
		return jp_lit(p, "null");
	default:
		return jp_number(p, j);
	}
}

int
json_parse(const char *text, size_t len, struct json **out, char *err,
    size_t errsize)
{
	struct jp p = { (const unsigned char *)text, len, 0, err, errsize };
	struct json *j;

	if (text == NULL) {
		p.len = 0;
		return jp_fail(&p, "no text");
	}
	j = xcalloc(1, sizeof(*j));
	if (jp_value(&p, j, 0) == -1)
		goto bad;
	jp_ws(&p);
	if (p.pos != p.len) {
		jp_fail(&p, "trailing bytes after the value");
		goto bad;
	}
	*out = j;
	return 0;
bad:
	json_clear(j);
	free(j);
	return -1;
}

void
json_free(struct json *j)
{
	if (j == NULL)
		return;
	json_clear(j);
	free(j);
}

const struct json *
json_get(const struct json *j, const char *key)
{
	if (j == NULL || j->type != JSON_OBJECT || key == NULL)
		return NULL;
	for (size_t i = 0; i < j->n; i++)
		if (strcmp(j->k[i], key) == 0)
			return &j->v[i];
	return NULL;
}

const char *
json_get_str(const struct json *j, const char *key)
{
	const struct json *v = json_get(j, key);

	return v != NULL && v->type == JSON_STRING ? v->str : NULL;
}

/* ---- writing -------------------------------------------------------- */

size_t
json_plain_span(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k;
	uint32_t cp;

	while (*p != '\0') {
		if (*p < 0x80) {
			if (*p == '"' || *p == '\\' || *p < 0x20 || *p == 0x7f)
				break;
			k = 1;
		} else if ((k = utf8_seq(p, 4, &cp)) == 0)
			break; /* (a sequence stops at the NUL: no byte past) */
		p += k;
	}
	return (size_t)(p - (const unsigned char *)s);
}

size_t
json_escape(unsigned char c, char buf[6])
{
	static const char hex[] = "0123456789abcdef";

	buf[0] = '\\';
	if (c == '"' || c == '\\') {
		buf[1] = (char)c;
		return 2;
	}
	if (c >= 0x80) {
		/* not UTF-8 (a name in GBK, say): the text \xHH, as in a
		 * receipt, for JSON cannot hold the byte itself */
		memcpy(buf + 1, "\\x", 2);
		buf[3] = hex[c >> 4];
		buf[4] = hex[c & 0xf];
		return 5;
	}
	memcpy(buf + 1, "u00", 3);
	buf[4] = hex[c >> 4];
	buf[5] = hex[c & 0xf];
	return 6;
}

void
json_put_string(FILE *fp, const char *s)
{
	char e[6];
	size_t n;

	putc('"', fp);
	for (;;) {
		n = json_plain_span(s);
		fwrite(s, 1, n, fp);
		if (s[n] == '\0')
			break;
		fwrite(e, 1, json_escape((unsigned char)s[n], e), fp);
		s += n + 1;
	}
	putc('"', fp);
}

char *
json_refusal_params(const char *id, const char *state, const char *upload,
    const struct errlist *el)
{
	char *s = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&s, &len);

	if (fp == NULL)
		abort();
	putc('{', fp);
	if (id != NULL && id[0] != '\0') {
		fputs("\"id\":", fp);
		json_put_string(fp, id);
		putc(',', fp);
	}
	if (state != NULL) {
		fputs("\"state\":", fp);
		json_put_string(fp, state);
		putc(',', fp);
	}
	if (upload != NULL) {
		fputs("\"upload\":", fp);
		json_put_string(fp, upload);
		putc(',', fp);
	}
	fputs("\"errors\":[", fp);
	for (size_t i = 0; i < errlist_count(el); i++) {
		const struct err_item *e = errlist_get(el, i);

		fputs(i ? ",{\"path\":" : "{\"path\":", fp);
		json_put_string(fp, e->path);
		fprintf(fp, ",\"code\":\"%s\",\"severity\":\"%s\",\"message\":",
		    err_code_name(e->code),
		    e->severity == SEV_WARNING ? "warning" : "error");
		json_put_string(fp, e->message);
		putc('}', fp);
	}
	fputs("]}", fp);
	fclose(fp);
	return s;
}
