/*
 * buf: a growing byte buffer, the one behind every text or frame beiand
 * builds in memory (a console page, a receipt, a mail, a worker's
 * answer, a zip).  Zero-initialised it is empty; its bytes are always
 * followed by a NUL (not counted in len), so a text is ready to use.
 * Like xmalloc, it aborts on exhaustion or size overflow.
 */
#ifndef BEIAND_BUF_H
#define BEIAND_BUF_H

#include <stddef.h>

struct buf {
	char *p;        /* NULL until something is added */
	size_t len;     /* bytes held, the NUL not counted */
	size_t cap;
};

/* Room for n more bytes (and the NUL), allocated exactly, when the
 * size is known ahead (it grows by doubling otherwise). */
void buf_reserve(struct buf *b, size_t n);
void buf_add(struct buf *b, const void *data, size_t n);
void buf_str(struct buf *b, const char *s);
void buf_ch(struct buf *b, char c);
/* n more bytes at the end, for the caller to fill. */
void *buf_room(struct buf *b, size_t n);
/* The bytes (never NULL; *len set when len is not NULL), the buffer
 * left empty: the caller frees them. */
char *buf_take(struct buf *b, size_t *len);
void buf_free(struct buf *b);

#endif
