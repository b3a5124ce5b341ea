/*
 * beiand: committed groups of uploads on their way to durability — the
 * commit's sync, the receipts (written on the prep thread) and their
 * sync, then the removal of the claimed files — and the receipts owed
 * (not written in their group, or found owed at the start).  The commit
 * itself is in pipeline.c.  Run by the loop in beiand.c, on its thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/beiand_int.h"
#include "daemon/metrics.h"
#include "daemon/prep.h"
#include "daemon/receipt.h"
#include "daemon/spool.h"
#include "lib/log.h"
#include "lib/syncer.h"
#include "store/outbox.h"

#define RECEIPT_RETRY_MIN_MS 5000   /* a receipt not written: tried again */
#define RECEIPT_RETRY_MAX_MS 300000 /* ... at doubling intervals up to this */

/* The receipt of a committed upload (durable after the next sync).  -1
 * when it could not be written: the claimed file then stays in work/
 * (receipts_retry(), or the next start, writes the receipt). */
static int
upload_receipt(struct daemon *d, size_t srci, const char *upload,
    const char *receipt)
{
	const struct spool_src *src = spool_src(d->sp, srci);

	if (receipt_write_flags(src->outgoing, upload, receipt, FW_NOSYNC) == 0)
		return 0;
	log_err("spool: upload=%s: receipt: %s", upload, strerror(errno));
	return -1;
}

/* Everything written so far made durable, waiting for it here (start-up
 * recovery, a group that answered IMAP mail, the end).  -1 when the sync
 * failed. */
int
sync_now(struct daemon *d)
{
	if (syncer_wait(d->sy, syncer_request(d->sy)) == 0)
		return 0;
	log_err("spool: syncfs: %s", strerror(errno));
	return -1;
}

/* After its receipt is durable, the claimed file goes away. */
static void
upload_finish(struct daemon *d, const char *work, const char *upload,
    int quarantine)
{
	char path[4096];

	if (quarantine) {
		char qname[SPOOL_QNAME_MAX + 1];

		if (spool_quarantine(d->sp, work, "see its receipt and "
		    "`beianctl quarantine`\n") == -1)
			log_err("spool: upload=%s: quarantine: %s", upload,
			    strerror(errno));
		else if (spool_quarantine_name(work, qname, sizeof(qname)) == 0)
			log_warn("spool: upload=%s quarantined as %s", upload,
			    qname);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", spool_work_dir(d->sp), work);
	if (unlink(path) == -1)
		log_err("spool: %s: %s", path, strerror(errno));
}

/* A committed upload whose receipt could not be written (outgoing/ full
 * or read-only, say) waits here for receipts_retry(). */
void
receipt_defer(struct daemon *d, struct upl *p)
{
	if (d->unreceipted.head == NULL) {
		d->receipt_backoff_ms = RECEIPT_RETRY_MIN_MS;
		d->receipt_retry_ms = mono_ms() + d->receipt_backoff_ms;
	}
	ulist_push(&d->unreceipted, p);
}

/*
 * The receipts owed (not written in their group, or found owed at the
 * start), written together and made durable with one sync; their claimed
 * files then go (or move to quarantine/).  Those that still fail are
 * tried again RECEIPT_RETRY_MIN_MS after the first failure, then at
 * doubling intervals up to RECEIPT_RETRY_MAX_MS; their commits stand
 * meanwhile.
 */
void
receipts_retry(struct daemon *d, int64_t now)
{
	struct ulist left = { 0 };
	struct upl *p;
	size_t done = 0;
	int written = 0;

	if (d->unreceipted.head == NULL || now < d->receipt_retry_ms)
		return;
	for (p = d->unreceipted.head; p != NULL; p = p->next)
		written |= p->receipt_ok = upload_receipt(d, p->src, p->upload,
		    p->receipt) == 0;
	if (written && sync_now(d) == -1)
		for (p = d->unreceipted.head; p != NULL; p = p->next)
			p->receipt_ok = 0;
	while ((p = ulist_take(&d->unreceipted, 0)) != NULL) {
		if (p->receipt_ok) {
			upload_finish(d, p->work, p->upload, p->quarantine);
			done++;
			upl_free(p);
		} else
			ulist_push(&left, p);
	}
	d->unreceipted = left;
	if (done > 0)
		log_info("spool: %zu receipts written after all", done);
	if (left.head == NULL)
		return;
	d->receipt_backoff_ms *= 2;
	if (d->receipt_backoff_ms > RECEIPT_RETRY_MAX_MS)
		d->receipt_backoff_ms = RECEIPT_RETRY_MAX_MS;
	d->receipt_retry_ms = now + d->receipt_backoff_ms;
	log_warn("spool: %zu receipts not written yet; next try in %lld s",
	    left.n, (long long)(d->receipt_backoff_ms / 1000));
}

/* On the prep thread: a committed group's receipts, not synced. */
static void
group_write_receipts(void *arg)
{
	struct group *g = arg;

	for (struct upl *p = g->ups.head; p != NULL; p = p->next) {
		p->receipt_ok = receipt_write_flags(p->outgoing, p->upload,
		    p->receipt, FW_NOSYNC) == 0;
		p->file_errno = p->receipt_ok ? 0 : errno;
	}
}

/* On the prep thread: the claimed files whose receipts are durable
 * (those without a receipt stay until the next start writes it from the
 * store; those refused as a whole were moved to quarantine/). */
static void
group_remove(void *arg)
{
	struct group *g = arg;
	char path[4096];

	for (struct upl *p = g->ups.head; p != NULL; p = p->next) {
		p->file_errno = 0;
		if (!p->receipt_ok || p->quarantine)
			continue;
		snprintf(path, sizeof(path), "%s/%s", g->work_dir, p->work);
		if (unlink(path) == -1)
			p->file_errno = errno;
	}
}

static void
group_call(struct daemon *d, struct group *g, void (*call)(void *),
    enum group_stage stage)
{
	memset(&g->job, 0, sizeof(g->job));
	g->job.call = call;
	g->job.arg = g;
	g->stage = stage;
	prep_submit(d->prep, &g->job);
}

/*
 * Move committed groups on as their syncs and calls complete (see struct
 * group), and keep the mailer below the outbox rows of commits not yet
 * durable.
 */
void
groups_advance(struct daemon *d)
{
	struct group **gp, *g;
	struct upl *p;
	uint64_t durable;
	int pending = 0, e;

	durable = syncer_durable(d->sy); /* and their wake-ups read */
	prep_woken(d->prep);
	if (d->groups == NULL)
		return;
	if ((e = syncer_error(d->sy)) != d->sync_errno) {
		d->sync_errno = e;
		if (e != 0)
			log_err("spool: syncfs: %s; retrying every second",
			    strerror(e));
		else
			log_info("spool: syncfs works again");
	}
	for (gp = &d->groups; (g = *gp) != NULL;) {
		switch (g->stage) {
		case GS_COMMITTED:
			if (g->tag > durable) {
				pending = 1;
				break;
			}
			/* the commit is on disk: its mails may go, its
			 * receipts be written */
			if (g->outbox_last > d->outbox_durable)
				d->outbox_durable = g->outbox_last;
			d->mail_due_ms = 0;
			for (p = g->ups.head; p != NULL; p = p->next)
				p->outgoing =
				    spool_src(d->sp, p->src)->outgoing;
			group_call(d, g, group_write_receipts, GS_WRITING);
			break;
		case GS_WRITING:
			if (!prep_done(d->prep, &g->job))
				break;
			for (p = g->ups.head; p != NULL; p = p->next)
				if (!p->receipt_ok)
					log_err("spool: upload=%s: receipt: %s",
					    p->upload, strerror(p->file_errno));
			g->stage = GS_RECEIPTED;
			g->tag = syncer_request(d->sy);
			break;
		case GS_RECEIPTED:
			if (g->tag > durable)
				break;
			for (p = g->ups.head; p != NULL; p = p->next)
				if (p->receipt_ok && p->quarantine)
					upload_finish(d, p->work, p->upload, 1);
			group_call(d, g, group_remove, GS_REMOVING);
			break;
		case GS_REMOVING:
			if (!prep_done(d->prep, &g->job))
				break;
			while ((p = ulist_take(&g->ups, 0)) != NULL) {
				for (int r = 0; r < METRICS_NRESULTS; r++)
					for (unsigned k = 0; k < p->counted[r];
					    k++)
						metrics_ingested(d->metrics,
						    METRICS_CH_SPOOL,
						    (enum metrics_result)r);
				if (p->file_errno != 0)
					log_err("spool: %s/%s: %s", g->work_dir,
					    p->work, strerror(p->file_errno));
				if (!p->receipt_ok)
					receipt_defer(d, p);
				else
					upl_free(p);
			}
			*gp = g->next;
			free(g);
			d->ngroups--;
			continue;
		}
		gp = &g->next;
	}
	store_outbox_horizon(d->st, pending ? d->outbox_durable : 0);
}

/* Every committed group through to its end (a reload, the stop). */
void
groups_drain(struct daemon *d)
{
	while (d->groups != NULL) {
		struct group *g = d->groups;

		if (g->stage == GS_WRITING || g->stage == GS_REMOVING)
			prep_wait(d->prep, &g->job);
		else if (syncer_wait(d->sy, g->tag) == -1)
			log_err("spool: syncfs: %s; retrying", strerror(errno));
		groups_advance(d);
	}
}
