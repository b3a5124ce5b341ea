/*
 * channels: see include/store/channels.h.  The reason is beiand's own
 * text about a server (it may quote the server's words, cleaned by the
 * channel's code); it is shown escaped by its readers.
 */
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "store/channels.h"
#include "store/store_priv.h"

int
store_channel_set(struct store *st, const char *name, int failing,
    int refused, const char *reason, time_t at)
{
	int rc;

	if (!failing || reason == NULL)
		reason = "";
	refused = failing && refused;
	/* In DO UPDATE the bare names are the row as it was. */
	rc = run(st, "INSERT INTO channels(name, state, reason, since, refused)"
	    " VALUES(?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET"
	    " since = CASE WHEN state = excluded.state THEN since"
	    " ELSE excluded.since END,"
	    " state = excluded.state, reason = excluded.reason,"
	    " refused = excluded.refused"
	    " WHERE state <> excluded.state OR reason <> excluded.reason"
	    " OR refused <> excluded.refused",
	    "sssIi", name, failing ? "failing" : "ok", reason,
	    (int64_t)now_or(at), refused);
	if (rc == -1)
		return -1;
	return rc > 0;
}

int
store_channel_get(struct store *st, const char *name, int *failing,
    int *refused, char *reason, size_t size, time_t *since)
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT state, reason, since, refused FROM channels"
	    " WHERE name = ?", "s", name);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (failing != NULL)
			*failing = streq(col_str(s, 0), "failing");
		if (refused != NULL)
			*refused = sqlite3_column_int(s, 3) != 0;
		if (reason != NULL && size > 0)
			snprintf(reason, size, "%s", col_str(s, 1));
		if (since != NULL)
			*since = (time_t)sqlite3_column_int64(s, 2);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = 1;
	else
		rc = dberr(st, "channels");
	sqlite3_reset(s);
	return rc;
}

int
store_channel_deferred_due(struct store *st, time_t at)
{
	int64_t t = (int64_t)now_or(at);

	return run(st, "UPDATE outbox SET next_try = ? WHERE state = 'deferred'"
	    " AND next_try > ?", "II", t, t);
}
