/*
 * tlv: the set-up messages a parent sends a helper program it started
 * (worker/worker_setup.c, mail/imap_settings.c): a sequence of records,
 * each a tag (1..TLV_TAG_MAX bytes and a NUL), a 32-bit little-endian
 * length and that many bytes of value.  The reader checks every length
 * against what is left and never reads outside the buffer.
 */
#ifndef BEIAND_TLV_H
#define BEIAND_TLV_H

#include <stddef.h>
#include <stdint.h>

#define TLV_TAG_MAX 63

struct tlv_out {
	unsigned char *buf; /* malloc'd */
	size_t len, cap;
};

void tlv_put(struct tlv_out *o, const char *tag, const void *v, size_t n);
/* A string without its NUL; NULL puts nothing (the field is absent). */
void tlv_put_str(struct tlv_out *o, const char *tag, const char *s);
void tlv_put_u64(struct tlv_out *o, const char *tag, uint64_t v);
/* Wipe (the buffer may hold a password) and free. */
void tlv_out_free(struct tlv_out *o);

struct tlv_in {
	const unsigned char *p;
	size_t left;
};

/*
 * The next record: 1 with *tag (NUL-terminated, in the buffer), *v and
 * *n set; 0 at the end; -1 when what is left is not a whole record.
 */
int tlv_next(struct tlv_in *in, const char **tag, const unsigned char **v,
    size_t *n);
/* A value as a string (no NUL inside): a malloc'd copy, or NULL. */
char *tlv_str(const unsigned char *v, size_t n);
/* A value as a number: 0 and *out, or -1 when not 8 bytes. */
int tlv_u64(const unsigned char *v, size_t n, uint64_t *out);

#endif
