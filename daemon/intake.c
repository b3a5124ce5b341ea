/*
 * intake: the parent's side of owner and bureau mail — the stored mails
 * to the workers, applied in the group commit, and after it.  The
 * fetcher, its events and last_uid are daemon/intake_imap.c.
 *
 * Hostile input: the mails, and the fetcher's and the workers' answers
 * about them.  The parent never parses a mail: the fetcher stores it,
 * a worker parses it (WJ_MAIL; a too large mail's header block goes to a
 * worker too, through a memfd), and what comes back was decoded by
 * imap_event_decode() and wire_decode() as untrusted.  Nothing a mail
 * says is used as a path (the .eml names are rebuilt from numbers), and
 * no reply ever goes to an address from a package: refusals and help
 * replies go to the envelope sender, never to automated mail, and at
 * most [imap] reply_cap a day per address.
 *
 * Exactly once.  A mail's identity is (UIDVALIDITY, UID).  Its result
 * and a mail_seen row (identity, Message-ID, sha256) commit in one
 * group; only then does the fetcher move it to done_folder, its .eml go
 * and last_uid advance (over the contiguous committed run only).  A
 * crash before the commit: the .eml is still there and reported again;
 * after it: mail_seen says it is done and it is only moved.  After a
 * UIDVALIDITY change every message left in the mailbox is fetched again
 * (the processed ones are in done_folder already), and one whose
 * Message-ID and content hash were committed before is only moved.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/json.h"
#include "daemon/intake.h"
#include "daemon/intake_int.h"
#include "daemon/metrics.h"
#include "lib/compat.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "mail/imap.h"
#include "parsers/mime.h"
#include "parsers/package.h"
#include "store/ingest.h"
#include "store/intake_mail.h"
#include "store/outbox.h"
#include "store/query.h"
#include "store/status.h"
#include "store/store.h"
#include "store/transition.h"
#include "worker/worker.h"

/* ---- jobs --------------------------------------------------------------- */

/* The header block of a large mail as a file a worker can read. */
static int
header_fd(const struct msg *m)
{
	size_t off = 0;
	int fd;

	if ((fd = memfd_create("beiand-mail-header", MFD_CLOEXEC)) == -1)
		return -1;
	while (off < m->hdrlen) {
		ssize_t w = write(fd, m->hdr + off, m->hdrlen - off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	return fd;
}

static void
dispatch(struct intake *in)
{
	for (struct msg *m = in->msgs; m != NULL; m = m->next) {
		char path[4200], name[64];
		int fd;

		if (m->state != MSG_QUEUED)
			continue;
		if (worker_pool_idle(in->pool) == 0)
			return;
		snprintf(name, sizeof(name), "%" PRIu32 "-%" PRIu32 ".eml",
		    m->v, m->uid);
		if (m->large)
			fd = header_fd(m);
		else {
			intake_inbox_path(in, m->v, m->uid, path, sizeof(path));
			fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd == -1) {
			log_err("intake: uid=%" PRIu32 ": %s", m->uid,
			    strerror(errno));
			m->attempts = INTAKE_ATTEMPTS;
			free(m->crash);
			m->crash = xstrdup(strerror(errno));
			m->state = MSG_PARSED;
			continue;
		}
		if (worker_submit(in->pool, WJ_MAIL, fd, name,
		    in->cf->imap_provider, &m->job) == -1) {
			close(fd);
			return;
		}
		close(fd);
		m->state = MSG_RUNNING;
	}
}

int64_t
intake_tick(struct intake *in, int64_t now_ms)
{
	if (in == NULL)
		return 1000;
	if (in->f == NULL && now_ms >= in->restart_ms)
		intake_fetcher_start(in);
	dispatch(in);
	for (struct msg *m = in->msgs; m != NULL; m = m->next)
		if (m->need_done)
			intake_send_done(in, m);
	if (in->f == NULL && in->restart_ms > now_ms &&
	    in->restart_ms - now_ms < 1000)
		return in->restart_ms - now_ms;
	return 1000;
}

int
intake_on_result(struct intake *in, const struct worker_result *res)
{
	struct msg *m;

	if (in == NULL)
		return 0;
	for (m = in->msgs; m != NULL; m = m->next)
		if (m->state == MSG_RUNNING && m->job == res->job)
			break;
	if (m == NULL)
		return 0;
	m->job = 0;
	if (res->status == WR_OK && res->upload != NULL &&
	    res->upload->mail != NULL) {
		m->u = res->upload;
		m->state = MSG_PARSED;
		return 1;
	}
	if (res->status == WR_NOT_STARTED) {
		m->state = MSG_QUEUED; /* never tried: no attempt counted */
		return 1;
	}
	upload_free(res->upload);
	m->attempts++;
	log_warn("intake: uid=%" PRIu32 " attempt %d failed: %s", m->uid,
	    m->attempts, res->reason);
	if (m->attempts < INTAKE_ATTEMPTS) {
		m->state = MSG_QUEUED;
		return 1;
	}
	free(m->crash);
	m->crash = xstrdup(res->reason);
	m->state = MSG_PARSED;
	return 1;
}

int
intake_has_done(const struct intake *in)
{
	if (in == NULL)
		return 0;
	for (const struct msg *m = in->msgs; m != NULL; m = m->next)
		if (m->state == MSG_PARSED)
			return 1;
	return 0;
}

/* ---- applying a mail ---------------------------------------------------- */

/* What one mail is applied with. */
struct mctx {
	struct intake *in;
	struct msg *m;
	const struct mail_meta *mm;
	char hex[SHA256_HEX];   /* content key: sha256, or "large:SIZE" */
	char ref[17];           /* Message-ID part of replies: hex digits */
	const char *reply_to;   /* envelope sender, else From */
	struct store_actor who;
	time_t now;
};

/*
 * A refusal or help reply to the envelope sender: never to automated
 * mail, at most reply_cap a day per address.  filing, when not NULL, is
 * the filing the mail made or changed: the reply is about it.  -1 on a
 * store error.
 */
static int
reply(struct mctx *c, enum wf_template tpl, const char *params,
    const char *filing)
{
	struct store_actor who = c->who;
	int64_t id;
	int rc;

	if (c->mm->automated || c->reply_to[0] == '\0') {
		log_info("intake: uid=%" PRIu32 ": automated mail, no %s reply",
		    c->m->uid, workflow_template_name(tpl));
		return 0;
	}
	rc = store_reply_take(c->in->st, c->reply_to, c->now,
	    (unsigned long)c->in->cf->imap_reply_cap);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		log_warn("intake: uid=%" PRIu32 ": reply_cap reached for the "
		    "sender, no %s reply", c->m->uid,
		    workflow_template_name(tpl));
		return 0;
	}
	who.sender = c->reply_to;
	who.no_sender_mail = 0;
	if (filing != NULL && filing[0] != '\0')
		return store_mail_reply(c->in->st, tpl, filing, params, &who,
		    &id);
	return store_mail_loose(c->in->st, tpl, c->ref, params, &who, &id);
}

/* A refusal; made, when not NULL, is the filing this mail's package made
 * or resubmitted (the refusal is about it), else it is about the mail. */
static int
refuse_about(struct mctx *c, const char *id, enum wf_state state,
    const struct errlist *el, const char *made)
{
	char *params = json_refusal_params(id, state == WF_NONE ? NULL :
	    workflow_state_name(state), NULL, el);
	int rc;

	log_info("intake: uid=%" PRIu32 " filing=%s refused: %s", c->m->uid,
	    id && *id ? id : "-", errlist_count(el) ?
	    err_code_name(errlist_get(el, 0)->code) : "-");
	rc = reply(c, WF_TPL_INVALID, params, made);
	free(params);
	return rc;
}

static int
refuse(struct mctx *c, const char *id, enum wf_state state,
    const struct errlist *el)
{
	return refuse_about(c, id, state, el, NULL);
}

static int
refuse_code(struct mctx *c, const char *id, enum err_code code,
    const char *path)
{
	struct errlist *el = errlist_new();
	int rc;

	errlist_add(el, code, path, NULL);
	rc = refuse(c, id, WF_NONE, el);
	errlist_free(el);
	return rc;
}

static int
is_bureau_address(const struct config *cf, const char *addr,
    const char *province)
{
	for (size_t i = 0; i < cf->nbureaus; i++) {
		const struct config_bureau *b = &cf->bureaus[i];

		if (province != NULL && strcmp(b->province, province) != 0)
			continue;
		for (size_t k = 0; k < b->naddresses; k++)
			if (mime_addr_equal(addr, b->addresses[k]))
				return 1;
	}
	return 0;
}

/* The bureau's answer to a review request. */
static int
apply_bureau(struct mctx *c)
{
	const struct mail_meta *mm = c->mm;
	struct upload *u = c->m->u;
	struct store_filing_detail *fd = NULL;
	struct ingest_outcome o = { 0 };
	const char *id = mm->tag_id;
	int rc = 0;

	c->who.kind = WF_ACTOR_BUREAU;
	c->who.provider = NULL;
	if (u->nitems == 1 && u->items[0].kind == ITEM_DECISION &&
	    u->items[0].decision != NULL && u->items[0].decision->filing)
		id = u->items[0].decision->filing;
	/* The sender must be an address of the filing's province. */
	if (id[0] != '\0' && (rc = store_filing_show(c->in->st, id, &fd)) == -1)
		return -1;
	if (id[0] == '\0' || rc == 1) {
		rc = refuse_code(c, NULL, ERR_TRACKING_ID_UNKNOWN, "/");
		goto out;
	}
	if (!is_bureau_address(c->in->cf, mm->from_addr, fd->info.province)) {
		rc = refuse_code(c, id, ERR_SENDER_MISMATCH, "/");
		goto out;
	}
	o.errs = errlist_new();
	if (u->nitems == 1 && u->items[0].kind == ITEM_DECISION) {
		struct item *it = &u->items[0];

		/* The subject's token stands in for one the file lacks. */
		if (it->decision != NULL && it->decision->token == NULL &&
		    mm->review_token[0] != '\0')
			it->decision->token = xstrdup(mm->review_token);
		if (ingest_mail_item(c->in->st, c->in->cf, it, &c->who, NULL,
		    NULL, &o) == -1) {
			rc = -1;
			goto out;
		}
	} else if (mm->command == MIME_CMD_APPROVE ||
	    mm->command == MIME_CMD_REJECT) {
		struct store_transition_req req = { 0 };
		struct store_result res = { .errs = o.errs };
		struct store_issue issue = { "/", "", mm->reason };

		if (mm->command == MIME_CMD_REJECT && mm->reason[0] == '\0') {
			errlist_add(o.errs, ERR_SCHEMA_VIOLATION, "/",
			    "驳回须写明理由（REJECT: 理由）/ a rejection needs "
			    "a reason (REJECT: reason)");
			goto refused;
		}
		req.id = id;
		req.review_token = mm->review_token;
		req.reason = mm->command == MIME_CMD_REJECT ? mm->reason :
		    mm->from_addr;
		if (mm->command == MIME_CMD_APPROVE)
			req.to = WF_APPROVED;
		else {
			req.to = WF_RETURNED_TO_PROVIDER;
			req.issues = &issue;
			req.nissues = 1;
		}
		if ((rc = store_transition(c->in->st, &req, &c->who, &res)) ==
		    -1)
			goto out;
		strlcpy(o.id, id, sizeof(o.id));
		o.state = res.state;
		rc = 0;
	} else {
		log_info("intake: uid=%" PRIu32 " bureau mail with no "
		    "decision: nothing to do", c->m->uid);
		goto out;
	}
refused:
	if (errlist_nerrors(o.errs) > 0)
		rc = refuse(c, id, o.state, o.errs);
	else
		log_info("intake: uid=%" PRIu32 " filing=%s bureau decision: "
		    "%s", c->m->uid, id, workflow_state_name(o.state));
out:
	errlist_free(o.errs);
	store_filing_detail_free(fd);
	return rc;
}

/* The owner withdraws by a follow-up whose first line is "withdraw". */
static int
apply_withdraw(struct mctx *c)
{
	const struct mail_meta *mm = c->mm;
	struct store_transition_req req = { 0 };
	struct store_result res = { 0 };
	char token[STORE_TOKEN_LEN + 1];
	char *owner = NULL;
	int rc;

	if (mm->tag_id[0] == '\0')
		return refuse_code(c, NULL, ERR_TRACKING_ID_UNKNOWN, "/");
	if ((rc = store_filing_owner(c->in->st, mm->tag_id, &owner, token)) ==
	    -1)
		return -1;
	if (rc == 1)
		return refuse_code(c, NULL, ERR_TRACKING_ID_UNKNOWN, "/");
	res.errs = errlist_new();
	/* From, not only the envelope sender, must be the owner. */
	if (!mime_addr_equal(mm->from_addr, owner)) {
		errlist_add(res.errs, ERR_SENDER_MISMATCH, "/", NULL);
		rc = 1;
	} else {
		req.id = mm->tag_id;
		req.to = WF_WITHDRAWN;
		req.reason = "withdraw";
		req.owner_token = mm->tag_token;
		if ((rc = store_transition(c->in->st, &req, &c->who, &res)) ==
		    -1)
			goto out;
	}
	if (errlist_nerrors(res.errs) > 0)
		rc = refuse(c, mm->tag_id, res.state, res.errs);
	else
		log_info("intake: uid=%" PRIu32 " filing=%s withdrawn by mail",
		    c->m->uid, mm->tag_id);
out:
	free(owner);
	errlist_free(res.errs);
	return rc;
}

/* A package from an owner: a new filing, or a follow-up under its tag. */
static int
apply_package(struct mctx *c)
{
	const struct mail_meta *mm = c->mm;
	struct item *it = &c->m->u->items[0];
	struct ingest_outcome o = { 0 };
	int rc;

	/* Filings by mail are the owner's own (DESIGN.md). */
	if (it->filing != NULL)
		it->filing->mode = FILING_MODE_SELF;
	o.errs = errlist_new();
	rc = ingest_mail_item(c->in->st, c->in->cf, it, &c->who, mm->tag_id,
	    mm->tag_token, &o);
	if (rc == 0) {
		log_info("intake: uid=%" PRIu32 " filing=%s state=%s "
		    "errors=%zu", c->m->uid, o.id[0] ? o.id : "-",
		    o.state != WF_NONE ? workflow_state_name(o.state) : "-",
		    errlist_nerrors(o.errs));
		if (errlist_nerrors(o.errs) > 0)
			/* a package without a tag made a filing (invalid):
			 * the refusal is about it */
			rc = refuse_about(c, o.id, o.state, o.errs,
			    mm->tag_id[0] == '\0' ? o.id : NULL);
	}
	errlist_free(o.errs);
	return rc;
}

static int
apply_one(struct intake *in, struct msg *m, time_t now)
{
	struct mctx c = { 0 };
	const struct mail_meta *mm;
	struct upload *u = m->u;

	c.in = in;
	c.m = m;
	c.now = now;
	if (m->crash != NULL) {
		/* Parsed by no worker: kept as seen (it is in done_folder
		 * for an operator), never answered. */
		log_err("intake: uid=%" PRIu32 ": given up: %s", m->uid,
		    m->crash);
		if (store_error_add(in->st, "mail", "MAIL_UNREADABLE", m->crash,
		    now) == -1)
			return -1;
		snprintf(c.hex, sizeof(c.hex), "unread:%" PRIu32 "-%" PRIu32,
		    m->v, m->uid);
		return store_mail_seen_add(in->st, in->mailbox, m->v, m->uid,
		    "", c.hex, m->large, now);
	}
	mm = c.mm = u->mail;
	/* (a large one's sha256 is its header block's) */
	sha256_to_hex(mm->sha256, c.hex);
	memcpy(c.ref, c.hex, 16);
	c.ref[16] = '\0';
	if (m->large)
		snprintf(c.hex, sizeof(c.hex), "large:%" PRIu64, m->size);
	/* The same mail again (a UIDVALIDITY change, a double delivery). */
	if (mm->message_id[0] != '\0') {
		int rc = store_mail_seen_content(in->st, mm->message_id, c.hex);

		if (rc == -1)
			return -1;
		if (rc == 0) {
			log_info("intake: uid=%" PRIu32 " Message-ID seen "
			    "before with the same content: not processed "
			    "again", m->uid);
			return store_mail_seen_add(in->st, in->mailbox, m->v,
			    m->uid, mm->message_id, c.hex, m->large, now);
		}
	}
	/* Replies go to the envelope sender; "" with a From is a mail
	 * whose Return-Path was absent ("<>" is automated). */
	c.reply_to = mm->return_path[0] != '\0' ? mm->return_path :
	    mm->from_addr;
	c.who.kind = WF_ACTOR_OWNER;
	c.who.channel = WF_CHANNEL_MAIL;
	c.who.name = mm->from_addr;
	c.who.provider = in->cf->imap_provider;
	c.who.sender = c.reply_to;
	/* The store's own refusal rows are replaced by reply(), which
	 * applies the automated-mail rules and reply_cap. */
	c.who.no_sender_mail = 1;
	c.who.source = mm->message_id[0] != '\0' ? mm->message_id : c.hex;
	c.who.now = now;

	if (m->large) {
		if (refuse_code(&c, NULL, ERR_MAIL_TOO_LARGE, "/") == -1)
			return -1;
	} else if (is_bureau_address(in->cf, mm->from_addr, NULL) &&
	    (mm->review_token[0] != '\0' || (u->nitems == 1 &&
	    u->items[0].kind == ITEM_DECISION))) {
		if (apply_bureau(&c) == -1)
			return -1;
	} else if (errlist_nerrors(u->errs) > 0) {
		if (refuse(&c, NULL, WF_NONE, u->errs) == -1)
			return -1;
	} else if (u->nitems == 1 && u->items[0].kind == ITEM_FILING) {
		if (apply_package(&c) == -1)
			return -1;
	} else if (mm->command == MIME_CMD_WITHDRAW) {
		if (apply_withdraw(&c) == -1)
			return -1;
	} else if (u->nitems == 0 && mm->tag_id[0] == '\0' &&
	    mm->review_token[0] == '\0') {
		log_info("intake: uid=%" PRIu32 " no package: help reply",
		    m->uid);
		if (reply(&c, WF_TPL_HELP, NULL, NULL) == -1)
			return -1;
	} else if (u->nitems == 0) {
		/* A reply under a tag saying nothing we know. */
		if (refuse_code(&c, mm->tag_id, ERR_NO_PACKAGE, "/") == -1)
			return -1;
	} else {
		/* A decision file from someone not of the bureau. */
		if (refuse_code(&c, NULL, ERR_SENDER_MISMATCH, "/") == -1)
			return -1;
	}
	return store_mail_seen_add(in->st, in->mailbox, m->v, m->uid,
	    mm->message_id, c.hex, m->large, now);
}

/* How a mail counts in beiand_ingested_total{channel="mail"}. */
static enum metrics_result
msg_result(const struct msg *m)
{
	if (m->crash != NULL)
		return METRICS_RES_QUARANTINED;
	if (m->large)
		return METRICS_RES_REFUSED;
	if (m->u == NULL || errlist_nerrors(m->u->errs) > 0)
		return METRICS_RES_INVALID;
	for (size_t i = 0; i < m->u->nitems; i++)
		if (errlist_nerrors(m->u->items[i].errs) > 0)
			return METRICS_RES_INVALID;
	return METRICS_RES_ACCEPTED;
}

void
intake_set_metrics(struct intake *in, struct metrics *m)
{
	if (in != NULL)
		in->metrics = m;
}

int
intake_apply(struct intake *in, time_t now)
{
	if (in == NULL)
		return 0;
	for (struct msg *m = in->msgs; m != NULL; m = m->next) {
		if (m->state != MSG_PARSED)
			continue;
		if (apply_one(in, m, now) == -1) {
			log_err("intake: uid=%" PRIu32 ": store: %s", m->uid,
			    store_errmsg(in->st));
			return -1;
		}
		m->state = MSG_APPLIED;
	}
	return 0;
}

void
intake_after_commit(struct intake *in, int committed)
{
	if (in == NULL)
		return;
	for (struct msg *m = in->msgs; m != NULL; m = m->next) {
		if (m->state != MSG_APPLIED)
			continue;
		if (!committed) {
			m->state = MSG_PARSED;
			continue;
		}
		m->state = MSG_COMMITTED;
		/* counted once committed: a rolled-back group comes again */
		if (in->metrics != NULL)
			metrics_ingested(in->metrics, METRICS_CH_MAIL,
			    msg_result(m));
		upload_free(m->u);
		m->u = NULL;
		free(m->hdr);
		m->hdr = NULL;
		if (!m->large) {
			/* the file first: a fetcher waiting for room in the
			 * inbox counts again when the "done" wakes it */
			intake_inbox_remove(in, m->v, m->uid);
			m->need_done = 1;
			intake_send_done(in, m);
		}
	}
	if (committed)
		intake_advance(in);
}

/* ---- life --------------------------------------------------------------- */

struct intake *
intake_new(const struct config *cf, struct store *st, struct worker_pool *pool,
    char *err, size_t errsize)
{
	struct intake *in;
	struct imap_url u;

	if (imap_url_parse(cf->imap_url, &u, err, errsize) == -1)
		return NULL;
	in = xcalloc(1, sizeof(*in));
	in->cf = cf;
	in->st = st;
	in->pool = pool;
	in->mailbox = xstrdup(u.mailbox);
	imap_url_free(&u);
	if ((size_t)snprintf(in->inbox, sizeof(in->inbox), "%s/inbox",
	    cf->state_dir) >= sizeof(in->inbox) ||
	    (mkdir(in->inbox, 0700) == -1 && errno != EEXIST)) {
		snprintf(err, errsize, "intake: %s/inbox: %s", cf->state_dir,
		    strerror(errno));
		free(in->mailbox);
		free(in);
		return NULL;
	}
	intake_fetcher_start(in);
	return in;
}

void
intake_free(struct intake *in)
{
	struct msg *m;

	if (in == NULL)
		return;
	imap_fetcher_stop(in->f);
	while ((m = in->msgs) != NULL) {
		in->msgs = m->next;
		intake_msg_free(m);
	}
	free(in->waiting);
	free(in->wreason);
	free(in->mailbox);
	free(in);
}
