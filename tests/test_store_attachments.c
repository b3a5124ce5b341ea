/*
 * test_store_attachments: blobs kept for filings, written by the store or
 * ahead of their group (blob_put), and dropped when nothing names them.
 */
#include <sys/stat.h>

#include "lib/sha256.h"
#include "store/attachments.h"
#include "store/blob.h"
#include "store/store.h"
#include "test_store.h"
#include "unit.h"

UNIT_TEST(store_attachments)
{
	struct tctx t;
	struct store_entry ent[2] = {
		{ "filing.xml", (const unsigned char *)"<filing/>", 9, NULL },
		{ "a.jpg", (const unsigned char *)"\xff\xd8", 2, NULL },
	};
	struct store_blob blob = { "archive-bytes", 13, NULL, 0 };
	unsigned char known[32];
	char sha[65], sha2[65], path[512];
	struct stat sb;
	char id[STORE_ID_SIZE];

	tctx_open(&t);
	file_new(t.st, NULL, NULL, T0, id, NULL);
	CHECK(store_attachment_put(t.st, id, "package", &blob, ent, 2, sha) ==
	    0);
	/* sha256("archive-bytes"), by sha256sum */
	CHECK_STR(sha, "0c982986710a026635603031674053ca851fc0e3ea760094a34f59b84f7f6da6");
	CHECK(store_attachment_path(t.st, sha, path, sizeof(path)) == 0);
	CHECK(stat(path, &sb) == 0 && sb.st_size == 13 &&
	    (sb.st_mode & 0777) == 0600);
	/* stored once; hashes the caller has are taken, not computed (an
	 * entry without its bytes, as a lean worker answer gives it) */
	sha256("archive-bytes", 13, known);
	blob.sha256 = known;
	ent[1].data = NULL;
	ent[1].sha256 = known;
	CHECK(store_attachment_put(t.st, id, "package", &blob, ent, 2, sha2) ==
	    0);
	CHECK_STR(sha, sha2);
	CHECK(store_attachment_latest(t.st, id, "package", sha2) == 0);
	CHECK_STR(sha, sha2);
	CHECK(store_attachment_latest(t.st, id, "verification", sha2) == 1);
	CHECK(store_attachment_path(t.st, "../../etc", path, sizeof(path)) == -1);
	tctx_close(&t);
}

/* A blob written ahead of its group (blob_put, unsynced) is only
 * recorded by the group; one no attachment names is dropped, one named
 * stays. */
UNIT_TEST(store_blob_ahead)
{
	struct tctx t;
	struct store_entry ent = { "filing.xml",
	    (const unsigned char *)"<filing/>", 9, NULL };
	unsigned char d1[32], d2[32], got[32];
	struct store_blob b1 = { NULL, 9, d1, 1 };
	char id[STORE_ID_SIZE], sha[65], hex[65], p1[512], p2[512], err[256];
	struct stat sb;
	int created = -1;

	tctx_open(&t);
	sha256("ahead-one", 9, d1);
	sha256("ahead-two", 9, d2);
	sha256_to_hex(d1, hex);
	CHECK(store_attachment_path(t.st, hex, p1, sizeof(p1)) == 0);
	sha256_to_hex(d2, hex);
	CHECK(store_attachment_path(t.st, hex, p2, sizeof(p2)) == 0);
	CHECK(blob_put(t.dir, "ahead-one", 9, BLOB_NOSYNC, got, &created, err,
	    sizeof(err)) == 0 && created == 1);
	CHECK(memcmp(got, d1, 32) == 0);
	CHECK(blob_put(t.dir, "ahead-one", 9, BLOB_NOSYNC, NULL, &created, err,
	    sizeof(err)) == 0 && created == 0);
	CHECK(blob_put(t.dir, "ahead-two", 9, BLOB_NOSYNC, got, &created, err,
	    sizeof(err)) == 0 && created == 1);
	CHECK(memcmp(got, d2, 32) == 0);
	CHECK(stat(p1, &sb) == 0 && sb.st_size == 9 &&
	    (sb.st_mode & 0777) == 0600);
	/* recorded without its bytes */
	file_new(t.st, NULL, NULL, T0, id, NULL);
	CHECK(store_begin(t.st) == 0);
	CHECK(store_attachment_put(t.st, id, "package", &b1, &ent, 1, sha) ==
	    0);
	CHECK(store_commit(t.st) == 0);
	CHECK(store_blob_drop(t.st, d1) == 0);
	CHECK(stat(p1, &sb) == 0);
	CHECK(store_blob_drop(t.st, d2) == 0);
	CHECK(stat(p2, &sb) == -1);
	CHECK(store_blob_drop(t.st, d2) == 0); /* gone already */
	tctx_close(&t);
}
