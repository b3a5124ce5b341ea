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
#include "daemon/chanstate.h"
#include "daemon/intake.h"
#include "daemon/intake_int.h"
#include "daemon/metrics.h"
#include "daemon/receipt.h"
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

/* ---- paths of a mail's file ------------------------------------------- */

/* A quarantined mail's name, in state_dir/quarantine/ and, put back by
 * `beianctl requeue`, in the inbox. */
static void
quarantine_name(uint32_t v, uint32_t uid, char *buf, size_t size)
{
	snprintf(buf, size, "mail-%" PRIu32 "-%" PRIu32 ".eml", v, uid);
}

/* Where m's stored message is. */
static void
msg_path(const struct intake *in, const struct msg *m, char *buf,
    size_t size)
{
	char name[64];

	if (!m->requeued) {
		intake_inbox_path(in, m->v, m->uid, buf, size);
		return;
	}
	quarantine_name(m->v, m->uid, name, sizeof(name));
	snprintf(buf, size, "%s/%s", in->inbox, name);
}

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
			msg_path(in, m, path, sizeof(path));
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

/*
 * Mails put back by `beianctl requeue` (inbox/mail-V-U.eml): each is
 * parsed and applied afresh; its message is in done_folder already.
 */
static void
requeue_scan(struct intake *in)
{
	DIR *d = opendir(in->inbox);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		unsigned long v, uid;
		char tail[8], name[64];
		struct msg *m;

		if (sscanf(de->d_name, "mail-%lu-%lu%7s", &v, &uid, tail) !=
		    3 || strcmp(tail, ".eml") != 0 || v > UINT32_MAX ||
		    uid > UINT32_MAX)
			continue;
		/* only the name we make (no "+1", no leading zeros) */
		quarantine_name((uint32_t)v, (uint32_t)uid, name, sizeof(name));
		if (strcmp(name, de->d_name) != 0 ||
		    intake_msg_find(in, (uint32_t)v, (uint32_t)uid) != NULL)
			continue;
		m = xcalloc(1, sizeof(*m));
		m->v = (uint32_t)v;
		m->uid = (uint32_t)uid;
		m->requeued = 1;
		m->state = MSG_QUEUED;
		log_info("intake: uid=%" PRIu32 " requeued from quarantine as "
		    "%s", m->uid, name);
		intake_msg_add(in, m);
	}
	closedir(d);
}
int64_t
intake_tick(struct intake *in, int64_t now_ms)
{
	if (in == NULL)
		return 1000;
	if (now_ms >= in->requeue_scan_ms) {
		in->requeue_scan_ms = now_ms + INTAKE_REQUEUE_SCAN_MS;
		requeue_scan(in);
	}
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

size_t
intake_waiting(const struct intake *in, int suspect)
{
	size_t n = 0;

	if (in == NULL)
		return 0;
	for (const struct msg *m = in->msgs; m != NULL; m = m->next)
		n += m->state == MSG_PARSED && !m->suspect == !suspect;
	return n;
}

/* ---- applying a mail (what one means: daemon/intake_apply.c) -------- */

static int
apply_one(struct intake *in, struct msg *m, time_t now)
{
	struct mctx c = { 0 };
	const struct mail_meta *mm;
	struct upload *u = m->u;

	c.st = in->st;
	c.cf = in->cf;
	c.uid = m->uid;
	c.u = m->u;
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
	/* The store's own refusal rows are replaced by mail_reply(), which
	 * applies the automated-mail rules and reply_cap. */
	c.who.no_sender_mail = 1;
	c.who.source = mm->message_id[0] != '\0' ? mm->message_id : c.hex;
	c.who.now = now;

	if (m->large) {
		if (mail_refuse_code(&c, NULL, ERR_MAIL_TOO_LARGE, "/") == -1)
			return -1;
	} else if (mail_bureau_address(in->cf, mm->from_addr, NULL) &&
	    (mm->review_token[0] != '\0' || (u->nitems == 1 &&
	    u->items[0].kind == ITEM_DECISION))) {
		if (mail_apply_bureau(&c) == -1)
			return -1;
	} else if (errlist_nerrors(u->errs) > 0) {
		if (mail_refuse(&c, NULL, WF_NONE, u->errs) == -1)
			return -1;
	} else if (u->nitems == 1 && u->items[0].kind == ITEM_FILING) {
		if (mail_apply_package(&c) == -1)
			return -1;
	} else if (mm->command == MIME_CMD_WITHDRAW) {
		if (mail_apply_withdraw(&c) == -1)
			return -1;
	} else if (u->nitems == 0 && mm->tag_id[0] == '\0' &&
	    mm->review_token[0] == '\0') {
		log_info("intake: uid=%" PRIu32 " no package: help reply",
		    m->uid);
		if (mail_reply(&c, WF_TPL_HELP, NULL, NULL) == -1)
			return -1;
	} else if (u->nitems == 0) {
		/* A reply under a tag saying nothing we know. */
		if (mail_refuse_code(&c, mm->tag_id, ERR_NO_PACKAGE, "/") == -1)
			return -1;
	} else {
		/* A decision file from someone not of the bureau. */
		if (mail_refuse_code(&c, NULL, ERR_SENDER_MISMATCH, "/") == -1)
			return -1;
	}
	return store_mail_seen_add(in->st, in->mailbox, m->v, m->uid,
	    mm->message_id, c.hex, m->large, now);
}

/*
 * A mail that failed alone (m->poison): kept for the operator, not
 * answered (whoever sent it, a reply would only repeat the trouble).
 * Its identity is recorded as done, so that the mailbox goes on past
 * it, with a content key of its own: a copy sent again is processed
 * afresh.  After the commit its file goes to state_dir/quarantine/.
 */
static int
apply_poison(struct intake *in, struct msg *m, time_t now)
{
	const char *mid = m->u != NULL && m->u->mail != NULL ?
	    m->u->mail->message_id : "";
	char item[64], src[64], key[64];

	quarantine_name(m->v, m->uid, item, sizeof(item));
	snprintf(src, sizeof(src), "mail:%" PRIu32 "-%" PRIu32, m->v, m->uid);
	snprintf(key, sizeof(key), "quarantined:%" PRIu32 "-%" PRIu32, m->v,
	    m->uid);
	if (store_quarantine_add(in->st, item, m->large ? NULL : src,
	    m->poison, now) == -1 ||
	    store_error_add(in->st, "mail", "NOT_PROCESSED", m->poison, now) ==
	    -1)
		return -1;
	return store_mail_seen_add(in->st, in->mailbox, m->v, m->uid, mid, key,
	    m->large, now);
}
/* How a mail counts in beiand_ingested_total{channel="mail"}. */
static enum metrics_result
msg_result(const struct msg *m)
{
	if (m->crash != NULL || m->poison != NULL)
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

/* One mail in its own savepoint: 0 applied, -1 failed (the savepoint
 * still open: the caller ends it). */
static int
apply_item(struct intake *in, struct msg *m, time_t now)
{
	if (store_item_begin(in->st) == -1)
		return -1;
	/* requeued: applied afresh, not taken for the one seen before */
	if (m->requeued && m->poison == NULL &&
	    store_mail_seen_forget(in->st, in->mailbox, m->v, m->uid) == -1)
		return -1;
	if ((m->poison != NULL ? apply_poison(in, m, now) :
	    apply_one(in, m, now)) == -1)
		return -1;
	return store_item_end(in->st, 1);
}
int
intake_apply(struct intake *in, time_t now, enum intake_pick pick,
    size_t *aside, size_t *applied)
{
	if (in == NULL)
		return 0;
	for (struct msg *m = in->msgs; m != NULL; m = m->next) {
		const char *why;

		if (m->state != MSG_PARSED ||
		    !m->suspect != (pick == INTAKE_PLAIN))
			continue;
		if (apply_item(in, m, now) == 0) {
			m->state = MSG_APPLIED;
			(*applied)++;
			if (pick == INTAKE_SUSPECT)
				break;
			continue;
		}
		why = store_errmsg(in->st);
		log_err("intake: uid=%" PRIu32 ": store: %s", m->uid, why);
		if (store_errfault(in->st) == STORE_FAULT_ENV)
			return -1;
		if (m->poison != NULL) {
			/* Not even its quarantine could be recorded: it
			 * stays as it is (its file, its message) until the
			 * next start rather than hold back the rest. */
			log_err("intake: uid=%" PRIu32 ": its quarantine not "
			    "recorded either; left until the next start",
			    m->uid);
			m->state = MSG_HELD;
		} else if (pick == INTAKE_SUSPECT) {
			log_err("intake: uid=%" PRIu32 " fails alone: %s; "
			    "quarantined (NOT_PROCESSED)", m->uid, why);
			m->poison = xstrdup(why);
		} else {
			log_warn("intake: uid=%" PRIu32 " set aside from its "
			    "group: %s; tried alone", m->uid, why);
			m->suspect = 1;
			(*aside)++;
		}
		if (!store_in_group(in->st))
			return -2;
		if (store_item_end(in->st, 0) == -1)
			return -1;
		if (pick == INTAKE_PLAIN || m->state == MSG_HELD)
			continue;
		/* failed alone: its quarantine, in this group */
		if (apply_item(in, m, now) == 0) {
			m->state = MSG_APPLIED;
			(*applied)++;
			break;
		}
		if (store_errfault(in->st) == STORE_FAULT_ENV)
			return -1;
		log_err("intake: uid=%" PRIu32 ": its quarantine not recorded "
		    "either: %s; left until the next start", m->uid,
		    store_errmsg(in->st));
		m->state = MSG_HELD;
		if (!store_in_group(in->st))
			return -2;
		if (store_item_end(in->st, 0) == -1)
			return -1;
		break;
	}
	return 0;
}

/* After its commit: a quarantined mail's file to state_dir/quarantine/,
 * with its reason beside it. */
static void
quarantine_file(struct intake *in, const struct msg *m)
{
	char from[4200], to[4200], name[64], rname[80], *text;

	if (m->large)
		return; /* never fetched: it stays on the server */
	msg_path(in, m, from, sizeof(from));
	quarantine_name(m->v, m->uid, name, sizeof(name));
	snprintf(to, sizeof(to), "%s/%s", in->quarantine, name);
	snprintf(rname, sizeof(rname), "%s.reason", name);
	text = xasprintf("mailbox: %s\nuidvalidity: %" PRIu32 "\nuid: %" PRIu32
	    "\nreason: %s\nsee `beianctl quarantine`; `beianctl requeue %s` "
	    "processes it again\n", in->mailbox, m->v, m->uid, m->poison,
	    name);
	if ((mkdir(in->quarantine, 0700) == -1 && errno != EEXIST) ||
	    file_write_atomic(in->quarantine, rname, text, strlen(text),
	    0600) == -1 || rename(from, to) == -1)
		log_err("intake: uid=%" PRIu32 ": %s: %s", m->uid, to,
		    strerror(errno));
	else
		log_warn("intake: uid=%" PRIu32 " quarantined as %s", m->uid,
		    to);
	free(text);
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
		if (m->poison != NULL)
			quarantine_file(in, m);
		if (m->requeued) {
			char path[4200];

			/* its message was moved when it was quarantined */
			msg_path(in, m, path, sizeof(path));
			if (m->poison == NULL && unlink(path) == -1 &&
			    errno != ENOENT)
				log_err("intake: %s: %s", path, strerror(errno));
		} else if (!m->large) {
			/* the file first: a fetcher waiting for room in the
			 * inbox counts again when the "done" wakes it */
			if (m->poison == NULL)
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
	chanstate_load(&in->chan, st, "imap");
	snprintf(in->quarantine, sizeof(in->quarantine), "%s/quarantine",
	    cf->state_dir);
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
