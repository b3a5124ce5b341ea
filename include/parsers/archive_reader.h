/*
 * archive_reader: hostile archives into memory, over libarchive.
 *
 * Zip, tar, tar.gz and tar.xz, recognised by content.  Members are read
 * into memory under the bounds of struct input_limits; nothing is ever
 * written to the filesystem and a member name is never used as a path.
 */
#ifndef BEIAND_ARCHIVE_READER_H
#define BEIAND_ARCHIVE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "parsers/errlist.h"
#include "parsers/input_limits.h"

enum ar_format { AR_ZIP, AR_TAR, AR_TAR_GZ, AR_TAR_XZ };

struct ar_entry {
	char *name;          /* UTF-8, normalised: no "./" prefix, no trailing "/" */
	unsigned char *data; /* size bytes (NUL-terminated for convenience) */
	size_t size;
	unsigned char sha256[32]; /* when hashed: see ar_entry_sha256() */
	int hashed;
};

struct ar_contents {
	enum ar_format format;
	struct ar_entry *entries; /* regular files only, in archive order */
	size_t n;
	uint64_t unpacked;        /* sum of entry sizes */
};

/*
 * Read every member of buf[0..len).  On success returns 0 and sets *out
 * (free with ar_contents_free).  On refusal returns -1, leaves *out
 * untouched and adds one or more ARCHIVE_* findings to errs: path "/" for
 * the archive as a whole, else the offending member's (decoded) name.
 * Directories are skipped; links, devices, FIFOs, unsafe names (absolute,
 * "..", over path_max), duplicate names, nested archives (by content) and
 * every limit are refusals of the whole archive.
 *
 * Member names in zip are decoded in this order: the UTF-8 flag (bit 11),
 * the Info-ZIP Unicode Path extra field (0x7075), bytes that are valid
 * UTF-8, else GB18030.  In tar: valid UTF-8, else GB18030.
 */
int ar_read(const void *buf, size_t len, const struct input_limits *lim,
    struct ar_contents **out, struct errlist *errs);
void ar_contents_free(struct ar_contents *ac); /* accepts NULL */

enum ar_whole { AR_WHOLE, AR_INCOMPLETE, AR_NOT_ARCHIVE };

/*
 * Cheap structural check used before claiming an upload: is the archive
 * complete as far as its own framing tells?  A zip needs its end of
 * central directory record; a tar its two zero end-of-archive blocks
 * (after decompression); a .gz/.xz stream its trailer.  Input that is no
 * supported archive at all is AR_NOT_ARCHIVE (it will be refused later).
 */
enum ar_whole ar_check_whole(const void *buf, size_t len,
    const struct input_limits *lim);

/* 1 when the first bytes look like an archive or compressed stream that
 * beiand knows (zip, gzip, xz, bzip2, zstd, 7z, rar, tar). */
int ar_sniff(const void *buf, size_t len);

/* The member's SHA-256, taken on first use and kept. */
const unsigned char *ar_entry_sha256(struct ar_entry *e);

#endif
