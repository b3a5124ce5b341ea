/*
 * status: what `beianctl status` shows — counts per state, the
 * quarantine, the recent processing errors — and what records them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/xmalloc.h"
#include "store/metrics.h"
#include "store/outbox.h"
#include "store/status.h"
#include "store/store_priv.h"

#define RECENT_ERRORS_KEEP 100

/* ---- counts ---------------------------------------------------------- */

static int
counts_of(struct store *st, sqlite3_stmt *s, const char *kind,
    int (*cb)(const char *, const char *, long, void *), void *arg)
{
	int rc;

	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (cb(kind, col_str(s, 0), (long)sqlite3_column_int64(s, 1), arg))
			break;
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : dberr(st, "counts");
}

int
store_counts(struct store *st,
    int (*cb)(const char *kind, const char *name, long count, void *),
    void *arg)
{
	int64_t q = 0;

	if (counts_of(st, query(st, "SELECT state, count(*) FROM filings"
	    " GROUP BY state ORDER BY state", ""), "filings", cb, arg) == -1 ||
	    counts_of(st, query(st, "SELECT state, count(*) FROM outbox"
	    " GROUP BY state ORDER BY state", ""), "outbox", cb, arg) == -1 ||
	    one_int(st, &q, "SELECT count(*) FROM quarantine", "") == -1)
		return -1;
	cb("quarantine", NULL, (long)q, arg);
	return 0;
}

/* ---- small state ---------------------------------------------------------------- */

int
single(struct store *st, int rc)
{
	return rc == -1 ? -1 : 0;
}

int
store_quarantine_add(struct store *st, const char *item, const char *source,
    const char *reason, time_t at)
{
	return single(st, run(st, "INSERT INTO quarantine(item, source, at,"
	    " reason) VALUES(?, ?, ?, ?) ON CONFLICT(item) DO UPDATE SET"
	    " source = excluded.source, at = excluded.at,"
	    " reason = excluded.reason", "ssIs", item, source,
	    (int64_t)now_or(at), reason));
}

int
store_quarantine_rename(struct store *st, const char *item, const char *to)
{
	return mail_update(st, run(st, "UPDATE OR REPLACE quarantine SET item = ?"
	    " WHERE item = ?", "ss", to, item));
}

int
store_quarantine_remove(struct store *st, const char *item)
{
	return mail_update(st, run(st, "DELETE FROM quarantine WHERE item = ?",
	    "s", item));
}

int
store_quarantine_list(struct store *st,
    int (*cb)(const char *, const char *, time_t, const char *, void *),
    void *arg)
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT item, source, at, reason FROM quarantine"
	    " ORDER BY at, item", "");
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (cb(col_str(s, 0), col_str(s, 1),
		    (time_t)sqlite3_column_int64(s, 2), col_str(s, 3), arg)) {
			rc = SQLITE_DONE;
			break;
		}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : dberr(st, "quarantine");
}

/* A relative path with no "..", "." or empty component. */
static int
relpath_safe(const char *p)
{
	const char *s = p;

	if (p[0] == '\0' || p[0] == '/')
		return 0;
	for (;;) {
		size_t n = strcspn(s, "/");

		if (n == 0 || (n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		if (s[n] == '\0')
			return 1;
		s += n + 1;
	}
}

int
store_quarantine_requeue(struct store *st, const char *spool_dir,
    const char *item, char **source)
{
	sqlite3_stmt *s;
	char *src = NULL, *from = NULL, *to = NULL, *reason = NULL;
	int rc, found = 0;

	if (item[0] == '\0' || strchr(item, '/') != NULL ||
	    !relpath_safe(item))
		return 1;
	if ((s = query(st, "SELECT source FROM quarantine WHERE item = ?", "s",
	    item)) == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		found = 1;
		src = col_dup(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dberr(st, "quarantine");
	if (!found)
		return 1;
	if (src != NULL && strncmp(src, "mail:", 5) == 0 &&
	    st->state_dir != NULL) {
		/* a mail kept in state_dir/quarantine/: back into the inbox,
		 * where the daemon takes it up within seconds and applies it
		 * afresh (its message was moved to done_folder long ago) */
		from = xasprintf("%s/quarantine/%s", st->state_dir, item);
		to = xasprintf("%s/inbox/%s", st->state_dir, item);
	} else if (src == NULL || !relpath_safe(src)) {
		rc = seterr(st, "%s: its source is not known%s%s%s", item,
		    src ? " (" : "", src ? src : "", src ? ")" : "");
		goto out;
	} else {
		from = xasprintf("%s/quarantine/%s", spool_dir, item);
		to = xasprintf("%s/%s", spool_dir, src);
	}
	reason = xasprintf("%s.reason", from);
	/* never over a file that came since: the new one would be lost */
	if (access(to, F_OK) == 0) {
		rc = seterr(st, "%s: exists; move it away first", to);
		goto out;
	}
	if (rename(from, to) == -1) {
		rc = seterr(st, "%s -> %s: %s", from, to, strerror(errno));
		goto out;
	}
	/* a reason left behind is harmless: the item is gone from the list */
	(void)unlink(reason);
	if ((rc = store_quarantine_remove(st, item)) == -1)
		goto out;
	rc = 0;
	*source = src;
	src = NULL; /* transferred */
out:
	free(src);
	free(from);
	free(to);
	free(reason);
	return rc;
}

static int
error_body(struct store *st, const char *source, const char *code,
    const char *message, time_t at)
{
	if (run(st, "INSERT INTO recent_errors(at, source, code, message)"
	    " VALUES(?, ?, ?, ?)", "Isss", (int64_t)at, source, code,
	    message) == -1 ||
	    run(st, "DELETE FROM recent_errors WHERE id <= (SELECT max(id)"
	    " FROM recent_errors) - ?", "i", RECENT_ERRORS_KEEP) == -1)
		return -1;
	return 0;
}

int
store_error_add(struct store *st, const char *source, const char *code,
    const char *message, time_t at)
{
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, error_body(st, source, code, message,
		    now_or(at)));
	return rc;
}

int
store_errors_recent(struct store *st, size_t max,
    int (*cb)(time_t, const char *, const char *, const char *, void *),
    void *arg)
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT at, source, code, message FROM recent_errors"
	    " ORDER BY id DESC LIMIT ?", "I",
	    (int64_t)(max > INT64_MAX ? INT64_MAX : max));
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (cb((time_t)sqlite3_column_int64(s, 0), col_str(s, 1),
		    col_str(s, 2), col_str(s, 3), arg)) {
			rc = SQLITE_DONE;
			break;
		}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : dberr(st, "recent errors");
}

/* ---- counters and limits (DESIGN.md, Hostile senders) ------------------- */

int
store_counter_add(struct store *st, const char *name, int64_t n)
{
	return single(st, run(st, "INSERT INTO counters(name, value)"
	    " VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET"
	    " value = value + excluded.value", "sI", name, n));
}

int
store_counter_get(struct store *st, const char *name, int64_t *value)
{
	int64_t v = 0;
	int rc;

	rc = one_int(st, &v, "SELECT value FROM counters WHERE name = ?", "s",
	    name);
	if (rc == -1)
		return -1;
	*value = rc == 1 ? v : 0;
	return 0;
}

int
store_limit_set(struct store *st, const char *name, const char *detail,
    time_t since)
{
	return single(st, run(st, "INSERT INTO limits(name, since, detail)"
	    " VALUES(?, ?, ?) ON CONFLICT(name) DO UPDATE SET"
	    " detail = excluded.detail", "sIs", name, (int64_t)now_or(since),
	    detail));
}

int
store_limit_clear(struct store *st, const char *name)
{
	if (name == NULL)
		return single(st, run(st, "DELETE FROM limits", ""));
	return single(st, run(st, "DELETE FROM limits WHERE name = ?", "s",
	    name));
}

int
store_limits_list(struct store *st,
    int (*cb)(const char *, time_t, const char *, void *), void *arg)
{
	char detail[160];
	sqlite3_stmt *s;
	int64_t n = 0, since = 0;
	int rc;

	s = query(st, "SELECT name, since, detail FROM limits ORDER BY name",
	    "");
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (cb(col_str(s, 0), (time_t)sqlite3_column_int64(s, 1),
		    col_str(s, 2), arg)) {
			sqlite3_reset(s);
			return 0;
		}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return dberr(st, "limits");
	s = query(st, "SELECT count(*), ifnull(min(created), 0) FROM outbox"
	    " WHERE state = 'failed' AND last_reply = ?", "s",
	    STORE_CAPPED_REPLY);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		n = sqlite3_column_int64(s, 0);
		since = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return dberr(st, "limits");
	if (n > 0) {
		snprintf(detail, sizeof(detail), "%lld mails caused by mail "
		    "intake failed as capped (beianctl outbox --failed; "
		    "beianctl retry MAILID sends one)", (long long)n);
		cb("recipient_max", (time_t)since, detail, arg);
	}
	return 0;
}
