/*
 * query: a filing read back — list, show (one read transaction), state,
 * owner.  Reads only.
 */
#include <stdlib.h>

#include <sqlite3.h>

#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "store/query.h"
#include "store/store_priv.h"

/* ---- queries ---------------------------------------------------------------------- */

#define INFO_COLUMNS "id, state, type, mode, province, provider, owner," \
	" created, updated"

static void
info_row(sqlite3_stmt *s, struct store_filing_info *i)
{
	i->id = col_dup(s, 0);
	i->state = col_dup(s, 1);
	i->type = col_dup(s, 2);
	i->mode = col_dup(s, 3);
	i->province = col_dup(s, 4);
	i->provider = col_dup(s, 5);
	i->owner = col_dup(s, 6);
	i->created = (time_t)sqlite3_column_int64(s, 7);
	i->updated = (time_t)sqlite3_column_int64(s, 8);
}

static void
info_clear(struct store_filing_info *i)
{
	free(i->id);
	free(i->state);
	free(i->type);
	free(i->mode);
	free(i->province);
	free(i->provider);
	free(i->owner);
}

int
store_filing_list(struct store *st, const char *state,
    int (*cb)(const struct store_filing_info *, void *), void *arg)
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT " INFO_COLUMNS " FROM filings WHERE ?1 IS NULL"
	    " OR state = ?1 ORDER BY year, seq", "s", state);
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_filing_info i;
		int stop;

		info_row(s, &i);
		stop = cb(&i, arg);
		info_clear(&i);
		if (stop) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : dberr(st, "list");
}

void
store_filing_detail_free(struct store_filing_detail *d)
{
	if (d == NULL)
		return;
	info_clear(&d->info);
	free(d->sponsor_name);
	free(d->sponsor_nature);
	free(d->sponsor_cert_type);
	free(d->sponsor_cert_number);
	free(d->subject_licence);
	free(d->site_licence);
	free(d->xml);
	for (size_t i = 0; i < d->nwebsites; i++) {
		free(d->websites[i].name);
		free(d->websites[i].domains);
		free(d->websites[i].site_licence);
	}
	free(d->websites);
	for (size_t i = 0; i < d->nerrors; i++) {
		free(d->errors[i].path);
		free(d->errors[i].code);
		free(d->errors[i].message);
	}
	free(d->errors);
	for (size_t i = 0; i < d->nevents; i++) {
		free(d->events[i].actor);
		free(d->events[i].actor_kind);
		free(d->events[i].channel);
		free(d->events[i].from);
		free(d->events[i].to);
		free(d->events[i].reason);
		free(d->events[i].source);
		free(d->events[i].origin);
	}
	free(d->events);
	free(d);
}

static int
show_body(struct store *st, const char *id, struct store_filing_detail *d)
{
	sqlite3_stmt *s;
	size_t cap;
	int rc;

	s = query(st, "SELECT " INFO_COLUMNS ", sponsor_name, sponsor_nature,"
	    " sponsor_cert_type, subject_cert, subject_licence, site_licence, xml"
	    " FROM filings WHERE id = ?", "s", id);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		info_row(s, &d->info);
		d->sponsor_name = col_dup(s, 9);
		d->sponsor_nature = col_dup(s, 10);
		d->sponsor_cert_type = col_dup(s, 11);
		d->sponsor_cert_number = col_dup(s, 12);
		d->subject_licence = col_dup(s, 13);
		d->site_licence = col_dup(s, 14);
		d->xml = col_dup(s, 15);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 1;
	if (rc != SQLITE_ROW)
		return dberr(st, "show");

	cap = 0;
	s = query(st, "SELECT name, domains, site_licence FROM filing_websites"
	    " WHERE filing = ? ORDER BY idx", "s", id);
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		xgrow(&d->websites, &cap, d->nwebsites, sizeof(*d->websites));
		d->websites[d->nwebsites].name = col_dup(s, 0);
		d->websites[d->nwebsites].domains = col_dup(s, 1);
		d->websites[d->nwebsites].site_licence = col_dup(s, 2);
		d->nwebsites++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return dberr(st, "show websites");

	cap = 0;
	s = query(st, "SELECT path, code, message FROM filing_errors"
	    " WHERE filing = ? ORDER BY idx", "s", id);
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		xgrow(&d->errors, &cap, d->nerrors, sizeof(*d->errors));
		d->errors[d->nerrors].path = col_dup(s, 0);
		d->errors[d->nerrors].code = col_dup(s, 1);
		d->errors[d->nerrors].message = col_dup(s, 2);
		d->nerrors++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return dberr(st, "show errors");

	cap = 0;
	s = query(st, "SELECT id, at, actor, actor_kind, channel, from_state,"
	    " to_state, reason, source, origin FROM events WHERE filing = ?"
	    " ORDER BY id",
	    "s", id);
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_event *e;

		xgrow(&d->events, &cap, d->nevents, sizeof(*d->events));
		e = &d->events[d->nevents++];
		e->id = sqlite3_column_int64(s, 0);
		e->at = (time_t)sqlite3_column_int64(s, 1);
		e->actor = col_dup(s, 2);
		e->actor_kind = col_dup(s, 3);
		e->channel = col_dup(s, 4);
		e->from = col_dup(s, 5);
		e->to = col_dup(s, 6);
		e->reason = col_dup(s, 7);
		e->source = col_dup(s, 8);
		e->origin = col_dup(s, 9);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return dberr(st, "show events");
	return 0;
}

int
store_filing_show(struct store *st, const char *id,
    struct store_filing_detail **out)
{
	struct store_filing_detail *d = xcalloc(1, sizeof(*d));
	int rc;

	/* one read transaction: the parts agree with each other */
	if (!st->in_group && run(st, "BEGIN", "") == -1) {
		store_filing_detail_free(d);
		return -1;
	}
	rc = show_body(st, id, d);
	if (!st->in_group)
		run(st, "COMMIT", "");
	if (rc != 0) {
		store_filing_detail_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

int
store_filing_state(struct store *st, const char *id, enum wf_state *state)
{
	struct frow f;
	int rc;

	if ((rc = frow_load(st, id, &f)) == 0)
		*state = f.state;
	frow_clear(&f);
	return rc;
}

int
store_filing_owner(struct store *st, const char *id, char **owner,
    char token[STORE_TOKEN_LEN + 1])
{
	struct frow f;
	int rc;

	if ((rc = frow_load(st, id, &f)) == 0) {
		*owner = f.owner ? xstrdup(f.owner) : NULL;
		strlcpy(token, f.token ? f.token : "", STORE_TOKEN_LEN + 1);
	}
	frow_clear(&f);
	return rc;
}
