/*
 * mime_int: what parsers/mime.c (the walk over a message's parts) and
 * parsers/mime_header.c (the decoding of header fields, parameters,
 * charsets and transfer encodings) share.  Private to the MIME parser:
 * only the .c files of parsers/ include it; everyone else uses parsers/mime.h.
 *
 * The input is hostile (see mime.c); every function here bounds its work
 * by the length it is handed and never fails on broken input: what can be
 * read is read.  Strings returned are malloc'd, NUL-terminated and the
 * caller's to free.
 */
#ifndef BEIAND_MIME_INT_H
#define BEIAND_MIME_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"

/* ---- growing byte buffer */

struct sbuf {
	char *s;
	size_t len, cap;
};

static inline void
sb_add(struct sbuf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (SIZE_MAX - b->len < n + 1)
		abort();
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n + 1) {
			if (cap > SIZE_MAX / 2)
				cap = b->len + n + 1;
			else
				cap *= 2;
		}
		b->s = xreallocarray(b->s, cap, 1);
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
}

static inline void
sb_addc(struct sbuf *b, char c)
{
	sb_add(b, &c, 1);
}

/* NUL-terminate and hand over; never NULL. */
static inline char *
sb_done(struct sbuf *b)
{
	char *s;

	if (b->s == NULL)
		return xstrdup("");
	b->s[b->len] = '\0';
	s = b->s;
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

/* ---- bytes */

static inline int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static inline int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline void
lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = *s - 'A' + 'a';
}

/* Control bytes become spaces: header-derived text goes into mails. */
static inline void
ctl_blank(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

/* ---- header block */

struct hdr {
	const char *name;
	size_t namelen;
	char *value; /* unfolded, trimmed, NUL-free */
};

struct hdrs {
	struct hdr *v;
	size_t n, cap;
};

/* Length of the field name when p[0..n) starts a header field line
 * (printable ASCII but ':', then ':'), else 0. */
size_t mime_field_name_len(const char *p, size_t n);
/* Split the header block of p[0..n) into h (zeroed by the caller, freed
 * with mime_hdrs_free); returns the offset of the body.  Names point into
 * p; values are unfolded copies. */
size_t mime_hdrs_parse(const char *p, size_t n, struct hdrs *h);
/* The value of the first field called name (ASCII case-insensitive), or
 * NULL; owned by h. */
const char *mime_hdr_get(const struct hdrs *h, const char *name);
void mime_hdrs_free(struct hdrs *h);

/* ---- Content-Type / Content-Disposition parameters */

struct param {
	char *name;  /* lower case */
	char *value; /* unquoted */
};

struct params {
	char *token; /* "text/plain", "attachment": lower case, may be "" */
	struct param *v;
	size_t n, cap;
};

/* Parse a Content-Type or Content-Disposition value into ps (which it
 * initialises; free with mime_params_free).  Never fails. */
void mime_params_parse(const char *s, struct params *ps);
void mime_params_free(struct params *ps);
/* The raw (unquoted, undecoded) value of parameter name, or NULL; owned
 * by ps. */
const char *mime_param_raw(const struct params *ps, const char *name);
/* The decoded value of parameter name (RFC 2231, RFC 2047 in quotes, raw
 * 8-bit), control bytes blanked; NULL when absent. */
char *mime_param_get(const struct params *ps, const char *name);

/* ---- bodies and addresses */

/* Append p[0..n) to b decoded by Content-Transfer-Encoding cte (NULL,
 * or one beiand does not know: as it is).  Bytes, not text. */
void mime_body_decode(struct sbuf *b, const char *cte, const char *p,
    size_t n);
/* The first mailbox of a From or Reply-To value into *addr (NULL when
 * none is readable) and, when display is not NULL, its decoded display
 * name into *display (NULL when none). */
void mime_mailbox_get(const char *value, char **addr, char **display);
/* The addr-spec a[0..n), trimmed, domain lower-cased; NULL when it is
 * not one (no '@', a control byte, a bracket, invalid UTF-8). */
char *mime_addr_clean(const char *a, size_t n);
/* "<x>" (first angle pair) or the bare value; "<>" is "". */
char *mime_angle_value(const char *v);
/* A header value as text: UTF-8 or GB18030 read as such, control bytes
 * blanked. */
char *mime_header_copy(const char *v);

#endif
