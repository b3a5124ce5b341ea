/*
 * tlv: see include/lib/tlv.h.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/tlv.h"
#include "lib/xmalloc.h"

static void
tlv_bytes(struct tlv_out *o, const void *v, size_t n)
{
	if (n == 0)
		return;
	if (o->cap - o->len < n) {
		size_t cap = o->cap ? o->cap : 256;
		unsigned char *nb;

		while (cap - o->len < n) {
			if (cap > SIZE_MAX / 2)
				abort();
			cap *= 2;
		}
		/* no realloc: the old buffer is wiped, it may hold a secret */
		nb = xmalloc(cap);
		if (o->len > 0)
			memcpy(nb, o->buf, o->len);
		if (o->buf != NULL) {
			explicit_bzero(o->buf, o->cap);
			free(o->buf);
		}
		o->buf = nb;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, v, n);
	o->len += n;
}

void
tlv_put(struct tlv_out *o, const char *tag, const void *v, size_t n)
{
	size_t tl = strlen(tag);
	unsigned char len[4];

	if (tl == 0 || tl > TLV_TAG_MAX || n > UINT32_MAX)
		abort(); /* the callers' own tags and fields */
	len[0] = (unsigned char)n;
	len[1] = (unsigned char)(n >> 8);
	len[2] = (unsigned char)(n >> 16);
	len[3] = (unsigned char)(n >> 24);
	tlv_bytes(o, tag, tl + 1);
	tlv_bytes(o, len, 4);
	tlv_bytes(o, v, n);
}

void
tlv_put_str(struct tlv_out *o, const char *tag, const char *s)
{
	if (s != NULL)
		tlv_put(o, tag, s, strlen(s));
}

void
tlv_put_u64(struct tlv_out *o, const char *tag, uint64_t v)
{
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	tlv_put(o, tag, b, sizeof(b));
}

void
tlv_out_free(struct tlv_out *o)
{
	if (o->buf != NULL) {
		explicit_bzero(o->buf, o->cap);
		free(o->buf);
	}
	memset(o, 0, sizeof(*o));
}

int
tlv_next(struct tlv_in *in, const char **tag, const unsigned char **v,
    size_t *n)
{
	const unsigned char *nul;
	size_t tl, len;

	if (in->left == 0)
		return 0;
	nul = memchr(in->p, '\0', in->left < TLV_TAG_MAX + 1 ? in->left :
	    TLV_TAG_MAX + 1);
	if (nul == NULL || nul == in->p)
		return -1;
	tl = (size_t)(nul - in->p) + 1;
	if (in->left - tl < 4)
		return -1;
	len = (size_t)in->p[tl] | (size_t)in->p[tl + 1] << 8 |
	    (size_t)in->p[tl + 2] << 16 | (size_t)in->p[tl + 3] << 24;
	if (in->left - tl - 4 < len)
		return -1;
	*tag = (const char *)in->p;
	*v = in->p + tl + 4;
	*n = len;
	in->p += tl + 4 + len;
	in->left -= tl + 4 + len;
	return 1;
}

char *
tlv_str(const unsigned char *v, size_t n)
{
	if (memchr(v, '\0', n) != NULL)
		return NULL;
	return xstrndup((const char *)v, n);
}

int
tlv_u64(const unsigned char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;

	if (n != 8)
		return -1;
	for (int i = 7; i >= 0; i--)
		x = x << 8 | v[i];
	*out = x;
	return 0;
}
