/*
 * store: beiand's SQLite database (DESIGN.md, Transactions) — filings,
 * subjects and sites, numbers, events, the outbox, ingests and the small
 * state of the channels.
 *
 * One struct store is one connection; it is not shared between threads.
 * beiand and beianctl may each hold one on the same file: SQLite's locks
 * and a busy timeout serialise them.
 *
 * Transactions.  Every writing call below is atomic.  Outside
 * store_begin()/store_commit() it runs in its own BEGIN IMMEDIATE
 * transaction.  Between them (group commit) each call runs inside its
 * own SAVEPOINT: a refused or failed call rolls back alone and the group
 * goes on; nothing is durable before store_commit().
 *
 * Return values of the workflow calls:
 *   0   done; *out filled.
 *   1   refused: the findings (WRONG_STATE, NOT_YOUR_FILING, ...) were
 *       added to out->errs, nothing changed; out->state is the filing's
 *       unchanged state (WF_NONE when the filing is unknown).
 *  -1   database or I/O error; store_errmsg() says what.  Nothing changed.
 * Lookup calls return 0 found, 1 not found, -1 error.
 *
 * Strings passed in are copied as needed; strings handed out are owned
 * by the struct they come in, freed by its *_free function.
 * Times are UTC seconds (time_t); 0 for a "now" argument means time(NULL).
 *
 * Passwords are hashed with Argon2id (crypto_pwhash_str).  The limits are
 * libsodium's INTERACTIVE ones; when the environment variable
 * BEIAND_PWHASH_FAST=1 is set at store_open() (tests only) the MIN ones.
 *
 * This header is the connection and what every caller shares.  The calls
 * themselves are declared by concern, beside their callers:
 *   store/filings.h      new filings and resubmissions (store/ingest.c)
 *   store/transition.h   a filing moved by its owner, provider or bureau
 *   store/attachments.h  the blobs kept for filings
 *   store/outbox.h       the outbox and the mailer's queries
 *   store/query.h        a filing read back: list, show, state, owner
 *   store/status.h       counts, quarantine and recent errors (`status`)
 *   store/metrics.h      what only daemon/metrics.c asks
 *   store/intake_mail.h  the intake mailbox's state (daemon/intake.c)
 *   store/repeats.h      ingest outcomes and spool uploads (repeats)
 *   store/admin.h        beianctl import, backup and password reset
 */
#ifndef BEIAND_STORE_H
#define BEIAND_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/workflow.h"
#include "parsers/errlist.h"
#include "parsers/tracking_id.h"

struct config;
struct store;

#define STORE_ID_SIZE TRACKING_ID_SIZE /* "BA-2026-1000000" + NUL */
#define STORE_TOKEN_LEN 8      /* owner token */
#define STORE_REVIEW_TOKEN_LEN 16
#define STORE_PASSWORD_LEN 12
#define STORE_LICENCE_SIZE 64  /* a site number as UTF-8, with NUL */

/*
 * Open (creating it mode 0600) the database at path, set WAL, synchronous
 * FULL, foreign keys, secure_delete and a 10 s busy timeout, and run the
 * migrations.  cfg gives the recipients (provider emails, bureau
 * addresses), the Message-ID domain (that of [smtp] from) and state_dir
 * (attachments go to state_dir/store/); it must outlive the store.  cfg may
 * be NULL for read-only uses (beianctl list/show): mails then get no
 * recipient.  On error returns NULL with a message in err.
 */
struct store *store_open(const char *path, const struct config *cfg,
    char *err, size_t errsize);
void store_close(struct store *st); /* accepts NULL; rolls back an open group */
/* The last error's text; valid until the next call. */
const char *store_errmsg(const struct store *st);
/*
 * Whose fault the last error was (DESIGN.md, Hostile senders).
 * STORE_FAULT_ENV: the environment's — a full disk, an I/O error, a busy
 * or locked database, memory, a database that cannot be written — which
 * holds every item alike: the caller keeps its items and tries again
 * later.  STORE_FAULT_ITEM: anything else (a constraint or trigger
 * refusing a row, a limit such as a year's tracking ids, an unexpected
 * refusal), which may follow the item being applied: the caller tries
 * it alone, and one that fails alone is quarantined.
 */
enum store_fault {
	STORE_FAULT_ITEM,
	STORE_FAULT_ENV,
};
enum store_fault store_errfault(const struct store *st);
/* The class of an errno from file work done for the store. */
enum store_fault store_errno_fault(int e);
/* The schema version this code migrates to (PRAGMA user_version). */
int store_schema_version(void);

/* Group commit (see above).  store_begin() fails (-1) inside a group. */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);
/*
 * One item inside a group: store_item_begin() marks where it starts,
 * store_item_end() keeps (ok 1) or undoes (ok 0) what it did; the group
 * goes on either way.  -1 on error; after an error of the item's own
 * calls, store_in_group() says whether the group's transaction is still
 * open (SQLite may have rolled all of it back: then the caller rolls
 * the group back and applies it again without the item).
 */
int store_item_begin(struct store *st);
int store_item_end(struct store *st, int ok);
int store_in_group(const struct store *st);
/*
 * The daemon's durability: with a syncer, a commit is not synced by
 * SQLite (synchronous = NORMAL) but by the next syncer_request() made
 * after it, and a group's blobs are synced through the syncer before its
 * commit.  The caller keeps the commit's effects (receipts, mails) back
 * until then; NULL goes back to a sync in every commit.
 */
struct syncer;
int store_set_syncer(struct store *st, struct syncer *sy);
/* Rows changed through this connection so far: a change since the last
 * look wants a sync (the mailer's marks, the IMAP state, errors). */
int64_t store_changes(struct store *st);

/* ---- what the calls share ------------------------------------------ */

struct store_result {
	struct errlist *errs;        /* caller's; the store's findings are added */
	char id[STORE_ID_SIZE];      /* the filing's tracking id ("" if none) */
	enum wf_state state;         /* its state after the call */
	int64_t event;               /* the last event written, 0 if none */
};

/* Who does something, and how it reached beiand. */
struct store_actor {
	enum wf_actor kind;
	enum wf_channel channel;
	const char *name;     /* shown in events: provider code, mail address, user */
	const char *provider; /* provider code acting (spool folder, [imap] provider,
	                       * --provider); NOT_YOUR_FILING compares it */
	const char *sender;   /* mail: envelope sender, gets "invalid" replies */
	int no_sender_mail;   /* 1: queue nothing to sender (automated mail,
	                       * reply_cap reached) */
	const char *source;   /* Message-ID or sha256 hex of the input */
	time_t now;           /* 0: time(NULL) */
	/* the console: the client's address, kept in the event as origin
	 * (NULL for the other channels) */
	const char *origin;
	/* a bureau account of the console acts for this province only
	 * (NOT_YOUR_FILING otherwise); NULL: any */
	const char *province;
};

/* ---- helpers -------------------------------------------------------- */

/* "2026-11-28T10:00:03+08:00" */
void time_rfc3339_cst(time_t t, char buf[32]);
/* Random string of n characters of the password alphabet (FORMAT.md §4)
 * from the kernel CSPRNG; buf has n + 1 bytes. */
void store_random_token(char *buf, size_t n);

#endif
