/*
 * tls_policy: see include/common/tls_policy.h.
 *
 * The URL is the operator's and may carry a password: nothing here
 * copies or echoes the user information, only whether it is there.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/config.h"
#include "common/tls_policy.h"

static const char *const tls_level_names[] = {
	[TLS_AUTO] = "auto",
	[TLS_NONE] = "none",
	[TLS_MAY] = "may",
	[TLS_ENCRYPT] = "encrypt",
	[TLS_VERIFY] = "verify",
};

const char *
tls_level_name(enum tls_level l)
{
	if ((unsigned)l < sizeof(tls_level_names) / sizeof(tls_level_names[0]))
		return tls_level_names[l];
	return "?";
}

int
tls_level_parse(const char *s, enum tls_level *out)
{
	for (size_t i = 0; i < sizeof(tls_level_names) /
	    sizeof(tls_level_names[0]); i++)
		if (strcmp(s, tls_level_names[i]) == 0) {
			*out = (enum tls_level)i;
			return 0;
		}
	return -1;
}

const char *
tls_channel_name(enum tls_channel ch)
{
	return ch == TLS_CHANNEL_IMAP ? "imap" : "smtp";
}

int
tls_host_loopback(const char *host)
{
	unsigned char a[16];
	size_t len = strlen(host);

	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) == 1) {
		static const unsigned char one[16] = { [15] = 1 };
		static const unsigned char mapped[12] = { [10] = 0xff,
		    [11] = 0xff };

		return memcmp(a, one, 16) == 0 ||
		    (memcmp(a, mapped, 12) == 0 && a[12] == 127);
	}
	if (len > 0 && host[len - 1] == '.')
		len--;
	return len == 9 && strncasecmp(host, "localhost", 9) == 0;
}

int
tls_url_split(const char *url, struct tls_url *u)
{
	static const struct {
		const char *scheme;
		int implicit;
	} schemes[] = {
		{ "imap://", 0 }, { "imaps://", 1 },
		{ "smtp://", 0 }, { "smtps://", 1 },
	};
	const char *p = NULL, *end, *at = NULL, *h, *he;
	size_t n;

	memset(u, 0, sizeof(*u));
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		n = strlen(schemes[i].scheme);
		if (strncasecmp(url, schemes[i].scheme, n) == 0) {
			p = url + n;
			u->implicit = schemes[i].implicit;
			break;
		}
	}
	if (p == NULL)
		return -1;
	/* the authority ends at the first '/', as imap_url_parse has it
	 * (a password may hold ';' or '#'); its last '@' ends the user
	 * information */
	end = p + strcspn(p, "/");
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (at != NULL) {
		u->has_user = at > p && *p != ':';
		u->has_password = memchr(p, ':', (size_t)(at - p)) != NULL;
		h = at + 1;
	} else
		h = p;
	if (h < end && *h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (rb == NULL)
			return -1;
		h++;
		he = rb;
	} else {
		he = memchr(h, ':', (size_t)(end - h));
		if (he == NULL)
			he = end;
	}
	n = (size_t)(he - h);
	if (n == 0 || n >= sizeof(u->host))
		return -1;
	memcpy(u->host, h, n);
	u->host[n] = '\0';
	return 0;
}

/* One "sha256//" + 44 base64 characters of 32 bytes, s[0..len). */
static int
tls_pin_one_valid(const char *s, size_t len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *last;

	if (len != TLS_PIN_SIZE - 1 || strncmp(s, "sha256//", 8) != 0)
		return 0;
	s += 8;
	for (size_t i = 0; i < 43; i++)
		if (s[i] == '\0' || strchr(b64, s[i]) == NULL)
			return 0;
	/* 32 bytes end in one "=": the last character before it carries
	 * 4 bits, so its low 2 bits are zero. */
	last = strchr(b64, s[42]);
	return s[43] == '=' && ((last - b64) & 3) == 0;
}

int
tls_pin_valid(const char *pins)
{
	const char *s = pins;
	int n = 0;

	if (pins == NULL || *pins == '\0')
		return 0;
	for (;;) {
		size_t len = strcspn(s, ";");

		if (!tls_pin_one_valid(s, len) || ++n > TLS_PINS_MAX)
			return 0;
		if (s[len] == '\0')
			return 1;
		s += len + 1;
	}
}

int
tls_pin_match(const char *pins, const char *pin)
{
	const char *s = pins;
	size_t plen;

	if (pins == NULL || pin == NULL)
		return 0;
	plen = strlen(pin);
	for (;;) {
		size_t len = strcspn(s, ";");

		if (len == plen && plen > 0 && memcmp(s, pin, len) == 0)
			return 1;
		if (s[len] == '\0')
			return 0;
		s += len + 1;
	}
}

int
tls_policy_resolve(struct tls_policy *p, enum tls_channel ch,
    enum tls_level configured, const char *host, int implicit,
    int credentials, const char *pin, const char *ca_file, char *err,
    size_t errsize)
{
	struct tls_policy r;
	const char *sect = tls_channel_name(ch);

	memset(&r, 0, sizeof(r));
	r.channel = ch;
	r.configured = configured;
	r.implicit = implicit;
	r.credentials = credentials;
	r.pin = pin != NULL && *pin != '\0' ? pin : NULL;
	r.ca_file = ca_file != NULL && *ca_file != '\0' ? ca_file : NULL;
	if (host == NULL || strlen(host) >= sizeof(r.host)) {
		snprintf(err, errsize, "[%s] url: no usable host", sect);
		return -1;
	}
	memcpy(r.host, host, strlen(host) + 1);
	r.loopback = tls_host_loopback(host);

	if (configured == TLS_NONE && implicit) {
		snprintf(err, errsize, "[%s] tls = none contradicts %ss://, "
		    "which is TLS from the first byte", sect, sect);
		return -1;
	}
	if (configured == TLS_NONE && r.pin != NULL) {
		snprintf(err, errsize, "[%s] tls = none contradicts tls_pin, "
		    "which needs TLS", sect);
		return -1;
	}
	switch (configured) {
	case TLS_AUTO:
		if (r.pin != NULL)
			r.level = TLS_ENCRYPT;
		else if (r.loopback)
			r.level = TLS_MAY;
		else
			r.level = credentials ? TLS_VERIFY : TLS_MAY;
		break;
	default:
		r.level = configured;
		break;
	}
	if ((implicit || r.pin != NULL) && r.level < TLS_ENCRYPT)
		r.level = TLS_ENCRYPT;
	r.need_tls = r.level >= TLS_ENCRYPT ||
	    (r.level == TLS_MAY && !r.loopback && credentials);
	r.check_chain = r.level == TLS_VERIFY;
	*p = r;
	return 0;
}

int
tls_policy_config(const struct config *cf, enum tls_channel ch,
    struct tls_policy *p, char *err, size_t errsize)
{
	const char *sect = tls_channel_name(ch), *url, *pin, *ca, *pwfile;
	enum tls_level lvl;
	struct tls_url u;
	int creds;

	if (ch == TLS_CHANNEL_IMAP) {
		url = cf->imap_url;
		lvl = cf->imap_tls;
		pin = cf->imap_tls_pin;
		ca = cf->imap_ca_file;
		pwfile = cf->imap_password_file;
	} else {
		url = cf->smtp_url;
		lvl = cf->smtp_tls;
		pin = cf->smtp_tls_pin;
		ca = cf->smtp_ca_file;
		pwfile = cf->smtp_password_file;
	}
	if (pwfile != NULL && *pwfile == '\0')
		pwfile = NULL;
	if (url == NULL || tls_url_split(url, &u) == -1) {
		snprintf(err, errsize, "[%s] url: expected %s://host or "
		    "%ss://host", sect, sect, sect);
		return -1;
	}
	if (pwfile != NULL && u.has_password) {
		snprintf(err, errsize, "[%s] password_file is set and the url "
		    "carries a password too: keep one", sect);
		return -1;
	}
	if (pwfile != NULL && !u.has_user) {
		snprintf(err, errsize, "[%s] password_file needs the user name "
		    "in the url (%s://USER@host)", sect, sect);
		return -1;
	}
	if (ch == TLS_CHANNEL_IMAP && (!u.has_user ||
	    (!u.has_password && pwfile == NULL))) {
		snprintf(err, errsize, "[imap] url needs a user and a password "
		    "(imap://USER:PASSWORD@host, or imap://USER@host with "
		    "password_file)");
		return -1;
	}
	if (ch == TLS_CHANNEL_SMTP && u.has_user && !u.has_password &&
	    pwfile == NULL) {
		snprintf(err, errsize, "[smtp] url has a user but no password "
		    "(smtp://USER:PASSWORD@host, or password_file)");
		return -1;
	}
	creds = ch == TLS_CHANNEL_IMAP || u.has_password || pwfile != NULL;
	return tls_policy_resolve(p, ch, lvl, u.host, u.implicit, creds, pin,
	    ca, err, errsize);
}
