/*
 * chanstate: the daemon's side of a mail channel's state (imap, smtp):
 * what it last recorded in the store (store/channels.h), so that a
 * change — and only a change — is written and logged once: "smtp:
 * certificate of … refused (…); its public key: …; to trust this key:
 * [smtp] tls_pin = …", or, when it works again, one line saying so.
 * Used on the loop's thread by the mailer (smtp) and the intake (imap).
 */
#ifndef BEIAND_CHANSTATE_H
#define BEIAND_CHANSTATE_H

#include "store/channels.h"
#include "store/store.h"

struct chanstate {
	const char *name;      /* "imap", "smtp" (a literal) */
	int known, failing;    /* as last recorded */
	int refused;           /* failing for the configuration's reason */
	char reason[STORE_CHANNEL_REASON_MAX];
};

/* Start from what the store holds for name (a previous run's state). */
void chanstate_load(struct chanstate *c, struct store *st, const char *name);

/*
 * The channel works (failing 0) or fails for reason (refused: the
 * configuration's failure, not the server's reachability).  Recorded and
 * logged when that is news; a store error is logged and the change tried
 * again at the next call.
 */
void chanstate_note(struct chanstate *c, struct store *st, int failing,
    int refused, const char *reason);

#endif
