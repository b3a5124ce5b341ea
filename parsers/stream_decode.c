/*
 * stream_decode: see include/parsers/stream_decode.h.
 *
 * zlib and liblzma do the decoding and their checks; this file only feeds
 * them the input, hands out the output in pieces, counts it against the
 * cap and names what went wrong.
 */
#define ZLIB_CONST
#include <sys/types.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lzma.h>
#include <zlib.h>

#include "lib/xmalloc.h"
#include "parsers/stream_decode.h"

#define SD_PIECE (64U * 1024)

struct stream_decoder {
	const unsigned char *in;
	size_t len, fed;        /* input, and how much of it zlib was given */
	uint64_t cap, total;
	int xz;
	int state;              /* 0 decoding, 1 ended, -1 failed */
	int ending;             /* the stream ended with the last piece */
	enum sd_status status;
	char why[160];
	z_stream z;
	lzma_stream x;
	unsigned char out[SD_PIECE];
};

int
sd_gzip_magic(const unsigned char *buf, size_t len)
{
	return len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b;
}

int
sd_xz_magic(const unsigned char *buf, size_t len)
{
	return len >= 6 && memcmp(buf, "\xfd" "7zXZ\0", 6) == 0;
}

static int
sd_fail(struct stream_decoder *d, enum sd_status st, const char *why)
{
	d->state = -1;
	d->status = st;
	snprintf(d->why, sizeof(d->why), "%s", why != NULL ? why : "");
	return -1;
}

struct stream_decoder *
sd_new(const unsigned char *in, size_t len, uint64_t cap)
{
	struct stream_decoder *d;

	if (!sd_gzip_magic(in, len) && !sd_xz_magic(in, len))
		return NULL;
	d = xcalloc(1, sizeof(*d));
	d->in = in;
	d->len = len;
	d->cap = cap;
	d->xz = sd_xz_magic(in, len);
	if (d->xz) {
		lzma_stream init = LZMA_STREAM_INIT;

		d->x = init;
		if (lzma_stream_decoder(&d->x, SD_XZ_MEMLIMIT, 0) != LZMA_OK)
			sd_fail(d, SD_CORRUPT, "xz decoder not available");
		d->x.next_in = in;
		d->x.avail_in = len;
	} else if (inflateInit2(&d->z, 16 + MAX_WBITS) != Z_OK)
		sd_fail(d, SD_CORRUPT, "gzip decoder not available");
	return d;
}

/* Give zlib what it may take of the input (avail_in is an unsigned int). */
static void
sd_feed(struct stream_decoder *d)
{
	size_t n;

	if (d->z.avail_in > 0 || d->fed == d->len)
		return;
	n = d->len - d->fed < UINT_MAX ? d->len - d->fed : UINT_MAX;
	d->z.next_in = d->in + d->fed;
	d->z.avail_in = (uInt)n;
	d->fed += n;
}

/* One step of gzip: the bytes produced, or -1 when it failed. */
static ssize_t
sd_gzip_step(struct stream_decoder *d)
{
	int r;

	sd_feed(d);
	d->z.next_out = d->out;
	d->z.avail_out = SD_PIECE;
	r = inflate(&d->z, Z_NO_FLUSH);
	switch (r) {
	case Z_OK:
		break;
	case Z_STREAM_END: {
		size_t left = d->z.avail_in + (d->len - d->fed);

		if (left == 0) {
			d->ending = 1;
			break;
		}
		/* Another member may follow (gzip allows them); anything
		 * else after the stream is not ours to ignore. */
		if (!sd_gzip_magic(d->in + (d->len - left), left))
			return sd_fail(d, SD_CORRUPT, "data after the gzip "
			    "stream");
		if (inflateReset(&d->z) != Z_OK)
			return sd_fail(d, SD_CORRUPT, "gzip reset");
		break;
	}
	case Z_BUF_ERROR:
		/* No progress with room to write: the input ran out. */
		if (d->z.avail_in == 0 && d->fed == d->len)
			return sd_fail(d, SD_TRUNCATED, "gzip stream ends "
			    "early");
		return sd_fail(d, SD_CORRUPT, "gzip decoding stalled");
	default:
		return sd_fail(d, SD_CORRUPT, d->z.msg != NULL ? d->z.msg :
		    "gzip data damaged");
	}
	return (ssize_t)(SD_PIECE - d->z.avail_out);
}

static ssize_t
sd_xz_step(struct stream_decoder *d)
{
	lzma_ret r;

	d->x.next_out = d->out;
	d->x.avail_out = SD_PIECE;
	/* all input is there from the start: LZMA_FINISH throughout */
	r = lzma_code(&d->x, LZMA_FINISH);
	switch (r) {
	case LZMA_OK:
		break;
	case LZMA_STREAM_END: {
		const unsigned char *next = d->x.next_in;
		size_t left = d->x.avail_in, pad = 0;

		/* Stream padding (zeros, four at a time), then nothing or
		 * another stream; anything else is not ours to ignore. */
		while (pad < left && next[pad] == 0)
			pad++;
		if (pad == left && pad % 4 == 0) {
			d->ending = 1;
			break;
		}
		if (pad % 4 != 0 || !sd_xz_magic(next + pad, left - pad))
			return sd_fail(d, SD_CORRUPT, "data after the xz "
			    "stream");
		lzma_end(&d->x);
		{
			lzma_stream init = LZMA_STREAM_INIT;

			d->x = init;
		}
		if (lzma_stream_decoder(&d->x, SD_XZ_MEMLIMIT, 0) != LZMA_OK)
			return sd_fail(d, SD_CORRUPT, "xz decoder not "
			    "available");
		d->x.next_in = next + pad;
		d->x.avail_in = left - pad;
		break;
	}
	case LZMA_BUF_ERROR:
		return sd_fail(d, SD_TRUNCATED, "xz stream ends early");
	case LZMA_MEMLIMIT_ERROR:
		return sd_fail(d, SD_CORRUPT, "xz stream needs more decoder "
		    "memory than allowed");
	case LZMA_FORMAT_ERROR:
		return sd_fail(d, SD_CORRUPT, "not an xz stream");
	case LZMA_OPTIONS_ERROR:
		return sd_fail(d, SD_CORRUPT, "unsupported xz options");
	case LZMA_DATA_ERROR:
		return sd_fail(d, SD_CORRUPT, "xz data damaged");
	default:
		return sd_fail(d, SD_CORRUPT, "xz decoding failed");
	}
	return (ssize_t)(SD_PIECE - d->x.avail_out);
}

int
sd_next(struct stream_decoder *d, const unsigned char **p, size_t *n)
{
	for (;;) {
		ssize_t got;

		if (d->state != 0)
			return d->state == 1 ? 0 : -1;
		if (d->ending) {
			d->state = 1;
			return 0;
		}
		got = d->xz ? sd_xz_step(d) : sd_gzip_step(d);
		if (got < 0)
			return -1;
		if (got == 0)
			continue;
		d->total += (uint64_t)got;
		if (d->total > d->cap)
			return sd_fail(d, SD_OVER, "decompresses to more than "
			    "allowed");
		*p = d->out;
		*n = (size_t)got;
		return 1;
	}
}

enum sd_status
sd_status(const struct stream_decoder *d)
{
	return d->status;
}

const char *
sd_why(const struct stream_decoder *d)
{
	return d->why;
}

uint64_t
sd_total(const struct stream_decoder *d)
{
	return d->total;
}

void
sd_free(struct stream_decoder *d)
{
	if (d == NULL)
		return;
	if (d->xz)
		lzma_end(&d->x);
	else
		inflateEnd(&d->z);
	free(d);
}
