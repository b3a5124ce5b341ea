/*
 * metrics: see include/store/metrics.h.
 *
 * The file is rewritten whole each time (temp, fsync, rename) so that a
 * node_exporter textfile collector never reads half of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/workflow.h"
#include "daemon/metrics.h"
#include "lib/xmalloc.h"
#include "store/channels.h"
#include "store/metrics.h"
#include "store/status.h"

static const char *const outbox_states[] = {
	"queued", "sending", "sent", "deferred", "failed"
};
#define NOUTBOX (sizeof(outbox_states) / sizeof(outbox_states[0]))

static const char *const channel_names[METRICS_NCHANNELS] = {
	"spool", "mail"
};
static const char *const result_names[METRICS_NRESULTS] = {
	"accepted", "invalid", "refused", "repeated", "quarantined"
};
static const char *const wait_names[METRICS_NWAITS] = {
	"sender", "inbox", "disk"
};

struct metrics {
	long filings[WF_NSTATES];          /* by enum wf_state; WF_NONE unused */
	long mails[NOUTBOX];
	long quarantine;
	int64_t oldest_deferred;           /* seconds */
	uint64_t ingested[METRICS_NCHANNELS][METRICS_NRESULTS];
	uint64_t restarts_base, restarts_last;
	time_t imap_sync;
	uint64_t deferred[METRICS_NWAITS];
	struct metrics_intake intake;
	int64_t capped, pwfail;            /* the store's counters */
	/* beiand_channel_up: imap, smtp */
	int chan_used[2], chan_up[2];
};

static const char *const mail_channels[2] = { "imap", "smtp" };

struct metrics *
metrics_new(void)
{
	return xcalloc(1, sizeof(struct metrics));
}

void
metrics_free(struct metrics *m)
{
	free(m);
}

void
metrics_ingested(struct metrics *m, enum metrics_channel ch,
    enum metrics_result res)
{
	if ((unsigned)ch < METRICS_NCHANNELS && (unsigned)res < METRICS_NRESULTS)
		m->ingested[ch][res]++;
}

void
metrics_worker_restarts_set(struct metrics *m, uint64_t restarts)
{
	/* A reload starts a new pool counting from 0: keep the counter monotone. */
	if (restarts < m->restarts_last)
		m->restarts_base += m->restarts_last;
	m->restarts_last = restarts;
}

void
metrics_imap_synced(struct metrics *m, time_t when)
{
	m->imap_sync = when;
}

void
metrics_imap_deferred(struct metrics *m, enum metrics_wait why)
{
	if ((unsigned)why < METRICS_NWAITS)
		m->deferred[why]++;
}

void
metrics_intake_set(struct metrics *m, const struct metrics_intake *x)
{
	m->intake = *x;
}

void
metrics_channels_set(struct metrics *m, int imap, int smtp)
{
	m->chan_used[0] = imap;
	m->chan_used[1] = smtp;
}

struct refresh {
	long filings[WF_NSTATES];
	long mails[NOUTBOX];
	long quarantine;
};

static int
refresh_cb(const char *kind, const char *name, long count, void *arg)
{
	struct refresh *r = arg;

	if (strcmp(kind, "quarantine") == 0) {
		r->quarantine = count;
		return 0;
	}
	if (name == NULL)
		return 0;
	if (strcmp(kind, "filings") == 0) {
		for (int s = WF_NONE + 1; s < WF_NSTATES; s++)
			if (strcmp(workflow_state_name((enum wf_state)s),
			    name) == 0)
				r->filings[s] = count;
	} else if (strcmp(kind, "outbox") == 0) {
		for (size_t i = 0; i < NOUTBOX; i++)
			if (strcmp(outbox_states[i], name) == 0)
				r->mails[i] = count;
	}
	return 0;
}

int
metrics_refresh(struct metrics *m, struct store *st, time_t now)
{
	struct refresh r;
	time_t created = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	if (store_counts(st, refresh_cb, &r) == -1)
		return -1;
	if ((rc = store_outbox_oldest_deferred(st, &created)) == -1 ||
	    store_counter_get(st, "mails_capped", &m->capped) == -1 ||
	    store_counter_get(st, "password_failures", &m->pwfail) == -1)
		return -1;
	for (int i = 0; i < 2; i++) {
		int failing = 0, got;

		if (!m->chan_used[i])
			continue;
		if ((got = store_channel_get(st, mail_channels[i], &failing,
		    NULL, NULL, 0, NULL)) == -1)
			return -1;
		m->chan_up[i] = got == 1 || !failing;
	}
	memcpy(m->filings, r.filings, sizeof(m->filings));
	memcpy(m->mails, r.mails, sizeof(m->mails));
	m->quarantine = r.quarantine;
	m->oldest_deferred = rc == 0 && now > created ?
	    (int64_t)(now - created) : 0;
	return 0;
}

static void
head(FILE *fp, const char *name, const char *type, const char *help)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int
metrics_format(const struct metrics *m, FILE *fp)
{
	long depth = 0;

	head(fp, "beiand_filings", "gauge", "Filings per workflow state.");
	for (int s = WF_NONE + 1; s < WF_NSTATES; s++)
		fprintf(fp, "beiand_filings{state=\"%s\"} %ld\n",
		    workflow_state_name((enum wf_state)s), m->filings[s]);

	head(fp, "beiand_ingested_total", "counter",
	    "Items ingested since start, per channel and result.");
	for (int c = 0; c < METRICS_NCHANNELS; c++)
		for (int r = 0; r < METRICS_NRESULTS; r++)
			fprintf(fp, "beiand_ingested_total{channel=\"%s\","
			    "result=\"%s\"} %llu\n", channel_names[c],
			    result_names[r],
			    (unsigned long long)m->ingested[c][r]);

	head(fp, "beiand_mails_total", "gauge",
	    "Outgoing mails in the outbox per state.");
	for (size_t i = 0; i < NOUTBOX; i++) {
		fprintf(fp, "beiand_mails_total{state=\"%s\"} %ld\n",
		    outbox_states[i], m->mails[i]);
		if (strcmp(outbox_states[i], "sent") != 0 &&
		    strcmp(outbox_states[i], "failed") != 0)
			depth += m->mails[i];
	}

	head(fp, "beiand_outbox_depth", "gauge",
	    "Mails still to send (queued, sending, deferred).");
	fprintf(fp, "beiand_outbox_depth %ld\n", depth);

	head(fp, "beiand_outbox_oldest_deferred_seconds", "gauge",
	    "Age of the oldest deferred mail; 0 when none is deferred.");
	fprintf(fp, "beiand_outbox_oldest_deferred_seconds %lld\n",
	    (long long)m->oldest_deferred);

	head(fp, "beiand_imap_last_sync_timestamp_seconds", "gauge",
	    "Unix time of the last completed IMAP sync; 0 before the first.");
	fprintf(fp, "beiand_imap_last_sync_timestamp_seconds %lld\n",
	    (long long)m->imap_sync);

	head(fp, "beiand_quarantine_items", "gauge",
	    "Inputs kept in spool/quarantine.");
	fprintf(fp, "beiand_quarantine_items %ld\n", m->quarantine);

	head(fp, "beiand_channel_up", "gauge",
	    "Mail channels in use: 1 working (or not tried yet), 0 failing.");
	for (int i = 0; i < 2; i++)
		if (m->chan_used[i])
			fprintf(fp, "beiand_channel_up{channel=\"%s\"} %d\n",
			    mail_channels[i], m->chan_up[i]);

	head(fp, "beiand_worker_restarts_total", "counter",
	    "Parser worker processes replaced since start.");
	fprintf(fp, "beiand_worker_restarts_total %llu\n",
	    (unsigned long long)(m->restarts_base + m->restarts_last));

	head(fp, "beiand_imap_deferred_total", "counter",
	    "Messages the IMAP fetcher left on the server since start, by the "
	    "limit that held them (sender_max, inbox_max, min_free).");
	for (int w = 0; w < METRICS_NWAITS; w++)
		fprintf(fp, "beiand_imap_deferred_total{reason=\"%s\"} %llu\n",
		    wait_names[w], (unsigned long long)m->deferred[w]);

	head(fp, "beiand_imap_waiting", "gauge",
	    "Messages waiting on the IMAP server now, by limit.");
	for (int w = 0; w < METRICS_NWAITS; w++)
		fprintf(fp, "beiand_imap_waiting{reason=\"%s\"} %llu\n",
		    wait_names[w], (unsigned long long)m->intake.waiting[w]);

	head(fp, "beiand_imap_throttled_senders", "gauge",
	    "From addresses over sender_max now.");
	fprintf(fp, "beiand_imap_throttled_senders %llu\n",
	    (unsigned long long)m->intake.throttled);

	head(fp, "beiand_inbox_messages", "gauge",
	    "Mails fetched into state_dir/inbox, not yet committed.");
	fprintf(fp, "beiand_inbox_messages %llu\n",
	    (unsigned long long)m->intake.inbox);

	head(fp, "beiand_intake_paused", "gauge",
	    "1 while state_dir has less free space than min_free.");
	fprintf(fp, "beiand_intake_paused %d\n", m->intake.paused ? 1 : 0);

	head(fp, "beiand_state_free_bytes", "gauge",
	    "Free bytes on the filesystem of state_dir.");
	fprintf(fp, "beiand_state_free_bytes %llu\n",
	    (unsigned long long)m->intake.free_bytes);

	head(fp, "beiand_mails_capped_total", "counter",
	    "Mails caused by mail intake queued as failed by recipient_max.");
	fprintf(fp, "beiand_mails_capped_total %lld\n", (long long)m->capped);

	head(fp, "beiand_password_failures_total", "counter",
	    "Wrong filing passwords given (refused, told to the owner).");
	fprintf(fp, "beiand_password_failures_total %lld\n",
	    (long long)m->pwfail);
	return ferror(fp) ? -1 : 0;
}

int
metrics_write(const struct metrics *m, const char *path)
{
	const char *base = strrchr(path, '/');
	char tmp[4096];
	FILE *fp = NULL;
	int fd = -1, n, saved;

	base = base != NULL ? base + 1 : path;
	n = snprintf(tmp, sizeof(tmp), "%.*s.%s.tmp", (int)(base - path), path,
	    base);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* A temp file left by a crash is ours to replace. */
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1)
		return -1;
	/* The daemon's umask is 027; the scraper may be another user. */
	(void)fchmod(fd, 0644);
	if ((fp = fdopen(fd, "w")) == NULL)
		goto fail;
	fd = -1; /* transferred */
	if (metrics_format(m, fp) == -1 || fflush(fp) == EOF ||
	    fsync(fileno(fp)) == -1)
		goto fail;
	if (fclose(fp) == EOF) {
		fp = NULL;
		goto fail;
	}
	fp = NULL;
	if (rename(tmp, path) == -1)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fp != NULL)
		fclose(fp);
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

void
metrics_status(const struct metrics *m, char *buf, size_t size)
{
	long depth = 0;
	size_t len;
	int first = 1;

	if (size == 0)
		return;
	snprintf(buf, size, "filings:");
	for (int s = WF_NONE + 1; s < WF_NSTATES; s++) {
		if (m->filings[s] == 0)
			continue;
		len = strlen(buf);
		snprintf(buf + len, size - len, "%s %ld %s", first ? "" : ",",
		    m->filings[s], workflow_state_name((enum wf_state)s));
		first = 0;
	}
	if (first) {
		len = strlen(buf);
		snprintf(buf + len, size - len, " none");
	}
	for (size_t i = 0; i < NOUTBOX; i++)
		if (strcmp(outbox_states[i], "sent") != 0 &&
		    strcmp(outbox_states[i], "failed") != 0)
			depth += m->mails[i];
	len = strlen(buf);
	snprintf(buf + len, size - len, "; outbox %ld; quarantine %ld", depth,
	    m->quarantine);
	if (m->intake.paused) {
		len = strlen(buf);
		snprintf(buf + len, size - len, "; intake paused (min_free)");
	}
	{
		uint64_t w = 0;

		for (int i = 0; i < METRICS_NWAITS; i++)
			w += m->intake.waiting[i];
		if (w > 0) {
			len = strlen(buf);
			snprintf(buf + len, size - len, "; %llu mails wait on "
			    "the server", (unsigned long long)w);
		}
	}
}
