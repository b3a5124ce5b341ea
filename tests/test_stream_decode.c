/*
 * stream_decode: gzip and xz streams decoded in pieces, whole or cut,
 * damaged, concatenated, followed by other bytes, or larger than allowed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lzma.h>
#include <zlib.h>

#include "parsers/stream_decode.h"
#include "unit.h"

#define PLAIN_LEN 300000

static unsigned char *
plain_make(void)
{
	unsigned char *p = malloc(PLAIN_LEN);

	/* compressible, but not trivially: several output pieces */
	for (size_t i = 0; p != NULL && i < PLAIN_LEN; i++)
		p[i] = (unsigned char)((i * 7) ^ (i >> 9));
	return p;
}

static size_t
gzip_make(const unsigned char *in, size_t len, unsigned char *out, size_t cap)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		return 0;
	}
	deflateEnd(&z);
	return cap - z.avail_out;
}

static size_t
xz_make(const unsigned char *in, size_t len, unsigned char *out, size_t cap)
{
	size_t pos = 0;

	if (lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, NULL, in, len, out,
	    &pos, cap) != LZMA_OK)
		return 0;
	return pos;
}

/* Decode all of in: the status, the bytes out (compared with want, when
 * given, of want_len bytes). */
static enum sd_status
decode(const unsigned char *in, size_t len, uint64_t cap,
    const unsigned char *want, size_t want_len, int *whole)
{
	struct stream_decoder *d = sd_new(in, len, cap);
	const unsigned char *p;
	size_t n, at = 0;
	int r, same = 1;
	enum sd_status st;

	if (d == NULL)
		return SD_CORRUPT;
	while ((r = sd_next(d, &p, &n)) == 1) {
		if (want != NULL && (at + n > want_len ||
		    memcmp(want + at, p, n) != 0))
			same = 0;
		at += n;
	}
	*whole = r == 0 && same && (want == NULL || at == want_len) &&
	    sd_total(d) == at;
	st = r == 0 ? SD_OK : sd_status(d);
	/* it keeps answering as it ended */
	if (sd_next(d, &p, &n) != r)
		st = SD_CORRUPT;
	sd_free(d);
	return st;
}

UNIT_TEST(stream_decode)
{
	unsigned char *plain = plain_make(), *g, *x, *buf;
	size_t glen, xlen, cap = 2 * PLAIN_LEN;
	int whole;

	g = malloc(cap);
	x = malloc(cap);
	buf = malloc(4 * cap);
	if (plain == NULL || g == NULL || x == NULL || buf == NULL) {
		unit_fail(__FILE__, __LINE__, "memory");
		goto out;
	}
	glen = gzip_make(plain, PLAIN_LEN, g, cap);
	xlen = xz_make(plain, PLAIN_LEN, x, cap);
	CHECK(glen > 0 && xlen > 0);
	CHECK(sd_new((const unsigned char *)"PK\3\4", 4, 100) == NULL);

	/* whole */
	CHECK_INT(decode(g, glen, UINT64_MAX, plain, PLAIN_LEN, &whole), SD_OK);
	CHECK(whole);
	CHECK_INT(decode(x, xlen, UINT64_MAX, plain, PLAIN_LEN, &whole), SD_OK);
	CHECK(whole);

	/* two members / two streams, one after the other */
	memcpy(buf, g, glen);
	memcpy(buf + glen, g, glen);
	CHECK_INT(decode(buf, 2 * glen, UINT64_MAX, NULL, 0, &whole), SD_OK);
	memcpy(buf, x, xlen);
	memcpy(buf + xlen, x, xlen);
	CHECK_INT(decode(buf, 2 * xlen, UINT64_MAX, NULL, 0, &whole), SD_OK);
	/* xz stream padding: zeros, four at a time */
	memcpy(buf, x, xlen);
	memset(buf + xlen, 0, 8);
	memcpy(buf + xlen + 8, x, xlen);
	CHECK_INT(decode(buf, 2 * xlen + 8, UINT64_MAX, NULL, 0, &whole),
	    SD_OK);
	CHECK_INT(decode(buf, xlen + 4, UINT64_MAX, plain, PLAIN_LEN, &whole),
	    SD_OK);
	CHECK(whole);
	CHECK_INT(decode(buf, xlen + 3, UINT64_MAX, NULL, 0, &whole),
	    SD_CORRUPT);

	/* cut anywhere: truncated */
	for (size_t cut = 1; cut < glen; cut += glen / 13 + 1)
		CHECKM(decode(g, glen - cut, UINT64_MAX, NULL, 0, &whole) ==
		    SD_TRUNCATED, "gzip cut %zu", cut);
	for (size_t cut = 1; cut < xlen; cut += xlen / 13 + 1)
		CHECKM(decode(x, xlen - cut, UINT64_MAX, NULL, 0, &whole) ==
		    SD_TRUNCATED, "xz cut %zu", cut);

	/* a flipped bit in the middle, in a check, other bytes after */
	memcpy(buf, g, glen);
	buf[glen - 8] ^= 1; /* the CRC-32 */
	CHECK_INT(decode(buf, glen, UINT64_MAX, NULL, 0, &whole), SD_CORRUPT);
	memcpy(buf, x, xlen);
	buf[xlen / 2] ^= 0x10;
	CHECK_INT(decode(buf, xlen, UINT64_MAX, NULL, 0, &whole), SD_CORRUPT);
	memcpy(buf, g, glen);
	memcpy(buf + glen, "trailing", 8);
	CHECK_INT(decode(buf, glen + 8, UINT64_MAX, NULL, 0, &whole),
	    SD_CORRUPT);
	memcpy(buf, x, xlen);
	memcpy(buf + xlen, "trailing", 8);
	CHECK_INT(decode(buf, xlen + 8, UINT64_MAX, NULL, 0, &whole),
	    SD_CORRUPT);

	/* more than allowed: stops there */
	CHECK_INT(decode(g, glen, PLAIN_LEN - 1, NULL, 0, &whole), SD_OVER);
	CHECK_INT(decode(x, xlen, PLAIN_LEN - 1, NULL, 0, &whole), SD_OVER);
	CHECK_INT(decode(x, xlen, PLAIN_LEN, NULL, 0, &whole), SD_OK);
out:
	free(plain);
	free(g);
	free(x);
	free(buf);
}
