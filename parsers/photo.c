/*
 * photo: structural checks of JPEG and PNG attachments (FORMAT.md §2).
 *
 * Every byte here comes from a sender: an uploaded archive or a mail
 * attachment.  This file never decodes pixels, never allocates, and
 * never reads outside buf[0..len): every segment and chunk length is
 * compared with what is left before it is used.  A file over the size
 * bound is refused before its content is looked at.
 *
 * Judgement, in this order: too large, then the format by its magic
 * (JPEG: FF D8; PNG: 89 'P' 'N' 'G'), then the structure, then the
 * dimensions.  A file that starts like a JPEG or PNG but is broken is
 * PHOTO_CORRUPT, not PHOTO_FORMAT: the sender meant a photo.
 *
 * Tolerated on purpose: bytes after a JPEG's EOI (cameras and phone
 * software append previews and maker data there) and bytes after a
 * PNG's IEND, for the same reason; standalone RSTn/TEM markers and
 * 0xFF fill bytes between segments.  Refused: anything else between
 * segments, a second SOI or SOF, SOS before SOF, a zero image height
 * (DNL-defined height: too rare to be worth trusting), a PNG chunk
 * whose CRC does not match, an unknown critical chunk, no IDAT.
 */
#include <stdint.h>
#include <string.h>

#include <zlib.h>

#include "parsers/photo.h"

#define PHOTO_SHORT_MIN 480
#define PHOTO_LONG_MAX  5000
#define PNG_LEN_MAX     0x7fffffffU

/* CRC-32 (ISO 3309, the PNG and zlib one), slice-by-8; table at the end. */

static uint32_t
be16(const unsigned char *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
png_crc(const unsigned char *p, size_t n)
{
	return (uint32_t)crc32_z(0, p, n);
}

/* SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
static int
jpeg_marker_is_sof(unsigned int m)
{
	return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

/*
 * Skip entropy-coded data starting at *pos: stuffed FF 00 and RSTn are
 * part of it; any other marker ends it, and *pos is left on its first
 * 0xFF.  memchr keeps this at memory speed.  -1 when the data runs out.
 */
static int
jpeg_entropy_skip(const unsigned char *b, size_t len, size_t *pos)
{
	const unsigned char *q;
	size_t p = *pos;
	unsigned int c;

	for (;;) {
		if (p >= len)
			return -1;
		if ((q = memchr(b + p, 0xff, len - p)) == NULL)
			return -1;
		p = (size_t)(q - b) + 1;
		while (p < len && b[p] == 0xff) /* fill bytes */
			p++;
		if (p >= len)
			return -1;
		c = b[p];
		if (c == 0x00 || (c >= 0xd0 && c <= 0xd7)) {
			p++;
			continue;
		}
		*pos = p - 1;
		return 0;
	}
}

static enum photo_result
jpeg_walk(const unsigned char *b, size_t len, struct photo_info *pi)
{
	const unsigned char *seg;
	size_t pos = 2, seglen, n;
	unsigned int m;
	int have_sof = 0, have_sos = 0;

	for (;;) {
		if (pos >= len || b[pos] != 0xff)
			return PHOTO_ERR_CORRUPT;
		while (pos < len && b[pos] == 0xff)
			pos++;
		if (pos >= len)
			return PHOTO_ERR_CORRUPT;
		m = b[pos++];

		if (m == 0xd9) /* EOI; what follows is tolerated */
			return have_sos ? PHOTO_OK : PHOTO_ERR_CORRUPT;
		if (m == 0x00 || m == 0xd8)
			return PHOTO_ERR_CORRUPT;
		if (m == 0x01 || (m >= 0xd0 && m <= 0xd7))
			continue; /* standalone: TEM, RSTn */

		if (len - pos < 2)
			return PHOTO_ERR_CORRUPT;
		seglen = be16(b + pos);
		if (seglen < 2 || seglen > len - pos)
			return PHOTO_ERR_CORRUPT;
		seg = b + pos + 2;
		n = seglen - 2;

		if (jpeg_marker_is_sof(m)) {
			/* P, Y(2), X(2), Nf, then 3 bytes per component */
			if (have_sof || n < 6 || seg[5] == 0 ||
			    n != 6 + 3 * (size_t)seg[5])
				return PHOTO_ERR_CORRUPT;
			pi->height = be16(seg + 1);
			pi->width = be16(seg + 3);
			if (pi->height == 0 || pi->width == 0)
				return PHOTO_ERR_CORRUPT;
			have_sof = 1;
		} else if (m == 0xda) {
			/* Ns, 2 bytes per component, Ss, Se, Ah/Al */
			if (!have_sof || n < 1 || seg[0] == 0 || seg[0] > 4 ||
			    n != 4 + 2 * (size_t)seg[0])
				return PHOTO_ERR_CORRUPT;
			pos += seglen;
			if (jpeg_entropy_skip(b, len, &pos) == -1)
				return PHOTO_ERR_CORRUPT;
			have_sos = 1;
			continue;
		}
		pos += seglen;
	}
}

static int
png_type_is(const unsigned char *type, const char *name)
{
	return memcmp(type, name, 4) == 0;
}

/* Bit depths PNG allows for each colour type. */
static int
png_depth_valid(unsigned int ctype, unsigned int depth)
{
	switch (ctype) {
	case 0:
		return depth == 1 || depth == 2 || depth == 4 || depth == 8 ||
		    depth == 16;
	case 3:
		return depth == 1 || depth == 2 || depth == 4 || depth == 8;
	case 2:
	case 4:
	case 6:
		return depth == 8 || depth == 16;
	default:
		return 0;
	}
}

static enum photo_result
png_walk(const unsigned char *b, size_t len, struct photo_info *pi)
{
	static const unsigned char sig[8] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
	};
	const unsigned char *type, *data;
	size_t pos = 8, clen, i;
	unsigned int ctype = 0;
	int have_ihdr = 0, have_plte = 0, idat = 0; /* 1 in run, 2 after */
	uint32_t w, h;

	if (len < sizeof(sig) || memcmp(b, sig, sizeof(sig)) != 0)
		return PHOTO_ERR_CORRUPT;
	for (;;) {
		/* length, type, data, crc */
		if (len - pos < 12)
			return PHOTO_ERR_CORRUPT; /* ends before IEND */
		clen = be32(b + pos);
		if (clen > PNG_LEN_MAX || clen > len - pos - 12)
			return PHOTO_ERR_CORRUPT;
		type = b + pos + 4;
		data = type + 4;
		for (i = 0; i < 4; i++)
			if (!((type[i] >= 'A' && type[i] <= 'Z') ||
			    (type[i] >= 'a' && type[i] <= 'z')))
				return PHOTO_ERR_CORRUPT;
		if (png_crc(type, 4 + clen) != be32(data + clen))
			return PHOTO_ERR_CORRUPT;
		pos += 12 + clen;

		if (!have_ihdr) {
			if (!png_type_is(type, "IHDR") || clen != 13)
				return PHOTO_ERR_CORRUPT;
			w = be32(data);
			h = be32(data + 4);
			ctype = data[9];
			if (w == 0 || h == 0 || w > PNG_LEN_MAX ||
			    h > PNG_LEN_MAX || !png_depth_valid(ctype, data[8]) ||
			    data[10] != 0 || data[11] != 0 || data[12] > 1)
				return PHOTO_ERR_CORRUPT;
			pi->width = w;
			pi->height = h;
			have_ihdr = 1;
			continue;
		}
		if (png_type_is(type, "IDAT")) {
			/* IDAT chunks form one run, after PLTE for palettes */
			if (idat == 2 || (ctype == 3 && !have_plte))
				return PHOTO_ERR_CORRUPT;
			idat = 1;
			continue;
		}
		if (idat == 1)
			idat = 2;
		if (png_type_is(type, "IEND"))
			return clen == 0 && idat != 0 ? PHOTO_OK :
			    PHOTO_ERR_CORRUPT;
		if (png_type_is(type, "PLTE")) {
			if (have_plte || idat != 0 || ctype == 0 ||
			    ctype == 4 || clen == 0 || clen > 768 ||
			    clen % 3 != 0)
				return PHOTO_ERR_CORRUPT;
			have_plte = 1;
			continue;
		}
		if (png_type_is(type, "IHDR") || (type[0] & 0x20) == 0)
			return PHOTO_ERR_CORRUPT; /* unknown critical chunk */
	}
}

enum photo_kind
photo_kind_sniff(const void *buf, size_t len)
{
	const unsigned char *b = buf;

	if (len >= 2 && b[0] == 0xff && b[1] == 0xd8)
		return PHOTO_JPEG;
	if (len >= 4 && memcmp(b, "\x89PNG", 4) == 0)
		return PHOTO_PNG;
	return PHOTO_NONE;
}

enum photo_result
photo_check(const void *buf, size_t len, uint64_t max_bytes,
    struct photo_info *info)
{
	const unsigned char *b = buf;
	struct photo_info pi = { PHOTO_NONE, 0, 0 };
	enum photo_result r;
	uint32_t lo, hi;

	pi.kind = photo_kind_sniff(buf, len);

	if ((uint64_t)len > max_bytes)
		r = PHOTO_ERR_TOO_LARGE;
	else if (pi.kind == PHOTO_JPEG)
		r = jpeg_walk(b, len, &pi);
	else if (pi.kind == PHOTO_PNG)
		r = png_walk(b, len, &pi);
	else
		r = PHOTO_ERR_FORMAT;

	if (r == PHOTO_OK) {
		lo = pi.width < pi.height ? pi.width : pi.height;
		hi = pi.width < pi.height ? pi.height : pi.width;
		if (lo < PHOTO_SHORT_MIN || hi > PHOTO_LONG_MAX)
			r = PHOTO_ERR_DIMENSIONS;
	}
	if (info != NULL)
		*info = pi;
	return r;
}

