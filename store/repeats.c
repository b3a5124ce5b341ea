/*
 * repeats: the outcome of each ingested item and each spool upload with
 * its receipt, so that input seen twice is answered as the first time
 * (DESIGN.md, Provider batch).
 */
#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "common/workflow.h"
#include "lib/compat.h"
#include "parsers/errlist.h"
#include "store/repeats.h"
#include "store/store_priv.h"

/* ---- ingests ------------------------------------------------------------------- */

int
store_ingest_lookup(struct store *st, const char *source,
    const char *sha256_hex, struct store_ingest *out)
{
	sqlite3_stmt *s;
	char filing[STORE_ID_SIZE] = "";
	enum wf_state state = WF_NONE;
	int rc;

	s = query(st, "SELECT filing, state, final FROM ingests WHERE"
	    " source = ? AND sha256 = ?", "ss", source, sha256_hex);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (col_str(s, 0) != NULL)
			strlcpy(filing, col_str(s, 0), sizeof(filing));
		if (col_str(s, 1) == NULL ||
		    workflow_state_parse(col_str(s, 1), &state) == -1)
			state = WF_NONE;
		rc = sqlite3_column_int(s, 2) ? 0 : 1;
	} else if (rc == SQLITE_DONE)
		rc = 1;
	else
		rc = dberr(st, "ingest");
	sqlite3_reset(s);
	if (rc != 0)
		return rc;

	s = query(st, "SELECT code, path, message FROM ingest_findings WHERE"
	    " source = ? AND sha256 = ? ORDER BY idx", "ss", source, sha256_hex);
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		enum err_code code;

		if (out->errs != NULL &&
		    err_code_parse(col_str(s, 0), &code) == 0)
			errlist_add(out->errs, code, col_str(s, 1), "%s",
			    col_str(s, 2));
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return dberr(st, "ingest findings");
	strlcpy(out->filing, filing, sizeof(out->filing));
	out->state = state;
	out->final = 1;
	return 0;
}

static int
ingest_body(struct store *st, const char *source, const char *sha,
    const char *filing, enum wf_state state, int final,
    const struct errlist *errs)
{
	if (run(st, "DELETE FROM ingest_findings WHERE source = ? AND"
	    " sha256 = ?", "ss", source, sha) == -1 ||
	    run(st, "INSERT INTO ingests(source, sha256, filing, state, final, at)"
	    " VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(source, sha256) DO UPDATE SET"
	    " filing = excluded.filing, state = excluded.state,"
	    " final = excluded.final, at = excluded.at", "ssssiI", source, sha,
	    filing != NULL && filing[0] != '\0' ? filing : NULL,
	    workflow_state_name(state), final ? 1 : 0,
	    (int64_t)time(NULL)) == -1)
		return -1;
	for (size_t i = 0; errs != NULL && i < errlist_count(errs); i++) {
		const struct err_item *e = errlist_get(errs, i);

		if (run(st, "INSERT INTO ingest_findings(source, sha256, idx, code,"
		    " path, message) VALUES(?, ?, ?, ?, ?, ?)", "ssisss", source,
		    sha, (int)i, err_code_name(e->code), e->path,
		    e->message) == -1)
			return -1;
	}
	return 0;
}

int
store_ingest_record(struct store *st, const char *source,
    const char *sha256_hex, const char *filing, enum wf_state state,
    int final, const struct errlist *errs)
{
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, ingest_body(st, source, sha256_hex, filing,
		    state, final, errs));
	return rc;
}

/* ---- spool uploads ------------------------------------------------------ */

int
store_upload_record(struct store *st, const char *key, const char *source,
    const char *sha256_hex, time_t received, const char *receipt,
    int quarantined)
{
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, run(st, "INSERT OR REPLACE INTO uploads(key,"
		    " source, sha256, received, receipt, quarantined)"
		    " VALUES(?, ?, ?, ?, ?, ?)", "sssIsi", key, source,
		    sha256_hex, (int64_t)received, receipt, quarantined) == -1 ?
		    -1 : 0);
	return rc;
}

int
store_upload_get(struct store *st, const char *key, char **receipt,
    int *quarantined)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = query(st, "SELECT receipt, quarantined FROM uploads"
	    " WHERE key = ?", "s", key)) == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*receipt = col_dup(s, 0);
		*quarantined = sqlite3_column_int(s, 1);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = 1;
	else
		rc = dberr(st, "step");
	sqlite3_reset(s);
	return rc;
}

int
store_upload_first(struct store *st, const char *source,
    const char *sha256_hex, time_t *received)
{
	int64_t v;
	int rc;

	rc = one_int(st, &v, "SELECT received FROM uploads WHERE source = ?"
	    " AND sha256 = ? ORDER BY received LIMIT 1", "ss", source,
	    sha256_hex);
	if (rc == 1)
		*received = (time_t)v;
	return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}
