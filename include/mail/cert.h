/*
 * cert: the server certificate of a mail connection, read with GnuTLS —
 * its public-key pin (what [imap]/[smtp] tls_pin compares), its subject,
 * the check of its chain and name against trust anchors, and the log
 * line of a refused one.  Used by the IMAP session (the certificates of
 * its own GnuTLS session) and by SMTP (the PEM libcurl hands over as
 * CURLINFO_CERTINFO).
 */
#ifndef BEIAND_CERT_H
#define BEIAND_CERT_H

#include <stddef.h>

#include "common/tls_policy.h"

/* One certificate, DER (borrowed). */
struct cert_der {
	const unsigned char *data;
	size_t len;
};

/*
 * The pin of a DER certificate: "sha256//" and the base64 of the SHA-256
 * of its SubjectPublicKeyInfo (DER), as curl's CURLOPT_PINNEDPUBLICKEY
 * and `openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl
 * dgst -sha256 -binary | base64` make it.  0, or -1 for bytes that are
 * no certificate.
 */
int cert_pin(const unsigned char *der, size_t len, char pin[TLS_PIN_SIZE]);

/* Its subject (RFC 4514, "CN=somehost"), control bytes shown as '?'
 * (it is the server's text).  0, or -1. */
int cert_subject(const unsigned char *der, size_t len, char *out,
    size_t size);

/* The first certificate of a PEM text as DER (malloc'd, *der freed by
 * the caller).  0, or -1 when there is none. */
int cert_pem_der(const char *pem, unsigned char **der, size_t *len);

/* Trust anchors: the PEM file ca_file, or the system store (NULL).
 * NULL with err set when none can be loaded. */
struct cert_trust;
struct cert_trust *cert_trust_load(const char *ca_file, char *err,
    size_t errsize);
void cert_trust_free(struct cert_trust *t); /* accepts NULL */

/*
 * Check chain[0..n) (the server's, leaf first) against t and host (a
 * name, or an IPv4/IPv6 literal checked against the subjectAltName
 * addresses), for TLS server use.  0 trusted; -1 with GnuTLS's words
 * for why in err ("The certificate is NOT trusted. The certificate
 * issuer is unknown.").
 */
int cert_chain_verify(struct cert_trust *t, const struct cert_der *chain,
    size_t n, const char *host, char *err, size_t errsize);

/*
 * The one line about a refused certificate (logged on each change, shown
 * as the channel's reason): "certificate of HOST refused (WHY); its
 * public key: PIN; to trust this key: [SECT] tls_pin = PIN" (with the
 * level to set too when the configured one is verify, which a pin does
 * not relax).  pin "" when the certificate was not seen.
 */
void cert_refusal_format(char *out, size_t size, const struct tls_policy *p,
    const char *why, const char *pin);

#endif
