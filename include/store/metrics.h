/*
 * store/metrics: what daemon/metrics.c asks that no other caller does.
 * The counts it shares with `beianctl status` are in store/status.h.
 */
#ifndef BEIAND_STORE_METRICS_H
#define BEIAND_STORE_METRICS_H

#include <stdint.h>
#include <time.h>

#include "store/store.h"

/*
 * The creation time of the oldest mail in deferred state
 * (beiand_outbox_oldest_deferred_seconds): 0 and *created set, 1 when no
 * mail is deferred, -1 on error.
 */
int store_outbox_oldest_deferred(struct store *st, time_t *created);

/*
 * A counter kept in the store, so that it survives restarts and counts
 * what beianctl does too: "password_failures" (wrong filing passwords,
 * every channel), "mails_capped" (mails queued as failed by
 * recipient_max).  0 and *value (0 for one never counted), -1 on error.
 */
int store_counter_get(struct store *st, const char *name, int64_t *value);

#endif
