/*
 * mailer: delivers the outbox (DESIGN.md, Outputs (mails)).
 *
 * Takes due outbox rows, composes each (mail.h) from the row, the filing
 * and the configuration, and hands it to SMTP (smtp.h, one connection
 * reused across mails) or, when [smtp] url is empty, writes it as
 * state_dir/mail/<name>.eml (eml.h).  A row goes queued → sending →
 * sent | deferred | failed; sending is committed before a byte leaves,
 * so a crash leaves the row in sending and store_outbox_recover() (the
 * daemon calls it at start) queues it again: it is resent with the same
 * Message-ID and, the Date being the row's creation time, the same bytes.
 *
 * Results: 2xx sent (the store wipes an approval mail's password);
 * 5xx, or a mail that cannot be composed, failed at once; 4xx, no
 * connection, TLS trouble, a timeout or an I/O error deferred, next try
 * after min(retry_max, retry_min × 2^(attempts-1)) less up to a tenth of
 * jitter; a mail still undelivered max_age after its row was created
 * failed.  Once the server cannot be reached, the rest of the run's mails
 * are deferred with the same reason without another connection attempt.
 *
 * One struct mailer per store connection (the loop's); it holds the
 * connection it is given (not owned).  With SMTP it owns the transport
 * and a thread that does nothing but send the mails composed for it.
 */
#ifndef BEIAND_MAILER_H
#define BEIAND_MAILER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct config;
struct store;
struct mailer;

/*
 * A mailer for cf (which must outlive it) on store st.  NULL with a
 * reason in err when [smtp] from is not a usable address or the SMTP
 * transport cannot be made (bad scheme, libcurl).  smtp_global_init()
 * must have been called when cf has an SMTP URL.
 */
struct mailer *mailer_new(const struct config *cf, struct store *st,
    char *err, size_t errsize);
void mailer_free(struct mailer *m); /* accepts NULL; closes the connection */

/*
 * Handle up to max mails due at now (0: time(NULL)).  The due rows are
 * marked sending in one commit before any is sent; the outcomes are
 * marked in batches of short transactions (a password mail's at once),
 * so the store's write lock is never held while a mail is on the wire.
 * A crash before a batch's commit leaves its rows in sending: they are
 * sent again, identical, after recovery.  Returns how many were handled
 * (sent, deferred or failed), or -1 on a store error (store_errmsg; the
 * run's rows still in sending are then queued again with
 * store_outbox_recover).  *next_due, when not NULL, receives when the next
 * queued or deferred mail is due (<= now when more are due already), or
 * 0 when none waits.
 */
int mailer_run(struct mailer *m, time_t now, size_t max, time_t *next_due);

/*
 * With SMTP the mails of a run are sent by a thread of the mailer's own
 * while mailer_run() returns; its descriptor (-1 without SMTP) is
 * readable when the thread has finished a mail, whose outcome the next
 * mailer_run() marks.  mailer_busy(): a run is on its way (mailer_run()
 * takes no new rows until it is done).  mailer_free() gives up the mail
 * on the wire: its row, and those not sent yet, are queued again.
 */
int mailer_fd(const struct mailer *m);
int mailer_busy(const struct mailer *m);

/*
 * The backoff before attempt attempts + 1, without jitter:
 * min(retry_max, retry_min × 2^(attempts-1)), at least 1 second.
 */
uint64_t mailer_backoff(uint64_t retry_min, uint64_t retry_max, int attempts);

/*
 * How many mails the last mailer_run sent, deferred and failed (for
 * logs and metrics).
 */
struct mailer_stats {
	size_t sent, deferred, failed;
};
void mailer_stats_get(const struct mailer *m, struct mailer_stats *out);

#endif
