/*
 * imap: the owner-mail fetcher ([imap] of DESIGN.md).
 *
 * libetpan is blocking, so the fetcher is a process of its own: the
 * program beiand-imap, started by a fresh exec, never as root, confined
 * by its own seccomp filter and Landlock rules (mail/imap_sandbox.c,
 * beiand(8) SANDBOX); the daemon stays single-threaded and talks to it
 * over a SOCK_SEQPACKET socketpair (imap_fetcher_fd() for its poll
 * loop).  Its first frame from the parent is its settings
 * (mail/imap_settings.c), the password among them: the daemon reads it
 * from the URL or password_file, the fetcher reads no file but its
 * inbox and the trust anchors.  The child connects
 * (imap:// with STARTTLS, or imaps://, as [imap] tls says: see
 * common/tls_policy.h), logs in, selects the mailbox of the URL (default INBOX),
 * stores each new message durably as inbox_dir/"<uidvalidity>-<uid>.eml"
 * (mode 0600, O_EXCL temp name, fsync, rename, fsync of the folder) and
 * tells the parent.  It waits with IDLE when offered (renewed every 20
 * minutes) and polls every [imap] poll_interval besides; a dropped
 * connection is retried with jittered exponential backoff, 1 s to 5 min.
 * It uses UID commands only.
 *
 * The protocol.  One frame = one datagram of at most IMAP_FRAME_MAX
 * bytes: an ASCII line (no newline) "verb arg...", decimal numbers
 * without sign or leading '+'; both sides decode the other's frames as
 * untrusted.  V is a UIDVALIDITY, U a UID (both 1..2^32-1).
 *
 *   child -> parent
 *     uidvalidity OLD V   after every SELECT (OLD: the value of the
 *                         child's previous session, 0 on its first).
 *                         The child does nothing more until "resume".
 *     new V U FILE        inbox_dir/FILE ("V-U.eml") holds message U,
 *                         complete and durable.  Also sent for a file
 *                         already there (written before a crash): it is
 *                         reported again, never fetched again.
 *     large V U SIZE\nHDR message U has RFC822.SIZE SIZE, over [limits]
 *                         mail_max_bytes: not fetched, not moved.  HDR
 *                         (after the first '\n', may be empty) is the
 *                         raw header block of From, Return-Path,
 *                         Message-ID, Subject, Auto-Submitted,
 *                         Precedence, List-Id, at most IMAP_HEADER_MAX
 *                         bytes (hostile bytes: parse, never trust).
 *     old V U             U <= last_uid of "resume" is still in the
 *                         mailbox: asked once per session.
 *     wait V U REASON     message U stays on the server for now, not
 *                         fetched (DESIGN.md, Hostile senders).  REASON:
 *                         "sender" (its From took [imap] sender_max
 *                         mails this sender_window), "inbox" (inbox_max
 *                         messages wait between fetch and commit),
 *                         "disk" (state_dir would keep less than
 *                         [daemon] min_free).  Sent in UID order with the
 *                         others; again when the reason changes; then
 *                         "new"/"large" when it is taken, or "moved" if
 *                         it left the mailbox meanwhile.  The limits are
 *                         judged on the IMAP ENVELOPE and RFC822.SIZE,
 *                         fetched before any body.
 *     throttled N         N From addresses are over sender_max now.
 *     moved V U           U has left the mailbox (moved to done_folder,
 *                         or gone while it waited).
 *     synced V U          a scan of the mailbox ended; every UID <= U
 *                         has been reported.
 *     failing R\nREASON   a connection attempt failed, R 1 when for the
 *                         configuration's reason (certificate, STARTTLS,
 *                         login), 0 when the server's reachability
 *                         (REASON: printable ASCII, at most
 *                         IMAP_REASON_MAX bytes, e.g.
 *                         "certificate of … refused (…); its public key:
 *                         sha256//…; to trust this key: [imap] tls_pin =
 *                         …").  Sent when the reason changes; the next
 *                         "uidvalidity" says the channel works again.
 *                         After a refused login with a password_file's
 *                         password the child ends once it has said so
 *                         (the parent reads the file again for the next).
 *
 *   parent -> child
 *     resume V LAST       the answer to "uidvalidity": report UIDs above
 *                         LAST (0: everything in the mailbox), ask "old"
 *                         for the ones at or below it.
 *     done V U            the result of U is committed: move it to
 *                         done_folder (UID MOVE, or UID COPY + STORE
 *                         \Deleted + UID EXPUNGE).  Ignored unless V is
 *                         the current UIDVALIDITY.
 *     stop                log out and exit (closing the socket does too).
 *
 * What the parent must do so that nothing is lost or processed twice:
 *   - Answer "uidvalidity" with its stored (V, last_uid) when V is the
 *     stored one.  With none stored, or a changed V, it reconciles by
 *     Message-ID and content hash and answers "resume V LAST" with the
 *     LAST it chose (0 = fetch all); the child reports accordingly.
 *   - Treat (V, U) as the identity of a message.  A "new" or "large" for
 *     an identity it is already handling or has committed is a no-op
 *     (a restarted child reports everything above the committed last_uid
 *     again).
 *   - Hold a waiting U like one in hand: last_uid never passes it, so a
 *     new child (whose counts start afresh) reports it again.  Every
 *     UID up to the highest reported ("synced", or any new/large/wait:
 *     UID order) that is not in hand is committed.
 *   - Advance last_uid only after the result is committed, and only over
 *     a contiguous run: last_uid = the highest U such that every
 *     reported U' <= U is committed (a refused "large" counts once its
 *     refusal is committed) and none waits.
 *   - Send "done V U" after the commit; answer "old V U" with "done V U"
 *     when U's result is committed and U should leave the mailbox, and
 *     with nothing when it should stay (a "large" one).  A "done" lost
 *     to a crash or a dropped connection comes back as "old" on the
 *     next session, so a message moves at the latest then.
 *   - Remove inbox_dir/FILE once the result is committed (and, at
 *     start-up, any V-U.eml with U <= last_uid of the same V).
 */
#ifndef BEIAND_IMAP_H
#define BEIAND_IMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct config;
struct imap_fetcher;

#define IMAP_FRAME_MAX  16384
#define IMAP_HEADER_MAX 8192
#define IMAP_REASON_MAX 1000

struct mail_probe;

enum imap_event_kind {
	IMAP_EV_UIDVALIDITY, /* old_uidvalidity, uidvalidity */
	IMAP_EV_NEW,         /* uidvalidity, uid, file */
	IMAP_EV_LARGE,       /* uidvalidity, uid, size, header/header_len */
	IMAP_EV_OLD,         /* uidvalidity, uid */
	IMAP_EV_MOVED,       /* uidvalidity, uid */
	IMAP_EV_SYNCED,      /* uidvalidity, uid (the highest reported) */
	IMAP_EV_WAIT,        /* uidvalidity, uid, reason */
	IMAP_EV_THROTTLED,   /* count */
	IMAP_EV_FAILING      /* why/why_len, refused */
};

/* Why a message waits on the server ("wait" frames, the metrics' and
 * status's words). */
enum imap_wait_reason {
	IMAP_WAIT_NONE,
	IMAP_WAIT_SENDER,    /* [imap] sender_max */
	IMAP_WAIT_INBOX,     /* [imap] inbox_max */
	IMAP_WAIT_DISK,      /* [daemon] min_free */
	IMAP_NWAIT
};
/* "sender", "inbox", "disk" ("" for IMAP_WAIT_NONE). */
const char *imap_wait_name(enum imap_wait_reason r);

struct imap_event {
	enum imap_event_kind kind;
	uint32_t old_uidvalidity; /* IMAP_EV_UIDVALIDITY: 0 = first session */
	uint32_t uidvalidity;
	uint32_t uid;
	uint64_t size;            /* IMAP_EV_LARGE */
	enum imap_wait_reason reason; /* IMAP_EV_WAIT */
	uint32_t count;           /* IMAP_EV_THROTTLED */
	char file[32];            /* IMAP_EV_NEW: "V-U.eml", rebuilt, not copied */
	const char *header;       /* IMAP_EV_LARGE: points into the frame */
	size_t header_len;
	const char *why;          /* IMAP_EV_FAILING: into the frame, not */
	size_t why_len;           /* NUL-terminated; printable ASCII */
	int refused;              /* IMAP_EV_FAILING: the configuration's */
};

/*
 * Start the fetcher program (beiand-imap, found by lib/spawn.h's
 * spawn_find) for cf's [imap] url (which must be set), done_folder,
 * poll_interval, tls, tls_pin, ca_file, inbox_max, sender_max,
 * sender_window, [limits] mail_max_bytes and [daemon] min_free, and the
 * password of the url or password_file, read here, now; messages go to
 * inbox_dir (an existing folder on the filesystem of the parent's
 * processing, handed over open; under root the fetcher runs as the user
 * beiand, else nobody, and the folder becomes its own).  cf and
 * inbox_dir need not outlive the call.  NULL with a message in err
 * (without a "imap: " prefix) and *refused 1 when the configuration is
 * the reason (the url, tls, the password or its file), 0 when the
 * system's (the program, a user to run it as, fork, exec); connection
 * problems are the child's ("failing" frames; retried).  After a refused
 * login with a password_file's password the fetcher ends: the next one
 * started gets the file read again.
 */
struct imap_fetcher *imap_fetcher_start(const struct config *cf,
    const char *inbox_dir, int *refused, char *err, size_t errsize);
/* The parent's end of the socket (non-blocking), to poll for POLLIN. */
int imap_fetcher_fd(const struct imap_fetcher *f);
pid_t imap_fetcher_pid(const struct imap_fetcher *f);
/*
 * Read one frame.  1: *ev is set (its header points into f's buffer,
 * valid until the next call); 0: nothing to read now; -1: the child is
 * gone or sent a frame that does not decode (logged): stop it and start
 * a new one (with a delay).
 */
int imap_fetcher_read(struct imap_fetcher *f, struct imap_event *ev);
/* Send "resume" / "done".  0 sent, -1 not (the child is gone or busy). */
int imap_fetcher_resume(struct imap_fetcher *f, uint32_t uidvalidity,
    uint32_t last_uid);
int imap_fetcher_done(struct imap_fetcher *f, uint32_t uidvalidity,
    uint32_t uid);
/*
 * Ask the child to stop, wait up to 3 s, then SIGKILL; reap it and free.
 * Accepts NULL.  A file being written when it is killed is a temp name,
 * cleaned up by the next child.
 */
void imap_fetcher_stop(struct imap_fetcher *f);

/* ---- pure helpers (exposed for tests and fuzzing) ------------------- */

struct imap_url {
	int tls;          /* imaps:// */
	char *user, *pass; /* percent-decoded; pass NULL when the URL has
	                    * none (then password_file has it) */
	char *host;       /* without brackets for an IPv6 literal */
	uint16_t port;    /* 143 / 993 by default */
	char *mailbox;    /* percent-decoded; "INBOX" when the path is empty */
};

/*
 * Parse imap[s]://user[:pass]@host[:port][/mailbox].  The user is
 * required; it, the password and the mailbox may not decode to control
 * bytes.
 * 0 and *u set (free with imap_url_free), -1 with a message in err (which
 * never repeats the password).
 */
int imap_url_parse(const char *url, struct imap_url *u, char *err,
    size_t errsize);
void imap_url_free(struct imap_url *u);

/* Decode a child->parent frame.  0 and *ev set, -1 when malformed. */
int imap_event_decode(const char *buf, size_t len, struct imap_event *ev);

/*
 * `beianctl probe imap`: connect as the fetcher would (same TLS, same
 * checks, the password read from the URL or password_file now, in the
 * calling process), log in
 * and EXAMINE the mailbox read-only, then log out.  Once the password is
 * read, before (when not NULL; -1 and err to give up) runs, then the
 * process takes the fetcher's confinement (imap_confine()) for good:
 * the server's replies are parsed as the fetcher parses them.  *out says
 * what it saw; out->usable whether the daemon could fetch from there.
 * 0, or -1 with out->reason for a configuration that cannot even be
 * tried (password_file unreadable, URL wrong, no sandbox).
 */
int imap_probe(const struct config *cf, int (*before)(const struct config *,
    char *err, size_t errsize), struct mail_probe *out);

#endif
