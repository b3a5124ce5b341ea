/*
 * intake_mail: the intake mailbox's state — its IMAP position, the mails
 * whose result is committed, and the replies counted against reply_cap.
 */
#include <stdint.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "store/intake_mail.h"
#include "store/store_priv.h"

/* ---- IMAP position and replies -------------------------------------- */

int
store_imap_get(struct store *st, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid)
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT uidvalidity, last_uid FROM imap_state"
	    " WHERE mailbox = ?", "s", mailbox);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*uidvalidity = (uint32_t)sqlite3_column_int64(s, 0);
		*last_uid = (uint32_t)sqlite3_column_int64(s, 1);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = 1;
	else
		rc = dberr(st, "imap");
	sqlite3_reset(s);
	return rc;
}

int
store_imap_set(struct store *st, const char *mailbox, uint32_t uidvalidity,
    uint32_t last_uid)
{
	return single(st, run(st, "INSERT INTO imap_state(mailbox, uidvalidity,"
	    " last_uid) VALUES(?, ?, ?) ON CONFLICT(mailbox) DO UPDATE SET"
	    " uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid",
	    "sII", mailbox, (int64_t)uidvalidity, (int64_t)last_uid));
}

static int
reply_body(struct store *st, const char *address, time_t now,
    unsigned long cap)
{
	char day[11];
	int64_t n = 0;
	char *a = domain_norm(address); /* lower-cased: one count per address */
	int rc;

	cst_day(now, day);
	rc = one_int(st, &n, "SELECT count FROM reply_counts WHERE address = ?"
	    " AND day = ?", "ss", a, day);
	if (rc != -1 && (uint64_t)n >= (uint64_t)cap)
		rc = 1;
	else if (rc != -1)
		rc = run(st, "INSERT INTO reply_counts(address, day, count)"
		    " VALUES(?, ?, 1) ON CONFLICT(address, day) DO UPDATE SET"
		    " count = count + 1", "ss", a, day) == -1 ? -1 : 0;
	if (rc != -1 && run(st, "DELETE FROM reply_counts WHERE day < ?", "s",
	    day) == -1)
		rc = -1;
	free(a);
	return rc;
}

int
store_reply_take(struct store *st, const char *address, time_t now,
    unsigned long cap)
{
	int rc;

	if ((rc = op_begin(st)) != 0)
		return rc;
	rc = reply_body(st, address, now_or(now), cap);
	/* 1 (cap reached) changed nothing but is no failure: keep the cleanup */
	if (op_end(st, rc != -1) == -1)
		return -1;
	return rc;
}

/* ---- intake mail (daemon/intake.c) ------------------------------------- */

int
store_mail_seen_add(struct store *st, const char *mailbox,
    uint32_t uidvalidity, uint32_t uid, const char *message_id,
    const char *sha256_hex, int stays, time_t at)
{
	return single(st, run(st, "INSERT INTO mail_seen(mailbox, uidvalidity,"
	    " uid, message_id, sha256, stays, at) VALUES(?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT(mailbox, uidvalidity, uid) DO NOTHING", "sIIssiI",
	    mailbox, (int64_t)uidvalidity, (int64_t)uid,
	    message_id ? message_id : "", sha256_hex, stays ? 1 : 0,
	    (int64_t)now_or(at)));
}

int
store_mail_seen_forget(struct store *st, const char *mailbox,
    uint32_t uidvalidity, uint32_t uid)
{
	return single(st, run(st, "DELETE FROM mail_seen WHERE mailbox = ?"
	    " AND uidvalidity = ? AND uid = ?", "sII", mailbox,
	    (int64_t)uidvalidity, (int64_t)uid));
}

int
store_mail_seen_uid(struct store *st, const char *mailbox,
    uint32_t uidvalidity, uint32_t uid, int *stays)
{
	int64_t v = 0;
	int rc;

	rc = one_int(st, &v, "SELECT stays FROM mail_seen WHERE mailbox = ?"
	    " AND uidvalidity = ? AND uid = ?", "sII", mailbox,
	    (int64_t)uidvalidity, (int64_t)uid);
	if (rc == 1 && stays != NULL)
		*stays = v != 0;
	return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

int
store_mail_seen_content(struct store *st, const char *message_id,
    const char *sha256_hex)
{
	int rc;

	rc = one_int(st, NULL, "SELECT 1 FROM mail_seen WHERE message_id = ?"
	    " AND sha256 = ? LIMIT 1", "ss", message_id ? message_id : "",
	    sha256_hex);
	return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}
