/*
 * metrics: the Prometheus text file of DESIGN.md's Observability section.
 *
 * The loop owns one struct metrics.  It counts ingests as they commit
 * (metrics_ingested), notes IMAP syncs and worker restarts, and every few
 * seconds refreshes the gauges from the store (metrics_refresh) and
 * rewrites metrics_file (metrics_write).  Series:
 *
 *   beiand_filings{state}                         gauge, every state
 *   beiand_ingested_total{channel,result}         counter since start
 *   beiand_mails_total{state}                     gauge: outbox rows per state
 *   beiand_outbox_depth                           gauge: queued+sending+deferred
 *   beiand_outbox_oldest_deferred_seconds         gauge, 0 when none deferred
 *   beiand_imap_last_sync_timestamp_seconds       gauge, 0 before the first sync
 *   beiand_quarantine_items                       gauge
 *   beiand_worker_restarts_total                  counter
 * and those of DESIGN.md's Hostile senders:
 *   beiand_imap_deferred_total{reason}            counter since start:
 *                                                 messages the fetcher
 *                                                 left on the server
 *                                                 (sender, inbox, disk)
 *   beiand_imap_waiting{reason}                   gauge: waiting now
 *   beiand_imap_throttled_senders                 gauge: From addresses
 *                                                 over sender_max
 *   beiand_inbox_messages                         gauge: fetched, not
 *                                                 yet committed
 *   beiand_intake_paused                          gauge: 1 while state_dir
 *                                                 has less than min_free
 *   beiand_state_free_bytes                       gauge
 *   beiand_mails_capped_total                     counter (kept in the
 *                                                 store): recipient_max
 *   beiand_password_failures_total                counter (kept in the
 *                                                 store): wrong filing
 *                                                 passwords
 *
 * Every label value is a fixed word of this file or DESIGN.md: nothing
 * from an upload or a mail reaches the file.
 */
#ifndef BEIAND_METRICS_H
#define BEIAND_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct metrics;
struct store;

/* Where an input came from ("channel" label). */
enum metrics_channel {
	METRICS_CH_SPOOL,       /* spool/providers/ and spool/bureau/ uploads */
	METRICS_CH_MAIL,        /* IMAP messages */
	METRICS_NCHANNELS
};

/* What became of one ingested item ("result" label). */
enum metrics_result {
	METRICS_RES_ACCEPTED,   /* committed and moved on (filed, decision applied) */
	METRICS_RES_INVALID,    /* validation failed; errors reported */
	METRICS_RES_REFUSED,    /* well-formed but refused (WRONG_STATE, TOKEN_INVALID ...) */
	METRICS_RES_REPEATED,   /* a repeat reported as before */
	METRICS_RES_QUARANTINED,/* could not be read safely */
	METRICS_NRESULTS
};

/* Why the fetcher left a message on the server ("reason" label). */
enum metrics_wait {
	METRICS_WAIT_SENDER,    /* [imap] sender_max */
	METRICS_WAIT_INBOX,     /* [imap] inbox_max */
	METRICS_WAIT_DISK,      /* [daemon] min_free */
	METRICS_NWAITS
};

/* The intake gauges, as the loop last saw them. */
struct metrics_intake {
	uint64_t inbox;                   /* beiand_inbox_messages */
	uint64_t waiting[METRICS_NWAITS]; /* beiand_imap_waiting{reason} */
	uint64_t throttled;               /* beiand_imap_throttled_senders */
	int paused;                       /* beiand_intake_paused */
	uint64_t free_bytes;              /* beiand_state_free_bytes */
};

/* A zeroed set; never NULL (aborts on OOM). */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m); /* accepts NULL */

/* Counters. */
void metrics_ingested(struct metrics *m, enum metrics_channel ch,
    enum metrics_result res);
/* Absolute, e.g. worker_pool_restarts(); a smaller value (a new pool
 * after a reload) is added to what was seen before so the counter never
 * goes back. */
void metrics_worker_restarts_set(struct metrics *m, uint64_t restarts);
/* The IMAP fetcher finished a sync (wall-clock time). */
void metrics_imap_synced(struct metrics *m, time_t when);
/* The fetcher left one more message on the server. */
void metrics_imap_deferred(struct metrics *m, enum metrics_wait why);
/* The intake gauges. */
void metrics_intake_set(struct metrics *m, const struct metrics_intake *x);

/*
 * Refresh the gauges from the store: filings and outbox per state
 * (store_counts), quarantine items, the oldest deferred mail's age at
 * now, and the counters the store keeps (capped mails, wrong
 * passwords).  Returns 0, or -1 on a store error (the old gauges are
 * kept).
 */
/*
 * The mail channels the configuration uses ([imap] url, [smtp] url set):
 * beiand_channel_up{channel} is written for those, 1 unless the store
 * records the channel failing (store/channels.h).
 */
void metrics_channels_set(struct metrics *m, int imap, int smtp);
int metrics_refresh(struct metrics *m, struct store *st, time_t now);

/*
 * The exposition text with HELP and TYPE lines, to fp.  Returns 0, -1 on
 * a write error.
 */
int metrics_format(const struct metrics *m, FILE *fp);
/*
 * Write the text to path atomically: a temporary file beside it
 * ("." name ".tmp", mode 0644), fsync, rename.  Returns 0, or -1 with
 * errno set; path is left as it was on error.
 */
int metrics_write(const struct metrics *m, const char *path);

/*
 * One line for notify_status(): "filings: 3 awaiting_verification,
 * 1 under_review; outbox 2; quarantine 0" (states with a zero count
 * left out), then "; intake paused (min_free)" and "; N mails wait on
 * the server" when so.  Always NUL-terminated; cut short if size is too
 * small.
 */
void metrics_status(const struct metrics *m, char *buf, size_t size);

#endif
