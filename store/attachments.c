/*
 * attachments: blobs kept for filings under state_dir/store/ (blob.c
 * writes them) and the rows naming them.  A row never names a blob that
 * is not on disk: the file is written, and synced, before its row commits.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/compat.h"
#include "lib/sha256.h"
#include "store/attachments.h"
#include "store/blob.h"
#include "store/store_priv.h"

/* ---- attachments ------------------------------------------------------------ */

void
hex(const unsigned char *d, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 15];
	}
	out[2 * n] = '\0';
}

int
store_attachment_path(const struct store *st, const char *sha256_hex,
    char *buf, size_t size)
{
	return blob_path(st->state_dir, sha256_hex, buf, size);
}

/*
 * Write the blob unless it is there already, named by the hash of its
 * bytes taken here (into d).  In a group, one sync before the commit
 * makes every blob of the group durable at once (store_commit); alone,
 * each is synced.
 */
static int
blob_write(struct store *st, const void *bytes, size_t len,
    unsigned char d[SHA256_LEN])
{
	char err[512];

	if (blob_put(st->state_dir, bytes, len, st->in_group ? BLOB_NOSYNC : 0,
	    d, NULL, err, sizeof(err)) == -1)
		return seterr_errno(st, errno, "%s", err);
	/* there already or new, maybe not yet durable (a rolled-back group,
	 * a crash before its sync): synced with this group */
	if (st->in_group)
		st->blobs_unsynced = 1;
	return 0;
}

static int
attachment_body(struct store *st, const char *id, const char *kind,
    const char *sha, size_t len, const struct store_entry *entries,
    size_t nentries, time_t now)
{
	unsigned char d[SHA256_LEN];
	char eh[65];

	if (run(st, "INSERT OR IGNORE INTO attachments(sha256, size, created)"
	    " VALUES(?, ?, ?)", "sII", sha, (int64_t)len, (int64_t)now) == -1)
		return -1;
	for (size_t i = 0; i < nentries; i++) {
		/* the bytes at hand are hashed here; only the members of an
		 * upload kept whole, which the parent never has apart, are
		 * described by the worker's word (they name no blob) */
		if (entries[i].data != NULL || entries[i].size == 0)
			sha256(entries[i].size > 0 ? entries[i].data :
			    (const unsigned char *)"", entries[i].size, d);
		else if (entries[i].sha256 != NULL)
			memcpy(d, entries[i].sha256, sizeof(d));
		else
			return seterr(st, "attachments: entry %s: neither "
			    "bytes nor hash", entries[i].name);
		hex(d, sizeof(d), eh);
		if (run(st, "INSERT OR IGNORE INTO attachment_entries(sha256, idx,"
		    " name, entry_sha256, size) VALUES(?, ?, ?, ?, ?)", "sissI",
		    sha, (int)i, entries[i].name, eh,
		    (int64_t)entries[i].size) == -1)
			return -1;
	}
	if (run(st, "INSERT INTO filing_attachments(filing, kind, sha256, at)"
	    " VALUES(?, ?, ?, ?)", "sssI", id, kind, sha, (int64_t)now) == -1)
		return -1;
	return 0;
}

int
store_attachment_put(struct store *st, const char *id, const char *kind,
    const struct store_blob *blob, const struct store_entry *entries,
    size_t nentries, char sha256_hex[65])
{
	unsigned char d[SHA256_LEN];
	char sha[65];
	int rc;

	/* the file first: a row never names a blob that is not on disk */
	if (blob->written) {
		if (blob->sha256 == NULL)
			return seterr(st, "attachments: a blob written ahead "
			    "without its hash");
		memcpy(d, blob->sha256, sizeof(d));
	} else if (blob_write(st, blob->bytes, blob->len, d) == -1)
		return -1;
	hex(d, sizeof(d), sha);
	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, attachment_body(st, id, kind, sha, blob->len,
		    entries, nentries, time(NULL)));
	if (rc == 0)
		memcpy(sha256_hex, sha, sizeof(sha));
	return rc;
}

int
store_blob_drop(struct store *st, const unsigned char sha256[SHA256_LEN])
{
	char sha[65], path[4096];
	int rc;

	hex(sha256, SHA256_LEN, sha);
	rc = one_int(st, NULL, "SELECT 1 FROM attachment_entries WHERE"
	    " sha256 = ?1 UNION ALL SELECT 1 FROM filing_attachments WHERE"
	    " sha256 = ?1 LIMIT 1", "s", sha);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	if (store_attachment_path(st, sha, path, sizeof(path)) == -1)
		return seterr(st, "attachments: no state_dir, or path too long");
	if (unlink(path) == -1 && errno != ENOENT)
		return seterr_errno(st, errno, "%s: %s", path, strerror(errno));
	return 0;
}

int
store_attachment_latest(struct store *st, const char *id, const char *kind,
    char sha256_hex[65])
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT sha256 FROM filing_attachments WHERE filing = ?"
	    " AND kind = ? ORDER BY id DESC LIMIT 1", "ss", id, kind);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		strlcpy(sha256_hex, col_str(s, 0), 65);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = 1;
	else
		rc = dberr(st, "attachment");
	sqlite3_reset(s);
	return rc;
}
