/*
 * store/intake_mail: the state of the intake mailbox that daemon/intake.c
 * keeps in the store — how far it has read (IMAP UIDs), which mails have
 * a committed result, and how many replies an address got today.
 */
#ifndef BEIAND_STORE_INTAKE_MAIL_H
#define BEIAND_STORE_INTAKE_MAIL_H

#include <stdint.h>
#include <time.h>

#include "store/store.h"

/* IMAP: 0 and values set, 1 when the mailbox was never seen. */
int store_imap_get(struct store *st, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid);
int store_imap_set(struct store *st, const char *mailbox, uint32_t uidvalidity,
    uint32_t last_uid);

/*
 * reply_cap: count one reply to address on the CST day of now.  Returns 0
 * when it is within cap (and counted), 1 when the cap is reached.
 */
int store_reply_take(struct store *st, const char *address, time_t now,
    unsigned long cap);

/*
 * A mail of the intake mailbox whose result is committed (in the same
 * group as that result): its identity (mailbox, UIDVALIDITY, UID) and
 * content (Message-ID, sha256 of the raw message, or "large:SIZE" for one
 * refused unread).  stays: it is left on the server (MAIL_TOO_LARGE).
 * A second record of one identity is ignored.
 */
int store_mail_seen_add(struct store *st, const char *mailbox,
    uint32_t uidvalidity, uint32_t uid, const char *message_id,
    const char *sha256_hex, int stays, time_t at);
/* Forget that (mailbox, uidvalidity, uid) was committed: a quarantined
 * mail put back by `beianctl requeue` is applied afresh. */
int store_mail_seen_forget(struct store *st, const char *mailbox,
    uint32_t uidvalidity, uint32_t uid);
/* Is (mailbox, uidvalidity, uid) committed?  0 and *stays (may be NULL),
 * 1 not, -1 error. */
int store_mail_seen_uid(struct store *st, const char *mailbox,
    uint32_t uidvalidity, uint32_t uid, int *stays);
/* Was this content committed under any identity (a UIDVALIDITY change, a
 * copy delivered twice)?  0 yes, 1 no, -1 error. */
int store_mail_seen_content(struct store *st, const char *message_id,
    const char *sha256_hex);

#endif
