/*
 * html: the one writer of the console's pages (html.h).
 *
 * Hostile input: every string but the literals given to html_raw() —
 * filing fields from packages (GB18030 converted, or not UTF-8 at all if
 * something slipped past), mail addresses, names, error messages, the
 * path of a request.  Nothing here trusts them to be text: each is
 * escaped, and bytes that are not valid UTF-8 or are control characters
 * become U+FFFD.  The page grows in a struct buf (lib/buf.h).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"
#include "web/html.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

void
html_init(struct html *h)
{
	memset(h, 0, sizeof(*h));
}

void
html_free(struct html *h)
{
	buf_free(&h->b);
}

char *
html_take(struct html *h, size_t *len)
{
	return buf_take(&h->b, len);
}

void
html_raw_literal(struct html *h, const char *literal)
{
	buf_add(&h->b, literal, strlen(literal));
}

/* s[0..n) escaped: the same for content and attribute values. */
static void
escape(struct html *h, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;

	while (i < n) {
		const char *rep = NULL;
		size_t step = 1;
		uint32_t cp;

		switch (p[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '\t': case '\n': break;
		default:
			if (p[i] < 0x20 || p[i] == 0x7f)
				rep = REPLACEMENT;
			else if (p[i] >= 0x80) {
				step = utf8_seq(p + i, n - i, &cp);
				if (step == 0) {
					step = 1; /* one bad byte at a time */
					rep = REPLACEMENT;
				} else if (cp < 0xa0)
					rep = REPLACEMENT; /* C1 controls */
			}
		}
		if (rep == NULL) {
			i += step;
			run += step;
			continue;
		}
		buf_add(&h->b, (const char *)p + i - run, run);
		run = 0;
		buf_add(&h->b, rep, strlen(rep));
		i += step;
	}
	buf_add(&h->b, (const char *)p + i - run, run);
}

void
html_text(struct html *h, const char *s)
{
	if (s != NULL)
		escape(h, s, strlen(s));
}

void
html_textn(struct html *h, const char *s, size_t n)
{
	if (s != NULL)
		escape(h, s, n);
}

void
html_attr(struct html *h, const char *s)
{
	html_text(h, s);
}

static void
escapef(struct html *h, const char *fmt, va_list ap)
{
	char *s = xvasprintf(fmt, ap);

	escape(h, s, strlen(s));
	free(s);
}

void
html_textf(struct html *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	escapef(h, fmt, ap);
	va_end(ap);
}

void
html_attrf(struct html *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	escapef(h, fmt, ap);
	va_end(ap);
}

void
html_url_segment(struct html *h, const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		char b[3];

		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~') {
			buf_add(&h->b, (const char *)p, 1);
			continue;
		}
		b[0] = '%';
		b[1] = hexd[*p >> 4];
		b[2] = hexd[*p & 15];
		buf_add(&h->b, b, 3);
	}
}

char *
html_escape(const char *s)
{
	struct html h;

	html_init(&h);
	html_text(&h, s);
	return html_take(&h, NULL);
}
