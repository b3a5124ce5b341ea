/*
 * intake's insides, shared by its two files (private; no other part
 * includes it):
 *   daemon/intake.c       mails to the workers, applying them in the
 *                         group commit, after the commit
 *   daemon/intake_imap.c  the fetcher and the mailbox's bookkeeping:
 *                         its events, the UIDs in hand and waiting,
 *                         last_uid, the inbox folder
 * One struct intake per daemon; the loop's thread only.
 */
#ifndef BEIAND_INTAKE_INT_H
#define BEIAND_INTAKE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "mail/imap.h"

#define INTAKE_RESTART_MIN_MS 1000
#define INTAKE_RESTART_MAX_MS 60000
#define INTAKE_ATTEMPTS 2 /* worker crashes before a mail is given up */

struct config;
struct metrics;
struct store;
struct upload;
struct worker_pool;

enum msg_state {
	MSG_QUEUED,   /* waiting for room in a worker's queue */
	MSG_RUNNING,  /* a worker parses it */
	MSG_PARSED,   /* waiting for the group commit */
	MSG_APPLIED,  /* applied in the open group */
	MSG_COMMITTED /* committed: done sent (or to resend), file removed */
};

struct msg {
	struct msg *next;
	uint32_t v, uid;
	enum msg_state state;
	int large;            /* over mail_max_bytes: refused unread, stays */
	uint64_t size;
	char *hdr;            /* large: the header block, until submitted */
	size_t hdrlen;
	uint64_t job;
	int attempts;
	char *crash;          /* the workers' reason after the last attempt */
	struct upload *u;     /* parsed */
	int need_done;        /* committed, "done" not sent yet */
};

struct intake {
	const struct config *cf;
	struct store *st;
	struct worker_pool *pool;
	struct imap_fetcher *f;
	char inbox[4096];
	char *mailbox;        /* the store's key: the URL's mailbox */
	uint32_t v;           /* UIDVALIDITY answered with resume, 0: none */
	uint32_t last_uid;
	uint32_t reported_hi; /* every UID up to it was reported (UID order) */
	int64_t restart_ms;   /* start a fetcher at this time (0: now) */
	int64_t backoff_ms;
	struct msg *msgs;     /* in hand, by arrival */
	/* left on the server by the fetcher's limits, sorted, with the
	 * reason each was last given (DESIGN.md, Hostile senders) */
	uint32_t *waiting;
	unsigned char *wreason;
	size_t nwaiting, capwaiting;
	size_t nwait[IMAP_NWAIT];
	uint32_t throttled;   /* From addresses over sender_max */
	struct metrics *metrics; /* NULL: none kept */
};

/* ---- daemon/intake_imap.c ------------------------------------------------ */

void intake_msg_free(struct msg *m);
void intake_inbox_path(const struct intake *in, uint32_t v, uint32_t uid,
    char *buf, size_t size);
void intake_inbox_remove(const struct intake *in, uint32_t v, uint32_t uid);
void intake_fetcher_start(struct intake *in);
/* "done" for a committed mail now, or on a later tick (need_done). */
void intake_send_done(struct intake *in, struct msg *m);
/* After a commit: last_uid over what is committed; committed mails whose
 * "done" went out are forgotten. */
void intake_advance(struct intake *in);

#endif
