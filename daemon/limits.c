/*
 * limits: see include/daemon/limits.h.
 *
 * A full state_dir takes the database with it: the outbox, the IMAP
 * position, every commit.  So intake stops before: below min_free the
 * spool claims nothing more (an upload waits in incoming/, where its
 * provider put it) and the fetcher leaves new mail on the server.  What
 * is already claimed or fetched goes on: it is bounded (CLAIM_AHEAD,
 * inbox_max), and holding it would free nothing.
 */
#include <sys/statvfs.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "daemon/intake.h"
#include "daemon/limits.h"
#include "daemon/metrics.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/status.h"
#include "store/store.h"

#define LIMITS_LOOK_MS 1000

enum { LIM_MIN_FREE, LIM_INBOX_MAX, LIM_SENDER_MAX, LIM_N };

static const char *const lim_names[LIM_N] = {
	"min_free", "inbox_max", "sender_max"
};

struct limits {
	const struct config *cf;
	struct store *st;
	int64_t looked_ms;
	int paused;
	uint64_t free_bytes;
	struct intake_limits il;
	char *shown[LIM_N];   /* the row's text as written; NULL: no row */
};

struct limits *
limits_new(const struct config *cf, struct store *st)
{
	struct limits *l = xcalloc(1, sizeof(*l));

	l->cf = cf;
	l->st = st;
	l->looked_ms = -LIMITS_LOOK_MS;
	if (store_limit_clear(st, NULL) == -1)
		log_err("limits: store: %s", store_errmsg(st));
	return l;
}

void
limits_free(struct limits *l)
{
	if (l == NULL)
		return;
	if (store_limit_clear(l->st, NULL) == -1)
		log_err("limits: store: %s", store_errmsg(l->st));
	for (int i = 0; i < LIM_N; i++)
		free(l->shown[i]);
	free(l);
}

/* "7.9 MiB": sizes as an operator reads them. */
static void
bytes_fmt(uint64_t n, char *buf, size_t size)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64 " B", n);
	else
		snprintf(buf, size, "%.1f %s", v, unit[u]);
}

/* Write row i when its text changed; detail NULL clears it. */
static void
row_show(struct limits *l, int i, const char *detail)
{
	if (detail == NULL && l->shown[i] == NULL)
		return;
	if (detail != NULL && l->shown[i] != NULL &&
	    strcmp(detail, l->shown[i]) == 0)
		return;
	if ((detail != NULL ? store_limit_set(l->st, lim_names[i], detail,
	    time(NULL)) : store_limit_clear(l->st, lim_names[i])) == -1) {
		log_err("limits: store: %s", store_errmsg(l->st));
		return; /* tried again with the next publication */
	}
	free(l->shown[i]);
	l->shown[i] = detail != NULL ? xstrdup(detail) : NULL;
}

int
limits_paused(struct limits *l, int64_t now_ms)
{
	struct statvfs sv;
	char f[32], m[32];
	int paused;

	if (now_ms - l->looked_ms < LIMITS_LOOK_MS)
		return l->paused;
	l->looked_ms = now_ms;
	if (statvfs(l->cf->state_dir, &sv) == -1)
		return l->paused; /* not known: a write will tell */
	l->free_bytes = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	/* Resumed a sixteenth above the mark: a disk that hovers at it
	 * (another program writing) does not make intake flap. */
	paused = l->free_bytes < l->cf->min_free + (l->paused ?
	    l->cf->min_free / 16 : 0);
	if (paused == l->paused)
		return paused;
	l->paused = paused;
	bytes_fmt(l->free_bytes, f, sizeof(f));
	bytes_fmt(l->cf->min_free, m, sizeof(m));
	if (paused)
		log_warn("intake: paused: state_dir %s has %s free, below "
		    "min_free (%s); uploads wait in incoming/, mail on the "
		    "server", l->cf->state_dir, f, m);
	else
		log_info("intake: resumed: state_dir %s has %s free (min_free "
		    "%s)", l->cf->state_dir, f, m);
	limits_publish(l, NULL, NULL);
	return paused;
}

void
limits_publish(struct limits *l, const struct intake_limits *il,
    struct metrics *m)
{
	char buf[320], f[32], mf[32];

	if (il != NULL)
		l->il = *il;
	bytes_fmt(l->free_bytes, f, sizeof(f));
	bytes_fmt(l->cf->min_free, mf, sizeof(mf));
	if (l->paused && l->il.waiting_disk > 0)
		snprintf(buf, sizeof(buf), "intake paused: state_dir has %s "
		    "free, below min_free (%s); uploads wait in incoming/, "
		    "%zu mails on the server", f, mf, l->il.waiting_disk);
	else if (l->paused)
		snprintf(buf, sizeof(buf), "intake paused: state_dir has %s "
		    "free, below min_free (%s); uploads wait in incoming/, "
		    "mail on the server", f, mf);
	else if (l->il.waiting_disk > 0)
		snprintf(buf, sizeof(buf), "%zu mails wait on the server: "
		    "fetching them would leave state_dir less than min_free "
		    "(%s; %s free)", l->il.waiting_disk, mf, f);
	row_show(l, LIM_MIN_FREE, l->paused || l->il.waiting_disk > 0 ?
	    buf : NULL);
	snprintf(buf, sizeof(buf), "%zu mails fetched, not yet committed "
	    "(inbox_max %" PRIu64 "); %zu more wait on the server",
	    l->il.inbox, l->cf->imap_inbox_max, l->il.waiting_inbox);
	row_show(l, LIM_INBOX_MAX, l->il.waiting_inbox > 0 ? buf : NULL);
	snprintf(buf, sizeof(buf), "%" PRIu32 " From addresses over "
	    "sender_max (%" PRIu64 " a sender_window of %" PRIu64 " s); "
	    "%zu of their mails wait on the server", l->il.throttled,
	    l->cf->imap_sender_max, l->cf->imap_sender_window,
	    l->il.waiting_sender);
	row_show(l, LIM_SENDER_MAX, l->il.throttled > 0 ||
	    l->il.waiting_sender > 0 ? buf : NULL);
	if (m != NULL) {
		struct metrics_intake x;

		memset(&x, 0, sizeof(x));
		x.inbox = l->il.inbox;
		x.waiting[METRICS_WAIT_SENDER] = l->il.waiting_sender;
		x.waiting[METRICS_WAIT_INBOX] = l->il.waiting_inbox;
		x.waiting[METRICS_WAIT_DISK] = l->il.waiting_disk;
		x.throttled = l->il.throttled;
		x.paused = l->paused;
		x.free_bytes = l->free_bytes;
		metrics_intake_set(m, &x);
	}
}
