/*
 * utf8: strict UTF-8 decoding, for every part that checks text.
 *
 * Strict means RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF, no stray or missing continuation bytes.  Pure functions over
 * buffers; none allocates, reads past the length it is given, or uses a
 * locale.
 */
#ifndef BEIAND_UTF8_H
#define BEIAND_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of a UTF-8 string in characters; -1 if not valid UTF-8. */
long utf8_len(const char *s);
/* 1 when buf[0..len) is valid UTF-8 (NUL bytes included), else 0. */
int utf8_valid(const void *buf, size_t len);
/* The length of the UTF-8 sequence at s (n bytes left) and its code point
 * in *cp; 0 when it is not valid (a stray or missing continuation byte,
 * an overlong form, a surrogate, past U+10FFFF). */
size_t utf8_seq(const void *s, size_t n, uint32_t *cp);

#endif
