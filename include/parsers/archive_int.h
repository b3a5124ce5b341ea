/*
 * archive_int: what the archive reader's files share: parsers/
 * archive_reader.c (limits, member data, the walk, the readers),
 * parsers/archive_name.c (member names) and parsers/archive_zip.c (the
 * zip central directory).  Private to the archive reader: only the .c
 * files of parsers/ include it; everyone else uses
 * parsers/archive_reader.h.
 *
 * Everything here works on hostile bytes: offsets and lengths read from
 * the input are checked before use, and every refusal goes through
 * ar_refuse() into the caller's error list.
 */
#ifndef BEIAND_ARCHIVE_INT_H
#define BEIAND_ARCHIVE_INT_H

#include <iconv.h>
#include <stddef.h>
#include <stdint.h>

#include "parsers/archive_reader.h"

struct stream_decoder;

/* Furthest from the end of the input the zip EOCD record can start. */
#define ZIP_EOCD_LEN	22
#define ZIP_EOCD_SCAN	(ZIP_EOCD_LEN + 0xffff)
#define ZIP_CDH_LEN	46
#define ZIP_LFH_LEN	30
#define ZIP_FLAG_UTF8	0x0800

struct zip_cd {
	uint64_t offset;	/* of the local header */
	uint64_t csize;
	uint64_t usize;
	const unsigned char *name;
	size_t namelen;
	const unsigned char *extra;
	size_t extralen;
	uint16_t flags;
	uint32_t unix_type;	/* S_IFMT bits when made on Unix, else 0 */
	size_t index;		/* position in the central directory */
};

struct ar_name {
	char *name;
	int is_file;
};

/* One ar_read() call. */
struct ar_ctx {
	const unsigned char *buf;
	size_t len;
	const struct input_limits *lim;
	struct errlist *errs;
	int refused;
	int plain;		/* tar without a compression filter */
	enum ar_format format;
	iconv_t gb;		/* GB18030 -> UTF-8, opened on first need */
	struct ar_entry *ents;
	size_t n, cap;
	struct ar_name *names;	/* every file and directory, for duplicates */
	size_t nnames, namescap;
	uint64_t unpacked;	/* member bytes so far */
	uint64_t headers;	/* headers seen, directories included */
	uint64_t tar_end;	/* decompressed offset after the end blocks */
	struct stream_decoder *sd; /* a compressed tar's one decoding */
};

static inline uint16_t
le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint64_t
le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Add a finding to c->errs and mark the archive refused. */
void ar_refuse(struct ar_ctx *c, enum err_code code, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- member names (archive_name.c) */

/*
 * The UTF-8 name of a member from its raw bytes, malloc'd; NULL when it
 * cannot be decoded (then *display is set to something printable,
 * malloc'd).  cd is the zip central directory record, NULL for tar.
 */
char *ar_name_decode(struct ar_ctx *c, const unsigned char *raw, size_t n,
    const struct zip_cd *cd, char **display);
/*
 * Check and normalise a decoded name in place: "./" prefixes go, a
 * trailing "/" marks a directory (*is_dir = 1).  Returns NULL (refused
 * with ARCHIVE_UNSAFE_PATH) when unsafe, else the normalised name inside
 * s.  *empty is set for the archive's root itself.
 */
const char *ar_name_normalise(struct ar_ctx *c, char *s, int *is_dir,
    int *empty);
/* Remember a name (a copy) for ar_names_check(). */
void ar_names_add(struct ar_ctx *c, const char *name, int is_file);
/* Refuse every name added twice (ARCHIVE_DUPLICATE_ENTRY), unless all
 * its occurrences are directories. */
void ar_names_check(struct ar_ctx *c);

/* ---- zip central directory (archive_zip.c) */

enum zip_status { ZIP_OK, ZIP_NO_EOCD, ZIP_BAD };

struct zip_dir {
	uint64_t count;
	uint64_t cd_off;
	uint64_t cd_end;	/* where the EOCD (or zip64 EOCD) starts */
};

/* 1 when b starts with a zip local header or an empty zip's EOCD. */
int zip_magic(const unsigned char *b, size_t len);
/* Find the end of central directory record of b[0..len) (zip64 too) and
 * check that it is consistent: one disk, the directory right before it.
 * ZIP_NO_EOCD: none (a cut zip); ZIP_BAD: inconsistent. */
enum zip_status zip_eocd_find(const unsigned char *b, size_t len,
    struct zip_dir *zd);
/*
 * Every central directory record of zd (malloc'd, zd->count of them,
 * pointing into b), sorted by local header offset.  Returns NULL with
 * *why (a static string) set when the directory is damaged.  The caller
 * bounds zd->count first.
 */
struct zip_cd *zip_cd_parse(const unsigned char *b, const struct zip_dir *zd,
    const char **why);

#endif
