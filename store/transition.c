/*
 * transition: a filing moved from one state to the next — the
 * compare-and-swap of its state, its event and its mails in one
 * transaction (STYLE.md, Failure) — and store_transition(), which checks
 * who may move it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "common/workflow.h"
#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "store/store.h"
#include "store/query.h"
#include "store/store_priv.h"
#include "store/transition.h"

/* ---- events ---------------------------------------------------------- */

int
event_add(struct store *st, const char *filing, const struct store_actor *who,
    enum wf_actor kind, enum wf_state from, enum wf_state to,
    const char *reason, time_t now, int64_t *event)
{
	if (run(st, "INSERT INTO events(filing, at, actor, actor_kind, channel,"
	    " from_state, to_state, reason, source, origin)"
	    " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "sIssssssss", filing,
	    (int64_t)now, kind == WF_ACTOR_SYSTEM ? "beiand" : who->name,
	    workflow_actor_name(kind), workflow_channel_name(who->channel),
	    workflow_state_name(from), workflow_state_name(to), reason,
	    who->source, who->origin) == -1)
		return -1;
	*event = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/*
 * The compare-and-swap of the state, its event and its mails.  1 with
 * WRONG_STATE when the state is no longer f->state.
 */
int
move(struct store *st, struct frow *f, enum wf_state to,
    const struct store_actor *who, enum wf_actor kind, const char *reason,
    const struct mailx *x, time_t now, struct errlist *errs, int64_t *event)
{
	const struct wf_transition *t = workflow_transition_find(f->state, to);
	enum wf_state from = f->state;
	int rc;

	if (t == NULL) {
		errlist_add(errs, ERR_WRONG_STATE, "/", "%s",
		    err_code_message(ERR_WRONG_STATE));
		return 1;
	}
	rc = run(st, "UPDATE filings SET state = ?, updated = ?"
	    " WHERE id = ? AND state = ?", "sIss", workflow_state_name(to),
	    (int64_t)now, f->id, workflow_state_name(from));
	if (rc == -1)
		return -1;
	if (rc == 0) {
		errlist_add(errs, ERR_WRONG_STATE, "/", "%s",
		    err_code_message(ERR_WRONG_STATE));
		return 1;
	}
	if (event_add(st, f->id, who, kind, from, to, reason, now, event) == -1)
		return -1;
	f->state = to;
	return mails_queue(st, f, from, to, t, *event, who, kind, x, now);
}

/* ---- transitions ------------------------------------------------------------ */

static int
transition_body(struct store *st, const struct store_transition_req *req,
    const struct store_actor *who, time_t now, struct errlist *mine,
    struct store_result *res)
{
	struct frow f;
	struct approval ap;
	struct mailx mx = { 0 };
	char rtoken[STORE_REVIEW_TOKEN_LEN + 1];
	int64_t ev = 0;
	int rc, refused = 0;

	memset(&ap, 0, sizeof(ap));
	if ((rc = frow_load(st, req->id, &f)) == -1)
		return -1;
	if (rc == 1) {
		add(mine, ERR_TRACKING_ID_UNKNOWN, "/");
		res->state = WF_NONE;
		return 1;
	}
	strlcpy(res->id, f.id, sizeof(res->id));
	res->state = f.state;
	if (workflow_transition_allowed(f.state, req->to, who->kind) == -1) {
		add(mine, ERR_WRONG_STATE, "/");
		refused = 1;
	}
	refused |= actor_check(&f, who, req->owner_token, mine);
	if (who->kind == WF_ACTOR_OWNER && who->channel == WF_CHANNEL_MAIL)
		refused |= sender_check(who->sender, f.owner, mine);
	/* the review token proves a mail or a spool file comes from this
	 * round's request; an account at the host or in the console has
	 * proved who it is already */
	if (!refused && who->kind == WF_ACTOR_BUREAU &&
	    who->channel != WF_CHANNEL_CLI && who->channel != WF_CHANNEL_WEB) {
		sqlite3_stmt *s = query(st, "SELECT token FROM review_tokens"
		    " WHERE filing = ? AND round = ? AND used = 0", "si", f.id,
		    f.round);
		int ok = 0;

		if (s == NULL) {
			rc = -1;
			goto out;
		}
		if (sqlite3_step(s) == SQLITE_ROW)
			ok = token_eq(req->review_token, col_str(s, 0));
		sqlite3_reset(s);
		if (!ok) {
			add(mine, ERR_TOKEN_INVALID, "/decision/@token");
			refused = 1;
		}
	}
	if (refused) {
		rc = 1;
		goto out;
	}

	jb_puts(&ap.extra, "");
	if (req->reason != NULL)
		jb_kv(&ap.extra, "reason", req->reason);
	if (req->nissues > 0 || req->to == WF_RETURNED_TO_OWNER ||
	    req->to == WF_RETURNED_TO_PROVIDER) {
		jb_key(&ap.extra, "issues");
		jb_open(&ap.extra, '[');
		for (size_t i = 0; i < req->nissues; i++) {
			jb_open(&ap.extra, '{');
			jb_kv(&ap.extra, "path", req->issues[i].path);
			jb_kv(&ap.extra, "code", req->issues[i].code);
			jb_kv(&ap.extra, "message", req->issues[i].text);
			jb_close(&ap.extra, '}');
		}
		jb_close(&ap.extra, ']');
		if ((rc = errors_replace(st, f.id, NULL, NULL, req->issues,
		    req->nissues)) == -1)
			goto out;
	}
	if (f.state == WF_UNDER_REVIEW && (rc = run(st, "UPDATE review_tokens"
	    " SET used = 1 WHERE filing = ?", "s", f.id)) == -1)
		goto out;
	if (req->to == WF_UNDER_REVIEW) {
		if ((rc = review_round_new(st, &f, now, rtoken)) == -1)
			goto out;
		jb_review_extra(&ap.extra, &f, rtoken);
	}
	if (req->to == WF_APPROVED) {
		if (streq(f.type, "firstFiling"))
			rc = approve_first(st, &f, req->licence, now, mine, &ap);
		else if (streq(f.type, "addSite"))
			rc = approve_add_site(st, &f, req->licence, now, mine, &ap);
		else if (streq(f.type, "cancelSite") ||
		    streq(f.type, "cancelAccess"))
			rc = approve_cancel(st, &f, now, mine, &ap);
		else
			rc = seterr(st, "%s: approval of unknown type", f.id);
		if (rc != 0)
			goto out;
		mx.secret = ap.has_password ? ap.password : NULL;
	}
	mx.extra = ap.extra.s;
	rc = move(st, &f, req->to, who, who->kind, req->reason, &mx, now, mine,
	    &ev);
	if (rc == 0) {
		res->state = f.state;
		res->event = ev;
	}
out:
	sodium_memzero(ap.password, sizeof(ap.password));
	free(ap.extra.s);
	frow_clear(&f);
	return rc;
}

int
store_transition(struct store *st, const struct store_transition_req *req,
    const struct store_actor *who, struct store_result *out)
{
	struct store_result res = { 0 };
	struct errlist *mine = errlist_new();
	time_t now = now_or(who->now);
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, transition_body(st, req, who, now, mine, &res));
	if (rc >= 0) {
		res.errs = out->errs;
		*out = res;
		if (out->errs != NULL)
			errlist_splice(out->errs, mine, NULL);
	}
	errlist_free(mine);
	return rc;
}

int
store_actor_may(struct store *st, const char *id,
    const struct store_actor *who, const char *owner_token,
    struct errlist *errs, enum wf_state *state)
{
	struct frow f;
	int rc;

	if ((rc = frow_load(st, id, &f)) != 0)
		return rc == -1 ? -1 : 0;
	rc = actor_check(&f, who, owner_token, errs);
	if (rc == 1 && state != NULL)
		*state = f.state;
	frow_clear(&f);
	return rc;
}

int
store_handback(struct store *st, const char *id,
    const struct store_issue *issues, size_t nissues,
    const struct store_actor *who, struct store_result *out)
{
	struct store_transition_req req = { 0 };
	struct store_filing_detail *d = NULL;
	struct store_issue *last = NULL;
	enum wf_state s;
	int rc;

	if ((rc = store_filing_state(st, id, &s)) == -1)
		return -1;
	if (rc == 1 || s != WF_RETURNED_TO_PROVIDER) {
		/* a handback starts from returned_to_provider only, although
		 * the table's returned_to_owner row has other starts */
		memset(out->id, 0, sizeof(out->id));
		out->state = rc == 1 ? WF_NONE : s;
		if (rc == 0)
			strlcpy(out->id, id, sizeof(out->id));
		if (out->errs != NULL && rc == 1)
			add(out->errs, ERR_TRACKING_ID_UNKNOWN, "/");
		else if (out->errs != NULL)
			errlist_add(out->errs, ERR_WRONG_STATE, "/",
			    "当前状态为 %s / the filing is %s",
			    workflow_state_name(s), workflow_state_name(s));
		return 1;
	}
	if (nissues == 0) {
		/* hand on the bureau's reason: the filing's last errors */
		if ((rc = store_filing_show(st, id, &d)) != 0)
			return rc;
		nissues = d->nerrors;
		last = xreallocarray(NULL, nissues ? nissues : 1,
		    sizeof(*last));
		for (size_t i = 0; i < nissues; i++) {
			last[i].path = d->errors[i].path;
			last[i].code = d->errors[i].code;
			last[i].text = d->errors[i].message;
		}
		issues = last;
	}
	req.id = id;
	req.to = WF_RETURNED_TO_OWNER;
	req.issues = issues;
	req.nissues = nissues;
	req.reason = "handback";
	rc = store_transition(st, &req, who, out);
	free(last);
	store_filing_detail_free(d);
	return rc;
}
