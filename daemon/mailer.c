/*
 * mailer: the outbox's delivery loop.
 *
 * What is hostile here: the texts that end up in mails (sponsor names,
 * site names, findings, reasons) came from packages and mails of
 * strangers; mail_compose keeps them out of the headers.  The params
 * JSON of a row is beiand's own but is read by the strict json.c reader
 * and refused (the mail fails) rather than guessed at.  The password of
 * an approval mail is the one secret that passes through: it is taken
 * only from the row's secret column and only for the two templates that
 * show it, never from params, and the composed bytes holding it are
 * wiped before they are freed.  Nothing here logs a body or a password.
 *
 * This file: the mailer, its sending thread and its runs (due rows taken,
 * attempted, their outcomes marked in batches); the spec of one mail is
 * built from its row in mailer_draft.c.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/workflow.h"
#include "daemon/chanstate.h"
#include "daemon/mailer.h"
#include "daemon/mailer_int.h"
#include "lib/compat.h"
#include "lib/forksafe.h"
#include "lib/log.h"
#include "lib/secret.h"
#include "lib/xmalloc.h"
#include "mail/eml.h"
#include "mail/mail.h"
#include "mail/smtp.h"
#include "store/attachments.h"
#include "store/blob.h"
#include "store/channels.h"
#include "store/outbox.h"
#include "store/query.h"
#include "store/store.h"

#define FLUSH_EVERY 64          /* outcomes marked in one transaction */

/* A composed mail handed to the sending thread. */
struct sendjob {
	size_t row;             /* in the run's rows */
	unsigned char *msg;     /* wiped and freed once it is sent */
	size_t len;
	enum smtp_result r;
	char reply[REPLY_MAX];
	enum smtp_channel chan; /* what the send said about the channel */
	char chan_reason[SMTP_REASON_MAX];
};

uint64_t
mailer_backoff(uint64_t retry_min, uint64_t retry_max, int attempts)
{
	uint64_t d = retry_min > 0 ? retry_min : 1;

	for (int i = 1; i < attempts && d < retry_max; i++) {
		if (d > UINT64_MAX / 2) {
			d = UINT64_MAX;
			break;
		}
		d *= 2;
	}
	if (retry_max > 0 && d > retry_max)
		d = retry_max;
	return d > 0 ? d : 1;
}

void
mailer_stats_get(const struct mailer *m, struct mailer_stats *out)
{
	*out = m->stats;
}

static void *sender_main(void *arg);
static int sender_between(void *arg);
static void sender_nudge(void *arg);
static void run_end(struct mailer *m, int final);
static int run_collect(struct mailer *m, int final);

struct mailer *
mailer_new(const struct config *cf, struct store *st, char *err,
    size_t errsize)
{
	struct mailer *m;
	int rc;

	if (!mail_addr_valid(cf->smtp_from)) {
		snprintf(err, errsize, "mailer: [smtp] from \"%s\" is not a"
		    " usable address", cf->smtp_from);
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->cf = cf;
	m->st = st;
	if (cf->smtp_url != NULL && cf->smtp_url[0] != '\0') {
		struct tls_policy tp;
		char pw[SECRET_MAX], why[512];
		int haspw = 0;

		if (tls_policy_config(cf, TLS_CHANNEL_SMTP, &tp, why,
		    sizeof(why)) == -1) {
			snprintf(err, errsize, "mailer: %s", why);
			free(m);
			return NULL;
		}
		/* the password is read here, by the process that sends,
		 * and handed to libcurl; this copy is wiped at once */
		if (cf->smtp_password_file != NULL) {
			if (secret_file_read(cf->smtp_password_file, pw,
			    sizeof(pw), why, sizeof(why)) == -1) {
				snprintf(err, errsize, "mailer: [smtp] "
				    "password_file %s", why);
				free(m);
				return NULL;
			}
			haspw = 1;
		}
		m->smtp = smtp_new(cf->smtp_url, &tp, haspw ? pw : NULL,
		    cf->smtp_timeout);
		explicit_bzero(pw, sizeof(pw));
		if (m->smtp == NULL) {
			/* never print the URL: it may hold a password */
			snprintf(err, errsize, "mailer: cannot use [smtp] url"
			    " (smtp:// or smtps:// expected)");
			free(m);
			return NULL;
		}
		m->from = xstrdup(cf->smtp_from);
		m->pk.nudge = sender_nudge;
		m->pk.nudge_arg = m;
		smtp_between(m->smtp, sender_between, m);
		if ((m->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
			rc = errno;
		else
			rc = parking_start(&m->pk, sender_main, m);
		if (rc != 0) {
			snprintf(err, errsize, "mailer: sending thread: %s",
			    strerror(rc));
			if (m->efd != -1)
				close(m->efd);
			smtp_free(m->smtp);
			free(m->from);
			free(m);
			return NULL;
		}
		m->threaded = 1;
		chanstate_load(&m->chan, st, "smtp");
		/* a start or reload while the channel is refused for its
		 * configuration may be the fix: what the refusal deferred is
		 * tried again now (a server that was unreachable is not
		 * mended by a restart: its mails keep their backoff) */
		if (m->chan.known && m->chan.failing && m->chan.refused &&
		    (rc = store_channel_deferred_due(st, 0)) > 0)
			log_info("mailer: the smtp channel was refused; "
			    "deferred mails due now: %d", rc);
	} else if ((size_t)snprintf(m->maildir, sizeof(m->maildir), "%s/mail",
	    cf->state_dir) >= sizeof(m->maildir)) {
		snprintf(err, errsize, "mailer: state_dir too long");
		free(m);
		return NULL;
	}
	return m;
}

void
mailer_free(struct mailer *m)
{
	if (m == NULL)
		return;
	if (m->threaded) {
		/* the mail on the wire is given up; what was sent is marked,
		 * the rest queued again (store_outbox_recover) */
		parking_stop(&m->pk);
		if (m->rows != NULL) {
			if (run_collect(m, 1) == -1)
				log_err("mailer: %s", store_errmsg(m->st));
			if (m->nmarked < m->njobs &&
			    store_outbox_recover(m->st) == -1)
				log_err("mailer: %s", store_errmsg(m->st));
			run_end(m, 1);
		}
		close(m->efd);
	}
	smtp_free(m->smtp);
	store_filing_detail_free(m->detail);
	free(m->from);
	free(m);
}

int
mailer_fd(const struct mailer *m)
{
	return m->threaded ? m->efd : -1;
}

int
mailer_busy(const struct mailer *m)
{
	return m->rows != NULL;
}

/* ---- the sending thread ------------------------------------------------- */

/* Between the waits of a send: park for a fork; give up when stopping. */
static int
sender_between(void *arg)
{
	struct mailer *m = arg;
	int stop;

	pthread_mutex_lock(&m->pk.mu);
	while (m->pk.pausing && !m->pk.stop)
		parking_wait(&m->pk);
	stop = m->pk.stop;
	pthread_mutex_unlock(&m->pk.mu);
	return stop;
}

static void
sender_nudge(void *arg)
{
	struct mailer *m = arg;

	smtp_wakeup(m->smtp);
}

/*
 * The run's mails, one after the other, on the one connection.  Once the
 * server cannot be reached the rest are deferred with the same reason,
 * without another attempt.  A mail given up because the mailer stops is
 * not counted (unless the server took it): its row stays sending and is
 * queued again.
 */
static void *
sender_main(void *arg)
{
	struct mailer *m = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&m->pk.mu);
	for (;;) {
		struct sendjob *j;

		while (!m->pk.stop && (m->pk.pausing || m->nsent == m->njobs))
			parking_wait(&m->pk);
		if (m->pk.stop)
			break;
		j = &m->jobs[m->nsent];
		pthread_mutex_unlock(&m->pk.mu);
		if (m->down) {
			j->r = SMTP_DEFER;
			strlcpy(j->reply, m->down_reply, sizeof(j->reply));
			j->chan = (enum smtp_channel)m->down_chan;
			strlcpy(j->chan_reason, m->down_reason,
			    sizeof(j->chan_reason));
		} else {
			j->r = smtp_send(m->smtp, m->from, m->rows[j->row].to,
			    j->msg, j->len, j->reply, sizeof(j->reply));
			j->chan = smtp_channel_state(m->smtp, j->chan_reason,
			    sizeof(j->chan_reason));
			/* no server, or one that refuses the session: the
			 * rest of the run would fare the same */
			if (j->r == SMTP_DEFER && (j->chan == SMTP_CHANNEL_DOWN ||
			    j->chan == SMTP_CHANNEL_REFUSED)) {
				m->down = 1;
				strlcpy(m->down_reply, j->reply,
				    sizeof(m->down_reply));
				m->down_chan = (int)j->chan;
				strlcpy(m->down_reason, j->chan_reason,
				    sizeof(m->down_reason));
			}
		}
		pthread_mutex_lock(&m->pk.mu);
		if (m->pk.stop && j->r != SMTP_SENT)
			break; /* given up (or cut short): not counted */
		explicit_bzero(j->msg, j->len);
		free(j->msg);
		j->msg = NULL;
		m->nsent++;
		if (write(m->efd, &one, sizeof(one)) == -1) {
			/* the counter cannot overflow here; the loop reads
			 * nsent anyway */
		}
	}
	pthread_mutex_unlock(&m->pk.mu);
	return NULL;
}

/* ---- one row ---------------------------------------------------------------- */

/* What became of one mail, to be marked in the store. */
struct outcome {
	int64_t id;
	enum smtp_result r;
	time_t next_try;
	int secret;             /* the row held a password */
	char reply[REPLY_MAX];
};

/* The final result of an attempt: max_age turns a deferral into a
 * failure; a deferral gets its next try. */
static void
outcome_decide(const struct mailer *m, const struct store_mail *row,
    enum smtp_result r, const char *reply, time_t now, struct outcome *o)
{
	uint64_t delay;

	o->id = row->id;
	o->secret = row->secret != NULL;
	o->next_try = 0;
	if (r == SMTP_DEFER && m->cf->smtp_max_age > 0 &&
	    now - row->created >= (time_t)m->cf->smtp_max_age) {
		snprintf(o->reply, sizeof(o->reply), "%.400s (undelivered after"
		    " max_age)", reply);
		o->r = SMTP_FAIL;
		return;
	}
	strlcpy(o->reply, reply, sizeof(o->reply));
	o->r = r;
	if (r != SMTP_DEFER)
		return;
	/* row->attempts was read before mark_sending counted this one */
	delay = mailer_backoff(m->cf->smtp_retry_min, m->cf->smtp_retry_max,
	    row->attempts + 1);
	/* spread the retries of a batch: up to a tenth earlier, derived
	 * from the Message-ID so that it needs no random source */
	if (delay >= 10) {
		uint64_t h = 0xcbf29ce484222325ULL;

		for (const char *p = row->message_id; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
		delay -= h % (delay / 10 + 1);
	}
	if (delay > (uint64_t)CONFIG_DURATION_MAX)
		delay = CONFIG_DURATION_MAX;
	o->next_try = now + (time_t)delay;
}

/* One line per attempt, as a mail system's log has it: the mail, its
 * filing, template and recipient, the result, and the server's (or the
 * .eml writer's) reply. */
static void
outcome_log(const struct store_mail *row, const struct outcome *o, time_t now)
{
	enum log_level lvl = LOG_LEVEL_INFO;
	const char *status = "sent";
	char retry[64] = "";

	if (o->r == SMTP_FAIL) {
		lvl = LOG_LEVEL_ERR;
		status = "failed";
	} else if (o->r != SMTP_SENT) {
		lvl = LOG_LEVEL_WARN;
		status = "deferred";
		snprintf(retry, sizeof(retry), " attempts=%d next_try=%llds",
		    row->attempts + 1,
		    (long long)(o->next_try > now ? o->next_try - now : 0));
	}
	log_msg(lvl, "mailer: mail=%lld filing=%s template=%s to=%s status=%s%s"
	    " reply=\"%s\"", (long long)row->id, row->filing != NULL ?
	    row->filing : "-", workflow_template_name(row->tpl), row->to,
	    status, retry, o->reply);
}

static int eml_durable(struct mailer *m);

static int
outcome_mark(struct mailer *m, const struct outcome *o)
{
	int rc;

	if (eml_durable(m) == -1)
		return -1;
	switch (o->r) {
	case SMTP_SENT:
		rc = store_outbox_mark_sent(m->st, o->id, o->reply);
		m->stats.sent++;
		break;
	case SMTP_FAIL:
		rc = store_outbox_mark_failed(m->st, o->id, o->reply);
		m->stats.failed++;
		break;
	default:
		rc = store_outbox_mark_deferred(m->st, o->id, o->next_try,
		    o->reply);
		m->stats.deferred++;
		break;
	}
	return rc == -1 ? -1 : 0;
}

/* .eml files written without their own fsync become durable here, at
 * once, before any of them is recorded as sent. */
static int
eml_durable(struct mailer *m)
{
	if (!m->eml_unsynced)
		return 0;
	if (eml_sync(m->maildir) == -1)
		return -1;
	m->eml_unsynced = 0;
	return 0;
}

/* Mark outcomes o[0..n) in one transaction: one fsync for all. */
static int
outcomes_flush(struct mailer *m, const struct outcome *o, size_t n)
{
	if (n == 0)
		return 0;
	if (eml_durable(m) == -1)
		return -1;
	if (n == 1)
		return outcome_mark(m, &o[0]);
	if (store_begin(m->st) == -1)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (outcome_mark(m, &o[i]) == -1) {
			store_rollback(m->st);
			return -1;
		}
	return store_commit(m->st);
}

static const char *
path_base(const char *path)
{
	const char *b = strrchr(path, '/');

	return b != NULL ? b + 1 : path;
}

/*
 * One attempt at a row already marked sending: compose it and write it
 * as .eml, or (SMTP) leave it in *msg for the sending thread.  0 with *o
 * filled when the outcome is known here, 1 with *msg and *len set when
 * the mail goes by SMTP, -1 on a store error.
 */
static int
attempt(struct mailer *m, const struct store_mail *row, time_t now,
    struct outcome *o, char **msgp, size_t *lenp)
{
	struct draft d;
	char reply[REPLY_MAX] = "", err[256], path[PATH_MAX] = "";
	enum smtp_result r;
	char *msg = NULL;
	size_t len = 0;
	int rc, permanent, built;

	if (row->to == NULL || row->to[0] == '\0') {
		/* the store fails these at creation; a retried one stays so */
		outcome_decide(m, row, SMTP_FAIL, "no address configured for"
		    " this recipient", now, o);
		outcome_log(row, o, now);
		return 0;
	}
	built = draft_build(m, row, &d, reply, sizeof(reply), &permanent);
	if (built == -1) {
		draft_clear(&d);
		return -1;
	}
	if (built == 0 && mail_compose(&d.spec, &msg, &len, err,
	    sizeof(err)) == -1) {
		snprintf(reply, sizeof(reply), "compose: %s", err);
		built = 1;
		permanent = 1;
	}
	draft_clear(&d);
	if (built == 0 && m->smtp != NULL) {
		*msgp = msg;
		*lenp = len;
		return 1;
	}
	if (built == 1)
		r = permanent ? SMTP_FAIL : SMTP_DEFER;
	else {
		rc = eml_write_flags(m->maildir, row->message_id, msg, len,
		    path, sizeof(path), EML_NOSYNC);
		m->eml_unsynced |= rc >= 0; /* also one found already there */
		if (rc >= 0) {
			r = SMTP_SENT;
			snprintf(reply, sizeof(reply), "eml: %.400s%s",
			    path_base(path), rc == 1 ? " (already written)" : "");
		} else {
			r = errno == EEXIST ? SMTP_FAIL : SMTP_DEFER;
			snprintf(reply, sizeof(reply), "eml: %.300s: %.100s",
			    path_base(path), errno == EEXIST ?
			    "another message has that name" : strerror(errno));
		}
	}
	outcome_decide(m, row, r, reply, now, o);
	outcome_log(row, o, now);
	if (msg != NULL) {
		explicit_bzero(msg, len);
		free(msg);
	}
	return 0;
}

/*
 * An outcome joins the batch out[0..*pending) of outcomes to mark; the
 * batch is marked when full, and a password mail's at once, so that the
 * store wipes the password without waiting.  -1 on a store error.
 */
static int
outcome_add(struct mailer *m, struct outcome *out, size_t *pending)
{
	struct outcome *o = &out[*pending];

	if (o->secret && o->r == SMTP_SENT) {
		if (outcomes_flush(m, out, *pending) == -1 ||
		    outcome_mark(m, o) == -1)
			return -1;
		*pending = 0;
		return 0;
	}
	if (++*pending == FLUSH_EVERY) {
		if (outcomes_flush(m, out, *pending) == -1)
			return -1;
		*pending = 0;
	}
	return 0;
}

/*
 * The outcomes of the mails the thread has finished, marked as a batch
 * would be in a run on this thread: once FLUSH_EVERY wait, a password
 * mail's at once, all of them when the run is done or (final: the thread
 * has ended) the mailer stops.  How many were marked, or -1 on a store
 * error.
 */
static int
run_collect(struct mailer *m, int final)
{
	struct outcome out[FLUSH_EVERY];
	size_t sent, upto, pending = 0;
	int n = 0, rc = 0;
	uint64_t v;

	if (read(m->efd, &v, sizeof(v)) == -1) {
		/* nothing new, or already read: nsent says */
	}
	if (!final)
		pthread_mutex_lock(&m->pk.mu);
	sent = m->nsent;
	upto = sent == m->njobs || final ? sent : m->nmarked;
	if (!final)
		pthread_mutex_unlock(&m->pk.mu);
	if (upto < sent && sent - m->nmarked >= FLUSH_EVERY)
		upto = sent;
	for (size_t i = m->nmarked; upto < sent && i < sent; i++)
		if (m->jobs[i].r == SMTP_SENT &&
		    m->rows[m->jobs[i].row].secret != NULL)
			upto = i + 1; /* a password: marked (and wiped) now */
	for (; m->nmarked < upto; m->nmarked++, n++) {
		struct sendjob *j = &m->jobs[m->nmarked];
		const struct store_mail *row = &m->rows[j->row];

		if (j->chan != SMTP_CHANNEL_UNKNOWN)
			chanstate_note(&m->chan, m->st,
			    j->chan != SMTP_CHANNEL_OK,
			    j->chan == SMTP_CHANNEL_REFUSED, j->chan_reason);
		outcome_decide(m, row, j->r, j->reply, m->run_now,
		    &out[pending]);
		outcome_log(row, &out[pending], m->run_now);
		if (outcome_add(m, out, &pending) == -1) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && outcomes_flush(m, out, pending) == -1)
		rc = -1;
	explicit_bzero(out, sizeof(out));
	return rc == -1 ? -1 : n;
}

/* The run's rows and what is left of its mails, freed (the thread is idle,
 * or ended: final). */
static void
run_end(struct mailer *m, int final)
{
	for (size_t i = 0; i < m->njobs; i++)
		if (m->jobs[i].msg != NULL) {
			explicit_bzero(m->jobs[i].msg, m->jobs[i].len);
			free(m->jobs[i].msg);
		}
	free(m->jobs);
	store_mails_free(m->rows, m->nrows);
	if (!final)
		pthread_mutex_lock(&m->pk.mu);
	m->jobs = NULL;
	m->njobs = m->nsent = m->nmarked = 0;
	if (!final)
		pthread_mutex_unlock(&m->pk.mu);
	m->rows = NULL;
	m->nrows = 0;
}

/*
 * A run: take the due rows (sending) in one commit, so that nothing
 * leaves that the database does not know; attempt each; mark the
 * outcomes in batches of FLUSH_EVERY, each one short transaction (the
 * write lock is never held while a mail is on the wire).  A crash
 * between a send and its batch's commit leaves the row in sending: it
 * is sent again after recovery, with the same Message-ID and bytes.  A
 * password row is marked sent on its own, at once, so that the store
 * wipes it (and checkpoints the WAL) without waiting for the batch.
 *
 * With SMTP the mails are composed here and sent by the thread while the
 * loop goes on (a server that is slow or does not answer holds up no
 * upload); the calls that follow mark their outcomes as they come, and
 * the next run starts once the thread is done with this one.
 */
int
mailer_run(struct mailer *m, time_t now, size_t max, time_t *next_due)
{
	struct store_mail *rows = NULL;
	struct outcome out[FLUSH_EVERY];
	struct sendjob *jobs = NULL;
	unsigned char *taken = NULL;
	size_t n = 0, pending = 0, njobs = 0;
	int handled = 0, rc = -1, r;
	time_t when;

	if (now == 0)
		now = time(NULL);
	memset(&m->stats, 0, sizeof(m->stats));
	if (next_due != NULL)
		*next_due = 0;
	if (m->rows != NULL) {
		/* a run on its way: its outcomes so far */
		if ((handled = run_collect(m, 0)) == -1)
			return -1;
		if (m->nmarked < m->njobs)
			return handled;
		run_end(m, 0);
		max = 0; /* the next run at the next call */
	}
	if (max > 0 && store_outbox_due(m->st, now, max, &rows, &n) == -1)
		return -1;
	if (n > 0) {
		taken = xcalloc(n, 1);
		if (store_begin(m->st) == -1)
			goto out;
		for (size_t i = 0; i < n; i++) {
			r = store_outbox_mark_sending(m->st, rows[i].id);
			if (r == -1) {
				store_rollback(m->st);
				goto out;
			}
			/* 1: another process took or changed it */
			taken[i] = r == 0;
		}
		if (store_commit(m->st) == -1)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char *msg = NULL;
		size_t len = 0;

		if (!taken[i])
			continue;
		if ((r = attempt(m, &rows[i], now, &out[pending], &msg,
		    &len)) == -1)
			goto recover;
		if (r == 1) {
			jobs = xreallocarray(jobs, njobs + 1, sizeof(*jobs));
			memset(&jobs[njobs], 0, sizeof(jobs[0]));
			jobs[njobs].row = i;
			jobs[njobs].msg = (unsigned char *)msg;
			jobs[njobs++].len = len;
			continue;
		}
		handled++;
		if (outcome_add(m, out, &pending) == -1)
			goto recover;
	}
	if (outcomes_flush(m, out, pending) == -1)
		goto recover;
	pending = 0;
	if (njobs > 0) {
		/* the thread takes them from here; rows stay until the last
		 * outcome is marked */
		m->rows = rows;
		m->nrows = n;
		rows = NULL;
		n = 0;
		m->run_now = now;
		pthread_mutex_lock(&m->pk.mu);
		m->jobs = jobs;
		m->njobs = njobs;
		m->nsent = m->nmarked = 0;
		m->down = 0;
		pthread_cond_broadcast(&m->pk.cv);
		pthread_mutex_unlock(&m->pk.mu);
		jobs = NULL;
		njobs = 0;
	} else if (next_due != NULL) {
		r = store_outbox_next_due(m->st, &when);
		if (r == -1)
			goto out;
		*next_due = r == 0 ? when : 0;
	}
	rc = handled;
	goto out;
recover:
	/* what this run holds in sending goes back to the queue now rather
	 * than at the next start (the daemon is the only sender) */
	store_outbox_recover(m->st);
out:
	for (size_t i = 0; i < njobs; i++) {
		explicit_bzero(jobs[i].msg, jobs[i].len);
		free(jobs[i].msg);
	}
	free(jobs);
	explicit_bzero(out, sizeof(out));
	free(taken);
	store_mails_free(rows, n);
	/* the filing may change before the next run */
	store_filing_detail_free(m->detail);
	m->detail = NULL;
	return rc;
}
