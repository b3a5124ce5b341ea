/*
 * test_wire_hostile: hostile frames (truncated, corrupted, lying counts,
 * bad mail fields) decode to an error or a sound upload, never a crash
 * (run under ASan): worker/wire_decode.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "lib/xmalloc.h"
#include "parsers/package.h"
#include "worker/wire.h"
#include "test_wire.h"
#include "unit.h"

/* Decode a copy of frame[0..len) with the header's length made to fit,
 * so the body decoder sees the damage.  Returns the decoder's answer. */
static int
decode_copy(const unsigned char *frame, size_t len, int fix_header,
    const struct input_limits *lim)
{
	unsigned char *c = xmalloc(len ? len : 1);
	struct wire_answer a;
	char err[256];
	int r;

	memcpy(c, frame, len);
	if (fix_header && len >= WIRE_HEADER_SIZE) {
		uint64_t body = len - WIRE_HEADER_SIZE;

		for (int i = 0; i < 8; i++)
			c[4 + i] = (unsigned char)(body >> (8 * i));
	}
	r = wire_decode(&c, len, lim, &a, err, sizeof(err));
	if (r == 0) {
		if (a.kind == WIRE_UPLOAD) {
			/* a sound upload: walk it and encode it again */
			unsigned char *f;
			size_t l;

			wire_encode_upload(a.upload, &f, &l);
			free(f);
			upload_free(a.upload);
		}
	} else if (err[0] == '\0')
		unit_fail(__FILE__, __LINE__, "error without a reason");
	free(c);
	return r;
}

UNIT_TEST(wire_truncations)
{
	struct input_limits lim;
	struct upload *u = test_wire_gen_upload();
	unsigned char *f;
	size_t l;
	int bad = 0;

	input_limits_defaults(&lim);
	wire_encode_upload(u, &f, &l);
	for (size_t cut = 0; cut < l; cut++) {
		if (decode_copy(f, cut, 0, &lim) == 0)
			bad++;
		if (decode_copy(f, cut, 1, &lim) == 0)
			bad++;
	}
	CHECK_INT(bad, 0);
	CHECK(decode_copy(f, l, 0, &lim) == 0);
	/* one byte too many */
	{
		unsigned char *g = xmalloc(l + 1);

		memcpy(g, f, l);
		g[l] = 0;
		CHECK(decode_copy(g, l + 1, 1, &lim) == -1);
		free(g);
	}
	free(f);
	upload_free(u);
}

UNIT_TEST(wire_corruptions)
{
	struct config *cf = test_wire_config();
	struct upload *us[2];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	size_t ok = 0, total = 0;

	if (cf == NULL)
		return;
	us[0] = test_wire_gen_upload();
	{
		size_t len;
		unsigned char *zip = test_wire_batch(&len);

		us[1] = zip ? test_wire_read_upload(cf, "b.zip", zip, len) : NULL;
		free(zip);
	}
	for (int k = 0; k < 2; k++) {
		unsigned char *f, *c;
		size_t l;

		if (us[k] == NULL)
			continue;
		wire_encode_upload(us[k], &f, &l);
		c = xmalloc(l);
		for (int iter = 0; iter < (k == 0 ? 20000 : 1500); iter++) {
			int flips = 1 + iter % 4;

			memcpy(c, f, l);
			for (int j = 0; j < flips; j++) {
				size_t pos;

				seed ^= seed << 13;
				seed ^= seed >> 7;
				seed ^= seed << 17;
				pos = (size_t)(seed % l);
				/* length fields are where the damage hurts:
				 * favour small values and all-ones */
				switch ((seed >> 40) % 4) {
				case 0:
					c[pos] ^= (unsigned char)(1u <<
					    ((seed >> 32) % 8));
					break;
				case 1:
					c[pos] = 0xff;
					break;
				case 2:
					c[pos] = 0;
					break;
				default:
					c[pos] = (unsigned char)(seed >> 48);
				}
			}
			total++;
			if (decode_copy(c, l, 1, &cf->limits) == 0)
				ok++;
		}
		free(c);
		free(f);
		upload_free(us[k]);
	}
	/* Most damage is caught; some lands in bytes that are free to be
	 * anything (file contents, message text, sha256). */
	CHECK(ok < total);
	printf("wire: %zu of %zu corrupted frames still decoded\n", ok, total);
	config_free(cf);
}

UNIT_TEST(wire_hostile_counts)
{
	struct input_limits lim;
	unsigned char *f;
	size_t l;
	struct upload u;

	input_limits_defaults(&lim);
	memset(&u, 0, sizeof(u));
	u.errs = errlist_new();
	wire_encode_upload(&u, &f, &l);
	/* body: kind, nerrs=0, nnames=0, ndata=0, nitems=0, no mail */
	CHECK_INT(l, WIRE_HEADER_SIZE + 1 + 16 + 1);
	/* a huge finding count with nothing behind it */
	{
		unsigned char *c = xmalloc(l);

		memcpy(c, f, l);
		memset(c + WIRE_HEADER_SIZE + 1, 0xfe, 4);
		CHECK(decode_copy(c, l, 1, &lim) == -1);
		/* a header claiming more than any frame may hold */
		memcpy(c, f, l);
		memset(c + 4, 0x7f, 8);
		CHECK(decode_copy(c, l, 0, &lim) == -1);
		free(c);
	}
	/* a header too large to allocate is refused before reading */
	{
		unsigned char hdr[WIRE_HEADER_SIZE];
		size_t total;

		memcpy(hdr, f, sizeof(hdr));
		memset(hdr + 4, 0xff, 8);
		CHECK(wire_header_parse(hdr, wire_frame_max(&lim), &total) ==
		    -1);
		memcpy(hdr, f, sizeof(hdr));
		CHECK(wire_header_parse(hdr, wire_frame_max(&lim), &total) ==
		    0);
		CHECK_INT(total, l);
		hdr[3] = 1; /* another (the previous) version */
		CHECK(wire_header_parse(hdr, wire_frame_max(&lim), &total) ==
		    -1);
	}
	free(f);
	errlist_free(u.errs);
	CHECK(wire_frame_max(&lim) > lim.archive_max_unpacked +
	    lim.archive_max_bytes);
}

/* Where a string of the mail section starts in frame f: after
 * message_id's length field, found by its content. */
UNIT_TEST(wire_mail_hostile)
{
	static const struct {
		const char *field, *value;
	} bad[] = {
		{ "message_id", "a\tb" },      /* control byte */
		{ "from", "\xff\xfe@x" },      /* not UTF-8 */
		{ "tag_id", "BA-2026-0001234567" }, /* over its buffer */
		{ "reason", "x\x7f" },
	};
	struct input_limits lim;

	input_limits_defaults(&lim);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct upload *u = xcalloc(1, sizeof(*u));
		struct mail_meta *mm = test_wire_gen_mail();
		struct wire_answer a;
		unsigned char *f;
		size_t l;
		char err[256];
		char **slot = NULL;

		u->errs = errlist_new();
		if (strcmp(bad[i].field, "message_id") == 0)
			slot = &mm->message_id;
		else if (strcmp(bad[i].field, "from") == 0)
			slot = &mm->from_addr;
		else if (strcmp(bad[i].field, "reason") == 0)
			slot = &mm->reason;
		if (slot != NULL) {
			free(*slot);
			*slot = xstrdup(bad[i].value);
		}
		u->mail = mm;
		wire_encode_upload(u, &f, &l);
		if (slot == NULL) {
			/* a tag longer than the decoder's buffer: write
			 * the frame by hand, the encoder cannot */
			unsigned char *p = memmem(f, l, "BA-2026-000123", 14);
			size_t extra = strlen(bad[i].value) - 14, off;
			unsigned char *g;

			CHECK(p != NULL);
			if (p == NULL) {
				free(f);
				upload_free(u);
				continue;
			}
			off = (size_t)(p - f);
			g = xmalloc(l + extra);
			memcpy(g, f, off - 4);
			g[off - 4] = (unsigned char)strlen(bad[i].value);
			g[off - 3] = g[off - 2] = g[off - 1] = 0;
			memcpy(g + off, bad[i].value, strlen(bad[i].value));
			memcpy(g + off + strlen(bad[i].value), f + off + 14,
			    l - off - 14);
			free(f);
			f = g;
			l += extra;
			for (int k = 0; k < 8; k++)
				f[4 + k] = (unsigned char)((l - WIRE_HEADER_SIZE) >>
				    (8 * k));
		}
		CHECKM(wire_decode(&f, l, &lim, &a, err, sizeof(err)) == -1,
		    "%s", bad[i].field);
		CHECKM(strstr(err, "mail field") != NULL, "%s: %s",
		    bad[i].field, err);
		free(f);
		upload_free(u);
	}
}
