/*
 * imap: the fetcher's limits against floods (DESIGN.md, Hostile
 * senders) — at most [imap] inbox_max messages wait in inbox_dir
 * between fetch and commit, a From address takes at most sender_max
 * mails a sender_window, and nothing is fetched that would leave
 * state_dir with less than [daemon] min_free (an fstatvfs of the inbox
 * folder's descriptor: the confined fetcher sees nothing else of
 * state_dir).  A message a limit holds
 * back is left on the server and followed here (the pending list, in
 * UID order) until it may be taken; imap_fetch.c asks before it fetches
 * a body and tells the parent ("wait") so that last_uid never passes it.
 *
 * Hostile here: the From of the IMAP ENVELOPE (anyone can forge it:
 * it buys fairness between senders, never trust) and the number of
 * distinct ones a flood can invent.  This file keeps memory bounded —
 * senders are forgotten once their window is over and nothing of theirs
 * waits, at most IMAP_PENDING_MAX messages are followed — and logs a
 * limit when it starts holding mail back and when it stops, not per
 * message.  Addresses are logged escaped by the logger, never used as
 * names.
 */
#include <sys/statvfs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "mail/imap.h"
#include "mail/imap_int.h"

#define IMAP_SENDER_BUCKETS 4096
#define IMAP_SWEEP_MS       60000      /* forget idle senders this often */
#define IMAP_RECHECK_MS     5000       /* inbox and disk looked at again */

/* One From address's takes in its current window. */
struct imap_sender {
	struct imap_sender *next;  /* hash chain */
	char *addr;
	int64_t start_ms;          /* window start: its first take in it */
	uint64_t count;            /* takes since start_ms */
	size_t npending;           /* its messages waiting */
	int throttled;             /* in c->throttled, logged as such */
};

void
imap_sender_key(const char *mailbox, const char *host, char *out, size_t size)
{
	size_t n = 0;
	const char *parts[2] = { mailbox, host };

	if (size == 0)
		return;
	for (int k = 0; k < 2; k++) {
		if (k == 1 && n + 1 < size)
			out[n++] = '@';
		for (const char *p = parts[k]; *p != '\0' && n + 1 < size; p++)
			out[n++] = *p >= 'A' && *p <= 'Z' ?
			    (char)(*p - 'A' + 'a') : *p;
	}
	out[n] = '\0';
}

static uint32_t
imap_sender_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % IMAP_SENDER_BUCKETS;
}

static struct imap_sender *
imap_sender_get(struct imap_child *c, const char *addr, int create)
{
	uint32_t h = imap_sender_hash(addr);
	struct imap_sender *s;

	for (s = c->senders[h]; s != NULL; s = s->next)
		if (strcmp(s->addr, addr) == 0)
			return s;
	if (!create)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->addr = xstrdup(addr);
	s->next = c->senders[h];
	c->senders[h] = s;
	c->nsenders++;
	return s;
}

static int
imap_window_over(const struct imap_child *c, const struct imap_sender *s,
    int64_t now)
{
	return s->count == 0 || now - s->start_ms >= c->sender_window_ms;
}

/* Senders whose window is over and who have nothing waiting. */
static void
imap_senders_sweep(struct imap_child *c, int64_t now)
{
	c->senders_swept_ms = now;
	for (size_t h = 0; h < IMAP_SENDER_BUCKETS; h++) {
		struct imap_sender **pp = &c->senders[h];

		while (*pp != NULL) {
			struct imap_sender *s = *pp;

			if (s->npending == 0 && !s->throttled &&
			    imap_window_over(c, s, now)) {
				*pp = s->next;
				free(s->addr);
				free(s);
				c->nsenders--;
			} else
				pp = &s->next;
		}
	}
}

/* Count the V-U.eml files in inbox_dir: the messages waiting there. */
static void
imap_inbox_count(struct imap_child *c)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;
	int fd;

	c->inbox_stale = 0;
	if ((fd = openat(c->dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		log_warn("imap: counting the inbox: %s", strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		unsigned long v, u;
		char tail[8];

		if (sscanf(de->d_name, "%lu-%lu%7s", &v, &u, tail) == 3 &&
		    strcmp(tail, ".eml") == 0)
			n++;
	}
	closedir(d);
	c->inbox_count = n;
}

void
imap_limits_init(struct imap_child *c)
{
	if (c->inbox_max == 0)
		c->inbox_max = 1;
	if (c->sender_max == 0)
		c->sender_max = 1;
	if (c->sender_window_ms <= 0)
		c->sender_window_ms = 1000;
	c->senders = xcalloc(IMAP_SENDER_BUCKETS, sizeof(*c->senders));
	c->senders_swept_ms = imap_now_ms();
	imap_inbox_count(c);
}

void
imap_limits_reset(struct imap_child *c)
{
	for (size_t i = 0; i < c->npending; i++)
		imap_pending_done(c, i);
	imap_pending_compact(c);
}

void
imap_limits_free(struct imap_child *c)
{
	imap_limits_reset(c);
	for (size_t h = 0; c->senders != NULL && h < IMAP_SENDER_BUCKETS;
	    h++) {
		struct imap_sender *s, *next;

		for (s = c->senders[h]; s != NULL; s = next) {
			next = s->next;
			free(s->addr);
			free(s);
		}
	}
	free(c->senders);
	free(c->throttled);
	free(c->pending);
	c->senders = NULL;
	c->throttled = NULL;
	c->pending = NULL;
	c->nsenders = c->nthrottled = c->capthrottled = 0;
	c->cappending = 0;
}

/* Free bytes on inbox_dir's filesystem for an unprivileged writer. */
static uint64_t
imap_disk_free(const struct imap_child *c)
{
	struct statvfs sv;

	if (fstatvfs(c->dirfd, &sv) == -1)
		return UINT64_MAX; /* not known: the write will tell */
	return (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
}

/* The parent hears the number of senders over the limit as it changes. */
static void
imap_throttled_tell(struct imap_child *c)
{
	if (c->told_throttled != c->nthrottled) {
		c->told_throttled = (uint32_t)c->nthrottled;
		imap_child_sendf(c, "throttled %" PRIu32, c->told_throttled);
	}
}

static void
imap_throttle(struct imap_child *c, struct imap_sender *s, int64_t now)
{
	int64_t left = (s->start_ms + c->sender_window_ms - now) / 1000;

	s->throttled = 1;
	xgrow(&c->throttled, &c->capthrottled, c->nthrottled,
	    sizeof(*c->throttled));
	c->throttled[c->nthrottled++] = s;
	log_warn("imap: sender=%s over sender_max (%" PRIu64 " in %" PRId64
	    " s): its mail waits on the server for %" PRId64 " s", s->addr,
	    c->sender_max, c->sender_window_ms / 1000, left > 0 ? left : 0);
	imap_throttled_tell(c);
}

enum imap_wait_reason
imap_limits_check(struct imap_child *c, const char *sender, uint64_t size,
    int stored)
{
	struct imap_sender *s = imap_sender_get(c, sender, 0);
	int64_t now = imap_now_ms();
	uint64_t avail;

	if (s != NULL && !imap_window_over(c, s, now) &&
	    s->count >= c->sender_max) {
		if (!s->throttled)
			imap_throttle(c, s, now);
		return IMAP_WAIT_SENDER;
	}
	if (!stored)
		return IMAP_WAIT_NONE;
	if (c->inbox_count >= c->inbox_max && c->inbox_stale)
		imap_inbox_count(c);
	if (c->inbox_count >= c->inbox_max) {
		if (!c->inbox_full)
			log_warn("imap: %zu messages wait in the inbox "
			    "(inbox_max %" PRIu64 "): new mail waits on the "
			    "server", c->inbox_count, c->inbox_max);
		c->inbox_full = 1;
		return IMAP_WAIT_INBOX;
	}
	avail = imap_disk_free(c);
	if (avail < c->min_free || avail - c->min_free < size) {
		if (!c->disk_low)
			log_warn("imap: state_dir has %" PRIu64 " bytes free, "
			    "min_free is %" PRIu64 ": new mail waits on the "
			    "server", avail, c->min_free);
		c->disk_low = 1;
		return IMAP_WAIT_DISK;
	}
	return IMAP_WAIT_NONE;
}

void
imap_limits_settle(struct imap_child *c)
{
	int inbox = 0, disk = 0;

	for (size_t i = 0; i < c->npending; i++) {
		inbox |= c->pending[i].reason == IMAP_WAIT_INBOX;
		disk |= c->pending[i].reason == IMAP_WAIT_DISK;
	}
	if (c->inbox_full && !inbox)
		log_info("imap: no mail waits for room in the inbox any more "
		    "(inbox_max %" PRIu64 ")", c->inbox_max);
	if (c->disk_low && !disk)
		log_info("imap: no mail waits for free space any more: "
		    "state_dir has %" PRIu64 " bytes free", imap_disk_free(c));
	c->inbox_full &= inbox;
	c->disk_low &= disk;
}

void
imap_limits_took(struct imap_child *c, const char *sender, int stored)
{
	struct imap_sender *s = imap_sender_get(c, sender, 1);
	int64_t now = imap_now_ms();

	if (imap_window_over(c, s, now)) {
		s->start_ms = now;
		s->count = 0;
	}
	s->count++;
	if (stored)
		c->inbox_count++;
}

void
imap_limits_tick(struct imap_child *c)
{
	int64_t now = imap_now_ms();

	for (size_t i = 0; i < c->nthrottled;) {
		struct imap_sender *s = c->throttled[i];

		if (!imap_window_over(c, s, now)) {
			i++;
			continue;
		}
		s->throttled = 0;
		c->throttled[i] = c->throttled[--c->nthrottled];
		log_info("imap: sender=%s: its sender_window is over, %zu "
		    "waiting mails may be taken", s->addr, s->npending);
	}
	imap_throttled_tell(c);
	if (now - c->senders_swept_ms >= IMAP_SWEEP_MS)
		imap_senders_sweep(c, now);
}

int64_t
imap_limits_next_ms(const struct imap_child *c)
{
	int64_t next = -1, now = imap_now_ms();
	int recheck = 0;

	for (size_t i = 0; i < c->nthrottled; i++) {
		int64_t end = c->throttled[i]->start_ms + c->sender_window_ms;

		if (c->throttled[i]->npending > 0 && (next == -1 || end < next))
			next = end;
	}
	/* A commit's "done" wakes the child, but files can go without one
	 * (a sweep at a new session) and space without any word. */
	for (size_t i = 0; i < c->npending && !recheck; i++)
		recheck = c->pending[i].reason == IMAP_WAIT_INBOX ||
		    c->pending[i].reason == IMAP_WAIT_DISK;
	if (recheck && (next == -1 || now + IMAP_RECHECK_MS < next))
		next = now + IMAP_RECHECK_MS;
	return next;
}

static void
imap_pending_tell(struct imap_child *c, const struct imap_pending *p)
{
	imap_child_sendf(c, "wait %" PRIu32 " %" PRIu32 " %s", c->uidvalidity,
	    p->uid, imap_wait_name(p->reason));
}

int
imap_pending_add(struct imap_child *c, const struct imap_env *env,
    enum imap_wait_reason reason)
{
	struct imap_pending *p;

	if (c->npending >= IMAP_PENDING_MAX)
		return -1;
	xgrow(&c->pending, &c->cappending, c->npending, sizeof(*c->pending));
	p = &c->pending[c->npending++];
	p->uid = env->uid;
	p->size = env->size;
	p->reason = reason;
	p->sender = imap_sender_get(c, env->sender, 1);
	p->sender->npending++;
	imap_pending_tell(c, p);
	return 0;
}

void
imap_pending_update(struct imap_child *c, size_t i,
    enum imap_wait_reason reason)
{
	if (c->pending[i].reason == reason)
		return;
	c->pending[i].reason = reason;
	imap_pending_tell(c, &c->pending[i]);
}

enum imap_wait_reason
imap_pending_room(const struct imap_child *c)
{
	for (size_t i = 0; i < c->npending; i++)
		if (c->pending[i].sender != NULL &&
		    (c->pending[i].reason == IMAP_WAIT_INBOX ||
		    c->pending[i].reason == IMAP_WAIT_DISK))
			return c->pending[i].reason;
	return IMAP_WAIT_NONE;
}

const char *
imap_pending_sender(const struct imap_pending *p)
{
	return p->sender->addr;
}

void
imap_pending_done(struct imap_child *c, size_t i)
{
	struct imap_pending *p = &c->pending[i];

	if (p->sender == NULL)
		return;
	p->sender->npending--;
	p->sender = NULL;
}

void
imap_pending_compact(struct imap_child *c)
{
	size_t k = 0;

	for (size_t i = 0; i < c->npending; i++)
		if (c->pending[i].sender != NULL)
			c->pending[k++] = c->pending[i];
	c->npending = k;
}
