/*
 * intake's insides, shared by its three files (private; no other part
 * includes it):
 *   daemon/intake.c       mails to the workers, applying them in the
 *                         group commit (each in its own savepoint; a
 *                         mail that fails alone is quarantined), after
 *                         the commit
 *   daemon/intake_apply.c what one parsed mail means: replies, a bureau
 *                         decision, a withdrawal, a package
 *   daemon/intake_imap.c  the fetcher and the mailbox's bookkeeping:
 *                         its events, the UIDs in hand and waiting,
 *                         last_uid, the inbox folder
 * One struct intake per daemon; the loop's thread only.
 */
#ifndef BEIAND_INTAKE_INT_H
#define BEIAND_INTAKE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/workflow.h"
#include "daemon/chanstate.h"
#include "lib/sha256.h"
#include "mail/imap.h"
#include "parsers/errlist.h"
#include "parsers/package.h"
#include "store/store.h"

#define INTAKE_RESTART_MIN_MS 1000
#define INTAKE_RESTART_MAX_MS 60000
#define INTAKE_ATTEMPTS 2 /* worker crashes before a mail is given up */
#define INTAKE_REQUEUE_SCAN_MS 5000 /* how often inbox/ is read for mails
                                     * put back by `beianctl requeue` */

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
	MSG_COMMITTED, /* committed: done sent (or to resend), file removed */
	MSG_HELD      /* not even its quarantine could be recorded: left as
	               * it is until the next start */
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
	/* DESIGN.md, Hostile senders: set aside from a group that failed for
	 * its sake (then tried alone), and quarantined with this reason when
	 * it failed alone too */
	int suspect;
	char *poison;
	int requeued;         /* put back by `beianctl requeue`: its file is
	                       * inbox/mail-V-U.eml, its message long moved */
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
	struct chanstate chan;   /* the imap channel's state */
	char quarantine[4096]; /* state_dir/quarantine: mails kept for the
	                        * operator */
	int64_t requeue_scan_ms; /* the next look for requeued mails */
};

/* ---- daemon/intake_apply.c ---------------------------------------------- */

/* What one mail is applied with. */
struct mctx {
	struct store *st;
	const struct config *cf;
	uint32_t uid;           /* its UID, for the log */
	struct upload *u;       /* as the worker read it */
	const struct mail_meta *mm;
	char hex[SHA256_HEX];   /* content key: sha256, or "large:SIZE" */
	char ref[17];           /* Message-ID part of replies: hex digits */
	const char *reply_to;   /* envelope sender, else From */
	struct store_actor who;
	time_t now;
};

/*
 * Each -1 on a store error (store_errmsg()), else 0.  A refusal or help
 * reply goes to the envelope sender: never to automated mail, at most
 * reply_cap a day per address; filing, when not NULL, is the filing the
 * mail made or changed: the reply is about it.
 */
int mail_reply(struct mctx *c, enum wf_template tpl, const char *params,
    const char *filing);
/* A refusal about filing (NULL: none) of what the mail made or changed. */
int mail_refuse_about(struct mctx *c, const char *id, enum wf_state state,
    const struct errlist *el, const char *filing);
int mail_refuse(struct mctx *c, const char *id, enum wf_state state,
    const struct errlist *el);
int mail_refuse_code(struct mctx *c, const char *id, enum err_code code,
    const char *path);
/* addr is an address of the bureau of province (NULL: of any). */
int mail_bureau_address(const struct config *cf, const char *addr,
    const char *province);
/* The bureau's answer to a review request. */
int mail_apply_bureau(struct mctx *c);
/* The owner withdraws by a follow-up whose first line is "withdraw". */
int mail_apply_withdraw(struct mctx *c);
/* A package from an owner: a new filing, or a follow-up under its tag. */
int mail_apply_package(struct mctx *c);


/* ---- daemon/intake_imap.c ------------------------------------------------ */

void intake_msg_free(struct msg *m);
/* The mail (v, uid) in hand, or NULL; one more in hand (arrival order). */
struct msg *intake_msg_find(struct intake *in, uint32_t v, uint32_t uid);
void intake_msg_add(struct intake *in, struct msg *m);
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
