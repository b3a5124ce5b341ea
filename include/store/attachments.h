/*
 * store/attachments: the bytes kept for a filing (its accepted package,
 * a verification record) as blobs under state_dir/store/, and the rows
 * naming them.  Written by store/ingest.c and daemon/beiand.c (blobs
 * written ahead, dropped when their item is refused); read by the mailer,
 * which attaches them.
 */
#ifndef BEIAND_STORE_ATTACHMENTS_H
#define BEIAND_STORE_ATTACHMENTS_H

#include <stddef.h>

#include "store/store.h"

/* A member of a kept blob, recorded with its name, size and SHA-256.
 * The hash is taken here from data; sha256 is used only for a member
 * whose bytes are not at hand (data NULL: an upload kept whole, whose
 * members the worker described; such a hash names no blob). */
struct store_entry {
	const char *name;
	const unsigned char *data;
	size_t size;
	const unsigned char *sha256;
};

/* Bytes to keep.  Their hash, the blob's name, is taken here from the
 * bytes; only a blob written ahead comes with it (sha256: the daemon's
 * own hash of what it wrote, blob_put()'s, never a worker's). */
struct store_blob {
	const void *bytes;
	size_t len;
	const unsigned char *sha256; /* with written: 32 bytes; else unused */
	int written;        /* already in the store (bytes may then be NULL),
	                     * written ahead with blob_put() and synced by
	                     * the caller before the commit: only recorded */
};

/* Remove a stored blob no attachment names (one written ahead for an item
 * that was refused after all); one still named stays.  0, or -1. */
int store_blob_drop(struct store *st, const unsigned char sha256[32]);

/*
 * Keep blob's bytes (an accepted original archive, or a verification record's
 * files packed by the caller) once under state_dir/store/<first two hex
 * digits>/<sha256>, written O_EXCL + fsync + rename, mode 0600, and record
 * it for filing id as kind ("package", "verification") with each entry's
 * name, sha256 and size.  sha256_hex receives the hex digest (65 bytes).
 */
int store_attachment_put(struct store *st, const char *id, const char *kind,
    const struct store_blob *blob, const struct store_entry *entries,
    size_t nentries, char sha256_hex[65]);
/* Path of a stored blob into buf; -1 when it does not fit. */
int store_attachment_path(const struct store *st, const char *sha256_hex,
    char *buf, size_t size);
/* The latest attachment of kind for filing id: 0 and sha256_hex set, 1 none. */
int store_attachment_latest(struct store *st, const char *id,
    const char *kind, char sha256_hex[65]);

#endif
