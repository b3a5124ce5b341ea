/*
 * outbox: the mails a commit queues — their recipients, Message-IDs and
 * parameters — and the mailer's side of them: due, marked, retried,
 * threaded.  Rows above the horizon belong to commits not yet durable:
 * the mailer does not see them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "common/config.h"
#include "common/workflow.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/metrics.h"
#include "store/outbox.h"
#include "store/store.h"
#include "store/store_priv.h"

/* ---- mails queued ------------------------------------------------------ */

static const struct config_provider *
provider_find(const struct store *st, const char *code)
{
	if (st->cfg == NULL || code == NULL)
		return NULL;
	for (size_t i = 0; i < st->cfg->nproviders; i++)
		if (streq(st->cfg->providers[i].code, code))
			return &st->cfg->providers[i];
	return NULL;
}

static const struct config_bureau *
bureau_find(const struct store *st, const char *province)
{
	if (st->cfg == NULL || province == NULL)
		return NULL;
	for (size_t i = 0; i < st->cfg->nbureaus; i++)
		if (streq(st->cfg->bureaus[i].province, province))
			return &st->cfg->bureaus[i];
	return NULL;
}

/* The address of role for a filing; NULL when nobody is configured. */
static const char *
rcpt_resolve(const struct store *st, enum wf_role role, enum wf_template tpl,
    const char *owner, const char *provider, const char *province,
    const struct store_actor *who)
{
	const struct config_provider *p;
	const struct config_bureau *b;

	switch (role) {
	case WF_ROLE_OWNER:
		return owner;
	case WF_ROLE_PROVIDER:
		p = provider_find(st, provider);
		return p != NULL ? p->email : NULL;
	case WF_ROLE_BUREAU:
		if ((b = bureau_find(st, province)) == NULL)
			return NULL;
		if (tpl == WF_TPL_APPROVED_BUREAU && b->record_to != NULL &&
		    b->record_to[0] != '\0')
			return b->record_to;
		return b->naddresses > 0 ? b->addresses[0] : NULL;
	case WF_ROLE_SENDER:
		return who->sender;
	case WF_ROLE_SUBMITTER:
		break;
	}
	return NULL;
}

/*
 * One outbox row; failed with the reason failed when that is not NULL.
 * A row nobody can receive is kept as failed so that `beianctl outbox
 * --failed` shows it.
 */
static int
outbox_insert(struct store *st, const char *filing, const char *ref,
    int64_t event, enum wf_template tpl, enum wf_role role, const char *rcpt,
    const char *params, const char *secret, const char *failed, time_t now)
{
	char *msgid;
	int rc, none = rcpt == NULL || rcpt[0] == '\0';

	if (none)
		failed = "no address configured for this recipient";
	msgid = xasprintf("<%s.%lld.%s.%s@%s>", ref, (long long)event,
	    workflow_template_name(tpl), workflow_role_name(role), st->domain);
	rc = run(st, "INSERT INTO outbox(filing, event, template, role, rcpt,"
	    " params, message_id, state, last_reply, next_try, created, secret)"
	    " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "sIsssssssIIs",
	    filing, event, workflow_template_name(tpl), workflow_role_name(role),
	    none ? "" : rcpt, params, msgid,
	    failed != NULL ? "failed" : "queued", failed, (int64_t)now,
	    (int64_t)now, secret);
	free(msgid);
	if (rc == -1)
		return -1;
	st->outbox_touched |= !none;
	return 0;
}

/* One outbox row.  ref is the Message-ID's ID part; params is the full
 * JSON object. */
int
outbox_add(struct store *st, const char *filing, const char *ref,
    int64_t event, enum wf_template tpl, enum wf_role role, const char *rcpt,
    const char *params, const char *secret, time_t now)
{
	return outbox_insert(st, filing, ref, event, tpl, role, rcpt, params,
	    secret, NULL, now);
}

/* ---- recipient_max (DESIGN.md, Hostile senders) -------------------------- */

/* A configured provider's or bureau's address: never capped. */
static int
rcpt_configured(const struct store *st, const char *rcpt)
{
	const struct config *c = st->cfg;

	for (size_t i = 0; i < c->nproviders; i++)
		if (c->providers[i].email != NULL &&
		    strcasecmp(c->providers[i].email, rcpt) == 0)
			return 1;
	for (size_t i = 0; i < c->nbureaus; i++) {
		const struct config_bureau *b = &c->bureaus[i];

		if (b->record_to != NULL && strcasecmp(b->record_to, rcpt) == 0)
			return 1;
		for (size_t k = 0; k < b->naddresses; k++)
			if (strcasecmp(b->addresses[k], rcpt) == 0)
				return 1;
	}
	return 0;
}

/*
 * Whether a mail is capped: mail intake caused it (its sender anyone can
 * forge), it goes to an outside address, and that address has had
 * recipient_max such mails this CST day.  The approval (it carries the
 * password of a first filing, and only the bureau's token causes it),
 * password resets (the CLI) and the password_failed notice (at most one
 * a day per subject, to the owner on file) are never capped; refusals and
 * help replies to the envelope sender are reply_cap's (daemon/intake.c).
 * Every mail counts, capped or not, so the first capped one of the day
 * is the one that logs.  0 send, 1 capped, -1 error.
 */
static int
recipient_capped(struct store *st, const struct store_actor *who,
    enum wf_template tpl, enum wf_role role, const char *rcpt, time_t now)
{
	uint64_t cap;
	int64_t n = 0;
	char day[11], *a;
	int rc;

	if (st->cfg == NULL || who->channel != WF_CHANNEL_MAIL ||
	    rcpt == NULL || rcpt[0] == '\0' || role == WF_ROLE_SENDER ||
	    tpl == WF_TPL_APPROVED_OWNER || tpl == WF_TPL_PASSWORD_RESET ||
	    tpl == WF_TPL_PASSWORD_FAILED || rcpt_configured(st, rcpt))
		return 0;
	cap = st->cfg->smtp_recipient_max;
	a = domain_norm(rcpt); /* lower-cased: one count per address */
	cst_day(now, day);
	rc = one_int(st, &n, "SELECT count FROM recipient_counts"
	    " WHERE address = ? AND day = ?", "ss", a, day);
	if (rc != -1)
		rc = run(st, "INSERT INTO recipient_counts(address, day, count)"
		    " VALUES(?, ?, 1) ON CONFLICT(address, day) DO UPDATE SET"
		    " count = count + 1", "ss", a, day);
	if (rc != -1)
		rc = run(st, "DELETE FROM recipient_counts WHERE day < ?", "s",
		    day);
	if (rc != -1 && (uint64_t)n >= cap) {
		if ((uint64_t)n == cap)
			log_warn("outbox: to=%s reached recipient_max (%llu a "
			    "day): further mails caused by mail intake fail "
			    "as capped until the next day", a,
			    (unsigned long long)cap);
		rc = store_counter_add(st, "mails_capped", 1) == -1 ? -1 : 1;
	} else if (rc != -1)
		rc = 0;
	free(a);
	return rc;
}

int
mails_queue(struct store *st, const struct frow *f, enum wf_state from,
    enum wf_state to, const struct wf_transition *t, int64_t event,
    const struct store_actor *who, enum wf_actor kind, const struct mailx *x,
    time_t now)
{
	struct wf_mail mails[WF_MAX_MAILS];
	size_t n;

	n = workflow_mails_select(t, streq(f->mode, "delegated"), who->channel,
	    mails);
	for (size_t i = 0; i < n; i++) {
		struct jbuf j = { 0 };
		const char *rcpt;
		int rc;

		if (mails[i].role == WF_ROLE_SENDER && who->no_sender_mail)
			continue;
		rcpt = rcpt_resolve(st, mails[i].role, mails[i].tpl, f->owner,
		    f->provider, f->province, who);
		jb_open(&j, '{');
		jb_kv(&j, "id", f->id);
		jb_kv(&j, "template", workflow_template_name(mails[i].tpl));
		jb_kv(&j, "role", workflow_role_name(mails[i].role));
		jb_kv(&j, "from", workflow_state_name(from));
		jb_kv(&j, "state", workflow_state_name(to));
		jb_kv(&j, "type", f->type);
		jb_kv(&j, "mode", f->mode);
		jb_kv(&j, "province", f->province);
		jb_kv(&j, "provider", f->provider);
		jb_kv(&j, "actor_kind", workflow_actor_name(kind));
		jb_kv(&j, "actor", kind == WF_ACTOR_SYSTEM ? "beiand" : who->name);
		/* the owner token goes to the owner only */
		if (mails[i].role == WF_ROLE_OWNER)
			jb_kv(&j, "owner_token", f->token);
		if (x != NULL && x->extra != NULL && x->extra[0] != '\0') {
			jb_sep(&j);
			jb_puts(&j, x->extra);
		}
		jb_close(&j, '}');
		rc = recipient_capped(st, who, mails[i].tpl, mails[i].role,
		    rcpt, now);
		if (rc != -1)
			rc = outbox_insert(st, f->id, f->id, event,
			    mails[i].tpl, mails[i].role, rcpt, j.s,
			    mails[i].tpl == WF_TPL_APPROVED_OWNER && x != NULL ?
			    x->secret : NULL,
			    rc == 1 ? STORE_CAPPED_REPLY : NULL, now);
		free(j.s);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* ---- outbox ------------------------------------------------------------------ */

#define MAIL_COLUMNS "id, filing, event, template, role, rcpt, params," \
	" message_id, state, attempts, last_reply, next_try, created, secret"

static struct store_mail
mail_row(sqlite3_stmt *s)
{
	struct store_mail m;

	memset(&m, 0, sizeof(m));
	m.id = sqlite3_column_int64(s, 0);
	m.filing = col_dup(s, 1);
	m.event = sqlite3_column_int64(s, 2);
	if (workflow_template_parse(col_str(s, 3), &m.tpl) == -1)
		m.tpl = WF_TPL_HELP;
	m.role = col_dup(s, 4);
	m.to = col_dup(s, 5);
	m.params = col_dup(s, 6);
	m.message_id = col_dup(s, 7);
	m.state = col_dup(s, 8);
	m.attempts = sqlite3_column_int(s, 9);
	m.last_reply = col_dup(s, 10);
	m.next_try = (time_t)sqlite3_column_int64(s, 11);
	m.created = (time_t)sqlite3_column_int64(s, 12);
	m.secret = col_dup(s, 13);
	return m;
}

static void
mail_clear(struct store_mail *m)
{
	free(m->filing);
	free(m->role);
	free(m->to);
	free(m->params);
	free(m->message_id);
	free(m->state);
	free(m->last_reply);
	if (m->secret != NULL) {
		sodium_memzero(m->secret, strlen(m->secret));
		free(m->secret);
	}
}

void
store_mail_free(struct store_mail *m)
{
	if (m == NULL)
		return;
	mail_clear(m);
	free(m);
}

void
store_mails_free(struct store_mail *m, size_t n)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		mail_clear(&m[i]);
	free(m);
}

int
store_outbox_due(struct store *st, time_t now, size_t max,
    struct store_mail **out, size_t *n)
{
	struct store_mail *v = NULL;
	size_t cap = 0, k = 0;
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT " MAIL_COLUMNS " FROM outbox WHERE"
	    " (state = 'queued' OR state = 'deferred') AND next_try <= ?"
	    " AND id <= ? ORDER BY next_try, id LIMIT ?", "III", (int64_t)now,
	    st->horizon > 0 ? st->horizon : INT64_MAX,
	    (int64_t)(max > INT64_MAX ? INT64_MAX : max));
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		xgrow(&v, &cap, k, sizeof(*v));
		v[k++] = mail_row(s);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_mails_free(v, k);
		return dberr(st, "outbox");
	}
	*out = v;
	*n = k;
	return 0;
}

/* One guarded update of a mail as its own operation: 0, 1 refused, -1. */
int
mail_update(struct store *st, int rc)
{
	if (rc == -1)
		return -1;
	return rc == 0 ? 1 : 0;
}

int
store_outbox_mark_sending(struct store *st, int64_t id)
{
	return mail_update(st, run(st, "UPDATE outbox SET state = 'sending',"
	    " attempts = attempts + 1 WHERE id = ? AND state IN"
	    " ('queued','deferred')", "I", id));
}

int
store_outbox_mark_sent(struct store *st, int64_t id, const char *reply)
{
	int rc;

	rc = mail_update(st, run(st, "UPDATE outbox SET state = 'sent',"
	    " last_reply = ?, secret = NULL WHERE id = ? AND state = 'sending'",
	    "sI", reply, id));
	/* the old page images holding the secret sit in the WAL until a
	 * checkpoint; outside a group, fold it back and truncate it */
	if (rc == 0 && !st->in_group)
		sqlite3_wal_checkpoint_v2(st->db, NULL,
		    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return rc;
}

int
store_outbox_mark_deferred(struct store *st, int64_t id, time_t next_try,
    const char *reply)
{
	return mail_update(st, run(st, "UPDATE outbox SET state = 'deferred',"
	    " next_try = ?, last_reply = ? WHERE id = ? AND state = 'sending'",
	    "IsI", (int64_t)next_try, reply, id));
}

int
store_outbox_mark_failed(struct store *st, int64_t id, const char *reply)
{
	return mail_update(st, run(st, "UPDATE outbox SET state = 'failed',"
	    " last_reply = ? WHERE id = ? AND state = 'sending'", "sI", reply,
	    id));
}

int
store_outbox_retry(struct store *st, int64_t id)
{
	int rc;

	/* an autocommit statement: its own commit, and a poke after it */
	rc = mail_update(st, run(st, "UPDATE outbox SET state = 'queued',"
	    " next_try = ? WHERE id = ? AND state IN ('failed','deferred')"
	    " AND rcpt <> ''", "II", (int64_t)time(NULL), id));
	if (rc == 0) {
		st->outbox_touched = 1;
		if (sqlite3_get_autocommit(st->db))
			wake_after_commit(st);
	}
	return rc;
}

int
store_outbox_recover(struct store *st)
{
	return run(st, "UPDATE outbox SET state = 'queued' WHERE state ="
	    " 'sending'", "");
}

int
store_outbox_list(struct store *st, int failed_only,
    int (*cb)(const struct store_mail *, void *), void *arg)
{
	sqlite3_stmt *s;
	int rc;

	s = failed_only ?
	    query(st, "SELECT " MAIL_COLUMNS " FROM outbox WHERE state ="
	    " 'failed' ORDER BY id", "") :
	    query(st, "SELECT " MAIL_COLUMNS " FROM outbox WHERE state <>"
	    " 'sent' ORDER BY id", "");
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_mail m = mail_row(s);
		int stop = cb(&m, arg);

		mail_clear(&m);
		if (stop) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : dberr(st, "outbox");
}

int
store_outbox_get(struct store *st, int64_t id, struct store_mail **out)
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT " MAIL_COLUMNS " FROM outbox WHERE id = ?", "I",
	    id);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*out = xmalloc(sizeof(**out));
		**out = mail_row(s);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = 1;
	else
		rc = dberr(st, "outbox");
	sqlite3_reset(s);
	return rc;
}

static int
loose_body(struct store *st, enum wf_template tpl, const char *ref,
    const char *filing, const char *params, const struct store_actor *who,
    time_t now, int64_t *mail_id)
{
	enum wf_role role;
	const char *rcpt;
	int64_t ev;

	if (workflow_submitter_role(who->channel, &role) == -1)
		return seterr(st, "a mail about no filing needs a spool or mail"
		    " channel");
	rcpt = rcpt_resolve(st, role, tpl, NULL, who->provider, NULL, who);
	if (filing != NULL) {
		/* about the filing's last event, as the store's own mails
		 * of a transition are */
		if (one_int(st, &ev, "SELECT id FROM events WHERE filing = ?"
		    " ORDER BY id DESC LIMIT 1", "s", filing) != 1)
			return seterr(st, "%s: no event to answer", filing);
		ref = filing;
	} else if (event_add(st, NULL, who, who->kind, WF_NONE, WF_NONE,
	    workflow_template_name(tpl), now, &ev) == -1)
		return -1;
	if (outbox_add(st, filing, ref, ev, tpl, role, rcpt,
	    params ? params : "{}", NULL, now) == -1)
		return -1;
	*mail_id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_mail_loose(struct store *st, enum wf_template tpl, const char *ref,
    const char *params, const struct store_actor *who, int64_t *mail_id)
{
	int64_t id = 0;
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, loose_body(st, tpl, ref, NULL, params, who,
		    now_or(who->now), &id));
	if (rc == 0 && mail_id != NULL)
		*mail_id = id;
	return rc;
}

int
store_mail_reply(struct store *st, enum wf_template tpl, const char *filing,
    const char *params, const struct store_actor *who, int64_t *mail_id)
{
	int64_t id = 0;
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, loose_body(st, tpl, NULL, filing, params,
		    who, now_or(who->now), &id));
	if (rc == 0 && mail_id != NULL)
		*mail_id = id;
	return rc;
}

/* ---- mailer queries (daemon/mailer.c) ------------------------------------ */

/* One text column of the first row: 0 and *out (malloc'd), 1 none, -1. */
static int
one_text(struct store *st, sqlite3_stmt *s, const char *what, char **out)
{
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*out = col_dup(s, 0);
		rc = 0;
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = 1;
	else
		rc = dberr(st, what);
	sqlite3_reset(s);
	return rc;
}

int
store_outbox_thread_root(struct store *st, const char *id, const char *role,
    char **message_id)
{
	return one_text(st, query(st, "SELECT message_id FROM outbox"
	    " WHERE filing = ? AND role = ? ORDER BY id LIMIT 1", "ss", id,
	    role), "outbox", message_id);
}

/* A time the literal sql selects among the outbox rows up to the horizon
 * (its one parameter): 0 and *out, 1 no row, -1 error. */
static int
one_time(struct store *st, const char *sql, time_t *out)
{
	int64_t v;
	int rc = one_int(st, &v, sql, "I", st->horizon > 0 ? st->horizon :
	    INT64_MAX);

	if (rc == 1)
		*out = (time_t)v;
	return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

int
store_outbox_next_due(struct store *st, time_t *when)
{
	return one_time(st, "SELECT next_try FROM outbox WHERE state IN"
	    " ('queued','deferred') AND id <= ? ORDER BY next_try LIMIT 1",
	    when);
}

void
store_outbox_horizon(struct store *st, int64_t id)
{
	st->horizon = id;
}

int
store_outbox_last(struct store *st, int64_t *id)
{
	sqlite3_stmt *s = query(st, "SELECT ifnull(max(id), 0) FROM outbox", "");
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : dberr(st, "outbox");
}

int
store_attachment_name(struct store *st, const char *sha256_hex, char **name)
{
	return one_text(st, query(st, "SELECT name FROM attachment_entries"
	    " WHERE sha256 = ? ORDER BY idx LIMIT 1", "s", sha256_hex),
	    "attachment", name);
}

/* ---- metrics (daemon/metrics.c) ------------------------------------------ */

int
store_outbox_oldest_deferred(struct store *st, time_t *created)
{
	return one_time(st, "SELECT created FROM outbox WHERE state ="
	    " 'deferred' AND id <= ? ORDER BY created LIMIT 1", created);
}
