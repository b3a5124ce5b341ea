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
 * fetcher's code reads must have its row here.
 *
 * The IMAP password travels in a row of its own, never in the URL (sent
 * without it): the parent takes it from the URL or reads [imap]
 * password_file (a file of beiand's or root's, mode 0600, which the
 * fetcher's user and its Landlock rules could not open), and reads that
 * file again for every fetcher it starts.
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

#define IMAP_SETTINGS_VERSION 2

enum imap_field_type {
	IF_STR,  /* char *, never NULL */
	IF_URL,  /* char *, never NULL; sent without its password */
	IF_PATH, /* char *, NULL when unset */
	IF_U64,  /* uint64_t */
	IF_TLS   /* enum tls_level */
};

#define F(field, type) { #field, type, offsetof(struct config, field) }

static const struct imap_field {
	const char *tag;
	enum imap_field_type type;
	size_t off;
} imap_fields[] = {
	F(imap_url, IF_URL),
	F(imap_done_folder, IF_STR),
	F(imap_poll_interval, IF_U64),
	F(imap_tls, IF_TLS),
	F(imap_tls_pin, IF_STR),
	F(imap_ca_file, IF_PATH),         /* read by the fetcher: Landlock lets it */
	F(imap_inbox_max, IF_U64),
	F(imap_sender_max, IF_U64),
	F(imap_sender_window, IF_U64),
	F(limits.mail_max_bytes, IF_U64),
	F(min_free, IF_U64),              /* [daemon]: judged on the inbox folder */
};

#undef F
#define NFIELDS (sizeof(imap_fields) / sizeof(imap_fields[0]))

/* Not fields of struct config. */
#define TAG_PASSWORD      "password"
#define TAG_PASSWORD_FILE "password.from_file"
#define TAG_LOG_SINK      "log.sink"
#define TAG_LOG_VERBOSE   "log.verbose"

char *
imap_url_public(const char *url)
{
	const char *auth = strstr(url, "://"), *end, *at = NULL, *colon;
	char *out;

	if (auth == NULL)
		return xstrdup(url);
	auth += 3;
	end = auth + strcspn(auth, "/");
	for (const char *q = auth; q < end; q++)
		if (*q == '@')
			at = q;
	if (at == NULL ||
	    (colon = memchr(auth, ':', (size_t)(at - auth))) == NULL)
		return xstrdup(url);
	out = xmalloc(strlen(url) + 1);
	memcpy(out, url, (size_t)(colon - url));
	strcpy(out + (colon - url), at);
	return out;
}

void
imap_settings_encode(const struct config *cf, const char *password,
    int from_file, unsigned char **out, size_t *len)
{
	struct tlv_out o = { 0 };

	tlv_put_u64(&o, "version", IMAP_SETTINGS_VERSION);
	for (size_t i = 0; i < NFIELDS; i++) {
		const void *p = (const char *)cf + imap_fields[i].off;
		char *url;

		switch (imap_fields[i].type) {
		case IF_U64:
			tlv_put_u64(&o, imap_fields[i].tag,
			    *(const uint64_t *)p);
			break;
		case IF_TLS:
			tlv_put_u64(&o, imap_fields[i].tag,
			    (uint64_t)*(const enum tls_level *)p);
			break;
		case IF_URL:
			url = imap_url_public(*(char *const *)p);
			tlv_put_str(&o, imap_fields[i].tag, url);
			free(url);
			break;
		case IF_STR:
			tlv_put_str(&o, imap_fields[i].tag,
			    *(char *const *)p != NULL ? *(char *const *)p : "");
			break;
		case IF_PATH:
			tlv_put_str(&o, imap_fields[i].tag,
			    *(char *const *)p);
			break;
		}
	}
	tlv_put_str(&o, TAG_PASSWORD, password);
	tlv_put_u64(&o, TAG_PASSWORD_FILE, from_file != 0);
	/* where its lines go: as the parent's */
	tlv_put_u64(&o, TAG_LOG_SINK, (uint64_t)log_sink());
	tlv_put_u64(&o, TAG_LOG_VERBOSE, (uint64_t)log_verbosity());
	/* handed over whole; the parent wipes its copy (tlv_out_free) */
	*out = xmalloc(o.len);
	memcpy(*out, o.buf, o.len);
	*len = o.len;
	tlv_out_free(&o);
}

/* A row that is not a field of struct config: 1 taken, 0 not one, -1 bad. */
static int
imap_settings_extra(struct imap_settings *s, const char *tag,
    const unsigned char *v, size_t n)
{
	uint64_t x;

	if (strcmp(tag, TAG_PASSWORD) == 0) {
		if (s->password != NULL || (s->password = tlv_str(v, n)) == NULL)
			return -1;
		return 1;
	}
	if (strcmp(tag, TAG_PASSWORD_FILE) == 0) {
		if (tlv_u64(v, n, &x) != 0 || x > 1)
			return -1;
		s->password_from_file = (int)x;
		return 1;
	}
	if (strcmp(tag, TAG_LOG_SINK) == 0 ||
	    strcmp(tag, TAG_LOG_VERBOSE) == 0) {
		if (tlv_u64(v, n, &x) != 0 || x > 8)
			return -1;
		*(tag[4] == 's' ? &s->log_sink : &s->log_verbose) = (int)x;
		return 1;
	}
	return 0;
}

int
imap_settings_decode(const unsigned char *buf, size_t len,
    struct imap_settings *s)
{
	struct config *cf = xcalloc(1, sizeof(*cf));
	struct tlv_in in = { buf, len };
	const unsigned char *v;
	const char *tag;
	uint64_t x, version = 0;
	size_t n;
	int r, have[NFIELDS] = { 0 };

	memset(s, 0, sizeof(*s));
	s->cf = cf;
	s->log_sink = LOG_SINK_STDERR;
	while ((r = tlv_next(&in, &tag, &v, &n)) == 1) {
		size_t i;
		int e;

		if (strcmp(tag, "version") == 0) {
			if (tlv_u64(v, n, &version) != 0)
				goto bad;
			continue;
		}
		if ((e = imap_settings_extra(s, tag, v, n)) == -1)
			goto bad;
		if (e == 1)
			continue;
		for (i = 0; i < NFIELDS; i++)
			if (strcmp(tag, imap_fields[i].tag) == 0)
				break;
		if (i == NFIELDS || have[i])
			goto bad;
		have[i] = 1;
		switch (imap_fields[i].type) {
		case IF_U64:
			if (tlv_u64(v, n, &x) != 0)
				goto bad;
			*(uint64_t *)(void *)((char *)cf + imap_fields[i].off) =
			    x;
			break;
		case IF_TLS:
			if (tlv_u64(v, n, &x) != 0 || x > TLS_VERIFY)
				goto bad;
			*(enum tls_level *)(void *)((char *)cf +
			    imap_fields[i].off) = (enum tls_level)x;
			break;
		case IF_STR:
		case IF_URL:
		case IF_PATH: {
			char *str = tlv_str(v, n);

			if (str == NULL)
				goto bad;
			*(char **)(void *)((char *)cf + imap_fields[i].off) =
			    str;
			break;
		}
		}
	}
	if (r != 0 || version != IMAP_SETTINGS_VERSION || s->password == NULL)
		goto bad;
	for (size_t i = 0; i < NFIELDS; i++)
		if (!have[i] && imap_fields[i].type != IF_PATH)
			goto bad;
	return 0;
bad:
	imap_settings_free(s);
	return -1;
}

void
imap_settings_free(struct imap_settings *s)
{
	if (s->password != NULL) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	config_free(s->cf);
	memset(s, 0, sizeof(*s));
}
