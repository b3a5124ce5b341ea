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
#include "daemon/beiand.h"
#include "daemon/beiand_int.h"
#include "daemon/intake.h"
#include "daemon/mailer.h"
#include "daemon/metrics.h"
#include "daemon/prep.h"
#include "daemon/receipt.h"
#include "daemon/spool.h"
#include "lib/log.h"
#include "lib/notify.h"
#include "lib/syncer.h"
#include "mail/smtp.h"
#include "parsers/filing.h"
#include "parsers/package.h"
#include "parsers/rules.h"
#include "store/attachments.h"
#include "store/outbox.h"
#include "store/repeats.h"
#include "store/status.h"
#include "store/store.h"
#include "worker/worker.h"

#define COMMIT_MAX 64          /* uploads per group commit */
#define GROUPS_MAX 4           /* committed groups waiting to be durable */
#define CLAIM_AHEAD 256        /* claimed uploads waiting for a worker */
#define MAIL_BATCH 64          /* mails per mailer pass */
#define MAIL_BUSY_MS 2000      /* mailer turns while uploads wait */
#define MAIL_IDLE_MS 3000      /* outbox checks when nothing is due */
#define MAX_FDS 512
#define METRICS_EVERY_MS 5000 /* metrics file and STATUS= refresh */

/*
 * Refresh the gauges from the store, rewrite metrics_file and tell the
 * service manager the counts.  A failure is logged and retried on the
 * next turn: metrics never stop the work.
 */
static void
metrics_update(struct daemon *d, int64_t now_ms)
{
	char status[256];

	if (now_ms < d->metrics_due_ms)
		return;
	d->metrics_due_ms = now_ms + METRICS_EVERY_MS;
	if (d->pool != NULL)
		metrics_worker_restarts_set(d->metrics,
		    worker_pool_restarts(d->pool));
	if (metrics_refresh(d->metrics, d->st, time(NULL)) == -1) {
		log_err("metrics: %s", store_errmsg(d->st));
		return;
	}
	if (d->cf->metrics_file != NULL &&
	    metrics_write(d->metrics, d->cf->metrics_file) == -1)
		log_err("metrics: %s: %s", d->cf->metrics_file, strerror(errno));
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
		p->receipt = receipt;
		p->quarantine = q;
		receipt_defer(d, p);
	}
	closedir(dir);
	/* the receipts owed, in the first turn, with one sync */
	d->receipt_retry_ms = 0;
}

/* ---- configuration ---------------------------------------------------- */

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
	store_close(d->st);
	d->st = NULL;
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

	notify_reloading();
	if ((ncf = config_load(d->cfpath, err, sizeof(err))) == NULL) {
		log_err("config: %s; keeping the running configuration", err);
		notify_ready();
		return;
	}
	/* The new spool tree first: a configuration whose folders cannot be
	 * made is refused like an invalid one, the running one kept. */
	if ((nsp = spool_open(ncf, err, sizeof(err))) == NULL) {
		log_err("config: %s; keeping the running configuration", err);
		config_free(ncf);
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
		if (open_parts(d, err, sizeof(err)) == -1)
			fatal("reload: %s", err);
		notify_ready();
		return;
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
	else if (next != 0)
		d->mail_due_ms = now_ms + 1000 * (int64_t)(next > time(NULL) ?
		    next - time(NULL) : 0);
	else
		/* beianctl queues mails too: look again soon */
		d->mail_due_ms = now_ms + MAIL_IDLE_MS;
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
			 * with the number of waiting uploads. */
			if (d->queue.n < CLAIM_AHEAD)
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
		if (d->wd_ms >= 0 && d->wd_ms < t)
			t = d->wd_ms;
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
	fprintf(stderr, "usage: beiand [-c FILE] [-f] [-n] [-v]\n");
	exit(2);
}

int
beiand_main(int argc, char **argv)
{
	struct daemon d = { 0 };
	char err[1024];
	sigset_t mask;
	int ch, fg = 0, check = 0, verbose = 0;

	d.sfd = -1;
	while ((ch = getopt(argc, argv, "c:fnv")) != -1) {
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
		printf("configuration OK\n");
		config_free(d.cf);
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
	smtp_global_init();
	xmldoc_init();
	if (rules_init() != 0)
		fatal("rules: no public suffix list");
	if ((d.sp = spool_open(d.cf, err, sizeof(err))) == NULL)
		fatal("spool: %s", err);
	if (open_parts(&d, err, sizeof(err)) == -1)
		fatal("%s", err);
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
	return 0;
}
