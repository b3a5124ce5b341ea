/*
 * store/channels: the state of the mail channels (DESIGN.md,
 * "Observability"): "imap" and "smtp", each ok or failing with a reason
 * and the time it entered that state.  The daemon writes it on each
 * change (the mailer for smtp, the intake for imap); `beianctl status`
 * and the metrics read it, from another process.
 */
#ifndef BEIAND_STORE_CHANNELS_H
#define BEIAND_STORE_CHANNELS_H

#include <stddef.h>
#include <time.h>

#include "store/store.h"

#define STORE_CHANNEL_REASON_MAX 1024

/*
 * Record channel name as failing (with reason; refused when the failure
 * is the configuration's — a certificate, STARTTLS, a login — rather
 * than the server's reachability) or ok (reason and refused ignored).
 * since moves to at (0: now) only when the state changes; a new reason
 * of a failing channel is kept without moving it.  1 when the state or
 * the reason changed (the caller logs it), 0 when all was as recorded,
 * -1 on error.
 */
int store_channel_set(struct store *st, const char *name, int failing,
    int refused, const char *reason, time_t at);

/* One channel: 0 with *failing, *refused (either may be NULL), reason
 * (cut to size) and *since set, 1 when nothing is recorded for it, -1 on
 * error. */
int store_channel_get(struct store *st, const char *name, int *failing,
    int *refused, char *reason, size_t size, time_t *since);

/*
 * Make every deferred mail due at at (0: now): the daemon does so when it
 * starts (or reloads) with its smtp channel recorded refused, so that a
 * configuration fixed for a refused certificate or login sends the mails
 * at once rather than after their backoff.  How many, or -1.
 */
int store_channel_deferred_due(struct store *st, time_t at);

#endif
