/*
 * compat: the few BSD string functions glibc 2.36 lacks.
 */
#ifndef BEIAND_COMPAT_H
#define BEIAND_COMPAT_H

#include <stddef.h>

/* Copy with truncation; returns strlen(src).  Truncated when >= dsize. */
size_t strlcpy(char *dst, const char *src, size_t dsize);
/* Append with truncation; returns the length it tried to create. */
size_t strlcat(char *dst, const char *src, size_t dsize);

#endif
