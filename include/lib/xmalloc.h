/*
 * xmalloc: allocation that cannot fail quietly.
 *
 * Every function aborts the process on exhaustion or size overflow.  In
 * beiand that is the right answer: parsing runs in worker processes under
 * an address-space limit, and a worker that dies is replaced and its item
 * retried, then quarantined.  The parent never parses hostile input.
 */
#ifndef BEIAND_XMALLOC_H
#define BEIAND_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
/* Copy of s[0..len) with a terminating NUL; s need not be NUL-terminated. */
char *xstrndup(const char *s, size_t len);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Grow *arr (of *cap elements of size sz) so that index n is valid. */
void xgrow(void *arrp, size_t *cap, size_t n, size_t sz);

#endif
