/*
 * intake: the fetcher's side of owner and bureau mail — the fetcher
 * process started and restarted, its events answered, the UIDs in hand
 * and those its limits leave on the server (DESIGN.md, Hostile
 * senders), last_uid, and the inbox folder the fetcher stores into.
 * daemon/intake.c takes the stored mails from there to the commit.
 *
 * Hostile input: the fetcher's frames (decoded by imap_event_decode() as
 * untrusted; a name is rebuilt from two numbers).  Exactly once: a mail
 * is identified by (UIDVALIDITY, UID); last_uid, the position a new
 * fetcher resumes after, only passes UIDs whose result is committed:
 * never one in hand, never one that waits on the server, so a mail a
 * limit left behind is reported again by every new fetcher until it is
 * taken.  The fetcher reports UIDs in order: every UID up to the highest
 * reported that is neither in hand nor waiting is committed (or was
 * never in the mailbox), which is what lets last_uid move without
 * keeping committed mails in memory through a long flood.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "daemon/chanstate.h"
#include "daemon/intake.h"
#include "daemon/intake_int.h"
#include "daemon/metrics.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "mail/imap.h"
#include "parsers/package.h"
#include "store/intake_mail.h"
#include "store/store.h"

/* ---- small helpers ------------------------------------------------------ */

static int64_t
intake_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
intake_msg_free(struct msg *m)
{
	if (m == NULL)
		return;
	free(m->hdr);
	free(m->crash);
	free(m->poison);
	upload_free(m->u);
	free(m);
}

struct msg *
intake_msg_find(struct intake *in, uint32_t v, uint32_t uid)
{
	for (struct msg *m = in->msgs; m != NULL; m = m->next)
		if (m->v == v && m->uid == uid)
			return m;
	return NULL;
}

void
intake_msg_add(struct intake *in, struct msg *m)
{
	struct msg **pp = &in->msgs;

	while (*pp != NULL)
		pp = &(*pp)->next;
	m->next = NULL;
	*pp = m;
}

void
intake_inbox_path(const struct intake *in, uint32_t v, uint32_t uid, char *buf,
    size_t size)
{
	snprintf(buf, size, "%s/%" PRIu32 "-%" PRIu32 ".eml", in->inbox, v,
	    uid);
}

void
intake_inbox_remove(const struct intake *in, uint32_t v, uint32_t uid)
{
	char path[4200];

	intake_inbox_path(in, v, uid, path, sizeof(path));
	if (unlink(path) == -1 && errno != ENOENT)
		log_err("intake: %s: %s", path, strerror(errno));
}

/* ---- what waits on the server -------------------------------------------- */

/* Index of uid in the sorted waiting list, or where it would go. */
static size_t
waiting_find(const struct intake *in, uint32_t uid)
{
	size_t lo = 0, hi = in->nwaiting;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (in->waiting[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* uid waits for reason: 1 when it was not waiting before. */
static int
waiting_set(struct intake *in, uint32_t uid, enum imap_wait_reason reason)
{
	size_t i = waiting_find(in, uid);

	if (i < in->nwaiting && in->waiting[i] == uid) {
		in->nwait[in->wreason[i]]--;
		in->wreason[i] = (unsigned char)reason;
		in->nwait[reason]++;
		return 0;
	}
	if (in->nwaiting == in->capwaiting) {
		xgrow(&in->waiting, &in->capwaiting, in->nwaiting,
		    sizeof(*in->waiting));
		in->wreason = xreallocarray(in->wreason, in->capwaiting, 1);
	}
	memmove(in->waiting + i + 1, in->waiting + i,
	    (in->nwaiting - i) * sizeof(*in->waiting));
	memmove(in->wreason + i + 1, in->wreason + i, in->nwaiting - i);
	in->waiting[i] = uid;
	in->wreason[i] = (unsigned char)reason;
	in->nwaiting++;
	in->nwait[reason]++;
	return 1;
}

static void
waiting_drop(struct intake *in, uint32_t uid)
{
	size_t i = waiting_find(in, uid);

	if (i >= in->nwaiting || in->waiting[i] != uid)
		return;
	in->nwait[in->wreason[i]]--;
	memmove(in->waiting + i, in->waiting + i + 1,
	    (in->nwaiting - i - 1) * sizeof(*in->waiting));
	memmove(in->wreason + i, in->wreason + i + 1, in->nwaiting - i - 1);
	in->nwaiting--;
}

/* A new fetcher, or a new UIDVALIDITY: it reports them all again. */
static void
waiting_clear(struct intake *in)
{
	in->nwaiting = 0;
	memset(in->nwait, 0, sizeof(in->nwait));
	in->throttled = 0;
}

static void
reported(struct intake *in, uint32_t uid)
{
	if (uid > in->reported_hi)
		in->reported_hi = uid;
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
	/* the next one reports from last_uid on, what waits included */
	waiting_clear(in);
	in->reported_hi = 0;
	log_warn("intake: fetcher stopped; a new one in %" PRId64 " ms",
	    in->backoff_ms);
}

void
intake_fetcher_start(struct intake *in)
{
	char err[512];
	int refused = 0;

	if ((in->f = imap_fetcher_start(in->cf, in->inbox, &refused, err,
	    sizeof(err))) == NULL) {
		/* the channel fails (logged once per change), and the start
		 * is tried again: a password_file is read again then */
		chanstate_note(&in->chan, in->st, 1, refused, err);
		in->backoff_ms = in->backoff_ms == 0 ? INTAKE_RESTART_MIN_MS :
		    in->backoff_ms * 2;
		if (in->backoff_ms > INTAKE_RESTART_MAX_MS)
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
		if (intake_msg_find(in, (uint32_t)v, (uint32_t)uid) != NULL)
			continue;
		if ((uint32_t)v != in->v || uid <= in->last_uid ||
		    store_mail_seen_uid(in->st, in->mailbox, (uint32_t)v,
		    (uint32_t)uid, &stays) == 0)
			intake_inbox_remove(in, (uint32_t)v, (uint32_t)uid);
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
		reported(in, slast);
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
		in->reported_hi = 0;
		waiting_clear(in);
		/* Queued mails of the old UIDVALIDITY come back under new
		 * UIDs. */
		for (struct msg **pp = &in->msgs; *pp != NULL;) {
			struct msg *m = *pp;

			if (m->v != ev->uidvalidity && m->state == MSG_QUEUED &&
			    !m->requeued) {
				*pp = m->next;
				intake_msg_free(m);
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

void
intake_send_done(struct intake *in, struct msg *m)
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
	reported(in, ev->uid);
	waiting_drop(in, ev->uid);
	if ((m = intake_msg_find(in, ev->uidvalidity, ev->uid)) != NULL) {
		if (m->state == MSG_COMMITTED && !m->large)
			intake_send_done(in, m);
		return;
	}
	rc = store_mail_seen_uid(in->st, in->mailbox, ev->uidvalidity,
	    ev->uid, &stays);
	if (rc == -1) {
		/* Not known to be committed, not in hand: last_uid must not
		 * pass it.  A new fetcher reports it again. */
		log_err("intake: uid=%" PRIu32 ": store: %s", ev->uid,
		    store_errmsg(in->st));
		fetcher_lost(in);
		return;
	}
	if (rc == 0) {
		/* Committed before a crash or a lost connection. */
		if (!stays && imap_fetcher_done(in->f, ev->uidvalidity,
		    ev->uid) == -1)
			log_warn("intake: uid=%" PRIu32 ": done not sent",
			    ev->uid);
		if (!large)
			intake_inbox_remove(in, ev->uidvalidity, ev->uid);
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
	intake_msg_add(in, m);
}

/* A message a limit leaves on the server for now: held like one in hand. */
static void
on_wait(struct intake *in, const struct imap_event *ev)
{
	if (ev->uidvalidity != in->v || in->v == 0)
		return;
	reported(in, ev->uid);
	if (intake_msg_find(in, ev->uidvalidity, ev->uid) != NULL)
		return; /* fetched already: nothing waits */
	if (waiting_set(in, ev->uid, ev->reason) && in->metrics != NULL)
		metrics_imap_deferred(in->metrics,
		    ev->reason == IMAP_WAIT_SENDER ? METRICS_WAIT_SENDER :
		    ev->reason == IMAP_WAIT_INBOX ? METRICS_WAIT_INBOX :
		    METRICS_WAIT_DISK);
	log_debug("intake: uid=%" PRIu32 " waits on the server (%s)", ev->uid,
	    imap_wait_name(ev->reason));
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
			/* or gone from the mailbox while it waited */
			if (ev.uidvalidity == in->v)
				waiting_drop(in, ev.uid);
			log_debug("intake: uid=%" PRIu32 " moved to %s",
			    ev.uid, in->cf->imap_done_folder);
			break;
		case IMAP_EV_SYNCED:
			log_debug("intake: synced up to uid %" PRIu32, ev.uid);
			if (ev.uidvalidity == in->v && in->v != 0)
				reported(in, ev.uid);
			if (in->metrics != NULL)
				metrics_imap_synced(in->metrics, time(NULL));
			break;
		case IMAP_EV_FAILING: {
			char reason[IMAP_REASON_MAX + 1];

			memcpy(reason, ev.why, ev.why_len);
			reason[ev.why_len] = '\0';
			chanstate_note(&in->chan, in->st, 1, ev.refused, reason);
			break;
		}
		case IMAP_EV_WAIT:
			on_wait(in, &ev);
			break;
		case IMAP_EV_THROTTLED:
			in->throttled = ev.count;
			break;
		}
	}
}

int
intake_pollfd(const struct intake *in)
{
	return in != NULL && in->f != NULL ? imap_fetcher_fd(in->f) : -1;
}

/* ---- last_uid ------------------------------------------------------------ */

void
intake_advance(struct intake *in)
{
	uint32_t best = in->reported_hi;

	if (in->v == 0)
		return;
	/* (a requeued mail's UID was passed long ago) */
	for (struct msg *m = in->msgs; m != NULL; m = m->next)
		if (m->v == in->v && m->state != MSG_COMMITTED &&
		    !m->requeued && m->uid <= best)
			best = m->uid - 1;
	if (in->nwaiting > 0 && in->waiting[0] <= best)
		best = in->waiting[0] - 1;
	if (best > in->last_uid) {
		if (store_imap_set(in->st, in->mailbox, in->v, best) == -1) {
			log_err("intake: store: %s", store_errmsg(in->st));
			return;
		}
		in->last_uid = best;
	}
	/* Committed mails are finished with once their "done" went out (a
	 * report of one again finds it in mail_seen; a lost "done" comes
	 * back as "old" or as that report). */
	for (struct msg **pp = &in->msgs; *pp != NULL;) {
		struct msg *m = *pp;

		if (m->state == MSG_COMMITTED && !m->need_done) {
			*pp = m->next;
			intake_msg_free(m);
		} else
			pp = &m->next;
	}
}

void
intake_limits_get(const struct intake *in, struct intake_limits *out)
{
	memset(out, 0, sizeof(*out));
	if (in == NULL)
		return;
	for (const struct msg *m = in->msgs; m != NULL; m = m->next)
		if (!m->large && m->state != MSG_COMMITTED)
			out->inbox++;
	out->waiting_sender = in->nwait[IMAP_WAIT_SENDER];
	out->waiting_inbox = in->nwait[IMAP_WAIT_INBOX];
	out->waiting_disk = in->nwait[IMAP_WAIT_DISK];
	out->throttled = in->throttled;
}
