/*
 * ingest: apply checked items (package.h) to the store.
 *
 * The one place that decides what an item means, whatever channel it
 * came by: a package without filing/@id is a new filing, with it a
 * resubmission; a verification record passes or returns a filing; a
 * withdrawal, handback or decision moves it.  Repeats are judged here too
 * (DESIGN.md, Provider batch): an item already seen from the same source
 * with the same sha256 whose outcome could not change is reported as
 * before without touching anything; any other is evaluated again.
 */
#ifndef BEIAND_INGEST_H
#define BEIAND_INGEST_H

#include <stddef.h>

#include "parsers/errlist.h"
#include "parsers/package.h"
#include "store/store.h"

struct config;
struct store_blob;

struct ingest_outcome {
	char id[STORE_ID_SIZE]; /* the filing the item made or acted on, "" if none */
	enum wf_state state;    /* the filing's state after the item (WF_NONE: no filing) */
	struct errlist *errs;   /* caller's: the item's findings are copied in,
	                         * then the store's refusals */
	int repeated;           /* 1: reported from the first time, nothing done */
	int kept;               /* 1: the original given was stored as the
	                         * filing's package */
};

/*
 * Apply item it (checked by upload_read with UPLOAD_HASH, or built by the
 * caller with its sha256 set) as who.  source names where it came from
 * for repeats ("spool:P001", "bureau:11", "mail", "cli"); NULL disables
 * repeat detection.  original, when not NULL, is the archive the item
 * came in as a whole (a single-package upload): it is kept as the
 * filing's stored package; otherwise the item's files are packed anew.
 * Returns 0 (out filled, the item accepted or refused on its merits) or
 * -1 on a store or I/O error (store_errmsg), in which case the caller's
 * group must be rolled back and the item retried later.
 */
int ingest_item(struct store *st, const struct config *cf,
    const struct item *it, const struct store_actor *who, const char *source,
    const struct store_blob *original, struct ingest_outcome *out);

/* Codes whose outcome depends on state, date or configuration: an item
 * refused with one of these is evaluated again when it repeats. */
int ingest_code_transient(enum err_code code);

/* ---- mail (daemon/intake.c) ---------------------------------------- */

/*
 * Apply an item that came by mail as who (an owner or the bureau, channel
 * mail; who->name is the From address, which must be the owner's).  A
 * package under a subject tag (tag_id not "") is a follow-up: a
 * resubmission of tag_id with the owner token tag_token ("" when the
 * tag had none or a mangled one: TOKEN_INVALID); an @id in the package
 * must agree with the tag.  Anything else goes to ingest_item() without
 * repeat detection (a mail is processed once by its identity).
 */
int ingest_mail_item(struct store *st, const struct config *cf,
    const struct item *it, const struct store_actor *who, const char *tag_id,
    const char *tag_token, struct ingest_outcome *out);

#endif
