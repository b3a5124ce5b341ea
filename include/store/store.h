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
 */
#ifndef BEIAND_STORE_H
#define BEIAND_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "common/workflow.h"

struct config;
struct store;

#define STORE_ID_SIZE 16       /* "BA-2026-000123" + NUL */
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
/* The schema version this code migrates to (PRAGMA user_version). */
int store_schema_version(void);

/* Group commit (see above).  store_begin() fails (-1) inside a group. */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);
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

/* ---- filings ------------------------------------------------------- */

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
};

/*
 * A package to file.  f may be NULL when filing.xml could not be parsed;
 * errs holds the findings of parsing and store-independent checks (it is
 * not modified).  xml is the canonical text to keep (filing_to_xml(),
 * without the password), may be NULL.  Domains are compared as given,
 * lower-cased and without a trailing dot: pass them as A-labels.
 */
struct store_package {
	const struct filing *f;
	const char *xml;
	const struct errlist *errs;
	/* mail: the From address, which must be the owner address
	 * (SENDER_MISMATCH); NULL skips the check */
	const char *from;
};

/*
 * A new filing: allocate the tracking id (year of now in CST), create the
 * record in received, run the store checks (SUBJECT_CONFLICT,
 * SUBJECT_ALREADY_FILED, DOMAIN_CONFLICT, LICENCE_UNKNOWN, LICENCE_FORMAT,
 * PASSWORD_WRONG, PASSWORD_LOCKED, LAST_ACCESS, SENDER_MISMATCH; added to
 * out->errs), then move it to invalid (when pkg->errs or the store found
 * an error) or awaiting_verification, with events and outbox rows.
 * Returns 0 (the filing exists, in out->state) or -1.  All findings are
 * kept as the filing's last errors (show).
 */
int store_filing_create(struct store *st, const struct store_package *pkg,
    const struct store_actor *who, struct store_result *out);

/*
 * A package with filing/@id (or a mail tag) naming id.  Refused (1):
 * TRACKING_ID_UNKNOWN, NOT_YOUR_FILING (provider acting on another's
 * filing), TOKEN_INVALID (owner_token given and wrong, or an owner acting
 * without it), WRONG_STATE (not a state this actor may resubmit from).
 * Otherwise runs the store checks; valid: replaces the filing's data and
 * moves it on (returned_to_owner → awaiting_verification, returned_to_provider
 * → under_review with a new review round); invalid: the state is kept,
 * an event (from = to) records the attempt and the invalid mail goes to
 * the submitter.  Both return 0.
 */
int store_filing_resubmit(struct store *st, const char *id,
    const char *owner_token, const struct store_package *pkg,
    const struct store_actor *who, struct store_result *out);

/* One finding of a provider's return or a bureau's rejection. */
struct store_issue {
	const char *path, *code, *text;
};

struct store_transition_req {
	const char *id;
	enum wf_state to;
	const char *reason;          /* free text for the event (withdrawal reason...) */
	/* owner acting (withdraw by mail): the filing's owner token */
	const char *owner_token;
	/* bureau acting by mail or spool: the review token of this round
	 * (TOKEN_INVALID); beianctl (channel cli) needs none */
	const char *review_token;
	/* returned_to_owner / returned_to_provider: what to fix; kept as the
	 * filing's last errors and put in the mail */
	const struct store_issue *issues;
	size_t nissues;
	/* approved: a number the bureau issued (FORMAT.md §4), or NULL */
	const char *licence;
};

/*
 * Move filing req->id to req->to as who: the compare-and-swap of the
 * state, the event and the outbox rows of workflow.h's table, in one
 * transaction (or savepoint).  Refused (1): TRACKING_ID_UNKNOWN,
 * WRONG_STATE (no such transition for this actor, or the state changed
 * underneath: the CAS matched no row), NOT_YOUR_FILING, TOKEN_INVALID,
 * SENDER_MISMATCH (who->sender given for an owner and not the owner),
 * and for approval SUBJECT_ALREADY_FILED, LICENCE_UNKNOWN, LICENCE_FORMAT,
 * LICENCE_CONFLICT, LAST_ACCESS.  Entering under_review opens a new review
 * round with a fresh token (in the review_request mail's parameters);
 * leaving it voids the token.  Approval allocates the numbers (FORMAT.md
 * §4) and, for a first filing, the password, whose clear text goes only
 * to the approved_owner row's secret.
 */
int store_transition(struct store *st, const struct store_transition_req *req,
    const struct store_actor *who, struct store_result *out);

/* ---- subjects filed before beiand (beianctl import) ------------------ */

/* One CSV row of DESIGN.md's import format. */
struct store_import_row {
	const char *subject_licence, *site_licence;
	const char *sponsor_name, *cert_type, *cert_number;
	const char *domains;     /* space-separated */
	const char *owner_email;
	const char *providers;   /* space-separated provider codes */
};

/*
 * Bring in one approved site (and its subject, the first time).  The
 * numbers are recorded as issued, so the local sequence skips them.
 * Refused (1), nothing changed: LICENCE_FORMAT (not a subject number and
 * a site number of it), LICENCE_CONFLICT (the site exists, or the subject
 * number belongs to another certificate), SUBJECT_ALREADY_FILED (the
 * certificate has another number), DOMAIN_CONFLICT (a domain of another
 * subject's active site).  Paths in errs are the CSV column names.
 * Imported subjects have no password.
 */
int store_subject_import(struct store *st, const struct store_import_row *row,
    struct errlist *errs);

/* ---- attachments ---------------------------------------------------- */

struct store_entry {
	const char *name;
	const unsigned char *data;   /* read only when sha256 is NULL */
	size_t size;
	const unsigned char *sha256; /* 32 bytes, when already known */
};

/* Bytes to keep, with their SHA-256 (32 bytes) when the caller has it. */
struct store_blob {
	const void *bytes;
	size_t len;
	const unsigned char *sha256;
	int written;        /* already in the store (bytes may then be NULL),
	                     * written ahead with blob_put() and synced by
	                     * the caller before the commit: only recorded */
};

/* Remove a stored blob no attachment names (one written ahead for an item
 * that was refused after all); one still named stays.  0, or -1. */
int store_blob_drop(struct store *st, const unsigned char sha256[32]);

/*
 * Keep blob's bytes (an accepted original archive, or a verification record's
 * files packed by the caller) once under state_dir/store/<first two hex
 * digits>/<sha256>, written O_EXCL + fsync + rename, mode 0600, and record
 * it for filing id as kind ("package", "verification") with each entry's
 * name, sha256 and size.  sha256_hex receives the hex digest (65 bytes).
 */
int store_attachment_put(struct store *st, const char *id, const char *kind,
    const struct store_blob *blob, const struct store_entry *entries,
    size_t nentries, char sha256_hex[65]);
/* Path of a stored blob into buf; -1 when it does not fit. */
int store_attachment_path(const struct store *st, const char *sha256_hex,
    char *buf, size_t size);
/* The latest attachment of kind for filing id: 0 and sha256_hex set, 1 none. */
int store_attachment_latest(struct store *st, const char *id,
    const char *kind, char sha256_hex[65]);

/* ---- outbox --------------------------------------------------------- */

struct store_mail {
	int64_t id;
	char *filing;       /* NULL for a mail about no filing (help, unreadable upload) */
	int64_t event;
	enum wf_template tpl;
	char *role;         /* owner, provider, bureau, sender */
	char *to;           /* "" when nobody is configured: the row is failed */
	char *params;       /* JSON object: id, state, type, owner_token (owner
	                     * mails), errors/issues, reason, licences, review_token */
	char *message_id;   /* "<ID.EVENT.TEMPLATE.ROLE@DOMAIN>" */
	char *state;        /* queued, sending, sent, deferred, failed */
	int attempts;
	char *last_reply;
	time_t next_try, created;
	char *secret;       /* the clear password (approved_owner of a first
	                     * filing) until sent; else NULL */
};
void store_mail_free(struct store_mail *m);         /* accepts NULL */
void store_mails_free(struct store_mail *m, size_t n);

/*
 * Mails due at now (queued, or deferred with next_try <= now), oldest
 * first, at most max, none above the horizon.  *out is a malloc'd array
 * (store_mails_free).
 */
int store_outbox_due(struct store *st, time_t now, size_t max,
    struct store_mail **out, size_t *n);
/* The highest outbox id the mailer may see (0: all): rows of commits not
 * yet durable wait above it.  store_outbox_next_due() and
 * store_outbox_oldest_deferred() keep to it too. */
void store_outbox_horizon(struct store *st, int64_t id);
/* The highest outbox id so far (0 when none). */
int store_outbox_last(struct store *st, int64_t *id);
/* Mark a mail; 1 when no such mail or it is not in a state that allows it
 * (sending: from queued/deferred; sent/deferred/failed: from sending). */
int store_outbox_mark_sending(struct store *st, int64_t id);
/* sent: also wipes the secret (NULL, overwritten thanks to secure_delete). */
int store_outbox_mark_sent(struct store *st, int64_t id, const char *reply);
int store_outbox_mark_deferred(struct store *st, int64_t id, time_t next_try,
    const char *reply);
int store_outbox_mark_failed(struct store *st, int64_t id, const char *reply);
/* beianctl retry: a failed (or deferred) mail back to queued, due now. */
int store_outbox_retry(struct store *st, int64_t id);
/* At start-up: mails left in sending by a crash go back to queued.
 * Returns their number, or -1. */
int store_outbox_recover(struct store *st);
/*
 * For beianctl outbox: mails not sent (failed_only: failed ones), by id.
 * cb is called for each; returning non-zero stops.
 */
int store_outbox_list(struct store *st, int failed_only,
    int (*cb)(const struct store_mail *, void *), void *arg);
/* One mail by id: 0 found (*out malloc'd), 1 not found. */
int store_outbox_get(struct store *st, int64_t id, struct store_mail **out);
/*
 * A mail about no filing (help reply, refusal of an unreadable upload):
 * an event (actor who, no filing) and one outbox row to who->sender (or
 * the provider's address for spool).  ref is the Message-ID's ID part
 * (the ingest's sha256 prefix).  params is a JSON object or NULL.
 */
int store_mail_loose(struct store *st, enum wf_template tpl, const char *ref,
    const char *params, const struct store_actor *who, int64_t *mail_id);

/* ---- ingests (idempotent repeats) ----------------------------------- */

struct store_ingest {
	char filing[STORE_ID_SIZE]; /* "" when the item made no filing */
	enum wf_state state;
	int final;
	struct errlist *errs;       /* caller's; recorded findings are added */
};
/* The recorded outcome of (source, sha256) when final: 0; else 1. */
int store_ingest_lookup(struct store *st, const char *source,
    const char *sha256_hex, struct store_ingest *out);
/* Record (or replace) an outcome; errs may be NULL. */
int store_ingest_record(struct store *st, const char *source,
    const char *sha256_hex, const char *filing, enum wf_state state,
    int final, const struct errlist *errs);

/* ---- queries for beianctl ------------------------------------------- */

struct store_filing_info {
	char *id, *state, *type, *mode, *province, *provider, *owner;
	time_t created, updated;
};

struct store_event {
	int64_t id;
	time_t at;
	char *actor, *actor_kind, *channel;
	char *from, *to;  /* from NULL for the first */
	char *reason, *source;
};

struct store_error_row {
	char *path, *code, *message;
};

struct store_website {
	char *name;
	char *domains;      /* space-separated */
	char *site_licence; /* NULL until approved */
};

struct store_filing_detail {
	struct store_filing_info info;
	char *sponsor_name, *sponsor_nature, *sponsor_cert_type, *sponsor_cert_number;
	char *subject_licence, *site_licence;
	char *xml;
	struct store_website *websites;
	size_t nwebsites;
	struct store_error_row *errors;
	size_t nerrors;
	struct store_event *events;
	size_t nevents;
};

/* cb per filing (state NULL: all), oldest first; non-zero return stops. */
int store_filing_list(struct store *st, const char *state,
    int (*cb)(const struct store_filing_info *, void *), void *arg);
/* One filing: 0 and *out (store_filing_detail_free), 1 unknown id. */
int store_filing_show(struct store *st, const char *id,
    struct store_filing_detail **out);
void store_filing_detail_free(struct store_filing_detail *d);
/* The state of a filing: 0 found, 1 unknown. */
int store_filing_state(struct store *st, const char *id, enum wf_state *state);
/* The owner address and token of a filing (mail follow-ups). */
int store_filing_owner(struct store *st, const char *id, char **owner,
    char token[STORE_TOKEN_LEN + 1]);

/* Counts: cb(kind, name, count) with kind "filings" (per state) and
 * "outbox" (per state), then "quarantine" (name NULL). */
int store_counts(struct store *st,
    int (*cb)(const char *kind, const char *name, long count, void *),
    void *arg);

/* ---- small state ---------------------------------------------------- */

/*
 * Quarantine.  item is the file's name in spool/quarantine/ (its reason
 * beside it as ITEM.reason); source is where the file came from, as a
 * path relative to spool_dir including the file name, e.g.
 * "providers/P001/incoming/batch.zip" or "bureau/11/incoming/x.decision.xml".
 * `beianctl requeue ITEM` renames the file back to spool_dir/source, so
 * the daemon must write source that way (NULL: not requeueable).
 */
int store_quarantine_add(struct store *st, const char *item,
    const char *source, const char *reason, time_t at);
int store_quarantine_remove(struct store *st, const char *item); /* 1: none */
int store_quarantine_list(struct store *st,
    int (*cb)(const char *item, const char *source, time_t at,
        const char *reason, void *), void *arg);

/* Recent processing errors for `status` (the last 100 are kept). */
int store_error_add(struct store *st, const char *source, const char *code,
    const char *message, time_t at);
int store_errors_recent(struct store *st, size_t max,
    int (*cb)(time_t at, const char *source, const char *code,
        const char *message, void *), void *arg);

/* IMAP: 0 and values set, 1 when the mailbox was never seen. */
int store_imap_get(struct store *st, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid);
int store_imap_set(struct store *st, const char *mailbox, uint32_t uidvalidity,
    uint32_t last_uid);

/*
 * reply_cap: count one reply to address on the CST day of now.  Returns 0
 * when it is within cap (and counted), 1 when the cap is reached.
 */
int store_reply_take(struct store *st, const char *address, time_t now,
    unsigned long cap);

/* ---- helpers -------------------------------------------------------- */

/* "2026-11-28T10:00:03+08:00" */
void time_rfc3339_cst(time_t t, char buf[32]);
/* Random string of n characters of the password alphabet (FORMAT.md §4)
 * from the kernel CSPRNG; buf has n + 1 bytes. */
void store_random_token(char *buf, size_t n);
/* 0 when password matches the subject's hash (for tests and tools). */
int store_password_check(struct store *st, const char *subject_licence,
    const char *password);

/* ---- beianctl: backup and password reset ---------------------------- */

/*
 * An online copy of the database to path (created mode 0600, written
 * under a temporary name and renamed, journal mode DELETE so that it is
 * one self-contained file) with the SQLite backup API; the daemon may
 * keep writing meanwhile.  0, or -1 (store_errmsg).
 */
int store_backup(struct store *st, const char *path);

/*
 * Issue a new filing password for the subject numbered subject_licence
 * (any accepted spelling of the number): the hash replaces the old one
 * (the failure count is reset), an event (no filing, actor who, reason
 * "password reset 京ICP备…号") and one password_reset outbox row to the
 * owner on record, the clear password only in that row's secret.  The
 * row's Message-ID ID part is "pw" and the first 16 hex digits of the
 * sha256 of the canonical number.  Returns 0 (*mail_id set when not
 * NULL); 1 refused, nothing changed, with LICENCE_UNKNOWN (no such
 * subject, or not a subject number) or EMAIL_INVALID (no owner address
 * on record: the password could reach nobody) added to errs; -1 on error.
 */
int store_password_reset(struct store *st, const char *subject_licence,
    const struct store_actor *who, struct errlist *errs, int64_t *mail_id);

/* ---- spool uploads (DESIGN.md, Provider batch) ------------------------ */

/*
 * An upload's result, committed in the same group as its items so that a
 * crash before the receipt is written re-writes that receipt instead of
 * processing the upload again.  key names the claimed file (its name in
 * spool/work/); source is "spool:CODE" or "bureau:NN"; receipt is the
 * receipt's XML text; quarantined: the upload goes to quarantine/, not
 * away.
 */
int store_upload_record(struct store *st, const char *key, const char *source,
    const char *sha256_hex, time_t received, const char *receipt,
    int quarantined);
/* 0, *receipt (malloc'd) and *quarantined when key was committed, 1 when
 * not, -1 on error. */
int store_upload_get(struct store *st, const char *key, char **receipt,
    int *quarantined);
/* When the same bytes first came from source: 0 and *received, 1 never. */
int store_upload_first(struct store *st, const char *source,
    const char *sha256_hex, time_t *received);

/* ---- mailer queries (daemon/mailer.c) ------------------------------- */

/*
 * The Message-ID of the first outbox row of filing id to role (the mail
 * that opens that recipient's thread; later mails answer it): 0 and
 * *message_id (malloc'd), 1 when there is none.
 */
int store_outbox_thread_root(struct store *st, const char *id,
    const char *role, char **message_id);
/* When the next queued or deferred mail is due (maybe already past):
 * 0 and *when, 1 when none waits. */
int store_outbox_next_due(struct store *st, time_t *when);
/* The name of the first entry recorded for the stored blob sha256_hex
 * (for a single-file attachment, the file's name in its package):
 * 0 and *name (malloc'd), 1 none. */
int store_attachment_name(struct store *st, const char *sha256_hex,
    char **name);

/* ---- metrics (daemon/metrics.c) ------------------------------------- */

/*
 * The creation time of the oldest mail in deferred state
 * (beiand_outbox_oldest_deferred_seconds): 0 and *created set, 1 when no
 * mail is deferred, -1 on error.
 */
int store_outbox_oldest_deferred(struct store *st, time_t *created);

/* ---- intake mail (daemon/intake.c) ----------------------------------- */

/*
 * A mail of the intake mailbox whose result is committed (in the same
 * group as that result): its identity (mailbox, UIDVALIDITY, UID) and
 * content (Message-ID, sha256 of the raw message, or "large:SIZE" for one
 * refused unread).  stays: it is left on the server (MAIL_TOO_LARGE).
 * A second record of one identity is ignored.
 */
int store_mail_seen_add(struct store *st, const char *mailbox,
    uint32_t uidvalidity, uint32_t uid, const char *message_id,
    const char *sha256_hex, int stays, time_t at);
/* Is (mailbox, uidvalidity, uid) committed?  0 and *stays (may be NULL),
 * 1 not, -1 error. */
int store_mail_seen_uid(struct store *st, const char *mailbox,
    uint32_t uidvalidity, uint32_t uid, int *stays);
/* Was this content committed under any identity (a UIDVALIDITY change, a
 * copy delivered twice)?  0 yes, 1 no, -1 error. */
int store_mail_seen_content(struct store *st, const char *message_id,
    const char *sha256_hex);

#endif
