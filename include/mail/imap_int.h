/*
 * imap: what the fetcher's files share (private to mail/imap*.c and
 * mail/main_imap.c; no other part includes it; the unit tests use it:
 * tests/test_imap_limits.c tests the fetcher's limits through it,
 * tests/test_sandbox.c its settings).  struct imap_child is the
 * fetcher's state: it lives in the fetcher program (beiand-imap) only,
 * one per process, no threads.
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
#define IMAP_SENDER_MAX    256         /* a From key, with its NUL */
#define IMAP_PENDING_MAX   65536       /* messages waiting on the server that
                                        * one child follows; the scan stops
                                        * there (no gap: UID order holds) */

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

/* What the ENVELOPE pre-fetch tells of one message. */
struct imap_env {
	uint32_t uid;
	int found;              /* 0: gone from the mailbox */
	uint32_t size;          /* RFC822.SIZE (the server's word) */
	char sender[IMAP_SENDER_MAX]; /* imap_sender_key() of From; "" none */
};

struct imap_sender;             /* imap_limits.c's own */

/* A message left on the server for now, in UID order. */
struct imap_pending {
	uint32_t uid;
	uint32_t size;
	enum imap_wait_reason reason; /* as last told to the parent */
	struct imap_sender *sender;   /* NULL: done, compacted away */
};

struct imap_child {
	int sock;
	int dirfd;
	struct imap_url url;
	struct tls_policy tls;  /* resolved [imap] tls, tls_pin, ca_file */
	char *password;         /* the URL's, or password_file's (read by
	                         * the parent: imap_password_read); wiped */
	int password_from_file; /* a refused login ends the fetcher: the
	                         * parent reads the file again */
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
	/* the limits (DESIGN.md, Hostile senders; imap_limits.c) */
	uint64_t inbox_max, sender_max, min_free;
	int64_t sender_window_ms;
	size_t inbox_count;     /* V-U.eml files in inbox_dir, as counted */
	int inbox_stale;        /* a "done" came since: count again */
	int inbox_full, disk_low; /* logged as holding mail back (when one
	                          * waits for it: imap_limits_settle) */
	struct imap_sender **senders; /* hash buckets */
	size_t nsenders;
	int64_t senders_swept_ms;
	struct imap_sender **throttled; /* over sender_max, window not over */
	size_t nthrottled, capthrottled;
	uint32_t told_throttled; /* as last told to the parent */
	struct imap_pending *pending;
	size_t npending, cappending;
};

/* ---- imap.c: frames ---------------------------------------------------- */

int imap_u32_parse(const char *s, int zero_ok, uint32_t *out);
int imap_frame_split(const char *buf, size_t len, char line[IMAP_LINE_MAX],
    char **tok, int maxtok, const char **rest);
/*
 * The IMAP password of cf: the URL's (u: cf->imap_url parsed), else
 * [imap] password_file's, read now (lib/secret.h) by the process that
 * asks — the daemon each time it starts a fetcher, `beianctl probe
 * imap` — never by the configuration reader, never by the fetcher (it
 * could not: the file is the daemon's, mode 0600).  0 with a malloc'd
 * copy in *out (wipe, then free) and *from_file, or -1 with err.
 */
int imap_password_read(const struct config *cf, const struct imap_url *u,
    char **out, int *from_file, char *err, size_t errsize);

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
/* Zero and free c->password. */
void imap_child_password_wipe(struct imap_child *c);
void imap_child_disconnect(struct imap_child *c, int logout);
int imap_child_search(struct imap_child *c, uint32_t first, uint32_t last,
    uint32_t **uids, size_t *nuids);
int imap_child_fetch(struct imap_child *c, uint32_t uid,
    struct mailimap_fetch_type *ft, struct clist_s **res, int *found,
    uint32_t *size, const char **body, size_t *blen);
struct mailimap_fetch_type *imap_fetch_type(struct mailimap_fetch_att *att);
int imap_child_envelopes(struct imap_child *c, const uint32_t *uids, size_t n,
    struct imap_env *env);

/* ---- imap_limits.c: inbox_max, sender_max, min_free --------------------- */

/* From's mailbox@host, ASCII lower-cased, cut to size (fairness, not
 * trust: anyone can forge it). */
void imap_sender_key(const char *mailbox, const char *host, char *out,
    size_t size);
/* With inbox_max, sender_max, sender_window_ms and min_free set (from
 * the configuration, by imap_child_main): count inbox_dir. */
void imap_limits_init(struct imap_child *c);
/* Forget the waiting messages (a new UIDVALIDITY). */
void imap_limits_reset(struct imap_child *c);
/* Everything the limits hold (the child keeps it for its life; this is
 * for a caller that does not end there). */
void imap_limits_free(struct imap_child *c);
/*
 * What holds message (sender, size) back now, IMAP_WAIT_NONE when it may
 * be taken.  stored: it would be written to inbox_dir (inbox_max and
 * min_free apply; a large one is not).  Logs a limit's start and end.
 */
enum imap_wait_reason imap_limits_check(struct imap_child *c,
    const char *sender, uint64_t size, int stored);
/*
 * After a pass over the waiting messages: a limit that holds none back
 * any more is logged as over (a limit is logged when it starts holding
 * mail back and when it stops, not at every message at its edge).
 */
void imap_limits_settle(struct imap_child *c);
/* A message of sender was taken; one more file in inbox_dir if stored. */
void imap_limits_took(struct imap_child *c, const char *sender, int stored);
/* Windows that ended release their senders; tell the parent the count. */
void imap_limits_tick(struct imap_child *c);
/* When a waiting message may next be taken (monotonic ms, -1: none
 * waits on the clock); the wait never sleeps past it. */
int64_t imap_limits_next_ms(const struct imap_child *c);
/*
 * Follow message env as waiting for reason (told to the parent; again
 * when the reason of one followed changes).  -1 when IMAP_PENDING_MAX
 * are followed (the scan stops there).
 */
int imap_pending_add(struct imap_child *c, const struct imap_env *env,
    enum imap_wait_reason reason);
void imap_pending_update(struct imap_child *c, size_t i,
    enum imap_wait_reason reason);
const char *imap_pending_sender(const struct imap_pending *p);
/*
 * The reason the oldest message waiting for room (inbox_max, min_free)
 * waits, IMAP_WAIT_NONE when none does: room goes to the oldest, so a
 * newer message that would be stored waits behind it whatever the
 * counts say now (a "done" read between two messages frees room that
 * the next pass over the waiting ones takes, oldest first).
 */
enum imap_wait_reason imap_pending_room(const struct imap_child *c);
/* Message i was taken or has gone: no longer followed once compacted
 * (one pass, whatever the number done). */
void imap_pending_done(struct imap_child *c, size_t i);
void imap_pending_compact(struct imap_child *c);
/* The frame helpers of imap_fetch.c. */
void imap_child_sendf(struct imap_child *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int64_t imap_now_ms(void);

/* ---- imap_settings.c: what the parent tells the fetcher ------------------ */

#define IMAP_PROGRAM      "beiand-imap"
#define IMAP_SETTINGS_MAX 65536 /* bytes of the settings message */

/* The fetcher's settings, as it decodes them. */
struct imap_settings {
	struct config *cf;      /* only the fields of imap_settings.c set;
	                         * imap_url without a password */
	char *password;         /* the IMAP password, read by the parent */
	int password_from_file; /* it came from [imap] password_file: after
	                         * a refused login the fetcher ends, and the
	                         * parent reads the file again for the next */
	int log_sink, log_verbose; /* where its lines go: as the parent's */
};

/*
 * The settings the fetcher needs of cf (and nothing else: see
 * imap_settings.c), password (from the URL or, from_file, from [imap]
 * password_file) and where its log lines go: a malloc'd *out of *len
 * bytes, which holds the IMAP password (wipe it, then free).
 */
void imap_settings_encode(const struct config *cf, const char *password,
    int from_file, unsigned char **out, size_t *len);
/*
 * In the fetcher: 0 and *s set (free with imap_settings_free), or -1
 * when the message does not decode.
 */
int imap_settings_decode(const unsigned char *buf, size_t len,
    struct imap_settings *s);
/* Wipe the password, free the configuration. */
void imap_settings_free(struct imap_settings *s);
/* url without its password (malloc'd): what the fetcher is told. */
char *imap_url_public(const char *url);

/* ---- imap_fetch.c: the fetcher's loop ----------------------------------- */

/*
 * The fetcher's life once confined, to its _exit: s (taken over: the
 * password moves into the fetcher's state); messages go to the folder
 * dirfd; sock is its end of the parent's socket.  Never returns.
 */
void imap_child_main(struct imap_settings *s, int dirfd, int sock)
    __attribute__((noreturn));

/* ---- imap_sandbox.c: the fetcher program --------------------------------- */

/* main() of beiand-imap: its settings, its sandbox, then imap_child_main. */
int imap_program_main(int argc, char **argv);

/*
 * The fetcher's confinement, also taken by `beianctl probe imap` before
 * it connects: no capability, no_new_privs, Landlock (the folder
 * inbox_fd when not -1, the trust anchors and the resolver's files, TCP
 * to the server's port and 53) and the seccomp filter, whose refusals
 * are reported as ident[PID].  The Landlock ABI applied (0: none on this
 * kernel), or -1 and err.
 */
int imap_confine(const struct config *cf, int inbox_fd, const char *ident,
    char *err, size_t errsize);

#endif
