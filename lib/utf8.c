/*
 * utf8: strict UTF-8 decoding; see include/lib/utf8.h.
 *
 * The bytes handed here come from packages, mails and decisions and are
 * hostile: any length, any value.  Nothing is read past the length given
 * (utf8_len reads to the NUL), nothing is written but *cp.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "lib/utf8.h"

size_t
utf8_seq(const void *s, size_t n, uint32_t *cp)
{
	const unsigned char *p = s;
	uint32_t c;
	size_t len, i;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

int
utf8_valid(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint32_t cp;
	size_t n;

	while (len > 0) {
		if ((n = utf8_seq(p, len, &cp)) == 0)
			return 0;
		p += n;
		len -= n;
	}
	return 1;
}

long
utf8_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s), n;
	uint32_t cp;
	long count = 0;

	while (left > 0) {
		if ((n = utf8_seq(p, left, &cp)) == 0)
			return -1;
		p += n;
		left -= n;
		if (count == LONG_MAX)
			return -1;
		count++;
	}
	return count;
}
