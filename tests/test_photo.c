/*
 * test_photo: JPEG and PNG structure checks on inputs built here byte by
 * byte (each broken in one way) and on the Pillow-made fixtures of
 * tests/fx_photo.py.  The CRC and Adler-32 here are bitwise and
 * independent of parsers/photo.c on purpose.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "parsers/photo.h"
#include "unit.h"

#define MAXB (5u * 1024 * 1024)

struct tbuf {
	unsigned char *p;
	size_t n, cap;
};

static void
tb_put(struct tbuf *b, const void *data, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->n + n)
			cap *= 2;
		b->p = xreallocarray(b->p, cap, 1);
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->n, data, n);
	b->n += n;
}

static void
tb_u8(struct tbuf *b, unsigned int v)
{
	unsigned char c = (unsigned char)v;

	tb_put(b, &c, 1);
}

static void
tb_be16(struct tbuf *b, uint32_t v)
{
	tb_u8(b, v >> 8);
	tb_u8(b, v & 0xff);
}

static void
tb_be32(struct tbuf *b, uint32_t v)
{
	tb_be16(b, v >> 16);
	tb_be16(b, v & 0xffff);
}

static uint32_t
bit_crc32(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffU;
	int k;

	while (n--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320U ^ (c >> 1) : c >> 1;
	}
	return c ^ 0xffffffffU;
}

static uint32_t
adler32(const unsigned char *p, size_t n)
{
	uint32_t a = 1, b = 0;

	while (n--) {
		a = (a + *p++) % 65521;
		b = (b + a) % 65521;
	}
	return b << 16 | a;
}

/* ---- PNG ---- */

enum {
	PNG_NO_IEND = 1 << 0,
	PNG_IHDR_14 = 1 << 1,   /* IHDR of length 14 (CRC right) */
	PNG_NO_IDAT = 1 << 2,
	PNG_TRAILER = 1 << 3,   /* bytes after IEND */
	PNG_BAD_SIG = 1 << 4,   /* text-mode mangled signature */
	PNG_TEXT = 1 << 5,      /* an ancillary tEXt chunk */
	PNG_CRITICAL = 1 << 6,  /* an unknown critical chunk */
	PNG_SPLIT_IDAT = 1 << 7 /* IDAT, tEXt, IDAT: not one run */
};

static void
png_chunk(struct tbuf *b, const char *type, const unsigned char *data,
    size_t n)
{
	size_t at;

	tb_be32(b, (uint32_t)n);
	at = b->n;
	tb_put(b, type, 4);
	tb_put(b, data, n);
	tb_be32(b, bit_crc32(b->p + at, 4 + n));
}

/* A 1-bit greyscale w x h PNG whose IDAT is a real (stored) zlib stream. */
static void
png_make(struct tbuf *out, uint32_t w, uint32_t h, unsigned int flags)
{
	struct tbuf raw = { 0 }, z = { 0 }, ihdr = { 0 };
	size_t row = 1 + (w + 7) / 8, off, blk, half;
	uint32_t y, x;

	for (y = 0; y < h; y++) {
		tb_u8(&raw, 0); /* filter: none */
		for (x = 1; x < row; x++)
			tb_u8(&raw, (x * 37 + y) & 0xff);
	}
	tb_u8(&z, 0x78);
	tb_u8(&z, 0x01);
	for (off = 0; off < raw.n; off += blk) {
		blk = raw.n - off > 65535 ? 65535 : raw.n - off;
		tb_u8(&z, off + blk == raw.n); /* BFINAL, BTYPE 00 */
		tb_u8(&z, blk & 0xff);
		tb_u8(&z, blk >> 8);
		tb_u8(&z, ~blk & 0xff);
		tb_u8(&z, (~blk >> 8) & 0xff);
		tb_put(&z, raw.p + off, blk);
	}
	tb_be32(&z, adler32(raw.p, raw.n));

	if (flags & PNG_BAD_SIG)
		tb_put(out, "\x89PNG\n\x1a\n\n", 8);
	else
		tb_put(out, "\x89PNG\r\n\x1a\n", 8);
	tb_be32(&ihdr, w);
	tb_be32(&ihdr, h);
	tb_put(&ihdr, "\x01\x00\x00\x00\x00", 5); /* depth 1, grey */
	if (flags & PNG_IHDR_14)
		tb_u8(&ihdr, 0);
	png_chunk(out, "IHDR", ihdr.p, ihdr.n);
	if (flags & PNG_TEXT)
		png_chunk(out, "tEXt", (const unsigned char *)"k\0v", 3);
	if (flags & PNG_CRITICAL)
		png_chunk(out, "ABCD", (const unsigned char *)"x", 1);
	if (flags & PNG_SPLIT_IDAT) {
		half = z.n / 2;
		png_chunk(out, "IDAT", z.p, half);
		png_chunk(out, "tEXt", (const unsigned char *)"k\0v", 3);
		png_chunk(out, "IDAT", z.p + half, z.n - half);
	} else if (!(flags & PNG_NO_IDAT))
		png_chunk(out, "IDAT", z.p, z.n);
	if (!(flags & PNG_NO_IEND))
		png_chunk(out, "IEND", NULL, 0);
	if (flags & PNG_TRAILER)
		tb_put(out, "trailing bytes", 14);
	free(raw.p);
	free(z.p);
	free(ihdr.p);
}

/* ---- JPEG ---- */

enum {
	JPG_NO_SOF = 1 << 0,
	JPG_SOS_FIRST = 1 << 1,   /* SOS before SOF */
	JPG_NO_EOI = 1 << 2,
	JPG_PROGRESSIVE = 1 << 3, /* SOF2 and two scans */
	JPG_TRAILER = 1 << 4,     /* bytes after EOI */
	JPG_FILL = 1 << 5,        /* FF fill bytes before markers */
	JPG_LONG_SEG = 1 << 6,    /* a COM whose length runs past the end */
	JPG_TWO_SOF = 1 << 7,
	JPG_GARBAGE = 1 << 8,     /* a stray byte between segments */
	JPG_NO_SOS = 1 << 9
};

static void
jpg_segment(struct tbuf *b, unsigned int marker, const void *data, size_t n)
{
	tb_u8(b, 0xff);
	tb_u8(b, marker);
	tb_be16(b, (uint32_t)(n + 2));
	tb_put(b, data, n);
}

static void
jpg_sof(struct tbuf *b, unsigned int marker, uint32_t w, uint32_t h)
{
	unsigned char sof[15] = { 8, h >> 8, h & 0xff, w >> 8, w & 0xff, 3,
		1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1 };

	jpg_segment(b, marker, sof, sizeof(sof));
}

static void
jpg_scan(struct tbuf *b)
{
	static const unsigned char sos[10] = { 3, 1, 0x00, 2, 0x11, 3, 0x11,
		0, 63, 0 };
	/* entropy data: stuffed FF 00, a restart marker, fill before RST */
	static const unsigned char ecs[] = { 0x12, 0x34, 0xff, 0x00, 0x56,
		0x9a, 0xff, 0xd0, 0x78, 0xff, 0x00, 0xff, 0xff, 0xd1, 0xbc,
		0x00, 0xde, 0xff, 0x00 };

	jpg_segment(b, 0xda, sos, sizeof(sos));
	tb_put(b, ecs, sizeof(ecs));
}

static void
jpg_make(struct tbuf *b, uint32_t w, uint32_t h, unsigned int flags)
{
	static const unsigned char app0[14] = { 'J', 'F', 'I', 'F', 0, 1, 1,
		0, 0, 1, 0, 1, 0, 0 };
	unsigned char dqt[65], dht[29];
	int i;

	dqt[0] = 0;
	for (i = 1; i < 65; i++)
		dqt[i] = (unsigned char)(1 + i % 50);
	memset(dht, 0, sizeof(dht));
	dht[0] = 0x00;   /* DC table 0 */
	dht[1] = 1;      /* one code of length 1 */
	dht[17] = 0;     /* its symbol */
	tb_u8(b, 0xff);
	tb_u8(b, 0xd8);
	jpg_segment(b, 0xe0, app0, sizeof(app0));
	if (flags & JPG_GARBAGE)
		tb_u8(b, 0x42);
	jpg_segment(b, 0xdb, dqt, sizeof(dqt));
	if (flags & JPG_SOS_FIRST)
		jpg_scan(b);
	if (flags & JPG_FILL)
		tb_put(b, "\xff\xff\xff", 3);
	if (!(flags & JPG_NO_SOF))
		jpg_sof(b, flags & JPG_PROGRESSIVE ? 0xc2 : 0xc0, w, h);
	if (flags & JPG_TWO_SOF)
		jpg_sof(b, 0xc0, w, h);
	jpg_segment(b, 0xc4, dht, 18);
	jpg_segment(b, 0xfe, "a comment \xff\xd9", 12); /* EOI bytes inside */
	if (!(flags & JPG_NO_SOS))
		jpg_scan(b);
	if (flags & JPG_PROGRESSIVE) {
		jpg_segment(b, 0xc4, dht, 18);
		jpg_scan(b);
	}
	if (flags & JPG_LONG_SEG) {
		tb_put(b, "\xff\xfe\x10\x00", 4);
		tb_put(b, "short", 5);
		return;
	}
	if (flags & JPG_FILL)
		tb_put(b, "\xff\xff", 2);
	if (!(flags & JPG_NO_EOI)) {
		tb_u8(b, 0xff);
		tb_u8(b, 0xd9);
	}
	if (flags & JPG_TRAILER)
		tb_put(b, "\x00\x11\xff\xd8 maker notes", 17);
}

struct photo_case {
	const char *name;
	enum photo_kind kind;
	uint32_t w, h;
	unsigned int flags;
	enum photo_result want;
};

static const struct photo_case photo_cases[] = {
	{ "jpeg ok", PHOTO_JPEG, 480, 640, 0, PHOTO_OK },
	{ "jpeg landscape", PHOTO_JPEG, 1024, 768, 0, PHOTO_OK },
	{ "jpeg progressive", PHOTO_JPEG, 640, 480, JPG_PROGRESSIVE, PHOTO_OK },
	{ "jpeg fill bytes", PHOTO_JPEG, 480, 640, JPG_FILL, PHOTO_OK },
	{ "jpeg trailer", PHOTO_JPEG, 480, 640, JPG_TRAILER, PHOTO_OK },
	{ "jpeg 480x5000", PHOTO_JPEG, 480, 5000, 0, PHOTO_OK },
	{ "jpeg 5000x480", PHOTO_JPEG, 5000, 480, 0, PHOTO_OK },
	{ "jpeg 479x640", PHOTO_JPEG, 479, 640, 0, PHOTO_ERR_DIMENSIONS },
	{ "jpeg 640x479", PHOTO_JPEG, 640, 479, 0, PHOTO_ERR_DIMENSIONS },
	{ "jpeg 480x5001", PHOTO_JPEG, 480, 5001, 0, PHOTO_ERR_DIMENSIONS },
	{ "jpeg 5001x5001", PHOTO_JPEG, 5001, 5001, 0, PHOTO_ERR_DIMENSIONS },
	{ "jpeg no EOI", PHOTO_JPEG, 480, 640, JPG_NO_EOI, PHOTO_ERR_CORRUPT },
	{ "jpeg no SOF", PHOTO_JPEG, 480, 640, JPG_NO_SOF, PHOTO_ERR_CORRUPT },
	{ "jpeg no SOS", PHOTO_JPEG, 480, 640, JPG_NO_SOS, PHOTO_ERR_CORRUPT },
	{ "jpeg SOS first", PHOTO_JPEG, 480, 640, JPG_SOS_FIRST,
	    PHOTO_ERR_CORRUPT },
	{ "jpeg segment past end", PHOTO_JPEG, 480, 640, JPG_LONG_SEG,
	    PHOTO_ERR_CORRUPT },
	{ "jpeg two SOF", PHOTO_JPEG, 480, 640, JPG_TWO_SOF, PHOTO_ERR_CORRUPT },
	{ "jpeg garbage", PHOTO_JPEG, 480, 640, JPG_GARBAGE, PHOTO_ERR_CORRUPT },
	{ "jpeg height 0", PHOTO_JPEG, 480, 0, 0, PHOTO_ERR_CORRUPT },
	/* structure is judged before dimensions */
	{ "jpeg small and broken", PHOTO_JPEG, 10, 10, JPG_NO_EOI,
	    PHOTO_ERR_CORRUPT },
	{ "png ok", PHOTO_PNG, 480, 640, 0, PHOTO_OK },
	{ "png text chunk", PHOTO_PNG, 640, 480, PNG_TEXT, PHOTO_OK },
	{ "png trailer", PHOTO_PNG, 480, 640, PNG_TRAILER, PHOTO_OK },
	{ "png 480x5000", PHOTO_PNG, 480, 5000, 0, PHOTO_OK },
	{ "png 479x640", PHOTO_PNG, 479, 640, 0, PHOTO_ERR_DIMENSIONS },
	{ "png 480x5001", PHOTO_PNG, 480, 5001, 0, PHOTO_ERR_DIMENSIONS },
	{ "png no IEND", PHOTO_PNG, 480, 640, PNG_NO_IEND, PHOTO_ERR_CORRUPT },
	{ "png IHDR 14", PHOTO_PNG, 480, 640, PNG_IHDR_14, PHOTO_ERR_CORRUPT },
	{ "png no IDAT", PHOTO_PNG, 480, 640, PNG_NO_IDAT, PHOTO_ERR_CORRUPT },
	{ "png bad signature", PHOTO_PNG, 480, 640, PNG_BAD_SIG,
	    PHOTO_ERR_CORRUPT },
	{ "png unknown critical", PHOTO_PNG, 480, 640, PNG_CRITICAL,
	    PHOTO_ERR_CORRUPT },
	{ "png split IDAT", PHOTO_PNG, 480, 640, PNG_SPLIT_IDAT,
	    PHOTO_ERR_CORRUPT },
	{ "png width 0", PHOTO_PNG, 0, 640, 0, PHOTO_ERR_CORRUPT },
};

static void
photo_case_build(const struct photo_case *c, struct tbuf *b)
{
	if (c->kind == PHOTO_JPEG)
		jpg_make(b, c->w, c->h, c->flags);
	else
		png_make(b, c->w, c->h, c->flags);
}

UNIT_TEST(photo_built)
{
	const struct photo_case *c;
	struct photo_info info;
	struct tbuf b;
	size_t i;

	for (i = 0; i < sizeof(photo_cases) / sizeof(photo_cases[0]); i++) {
		c = &photo_cases[i];
		memset(&b, 0, sizeof(b));
		photo_case_build(c, &b);
		memset(&info, 0xa5, sizeof(info));
		CHECKM(photo_check(b.p, b.n, MAXB, &info) == c->want,
		    "%s: got %d want %d", c->name,
		    photo_check(b.p, b.n, MAXB, NULL), c->want);
		CHECKM(info.kind == c->kind, "%s kind", c->name);
		if (c->want == PHOTO_OK || c->want == PHOTO_ERR_DIMENSIONS)
			CHECKM(info.width == c->w && info.height == c->h,
			    "%s: %ux%u", c->name, info.width, info.height);
		free(b.p);
	}
}

/* Every proper prefix of a valid photo is corrupt, never OK or a crash. */
UNIT_TEST(photo_truncated)
{
	struct tbuf j = { 0 }, p = { 0 };
	size_t n;

	jpg_make(&j, 480, 640, JPG_PROGRESSIVE);
	for (n = 2; n < j.n; n++)
		CHECKM(photo_check(j.p, n, MAXB, NULL) == PHOTO_ERR_CORRUPT,
		    "jpeg prefix %zu of %zu", n, j.n);
	png_make(&p, 480, 640, PNG_TEXT);
	for (n = 4; n < p.n; n += (n < 200 || p.n - n < 200) ? 1 : 997)
		CHECKM(photo_check(p.p, n, MAXB, NULL) == PHOTO_ERR_CORRUPT,
		    "png prefix %zu of %zu", n, p.n);
	free(j.p);
	free(p.p);
}

/* Each flipped byte of a PNG is caught (by the CRC or the structure). */
UNIT_TEST(photo_png_bitflip)
{
	struct tbuf p = { 0 };
	size_t i;

	png_make(&p, 480, 480, 0);
	for (i = 0; i < p.n; i += (i < 64 || p.n - i < 64) ? 1 : 499) {
		p.p[i] ^= 0x10;
		/* the first four bytes are the magic: no longer a PNG */
		CHECKM(photo_check(p.p, p.n, MAXB, NULL) == (i < 4 ?
		    PHOTO_ERR_FORMAT : PHOTO_ERR_CORRUPT), "flip at %zu", i);
		p.p[i] ^= 0x10;
	}
	CHECK_INT(photo_check(p.p, p.n, MAXB, NULL), PHOTO_OK);
	free(p.p);
}

UNIT_TEST(photo_format)
{
	static const struct {
		const char *name;
		const char *data;
		size_t n;
	} cases[] = {
		{ "empty", "", 0 },
		{ "one FF", "\xff", 1 },
		{ "gif", "GIF89a\x01\x00\x01\x00\x00\x00\x00;", 14 },
		{ "bmp", "BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00", 12 },
		{ "text", "this is not a photo\n", 20 },
		{ "pdf", "%PDF-1.4\n", 9 },
		{ "png without 0x89", "PNG\r\n\x1a\n", 7 },
	};
	struct photo_info info;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECKM(photo_check(cases[i].data, cases[i].n, MAXB, &info) ==
		    PHOTO_ERR_FORMAT, "%s", cases[i].name);
		CHECKM(info.kind == PHOTO_NONE, "%s kind", cases[i].name);
	}
}

UNIT_TEST(photo_too_large)
{
	struct tbuf b = { 0 };
	char text[64];

	jpg_make(&b, 480, 640, 0);
	CHECK_INT(photo_check(b.p, b.n, b.n, NULL), PHOTO_OK);
	CHECK_INT(photo_check(b.p, b.n, b.n - 1, NULL), PHOTO_ERR_TOO_LARGE);
	/* too large is judged before format and structure */
	memset(text, 'x', sizeof(text));
	CHECK_INT(photo_check(text, sizeof(text), 10, NULL),
	    PHOTO_ERR_TOO_LARGE);
	CHECK_INT(photo_check(b.p, b.n - 2, 10, NULL), PHOTO_ERR_TOO_LARGE);
	free(b.p);
}

UNIT_TEST(photo_fixtures)
{
	static const struct {
		const char *file;
		enum photo_result want;
		enum photo_kind kind;
		uint32_t w, h;
	} cases[] = {
		{ "ok.jpg", PHOTO_OK, PHOTO_JPEG, 480, 640 },
		{ "progressive.jpg", PHOTO_OK, PHOTO_JPEG, 800, 600 },
		{ "ok.png", PHOTO_OK, PHOTO_PNG, 600, 800 },
		{ "small.jpg", PHOTO_ERR_DIMENSIONS, PHOTO_JPEG, 300, 400 },
		{ "huge-dims.png", PHOTO_ERR_DIMENSIONS, PHOTO_PNG, 480, 6000 },
		{ "corrupt-crc.png", PHOTO_ERR_CORRUPT, PHOTO_PNG, 0, 0 },
		{ "truncated.jpg", PHOTO_ERR_CORRUPT, PHOTO_JPEG, 0, 0 },
		{ "gif.gif", PHOTO_ERR_FORMAT, PHOTO_NONE, 0, 0 },
		{ "big.jpg", PHOTO_ERR_TOO_LARGE, PHOTO_JPEG, 0, 0 },
	};
	struct photo_info info;
	unsigned char *data;
	char path[1024];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/photo/%s", unit_fixtures(),
		    cases[i].file);
		if ((data = unit_read_file(path, &n)) == NULL) {
			CHECKM(data != NULL, "read %.400s", path);
			continue;
		}
		CHECKM(photo_check(data, n, MAXB, &info) == cases[i].want,
		    "%s: got %d", cases[i].file,
		    photo_check(data, n, MAXB, NULL));
		CHECKM(info.kind == cases[i].kind, "%s kind", cases[i].file);
		if (cases[i].w != 0)
			CHECKM(info.width == cases[i].w &&
			    info.height == cases[i].h, "%s: %ux%u",
			    cases[i].file, info.width, info.height);
		/* the big one is a whole 2200x2200 JPEG under a larger bound */
		if (cases[i].want == PHOTO_ERR_TOO_LARGE) {
			CHECK_INT(photo_check(data, n, n, &info), PHOTO_OK);
			CHECK(info.width == 2200 && info.height == 2200);
		}
		free(data);
	}
}
