/*
 * archive_name: the names of archive members, from their raw bytes to
 * checked UTF-8: decoded, refused when unsafe, normalised, and checked
 * for duplicates.
 *
 * Every name is hostile: archives come from anyone who can upload to a
 * provider folder or mail the intake address.  A name is never used as a
 * path here, only decoded and compared.  A zip name is decoded by its
 * UTF-8 flag (bit 11), then the Info-ZIP Unicode Path field (only when it
 * was made for exactly these raw bytes), then as UTF-8 if valid, else as
 * GB18030, the one charset that reaches iconv; a tar name as UTF-8, else
 * GB18030.  A name holding a NUL or a control byte, a backslash, an
 * absolute path, an empty, "." or ".." component, or over path_max
 * refuses the archive (ARCHIVE_UNSAFE_PATH), and is reported with every
 * undecodable or control byte shown as U+FFFD; so does a name that is
 * given twice to anything but directories (ARCHIVE_DUPLICATE_ENTRY).
 */
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "lib/utf8.h"
#include "lib/xmalloc.h"
#include "parsers/archive_int.h"

/* ---- names ---------------------------------------------------------- */

/* GB18030 to UTF-8; NULL when the bytes are not GB18030 either. */
static char *
gb18030_decode(struct ar_ctx *c, const unsigned char *s, size_t n)
{
	char *out, *op;
	char *ip = (char *)(uintptr_t)s;
	size_t il = n, ol, cap;

	if (c->gb == (iconv_t)-1) {
		c->gb = iconv_open("UTF-8", "GB18030");
		if (c->gb == (iconv_t)-1)
			return NULL;
	} else
		(void)iconv(c->gb, NULL, NULL, NULL, NULL);
	/* A GB18030 character of 1, 2 or 4 bytes is at most 4 in UTF-8. */
	if (n > (SIZE_MAX - 1) / 2)
		return NULL;
	cap = 2 * n + 1;
	out = xmalloc(cap);
	op = out;
	ol = cap - 1;
	if (iconv(c->gb, &ip, &il, &op, &ol) == (size_t)-1 || il != 0) {
		free(out);
		return NULL;
	}
	*op = '\0';
	return out;
}

/* A printable stand-in for a name that cannot be decoded or holds control
 * bytes: ASCII kept, every other or control byte becomes U+FFFD. */
static char *
name_display(const unsigned char *s, size_t n)
{
	char *out, *op;

	if (n > (SIZE_MAX - 1) / 3)
		n = (SIZE_MAX - 1) / 3;
	out = xmalloc(3 * n + 1);
	op = out;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f)
			*op++ = (char)s[i];
		else {
			*op++ = (char)0xef;
			*op++ = (char)0xbf;
			*op++ = (char)0xbd;
		}
	}
	*op = '\0';
	return out;
}

/* The Info-ZIP Unicode Path field, when present, version 1 and made for
 * exactly this raw name (its CRC), and valid UTF-8. */
static char *
zip_unicode_path(const struct zip_cd *cd)
{
	const unsigned char *x = cd->extra;
	size_t left = cd->extralen;

	while (left >= 4) {
		uint16_t id = le16(x), sz = le16(x + 2);

		if (sz > left - 4)
			break;
		if (id == 0x7075 && sz >= 5 && x[4] == 1 &&
		    le32(x + 5) == (uint32_t)crc32_z(0, cd->name, cd->namelen) &&
		    utf8_valid(x + 9, sz - 5u) &&
		    memchr(x + 9, '\0', sz - 5u) == NULL)
			return xstrndup((const char *)x + 9, sz - 5u);
		x += 4 + (size_t)sz;
		left -= 4 + (size_t)sz;
	}
	return NULL;
}

/*
 * The UTF-8 name of a member from its raw bytes; NULL when it cannot be
 * decoded (then *display is set to something printable).  cd is the zip
 * central directory record, NULL for tar.
 */
char *
ar_name_decode(struct ar_ctx *c, const unsigned char *raw, size_t n,
    const struct zip_cd *cd, char **display)
{
	char *s;

	*display = NULL;
	if (memchr(raw, '\0', n) != NULL) {
		*display = name_display(raw, n);
		return NULL;
	}
	if (cd != NULL && (cd->flags & ZIP_FLAG_UTF8)) {
		if (utf8_valid(raw, n))
			return xstrndup((const char *)raw, n);
		*display = name_display(raw, n);
		return NULL;
	}
	if (cd != NULL && (s = zip_unicode_path(cd)) != NULL)
		return s;
	if (utf8_valid(raw, n))
		return xstrndup((const char *)raw, n);
	if ((s = gb18030_decode(c, raw, n)) != NULL)
		return s;
	*display = name_display(raw, n);
	return NULL;
}

/*
 * Check and normalise a decoded name in place: "./" prefixes go, a trailing
 * "/" marks a directory.  Returns NULL (reported) when unsafe, else the
 * normalised name inside s.  *empty is set for the archive's root itself.
 */
const char *
ar_name_normalise(struct ar_ctx *c, char *s, int *is_dir, int *empty)
{
	size_t n = strlen(s);
	const char *why = NULL, *why_en = NULL, *p;
	char *q;
	int ctl = 0;

	*empty = 0;
	for (size_t i = 0; i < n && why == NULL; i++) {
		unsigned char b = (unsigned char)s[i];

		if (b < 0x20 || b == 0x7f) {
			why = "控制字符";
			why_en = "control character";
			ctl = 1;
		} else if (b == '\\') {
			why = "反斜杠";
			why_en = "backslash";
		}
	}
	if (why == NULL && s[0] == '/') {
		why = "绝对路径";
		why_en = "absolute path";
	}
	if (why != NULL) {
		/* Control bytes would break receipts and mails: show them
		 * replaced. */
		char *d = ctl ? name_display((const unsigned char *)s, n) : NULL;

		ar_refuse(c, ERR_ARCHIVE_UNSAFE_PATH, d != NULL ? d : s,
		    "不安全的成员名（%s） / unsafe member name (%s)", why,
		    why_en);
		free(d);
		return NULL;
	}
	p = s;
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	q = (char *)(uintptr_t)p;
	n = strlen(q);
	if (n > 0 && q[n - 1] == '/') {
		*is_dir = 1;
		q[--n] = '\0';
	}
	if (n == 0 || strcmp(q, ".") == 0) {
		*empty = 1;
		return q;
	}
	if (n > c->lim->path_max) {
		ar_refuse(c, ERR_ARCHIVE_UNSAFE_PATH, s,
		    "成员名超过 %llu 字节 / member name over %llu bytes",
		    (unsigned long long)c->lim->path_max,
		    (unsigned long long)c->lim->path_max);
		return NULL;
	}
	for (const char *comp = q;;) {
		const char *slash = strchr(comp, '/');
		size_t cl = slash ? (size_t)(slash - comp) : strlen(comp);

		if (cl == 0 || (cl == 1 && comp[0] == '.') ||
		    (cl == 2 && comp[0] == '.' && comp[1] == '.')) {
			ar_refuse(c, ERR_ARCHIVE_UNSAFE_PATH, s,
			    "成员名含空、“.”或“..”段 / member name with an "
			    "empty, \".\" or \"..\" component");
			return NULL;
		}
		if (slash == NULL)
			break;
		comp = slash + 1;
	}
	return q;
}

/* ---- duplicates ----------------------------------------------------- */

void
ar_names_add(struct ar_ctx *c, const char *name, int is_file)
{
	xgrow(&c->names, &c->namescap, c->nnames, sizeof(*c->names));
	c->names[c->nnames].name = xstrdup(name);
	c->names[c->nnames].is_file = is_file;
	c->nnames++;
}

static int
names_cmp(const void *x, const void *y)
{
	const struct ar_name *a = x, *b = y;

	return strcmp(a->name, b->name);
}

/* A name twice is a duplicate unless both are directories. */
void
ar_names_check(struct ar_ctx *c)
{
	size_t i, j;

	if (c->nnames < 2)
		return;
	qsort(c->names, c->nnames, sizeof(*c->names), names_cmp);
	for (i = 0; i < c->nnames; i = j) {
		int files = c->names[i].is_file;

		for (j = i + 1; j < c->nnames &&
		    strcmp(c->names[i].name, c->names[j].name) == 0; j++)
			files += c->names[j].is_file;
		if (j - i > 1 && files > 0)
			ar_refuse(c, ERR_ARCHIVE_DUPLICATE_ENTRY, c->names[i].name,
			    "成员名重复 / member name appears %zu times", j - i);
	}
}
