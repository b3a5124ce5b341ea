/*
 * intake: the parent's side of owner and bureau mail.
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
#include "daemon/chanstate.h"
#include "daemon/intake.h"
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

#define INTAKE_RESTART_MIN_MS 1000
#define INTAKE_RESTART_MAX_MS 60000
#define INTAKE_ATTEMPTS 2 /* worker crashes before a mail is given up */

enum msg_state {
	MSG_QUEUED,   /* waiting for room in a worker's queue */
	MSG_RUNNING,  /* a worker parses it */
	MSG_PARSED,   /* waiting for the group commit */
	MSG_APPLIED,  /* applied in the open group */
	MSG_COMMITTED /* committed: done sent (or to resend), file removed */
};

struct msg {
	struct msg *next;
	uint32_t v, uid;
	enum msg_state state;
	int large;            /* over mail_max_bytes: refused unread, stays */
	uint64_t size;
	char *hdr;            /* large: the header block, until submitted */
	size_t hdrlen;
	uint64_t job;
	int attempts;
	char *crash;          /* the workers' reason after the last attempt */
	struct upload *u;     /* parsed */
	int need_done;        /* committed, "done" not sent yet */
};

struct intake {
	const struct config *cf;
	struct store *st;
	struct worker_pool *pool;
	struct imap_fetcher *f;
	char inbox[4096];
	char *mailbox;        /* the store's key: the URL's mailbox */
	uint32_t v;           /* UIDVALIDITY answered with resume, 0: none */
	uint32_t last_uid;
	int64_t restart_ms;   /* start a fetcher at this time (0: now) */
	int64_t backoff_ms;
	struct msg *msgs;     /* by arrival */
	struct metrics *metrics; /* NULL: none kept */
	struct chanstate chan;   /* the imap channel's state */
};

/* ---- small helpers ------------------------------------------------------ */

static int64_t
intake_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
msg_free(struct msg *m)
{
	if (m == NULL)
		return;
	free(m->hdr);
	free(m->crash);
	upload_free(m->u);
	free(m);
}

static struct msg *
msg_find(struct intake *in, uint32_t v, uint32_t uid)
{
	for (struct msg *m = in->msgs; m != NULL; m = m->next)
		if (m->v == v && m->uid == uid)
			return m;
	return NULL;
}

static void
msg_add(struct intake *in, struct msg *m)
{
	struct msg **pp = &in->msgs;

	while (*pp != NULL)
		pp = &(*pp)->next;
	m->next = NULL;
	*pp = m;
}

static void
inbox_path(const struct intake *in, uint32_t v, uint32_t uid, char *buf,
    size_t size)
{
	snprintf(buf, size, "%s/%" PRIu32 "-%" PRIu32 ".eml", in->inbox, v,
	    uid);
}

static void
inbox_remove(const struct intake *in, uint32_t v, uint32_t uid)
{
	char path[4200];

	inbox_path(in, v, uid, path, sizeof(path));
	if (unlink(path) == -1 && errno != ENOENT)
		log_err("intake: %s: %s", path, strerror(errno));
}

/* ---- the fetcher -------------------------------------------------------- */

static void
fetcher_lost(struct intake *in)
{
	imap_fetcher_stop(in->f);
	in->f = NULL;
	in->v = 0;
	in->backoff_ms = in->backoff_ms == 0 ? INTAKE_RESTART_MIN_MS :
	    in->backoff_ms * 2;
	if (in->backoff_ms > INTAKE_RESTART_MAX_MS)
		in->backoff_ms = INTAKE_RESTART_MAX_MS;
	in->restart_ms = intake_mono_ms() + in->backoff_ms;
	/* Every mail in hand goes on: its file is on disk, and the next
	 * fetcher's report of it is a no-op.  Dropping a queued one could
	 * let last_uid pass it while it is not yet reported again. */
	for (struct msg *m = in->msgs; m != NULL; m = m->next)
		m->need_done = 0; /* lost with the session: "old" */
	log_warn("intake: fetcher stopped; a new one in %" PRId64 " ms",
	    in->backoff_ms);
}

static void
fetcher_start(struct intake *in)
{
	char err[512];

	if ((in->f = imap_fetcher_start(in->cf, in->inbox, err,
	    sizeof(err))) == NULL) {
		log_err("intake: %s", err);
		in->backoff_ms = INTAKE_RESTART_MAX_MS;
		in->restart_ms = intake_mono_ms() + in->backoff_ms;
		return;
	}
	log_info("intake: fetcher started (pid %ld)",
	    (long)imap_fetcher_pid(in->f));
}

/*
 * Files of the inbox whose result is committed, or which the next
 * session does not report (U <= last_uid of this UIDVALIDITY, or another
 * UIDVALIDITY: the message is fetched again under its new UID).
 */
static void
inbox_sweep(struct intake *in)
{
	DIR *d = opendir(in->inbox);
	struct dirent *de;

	if (d == NULL) {
		log_err("intake: %s: %s", in->inbox, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		unsigned long v, uid;
		char tail[8];
		int stays;

		if (sscanf(de->d_name, "%lu-%lu%7s", &v, &uid, tail) != 3 ||
		    strcmp(tail, ".eml") != 0 || v > UINT32_MAX ||
		    uid > UINT32_MAX)
			continue;
		if (msg_find(in, (uint32_t)v, (uint32_t)uid) != NULL)
			continue;
		if ((uint32_t)v != in->v || uid <= in->last_uid ||
		    store_mail_seen_uid(in->st, in->mailbox, (uint32_t)v,
		    (uint32_t)uid, &stays) == 0)
			inbox_remove(in, (uint32_t)v, (uint32_t)uid);
	}
	closedir(d);
}

static void
on_uidvalidity(struct intake *in, const struct imap_event *ev)
{
	uint32_t sv = 0, slast = 0;
	int rc;

	rc = store_imap_get(in->st, in->mailbox, &sv, &slast);
	if (rc == -1) {
		log_err("intake: store: %s", store_errmsg(in->st));
		fetcher_lost(in);
		return;
	}
	if (rc == 0 && sv == ev->uidvalidity) {
		in->last_uid = slast;
	} else {
		/* New, or changed: everything left in the mailbox is
		 * reported; committed content is recognised by Message-ID
		 * and hash when it comes back. */
		if (rc == 0)
			log_warn("intake: mailbox %s: UIDVALIDITY %" PRIu32
			    " -> %" PRIu32 "; reconciling by Message-ID",
			    in->mailbox, sv, ev->uidvalidity);
		if (store_imap_set(in->st, in->mailbox, ev->uidvalidity, 0) ==
		    -1) {
			log_err("intake: store: %s", store_errmsg(in->st));
			fetcher_lost(in);
			return;
		}
		in->last_uid = 0;
		/* Queued mails of the old UIDVALIDITY come back under new
		 * UIDs. */
		for (struct msg **pp = &in->msgs; *pp != NULL;) {
			struct msg *m = *pp;

			if (m->v != ev->uidvalidity && m->state == MSG_QUEUED) {
				*pp = m->next;
				msg_free(m);
			} else
				pp = &m->next;
		}
	}
	in->v = ev->uidvalidity;
	/* logged in and the mailbox selected: the channel works */
	chanstate_note(&in->chan, in->st, 0, 0, NULL);
	inbox_sweep(in);
	if (imap_fetcher_resume(in->f, in->v, in->last_uid) == -1) {
		log_warn("intake: resume not sent");
		fetcher_lost(in);
		return;
	}
	in->backoff_ms = 0;
	log_info("intake: mailbox %s uidvalidity %" PRIu32 " resumed after "
	    "uid %" PRIu32, in->mailbox, in->v, in->last_uid);
}

static void
send_done(struct intake *in, struct msg *m)
{
	if (in->f != NULL && m->v == in->v &&
	    imap_fetcher_done(in->f, m->v, m->uid) == 0)
		m->need_done = 0;
}

static void
on_new(struct intake *in, const struct imap_event *ev, int large)
{
	struct msg *m;
	int stays = 0, rc;

	if (ev->uidvalidity != in->v || in->v == 0)
		return; /* a stale session's */
	if ((m = msg_find(in, ev->uidvalidity, ev->uid)) != NULL) {
		if (m->state == MSG_COMMITTED && !m->large)
			send_done(in, m);
		return;
	}
	rc = store_mail_seen_uid(in->st, in->mailbox, ev->uidvalidity,
	    ev->uid, &stays);
	if (rc == -1) {
		log_err("intake: store: %s", store_errmsg(in->st));
		return;
	}
	if (rc == 0) {
		/* Committed before a crash or a lost connection. */
		if (!stays && imap_fetcher_done(in->f, ev->uidvalidity,
		    ev->uid) == -1)
			log_warn("intake: uid=%" PRIu32 ": done not sent",
			    ev->uid);
		if (!large)
			inbox_remove(in, ev->uidvalidity, ev->uid);
		return;
	}
	m = xcalloc(1, sizeof(*m));
	m->v = ev->uidvalidity;
	m->uid = ev->uid;
	m->state = MSG_QUEUED;
	if (large) {
		m->large = 1;
		m->size = ev->size;
		m->hdrlen = ev->header_len;
		m->hdr = xmalloc(ev->header_len + 1);
		if (ev->header_len > 0)
			memcpy(m->hdr, ev->header, ev->header_len);
		log_info("intake: uid=%" PRIu32 " size=%" PRIu64 " over "
		    "mail_max_bytes: refused, left on the server", ev->uid,
		    ev->size);
	} else
		log_info("intake: uid=%" PRIu32 " fetched as %s", ev->uid,
		    ev->file);
	msg_add(in, m);
}

static void
on_old(struct intake *in, const struct imap_event *ev)
{
	int stays = 0;

	if (ev->uidvalidity != in->v)
		return;
	/* Committed and not a large one: a "done" that was lost. */
	if (store_mail_seen_uid(in->st, in->mailbox, ev->uidvalidity, ev->uid,
	    &stays) == 0 && !stays &&
	    imap_fetcher_done(in->f, ev->uidvalidity, ev->uid) == -1)
		log_warn("intake: uid=%" PRIu32 ": done not sent", ev->uid);
}

void
intake_on_readable(struct intake *in)
{
	struct imap_event ev;
	int r;

	if (in == NULL || in->f == NULL)
		return;
	while (in->f != NULL && (r = imap_fetcher_read(in->f, &ev)) != 0) {
		if (r == -1) {
			fetcher_lost(in);
			return;
		}
		switch (ev.kind) {
		case IMAP_EV_UIDVALIDITY:
			on_uidvalidity(in, &ev);
			break;
		case IMAP_EV_NEW:
			on_new(in, &ev, 0);
			break;
		case IMAP_EV_LARGE:
			on_new(in, &ev, 1);
			break;
		case IMAP_EV_OLD:
			on_old(in, &ev);
			break;
		case IMAP_EV_MOVED:
			log_debug("intake: uid=%" PRIu32 " moved to %s",
			    ev.uid, in->cf->imap_done_folder);
			break;
		case IMAP_EV_SYNCED:
			log_debug("intake: synced up to uid %" PRIu32, ev.uid);
			if (in->metrics != NULL)
				metrics_imap_synced(in->metrics, time(NULL));
			break;
		case IMAP_EV_FAILING: {
			char reason[IMAP_REASON_MAX + 1];

			memcpy(reason, ev.reason, ev.reason_len);
			reason[ev.reason_len] = '\0';
			chanstate_note(&in->chan, in->st, 1, ev.refused, reason);
			break;
		}
		}
	}
}

int
intake_pollfd(const struct intake *in)
{
	return in != NULL && in->f != NULL ? imap_fetcher_fd(in->f) : -1;
}

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
			inbox_path(in, m->v, m->uid, path, sizeof(path));
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
		fetcher_start(in);
	dispatch(in);
	for (struct msg *m = in->msgs; m != NULL; m = m->next)
		if (m->need_done)
			send_done(in, m);
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
 * mail, at most reply_cap a day per address.  -1 on a store error.
 */
static int
reply(struct mctx *c, enum wf_template tpl, const char *params)
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
	return store_mail_loose(c->in->st, tpl, c->ref, params, &who, &id);
}

static int
refuse(struct mctx *c, const char *id, enum wf_state state,
    const struct errlist *el)
{
	char *params = json_refusal_params(id, state == WF_NONE ? NULL :
	    workflow_state_name(state), NULL, el);
	int rc;

	log_info("intake: uid=%" PRIu32 " filing=%s refused: %s", c->m->uid,
	    id && *id ? id : "-", errlist_count(el) ?
	    err_code_name(errlist_get(el, 0)->code) : "-");
	rc = reply(c, WF_TPL_INVALID, params);
	free(params);
	return rc;
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
			rc = refuse(c, o.id, o.state, o.errs);
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
		if (reply(&c, WF_TPL_HELP, NULL) == -1)
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

/* last_uid: the highest committed U below every U still in hand. */
static void
advance(struct intake *in)
{
	uint32_t low = UINT32_MAX, best = in->last_uid;

	if (in->v == 0)
		return;
	for (struct msg *m = in->msgs; m != NULL; m = m->next)
		if (m->v == in->v && m->state != MSG_COMMITTED && m->uid < low)
			low = m->uid;
	for (struct msg *m = in->msgs; m != NULL; m = m->next)
		if (m->v == in->v && m->state == MSG_COMMITTED &&
		    m->uid < low && m->uid > best)
			best = m->uid;
	if (best != in->last_uid) {
		if (store_imap_set(in->st, in->mailbox, in->v, best) == -1) {
			log_err("intake: store: %s", store_errmsg(in->st));
			return;
		}
		in->last_uid = best;
	}
	/* Committed mails at or below last_uid are finished with, once
	 * their "done" went out (else "old" brings it back). */
	for (struct msg **pp = &in->msgs; *pp != NULL;) {
		struct msg *m = *pp;

		if (m->state == MSG_COMMITTED && (m->v != in->v ||
		    m->uid <= in->last_uid) && !m->need_done) {
			*pp = m->next;
			msg_free(m);
		} else
			pp = &m->next;
	}
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
			m->need_done = 1;
			send_done(in, m);
			inbox_remove(in, m->v, m->uid);
		}
	}
	if (committed)
		advance(in);
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
	chanstate_load(&in->chan, st, "imap");
	if ((size_t)snprintf(in->inbox, sizeof(in->inbox), "%s/inbox",
	    cf->state_dir) >= sizeof(in->inbox) ||
	    (mkdir(in->inbox, 0700) == -1 && errno != EEXIST)) {
		snprintf(err, errsize, "intake: %s/inbox: %s", cf->state_dir,
		    strerror(errno));
		free(in->mailbox);
		free(in);
		return NULL;
	}
	fetcher_start(in);
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
		msg_free(m);
	}
	free(in->mailbox);
	free(in);
}
