/*
 * store/repeats: what the store remembers so that input seen twice is
 * answered as the first time (DESIGN.md, Provider batch): the outcome of
 * each ingested item (store/ingest.c), and each spool upload with its
 * receipt (daemon/beiand.c).
 */
#ifndef BEIAND_STORE_REPEATS_H
#define BEIAND_STORE_REPEATS_H

#include <time.h>

#include "common/workflow.h"
#include "parsers/errlist.h"
#include "store/store.h"

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

#endif
