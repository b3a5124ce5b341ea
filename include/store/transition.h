/*
 * store/transition: a filing moved from one state to the next by its
 * owner, its provider, the bureau or the operator (workflow.h's table):
 * verification, withdrawal, returns, review decisions and approval with
 * its numbers.  Callers: store/ingest.c (spool and mail items),
 * daemon/intake.c (mail commands), beianctl.  Return values and
 * transactions as in store/store.h.
 */
#ifndef BEIAND_STORE_TRANSITION_H
#define BEIAND_STORE_TRANSITION_H

#include <stddef.h>

#include "store/store.h"

/* One finding of a provider's return or a bureau's rejection. */
struct store_issue {
	const char *path, *code, *text;
};

struct store_transition_req {
	const char *id;
	enum wf_state to;
	const char *reason;          /* free text for the event (withdrawal reason...) */
	/* owner acting (withdraw by mail): the filing's owner token */
	const char *owner_token;
	/* bureau acting by mail or spool: the review token of this round
	 * (TOKEN_INVALID); beianctl (channel cli) needs none */
	const char *review_token;
	/* returned_to_owner / returned_to_provider: what to fix; kept as the
	 * filing's last errors and put in the mail */
	const struct store_issue *issues;
	size_t nissues;
	/* approved: a number the bureau issued (FORMAT.md §4), or NULL */
	const char *licence;
};

/*
 * Move filing req->id to req->to as who: the compare-and-swap of the
 * state, the event and the outbox rows of workflow.h's table, in one
 * transaction (or savepoint).  Refused (1): TRACKING_ID_UNKNOWN,
 * WRONG_STATE (no such transition for this actor, or the state changed
 * underneath: the CAS matched no row), NOT_YOUR_FILING, TOKEN_INVALID,
 * SENDER_MISMATCH (who->sender given for an owner and not the owner),
 * and for approval SUBJECT_ALREADY_FILED, LICENCE_UNKNOWN, LICENCE_FORMAT,
 * LICENCE_CONFLICT, LAST_ACCESS.  Entering under_review opens a new review
 * round with a fresh token (in the review_request mail's parameters);
 * leaving it voids the token.  Approval allocates the numbers (FORMAT.md
 * §4) and, for a first filing, the password, whose clear text goes only
 * to the approved_owner row's secret.
 */
int store_transition(struct store *st, const struct store_transition_req *req,
    const struct store_actor *who, struct store_result *out);

/*
 * Whether who may act on filing id at all, as store_transition() judges
 * it (NOT_YOUR_FILING for another provider's filing, TOKEN_INVALID for
 * an owner without owner_token), before anything the actor sent is
 * stored with the filing (DESIGN.md, Hostile senders).  0 may act (or
 * the filing is unknown: the transition says so), 1 refused with the
 * findings added to errs and *state the filing's state, -1 error.
 */
int store_actor_may(struct store *st, const char *id,
    const struct store_actor *who, const char *owner_token,
    struct errlist *errs, enum wf_state *state);

/*
 * A provider hands the bureau's rejection on to the owner
 * (returned_to_provider → returned_to_owner, reason "handback") with
 * issues, or, when nissues is 0, with the filing's last errors (the
 * bureau's reason, as the rejection recorded it).  Refused (1) as
 * store_transition() is, and with WRONG_STATE when the filing is not
 * returned_to_provider (the table's row to returned_to_owner also
 * serves the provider's return from awaiting_verification).
 */
int store_handback(struct store *st, const char *id,
    const struct store_issue *issues, size_t nissues,
    const struct store_actor *who, struct store_result *out);

#endif
