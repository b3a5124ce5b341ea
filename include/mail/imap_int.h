/*
 * imap: what the fetcher's files share (private to mail/imap.c,
 * mail/imap_session.c and mail/imap_fetch.c; no other file includes it).
 * struct imap_child is the fetcher child's state: it lives in the child
 * process only, one per process, no threads.
 */
#ifndef BEIAND_IMAP_INT_H
#define BEIAND_IMAP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/tls_policy.h"
#include "mail/imap.h"
#include "mail/probe.h"

#define IMAP_NET_TIMEOUT   60          /* seconds per network read */
#define IMAP_LINE_MAX      128

struct cert_trust;
struct config;
struct imap_tls;
struct mailimap;
struct _mailstream_low;
struct mailimap_fetch_att;
struct mailimap_fetch_type;
struct clist_s;

struct imap_done {
	uint32_t uidvalidity, uid;
};

struct imap_child {
	int sock;
	int dirfd;
	struct imap_url url;
	struct tls_policy tls;  /* resolved [imap] tls, tls_pin, ca_file */
	char *password;         /* the URL's, or password_file's; wiped */
	char *password_file;    /* NULL: the URL has the password */
	struct cert_trust *trust; /* loaded once, for tls = verify */
	struct imap_tls *tlsconn; /* the session's TLS, NULL in the clear */
	/* what the last connection attempt saw, and (refused) whether it
	 * failed for the configuration's reason rather than the server's
	 * reachability */
	struct mail_probe seen;
	int refused;
	char failing[IMAP_REASON_MAX + 1]; /* the reason last told the parent */
	char *done_folder;
	uint64_t poll_interval; /* seconds, >= 1 */
	uint64_t max_bytes;
	struct mailimap *imap;
	int has_idle, has_move, has_uidplus;
	uint32_t uidvalidity;   /* of the session; 0 outside one */
	uint32_t prev_uidvalidity;
	uint32_t cursor;        /* highest UID reported under prev_uidvalidity */
	int resumed;
	uint32_t resume_last;
	int stopping;
	struct imap_done *done;
	size_t ndone, capdone;
	uint64_t rng;
};

/* ---- imap.c: frames ---------------------------------------------------- */

int imap_u32_parse(const char *s, int zero_ok, uint32_t *out);
int imap_frame_split(const char *buf, size_t len, char line[IMAP_LINE_MAX],
    char **tok, int maxtok, const char **rest);

/* ---- imap_tls.c: TLS under libetpan -------------------------------------- */

/*
 * TLS on the connected socket fd for c: the handshake (SNI for a name),
 * then c->tls's checks on the certificate — its public key against the
 * tls_pin, its chain and name (verify) — before anything else is said on
 * the connection.  Fills c->seen (TLS version, subject, pin, verify and
 * pin results).  0 with *lowp a libetpan stream that owns fd from now on
 * (c->tlsconn set); -1 with c->seen.reason set and c->refused when the
 * certificate was refused (fd still the caller's to close).
 */
int imap_tls_open(struct imap_child *c, int fd, struct _mailstream_low **lowp);
/* Decrypted bytes GnuTLS holds that a poll on the socket cannot see. */
int imap_tls_pending(const struct imap_child *c);
/* A TCP connection to host:port within timeout seconds; fd or -1. */
int imap_tcp_connect(const char *host, uint16_t port, int timeout);

/* ---- imap_session.c: the IMAP session (MAILIMAP_* codes) --------------- */

const char *imap_strerror(int r);
int imap_conn_lost(int r);
/*
 * Connect, secure (c->tls), log in, then (probe 0) make done_folder and
 * select the mailbox, or (probe 1) examine it read-only.  0 with
 * c->uidvalidity set; -1 with c->seen.reason (and c->refused for the
 * configuration's failures: certificate, STARTTLS, login).
 */
int imap_child_connect(struct imap_child *c, int probe);
/*
 * c->password from the URL, else from password_file (lib/secret.h), read
 * now: by the process that logs in, never by the configuration reader.
 * 0 (also when already set), or -1 with err.  _wipe zeroes and frees it.
 */
int imap_child_password(struct imap_child *c, const char *password_file,
    char *err, size_t errsize);
void imap_child_password_wipe(struct imap_child *c);
void imap_child_disconnect(struct imap_child *c, int logout);
int imap_child_search(struct imap_child *c, uint32_t first, uint32_t last,
    uint32_t **uids, size_t *nuids);
int imap_child_fetch(struct imap_child *c, uint32_t uid,
    struct mailimap_fetch_type *ft, struct clist_s **res, int *found,
    uint32_t *size, const char **body, size_t *blen);
struct mailimap_fetch_type *imap_fetch_type(struct mailimap_fetch_att *att);

/* ---- imap_fetch.c: the child process ----------------------------------- */

/* The child's life, from fork to _exit: never returns. */
void imap_child_main(const struct config *cf, const char *inbox_dir,
    int sock, pid_t parent) __attribute__((noreturn));

#endif
