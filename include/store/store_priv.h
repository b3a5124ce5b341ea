/*
 * store_priv: what the files of store/ share among themselves — the
 * connection's struct, the statement cache and transaction helpers, the
 * JSON writer of mail parameters, and the pieces one workflow call lends
 * another (the filing row, events and mails, the checks of a package,
 * approval).  Only the .c files of store/ include it; every other caller
 * sees the store through the public headers of include/store/, where
 * struct store is opaque.
 */
#ifndef BEIAND_STORE_PRIV_H
#define BEIAND_STORE_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "common/workflow.h"
#include "parsers/errlist.h"
#include "store/store.h"

struct filing;
struct licence;
struct store_issue;

#define BUSY_TIMEOUT_MS 10000

/* ---- the connection (store.c) ------------------------------------------ */

struct stmt_slot {
	const char *sql; /* the literal's address is the key */
	sqlite3_stmt *s;
};

struct store {
	sqlite3 *db;
	const struct config *cfg;
	char *domain;    /* Message-ID domain */
	char *state_dir; /* NULL: no attachments */
	int in_group;
	int blobs_unsynced; /* blobs written in this group, not yet synced */
	struct syncer *sy;  /* commits made durable by the daemon's syncer */
	int64_t horizon;    /* outbox rows above it are not yet durable */
	int outbox_touched; /* this transaction queued mail (store/wake.h) */
	int wake_off;       /* its commit pokes no listener */
	int hw_dirty;       /* this transaction issued ids or numbers: the
	                     * high-water file is raised before its COMMIT */
	struct hw *hw_pending; /* its values, confirmed after the COMMIT */
	char **notes;       /* what the high-water checks did (highwater.c) */
	size_t nnotes, capnotes, note_next;
	unsigned long long opslimit;
	size_t memlimit;
	struct stmt_slot *cache;
	size_t ncache, capcache;
	char errmsg[512];
	enum store_fault errfault; /* whose fault errmsg's error was */
};

/* st->errmsg from SQLite's last error (dberr, its fault from the result
 * code) or a format (seterr, the item's fault); both return -1. */
int dberr(struct store *st, const char *what);
int seterr(struct store *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same for file work that failed with errno e (its class, not
 * always the item's fault: store_errno_fault()). */
int seterr_errno(struct store *st, int e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
time_t now_or(time_t t);
int cst_year(time_t t);
void cst_day(time_t t, char buf[11]);
char *col_dup(sqlite3_stmt *s, int i);
const char *col_str(sqlite3_stmt *s, int i);
int streq(const char *a, const char *b);
int token_eq(const char *a, const char *b);

/*
 * Statements.  sql is a string literal: its address keys the statement
 * cache, so the same literal is prepared once per connection.  fmt gives
 * the parameters: 's' const char * (NULL binds NULL), 'i' int,
 * 'I' int64_t.
 */
sqlite3_stmt *query(struct store *st, const char *sql, const char *fmt, ...);
int run(struct store *st, const char *sql, const char *fmt, ...);
int one_int(struct store *st, int64_t *out, const char *sql,
    const char *fmt, ...);

/* One operation: its own transaction, or a savepoint inside a group. */
int op_begin(struct store *st);
int op_end(struct store *st, int commit);
int op_finish(struct store *st, int rc);

int pragma(struct store *st, const char *sql);

/* ---- highwater.c --------------------------------------------------------- */

struct hw;
/* Before a COMMIT: raise state_dir/highwater to what the transaction
 * issued (when it issued anything).  -1: the commit must not happen. */
int highwater_before_commit(struct store *st);
/* After the COMMIT went through: those values confirmed. */
void highwater_after_commit(struct store *st);
/* The transaction was rolled back: nothing to confirm. */
void highwater_forget(struct store *st);
/* At open: move every sequence the database has below the file's marks
 * past them (notes say so). */
int highwater_open(struct store *st);
void highwater_notes_free(struct store *st);

/* ---- wake.c -------------------------------------------------------------- */

/* After a commit: poke the daemon's mailer if the commit queued mail. */
void wake_after_commit(struct store *st);

/* ---- schema.c ------------------------------------------------------------ */

int migrate(struct store *st);

/* ---- JSON of mail parameters (params.c) ---------------------------------- */

struct jbuf {
	char *s;
	size_t len, cap;
};

void jb_puts(struct jbuf *j, const char *p);
void jb_sep(struct jbuf *j);
void jb_string(struct jbuf *j, const char *v);
void jb_key(struct jbuf *j, const char *k);
void jb_kv(struct jbuf *j, const char *k, const char *v);
void jb_open(struct jbuf *j, char c);
void jb_close(struct jbuf *j, char c);
void jb_errors(struct jbuf *j, const char *key, const struct errlist *a,
    const struct errlist *b);

/* ---- the filing row and its workflow (filings.c) ------------------------- */

struct frow {
	char id[STORE_ID_SIZE];
	enum wf_state state;
	char *type, *mode, *province, *provider, *owner, *token;
	char *subject_cert, *subject_licence, *site_licence;
	int round;
};

void frow_clear(struct frow *f);
int frow_load(struct store *st, const char *id, struct frow *f);
int errors_replace(struct store *st, const char *id, const struct errlist *a,
    const struct errlist *b, const struct store_issue *issues,
    size_t nissues);
int sender_check(const char *from, const char *owner, struct errlist *errs);
int review_round_new(struct store *st, struct frow *f, time_t now,
    char token[STORE_REVIEW_TOKEN_LEN + 1]);
void jb_review_extra(struct jbuf *j, const struct frow *f, const char *token);
int actor_check(const struct frow *f, const struct store_actor *who,
    const char *owner_token, struct errlist *errs);

/* ---- events (transition.c) and the mails they queue (outbox.c) ----------- */

/* What the mails of one transition say besides the filing's own fields. */
struct mailx {
	const char *extra;        /* JSON members to append, or NULL */
	const char *secret;       /* approved_owner's password */
};

int event_add(struct store *st, const char *filing,
    const struct store_actor *who, enum wf_actor kind, enum wf_state from,
    enum wf_state to, const char *reason, time_t now, int64_t *event);
int move(struct store *st, struct frow *f, enum wf_state to,
    const struct store_actor *who, enum wf_actor kind, const char *reason,
    const struct mailx *x, time_t now, struct errlist *errs, int64_t *event);
int outbox_add(struct store *st, const char *filing, const char *ref,
    int64_t event, enum wf_template tpl, enum wf_role role, const char *rcpt,
    const char *params, const char *secret, time_t now);
int mails_queue(struct store *st, const struct frow *f, enum wf_state from,
    enum wf_state to, const struct wf_transition *t, int64_t event,
    const struct store_actor *who, enum wf_actor kind, const struct mailx *x,
    time_t now);
/* A guarded update's changed rows as 0 done, 1 refused (no row), -1. */
int mail_update(struct store *st, int rc);
/* A statement's changed rows as 0, or -1. */
int single(struct store *st, int rc);
/* Add n to the store's counter name (store/metrics.h), in the caller's
 * transaction: 0 or -1. */
int store_counter_add(struct store *st, const char *name, int64_t n);

/* ---- store checks of a package (checks.c) -------------------------------- */

/* What the checks learn about the package's subject. */
struct facts {
	char *cert;             /* the subject's certificate number */
	char *owner;            /* the owner address */
	char *subject_licence, *site_licence; /* canonical text */
	char *name, *nature, *cert_type;
};

void facts_clear(struct facts *x);
/* Add the finding code at path with its standard message. */
void add(struct errlist *errs, enum err_code code, const char *path);
char *domain_norm(const char *d);
int licence_canon(const char *s, struct licence *l, char *buf, size_t size);
int package_check(struct store *st, const char *self, const struct filing *f,
    const struct store_actor *who, time_t now, struct errlist *errs,
    struct facts *x);

/* ---- approval (numbers.c) ------------------------------------------------ */

struct approval {
	struct jbuf extra;
	char password[STORE_PASSWORD_LEN + 1];
	int has_password;
};

int approve_first(struct store *st, struct frow *f, const char *given,
    time_t now, struct errlist *errs, struct approval *ap);
int approve_add_site(struct store *st, struct frow *f, const char *given,
    time_t now, struct errlist *errs, struct approval *ap);
int approve_cancel(struct store *st, struct frow *f, time_t now,
    struct errlist *errs, struct approval *ap);

/* ---- attachments.c ------------------------------------------------------- */

/* n bytes as 2n lower-case hex digits and a NUL. */
void hex(const unsigned char *d, size_t n, char *out);

#endif
