/*
 * beiand's insides, shared by the files of the daemon's loop (private;
 * no other part includes it):
 *   daemon/beiand.c    start-up, recovery, configuration and reload, the
 *                      event loop, the mailer's turns
 *   daemon/pipeline.c  the uploads' way: claim, worker, decide, group
 *                      commit
 *   daemon/pipeline_groups.c  committed groups: syncs, receipts, removal
 * One struct daemon, owned by beiand_main() and handed to every call;
 * nothing here is thread-safe: the loop's thread only.
 */
#ifndef BEIAND_BEIAND_INT_H
#define BEIAND_BEIAND_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "daemon/metrics.h"
#include "daemon/prep.h"
#include "lib/sha256.h"

struct spool;
struct spool_cand;
struct worker_result;

/* A claimed upload on its way through. */
struct upl {
	struct upl *next;
	char work[768];         /* its name in spool/work/ */
	size_t src;
	char *upload;           /* the name it was uploaded as */
	int attempts;
	uint64_t job;           /* running worker job, 0 when not running */
	int stamped;            /* its change time and size when handed to a
	                         * parser (upload_prepare compares) */
	struct timespec ctime;
	long long size;
	struct upload *u;       /* parsed, waiting for the commit */
	char *crash;            /* quarantine reason after repeated crashes */
	char *receipt;          /* built in the commit */
	int receipt_ok;         /* written */
	uint64_t tag;           /* the sync that makes its claim durable */
	unsigned char sha[SHA256_LEN]; /* the upload's hash, taken before its
	                         * group (hashed set) */
	size_t len;             /* its size */
	int hashed;
	int blob_written;       /* kept as it came: its blob written ahead */
	int blob_new;           /* ... by this upload, not there before */
	struct prep_job *prep;  /* its hash (and blob) being taken */
	const char *outgoing;   /* where its receipt goes, once committed */
	int file_errno;         /* the prep thread's receipt or removal */
	int kept;               /* the filing named that blob */
	unsigned counted[METRICS_NRESULTS]; /* results, for the metrics */
	int quarantine;
	/* the inode checked in incoming/ before the claim (has_checked):
	 * the claimed file must be it (spool_work_open()) */
	dev_t checked_dev;
	ino_t checked_ino;
	int has_checked;
	/* DESIGN.md, Hostile senders: set aside from a group that failed
	 * for its sake (tried alone next), and quarantined as NOT_PROCESSED
	 * with this reason when it failed alone */
	int suspect;
	char *poison;
};

struct ulist {
	struct upl *head, *tail;
	size_t n;
};

/*
 * A committed group on its way to durability: its commit is synced, then
 * its receipts are written (on the prep thread) and synced, then its
 * claimed files go (on the prep thread too).  No effect of a commit
 * leaves the daemon (receipt, mail, IMAP expunge) before the commit is on
 * disk, and no claimed file goes before its receipt is.  While a call is
 * on the prep thread, the loop leaves the group's uploads alone.
 */
enum group_stage {
	GS_COMMITTED,           /* waiting for the commit's sync */
	GS_WRITING,             /* its receipts being written */
	GS_RECEIPTED,           /* receipts written, waiting for their sync */
	GS_REMOVING,            /* its claimed files being removed */
};

struct group {
	struct group *next;
	struct ulist ups;
	enum group_stage stage;
	uint64_t tag;           /* the sync this stage waits for */
	int64_t outbox_last;    /* the outbox's last id at the commit */
	const char *work_dir;   /* spool/work/ (a reload drains the groups) */
	struct prep_job job;    /* the call on the prep thread */
};


struct daemon {
	struct config *cf;
	const char *cfpath;
	struct store *st;
	struct spool *sp;
	struct worker_pool *pool;
	struct mailer *mailer;
	struct intake *intake;  /* NULL without an [imap] url */
	struct limits *limits;  /* min_free, and what holds intake back */
	int sfd;
	struct syncer *sy;
	struct prep *prep;
	struct ulist queue, running, done;
	struct ulist unreceipted; /* committed, their receipt not written */
	int64_t receipt_retry_ms; /* monotonic ms of the next try */
	int64_t receipt_backoff_ms;
	struct group *groups;   /* committed, oldest first */
	size_t ngroups;
	int64_t outbox_durable; /* the outbox's last id known on disk */
	int sync_errno;         /* the syncer's error, as last logged */
	int64_t changes_seen;   /* store_changes() when a sync was last asked */
	struct whole_job *wj;
	size_t nwj, capwj;
	int stopping;
	int64_t mail_due_ms;    /* monotonic ms when the mailer should run */
	int64_t mail_last_ms;   /* when it last ran */
	int sigchld;            /* a child exited: reap */
	int64_t collect_ms;     /* the next unconditional worker collect */
	int64_t commit_retry_ms; /* monotonic ms of the group's next try */
	int64_t commit_backoff_ms; /* 0 while commits go through */
	struct metrics *metrics;
	int64_t metrics_due_ms; /* monotonic ms of the next refresh */
	int metrics_errno;      /* the metrics file's last failure, as logged */
	int64_t wd_ms;          /* watchdog ping interval, -1 without one */
	int64_t wd_next_ms;     /* the next ping */
	int lockfd;             /* holds state_dir/beiand.lock (one beiand
	                         * per state_dir) */
	int wakefd;             /* state_dir/outbox.fifo: pokes of other
	                         * processes that queued mail */
};

static inline int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- daemon/pipeline.c -------------------------------------------------- */

/* A FIFO of claimed uploads: push at the tail; take the upload running
 * job, or the head when job is 0 (NULL if none). */
void ulist_push(struct ulist *l, struct upl *u);
struct upl *ulist_take(struct ulist *l, uint64_t job);

/* A claimed upload by its name in work/; NULL when its folder is not
 * configured.  upl_free() accepts NULL. */
struct upl *upl_new(struct daemon *d, const char *work);
void upl_free(struct upl *u);

/* ---- daemon/pipeline_groups.c ------------------------------------------ */

/* Everything written so far made durable, waited for; -1 when the sync
 * failed (logged). */
int sync_now(struct daemon *d);

/* A committed upload whose receipt is owed: receipts_retry() writes it
 * when its time comes (at once after the start: receipt_retry_ms 0). */
void receipt_defer(struct daemon *d, struct upl *p);
void receipts_retry(struct daemon *d, int64_t now);

/* The committed groups moved on as their syncs complete; drained
 * (waited for) on a reload and at the stop. */
void groups_advance(struct daemon *d);
void groups_drain(struct daemon *d);

/* ---- daemon/pipeline.c, again ------------------------------------------- */

/* The parsed uploads (and the IMAP intake's) in group commits; one that
 * fails for its own sake is set aside, tried alone, and quarantined when
 * it fails alone (DESIGN.md, Hostile senders). */
void commit_done(struct daemon *d);

/* Claimed uploads handed to idle workers; the spool's and the workers'
 * callbacks (spool_due(), spool_timed_out(), worker_pool_collect()). */
void dispatch(struct daemon *d);
void on_due(struct spool *sp, struct spool_cand *c, void *arg);
void on_timeout(struct spool *sp, struct spool_cand *c, void *arg);
void on_result(const struct worker_result *res, void *arg);

/* ---- daemon/upload_unreadable.c ----------------------------------------- */

/* Candidate c could not be opened (errno e): it stays in incoming/, is
 * tried again with a backoff, and the first time since it was uploaded
 * is logged (and, for EACCES/EPERM, answered with an UPLOAD_UNREADABLE
 * receipt and a recent error). */
void upload_unreadable(struct daemon *d, struct spool_cand *c, int e);

#endif
