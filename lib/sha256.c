/*
 * sha256: see include/lib/sha256.h.
 */
#include <stdio.h>
#include <stdlib.h>

#include <gnutls/crypto.h>

#include "lib/sha256.h"

struct sha256_ctx {
	gnutls_hash_hd_t h;
};

static void
sha256_die(void)
{
	fprintf(stderr, "sha256: GnuTLS hashing unavailable\n");
	abort();
}

void
sha256(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, out) < 0)
		sha256_die();
}

void
sha256_to_hex(const unsigned char d[SHA256_LEN], char hex[SHA256_HEX])
{
	static const char hx[] = "0123456789abcdef";

	for (int i = 0; i < SHA256_LEN; i++) {
		hex[2 * i] = hx[d[i] >> 4];
		hex[2 * i + 1] = hx[d[i] & 15];
	}
	hex[64] = '\0';
}

void
sha256_hex(const void *data, size_t len, char hex[SHA256_HEX])
{
	unsigned char d[SHA256_LEN];

	sha256(data, len, d);
	sha256_to_hex(d, hex);
}

struct sha256_ctx *
sha256_init(void)
{
	struct sha256_ctx *c = malloc(sizeof(*c));

	if (c == NULL || gnutls_hash_init(&c->h, GNUTLS_DIG_SHA256) < 0)
		sha256_die();
	return c;
}

void
sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	if (len > 0 && gnutls_hash(c->h, data, len) < 0)
		sha256_die();
}

void
sha256_final(struct sha256_ctx *c, unsigned char out[SHA256_LEN])
{
	gnutls_hash_deinit(c->h, out);
	free(c);
}
