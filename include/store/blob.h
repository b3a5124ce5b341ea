/*
 * blob: the files of the attachment store, state_dir/store/<first two hex
 * digits>/<sha256>, mode 0600, each written once (temporary name, O_EXCL,
 * rename), and whole files read.  Pure file work, safe on any thread:
 * store.c records blobs, the mailer attaches them, and the daemon reads
 * claimed uploads and writes a single package's blob ahead of its group.
 */
#ifndef BEIAND_BLOB_H
#define BEIAND_BLOB_H

#include <sys/stat.h>

#include <stddef.h>

#include "lib/sha256.h"

#define BLOB_NOSYNC 0x1  /* no fsync: the caller syncs the filesystem */

/* The path of blob sha256_hex (64 lower-case hex digits) under state_dir
 * into buf; -1 when the name is not such a digest or does not fit. */
int blob_path(const char *state_dir, const char *sha256_hex, char *buf,
    size_t size);
/*
 * Store len bytes as the blob named by their SHA-256, which this call
 * takes from the bytes themselves (into sha256_out, which may be NULL):
 * no caller's word (a worker's least of all) names a blob.  Unless a
 * file of that name and size is there already (*created, which may be
 * NULL, says which): every blob was stored under its own hash, so it is
 * these bytes.  Without BLOB_NOSYNC the file and its folder are fsynced.
 * 0, or -1 with errno set and a message in err.
 */
int blob_put(const char *state_dir, const void *bytes, size_t len, int flags,
    unsigned char sha256_out[SHA256_LEN], int *created, char *err,
    size_t errsize);
/*
 * Read a plain regular file whole (a stored blob, a claimed upload) into
 * malloc'd *out (one byte more, not counted in *len).  Links, devices and
 * FIFOs are refused (ELOOP, EINVAL) without blocking; a file that shrinks
 * while it is read gives EIO.  0, or -1 with errno set.
 */
int blob_read(const char *path, unsigned char **out, size_t *len);
/* The same, and (after not NULL) the file's status once it was read. */
int blob_read_stat(const char *path, unsigned char **out, size_t *len,
    struct stat *after);

#endif
