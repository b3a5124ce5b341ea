/*
 * store/console: what the staff console (beiand-web) reads that no other
 * caller does — a role's queue and its counts, who a filing belongs to
 * (its scope), and which stored file of a filing a content digest names.
 * Reads only; return values as in store/store.h.
 */
#ifndef BEIAND_STORE_CONSOLE_H
#define BEIAND_STORE_CONSOLE_H

#include <stddef.h>
#include <time.h>

#include "store/store.h"

/*
 * A scope: the filings of provider (NULL: any) and, with province set,
 * of that province that went to the bureau at least once (a bureau sees
 * what was sent to it, never what a provider has not yet verified).
 */
struct store_scope {
	const char *provider;
	const char *province;
};

struct store_queue_row {
	const char *id, *state, *type, *mode, *provider, *province;
	const char *sponsor;   /* NULL when unknown (an unreadable package) */
	const char *sites;     /* the website names, joined by "、" */
	time_t created, updated;
};

/*
 * The filings of scope in one of the states of the comma-separated list
 * states ("awaiting_verification,returned_to_provider"; NULL: every state
 * that is not terminal), waiting longest first (updated, then id), at
 * most max after the first skip.  cb per row (its strings valid during
 * the call); a non-zero return stops.
 */
int store_queue_list(struct store *st, const struct store_scope *scope,
    const char *states, size_t skip, size_t max,
    int (*cb)(const struct store_queue_row *, void *), void *arg);
/* Counts per state of scope: cb(state, count). */
int store_queue_counts(struct store *st, const struct store_scope *scope,
    int (*cb)(const char *state, long count, void *), void *arg);
/*
 * Is filing id in scope?  0 yes, 1 no (or no such filing: the console
 * answers both alike), -1 error.
 */
int store_scope_check(struct store *st, const struct store_scope *scope,
    const char *id);
/*
 * The stored file of filing id whose content has the digest entry_hex:
 * 0 with blob_hex (the attachment that holds it: the file itself, or a
 * package it is an entry of), *name (its name there, malloc'd) and *kind
 * (package, verification, onsite_photo, checklist_scan; malloc'd); 1 when
 * the filing keeps no such file.
 */
int store_attachment_find(struct store *st, const char *id,
    const char *entry_hex, char blob_hex[65], char **name, char **kind);

#endif
