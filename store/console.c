/*
 * console: the staff console's reads (store/console.h).
 *
 * Every query is scoped by bound parameters: a provider code and a
 * province come from the account's role, never from the request, and a
 * filing outside them is simply not found.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "store/console.h"
#include "store/store_priv.h"

/* the states that are not terminal, in the comma-list form */
#define OPEN_STATES ",received,awaiting_verification,returned_to_owner," \
	"under_review,returned_to_provider,"

static char *
states_list(const char *states)
{
	return states != NULL ? xasprintf(",%s,", states) :
	    xstrdup(OPEN_STATES);
}

#define SCOPE_WHERE \
	" (?1 IS NULL OR f.provider = ?1)" \
	" AND (?2 IS NULL OR (f.province = ?2 AND f.review_round > 0))"

int
store_queue_list(struct store *st, const struct store_scope *scope,
    const char *states, size_t skip, size_t max,
    int (*cb)(const struct store_queue_row *, void *), void *arg)
{
	sqlite3_stmt *s;
	char *list = states_list(states);
	int rc;

	s = query(st, "SELECT f.id, f.state, f.type, f.mode, f.provider,"
	    " f.province, f.sponsor_name, (SELECT group_concat(w.name, '、')"
	    " FROM filing_websites w WHERE w.filing = f.id), f.created,"
	    " f.updated FROM filings f WHERE" SCOPE_WHERE
	    " AND instr(?3, ',' || f.state || ',') > 0"
	    " ORDER BY f.updated, f.year, f.seq LIMIT ?4 OFFSET ?5", "sssII",
	    scope->provider, scope->province, list, (int64_t)max,
	    (int64_t)skip);
	free(list);
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_queue_row r;

		r.id = col_str(s, 0);
		r.state = col_str(s, 1);
		r.type = col_str(s, 2);
		r.mode = col_str(s, 3);
		r.provider = col_str(s, 4);
		r.province = col_str(s, 5);
		r.sponsor = col_str(s, 6);
		r.sites = col_str(s, 7);
		r.created = (time_t)sqlite3_column_int64(s, 8);
		r.updated = (time_t)sqlite3_column_int64(s, 9);
		if (cb(&r, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : dberr(st, "queue");
}

int
store_queue_counts(struct store *st, const struct store_scope *scope,
    int (*cb)(const char *, long, void *), void *arg)
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT f.state, count(*) FROM filings f WHERE"
	    SCOPE_WHERE " GROUP BY f.state ORDER BY f.state", "ss",
	    scope->provider, scope->province);
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (cb(col_str(s, 0), (long)sqlite3_column_int64(s, 1), arg)) {
			rc = SQLITE_DONE;
			break;
		}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : dberr(st, "queue counts");
}

int
store_scope_check(struct store *st, const struct store_scope *scope,
    const char *id)
{
	int rc = one_int(st, NULL, "SELECT 1 FROM filings f WHERE"
	    SCOPE_WHERE " AND f.id = ?3", "sss", scope->provider,
	    scope->province, id);

	return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

int
store_attachment_find(struct store *st, const char *id, const char *entry_hex,
    char blob_hex[65], char **name, char **kind)
{
	sqlite3_stmt *s;
	int rc;

	/* the newest attachment holding it: a file kept twice is the same
	 * bytes either way */
	s = query(st, "SELECT fa.sha256, e.name, fa.kind FROM filing_attachments"
	    " fa JOIN attachment_entries e ON e.sha256 = fa.sha256"
	    " WHERE fa.filing = ? AND e.entry_sha256 = ?"
	    " ORDER BY fa.id DESC LIMIT 1", "ss", id, entry_hex);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		strlcpy(blob_hex, col_str(s, 0), 65);
		*name = col_dup(s, 1);
		*kind = col_dup(s, 2);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = 1;
	else
		rc = dberr(st, "attachment");
	sqlite3_reset(s);
	return rc;
}
