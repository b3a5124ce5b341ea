/*
 * test_package: an item's identity (package_files_sha256), the digest
 * each member carries when an upload is read with UPLOAD_HASH.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/check_setup.h"
#include "common/config.h"
#include "lib/sha256.h"
#include "parsers/filing_check.h"
#include "parsers/package.h"
#include "unit.h"

/* The identity as package.h defines it, written out for files already
 * sorted by name. */
static void
identity_by_hand(const struct pkg_file *f, size_t n, unsigned char out[32])
{
	struct sha256_ctx *st = sha256_init();

	for (size_t i = 0; i < n; i++) {
		unsigned char len[8], d[32];

		for (int k = 0; k < 8; k++)
			len[k] = (unsigned char)((uint64_t)f[i].size >> (8 * k));
		sha256(f[i].data, f[i].size, d);
		sha256_update(st, f[i].name, strlen(f[i].name) + 1);
		sha256_update(st, len, sizeof(len));
		sha256_update(st, d, sizeof(d));
	}
	sha256_final(st, out);
}

#define PF(name, s) { name, (const unsigned char *)(s), sizeof(s) - 1, NULL }

UNIT_TEST(package_identity)
{
	struct pkg_file sorted[] = {
		PF("a.jpg", "\xff\xd8 photo a"),
		PF("b.jpg", "\xff\xd8 photo b"),
		PF("filing.xml", "<filing/>"),
	};
	struct pkg_file shuffled[] = { sorted[2], sorted[0], sorted[1] };
	unsigned char want[32], got[32], d[3][32];

	identity_by_hand(sorted, 3, want);
	package_files_sha256(shuffled, 3, got);
	CHECK(memcmp(got, want, 32) == 0);

	/* digests given by the caller are used as they are */
	for (int i = 0; i < 3; i++) {
		sha256(shuffled[i].data, shuffled[i].size, d[i]);
		shuffled[i].sha256 = d[i];
	}
	package_files_sha256(shuffled, 3, got);
	CHECK(memcmp(got, want, 32) == 0);
	d[0][0] ^= 1;
	package_files_sha256(shuffled, 3, got);
	CHECK(memcmp(got, want, 32) != 0);

	/* a changed byte, a changed name, bytes moved between two files */
	{
		struct pkg_file byte[] = { sorted[0], sorted[1],
			PF("filing.xml", "<filinG/>") };
		struct pkg_file name[] = { sorted[0], PF("c.jpg",
			"\xff\xd8 photo b"), sorted[2] };
		struct pkg_file x[] = { PF("a", "ab"), PF("b", "c") };
		struct pkg_file y[] = { PF("a", "a"), PF("b", "bc") };
		unsigned char hx[32], hy[32];

		package_files_sha256(byte, 3, got);
		CHECK(memcmp(got, want, 32) != 0);
		package_files_sha256(name, 3, got);
		CHECK(memcmp(got, want, 32) != 0);
		package_files_sha256(x, 2, hx);
		package_files_sha256(y, 2, hy);
		CHECK(memcmp(hx, hy, 32) != 0);
	}
}

static struct upload *
read_fixture(const char *rel, int flags)
{
	char path[1024], err[256];
	struct config *cf;
	struct check_setup cs;
	struct upload *u = NULL;
	unsigned char *buf;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", unit_fixtures(), rel);
	if ((buf = unit_read_file(path, &len)) == NULL) {
		unit_fail(__FILE__, __LINE__, "cannot read %s", path);
		return NULL;
	}
	cf = config_parse("", 0, "test.conf", "/tmp", err, sizeof(err));
	if (cf != NULL && check_setup_init(&cs, cf, NULL, time(NULL)) == 0) {
		u = upload_read(rel, buf, len, &cs.ctx, flags);
		check_setup_fini(&cs);
	} else
		unit_fail(__FILE__, __LINE__, "config: %s", err);
	config_free(cf);
	free(buf);
	return u;
}

/* Read with UPLOAD_HASH, each member carries its digest and the item's
 * identity is the one taken from the bytes alone. */
UNIT_TEST(package_member_digests)
{
	struct upload *u = read_fixture("archive/valid.zip", UPLOAD_HASH);
	struct upload *plain = read_fixture("archive/valid.zip", 0);

	CHECK(u != NULL && u->nitems == 1);
	if (u != NULL && u->nitems == 1) {
		struct item *it = &u->items[0];
		struct pkg_file *bare;
		unsigned char h[32];

		CHECK(it->nfiles > 1);
		bare = calloc(it->nfiles, sizeof(*bare));
		for (size_t i = 0; i < it->nfiles; i++) {
			sha256(it->files[i].data, it->files[i].size, h);
			CHECK(it->files[i].sha256 != NULL &&
			    memcmp(it->files[i].sha256, h, 32) == 0);
			bare[i] = it->files[i];
			bare[i].sha256 = NULL;
		}
		package_files_sha256(bare, it->nfiles, h);
		CHECK(memcmp(it->sha256, h, 32) == 0);
		free(bare);
	}
	CHECK(plain != NULL && plain->nitems == 1);
	if (plain != NULL && plain->nitems == 1)
		for (size_t i = 0; i < plain->items[0].nfiles; i++)
			CHECK(plain->items[0].files[i].sha256 == NULL);
	upload_free(u);
	upload_free(plain);
}
