/*
 * tls_policy: how a mail connection ([imap] or [smtp]) uses TLS, resolved
 * from the configuration (DESIGN.md, "TLS").  Pure: no I/O, no library
 * but libc, so that the daemon, the fetcher, `beianctl probe` and the
 * configuration check all decide alike, and a table test covers it.
 *
 * Levels, after Postfix's: none (plaintext), may (STARTTLS when offered,
 * certificate not checked), encrypt (TLS required, certificate not
 * checked), verify (TLS required; chain and host name checked).  A
 * tls_pin requires TLS and accepts exactly that public key.
 *
 * auto resolves so that the URLs alone work against servers as Debian
 * ships them and credentials never cross the network to a peer the
 * level does not trust:
 *   - with a tls_pin: encrypt (the pin is the check);
 *   - a loopback host (127.0.0.0/8, ::1, "localhost"): may;
 *   - a remote host: verify when credentials will be sent (a password in
 *     the URL or a password_file; IMAP always logs in), else may;
 *   - imaps:// and smtps:// are TLS from the first byte: at least encrypt.
 * An explicit level is kept, raised to encrypt by a pin or an implicit-TLS
 * scheme.  Contradictions are errors: tls = none with imaps://, smtps://
 * or a tls_pin.
 *
 * Credentials go to a remote host only over TLS the level accepts, so
 * need_tls is set for encrypt and verify, for a pin, and for may to a
 * remote host when credentials will be sent; to a loopback host under
 * may they go in the clear when the server offers no STARTTLS.
 */
#ifndef BEIAND_TLS_POLICY_H
#define BEIAND_TLS_POLICY_H

#include <stddef.h>

struct config;

enum tls_level { TLS_AUTO, TLS_NONE, TLS_MAY, TLS_ENCRYPT, TLS_VERIFY };

enum tls_channel { TLS_CHANNEL_IMAP, TLS_CHANNEL_SMTP };

#define TLS_HOST_MAX 256   /* a host name or address literal, NUL included */
#define TLS_PIN_SIZE 53    /* "sha256//" + 44 base64 characters + NUL */
#define TLS_PINS_MAX 8     /* public keys one tls_pin may list */

struct tls_policy {
	enum tls_channel channel;
	enum tls_level configured; /* as written: TLS_AUTO when left so */
	enum tls_level level;      /* resolved: never TLS_AUTO */
	int implicit;              /* imaps:// or smtps:// */
	int loopback;              /* the host is a loopback address */
	int credentials;           /* a password will be sent */
	int need_tls;              /* no TLS, no session: fail before login */
	int check_chain;           /* verify: chain and host name */
	char host[TLS_HOST_MAX];   /* of the URL, without [] */
	const char *pin;           /* NULL, or the tls_pin value */
	const char *ca_file;       /* NULL: the system store */
};

/* What a URL says about itself, without decoding anything. */
struct tls_url {
	int implicit;              /* imaps:// or smtps:// */
	int has_user, has_password;
	char host[TLS_HOST_MAX];
};

/* "auto", "none", "may", "encrypt", "verify" */
const char *tls_level_name(enum tls_level l);
/* 0 and *out set, or -1 for a word that is no level. */
int tls_level_parse(const char *s, enum tls_level *out);
/* "imap" / "smtp": the section name */
const char *tls_channel_name(enum tls_channel ch);

/* 127.0.0.0/8, ::1, ::ffff:127.x.y.z, or the name localhost. */
int tls_host_loopback(const char *host);

/*
 * Split scheme://[user[:password]@]host[:port][/...] (imap, imaps,
 * smtp, smtps, any case).  -1 when the URL is none of those or has no
 * host (or too long a one).
 */
int tls_url_split(const char *url, struct tls_url *u);

/*
 * The syntax of a tls_pin value: one to TLS_PINS_MAX "sha256//" + the
 * base64 of 32 bytes (44 characters ending in "="), separated by ";"
 * (curl's CURLOPT_PINNEDPUBLICKEY form).  1 valid, 0 not.
 */
int tls_pin_valid(const char *pins);
/* Is pin ("sha256//...") one of pins?  1 yes, 0 no. */
int tls_pin_match(const char *pins, const char *pin);

/*
 * Resolve (pure).  pin "" counts as none; pin and ca_file are kept as
 * pointers.  0 with *p set, or -1 with a message (no "file:" prefix) in
 * err for a contradiction.
 */
int tls_policy_resolve(struct tls_policy *p, enum tls_channel ch,
    enum tls_level configured, const char *host, int implicit,
    int credentials, const char *pin, const char *ca_file, char *err,
    size_t errsize);

/*
 * The policy of cf's [imap] or [smtp] (whose url must be set), and the
 * checks on its credentials: IMAP needs a user and exactly one password
 * (in the URL or password_file); SMTP with a password_file needs a user
 * in the URL and no password there, and a user in the URL needs a
 * password.  The pointers of *p point into cf.  0, or -1 with
 * "[imap] ..." in err.
 */
int tls_policy_config(const struct config *cf, enum tls_channel ch,
    struct tls_policy *p, char *err, size_t errsize);

#endif
