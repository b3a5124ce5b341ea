/*
 * imap: what the parent tells the fetcher program (beiand-imap) when it
 * starts it — the one place where the fetcher's settings are listed.
 *
 * The fetcher runs unprivileged, confined to its inbox folder, the CA
 * files and the resolver's files (imap_sandbox.c): it never sees the
 * configuration file, the SMTP password or anything else of the
 * configuration but the fields of imap_fields[] below, sent over its
 * socket as its first message (lib/tlv.h).  In the fetcher they fill a
 * struct config whose other fields are all NULL or 0: a field the
 * fetcher's code reads must have its row here.  A secret it needs (the
 * IMAP password, a password_file's contents) travels here as a value:
 * the parent reads files; the fetcher may not.
 *
 * Hostile here: nothing (the parent's own configuration); the decoder
 * still checks every record, so a mismatched build is refused.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "lib/log.h"
#include "lib/tlv.h"
#include "lib/xmalloc.h"
#include "mail/imap_int.h"

#define IMAP_SETTINGS_VERSION 1

enum imap_field_type {
	IF_STR,  /* char *, never NULL */
	IF_PATH, /* char *, NULL when unset */
	IF_U64   /* uint64_t */
};

#define F(field, type) { #field, type, offsetof(struct config, field) }

static const struct imap_field {
	const char *tag;
	enum imap_field_type type;
	size_t off;
} imap_fields[] = {
	F(imap_url, IF_STR),              /* with the password, if it has one */
	F(imap_done_folder, IF_STR),
	F(imap_ca_file, IF_PATH),
	F(imap_poll_interval, IF_U64),
	F(limits.mail_max_bytes, IF_U64),
};

#undef F
#define NFIELDS (sizeof(imap_fields) / sizeof(imap_fields[0]))

void
imap_settings_encode(const struct config *cf, unsigned char **out,
    size_t *len)
{
	struct tlv_out o = { 0 };

	tlv_put_u64(&o, "version", IMAP_SETTINGS_VERSION);
	for (size_t i = 0; i < NFIELDS; i++) {
		const void *p = (const char *)cf + imap_fields[i].off;

		if (imap_fields[i].type == IF_U64)
			tlv_put_u64(&o, imap_fields[i].tag,
			    *(const uint64_t *)p);
		else
			tlv_put_str(&o, imap_fields[i].tag,
			    *(char *const *)p);
	}
	/* where its lines go: as the parent's */
	tlv_put_u64(&o, "log.sink", (uint64_t)log_sink());
	tlv_put_u64(&o, "log.verbose", (uint64_t)log_verbosity());
	/* handed over whole; the parent wipes its copy (tlv_out_free) */
	*out = xmalloc(o.len);
	memcpy(*out, o.buf, o.len);
	*len = o.len;
	tlv_out_free(&o);
}

struct config *
imap_settings_decode(const unsigned char *buf, size_t len, int *sink,
    int *verbose)
{
	struct config *cf = xcalloc(1, sizeof(*cf));
	struct tlv_in in = { buf, len };
	const unsigned char *v;
	const char *tag;
	uint64_t x, version = 0;
	size_t n;
	int r, have[NFIELDS] = { 0 };

	*sink = LOG_SINK_STDERR;
	*verbose = 0;
	while ((r = tlv_next(&in, &tag, &v, &n)) == 1) {
		size_t i;

		if (strcmp(tag, "version") == 0) {
			if (tlv_u64(v, n, &version) != 0)
				goto bad;
			continue;
		}
		if (strcmp(tag, "log.sink") == 0 ||
		    strcmp(tag, "log.verbose") == 0) {
			if (tlv_u64(v, n, &x) != 0 || x > 8)
				goto bad;
			*(tag[4] == 's' ? sink : verbose) = (int)x;
			continue;
		}
		for (i = 0; i < NFIELDS; i++)
			if (strcmp(tag, imap_fields[i].tag) == 0)
				break;
		if (i == NFIELDS || have[i])
			goto bad;
		have[i] = 1;
		if (imap_fields[i].type == IF_U64) {
			if (tlv_u64(v, n, &x) != 0)
				goto bad;
			*(uint64_t *)(void *)((char *)cf + imap_fields[i].off) =
			    x;
		} else {
			char *s = tlv_str(v, n);

			if (s == NULL)
				goto bad;
			*(char **)(void *)((char *)cf + imap_fields[i].off) = s;
		}
	}
	if (r != 0 || version != IMAP_SETTINGS_VERSION)
		goto bad;
	for (size_t i = 0; i < NFIELDS; i++)
		if (!have[i] && imap_fields[i].type == IF_STR)
			goto bad;
	return cf;
bad:
	/* the URL may hold the password */
	if (cf->imap_url != NULL)
		explicit_bzero(cf->imap_url, strlen(cf->imap_url));
	config_free(cf);
	return NULL;
}
