/*
 * intake: owner and bureau mail through the daemon (DESIGN.md "Owner
 * mail (IMAP)", "Decisions").
 *
 * The parent's side of the IMAP fetcher (imap.h): it answers the
 * fetcher's events, hands each stored .eml to a parser worker (WJ_MAIL),
 * applies the parsed mail inside the daemon's group commit, and after the
 * commit tells the fetcher to move the message to done_folder, removes
 * the .eml and advances last_uid over the contiguous committed run.  A
 * mail's identity (UIDVALIDITY, UID) and content (Message-ID, sha256)
 * are committed with its result (store_mail_seen_add), so a crash at any
 * point neither loses a mail nor processes one twice.
 *
 * Every function accepts a NULL intake (no [imap] url) and then does
 * nothing, so that the event loop calls them unconditionally.
 */
#ifndef BEIAND_INTAKE_H
#define BEIAND_INTAKE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct config;
struct intake;
struct store;
struct worker_pool;
struct worker_result;

/*
 * Start intake for cf's [imap] (url must be set): the inbox folder
 * state_dir/inbox (created 0700) and the fetcher.  cf, st and pool must
 * outlive it.  NULL with a message in err on failure.
 */
struct intake *intake_new(const struct config *cf, struct store *st,
    struct worker_pool *pool, char *err, size_t errsize);
/* Stop the fetcher and free; mails not committed are reported again by
 * the next fetcher (their files stay). */
void intake_free(struct intake *in);

/* The fetcher's socket to poll for POLLIN, or -1 (none running). */
int intake_pollfd(const struct intake *in);
/* Read and handle every event the fetcher has sent. */
void intake_on_readable(struct intake *in);
/*
 * Timers and jobs: restart a dead fetcher (after a delay), hand queued
 * mails to idle workers, resend lost "done"s.  Returns the milliseconds
 * until it wants to run again (at most 1000).
 */
int64_t intake_tick(struct intake *in, int64_t now_ms);
/* A worker result: 1 when it was an intake job (taken: res->upload now
 * belongs to intake), 0 when it is someone else's. */
int intake_on_result(struct intake *in, const struct worker_result *res);
/* 1 when parsed mails wait for the group commit. */
int intake_has_done(const struct intake *in);
/* Parsed mails waiting: those set aside from a group (suspect 1), or
 * the others. */
size_t intake_waiting(const struct intake *in, int suspect);

enum intake_pick {
	INTAKE_PLAIN,   /* every parsed mail not set aside */
	INTAKE_SUSPECT, /* the first one set aside, alone */
};
/*
 * Inside the open group (store_begin): apply the parsed mails pick
 * says, each in its own savepoint (store_item_begin()), and count them
 * in *applied.  A mail whose store calls fail for its own sake
 * (store_errfault() STORE_FAULT_ITEM) is undone alone: with INTAKE_PLAIN
 * it is set aside (counted in *aside) to be tried alone; with
 * INTAKE_SUSPECT it failed alone and is quarantined in this group
 * (DESIGN.md, Hostile senders: kept in state_dir/quarantine/ once
 * committed, for `beianctl quarantine` and `requeue`).  Returns 0; -1
 * when the group fails (the environment's fault: the caller rolls it
 * back and calls intake_after_commit(in, 0)); -2 when the group's
 * transaction was lost with the failing mail (the caller rolls back and
 * applies the group again, the mail now set aside or quarantined).
 */
int intake_apply(struct intake *in, time_t now, enum intake_pick pick,
    size_t *aside, size_t *applied);
/* After the group: committed 1 (move, remove, advance) or 0 (rolled
 * back: the mails wait for the next group). */
void intake_after_commit(struct intake *in, int committed);

struct metrics;
/* Count each applied mail, each finished sync and each message left on
 * the server in m (may be NULL). */
void intake_set_metrics(struct intake *in, struct metrics *m);

/* What the fetcher's limits hold back now (DESIGN.md, Hostile senders),
 * for the metrics and `beianctl status`.  All zero for a NULL intake. */
struct intake_limits {
	size_t inbox;          /* messages fetched, not yet committed */
	size_t waiting_sender; /* left on the server: sender_max */
	size_t waiting_inbox;  /* ... inbox_max */
	size_t waiting_disk;   /* ... min_free */
	uint32_t throttled;    /* From addresses over sender_max */
};
void intake_limits_get(const struct intake *in, struct intake_limits *out);

#endif
