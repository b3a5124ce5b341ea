/*
 * store/status: what `beianctl status` shows (DESIGN.md: counts per
 * state, outbox, quarantine, recent errors) and what the daemon records
 * for it.  The quarantined files themselves are in spool/quarantine/;
 * the rows here say where they came from.  daemon/metrics.c reads the
 * counts too.
 */
#ifndef BEIAND_STORE_STATUS_H
#define BEIAND_STORE_STATUS_H

#include <stddef.h>
#include <time.h>

#include "store/store.h"

/* Counts: cb(kind, name, count) with kind "filings" (per state) and
 * "outbox" (per state), then "quarantine" (name NULL). */
int store_counts(struct store *st,
    int (*cb)(const char *kind, const char *name, long count, void *),
    void *arg);

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
/* The row of item now names the file to (an upload quarantined under its
 * claim's whole name before quarantine names were made short).  1: none. */
int store_quarantine_rename(struct store *st, const char *item,
    const char *to);
/*
 * Process a quarantined item again (beianctl requeue, the console's
 * quarantine page): rename spool_dir/quarantine/ITEM back to
 * spool_dir/SOURCE, or, for a mail kept for the operator (source
 * "mail:V-U"), state_dir/quarantine/ITEM into state_dir/inbox/, where
 * the daemon takes it up afresh; drop its .reason and its row.  item is one file name;
 * source must be a relative path without "." or ".." components.
 * Returns 0 and *source (malloc'd); 1 when there is no such item; -1 with
 * store_errmsg() saying why (its source is not known, a file of that
 * name came since, the rename failed, a database error) and nothing moved.
 */
int store_quarantine_requeue(struct store *st, const char *spool_dir,
    const char *item, char **source);
int store_quarantine_list(struct store *st,
    int (*cb)(const char *item, const char *source, time_t at,
        const char *reason, void *), void *arg);

/* Recent processing errors for `status` (the last 100 are kept). */
int store_error_add(struct store *st, const char *source, const char *code,
    const char *message, time_t at);
int store_errors_recent(struct store *st, size_t max,
    int (*cb)(time_t at, const char *source, const char *code,
        const char *message, void *), void *arg);

/*
 * The limits intake is held at (DESIGN.md, Hostile senders), for
 * `beianctl status`.  name is the configuration key that holds it
 * (min_free, inbox_max, sender_max), detail one line for people.  The
 * daemon sets a row while its limit holds (since is kept when the row is
 * there already: only detail changes) and clears it after; at its start
 * and stop it clears them all (name NULL).
 */
int store_limit_set(struct store *st, const char *name, const char *detail,
    time_t since);
int store_limit_clear(struct store *st, const char *name);
/*
 * The rows set, by name, then "recipient_max" when mails failed as
 * capped (STORE_CAPPED_REPLY) wait in the outbox: since the oldest of
 * them, detail their number.
 */
int store_limits_list(struct store *st,
    int (*cb)(const char *name, time_t since, const char *detail, void *),
    void *arg);

#endif
