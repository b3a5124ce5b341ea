/*
 * mime_header: what a mail's header fields and parts say, decoded:
 * charsets, transfer encodings, RFC 2047 encoded words, the header block,
 * RFC 2231 parameters of Content-Type and Content-Disposition, and the
 * From and Reply-To mailboxes.  parsers/mime.c walks the message with
 * these (declared in include/parsers/mime_int.h).
 *
 * Every byte is hostile: anyone can mail the intake address.  A broken
 * charset, transfer encoding, encoded word or parameter never fails the
 * mail: what can be read is read and invalid bytes become U+FFFD.  Only a
 * fixed list of charsets reaches iconv; any other name is never opened.
 * A parameter has at most MIME_MAX_SECTIONS RFC 2231 continuations, and
 * libetpan's mailimf, which parses the From and Reply-To mailboxes, sees
 * at most MIME_ADDR_SCAN bytes of them.  Decoded header text carries no
 * control bytes.
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/mailimf.h>

#include "lib/utf8.h"
#include "lib/xmalloc.h"
#include "parsers/mime.h"
#include "parsers/mime_int.h"

#define MIME_MAX_SECTIONS 128 /* RFC 2231 continuations of one parameter */
#define MIME_CHARSET_MAX 64
#define MIME_ADDR_SCAN 65536 /* bytes of From/Reply-To given to mailimf */

/* ---- UTF-8 */

/* Append p[0..n) keeping valid UTF-8, each invalid byte as U+FFFD, NULs
 * dropped. */
static void
utf8_clean_add(struct sbuf *b, const unsigned char *p, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		if (p[i] == '\0') {
			i++;
			continue;
		}
		if ((k = utf8_seq(p + i, n - i, &cp)) == 0) {
			sb_add(b, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		sb_add(b, p + i, k);
		i += k;
	}
}

/* ---- charsets */

struct charset_map {
	const char *mime;  /* lower case */
	const char *iconv; /* NULL: UTF-8 itself */
};

static const struct charset_map charsets[] = {
	{ "utf-8", NULL }, { "utf8", NULL }, { "us-ascii", NULL },
	{ "ascii", NULL }, { "ansi_x3.4-1968", NULL },
	{ "gb2312", "GB18030" }, { "gbk", "GB18030" }, { "cp936", "GB18030" },
	{ "x-gbk", "GB18030" }, { "gb18030", "GB18030" },
	{ "euc-cn", "GB18030" }, { "csgb2312", "GB18030" },
	{ "x-euc-cn", "GB18030" }, { "ms936", "GB18030" },
	{ "windows-936", "GB18030" },
	{ "big5", "BIG5" }, { "x-big5", "BIG5" }, { "cn-big5", "BIG5" },
	{ "big5-hkscs", "BIG5-HKSCS" },
	{ "iso-8859-1", "ISO-8859-1" }, { "iso8859-1", "ISO-8859-1" },
	{ "latin1", "ISO-8859-1" }, { "iso_8859-1", "ISO-8859-1" },
	{ "windows-1252", "CP1252" }, { "cp1252", "CP1252" },
};

size_t
mime_iconv_names(const char **names, size_t max)
{
	size_t n = 0;

	/* GB18030 first: archive names and XML documents use it too. */
	if (max > 0)
		names[n++] = "GB18030";
	for (size_t i = 0; i < sizeof(charsets) / sizeof(charsets[0]); i++) {
		size_t k;

		if (charsets[i].iconv == NULL)
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(names[k], charsets[i].iconv) == 0)
				break;
		if (k == n && n < max)
			names[n++] = charsets[i].iconv;
	}
	return n;
}

static void
iconv_add(struct sbuf *b, const char *from, const unsigned char *in,
    size_t n)
{
	iconv_t cd;
	struct sbuf tmp = { 0 };
	char out[4096];
	char *ip = (char *)(uintptr_t)in;
	size_t il = n;

	if ((cd = iconv_open("UTF-8", from)) == (iconv_t)-1) {
		utf8_clean_add(b, in, n);
		return;
	}
	while (il > 0) {
		char *op = out;
		size_t ol = sizeof(out);
		size_t r = iconv(cd, &ip, &il, &op, &ol);

		sb_add(&tmp, out, (size_t)(op - out));
		if (r != (size_t)-1)
			continue;
		if (errno == E2BIG)
			continue;
		/* EILSEQ: skip the byte; EINVAL: truncated at the end. */
		sb_add(&tmp, "\xef\xbf\xbd", 3);
		if (errno != EILSEQ) {
			il = 0;
			break;
		}
		ip++;
		il--;
		(void)iconv(cd, NULL, NULL, NULL, NULL);
	}
	iconv_close(cd);
	/* iconv's output is UTF-8 but may hold NULs the input had. */
	utf8_clean_add(b, (const unsigned char *)tmp.s, tmp.len);
	free(tmp.s);
}

/* charset NULL: undeclared (raw 8-bit header bytes): UTF-8 if valid,
 * else GB18030, the usual sender's.  A declared but unknown charset
 * never reaches iconv. */
static void
charset_add(struct sbuf *b, const char *charset, const unsigned char *in,
    size_t n)
{
	char name[MIME_CHARSET_MAX];
	size_t i;

	if (charset == NULL) {
		if (utf8_valid(in, n))
			utf8_clean_add(b, in, n);
		else
			iconv_add(b, "GB18030", in, n);
		return;
	}
	for (i = 0; charset[i] != '\0' && i < sizeof(name) - 1; i++)
		name[i] = (charset[i] >= 'A' && charset[i] <= 'Z') ?
		    charset[i] - 'A' + 'a' : charset[i];
	name[i] = '\0';
	if (charset[i] != '\0')
		name[0] = '\0'; /* too long: unknown */
	for (i = 0; i < sizeof(charsets) / sizeof(charsets[0]); i++) {
		if (strcmp(name, charsets[i].mime) != 0)
			continue;
		if (charsets[i].iconv == NULL)
			utf8_clean_add(b, in, n);
		else
			iconv_add(b, charsets[i].iconv, in, n);
		return;
	}
	utf8_clean_add(b, in, n);
}

char *
mime_charset_decode(const char *charset, const void *in, size_t len)
{
	struct sbuf b = { 0 };

	charset_add(&b, charset, in, len);
	return sb_done(&b);
}

/* ---- transfer encodings */

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Lenient base64: bytes outside the alphabet are skipped; '=' ends a
 * quantum, so that concatenated encodings decode too. */
static void
b64_decode(struct sbuf *b, const unsigned char *p, size_t n)
{
	unsigned int acc = 0;
	int k = 0, v;
	size_t i;
	unsigned char o[3];

	for (i = 0; i < n; i++) {
		if (p[i] == '=') {
			if (k == 2) {
				o[0] = (unsigned char)(acc >> 4);
				sb_add(b, o, 1);
			} else if (k == 3) {
				o[0] = (unsigned char)(acc >> 10);
				o[1] = (unsigned char)(acc >> 2);
				sb_add(b, o, 2);
			}
			acc = 0;
			k = 0;
			continue;
		}
		if ((v = b64_value(p[i])) < 0)
			continue;
		acc = (acc << 6) | (unsigned int)v;
		if (++k == 4) {
			o[0] = (unsigned char)(acc >> 16);
			o[1] = (unsigned char)(acc >> 8);
			o[2] = (unsigned char)acc;
			sb_add(b, o, 3);
			acc = 0;
			k = 0;
		}
	}
	if (k == 2) {
		o[0] = (unsigned char)(acc >> 4);
		sb_add(b, o, 1);
	} else if (k == 3) {
		o[0] = (unsigned char)(acc >> 10);
		o[1] = (unsigned char)(acc >> 2);
		sb_add(b, o, 2);
	}
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Quoted-printable; header != 0 for RFC 2047 "Q" ('_' is a space).  A
 * '=' not followed by two hex digits or a line end stays as it is. */
static void
qp_decode(struct sbuf *b, const unsigned char *p, size_t n, int header)
{
	size_t i = 0;
	int h, l;

	while (i < n) {
		unsigned char c = p[i];

		if (c == '_' && header) {
			sb_addc(b, ' ');
			i++;
		} else if (c != '=') {
			sb_addc(b, (char)c);
			i++;
		} else if (i + 1 < n && p[i + 1] == '\n') {
			i += 2;
		} else if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') {
			i += 3;
		} else if (i + 2 < n && (h = hex_value(p[i + 1])) >= 0 &&
		    (l = hex_value(p[i + 2])) >= 0) {
			sb_addc(b, (char)(h << 4 | l));
			i += 3;
		} else if (i + 1 == n || (i + 2 == n && p[i + 1] == '\r')) {
			i = n; /* soft break at the very end */
		} else {
			sb_addc(b, '=');
			i++;
		}
	}
}

void
mime_body_decode(struct sbuf *b, const char *cte, const char *p, size_t n)
{
	char enc[32] = "";

	if (cte != NULL) {
		size_t i;

		for (i = 0; cte[i] != '\0' && !is_space(cte[i]) &&
		    cte[i] != ';' && cte[i] != '(' && i < sizeof(enc) - 1; i++)
			enc[i] = cte[i];
		enc[i] = '\0';
		lower(enc);
	}
	if (strcmp(enc, "base64") == 0)
		b64_decode(b, (const unsigned char *)p, n);
	else if (strcmp(enc, "quoted-printable") == 0)
		qp_decode(b, (const unsigned char *)p, n, 0);
	else
		sb_add(b, p, n); /* 7bit, 8bit, binary, unknown */
}

/* ---- RFC 2047 */

/*
 * Recognise "=?charset?E?text?=" at p; fills the pieces.  On failure
 * *total is how far no word can start: when the text runs into white
 * space or the end without "?=", every start before that point would too
 * (this keeps a header of many "=?x?B?" starts linear).
 */
static int
ew_parse(const char *p, size_t n, const char **cs, size_t *cslen, char *enc,
    const char **txt, size_t *txtlen, size_t *total)
{
	size_t i = 2, c0, t0;

	*total = 1;
	if (n < 8 || p[0] != '=' || p[1] != '?')
		return 0;
	c0 = i;
	while (i < n && p[i] != '?' && p[i] > ' ' && p[i] < 0x7f)
		i++;
	if (i >= n || p[i] != '?' || i == c0 || i - c0 >= MIME_CHARSET_MAX)
		return 0;
	*cs = p + c0;
	*cslen = i - c0;
	i++;
	if (i + 1 >= n || p[i + 1] != '?')
		return 0;
	if (p[i] != 'B' && p[i] != 'b' && p[i] != 'Q' && p[i] != 'q')
		return 0;
	*enc = (p[i] == 'B' || p[i] == 'b') ? 'B' : 'Q';
	i += 2;
	t0 = i;
	while (i + 1 < n && !(p[i] == '?' && p[i + 1] == '=')) {
		if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
		    p[i] == '\n') {
			*total = i;
			return 0;
		}
		i++;
	}
	if (i + 1 >= n) {
		*total = n;
		return 0;
	}
	*txt = p + t0;
	*txtlen = i - t0;
	*total = i + 2;
	return 1;
}

static void
flush_pending(struct sbuf *out, struct sbuf *pend, char *pcs)
{
	if (pend->len > 0)
		charset_add(out, pcs, (const unsigned char *)pend->s, pend->len);
	pend->len = 0;
	pcs[0] = '\0';
}

/* Decode encoded words in s[0..n) into out.  Adjacent words of one
 * charset are joined before conversion: clients split a multibyte
 * character across words.  White space between words is dropped. */
static void
ew_decode(struct sbuf *out, const char *s, size_t n)
{
	struct sbuf pend = { 0 };
	char pcs[MIME_CHARSET_MAX] = "";
	size_t i = 0, raw = 0;
	int after_ew = 0;

	while (i < n) {
		const char *cs, *txt;
		size_t cslen, txtlen, total, k;
		char enc, cs1[MIME_CHARSET_MAX], *star;

		if (s[i] != '=') {
			i++;
			continue;
		}
		if (!ew_parse(s + i, n - i, &cs, &cslen, &enc, &txt, &txtlen,
		    &total)) {
			i += total;
			continue;
		}
		/* The raw run s[raw..i): dropped when only white space
		 * between two words. */
		for (k = raw; k < i; k++)
			if (s[k] != ' ' && s[k] != '\t' && s[k] != '\r' &&
			    s[k] != '\n')
				break;
		if (!(after_ew && k == i) && raw < i) {
			flush_pending(out, &pend, pcs);
			charset_add(out, NULL, (const unsigned char *)s + raw,
			    i - raw);
		}
		memcpy(cs1, cs, cslen);
		cs1[cslen] = '\0';
		if ((star = strchr(cs1, '*')) != NULL)
			*star = '\0'; /* RFC 2231 §5 language */
		if (strcasecmp(cs1, pcs) != 0)
			flush_pending(out, &pend, pcs);
		memcpy(pcs, cs1, strlen(cs1) + 1);
		if (enc == 'B')
			b64_decode(&pend, (const unsigned char *)txt, txtlen);
		else
			qp_decode(&pend, (const unsigned char *)txt, txtlen, 1);
		i += total;
		raw = i;
		after_ew = 1;
	}
	flush_pending(out, &pend, pcs);
	if (raw < n)
		charset_add(out, NULL, (const unsigned char *)s + raw, n - raw);
	free(pend.s);
}

char *
mime_header_decode(const char *value)
{
	struct sbuf b = { 0 };
	char *s;

	ew_decode(&b, value, strlen(value));
	s = sb_done(&b);
	ctl_blank(s);
	return s;
}

/* ---- header block */

void
mime_hdrs_free(struct hdrs *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i].value);
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

/* Unfold p[0..n): line ends go, the white space after them stays. */
static char *
unfold(const char *p, size_t n)
{
	char *v = xmalloc(n + 1);
	size_t i, o = 0, a, z;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' || p[i] == '\n')
			continue;
		v[o++] = p[i] == '\0' ? ' ' : p[i];
	}
	for (a = 0; a < o && is_space(v[a]); a++)
		;
	for (z = o; z > a && is_space(v[z - 1]); z--)
		;
	memmove(v, v + a, z - a);
	v[z - a] = '\0';
	return v;
}

/* A header field line: a name of printable ASCII but ':', then ':'. */
size_t
mime_field_name_len(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && p[i] != ':'; i++)
		if (p[i] <= ' ' || p[i] >= 0x7f)
			return 0;
	return (i < n && i > 0) ? i : 0;
}

/*
 * Split the header block of p[0..n) into h; returns the offset of the
 * body.  The block ends at an empty line, or at the first line that is
 * neither a field nor a continuation (taken as the body's first line).
 */
size_t
mime_hdrs_parse(const char *p, size_t n, struct hdrs *h)
{
	size_t i = 0, vstart = 0, vend = 0;
	int open = 0;

	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t eol = nl ? (size_t)(nl - p) : n;
		size_t next = nl ? eol + 1 : n;
		size_t ll = eol - i, nlen;

		if (ll > 0 && p[eol - 1] == '\r')
			ll--;
		if (ll == 0) {
			i = next;
			break;
		}
		if (is_wsp(p[i])) {
			if (open)
				vend = eol;
			i = next;
			continue;
		}
		if ((nlen = mime_field_name_len(p + i, ll)) == 0)
			break;
		if (open)
			h->v[h->n - 1].value = unfold(p + vstart, vend - vstart);
		xgrow(&h->v, &h->cap, h->n, sizeof(*h->v));
		h->v[h->n].name = p + i;
		h->v[h->n].namelen = nlen;
		h->v[h->n].value = NULL;
		h->n++;
		open = 1;
		vstart = i + nlen + 1;
		vend = eol;
		i = next;
	}
	if (open)
		h->v[h->n - 1].value = unfold(p + vstart, vend - vstart);
	return i;
}

const char *
mime_hdr_get(const struct hdrs *h, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].namelen == nl &&
		    strncasecmp(h->v[i].name, name, nl) == 0)
			return h->v[i].value;
	return NULL;
}

/* ---- Content-Type / Content-Disposition parameters */

void
mime_params_free(struct params *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->v[i].name);
		free(ps->v[i].value);
	}
	free(ps->v);
	free(ps->token);
	memset(ps, 0, sizeof(*ps));
}

/* Lenient: `token *(";" name "=" value)`, a value quoted (with
 * backslash escapes) or running to the next ';'. */
void
mime_params_parse(const char *s, struct params *ps)
{
	size_t i = 0, n = strlen(s), a, z;

	memset(ps, 0, sizeof(*ps));
	while (i < n && is_space(s[i]))
		i++;
	a = i;
	while (i < n && s[i] != ';' && !is_space(s[i]) && s[i] != '(')
		i++;
	ps->token = xstrndup(s + a, i - a);
	lower(ps->token);
	while (i < n) {
		struct sbuf v = { 0 };
		char *name;

		while (i < n && s[i] != ';')
			i++;
		if (i >= n)
			break;
		i++;
		while (i < n && is_space(s[i]))
			i++;
		a = i;
		while (i < n && s[i] != '=' && s[i] != ';')
			i++;
		for (z = i; z > a && is_space(s[z - 1]); z--)
			;
		if (i >= n || s[i] != '=' || z == a)
			continue;
		name = xstrndup(s + a, z - a);
		lower(name);
		i++;
		while (i < n && is_space(s[i]))
			i++;
		if (i < n && s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++) {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				sb_addc(&v, s[i]);
			}
			if (i < n)
				i++;
		} else {
			a = i;
			while (i < n && s[i] != ';')
				i++;
			for (z = i; z > a && is_space(s[z - 1]); z--)
				;
			sb_add(&v, s + a, z - a);
		}
		xgrow(&ps->v, &ps->cap, ps->n, sizeof(*ps->v));
		ps->v[ps->n].name = name;
		ps->v[ps->n].value = sb_done(&v);
		ps->n++;
	}
}

const char *
mime_param_raw(const struct params *ps, const char *name)
{
	for (size_t i = 0; i < ps->n; i++)
		if (strcmp(ps->v[i].name, name) == 0)
			return ps->v[i].value;
	return NULL;
}

static void
pct_decode(struct sbuf *b, const char *s)
{
	int h, l;

	for (; *s != '\0'; s++) {
		if (s[0] == '%' && (h = hex_value((unsigned char)s[1])) >= 0 &&
		    (l = hex_value((unsigned char)s[2])) >= 0) {
			sb_addc(b, (char)(h << 4 | l));
			s += 2;
		} else
			sb_addc(b, *s);
	}
}

/* "charset'language'%XX..." of an RFC 2231 extended value: cut the
 * charset off into cs (may be ""), return the rest.  Without the two
 * quotes the whole value is the text. */
static const char *
ext_split(const char *v, char *cs, size_t cssize)
{
	const char *q1 = strchr(v, '\''), *q2;

	cs[0] = '\0';
	if (q1 == NULL || (q2 = strchr(q1 + 1, '\'')) == NULL)
		return v;
	if ((size_t)(q1 - v) < cssize) {
		memcpy(cs, v, (size_t)(q1 - v));
		cs[q1 - v] = '\0';
	}
	return q2 + 1;
}

/* Convert the percent-decoded bytes of b from charset cs ("" unknown). */
static char *
ext_finish(struct sbuf *b, const char *cs)
{
	char *raw, *s;
	size_t n = b->len;

	raw = sb_done(b);
	s = mime_charset_decode(cs[0] ? cs : NULL, raw, n);
	free(raw);
	ctl_blank(s);
	return s;
}

/*
 * The decoded UTF-8 value of parameter `name`, or NULL: RFC 2231
 * "name*" or the continuations "name*0", "name*0*", "name*1*" … (plain
 * and encoded pieces mixed, the charset from piece 0), else "name"
 * itself, RFC 2047 decoded (Outlook puts encoded words in quotes) or raw
 * 8-bit read as UTF-8 or GB18030.
 */
char *
mime_param_get(const struct params *ps, const char *name)
{
	const struct param *sec[MIME_MAX_SECTIONS];
	int secenc[MIME_MAX_SECTIONS];
	size_t nl = strlen(name), i, k;
	char cs[MIME_CHARSET_MAX];
	struct sbuf b = { 0 };
	const char *v;

	memset(sec, 0, sizeof(sec));
	for (i = 0; i < ps->n; i++) {
		const char *pn = ps->v[i].name;
		unsigned long num = 0;
		size_t d = 0;

		if (strncmp(pn, name, nl) != 0 || pn[nl] != '*')
			continue;
		if (pn[nl + 1] == '\0') {
			v = ext_split(ps->v[i].value, cs, sizeof(cs));
			pct_decode(&b, v);
			return ext_finish(&b, cs);
		}
		for (pn += nl + 1; *pn >= '0' && *pn <= '9' && d < 4; pn++, d++)
			num = num * 10 + (unsigned long)(*pn - '0');
		if (d == 0 || num >= MIME_MAX_SECTIONS ||
		    !(*pn == '\0' || (pn[0] == '*' && pn[1] == '\0')))
			continue;
		if (sec[num] == NULL) {
			sec[num] = &ps->v[i];
			secenc[num] = *pn == '*';
		}
	}
	if (sec[0] != NULL) {
		cs[0] = '\0';
		for (k = 0; k < MIME_MAX_SECTIONS && sec[k] != NULL; k++) {
			v = sec[k]->value;
			if (!secenc[k]) {
				sb_add(&b, v, strlen(v));
				continue;
			}
			if (k == 0)
				v = ext_split(v, cs, sizeof(cs));
			pct_decode(&b, v);
		}
		return ext_finish(&b, cs);
	}
	if ((v = mime_param_raw(ps, name)) == NULL)
		return NULL;
	return mime_header_decode(v);
}

/* ---- addresses */

char *
mime_addr_clean(const char *a, size_t n)
{
	char *s, *at;
	size_t i;

	while (n > 0 && is_space(*a)) {
		a++;
		n--;
	}
	while (n > 0 && is_space(a[n - 1]))
		n--;
	if (n == 0)
		return NULL;
	for (i = 0; i < n; i++)
		if ((unsigned char)a[i] <= ' ' || a[i] == 0x7f || a[i] == '<' ||
		    a[i] == '>')
			return NULL;
	s = xstrndup(a, n);
	if ((at = strrchr(s, '@')) == NULL || at == s || at[1] == '\0') {
		free(s);
		return NULL;
	}
	lower(at + 1);
	if (!utf8_valid((unsigned char *)s, strlen(s))) {
		free(s);
		return NULL;
	}
	return s;
}

/* A display name as mailimf leaves it, quotes and all: unquoted, then
 * RFC 2047 decoded (clients put encoded words inside quotes too). */
static char *
phrase_decode(const char *s)
{
	struct sbuf b = { 0 };
	char *raw, *d;

	for (; *s != '\0'; s++) {
		if (*s == '"')
			continue;
		if (*s == '\\' && s[1] != '\0')
			s++;
		sb_addc(&b, *s);
	}
	raw = sb_done(&b);
	d = mime_header_decode(raw);
	free(raw);
	return d;
}

/* The first mailbox of a From or Reply-To value: libetpan's mailimf,
 * and for what it refuses (raw 8-bit names, stray brackets) the first
 * <...> or the bare value. */
void
mime_mailbox_get(const char *value, char **addr, char **display)
{
	struct mailimf_mailbox_list *ml = NULL;
	size_t idx = 0;
	const char *lt, *gt;

	*addr = NULL;
	if (display != NULL)
		*display = NULL;
	/* Only the first mailbox matters: spare mailimf a huge list. */
	if (mailimf_mailbox_list_parse(value, strnlen(value, MIME_ADDR_SCAN),
	    &idx, &ml) == MAILIMF_NO_ERROR) {
		clistiter *it = clist_begin(ml->mb_list);
		struct mailimf_mailbox *mb = it ? clist_content(it) : NULL;

		if (mb != NULL && mb->mb_addr_spec != NULL)
			*addr = mime_addr_clean(mb->mb_addr_spec,
			    strlen(mb->mb_addr_spec));
		if (*addr != NULL && display != NULL &&
		    mb->mb_display_name != NULL)
			*display = phrase_decode(mb->mb_display_name);
		mailimf_mailbox_list_free(ml);
		if (*addr != NULL)
			return;
	}
	if ((lt = strchr(value, '<')) != NULL &&
	    (gt = strchr(lt, '>')) != NULL) {
		*addr = mime_addr_clean(lt + 1, (size_t)(gt - lt - 1));
		if (*addr != NULL && display != NULL && lt > value) {
			char *raw = xstrndup(value, (size_t)(lt - value));
			char *d = raw, *e;

			while (is_space(*d))
				d++;
			e = d + strlen(d);
			while (e > d && is_space(e[-1]))
				e--;
			*e = '\0';
			if (*d != '\0')
				*display = phrase_decode(d);
			free(raw);
		}
	} else
		*addr = mime_addr_clean(value, strlen(value));
}

/* "<x>" (first angle pair) or the bare value; "<>" is "". */
char *
mime_angle_value(const char *v)
{
	const char *lt = strchr(v, '<'), *gt;
	char *s;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL)
		s = xstrndup(lt + 1, (size_t)(gt - lt - 1));
	else
		s = xstrdup(v);
	ctl_blank(s);
	return s;
}

char *
mime_header_copy(const char *v)
{
	char *s = mime_charset_decode(NULL, v, strlen(v));

	ctl_blank(s);
	return s;
}
