/*
 * buf: see include/lib/buf.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/xmalloc.h"

#define BUF_FIRST 256

/* Room for n more bytes and the NUL: exactly that much when exact (a
 * caller that knows its size), else by doubling. */
static void
grow(struct buf *b, size_t n, int exact)
{
	size_t cap;

	if (n > SIZE_MAX / 2 - b->len)
		abort();
	if (b->len + n + 1 <= b->cap)
		return;
	if (exact)
		cap = b->len + n + 1;
	else {
		cap = b->cap ? b->cap : BUF_FIRST;
		while (cap < b->len + n + 1)
			cap *= 2;
	}
	b->p = xreallocarray(b->p, cap, 1);
	b->cap = cap;
}

void
buf_reserve(struct buf *b, size_t n)
{
	grow(b, n, 1);
}

void *
buf_room(struct buf *b, size_t n)
{
	grow(b, n, 0);
	b->len += n;
	b->p[b->len] = '\0';
	return b->p + b->len - n;
}

void
buf_add(struct buf *b, const void *data, size_t n)
{
	if (n > 0)
		memcpy(buf_room(b, n), data, n);
}

void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_ch(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

char *
buf_take(struct buf *b, size_t *len)
{
	char *p = b->p != NULL ? b->p : xstrdup("");

	if (len != NULL)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
