/*
 * cert: see include/mail/cert.h.
 *
 * Hostile here: the certificates, which the server chose.  They are
 * parsed by GnuTLS; the text taken from them (the subject) is cleaned
 * of control bytes before it reaches a log or a terminal, and the pin
 * is computed from the key the TLS session proved, never from a name.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>

#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "mail/cert.h"

#define CERT_CHAIN_MAX 16

struct cert_trust {
	gnutls_x509_trust_list_t tl;
};

static void
cert_base64(const unsigned char *in, size_t len, char *out)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 |
		    in[i + 2];

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (len - i == 1) {
		unsigned v = (unsigned)in[i] << 16;

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

static int
cert_import(gnutls_x509_crt_t *crt, const unsigned char *der, size_t len)
{
	gnutls_datum_t d = { (unsigned char *)der, (unsigned int)len };

	if (len == 0 || len > UINT_MAX || gnutls_x509_crt_init(crt) < 0)
		return -1;
	if (gnutls_x509_crt_import(*crt, &d, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(*crt);
		return -1;
	}
	return 0;
}

int
cert_pin(const unsigned char *der, size_t len, char pin[TLS_PIN_SIZE])
{
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t key = NULL;
	gnutls_datum_t spki = { NULL, 0 };
	unsigned char d[SHA256_LEN];
	int rc = -1;

	if (cert_import(&crt, der, len) == -1)
		return -1;
	if (gnutls_pubkey_init(&key) < 0)
		goto out;
	if (gnutls_pubkey_import_x509(key, crt, 0) < 0 ||
	    gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &spki) < 0)
		goto out;
	sha256(spki.data, spki.size, d);
	memcpy(pin, "sha256//", 8);
	cert_base64(d, sizeof(d), pin + 8);
	rc = 0;
out:
	gnutls_free(spki.data);
	if (key != NULL)
		gnutls_pubkey_deinit(key);
	gnutls_x509_crt_deinit(crt);
	return rc;
}

int
cert_subject(const unsigned char *der, size_t len, char *out, size_t size)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn = { NULL, 0 };
	size_t i;

	if (size == 0 || cert_import(&crt, der, len) == -1)
		return -1;
	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) < 0) {
		gnutls_x509_crt_deinit(crt);
		return -1;
	}
	for (i = 0; i < dn.size && i + 1 < size; i++) {
		unsigned char ch = dn.data[i];

		out[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	out[i] = '\0';
	gnutls_free(dn.data);
	gnutls_x509_crt_deinit(crt);
	return 0;
}

int
cert_pem_der(const char *pem, unsigned char **der, size_t *len)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t in = { (unsigned char *)pem, 0 }, out = { NULL, 0 };
	size_t n = strlen(pem);

	if (n == 0 || n > UINT_MAX || gnutls_x509_crt_init(&crt) < 0)
		return -1;
	in.size = (unsigned int)n;
	if (gnutls_x509_crt_import(crt, &in, GNUTLS_X509_FMT_PEM) < 0 ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &out) < 0) {
		gnutls_x509_crt_deinit(crt);
		return -1;
	}
	gnutls_x509_crt_deinit(crt);
	*der = xmalloc(out.size);
	memcpy(*der, out.data, out.size);
	*len = out.size;
	gnutls_free(out.data);
	return 0;
}

struct cert_trust *
cert_trust_load(const char *ca_file, char *err, size_t errsize)
{
	struct cert_trust *t = xcalloc(1, sizeof(*t));
	int r;

	if (gnutls_x509_trust_list_init(&t->tl, 0) < 0) {
		snprintf(err, errsize, "gnutls trust list");
		free(t);
		return NULL;
	}
	if (ca_file != NULL)
		r = gnutls_x509_trust_list_add_trust_file(t->tl, ca_file, NULL,
		    GNUTLS_X509_FMT_PEM, 0, 0);
	else
		r = gnutls_x509_trust_list_add_system_trust(t->tl, 0, 0);
	if (r <= 0) {
		snprintf(err, errsize, "no trust anchors in %s",
		    ca_file != NULL ? ca_file : "the system store");
		cert_trust_free(t);
		return NULL;
	}
	return t;
}

void
cert_trust_free(struct cert_trust *t)
{
	if (t == NULL)
		return;
	gnutls_x509_trust_list_deinit(t->tl, 1);
	free(t);
}

int
cert_chain_verify(struct cert_trust *t, const struct cert_der *chain,
    size_t n, const char *host, char *err, size_t errsize)
{
	gnutls_x509_crt_t crt[CERT_CHAIN_MAX];
	gnutls_typed_vdata_st vd[2];
	gnutls_datum_t out = { NULL, 0 };
	unsigned char addr[16];
	unsigned int status = 0, ncrt = 0;
	int r, rc = -1;

	if (n == 0) {
		snprintf(err, errsize, "no server certificate");
		return -1;
	}
	for (size_t i = 0; i < n && i < CERT_CHAIN_MAX; i++) {
		if (cert_import(&crt[ncrt], chain[i].data, chain[i].len) == -1) {
			snprintf(err, errsize, "certificate %zu does not parse",
			    i);
			goto out;
		}
		ncrt++;
	}
	memset(vd, 0, sizeof(vd));
	if (inet_pton(AF_INET, host, addr) == 1) {
		vd[0].type = GNUTLS_DT_IP_ADDRESS;
		vd[0].data = addr;
		vd[0].size = 4;
	} else if (inet_pton(AF_INET6, host, addr) == 1) {
		vd[0].type = GNUTLS_DT_IP_ADDRESS;
		vd[0].data = addr;
		vd[0].size = 16;
	} else {
		vd[0].type = GNUTLS_DT_DNS_HOSTNAME;
		vd[0].data = (unsigned char *)host;
	}
	vd[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	r = gnutls_x509_trust_list_verify_crt2(t->tl, crt, ncrt, vd, 2, 0,
	    &status, NULL);
	if (r < 0) {
		snprintf(err, errsize, "verification failed: %s",
		    gnutls_strerror(r));
		goto out;
	}
	if (status != 0) {
		if (gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &out, 0) == 0) {
			size_t l;

			snprintf(err, errsize, "%s", (const char *)out.data);
			l = strlen(err);
			while (l > 0 && err[l - 1] == ' ')
				err[--l] = '\0';
		} else
			snprintf(err, errsize, "not trusted (status %#x)", status);
		gnutls_free(out.data);
		goto out;
	}
	rc = 0;
out:
	for (unsigned int i = 0; i < ncrt; i++)
		gnutls_x509_crt_deinit(crt[i]);
	return rc;
}

void
cert_refusal_format(char *out, size_t size, const struct tls_policy *p,
    const char *why, const char *pin)
{
	const char *sect = tls_channel_name(p->channel);

	if (pin == NULL || *pin == '\0') {
		snprintf(out, size, "certificate of %s refused (%s)", p->host,
		    why);
		return;
	}
	if (p->configured == TLS_VERIFY)
		snprintf(out, size, "certificate of %s refused (%s); its public "
		    "key: %s; to trust this key instead of its chain: [%s] "
		    "tls = encrypt and tls_pin = %s", p->host, why, pin, sect,
		    pin);
	else
		snprintf(out, size, "certificate of %s refused (%s); its public "
		    "key: %s; to trust this key: [%s] tls_pin = %s", p->host,
		    why, pin, sect, pin);
}
