/*
 * html: the one writer of the console's pages.
 *
 * Every value goes through html_text() (element content) or html_attr()
 * (a double-quoted attribute value), which escape & < > " ' and replace
 * what is not valid UTF-8, and control characters other than tab and
 * line feed, by U+FFFD: a filing's fields, an account name, an error
 * message can never open a tag, close an attribute or smuggle bytes a
 * browser would guess an encoding from.  Markup itself is written with
 * html_raw(), which takes string literals only (the macro refuses to
 * compile anything else): the page's own tags, never data.  After cgit's
 * html_txt() / html_attr() beside html_raw().
 */
#ifndef BEIAND_WEB_HTML_H
#define BEIAND_WEB_HTML_H

#include <stdarg.h>
#include <stddef.h>

#include "lib/buf.h"

struct html {
	struct buf b;
};

void html_init(struct html *h);
void html_free(struct html *h);
/* The text written so far (malloc'd, NUL-terminated; *len its length);
 * h is empty afterwards. */
char *html_take(struct html *h, size_t *len);

/* Markup: a string literal of the program, written as it is. */
#define html_raw(h, literal) html_raw_literal((h), "" literal "")
void html_raw_literal(struct html *h, const char *literal);

/* Element content, escaped (NULL writes nothing). */
void html_text(struct html *h, const char *s);
/* The first n bytes of s as element content. */
void html_textn(struct html *h, const char *s, size_t n);
/* printf, the result escaped as element content. */
void html_textf(struct html *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An attribute value, escaped; the caller writes the quotes around it
 * (html_raw(h, "<a href=\"")). */
void html_attr(struct html *h, const char *s);
void html_attrf(struct html *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A URL path segment: bytes outside A-Z a-z 0-9 - . _ ~ percent-encoded
 * (so the result is also a safe attribute value). */
void html_url_segment(struct html *h, const char *s);

/* The escaping alone, into a malloc'd string (tests, cookies' neighbours). */
char *html_escape(const char *s);

#endif
