/*
 * beiand: the uploads' way through the daemon — claim (spool/incoming/ →
 * work/), a parser worker, the decisions and the group commits with the
 * receipts' text; the committed groups' syncs, receipt files and the
 * removal of their claimed files are pipeline_groups.c's.  Run by the
 * loop in beiand.c, on its thread.
 *
 * The uploads are hostile, and this file never reads their contents:
 * bytes are only hashed (and kept as they came) by the prep thread,
 * workers parse them, and their answers arrive decoded as untrusted
 * (worker/wire.c).  Claimed files are opened O_NOFOLLOW and checked again
 * to be plain files with one link, the very files checked before their
 * claim; one that is not, or that changed while it was read, is
 * quarantined, never followed or read again.  One upload the store
 * cannot take is quarantined rather than hold back the others.  Nothing
 * of a commit leaves the daemon (receipt, mail, IMAP expunge) before the
 * commit is on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/json.h"
#include "daemon/beiand_int.h"
#include "daemon/intake.h"
#include "daemon/metrics.h"
#include "daemon/prep.h"
#include "daemon/receipt.h"
#include "daemon/spool.h"
#include "lib/compat.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "lib/syncer.h"
#include "lib/xmalloc.h"
#include "parsers/package.h"
#include "store/attachments.h"
#include "store/ingest.h"
#include "store/outbox.h"
#include "store/repeats.h"
#include "store/status.h"
#include "store/store.h"
#include "worker/wire.h"
#include "worker/worker.h"

#define COMMIT_RETRY_MIN_MS 1000    /* a group not committed: tried again */
#define COMMIT_RETRY_MAX_MS 60000   /* ... at doubling intervals up to this */

struct whole_job {
	uint64_t job, cand;
};

/* A FIFO of claimed uploads that knows its length and its tail. */
void
ulist_push(struct ulist *l, struct upl *u)
{
	u->next = NULL;
	if (l->head == NULL)
		l->head = u;
	else
		l->tail->next = u;
	l->tail = u;
	l->n++;
}

/* The upload running job, or the first when job is 0; NULL if none. */
struct upl *
ulist_take(struct ulist *l, uint64_t job)
{
	struct upl *prev = NULL;

	for (struct upl *u = l->head; u != NULL; prev = u, u = u->next) {
		if (job != 0 && u->job != job)
			continue;
		if (prev == NULL)
			l->head = u->next;
		else
			prev->next = u->next;
		if (l->tail == u)
			l->tail = prev;
		u->next = NULL;
		l->n--;
		return u;
	}
	return NULL;
}

void
upl_free(struct upl *u)
{
	if (u == NULL)
		return;
	free(u->upload);
	upload_free(u->u);
	free(u->crash);
	free(u->receipt);
	free(u->prep);
	free(u->poison);
	free(u);
}

/* A claimed upload by its name in work/, which names its folder and the
 * name it was uploaded as; NULL when that folder is not configured. */
struct upl *
upl_new(struct daemon *d, const char *work)
{
	struct upl *p = xcalloc(1, sizeof(*p));
	const char *up;

	strlcpy(p->work, work, sizeof(p->work));
	if (spool_work_origin(d->sp, p->work, &p->src, &up) == -1) {
		free(p);
		return NULL;
	}
	p->upload = xstrdup(up);
	return p;
}

/* ---- the commit of parsed uploads ----------------------------------- */

/* Kept as uploaded (wire_upload_lean()): its blob is written ahead. */
static int
upload_keeps_blob(const struct upl *p)
{
	return p->crash == NULL && p->u != NULL &&
	    errlist_nerrors(p->u->errs) == 0 && wire_upload_lean(p->u) &&
	    errlist_nerrors(p->u->items[0].errs) == 0;
}

/* The job that takes an upload's hash and, kept as uploaded, writes its
 * blob. */
static struct prep_job *
upload_prep_job(struct daemon *d, struct upl *p)
{
	struct prep_job *job = xcalloc(1, sizeof(*job));

	snprintf(job->path, sizeof(job->path), "%s/%s", spool_work_dir(d->sp),
	    p->work);
	job->state_dir = upload_keeps_blob(p) ? d->cf->state_dir : NULL;
	job->stamped = p->stamped;
	job->ctime = p->ctime;
	job->size = p->size;
	return job;
}

/* A parsed (or given up) upload waits for its group; meanwhile the prep
 * thread does its job. */
static void
done_push(struct daemon *d, struct upl *p)
{
	if (!p->hashed && p->prep == NULL) {
		p->prep = upload_prep_job(d, p);
		prep_submit(d->prep, p->prep);
	}
	ulist_push(&d->done, p);
}

/*
 * Before its group: the upload's hash and, when it is one package to be
 * kept as it came, its blob written ahead, not synced (the group's sync
 * runs while it is applied).  Taken by the prep thread, or here when a
 * group comes again.  -1 on a passing trouble (the group waits).
 */
static int
upload_prepare(struct daemon *d, struct upl *p)
{
	struct prep_job *job = p->prep;

	if (p->hashed)
		return 0;
	if (job != NULL)
		prep_take(d->prep, job); /* not waiting for the thread */
	else
		prep_run(job = upload_prep_job(d, p));
	p->prep = NULL;
	if (job->err != 0) {
		log_err("spool: upload=%s: cannot read %s: %s", p->upload,
		    p->work, strerror(job->err));
		/* A link, a device, a vanished file or one that shrank is
		 * refused and kept aside; anything else (EMFILE, ENOMEM) is
		 * tried again with the group. */
		if (job->err != ELOOP && job->err != EINVAL &&
		    job->err != ENOENT && job->err != ENXIO &&
		    job->err != EIO) {
			free(job);
			return -1;
		}
		if (p->crash == NULL)
			p->crash = xstrdup(strerror(job->err));
	} else if (job->changed) {
		/* Written to after it was handed over (an SFTP handle kept
		 * open past the rename, say): what the parser read may not
		 * be what was hashed and kept. */
		log_warn("spool: upload=%s changed while it was read: "
		    "quarantined", p->upload);
		if (p->crash == NULL)
			p->crash = xstrdup("它在读取期间被改动 / it changed "
			    "while beiand read it (still being written)");
	} else if (job->state_dir != NULL && !job->blob_written) {
		log_err("store: upload=%s: %s", p->upload, job->blob_err);
		free(job);
		return -1;
	}
	memcpy(p->sha, job->sha256, sizeof(p->sha));
	p->len = job->len;
	p->blob_written = job->blob_written;
	p->blob_new = job->blob_new;
	p->hashed = 1;
	free(job);
	return 0;
}

/*
 * Apply one parsed upload inside the open group: its items, its receipt
 * text, its quarantine.  -1 on a store error (the group is rolled back).
 */
static int
upload_apply(struct daemon *d, struct upl *p, time_t now)
{
	const struct spool_src *src = spool_src(d->sp, p->src);
	struct store_actor who = { 0 };
	struct receipt_item *items = NULL;
	struct ingest_outcome *outs = NULL;
	struct errlist *uerrs = NULL;
	struct upload *u = p->u;
	/* bytes written ahead (upload_prepare), else not kept as they came */
	struct store_blob orig = { NULL, 0, p->sha, p->blob_written };
	char hex[SHA256_HEX];
	time_t received = now;
	size_t nitems = 0;
	int rc = -1, all_repeated = 1;

	/* counted once the group is committed (it may be rolled back) */
	memset(p->counted, 0, sizeof(p->counted));
	p->kept = 0;
	orig.len = p->len;
	sha256_to_hex(p->sha, hex);
	who.kind = src->is_bureau ? WF_ACTOR_BUREAU : WF_ACTOR_PROVIDER;
	who.channel = WF_CHANNEL_SPOOL;
	who.name = src->code;
	who.provider = src->is_bureau ? NULL : src->code;
	who.source = hex;
	who.now = now;

	uerrs = errlist_new();
	if (p->poison != NULL)
		errlist_add(uerrs, ERR_NOT_PROCESSED, "/",
		    "未能处理，已隔离待运维人员处理 / could not be processed; "
		    "quarantined for the operator: %s", p->poison);
	else if (p->crash != NULL)
		errlist_add(uerrs, ERR_ARCHIVE_CORRUPT, "/",
		    "无法安全读取，已隔离 / could not be read safely, "
		    "quarantined: %s", p->crash);
	else if (u != NULL)
		/* copied, not moved: a rolled-back group applies it again */
		for (size_t i = 0; i < errlist_count(u->errs); i++) {
			const struct err_item *e = errlist_get(u->errs, i);
			errlist_add(uerrs, e->code, e->path, "%s", e->message);
		}

	if (errlist_nerrors(uerrs) > 0) {
		char *params = json_refusal_params(NULL, NULL, p->upload,
		    uerrs);
		const struct err_item *e = errlist_get(uerrs, 0);
		char ref[17], qsrc[1024], qname[SPOOL_QNAME_MAX + 1];
		int64_t mail_id;

		memcpy(ref, hex, 16);
		ref[16] = '\0';
		p->quarantine = 1;
		p->counted[METRICS_RES_QUARANTINED]++;
		snprintf(qsrc, sizeof(qsrc), "%s/incoming/%s", src->rel,
		    p->upload);
		if (spool_quarantine_name(p->work, qname, sizeof(qname)) == -1)
			strlcpy(qname, p->work, sizeof(qname)); /* cannot be */
		if (store_mail_loose(d->st, WF_TPL_INVALID, ref, params, &who,
		    &mail_id) == -1 ||
		    store_quarantine_add(d->st, qname, qsrc, e->message, now) ==
		    -1 ||
		    store_error_add(d->st, src->source, err_code_name(e->code),
		    e->message, now) == -1) {
			free(params);
			goto out;
		}
		free(params);
		all_repeated = 0;
	} else {
		int single = u->nitems == 1 && strcmp(u->items[0].path, "/") == 0;

		nitems = u->nitems;
		items = xcalloc(nitems ? nitems : 1, sizeof(*items));
		outs = xcalloc(nitems ? nitems : 1, sizeof(*outs));
		for (size_t i = 0; i < nitems; i++) {
			struct ingest_outcome *o = &outs[i];

			o->errs = errlist_new();
			if (ingest_item(d->st, d->cf, &u->items[i], &who,
			    src->source, single ? &orig : NULL, o) == -1) {
				log_err("store: upload=%s: %s", p->upload,
				    store_errmsg(d->st));
				goto out;
			}
			all_repeated &= o->repeated;
			p->kept |= o->kept;
			p->counted[o->repeated ? METRICS_RES_REPEATED :
			    errlist_nerrors(o->errs) == 0 ?
			    METRICS_RES_ACCEPTED : o->id[0] != '\0' &&
			    o->state == WF_INVALID ? METRICS_RES_INVALID :
			    METRICS_RES_REFUSED]++;
			items[i].path = u->items[i].path;
			items[i].kind = u->items[i].kind;
			items[i].id = o->id;
			items[i].state = workflow_state_name(o->state);
			items[i].errs = o->errs;
			log_info("spool: upload=%s item=%s filing=%s state=%s "
			    "errors=%zu%s", p->upload, u->items[i].path,
			    o->id[0] ? o->id : "-", items[i].state ?
			    items[i].state : "-", errlist_nerrors(o->errs),
			    o->repeated ? " repeated" : "");
		}
	}
	/* A whole repeat gets the first receipt again, but for its name. */
	if (all_repeated && nitems > 0 &&
	    store_upload_first(d->st, src->source, hex, &received) == -1)
		goto out;
	p->receipt = receipt_build(p->upload, hex, received, uerrs, items, nitems);
	if (store_upload_record(d->st, p->work, src->source, hex, received,
	    p->receipt, p->quarantine) == -1)
		goto out;
	rc = 0;
out:
	for (size_t i = 0; outs != NULL && i < nitems; i++)
		errlist_free(outs[i].errs);
	free(outs);
	free(items);
	errlist_free(uerrs);
	return rc;
}

/* A group that could not be prepared or committed (a full disk, say)
 * waits: tried again COMMIT_RETRY_MIN_MS later, then at doubling
 * intervals up to COMMIT_RETRY_MAX_MS, so that a lasting trouble neither
 * spins nor floods the log.  Its uploads stay in work/ meanwhile, and a
 * stop leaves them there. */
static void
commit_later(struct daemon *d)
{
	struct upl *p;

	if (d->stopping) {
		/* Nothing of the group was committed: its uploads stay in
		 * work/ and are processed again at the next start. */
		log_warn("spool: stopping with %zu uploads not committed; "
		    "left in work/ for the next start", d->done.n);
		while ((p = ulist_take(&d->done, 0)) != NULL) {
			if (p->prep != NULL) /* not left to the prep thread */
				prep_take(d->prep, p->prep);
			upl_free(p);
		}
		return;
	}
	if (d->commit_backoff_ms == 0)
		d->commit_backoff_ms = COMMIT_RETRY_MIN_MS;
	else if ((d->commit_backoff_ms *= 2) > COMMIT_RETRY_MAX_MS)
		d->commit_backoff_ms = COMMIT_RETRY_MAX_MS;
	d->commit_retry_ms = mono_ms() + d->commit_backoff_ms;
}

/*
 * DESIGN.md, Hostile senders: one item that cannot be committed never
 * holds back the others.  Each upload and mail of a group is applied
 * in a savepoint of its own.  One whose store calls fail for the
 * environment's sake (a full disk, an I/O error, a busy database) fails
 * the group, which waits and comes again (commit_later()).  One that
 * fails for its own sake is undone alone and set aside while the rest
 * commit; it is then tried alone, in a group of its own, and when it
 * fails alone too, the failure follows it: it is quarantined (an upload
 * with a NOT_PROCESSED receipt, a mail kept in state_dir/quarantine/).
 */
enum gkind {
	G_ALL,          /* every upload and mail not set aside */
	G_UPLOAD_ALONE, /* one upload set aside */
	G_MAIL_ALONE,   /* one mail set aside */
};

static int
group_has(const struct upl *p, enum gkind k, const struct upl *only)
{
	return k == G_ALL ? !p->suspect : k == G_UPLOAD_ALONE && p == only;
}

/* A group not committed: what its members built goes; they come again. */
static void
group_undo(struct daemon *d)
{
	store_rollback(d->st);
	intake_after_commit(d->intake, 0);
	for (struct upl *p = d->done.head; p != NULL; p = p->next) {
		free(p->receipt);
		p->receipt = NULL;
		p->quarantine = 0;
	}
}

/* Take p out of the uploads waiting for a group. */
static void
done_remove(struct daemon *d, struct upl *p)
{
	struct ulist keep = { 0 };
	struct upl *q;

	while ((q = ulist_take(&d->done, 0)) != NULL)
		if (q != p)
			ulist_push(&keep, q);
	d->done = keep;
}

/*
 * Upload p failed inside the open group (its item savepoint open).
 * Returns 0 to go on with the group, 1 when the group's transaction was
 * lost (undo it and apply it again: p is no longer what it was), -1 when
 * the group fails.
 */
static int
upload_failed(struct daemon *d, struct upl *p, enum gkind k, time_t now,
    size_t *aside)
{
	const char *why = store_errmsg(d->st);

	if (store_errfault(d->st) == STORE_FAULT_ENV)
		return -1;
	if (k == G_UPLOAD_ALONE) {
		log_err("spool: upload=%s fails alone: %s; quarantined "
		    "(NOT_PROCESSED)", p->upload, why);
		free(p->poison);
		p->poison = xstrdup(why);
	} else {
		log_warn("spool: upload=%s set aside from its group: %s; "
		    "tried alone", p->upload, why);
		p->suspect = 1;
		(*aside)++;
	}
	if (!store_in_group(d->st))
		return 1;
	if (store_item_end(d->st, 0) == -1)
		return -1;
	if (k != G_UPLOAD_ALONE)
		return 0;
	/* its receipt says NOT_PROCESSED, and it goes to quarantine/ */
	if (store_item_begin(d->st) == -1)
		return -1;
	if (upload_apply(d, p, now) == 0)
		return store_item_end(d->st, 1);
	if (store_errfault(d->st) == STORE_FAULT_ENV)
		return -1;
	/* Not even its quarantine can be recorded: it stays in work/ (the
	 * next start tries it again) rather than hold back the rest. */
	log_err("spool: upload=%s: its quarantine not recorded either: %s; "
	    "left in work/", p->upload, store_errmsg(d->st));
	if (!store_in_group(d->st))
		return 1;
	if (store_item_end(d->st, 0) == -1)
		return -1;
	done_remove(d, p);
	if (p->prep != NULL)
		prep_take(d->prep, p->prep);
	upl_free(p);
	return 0;
}

/*
 * One group commit of kind k: 0 committed (*aside counts the members set
 * aside, to be tried alone), -1 not committed (logged; it waits).
 */
static int
commit_group(struct daemon *d, time_t now, enum gkind k, struct upl *only,
    size_t *aside)
{
	struct group *g, **gp;
	struct upl *p, *next;
	struct ulist members = { 0 }, rest = { 0 };
	uint64_t need;
	size_t n, imail = 0;
	int ahead, rc;

again:
	need = 0;
	ahead = 0;
	n = 0;
	for (p = d->done.head; p != NULL; p = p->next)
		if (group_has(p, k, only)) {
			if (p->tag > need)
				need = p->tag;
			ahead |= p->blob_written;
			n++;
		}
	/* the blobs written ahead, synced while the group is applied */
	if (ahead)
		need = syncer_request(d->sy);
	if (store_begin(d->st) == -1) {
		log_err("store: begin: %s", store_errmsg(d->st));
		return -1;
	}
	for (p = d->done.head; p != NULL; p = next) {
		next = p->next; /* upload_failed() may drop p */
		if (!group_has(p, k, only))
			continue;
		if (store_item_begin(d->st) == -1)
			goto fail;
		if (upload_apply(d, p, now) == 0) {
			if (store_item_end(d->st, 1) == -1)
				goto fail;
			continue;
		}
		if ((rc = upload_failed(d, p, k, now, aside)) == 1) {
			group_undo(d);
			goto again;
		}
		if (rc == -1)
			goto fail;
	}
	if (k != G_UPLOAD_ALONE) {
		rc = intake_apply(d->intake, now, k == G_MAIL_ALONE ?
		    INTAKE_SUSPECT : INTAKE_PLAIN, aside, &imail);
		if (rc == -2) {
			group_undo(d);
			goto again;
		}
		if (rc == -1)
			goto fail;
	}
	/* The claims (renames into work/) are durable before the commit
	 * that answers them: a power loss cannot bring an upload back into
	 * incoming/ once its result is recorded; and a row never names a
	 * blob that is not on disk.  Their sync was asked for before the
	 * group was applied and is mostly done by now. */
	if (syncer_wait(d->sy, need) == -1) {
		log_err("spool: syncfs: %s", strerror(errno));
		goto fail;
	}
	/* (A refused commit is the environment's: every constraint is
	 * checked by its statement, inside the item that made it.) */
	if (store_commit(d->st) == -1)
		goto fail;

	while ((p = ulist_take(&d->done, 0)) != NULL)
		ulist_push(group_has(p, k, only) ? &members : &rest, p);
	d->done = rest;
	/* a blob written ahead for an item refused after all goes */
	for (p = members.head; p != NULL; p = p->next)
		if (p->blob_new && !p->kept) {
			if (store_blob_drop(d->st, p->sha) == -1)
				log_err("store: %s", store_errmsg(d->st));
			p->blob_new = 0;
		}
	g = xcalloc(1, sizeof(*g));
	g->ups = members;
	g->stage = GS_COMMITTED;
	g->work_dir = spool_work_dir(d->sp);
	if (store_outbox_last(d->st, &g->outbox_last) == -1)
		log_err("store: %s", store_errmsg(d->st));
	g->tag = syncer_request(d->sy);
	d->changes_seen = store_changes(d->st);
	for (gp = &d->groups; *gp != NULL; gp = &(*gp)->next)
		;
	*gp = g;
	d->ngroups++;
	/* The mails it queued wait above the horizon until it is durable. */
	store_outbox_horizon(d->st, d->outbox_durable);
	/* IMAP mail is expunged once its commit is on disk: wait for it. */
	if (imail > 0)
		while (syncer_wait(d->sy, g->tag) == -1)
			log_err("store: syncfs: %s; retrying", strerror(errno));
	intake_after_commit(d->intake, 1);
	groups_advance(d);
	return 0;
fail:
	log_err("store: group of %zu uploads not committed: %s", n,
	    store_errmsg(d->st));
	group_undo(d);
	return -1;
}

void
commit_done(struct daemon *d)
{
	time_t now = time(NULL);
	struct upl *p;
	struct upl **back;
	size_t n, aside;

	if (d->done.head == NULL && !intake_has_done(d->intake))
		return;
	/* Prepared from the newest back: the prep thread works from the
	 * oldest, so the two meet instead of waiting on each other. */
	back = xreallocarray(NULL, d->done.n ? d->done.n : 1, sizeof(*back));
	for (p = d->done.head, n = 0; p != NULL; p = p->next)
		back[n++] = p;
	while (n > 0) {
		p = back[--n];
		if (upload_prepare(d, p) == -1) {
			free(back);
			commit_later(d);
			return;
		}
	}
	free(back);
	for (;;) {
		/* those set aside from a group, each alone, then the rest */
		for (p = d->done.head; p != NULL && !p->suspect; p = p->next)
			;
		aside = 0;
		if (p != NULL) {
			if (commit_group(d, now, G_UPLOAD_ALONE, p, &aside) == -1)
				break;
		} else if (intake_waiting(d->intake, 1) > 0) {
			if (commit_group(d, now, G_MAIL_ALONE, NULL, &aside) ==
			    -1)
				break;
		} else if (d->done.head == NULL &&
		    intake_waiting(d->intake, 0) == 0) {
			d->commit_backoff_ms = 0;
			return;
		} else if (commit_group(d, now, G_ALL, NULL, &aside) == -1)
			break;
		else if (aside > 0)
			log_info("store: group committed; %zu of its items set "
			    "aside, each tried alone now", aside);
	}
	commit_later(d);
}

/* ---- workers ---------------------------------------------------------- */

void
dispatch(struct daemon *d)
{
	while (d->queue.head != NULL && worker_pool_idle(d->pool) > 0) {
		struct upl *p = d->queue.head;
		struct spool_ident ck = { p->checked_dev, p->checked_ino };
		struct stat sb;
		int fd;

		if ((fd = spool_work_open(d->sp, p->work, p->has_checked ? &ck :
		    NULL, &sb)) == -1) {
			int e = errno;

			log_err("spool: %s/%s: %s", spool_work_dir(d->sp), p->work,
			    e == EMLINK ? "has another link" : e == ESTALE ?
			    "not the file checked before its claim" :
			    strerror(e));
			if (e == EMFILE || e == ENFILE || e == ENOMEM ||
			    e == EINTR)
				return; /* passing trouble: try again later */
			/* never readable: refused and kept aside */
			ulist_take(&d->queue, 0);
			p->crash = xstrdup(e == EMLINK ? "它另有硬链接 / it has "
			    "another (hard) link" : e == ESTALE ? "认领后已被替换 "
			    "/ replaced after it was checked" : strerror(e));
			done_push(d, p);
			continue;
		}
		/* Before any reading: a change from now on shows in the change
		 * time (which a writer cannot set) or the size. */
		p->stamped = 1;
		p->ctime = sb.st_ctim;
		p->size = (long long)sb.st_size;
		if (worker_submit(d->pool, WJ_PARSE, fd, p->upload,
		    spool_src(d->sp, p->src)->is_bureau ? NULL :
		    spool_src(d->sp, p->src)->code, &p->job) == -1) {
			close(fd);
			return;
		}
		close(fd);
		ulist_take(&d->queue, 0);
		ulist_push(&d->running, p);
	}
}

/*
 * A candidate that cannot be renamed into work/ (its name with beiand's
 * prefix is too long, say): left where it is, not tried again until it
 * changes, and shown by `beianctl status`.
 */
static void
cand_unclaimable(struct daemon *d, struct spool_cand *c)
{
	const struct spool_src *src = spool_src(d->sp, c->src);
	char msg[512];
	int e = errno;

	snprintf(msg, sizeof(msg), "cannot claim %s: %s", c->name,
	    strerror(e));
	log_warn("spool: %s/%s: %s", src->incoming, c->name, strerror(e));
	if (e == ENOENT) {
		spool_cand_drop(d->sp, c);
		return;
	}
	c->incomplete = 1;
	c->reported = 1;
	if (store_error_add(d->st, src->source, "ARCHIVE_UNSAFE_PATH", msg,
	    time(NULL)) == -1)
		log_err("store: %s", store_errmsg(d->st));
}

/* Claim a candidate into work/ and queue it for a parser. */
static void
claim_to_queue(struct daemon *d, struct spool_cand *c)
{
	struct spool_ident ck = c->checked;
	int has_checked = c->has_checked;
	struct upl *p;
	char work[768];

	if (spool_claim(d->sp, c, work, sizeof(work)) == -1) {
		cand_unclaimable(d, c);
		return;
	}
	if ((p = upl_new(d, work)) == NULL)
		return; /* cannot be: the name was just made */
	p->checked_dev = ck.dev;
	p->checked_ino = ck.ino;
	p->has_checked = has_checked;
	p->tag = syncer_request(d->sy);
	log_debug("spool: claimed upload=%s as %s", p->upload, work);
	ulist_push(&d->queue, p);
}

void
on_result(const struct worker_result *res, void *arg)
{
	struct daemon *d = arg;
	struct upl *p;

	if (intake_on_result(d->intake, res))
		return;
	for (size_t i = 0; i < d->nwj; i++) {
		struct spool_cand *c;

		if (d->wj[i].job != res->job)
			continue;
		c = spool_cand_find(d->sp, d->wj[i].cand);
		d->wj[i] = d->wj[--d->nwj];
		if (c == NULL)
			return;
		c->checking = 0;
		/* written to while it was checked, or never checked: let it
		 * settle again */
		if (c->changed_ms != c->checked_ms ||
		    res->status == WR_NOT_STARTED)
			return;
		if (res->status == WR_OK && res->whole == AR_INCOMPLETE) {
			c->incomplete = 1;
			return;
		}
		claim_to_queue(d, c);
		return;
	}
	if ((p = ulist_take(&d->running, res->job)) == NULL)
		return;
	p->job = 0;
	if (res->status == WR_OK && res->upload != NULL) {
		p->u = res->upload;
		done_push(d, p);
		return;
	}
	if (res->status == WR_NOT_STARTED) {
		ulist_push(&d->queue, p); /* never tried: no attempt counted */
		return;
	}
	p->attempts++;
	log_warn("worker: upload=%s attempt %d failed: %s", p->upload,
	    p->attempts, res->reason);
	if (p->attempts < 2) {
		ulist_push(&d->queue, p);
		return;
	}
	p->crash = xstrdup(res->reason);
	done_push(d, p);
}

void
on_due(struct spool *sp, struct spool_cand *c, void *arg)
{
	struct daemon *d = arg;
	const struct spool_src *src = spool_src(sp, c->src);
	uint64_t job;
	int fd;

	if (worker_pool_idle(d->pool) == 0)
		return;
	if ((fd = spool_cand_open(sp, c)) == -1) {
		char work[768];

		if (errno == ENOENT) {
			spool_cand_drop(sp, c);
			return;
		}
		if (errno != ELOOP && errno != EINVAL && errno != ENXIO) {
			/* its mode, or EMFILE and the like: later, with a
			 * backoff, never in a tight loop */
			upload_unreadable(d, c, errno);
			return;
		}
		/* A link, a device or the like: never read, kept aside. */
		log_warn("spool: %s/%s is not a plain file: quarantined",
		    src->incoming, c->name);
		if (spool_claim(sp, c, work, sizeof(work)) == -1)
			cand_unclaimable(d, c);
		else {
			struct upl *p = upl_new(d, work);

			if (p == NULL)
				return; /* cannot be: the name was just made */
			p->tag = syncer_request(d->sy);
			p->crash = xstrdup("not a plain regular file");
			done_push(d, p);
		}
		return;
	}
	if (c->unreadable) {
		log_info("spool: upload=%s%s%s readable now", c->name,
		    src->is_bureau ? "" : " provider=", src->is_bureau ? "" :
		    src->code);
		c->unreadable = 0;
	}
	if (c->renamed) {
		/* renamed into place: whole by the protocol; a plain regular
		 * file (checked by the open above) is claimed at once */
		close(fd);
		claim_to_queue(d, c);
		return;
	}
	if (worker_submit(d->pool, WJ_WHOLE, fd, c->name, NULL, &job) == 0) {
		c->checking = 1;
		c->checked_ms = c->changed_ms;
		xgrow(&d->wj, &d->capwj, d->nwj, sizeof(*d->wj));
		d->wj[d->nwj].job = job;
		d->wj[d->nwj].cand = c->id;
		d->nwj++;
	}
	close(fd);
}

void
on_timeout(struct spool *sp, struct spool_cand *c, void *arg)
{
	const struct spool_src *src = spool_src(sp, c->src);
	struct errlist *el = errlist_new();
	unsigned char d[SHA256_LEN];
	char hex[SHA256_HEX], *xml;
	struct sha256_ctx *h = sha256_init();
	unsigned char buf[65536];
	ssize_t n;
	int fd;

	(void)arg;
	if ((fd = spool_cand_open(sp, c)) != -1) {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			sha256_update(h, buf, (size_t)n);
		close(fd);
	}
	sha256_final(h, d);
	sha256_to_hex(d, hex);
	errlist_add(el, ERR_ARCHIVE_TRUNCATED, "/",
	    "上传不完整，文件保留待续传 / the upload is incomplete; the file "
	    "stays until it is complete");
	xml = receipt_build(c->name, hex, time(NULL), el, NULL, 0);
	if (receipt_write(src->outgoing, c->name, xml) == -1)
		log_err("spool: upload=%s: receipt: %s", c->name, strerror(errno));
	else
		log_warn("spool: upload=%s incomplete after upload_timeout",
		    c->name);
	c->reported = 1;
	free(xml);
	errlist_free(el);
}
