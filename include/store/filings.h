/*
 * store/filings: a package becomes a filing (store_filing_create) or
 * replaces the data of one (store_filing_resubmit).  Called by
 * store/ingest.c, which decides what an item means, and by the tools
 * that drive the store directly.  Return values and transactions as in
 * store/store.h.
 */
#ifndef BEIAND_STORE_FILINGS_H
#define BEIAND_STORE_FILINGS_H

#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "store/store.h"

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
 * PASSWORD_WRONG, LAST_ACCESS, SENDER_MISMATCH; added to
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

#endif
