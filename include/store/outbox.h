/*
 * store/outbox: the mails a commit queues (DESIGN.md, Transactions), and
 * what the mailer asks of them.  Rows are written by the workflow calls
 * in the same transaction as their event; the mailer (daemon/mailer.c)
 * takes them due, marks them and threads them; beianctl lists and retries
 * them; daemon/beiand.c keeps the mailer below the durable horizon and
 * queues the mails about no filing.
 */
#ifndef BEIAND_STORE_OUTBOX_H
#define BEIAND_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/workflow.h"
#include "store/store.h"

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

/*
 * last_reply of a mail that mail intake caused to an outside address
 * beyond [smtp] recipient_max a day (DESIGN.md, Hostile senders): queued
 * as failed, never tried; store_outbox_retry() sends it anyway.  The
 * word before the colon is the reason `beianctl outbox --failed` and the
 * metrics name.
 */
#define STORE_CAPPED_REPLY "capped: recipient_max reached for this " \
	"address today; beianctl retry sends it"
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
/* beianctl retry: a failed (or deferred) mail back to queued, due now;
 * a capped one too (the cap is applied when a mail is queued, never
 * when it is sent). */
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
/*
 * The same mail about filing (a refusal to the envelope sender of the
 * package that made it, say): the outbox row names the filing, and its
 * Message-ID the tracking id and the filing's last event, as the
 * store's own mails about a transition do.  No event is added.
 */
int store_mail_reply(struct store *st, enum wf_template tpl,
    const char *filing, const char *params, const struct store_actor *who,
    int64_t *mail_id);

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

#endif
