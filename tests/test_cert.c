/*
 * cert: the public-key pin (the same as openssl's pipeline of NOTES.md
 * makes for this certificate), the subject, the check of a chain
 * against a CA file and a name, and the line of a refused certificate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/tls_policy.h"
#include "mail/cert.h"
#include "unit.h"

/* openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1
 *   -subj "/CN=somehost/O=Test Org" (CA:TRUE, no subjectAltName) */
static const char test_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBojCCAUmgAwIBAgIUdivfCzW8NJ9WMXiDh6oVqv7V1AIwCgYIKoZIzj0EAwIw\n"
    "JjERMA8GA1UEAwwIc29tZWhvc3QxETAPBgNVBAoMCFRlc3QgT3JnMCAXDTI2MTIw\n"
    "NzE3MjU0M1oYDzIxMjYxMTEzMTcyNTQzWjAmMREwDwYDVQQDDAhzb21laG9zdDER\n"
    "MA8GA1UECgwIVGVzdCBPcmcwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASP+CYC\n"
    "my/rnNvT6E/VCIdjm3iH/EmwgtDi1qBxBRJqcJylpOZ78FCkDtfLUYzFCspzQT/s\n"
    "DU4Kw30lxdFOIfVfo1MwUTAdBgNVHQ4EFgQUhqnN2z0Kcud28rvahc5yvYhNn2Mw\n"
    "HwYDVR0jBBgwFoAUhqnN2z0Kcud28rvahc5yvYhNn2MwDwYDVR0TAQH/BAUwAwEB\n"
    "/zAKBggqhkjOPQQDAgNHADBEAiA1YiaW/VuEy9GvggeHLwrV8JVjxWJ8POb9oW/6\n"
    "1DmmBAIgL57NBpIiId/+vcNgOzzp16ePb1sXsCBrumGlCQvzK+Y=\n"
    "-----END CERTIFICATE-----\n";
/* openssl x509 -pubkey -noout | openssl pkey -pubin -outform der |
 *   openssl dgst -sha256 -binary | base64 */
#define TEST_PIN "sha256//1JWFjvstponLEzKuFbU2N+cef6Uaox0DQAbZ7PLdl1Y="

UNIT_TEST(cert_pin_subject)
{
	unsigned char *der = NULL;
	size_t len = 0;
	char pin[TLS_PIN_SIZE], subject[256];

	CHECK(cert_pem_der(test_pem, &der, &len) == 0);
	if (der == NULL)
		return;
	CHECK(cert_pin(der, len, pin) == 0);
	CHECK_STR(pin, TEST_PIN);
	CHECK(tls_pin_valid(pin));
	CHECK(cert_subject(der, len, subject, sizeof(subject)) == 0);
	CHECK(strstr(subject, "CN=somehost") != NULL);
	CHECK(strstr(subject, "O=Test Org") != NULL);
	/* not a certificate */
	CHECK(cert_pin(der, len / 2, pin) == -1);
	CHECK(cert_pin((const unsigned char *)"x", 1, pin) == -1);
	free(der);
	der = NULL;
	CHECK(cert_pem_der("no PEM here", &der, &len) == -1);
	CHECK(cert_pem_der("", &der, &len) == -1);
	CHECK(der == NULL);
}

UNIT_TEST(cert_chain_verify)
{
	char dir[] = "/tmp/beiand-cert.XXXXXX", path[128], err[512];
	struct cert_trust *t;
	struct cert_der chain[1];
	unsigned char *der = NULL;
	size_t len = 0;
	FILE *fp;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	fp = fopen(path, "w");
	CHECK(fp != NULL);
	if (fp == NULL)
		return;
	fputs(test_pem, fp);
	fclose(fp);
	CHECK(cert_pem_der(test_pem, &der, &len) == 0);
	chain[0].data = der;
	chain[0].len = len;
	t = cert_trust_load(path, err, sizeof(err));
	CHECKM(t != NULL, "%s", err);
	if (t != NULL) {
		/* trusted, and the name matches */
		CHECKM(cert_chain_verify(t, chain, 1, "somehost", err,
		    sizeof(err)) == 0, "%s", err);
		/* trusted, but named for no address: what ca_file cannot
		 * fix for a snakeoil certificate reached by 127.0.0.1 */
		CHECK(cert_chain_verify(t, chain, 1, "127.0.0.1", err,
		    sizeof(err)) == -1);
		CHECKM(strstr(err, "does not match") != NULL, "%s", err);
		CHECK(cert_chain_verify(t, chain, 1, "other.example", err,
		    sizeof(err)) == -1);
		CHECK(cert_chain_verify(t, chain, 0, "somehost", err,
		    sizeof(err)) == -1);
		cert_trust_free(t);
	}
	/* an empty CA file: no anchors */
	fp = fopen(path, "w");
	if (fp != NULL)
		fclose(fp);
	CHECK(cert_trust_load(path, err, sizeof(err)) == NULL);
	CHECKM(strstr(err, "no trust anchors") != NULL, "%s", err);
	cert_trust_free(NULL);
	free(der);
	unlink(path);
	rmdir(dir);
}

UNIT_TEST(cert_refusal_format)
{
	struct tls_policy p;
	char out[1024], err[256];

	CHECK(tls_policy_resolve(&p, TLS_CHANNEL_SMTP, TLS_AUTO,
	    "mail.example.net", 0, 1, NULL, NULL, err, sizeof(err)) == 0);
	cert_refusal_format(out, sizeof(out), &p, "issuer unknown", TEST_PIN);
	CHECK_STR(out, "certificate of mail.example.net refused (issuer "
	    "unknown); its public key: " TEST_PIN "; to trust this key: "
	    "[smtp] tls_pin = " TEST_PIN);
	CHECK(tls_policy_resolve(&p, TLS_CHANNEL_IMAP, TLS_VERIFY, "h", 0, 1,
	    NULL, NULL, err, sizeof(err)) == 0);
	cert_refusal_format(out, sizeof(out), &p, "x", TEST_PIN);
	CHECK(strstr(out, "[imap] tls = encrypt and tls_pin = " TEST_PIN) !=
	    NULL);
	cert_refusal_format(out, sizeof(out), &p, "x", "");
	CHECK_STR(out, "certificate of h refused (x)");
}
