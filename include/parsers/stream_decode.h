/*
 * stream_decode: a gzip or xz stream decoded once, in pieces.
 *
 * Hostile input: the compressed bytes.  The decoder checks the stream's
 * own framing as it goes (gzip: every member's CRC-32 and size; xz: the
 * block checks, the index and the footer of every stream, and the padding
 * between them; anything else after the last member or stream is damage)
 * and stops past cap decompressed bytes, so that a tar reader can
 * walk the output while the same pass tells whether the stream was whole.
 * Nothing but the compressed layer is judged here.
 */
#ifndef BEIAND_STREAM_DECODE_H
#define BEIAND_STREAM_DECODE_H

#include <stddef.h>
#include <stdint.h>

enum sd_status {
	SD_OK,        /* decoding, or ended as its framing says */
	SD_TRUNCATED, /* the input ends inside the stream */
	SD_CORRUPT,   /* a check fails, or bytes follow the stream */
	SD_OVER       /* more than cap decompressed bytes */
};

struct stream_decoder;

/* 1 when buf starts as a gzip or an xz stream. */
int sd_gzip_magic(const unsigned char *buf, size_t len);
int sd_xz_magic(const unsigned char *buf, size_t len);

/*
 * A decoder over the len bytes at in (which must outlive it); NULL when
 * they start as neither gzip nor xz.  An xz stream may use at most
 * SD_XZ_MEMLIMIT bytes of decoder memory (its dictionary).
 */
#define SD_XZ_MEMLIMIT (128ULL << 20)
struct stream_decoder *sd_new(const unsigned char *in, size_t len,
    uint64_t cap);

/*
 * The next decompressed piece: 1 with *p and *n (valid until the next
 * call), 0 at the stream's proper end, -1 when it failed (sd_status()
 * says how, sd_why() in words).  After 0 or -1 it keeps answering so.
 */
int sd_next(struct stream_decoder *d, const unsigned char **p, size_t *n);

enum sd_status sd_status(const struct stream_decoder *d);
const char *sd_why(const struct stream_decoder *d);
/* Decompressed bytes handed out so far. */
uint64_t sd_total(const struct stream_decoder *d);

void sd_free(struct stream_decoder *d);

#endif
