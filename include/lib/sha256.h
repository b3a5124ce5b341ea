/*
 * sha256: SHA-256 over GnuTLS (hardware-accelerated where the CPU allows).
 *
 * Hashes identify uploads, items, mails and stored originals; they are on
 * every package's path, so the fast implementation matters.
 */
#ifndef BEIAND_SHA256_H
#define BEIAND_SHA256_H

#include <stddef.h>

#define SHA256_LEN 32
#define SHA256_HEX 65 /* 64 hex digits and a NUL */

struct sha256_ctx;

void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);
/* Lower-case hex of data's digest into hex (SHA256_HEX bytes). */
void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX]);
void sha256_to_hex(const unsigned char d[SHA256_LEN], char hex[SHA256_HEX]);

/* Incremental hashing; sha256_final frees the context. */
struct sha256_ctx *sha256_init(void);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, unsigned char out[SHA256_LEN]);

#endif
