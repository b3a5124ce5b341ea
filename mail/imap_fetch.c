/*
 * imap: the fetcher's loop (in the program beiand-imap) — its sessions
 * with jittered backoff, the frames it exchanges with the parent, and
 * what it does with each message: report it, store it as
 * inbox_dir/"V-U.eml", report it too large, leave it on the server while
 * a limit holds it back (imap_limits.c, judged on the ENVELOPE before any
 * body is fetched), move it to done_folder once the parent says "done",
 * wait with IDLE.  Run by the fetcher program once it is confined
 * (imap_sandbox.c, started by imap_fetcher_start() in imap.c); the IMAP
 * session itself is imap_session.c.
 *
 * Hostile here: what the IMAP server sends (sizes, UIDs, header and
 * message bytes) and the parent's frames.  This file never logs a
 * password or a mail body, never fetches a message over [limits]
 * mail_max_bytes into memory on purpose (a server that lies about
 * RFC822.SIZE is caught after the fetch), never writes outside inbox_dir
 * or under a name it did not build from two numbers, and uses UID
 * commands only.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "common/config.h"
#include "common/tls_policy.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "mail/imap.h"
#include "mail/imap_int.h"

#define IMAP_IDLE_RENEW    (20 * 60)   /* below the 29 min of RFC 2177 */
#define IMAP_RESUME_WAIT   300         /* seconds for the parent's answer */
#define IMAP_BACKOFF_MAX   300
#define IMAP_GOOD_SESSION  30          /* seconds: then backoff restarts */
#define IMAP_DONE_MAX      65536       /* queued "done" (a lost one is asked again) */
#define IMAP_ENV_CHUNK     64          /* ENVELOPEs fetched in one command */

/* ---- the child --------------------------------------------------------- */

static uint64_t
imap_child_rand(struct imap_child *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

int64_t
imap_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
imap_child_send(struct imap_child *c, const char *buf, size_t len)
{
	if (c->stopping)
		return;
	while (send(c->sock, buf, len, MSG_NOSIGNAL) == -1) {
		if (errno == EINTR)
			continue;
		c->stopping = 1; /* the parent is gone */
		return;
	}
}

void
imap_child_sendf(struct imap_child *c, const char *fmt, ...)
{
	char buf[IMAP_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		abort(); /* our own numbers always fit */
	imap_child_send(c, buf, (size_t)n);
}

/* One frame from the parent, decoded as untrusted. */
static void
imap_child_frame(struct imap_child *c, const char *buf, size_t len)
{
	char line[IMAP_LINE_MAX], *t[3];
	const char *rest;
	uint32_t a, b;
	int n;

	n = imap_frame_split(buf, len, line, t, 3, &rest);
	if (n == 1 && strcmp(t[0], "stop") == 0 && rest == buf + len) {
		c->stopping = 1;
		return;
	}
	if (n != 3 || rest != buf + len ||
	    imap_u32_parse(t[1], 0, &a) == -1 ||
	    imap_u32_parse(t[2], 1, &b) == -1)
		goto bad;
	if (strcmp(t[0], "resume") == 0) {
		if (a == c->uidvalidity && !c->resumed) {
			c->resumed = 1;
			c->resume_last = b;
		}
		return;
	}
	if (strcmp(t[0], "done") == 0 && b != 0) {
		if (c->ndone >= IMAP_DONE_MAX) {
			log_warn("imap: too many moves queued, uid=%" PRIu32
			    " waits for the next session", b);
			return;
		}
		xgrow(&c->done, &c->capdone, c->ndone, sizeof(*c->done));
		c->done[c->ndone].uidvalidity = a;
		c->done[c->ndone].uid = b;
		c->ndone++;
		/* a commit: the parent removed its file from the inbox */
		c->inbox_stale = 1;
		return;
	}
bad:
	log_warn("imap: ignored a frame from the parent that does not decode");
}

/*
 * Read the parent's frames, waiting up to timeout_ms (-1: until one
 * comes) for the first.
 */
static void
imap_child_frames(struct imap_child *c, int timeout_ms)
{
	char buf[IMAP_FRAME_MAX + 1];
	struct pollfd pfd = { c->sock, POLLIN, 0 };
	ssize_t n;

	if (c->stopping)
		return;
	if (timeout_ms != 0 && poll(&pfd, 1, timeout_ms) <= 0)
		return;
	for (;;) {
		n = recv(c->sock, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			c->stopping = 1;
			return;
		}
		if ((size_t)n > IMAP_FRAME_MAX) {
			log_warn("imap: ignored an oversized frame from the parent");
			continue;
		}
		imap_child_frame(c, buf, (size_t)n);
		if (c->stopping)
			return;
	}
}

/* Sleep ms, serving the parent's frames; returns early on "stop". */
static void
imap_child_sleep(struct imap_child *c, int64_t ms)
{
	int64_t end = imap_now_ms() + ms, left;

	while (!c->stopping && (left = end - imap_now_ms()) > 0)
		imap_child_frames(c, left > INT_MAX ? INT_MAX : (int)left);
}

/* Report a message over mail_max_bytes with its identifying header fields. */
static int
imap_child_large(struct imap_child *c, uint32_t uid, uint64_t size)
{
	static const char *const fields[] = { "FROM", "RETURN-PATH",
		"MESSAGE-ID", "SUBJECT", "AUTO-SUBMITTED", "PRECEDENCE",
		"LIST-ID" };
	struct mailimap_fetch_type *ft;
	clist *hl, *res = NULL;
	char *frame;
	const char *h = "";
	size_t hlen = 0, n;
	int r, found, len;

	if ((hl = clist_new()) == NULL)
		abort();
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (clist_append(hl, xstrdup(fields[i])) != 0)
			abort();
	ft = imap_fetch_type(mailimap_fetch_att_new_body_peek_section(
	    mailimap_section_new_header_fields(mailimap_header_list_new(hl))));
	r = imap_child_fetch(c, uid, ft, &res, &found, NULL, &h, &hlen);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR) {
		if (res != NULL)
			mailimap_fetch_list_free(res);
		log_warn("imap: uid=%" PRIu32 " header fetch: %s", uid,
		    imap_strerror(r));
		return r;
	}
	if (!found)
		h = "", hlen = 0;
	if (hlen > IMAP_HEADER_MAX) {
		/* Whole lines only: cut after the last one that fits. */
		const char *nl = NULL;

		for (size_t i = 0; i < IMAP_HEADER_MAX; i++)
			if (h[i] == '\n')
				nl = h + i;
		hlen = nl != NULL ? (size_t)(nl - h) + 1 : 0;
	}
	frame = xmalloc(IMAP_LINE_MAX + hlen);
	len = snprintf(frame, IMAP_LINE_MAX, "large %" PRIu32 " %" PRIu32
	    " %" PRIu64 "\n", c->uidvalidity, uid, size);
	if (len < 0 || len >= IMAP_LINE_MAX)
		abort();
	n = (size_t)len;
	memcpy(frame + n, h, hlen);
	imap_child_send(c, frame, n + hlen);
	free(frame);
	if (res != NULL)
		mailimap_fetch_list_free(res);
	log_info("imap: uid=%" PRIu32 " size=%" PRIu64 " over mail_max_bytes "
	    "(%" PRIu64 "): left in %s", uid, size, c->max_bytes,
	    c->url.mailbox);
	return MAILIMAP_NO_ERROR;
}

/* Write data as inbox_dir/name: temp name O_EXCL, fsync, rename, fsync dir. */
static int
imap_child_store(struct imap_child *c, const char *name, const char *data,
    size_t len)
{
	char tmp[64];
	size_t off = 0;
	int fd;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	/* A leftover of a child killed while writing. */
	if (unlinkat(c->dirfd, tmp, 0) == -1 && errno != ENOENT)
		goto fail;
	fd = openat(c->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		goto fail;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			goto fail_unlink;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1) {
		close(fd);
		goto fail_unlink;
	}
	if (close(fd) == -1)
		goto fail_unlink;
	if (renameat(c->dirfd, tmp, c->dirfd, name) == -1)
		goto fail_unlink;
	if (fsync(c->dirfd) == -1)
		goto fail;
	return 0;
fail_unlink:
	{
		int e = errno;

		(void)unlinkat(c->dirfd, tmp, 0);
		errno = e;
	}
fail:
	log_err("imap: storing %s: %s", name, strerror(errno));
	return -1;
}

/*
 * A message stored before (by a child killed before the parent heard of
 * it) is reported again, never fetched again, whatever the limits say:
 * its bytes are on disk already.  1 reported, 0 not stored, -1 error.
 */
static int
imap_child_stored(struct imap_child *c, uint32_t uid)
{
	struct stat st;
	char name[32];

	snprintf(name, sizeof(name), "%" PRIu32 "-%" PRIu32 ".eml",
	    c->uidvalidity, uid);
	if (fstatat(c->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (!S_ISREG(st.st_mode)) {
		log_err("imap: %s exists and is not a regular file", name);
		return -1;
	}
	log_info("imap: uid=%" PRIu32 " size=%lld already stored as %s",
	    uid, (long long)st.st_size, name);
	imap_child_sendf(c, "new %" PRIu32 " %" PRIu32 " %s", c->uidvalidity,
	    uid, name);
	return 1;
}

/*
 * Take one message the limits let through (RFC822.SIZE and From from the
 * ENVELOPE pre-fetch): report it as too large, or fetch, store and
 * report it.  Returns a MAILIMAP code; a local write error is
 * MAILIMAP_ERROR_FATAL (retried later).  *gone: it left the mailbox
 * before its body came.
 */
static int
imap_child_take(struct imap_child *c, uint32_t uid, uint64_t size,
    const char *sender, int *gone)
{
	struct mailimap_fetch_type *ft;
	clist *res = NULL;
	char name[32];
	const char *body;
	size_t blen;
	int r, found;

	*gone = 0;
	if (size > c->max_bytes) {
		imap_limits_took(c, sender, 0);
		return imap_child_large(c, uid, size);
	}
	snprintf(name, sizeof(name), "%" PRIu32 "-%" PRIu32 ".eml",
	    c->uidvalidity, uid);
	ft = imap_fetch_type(mailimap_fetch_att_new_body_peek_section(
	    mailimap_section_new(NULL)));
	r = imap_child_fetch(c, uid, ft, &res, &found, NULL, &body, &blen);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR) {
		log_warn("imap: uid=%" PRIu32 " fetch: %s", uid,
		    imap_strerror(r));
		goto out;
	}
	if (!found) {
		log_info("imap: uid=%" PRIu32 " gone before it was fetched", uid);
		*gone = 1;
		goto out;
	}
	if (blen > c->max_bytes) {
		/* The server understated RFC822.SIZE. */
		mailimap_fetch_list_free(res);
		res = NULL;
		imap_limits_took(c, sender, 0);
		r = imap_child_large(c, uid, blen);
		goto out;
	}
	if (imap_child_store(c, name, body, blen) == -1) {
		r = MAILIMAP_ERROR_FATAL;
		goto out;
	}
	imap_limits_took(c, sender, 1);
	log_info("imap: uid=%" PRIu32 " size=%zu stored as %s", uid, blen, name);
	imap_child_sendf(c, "new %" PRIu32 " %" PRIu32 " %s", c->uidvalidity,
	    uid, name);
out:
	if (res != NULL)
		mailimap_fetch_list_free(res);
	return r;
}

/* Move uid to done_folder.  A refusal is logged: "old" asks again later. */
static int
imap_child_move(struct imap_child *c, uint32_t uid)
{
	struct mailimap_set *set;
	struct mailimap_flag_list *fl;
	struct mailimap_store_att_flags *sa;
	int r;

	if ((set = mailimap_set_new_single(uid)) == NULL)
		return MAILIMAP_ERROR_MEMORY;
	if (c->has_move)
		r = mailimap_uid_move(c->imap, set, c->done_folder);
	else {
		r = mailimap_uid_copy(c->imap, set, c->done_folder);
		if (r == MAILIMAP_NO_ERROR) {
			if ((fl = mailimap_flag_list_new_empty()) == NULL ||
			    mailimap_flag_list_add(fl,
			    mailimap_flag_new_deleted()) != MAILIMAP_NO_ERROR ||
			    (sa = mailimap_store_att_flags_new_add_flags_silent(
			    fl)) == NULL)
				abort();
			r = mailimap_uid_store(c->imap, set, sa);
			mailimap_store_att_flags_free(sa);
		}
		if (r == MAILIMAP_NO_ERROR) {
			/* Without UIDPLUS, EXPUNGE also takes what others
			 * marked \Deleted: only an intake mailbox is used. */
			r = c->has_uidplus ? mailimap_uid_expunge(c->imap, set) :
			    mailimap_expunge(c->imap);
		}
	}
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		log_warn("imap: uid=%" PRIu32 " move to %s: %s", uid,
		    c->done_folder, imap_strerror(r));
		return imap_conn_lost(r) ? r : MAILIMAP_NO_ERROR;
	}
	log_info("imap: uid=%" PRIu32 " moved to %s", uid, c->done_folder);
	imap_child_sendf(c, "moved %" PRIu32 " %" PRIu32, c->uidvalidity, uid);
	return MAILIMAP_NO_ERROR;
}

/* Act on the queued "done" frames of this UIDVALIDITY. */
static int
imap_child_moves(struct imap_child *c)
{
	int r;

	while (c->ndone > 0 && !c->stopping) {
		struct imap_done d = c->done[0];

		memmove(c->done, c->done + 1, (c->ndone - 1) * sizeof(*c->done));
		c->ndone--;
		if (d.uidvalidity != c->uidvalidity) {
			log_info("imap: done for uid=%" PRIu32 " of uidvalidity "
			    "%" PRIu32 " ignored (now %" PRIu32 ")", d.uid,
			    d.uidvalidity, c->uidvalidity);
			continue;
		}
		if ((r = imap_child_move(c, d.uid)) != MAILIMAP_NO_ERROR)
			return r;
	}
	return MAILIMAP_NO_ERROR;
}

/*
 * A message the scan reaches: reported again if stored, taken if the
 * limits let it through, else followed as waiting.  *full: no more can
 * be followed (the scan stops before it).
 */
static int
imap_child_offer(struct imap_child *c, const struct imap_env *e, int *full)
{
	enum imap_wait_reason why;
	int gone, stored;

	*full = 0;
	switch (imap_child_stored(c, e->uid)) {
	case 1:
		return MAILIMAP_NO_ERROR;
	case -1:
		return MAILIMAP_ERROR_FATAL;
	}
	if (!e->found) {
		log_info("imap: uid=%" PRIu32 " gone before it was fetched",
		    e->uid);
		return MAILIMAP_NO_ERROR;
	}
	stored = e->size <= c->max_bytes;
	why = imap_limits_check(c, e->sender, e->size, stored);
	if (why == IMAP_WAIT_NONE && stored)
		why = imap_pending_room(c); /* older ones first */
	if (why != IMAP_WAIT_NONE) {
		if (imap_pending_add(c, e, why) == -1)
			*full = 1;
		return MAILIMAP_NO_ERROR;
	}
	return imap_child_take(c, e->uid, e->size, e->sender, &gone);
}

/* The waiting messages the limits now let through, oldest first. */
static int
imap_child_retry(struct imap_child *c)
{
	enum imap_wait_reason why, room = IMAP_WAIT_NONE;
	int r = MAILIMAP_NO_ERROR, gone, stored;

	for (size_t i = 0; i < c->npending && !c->stopping; i++) {
		struct imap_pending *p = &c->pending[i];
		const char *sender = imap_pending_sender(p);

		stored = p->size <= c->max_bytes;
		why = imap_limits_check(c, sender, p->size, stored);
		/* none is stored past an older one that waits for room */
		if (why == IMAP_WAIT_NONE && stored)
			why = room;
		if (why != IMAP_WAIT_NONE) {
			if (room == IMAP_WAIT_NONE && (why == IMAP_WAIT_INBOX ||
			    why == IMAP_WAIT_DISK))
				room = why;
			imap_pending_update(c, i, why);
			continue;
		}
		r = imap_child_take(c, p->uid, p->size, sender, &gone);
		if (r != MAILIMAP_NO_ERROR)
			break;
		if (gone)
			imap_child_sendf(c, "moved %" PRIu32 " %" PRIu32,
			    c->uidvalidity, p->uid);
		imap_pending_done(c, i);
		imap_child_frames(c, 0);
		if ((r = imap_child_moves(c)) != MAILIMAP_NO_ERROR)
			break;
	}
	imap_pending_compact(c);
	return r;
}

/*
 * Report every UID above the cursor, in UID order: each one taken,
 * reported as stored before, or followed as waiting.  The ENVELOPEs come
 * IMAP_ENV_CHUNK at a time, before any body.
 */
static int
imap_child_scan(struct imap_child *c)
{
	struct imap_env env[IMAP_ENV_CHUNK];
	uint32_t *uids = NULL;
	size_t n = 0, i = 0;
	int r, full = 0;

	if (c->cursor == UINT32_MAX)
		return MAILIMAP_NO_ERROR;
	r = imap_child_search(c, c->cursor + 1, 0, &uids, &n);
	if (r != MAILIMAP_NO_ERROR) {
		log_warn("imap: UID SEARCH: %s", imap_strerror(r));
		return r;
	}
	while (i < n && !c->stopping && !full && r == MAILIMAP_NO_ERROR) {
		size_t k = n - i < IMAP_ENV_CHUNK ? n - i : IMAP_ENV_CHUNK;

		r = imap_child_envelopes(c, uids + i, k, env);
		if (r != MAILIMAP_NO_ERROR) {
			log_warn("imap: UID FETCH ENVELOPE: %s",
			    imap_strerror(r));
			break;
		}
		for (size_t j = 0; j < k && !c->stopping; j++) {
			if ((r = imap_child_offer(c, &env[j], &full)) !=
			    MAILIMAP_NO_ERROR || full)
				break;
			c->cursor = env[j].uid;
			/* Moves are cheap and free the parent's memory: do
			 * them between messages. */
			imap_child_frames(c, 0);
			if ((r = imap_child_moves(c)) != MAILIMAP_NO_ERROR)
				break;
		}
		i += k;
	}
	free(uids);
	if (full)
		log_warn("imap: %zu messages wait on the server; the ones "
		    "after uid=%" PRIu32 " are looked at once some are taken",
		    c->npending, c->cursor);
	else if (r == MAILIMAP_NO_ERROR && !c->stopping)
		imap_child_sendf(c, "synced %" PRIu32 " %" PRIu32,
		    c->uidvalidity, c->cursor);
	return r;
}

/*
 * Wait for news: IDLE (renewed) when offered, else a plain wait, both
 * cut short by the parent's frames and ended by poll_interval.
 */
static int
imap_child_wait(struct imap_child *c)
{
	int64_t now = imap_now_ms(), end, next;
	uint64_t pi = c->poll_interval;
	int r;

	if (pi > IMAP_IDLE_RENEW)
		pi = IMAP_IDLE_RENEW;
	end = now + (int64_t)pi * 1000;
	/* a sender's window ends, or the inbox and the disk are looked at */
	if ((next = imap_limits_next_ms(c)) != -1 && next < end)
		end = next;
	if (end <= now)
		return MAILIMAP_NO_ERROR;
	if (!c->has_idle) {
		while (!c->stopping && c->ndone == 0 &&
		    (now = imap_now_ms()) < end)
			imap_child_frames(c, (int)(end - now));
		if (c->stopping || c->ndone > 0)
			return MAILIMAP_NO_ERROR;
		/* Some servers report new mail only on a command. */
		r = mailimap_noop(c->imap);
		return imap_conn_lost(r) ? r : MAILIMAP_NO_ERROR;
	}
	if ((r = mailimap_idle(c->imap)) != MAILIMAP_NO_ERROR) {
		log_warn("imap: IDLE: %s", imap_strerror(r));
		return r;
	}
	/* Data libetpan already read into its buffer would never wake poll. */
	while (c->imap->imap_stream->read_buffer_len == 0 &&
	    !imap_tls_pending(c) && !c->stopping &&
	    c->ndone == 0 && (now = imap_now_ms()) < end) {
		struct pollfd pfd[2] = {
			{ c->sock, POLLIN, 0 },
			{ mailimap_idle_get_fd(c->imap), POLLIN, 0 },
		};

		if (poll(pfd, 2, (int)(end - now)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents != 0)
			imap_child_frames(c, 0);
		if (pfd[1].revents != 0)
			break;
	}
	if ((r = mailimap_idle_done(c->imap)) != MAILIMAP_NO_ERROR) {
		log_warn("imap: IDLE DONE: %s", imap_strerror(r));
		return imap_conn_lost(r) ? r : MAILIMAP_NO_ERROR;
	}
	return MAILIMAP_NO_ERROR;
}

/*
 * Tell the parent why the channel fails, when the reason is new: printable
 * ASCII (the server's text may be anything), at most IMAP_REASON_MAX.
 */
static void
imap_child_failing(struct imap_child *c, const char *reason)
{
	char frame[IMAP_REASON_MAX + 16], clean[IMAP_REASON_MAX + 1];
	size_t i;
	int n;

	for (i = 0; reason[i] != '\0' && i < IMAP_REASON_MAX; i++)
		clean[i] = (unsigned char)reason[i] < 0x20 ||
		    (unsigned char)reason[i] > 0x7e ? '?' : reason[i];
	clean[i] = '\0';
	if (i == 0 || strcmp(clean, c->failing) == 0)
		return;
	memcpy(c->failing, clean, i + 1);
	n = snprintf(frame, sizeof(frame), "failing %d\n%s", c->refused,
	    clean);
	if (n > 0 && (size_t)n < sizeof(frame))
		imap_child_send(c, frame, (size_t)n);
}

/*
 * Connect, telling the parent how it went: a failure as "failing" (a
 * transient one also logged here at each attempt; a refused certificate,
 * login or TLS the parent logs once, when the channel's state changes),
 * a success by the "uidvalidity" that follows.  A login refused with a
 * password_file's password ends the fetcher (c->stopping): the parent
 * reads the file again for the next one, so a fixed file is taken up
 * without a restart of beiand.  0 or -1.
 */
static int
imap_child_try(struct imap_child *c)
{
	if (c->password == NULL) {
		c->refused = 1;
		imap_child_failing(c, "[imap] has no password");
		return -1;
	}
	if (imap_child_connect(c, 0) == -1) {
		if (!c->refused)
			log_warn("imap: %s", c->seen.reason);
		imap_child_failing(c, c->seen.reason);
		if (c->password_from_file && c->refused &&
		    strncmp(c->seen.login, "refused", 7) == 0) {
			log_info("imap: login refused: the fetcher ends, its "
			    "successor gets [imap] password_file read again");
			c->stopping = 1;
		}
		return -1;
	}
	c->failing[0] = '\0';
	return 0;
}

/* One connection, from connect to drop or stop.  Its length in seconds. */
static int64_t
imap_child_session(struct imap_child *c)
{
	int64_t start = imap_now_ms(), end;
	uint32_t *uids = NULL;
	size_t n = 0;
	int r;

	if (imap_child_try(c) == -1)
		goto out;
	c->resumed = 0;
	imap_child_sendf(c, "uidvalidity %" PRIu32 " %" PRIu32,
	    c->prev_uidvalidity, c->uidvalidity);
	if (c->prev_uidvalidity != 0 && c->prev_uidvalidity != c->uidvalidity)
		log_warn("imap: UIDVALIDITY of %s changed from %" PRIu32
		    " to %" PRIu32, c->url.mailbox, c->prev_uidvalidity,
		    c->uidvalidity);
	end = imap_now_ms() + IMAP_RESUME_WAIT * 1000;
	while (!c->resumed && !c->stopping && imap_now_ms() < end)
		imap_child_frames(c, (int)(end - imap_now_ms()));
	if (!c->resumed) {
		if (!c->stopping)
			log_warn("imap: no answer from the parent to uidvalidity");
		goto out;
	}
	/* Within one child, what it reported stays with the parent; what
	 * waits under another UIDVALIDITY comes again under new UIDs. */
	if (c->uidvalidity != c->prev_uidvalidity)
		imap_limits_reset(c);
	if (c->uidvalidity != c->prev_uidvalidity || c->cursor < c->resume_last)
		c->cursor = c->resume_last;
	c->inbox_stale = 1; /* the parent sweeps the inbox at a resume */
	c->prev_uidvalidity = c->uidvalidity;
	log_info("imap: connected to %s, mailbox=%s uidvalidity=%" PRIu32
	    " last_uid=%" PRIu32 " idle=%s move=%s", c->url.host,
	    c->url.mailbox, c->uidvalidity, c->resume_last,
	    c->has_idle ? "yes" : "no", c->has_move ? "yes" : "no");

	/* Committed ones a crash kept from moving: the parent says "done". */
	if (c->resume_last > 0) {
		r = imap_child_search(c, 1, c->resume_last, &uids, &n);
		if (r != MAILIMAP_NO_ERROR) {
			log_warn("imap: UID SEARCH: %s", imap_strerror(r));
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			imap_child_sendf(c, "old %" PRIu32 " %" PRIu32,
			    c->uidvalidity, uids[i]);
		free(uids);
	}
	while (!c->stopping) {
		if ((r = imap_child_moves(c)) != MAILIMAP_NO_ERROR)
			break;
		/* the oldest first: what waits goes before what is new */
		imap_limits_tick(c);
		if ((r = imap_child_retry(c)) != MAILIMAP_NO_ERROR)
			break;
		if ((r = imap_child_scan(c)) != MAILIMAP_NO_ERROR)
			break;
		imap_limits_settle(c);
		if (c->stopping)
			break;
		if ((r = imap_child_wait(c)) != MAILIMAP_NO_ERROR)
			break;
	}
out:
	imap_child_disconnect(c, c->stopping);
	return (imap_now_ms() - start) / 1000;
}

void
imap_child_main(struct imap_settings *s, int dirfd, int sock)
{
	const struct config *cf = s->cf;
	struct imap_child c;
	struct tls_url tu;
	char err[256];
	int64_t backoff = 0, lived, delay;
	struct timespec ts;

	memset(&c, 0, sizeof(c));
	c.sock = sock;
	c.dirfd = dirfd;
	if (imap_url_parse(cf->imap_url, &c.url, err, sizeof(err)) == -1) {
		log_err("%s", err);
		_exit(1);
	}
	c.done_folder = xstrdup(*cf->imap_done_folder != '\0' ?
	    cf->imap_done_folder : "Processed");
	/*
	 * The level as the parent's tls_policy_config() resolved it before
	 * the start (the url comes without its password, which is a setting
	 * of its own: IMAP always sends credentials).
	 */
	if (tls_url_split(cf->imap_url, &tu) == -1 ||
	    tls_policy_resolve(&c.tls, TLS_CHANNEL_IMAP, cf->imap_tls, tu.host,
	    tu.implicit, 1, cf->imap_tls_pin, cf->imap_ca_file, err,
	    sizeof(err)) == -1) {
		log_err("imap: %s", err);
		_exit(1);
	}
	c.password = s->password;
	s->password = NULL; /* moved: wiped by imap_child_password_wipe */
	c.password_from_file = s->password_from_file;
	c.poll_interval = cf->imap_poll_interval > 0 ? cf->imap_poll_interval : 1;
	c.max_bytes = cf->limits.mail_max_bytes;
	c.inbox_max = cf->imap_inbox_max;
	c.sender_max = cf->imap_sender_max;
	c.sender_window_ms = (int64_t)cf->imap_sender_window * 1000;
	c.min_free = cf->min_free;
	imap_limits_init(&c);
	clock_gettime(CLOCK_REALTIME, &ts);
	c.rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
	    ((uint64_t)getpid() << 40) ^ 0x9e3779b97f4a7c15ULL;
	mailstream_network_delay.tv_sec = IMAP_NET_TIMEOUT;
	mailstream_network_delay.tv_usec = 0;

	while (!c.stopping) {
		lived = imap_child_session(&c);
		if (c.stopping)
			break;
		if (lived >= IMAP_GOOD_SESSION || backoff == 0)
			backoff = 1;
		else if ((backoff *= 2) > IMAP_BACKOFF_MAX)
			backoff = IMAP_BACKOFF_MAX;
		/* Jitter: between half and all of the backoff. */
		delay = backoff * 500 +
		    (int64_t)(imap_child_rand(&c) % (uint64_t)(backoff * 500 + 1));
		log_info("imap: reconnecting to %s in %lld ms", c.url.host,
		    (long long)delay);
		imap_child_sleep(&c, delay);
	}
	imap_child_password_wipe(&c);
	log_info("imap: fetcher stopped");
	_exit(0);
}
