/*
 * config: the INI configuration of DESIGN.md.
 *
 * Lookup: -c FILE, else /etc/beiand/beiand.conf if it exists, else
 * ./beiand.conf if it exists, else the built-in defaults.  Relative paths
 * are made absolute against the config file's folder (built-in: the
 * current folder).  Sizes take K, M, G (2^10, 2^20, 2^30); durations s, m,
 * h, d (a bare number is seconds, except settle_ms which is milliseconds).
 * A file's [provider.*] and [bureau.*] sections replace the built-in
 * example ones.  An unknown key or section, a key given twice in one
 * section, a bad value or a malformed line is an error "file:line:
 * message"; an [imap] provider that names no configured provider when url
 * is set (or retry_min above retry_max) is "file: message".  Comments
 * start with ';' or '#' at the start of a line or after white space.
 */
#ifndef BEIAND_CONFIG_H
#define BEIAND_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/tls_policy.h"
#include "parsers/input_limits.h"
#include "parsers/rules.h"

struct config_bureau {
	char province[3];   /* "11" */
	char **addresses;   /* accepted decision senders; review requests to [0] */
	size_t naddresses;
	char *record_to;    /* never NULL: defaults to addresses[0] (or "") */
};

struct config_provider {
	char *code;         /* "P001": the spool folder name */
	char *name;
	char *email;
	struct ip_range *ip_ranges;
	size_t nip_ranges;
};

/*
 * Strings are never NULL (an empty value is ""), except the optional
 * paths metrics_file, imap_ca_file, smtp_ca_file, imap_password_file and
 * smtp_password_file, which are NULL when empty.  Paths are absolute.
 * A password_file is never opened here: only the process that connects
 * reads it (lib/secret.h), so a program sharing the configuration never
 * holds the password.  tls_pin values are checked for their syntax
 * (tls_pin_valid); [imap]/[smtp] tls and credentials for their sense
 * (tls_policy_config) when the url is set.
 */
struct config {
	char *path;         /* the file read, NULL for built-in defaults */
	/* [daemon] */
	char *spool_dir, *state_dir; /* absolute */
	int workers;        /* 0 = one per core */
	uint64_t settle_ms;
	uint64_t upload_timeout; /* seconds */
	char *metrics_file; /* absolute, or NULL */
	uint64_t min_free;  /* bytes free on state_dir below which intake pauses */
	/* [limits] */
	struct input_limits limits;
	/* [imap] */
	char *imap_url, *imap_address, *imap_provider, *imap_done_folder;
	uint64_t imap_poll_interval; /* seconds */
	char *imap_ca_file; /* absolute, or NULL: the system store */
	enum tls_level imap_tls;
	char *imap_tls_pin; /* "" or sha256//BASE64[;...] */
	char *imap_password_file; /* absolute, or NULL */
	uint64_t imap_reply_cap;
	uint64_t imap_inbox_max;     /* messages fetched, not yet committed */
	uint64_t imap_sender_max;    /* mails taken per From address ... */
	uint64_t imap_sender_window; /* ... per this many seconds (1h) */
	/* [smtp] */
	char *smtp_url, *smtp_from;
	char *smtp_ca_file; /* absolute, or NULL */
	enum tls_level smtp_tls;
	char *smtp_tls_pin; /* "" or sha256//BASE64[;...] */
	char *smtp_password_file; /* absolute, or NULL */
	uint64_t smtp_timeout, smtp_retry_min, smtp_retry_max, smtp_max_age; /* seconds */
	uint64_t smtp_recipient_max; /* mail-caused mails an outside address
	                              * gets a day */
	/* [web]: the staff console (beiand-web) */
	char *web_listen;        /* "host:port"; "" = no console */
	char *web_base_url;      /* "" = http(s)://listen */
	char *web_tls_cert, *web_tls_key; /* absolute, or NULL: plain HTTP */
	char *web_trusted_proxy; /* an IP address, or "" */
	uint64_t web_session_idle;       /* seconds */
	uint64_t web_request_max;        /* bytes of one request's body */
	uint64_t web_login_fail_max;     /* failed logins per account or address */
	uint64_t web_login_fail_window;  /* seconds they count for */
	uint64_t web_connections_max, web_threads, web_cache_max;
	/* [bureau.NN] and [provider.CODE], in file order */
	struct config_bureau *bureaus;
	size_t nbureaus;
	struct config_provider *providers;
	size_t nproviders;
};

/*
 * Load the configuration.  path is -c's argument or NULL for the lookup
 * order above.  On error returns NULL and writes "file:line: message"
 * (or "file: message") into err.
 */
struct config *config_load(const char *path, char *err, size_t errsize);
/*
 * config_load with the search list given: path if not NULL (it must
 * exist), else the first of search[0..nsearch) that exists, else the
 * built-in defaults.  A file that exists but cannot be read is an error.
 */
struct config *config_load_from(const char *path, const char *const *search,
    size_t nsearch, char *err, size_t errsize);
/*
 * Parse text as if read from file (for tests); base_dir for relative paths
 * (NULL: the folder of file).  Keys the text leaves out keep their
 * built-in defaults, with paths relative to the current folder.  text NULL
 * gives the built-in defaults.
 */
struct config *config_parse(const char *text, size_t len, const char *file,
    const char *base_dir, char *err, size_t errsize);
void config_free(struct config *c); /* accepts NULL */

const struct config_provider *config_provider_find(const struct config *c,
    const char *code);
const struct config_bureau *config_bureau_find(const struct config *c,
    const char *province);

/*
 * Parse "64M" / "5m" style values; -1 on a bad value or overflow.  Sizes:
 * digits and an optional K, M or G (either case), at most CONFIG_SIZE_MAX.
 * Durations: digits and an optional s, m, h or d (a bare number is
 * seconds), at most CONFIG_DURATION_MAX seconds, so that millisecond and
 * time_t arithmetic on them cannot overflow.
 */
#define CONFIG_SIZE_MAX     ((uint64_t)INT64_MAX)
#define CONFIG_DURATION_MAX ((uint64_t)36500 * 86400)
int config_parse_size(const char *s, uint64_t *out);
int config_parse_duration(const char *s, uint64_t *seconds);

#endif
