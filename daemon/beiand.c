/*
 * beiand: the daemon — one event loop over signals, inotify, the parser
 * workers and timers.
 *
 * Data walks one way: spool (claim) → worker (parse) → ingest (decide,
 * in one group commit with the receipts' text) → sync (on the syncer's
 * thread, while the loop goes on) → receipt files → outbox → mailer.  The parent never parses an upload: workers do, and
 * their answers are decoded as untrusted.  A crash at any instant is
 * recovered at start: claimed files still in work/ are either processed
 * again (nothing was committed) or, when their upload was committed,
 * only their receipt is written again.
 *
 * This file: start-up and that recovery, configuration and reload, the
 * loop and the mailer's turns; the uploads' way (claim to receipt) is
 * pipeline.c, through daemon/beiand_int.h.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include "common/config.h"
#include "common/idscan.h"
#include "daemon/beiand.h"
#include "daemon/beiand_int.h"
#include "daemon/intake.h"
#include "daemon/limits.h"
#include "daemon/mailer.h"
#include "daemon/metrics.h"
#include "daemon/prep.h"
#include "daemon/receipt.h"
#include "daemon/spool.h"
#include "daemon/startcheck.h"
#include "lib/log.h"
#include "lib/notify.h"
#include "lib/pidlock.h"
#include "lib/secret.h"
#include "lib/syncer.h"
#include "lib/version.h"
#include "mail/smtp.h"
#include "parsers/filing.h"
#include "parsers/package.h"
#include "parsers/rules.h"
#include "store/attachments.h"
#include "store/highwater.h"
#include "store/outbox.h"
#include "store/repeats.h"
#include "store/status.h"
#include "store/store.h"
#include "store/wake.h"
#include "worker/worker.h"

#define COMMIT_MAX 64          /* uploads per group commit */
#define GROUPS_MAX 4           /* committed groups waiting to be durable */
#define CLAIM_AHEAD 256        /* claimed uploads waiting for a worker */
#define MAIL_BATCH 64          /* mails per mailer pass */
#define MAIL_BUSY_MS 2000      /* mailer turns while uploads wait */
#define MAIL_IDLE_MS 3000      /* the mailer's own look at the outbox: the
                                * backstop of the pokes of outbox.fifo */
#define MAX_FDS 512
#define METRICS_EVERY_MS 5000 /* metrics file and STATUS= refresh */

/*
 * Refresh the gauges from the store, rewrite metrics_file and tell the
 * service manager the counts.  A failure is retried on the next turn:
 * metrics never stop the work.  A failing metrics file is logged once per
 * change of its error (and when it works again), not at every try.
 */
static void
metrics_update(struct daemon *d, int64_t now_ms)
{
	char status[256];
	int e;

	if (now_ms < d->metrics_due_ms)
		return;
	d->metrics_due_ms = now_ms + METRICS_EVERY_MS;
	if (d->pool != NULL)
		metrics_worker_restarts_set(d->metrics,
		    worker_pool_restarts(d->pool));
	if (d->limits != NULL) {
		struct intake_limits il;

		intake_limits_get(d->intake, &il);
		limits_publish(d->limits, d->intake != NULL ? &il : NULL,
		    d->metrics);
	}
	metrics_channels_set(d->metrics, d->cf->imap_url[0] != '\0',
	    d->cf->smtp_url[0] != '\0');
	if (metrics_refresh(d->metrics, d->st, time(NULL)) == -1) {
		log_err("metrics: %s", store_errmsg(d->st));
		return;
	}
	if (d->cf->metrics_file != NULL) {
		e = metrics_write(d->metrics, d->cf->metrics_file) == -1 ?
		    errno : 0;
		if (e != 0 && e != d->metrics_errno)
			log_err("metrics: %s: %s (tried again every %d s; "
			    "logged again when this changes)",
			    d->cf->metrics_file, strerror(e),
			    METRICS_EVERY_MS / 1000);
		else if (e == 0 && d->metrics_errno != 0)
			log_info("metrics: %s written again",
			    d->cf->metrics_file);
		d->metrics_errno = e;
	}
	metrics_status(d->metrics, status, sizeof(status));
	notify_status("%s", status);
}

/* ---- start-up recovery ------------------------------------------------ */

static void
recover_work(struct daemon *d)
{
	DIR *dir = opendir(spool_work_dir(d->sp));
	struct dirent *de;

	if (dir == NULL)
		fatal("spool: %s: %s", spool_work_dir(d->sp), strerror(errno));
	/* What a stopped daemon wrote may still be in the page cache only:
	 * on disk before anything is built on it. */
	if (sync_now(d) == -1)
		fatal("spool: cannot make the spool and the store durable");
	while ((de = readdir(dir)) != NULL) {
		struct upl *p;
		char *receipt = NULL;
		int q = 0, rc;

		if (de->d_name[0] == '.')
			continue;
		if ((p = upl_new(d, de->d_name)) == NULL) {
			log_warn("spool: work/%s: origin unknown; left alone",
			    de->d_name);
			continue;
		}
		rc = store_upload_get(d->st, de->d_name, &receipt, &q);
		if (rc == -1)
			fatal("store: %s", store_errmsg(d->st));
		if (rc == 1) {
			log_info("spool: upload=%s claimed before a stop; "
			    "processed again", p->upload);
			ulist_push(&d->queue, p);
			continue;
		}
		log_info("spool: upload=%s was committed; receipt written "
		    "again", p->upload);
		if (q) {
			/* quarantined before its name was made short: the
			 * row follows the file's name in quarantine/ */
			char qn[SPOOL_QNAME_MAX + 1];

			if (spool_quarantine_name(de->d_name, qn,
			    sizeof(qn)) == 0 && store_quarantine_rename(d->st,
			    de->d_name, qn) == -1)
				log_err("store: %s", store_errmsg(d->st));
		}
		p->receipt = receipt;
		p->quarantine = q;
		receipt_defer(d, p);
	}
	closedir(dir);
	/* the receipts owed, in the first turn, with one sync */
	d->receipt_retry_ms = 0;
}

/* ---- ids and numbers never issued twice --------------------------------- */

/* What the store did to keep them so (a restored database: the high-water
 * marks, the scan below), one line each. */
static void
notes_log(struct daemon *d)
{
	const char *n;

	while ((n = store_note_next(d->st)) != NULL)
		log_warn("%s", n);
}

/*
 * At start: the tracking ids on receipts and in .eml names, for a
 * database restored without its high-water file (a lost disk).  Reads
 * only receipts changed since a day before the newest filing the
 * database knows (older ones name ids it knows) and the names in mail/.
 */
static void
ids_scan(struct daemon *d)
{
	struct idscan_hit *h = NULL;
	struct idscan_stats s;
	char maildir[4096];
	time_t newest;
	int64_t t0 = mono_ms();
	size_t n = 0;

	if (store_filings_newest(d->st, &newest) == -1)
		fatal("store: %s", store_errmsg(d->st));
	snprintf(maildir, sizeof(maildir), "%s/mail", d->cf->state_dir);
	if (idscan_run(d->cf->spool_dir, maildir, newest > 86400 ?
	    newest - 86400 : 0, &h, &n, &s) == -1) {
		log_warn("highwater: scanning receipts and mails: %s",
		    strerror(errno));
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (store_tracking_floor(d->st, h[i].year, h[i].seq,
		    h[i].where) == -1)
			fatal("store: %s", store_errmsg(d->st));
	free(h);
	notes_log(d);
	log_info("highwater: %zu receipts read (%zu older skipped), %zu mail"
	    " names, in %lld ms", s.receipts_read, s.receipts_skipped, s.emls,
	    (long long)(mono_ms() - t0));
}

/* ---- configuration ---------------------------------------------------- */

/*
 * One beiand per state_dir: an flock on state_dir/beiand.lock, held for
 * the daemon's life (DESIGN.md, Command line).  Two daemons on one state
 * would both poll the mailbox, run mailers and claim uploads.  Makes
 * state_dir when missing.  The descriptor, or -1 with the refusal in err.
 */
static int
state_lock(const char *state_dir, char *err, size_t errsize)
{
	char path[4096];
	pid_t holder;
	int fd;

	if (mkdir(state_dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errsize, "%s: %s", state_dir, strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/beiand.lock", state_dir) >=
	    sizeof(path)) {
		snprintf(err, errsize, "%s: path too long", state_dir);
		return -1;
	}
	if ((fd = pidlock_take(path, &holder)) != -1)
		return fd;
	if (errno != EWOULDBLOCK)
		snprintf(err, errsize, "%s/beiand.lock: %s", state_dir,
		    strerror(errno));
	else if (holder > 0)
		snprintf(err, errsize, "another beiand (pid %ld) runs on state_dir"
		    " %s; not starting", (long)holder, state_dir);
	else
		snprintf(err, errsize, "another beiand runs on state_dir %s"
		    " (beiand.lock is locked); not starting", state_dir);
	return -1;
}

static int
open_parts(struct daemon *d, char *err, size_t errsize)
{
	const char *dirs[2];
	char db[4096];

	if (mkdir(d->cf->state_dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errsize, "%s: %s", d->cf->state_dir,
		    strerror(errno));
		return -1;
	}
	snprintf(db, sizeof(db), "%s/beiand.db", d->cf->state_dir);
	if ((d->st = store_open(db, d->cf, err, errsize)) == NULL)
		return -1;
	notes_log(d);
	/* other processes' mails ring here; ours need no poke */
	store_wake_set(d->st, 0);
	if ((d->wakefd = store_wake_listen(d->cf->state_dir, err,
	    errsize)) == -1)
		return -1;
	d->limits = limits_new(d->cf, d->st);
	(void)limits_paused(d->limits, mono_ms());
	/* the spool and the state directory, synced off the loop */
	dirs[0] = d->cf->spool_dir;
	dirs[1] = d->cf->state_dir;
	if ((d->sy = syncer_new(dirs, 2, err, errsize)) == NULL ||
	    store_set_syncer(d->st, d->sy) == -1) {
		if (d->sy != NULL)
			snprintf(err, errsize, "%s", store_errmsg(d->st));
		return -1;
	}
	if ((d->prep = prep_new(err, errsize)) == NULL)
		return -1;
	if ((d->mailer = mailer_new(d->cf, d->st, err, errsize)) == NULL)
		return -1;
	if ((d->pool = worker_pool_new(d->cf, d->cf->workers, err,
	    errsize)) == NULL)
		return -1;
	log_info("worker: parser workers started, sandboxed (seccomp filter; "
	    "Landlock ABI %d%s)", worker_pool_landlock_abi(d->pool),
	    worker_pool_landlock_abi(d->pool) == 0 ? ": none on this kernel" :
	    "");
	if (d->cf->imap_url[0] != '\0' && (d->intake = intake_new(d->cf,
	    d->st, d->pool, err, errsize)) == NULL)
		return -1;
	intake_set_metrics(d->intake, d->metrics);
	return 0;
}

static void
close_parts(struct daemon *d)
{
	intake_free(d->intake);
	d->intake = NULL;
	worker_pool_free(d->pool);
	d->pool = NULL;
	mailer_free(d->mailer);
	d->mailer = NULL;
	limits_free(d->limits);
	d->limits = NULL;
	store_close(d->st);
	d->st = NULL;
	if (d->wakefd != -1)
		close(d->wakefd);
	d->wakefd = -1;
	prep_free(d->prep); /* its jobs finished: they name state_dir */
	d->prep = NULL;
	syncer_free(d->sy);
	d->sy = NULL;
}

/* After a reload: each claimed upload's folder index in the new spool;
 * one whose folder is gone stays in work/ untouched. */
static void
origins_resolve(struct daemon *d, struct ulist *l)
{
	struct ulist keep = { 0 };
	struct upl *p;

	while ((p = ulist_take(l, 0)) != NULL) {
		const char *up;

		if (spool_work_origin(d->sp, p->work, &p->src, &up) == 0) {
			ulist_push(&keep, p);
			continue;
		}
		log_warn("spool: %s: its folder is no longer configured; left "
		    "in work/", p->work);
		upl_free(p);
	}
	*l = keep;
}

static void
reload(struct daemon *d)
{
	struct config *ncf, *ocf;
	struct spool *nsp;
	char err[1024];
	struct upl *p;
	int nlock = -1;

	notify_reloading();
	if ((ncf = config_load(d->cfpath, err, sizeof(err))) == NULL) {
		log_err("config: %s; keeping the running configuration", err);
		notify_ready();
		return;
	}
	/* A new state_dir is taken like the first: locked, or refused. */
	if (strcmp(ncf->state_dir, d->cf->state_dir) != 0 &&
	    (nlock = state_lock(ncf->state_dir, err, sizeof(err))) == -1) {
		log_err("config: %s; keeping the running configuration", err);
		config_free(ncf);
		notify_ready();
		return;
	}
	/* The new spool tree first: a configuration whose folders cannot be
	 * made is refused like an invalid one, the running one kept. */
	if ((nsp = spool_open(ncf, err, sizeof(err))) == NULL) {
		log_err("config: %s; keeping the running configuration", err);
		config_free(ncf);
		pidlock_release(nlock);
		notify_ready();
		return;
	}
	/* Jobs in flight are dropped with their workers and queued again. */
	while ((p = ulist_take(&d->running, 0)) != NULL) {
		p->job = 0;
		ulist_push(&d->queue, p);
	}
	d->nwj = 0;
	commit_done(d);
	groups_drain(d);
	close_parts(d);
	ocf = d->cf;
	d->cf = ncf;
	if (open_parts(d, err, sizeof(err)) == -1) {
		log_err("config: %s; going back to the running configuration",
		    err);
		close_parts(d);
		spool_free(nsp);
		config_free(ncf);
		d->cf = ocf;
		pidlock_release(nlock);
		if (open_parts(d, err, sizeof(err)) == -1)
			fatal("reload: %s", err);
		notify_ready();
		return;
	}
	if (nlock != -1) {
		pidlock_release(d->lockfd);
		d->lockfd = nlock;
	}
	spool_free(d->sp);
	d->sp = nsp;
	config_free(ocf);
	/* Claimed uploads name their folder by index: look it up anew. */
	origins_resolve(d, &d->queue);
	origins_resolve(d, &d->done);
	origins_resolve(d, &d->unreceipted);
	log_info("config: reloaded %s", d->cf->path ? d->cf->path : "(defaults)");
	d->metrics_due_ms = 0;
	d->mail_due_ms = 0; /* pokes made meanwhile found no listener */
	notify_ready();
}

/* ---- the loop --------------------------------------------------------- */

static void
on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			if (!d->stopping) {
				notify_stopping();
				log_info("beiand: stopping: finishing %zu "
				    "uploads in flight",
				    d->running.n + d->done.n);
			}
			d->stopping = 1;
			d->commit_retry_ms = 0; /* a waiting group: once more */
			break;
		case SIGHUP:
			reload(d);
			break;
		case SIGCHLD:
			d->sigchld = 1; /* collected below */
			break;
		}
	}
}

static void
run_mailer(struct daemon *d, int64_t now_ms)
{
	time_t next = 0;
	int n;

	if (now_ms < d->mail_due_ms)
		return;
	/* Uploads first: while the spool is busy the mailer takes a turn
	 * every MAIL_BUSY_MS only (the mails are durable in the outbox).
	 * The outcomes of a run on its way (SMTP, on the mailer's thread)
	 * are marked as they come. */
	if (!mailer_busy(d->mailer) &&
	    (d->queue.n + d->running.n + d->done.n) > 0 &&
	    now_ms - d->mail_last_ms < MAIL_BUSY_MS) {
		/* a timer, not a due time in the past: the loop must sleep */
		d->mail_due_ms = d->mail_last_ms + MAIL_BUSY_MS;
		return;
	}
	d->mail_last_ms = now_ms;
	/* stopping: no new run that the stop would give up at once */
	n = mailer_run(d->mailer, time(NULL), d->stopping &&
	    mailer_fd(d->mailer) != -1 ? 0 : MAIL_BATCH, &next);
	if (n == -1)
		log_err("mailer: %s", store_errmsg(d->st));
	if (mailer_busy(d->mailer))
		d->mail_due_ms = INT64_MAX; /* its descriptor wakes the loop */
	else if (n == MAIL_BATCH)
		d->mail_due_ms = 0; /* more are due */
	else {
		/* Other processes queue mails too (beianctl, the console):
		 * they poke outbox.fifo, and the mailer looks by itself every
		 * MAIL_IDLE_MS besides, also while mails wait deferred. */
		d->mail_due_ms = now_ms + MAIL_IDLE_MS;
		if (next != 0 && next - time(NULL) < MAIL_IDLE_MS / 1000)
			d->mail_due_ms = now_ms + 1000 * (int64_t)(next >
			    time(NULL) ? next - time(NULL) : 0);
	}
}

static void
loop(struct daemon *d)
{
	struct pollfd pfd[MAX_FDS];
	int wfds[MAX_FDS];

	for (;;) {
		int64_t now = mono_ms(), t = 1000, due;
		size_t nw, n = 0;
		int wready, mfd;

		if (d->stopping && d->running.head == NULL && d->done.head == NULL &&
		    d->nwj == 0 && d->groups == NULL)
			break;
		groups_advance(d);
		spool_scan(d->sp, now, 0);
		if (!d->stopping) {
			receipts_retry(d, now);
			/* Claim no further ahead than the workers can take:
			 * the rest waits in incoming/, so memory does not grow
			 * with the number of waiting uploads; and nothing
			 * while state_dir is below min_free. */
			if (d->queue.n < CLAIM_AHEAD &&
			    !limits_paused(d->limits, now))
				spool_due(d->sp, now, worker_pool_idle(d->pool),
				    on_due, d);
			spool_timed_out(d->sp, now, on_timeout, d);
			dispatch(d);
			if ((due = intake_tick(d->intake, now)) < t)
				t = due;
		}
		if ((d->done.head != NULL || intake_has_done(d->intake)) &&
		    now >= d->commit_retry_ms && d->ngroups < GROUPS_MAX &&
		    (d->running.head == NULL || d->done.n >= COMMIT_MAX ||
		    d->stopping))
			commit_done(d);
		now = mono_ms();
		run_mailer(d, now);
		/* Whatever else this turn wrote to the store is synced soon,
		 * not whenever the next group comes. */
		if (store_changes(d->st) != d->changes_seen) {
			d->changes_seen = store_changes(d->st);
			syncer_request(d->sy);
		}
		if (d->wd_ms >= 0 && now >= d->wd_next_ms) {
			notify_watchdog(now);
			d->wd_next_ms = now + d->wd_ms;
		}
		metrics_update(d, now);

		/* Settled uploads wait for a worker: with none idle, a result
		 * wakes the loop, not the clock (no busy polling). */
		if (worker_pool_idle(d->pool) > 0 && !d->stopping &&
		    (due = spool_next_due(d->sp, now)) >= 0 && due < t)
			t = due;
		/* The time left until the next ping, not the interval: a
		 * wake-up just before a ping is due must not stretch the gap
		 * towards twice the interval. */
		if (d->wd_ms >= 0 && d->wd_next_ms - now < t)
			t = d->wd_next_ms > now ? d->wd_next_ms - now : 0;
		if (d->mail_due_ms - now < t)
			t = d->mail_due_ms > now ? d->mail_due_ms - now : 0;
		if (d->unreceipted.head != NULL && d->receipt_retry_ms - now < t)
			t = d->receipt_retry_ms > now ?
			    d->receipt_retry_ms - now : 0;
		if ((d->done.head != NULL || intake_has_done(d->intake)) &&
		    d->running.head == NULL && d->ngroups < GROUPS_MAX &&
		    d->commit_retry_ms - now < t)
			t = d->commit_retry_ms > now ?
			    d->commit_retry_ms - now : 0;
		pfd[n].fd = d->sfd;
		pfd[n++].events = POLLIN;
		pfd[n].fd = syncer_fd(d->sy);
		pfd[n++].events = POLLIN;
		pfd[n].fd = prep_fd(d->prep);
		pfd[n++].events = POLLIN;
		pfd[n].fd = spool_fd(d->sp);
		pfd[n++].events = POLLIN;
		if (intake_pollfd(d->intake) != -1) {
			pfd[n].fd = intake_pollfd(d->intake);
			pfd[n++].events = POLLIN;
		}
		if ((mfd = mailer_fd(d->mailer)) != -1) {
			pfd[n].fd = mfd;
			pfd[n++].events = POLLIN;
		}
		pfd[n].fd = d->wakefd;
		pfd[n++].events = POLLIN;
		nw = worker_pool_fds(d->pool, wfds, MAX_FDS - n);
		for (size_t i = 0; i < nw; i++) {
			pfd[n].fd = wfds[i];
			pfd[n++].events = POLLIN;
		}
		if (poll(pfd, n, (int)t) == -1 && errno != EINTR)
			fatal("poll: %s", strerror(errno));
		if (pfd[0].revents)
			on_signal(d);
		now = mono_ms();
		if (pfd[3].revents)
			spool_events(d->sp, now);
		for (size_t i = 4; i < n - nw; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == intake_pollfd(d->intake))
				intake_on_readable(d->intake);
			else if (pfd[i].fd == mfd)
				d->mail_due_ms = 0; /* a mail's outcome */
			else if (pfd[i].fd == d->wakefd) {
				/* another process queued mail: now */
				store_wake_drain(d->wakefd);
				d->mail_due_ms = 0;
			}
		}
		/* The workers' sockets and reaping: when one spoke or a child
		 * exited, and once a second besides (a failed restart). */
		wready = d->sigchld || now >= d->collect_ms;
		for (size_t i = n - nw; i < n && !wready; i++)
			wready = pfd[i].revents != 0;
		if (wready) {
			d->sigchld = 0;
			d->collect_ms = now + 1000;
			if (worker_pool_collect(d->pool, on_result, d) == -1)
				log_err("worker: a replacement could not be "
				    "started: %s", worker_pool_error(d->pool));
		}
	}
	commit_done(d);
	groups_drain(d);
	run_mailer(d, mono_ms());
	d->metrics_due_ms = 0;
	metrics_update(d, mono_ms());
}

static void
usage(void)
{
	fprintf(stderr, "usage: beiand [-c FILE] [-f] [-n] [-v] [-V]\n");
	exit(2);
}

/*
 * -n: the password files of the channels in use are there and kept from
 * others (read as the mailer and the fetcher will read them, then
 * wiped).  0, or -1 with "[smtp] password_file PATH: why" in err.
 */
static int
secrets_check(const struct config *cf, char *err, size_t errsize)
{
	const struct {
		const char *sect, *url, *file;
	} ch[] = {
		{ "imap", cf->imap_url, cf->imap_password_file },
		{ "smtp", cf->smtp_url, cf->smtp_password_file },
	};
	char pw[SECRET_MAX], why[512];

	for (size_t i = 0; i < sizeof(ch) / sizeof(ch[0]); i++) {
		if (ch[i].url[0] == '\0' || ch[i].file == NULL)
			continue;
		if (secret_file_read(ch[i].file, pw, sizeof(pw), why,
		    sizeof(why)) == -1) {
			snprintf(err, errsize, "[%s] password_file %s",
			    ch[i].sect, why);
			return -1;
		}
		explicit_bzero(pw, sizeof(pw));
	}
	return 0;
}

int
beiand_main(int argc, char **argv)
{
	struct daemon d = { 0 };
	char err[1024];
	sigset_t mask;
	int ch, fg = 0, check = 0, verbose = 0;

	d.sfd = -1;
	d.lockfd = d.wakefd = -1;
	while ((ch = getopt(argc, argv, "c:fnvV")) != -1) {
		switch (ch) {
		case 'c':
			d.cfpath = optarg;
			break;
		case 'f':
			fg = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("beiand %s\n", beiand_version);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if ((d.cf = config_load(d.cfpath, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check) {
		/* and what the start needs: folders there and usable */
		int n = startcheck_run(d.cf, d.cfpath, stderr);

		/* the password files: there, readable, not readable by others */
		if (secrets_check(d.cf, err, sizeof(err)) == -1) {
			fprintf(stderr, "%s\n", err);
			n++;
		}
		config_free(d.cf);
		if (n > 0) {
			fprintf(stderr, "beiand: %d problem%s: the start needs "
			    "%s fixed\n", n, n == 1 ? "" : "s",
			    n == 1 ? "it" : "them");
			return 1;
		}
		printf("configuration OK\n");
		return 0;
	}
	log_init("beiand", fg, verbose);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1 ||
	    (d.sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd: %s", strerror(errno));
	umask(027);
	if ((d.lockfd = state_lock(d.cf->state_dir, err, sizeof(err))) == -1)
		fatal("beiand: %s", err);
	smtp_global_init();
	xmldoc_init();
	if (rules_init() != 0)
		fatal("rules: no public suffix list");
	if ((d.sp = spool_open(d.cf, err, sizeof(err))) == NULL)
		fatal("spool: %s", err);
	if (open_parts(&d, err, sizeof(err)) == -1)
		fatal("%s", err);
	ids_scan(&d);
	if (store_outbox_recover(d.st) > 0)
		log_info("mailer: mails left sending by a stop are queued again");
	recover_work(&d);
	if (store_outbox_last(d.st, &d.outbox_durable) == -1)
		fatal("store: %s", store_errmsg(d.st));
	spool_scan(d.sp, mono_ms(), 1);
	d.metrics = metrics_new();
	intake_set_metrics(d.intake, d.metrics);
	metrics_update(&d, mono_ms());
	log_info("beiand: started, spool %s, state %s, %zu folders watched",
	    d.cf->spool_dir, d.cf->state_dir, spool_nsrcs(d.sp));
	notify_ready();
	d.wd_ms = notify_watchdog_interval_ms();
	loop(&d);
	log_info("beiand: stopped");
	/* Claimed uploads not yet parsed stay in work/ for the next start. */
	for (struct upl *p; (p = ulist_take(&d.queue, 0)) != NULL;)
		upl_free(p);
	for (struct upl *p; (p = ulist_take(&d.running, 0)) != NULL;)
		upl_free(p);
	/* Those without a receipt too: the next start writes it. */
	for (struct upl *p; (p = ulist_take(&d.unreceipted, 0)) != NULL;)
		upl_free(p);
	free(d.wj);
	close_parts(&d);
	metrics_free(d.metrics);
	spool_free(d.sp);
	config_free(d.cf);
	close(d.sfd);
	pidlock_release(d.lockfd); /* the last: nothing of this run writes
	                            * after it */
	return 0;
}
