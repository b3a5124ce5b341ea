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
 */
#include <sys/eventfd.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/attachments.h"
#include "store/blob.h"
#include "lib/compat.h"
#include "common/config.h"
#include "mail/eml.h"
#include "lib/forksafe.h"
#include "common/json.h"
#include "lib/log.h"
#include "mail/mail.h"
#include "daemon/mailer.h"
#include "store/outbox.h"
#include "store/query.h"
#include "mail/smtp.h"
#include "store/store.h"
#include "common/workflow.h"
#include "lib/xmalloc.h"

#define REPLY_MAX 512
#define FLUSH_EVERY 64          /* outcomes marked in one transaction */
#define MAIL_PARAMS_MAX 24
#define ATTACH_MAX 4

/* The blank filing form attached to help replies. */
extern const unsigned char mail_tpl_filing_form[];
extern const size_t mail_tpl_filing_form_len;

struct mailer {
	const struct config *cf;
	struct store *st;
	struct smtp *smtp;      /* NULL: .eml files */
	char maildir[PATH_MAX];
	/* the filing of the previous mail (mails of one filing come
	 * together: one lookup for all of them) */
	struct store_filing_detail *detail;
	/* the run's server is unreachable: defer the rest with this */
	int down;
	char down_reply[REPLY_MAX];
	struct mailer_stats stats;
	int eml_unsynced;       /* .eml files written, not yet synced */
	/*
	 * SMTP: the run on its way.  Its rows are sending; its mails were
	 * composed here and handed to the sending thread in one list, which
	 * the thread works through while the loop goes on; the loop marks
	 * the outcomes as they come (nmarked).  The thread owns smtp,
	 * from, down and down_reply; under pk.mu: jobs, njobs, nsent.
	 */
	struct store_mail *rows;
	size_t nrows;
	struct sendjob *jobs;
	size_t njobs, nsent, nmarked;
	time_t run_now;
	char *from;
	struct parking pk;
	int efd;                /* eventfd: the thread finished a mail */
	int threaded;
};

/* A composed mail handed to the sending thread. */
struct sendjob {
	size_t row;             /* in the run's rows */
	unsigned char *msg;     /* wiped and freed once it is sent */
	size_t len;
	enum smtp_result r;
	char reply[REPLY_MAX];
};

/* Everything one mail's spec points into; freed by draft_clear. */
struct draft {
	struct json *params;
	struct mail_param p[MAIL_PARAMS_MAX];
	size_t np;
	char *owned[MAIL_PARAMS_MAX];
	size_t nowned;
	struct mail_finding *findings;
	size_t nfindings;
	struct mail_attachment att[ATTACH_MAX];
	unsigned char *attdata[ATTACH_MAX];
	char *attname[ATTACH_MAX];
	size_t natt;
	char *root;             /* the thread's first Message-ID */
	char tag[STORE_ID_SIZE + STORE_TOKEN_LEN + 4];
	struct mail_spec spec;
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
		m->smtp = smtp_new(cf->smtp_url, cf->smtp_starttls,
		    cf->smtp_ca_file, cf->smtp_timeout);
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
		} else {
			j->r = smtp_send(m->smtp, m->from, m->rows[j->row].to,
			    j->msg, j->len, j->reply, sizeof(j->reply));
			if (j->r == SMTP_DEFER && smtp_last_code(m->smtp) == 0) {
				m->down = 1;
				strlcpy(m->down_reply, j->reply,
				    sizeof(m->down_reply));
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

/* ---- the spec of one mail ------------------------------------------------ */

static void
draft_clear(struct draft *d)
{
	json_free(d->params);
	for (size_t i = 0; i < d->nowned; i++)
		free(d->owned[i]);
	free(d->findings);
	for (size_t i = 0; i < d->natt; i++) {
		free(d->attdata[i]);
		free(d->attname[i]);
	}
	free(d->root);
	memset(d, 0, sizeof(*d));
}

/* Set (or replace) parameter key; value is borrowed. */
static void
param_set(struct draft *d, const char *key, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	for (size_t i = 0; i < d->np; i++)
		if (strcmp(d->p[i].key, key) == 0) {
			d->p[i].value = value;
			return;
		}
	if (d->np < MAIL_PARAMS_MAX) {
		d->p[d->np].key = key;
		d->p[d->np++].value = value;
	}
}

/* Set parameter key to a malloc'd value the draft then owns. */
static void
param_own(struct draft *d, const char *key, char *value)
{
	if (value == NULL)
		return;
	if (d->nowned == MAIL_PARAMS_MAX) {
		free(value);
		return;
	}
	d->owned[d->nowned++] = value;
	param_set(d, key, value);
}

/* The strings of a JSON array joined by sep; NULL when there are none. */
static char *
join_strings(const struct json *a, const char *sep)
{
	char *s = NULL, *t;

	if (a == NULL || a->type != JSON_ARRAY)
		return NULL;
	for (size_t i = 0; i < a->n; i++) {
		if (a->v[i].type != JSON_STRING || a->v[i].len == 0)
			continue;
		t = s == NULL ? xstrdup(a->v[i].str) :
		    xasprintf("%s%s%s", s, sep, a->v[i].str);
		free(s);
		s = t;
	}
	return s;
}

/* Findings of params key ("errors", "issues"), warnings left out: the
 * mail lists what must be fixed. */
static void
findings_add(struct draft *d, const struct json *a)
{
	if (a == NULL || a->type != JSON_ARRAY)
		return;
	for (size_t i = 0; i < a->n; i++) {
		const struct json *e = &a->v[i];
		const char *sev = json_get_str(e, "severity");
		struct mail_finding *f;

		if (e->type != JSON_OBJECT ||
		    (sev != NULL && strcmp(sev, "warning") == 0))
			continue;
		d->findings = xreallocarray(d->findings, d->nfindings + 1,
		    sizeof(*d->findings));
		f = &d->findings[d->nfindings++];
		f->path = json_get_str(e, "path");
		f->code = json_get_str(e, "code");
		f->message = json_get_str(e, "message");
		if (f->path == NULL)
			f->path = "/";
		if (f->code == NULL)
			f->code = "";
		if (f->message == NULL)
			f->message = "";
	}
}

/* The filing's own data (sponsor, sites, domains), cached across the
 * mails of one filing.  0, or -1 on a store error. */
static int
filing_detail(struct mailer *m, const char *id,
    const struct store_filing_detail **out)
{
	struct store_filing_detail *d = NULL;
	int rc;

	*out = NULL;
	if (m->detail != NULL && strcmp(m->detail->info.id, id) == 0) {
		*out = m->detail;
		return 0;
	}
	store_filing_detail_free(m->detail);
	m->detail = NULL;
	if ((rc = store_filing_show(m->st, id, &d)) == -1)
		return -1;
	if (rc == 0)
		*out = m->detail = d;
	return 0;
}

/* Sites (one per line) and domains (space-separated) of the filing. */
static void
sites_add(struct draft *d, const struct store_filing_detail *fd)
{
	char *sites = NULL, *doms = NULL, *t;

	for (size_t i = 0; i < fd->nwebsites; i++) {
		const struct store_website *w = &fd->websites[i];

		if (w->name != NULL && w->name[0] != '\0') {
			t = sites == NULL ? xstrdup(w->name) :
			    xasprintf("%s, %s", sites, w->name);
			free(sites);
			sites = t;
		}
		if (w->domains != NULL && w->domains[0] != '\0') {
			t = doms == NULL ? xstrdup(w->domains) :
			    xasprintf("%s %s", doms, w->domains);
			free(doms);
			doms = t;
		}
	}
	param_own(d, "sites", sites);
	param_own(d, "domains", doms);
}

/* ---- attachments of a review request ------------------------------------ */

static const struct {
	const char *kind;
} review_kinds[ATTACH_MAX] = {
	{ "package" }, { "verification" }, { "onsite_photo" },
	{ "checklist_scan" },
};

/* What the bytes are, by content: a content type and a file suffix. */
static void
sniff(const unsigned char *b, size_t n, const char **type, const char **ext)
{
	*type = "application/octet-stream";
	*ext = "bin";
	if (n >= 4 && memcmp(b, "PK\3\4", 4) == 0)
		*type = "application/zip", *ext = "zip";
	else if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		*type = "application/gzip", *ext = "tar.gz";
	else if (n >= 6 && memcmp(b, "\xfd" "7zXZ\0", 6) == 0)
		*type = "application/x-xz", *ext = "tar.xz";
	else if (n >= 262 && memcmp(b + 257, "ustar", 5) == 0)
		*type = "application/x-tar", *ext = "tar";
	else if (n >= 3 && memcmp(b, "\xff\xd8\xff", 3) == 0)
		*type = "image/jpeg", *ext = "jpg";
	else if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
		*type = "image/png", *ext = "png";
	else if (n >= 5 && memcmp(b, "%PDF-", 5) == 0)
		*type = "application/pdf", *ext = "pdf";
	else if (n >= 1 && (b[0] == '<' || (n >= 4 &&
	    memcmp(b, "\xef\xbb\xbf<", 4) == 0)))
		*type = "application/xml", *ext = "xml";
}

/*
 * The review request's attachments: the latest of each kind the filing
 * has.  A kind it lacks is left out; one it has but that cannot be read
 * is an error (1, reply set: the mail is deferred, not sent without it).
 * -1 on a store error.
 */
static int
attachments_add(struct mailer *m, struct draft *d, const char *id,
    char *reply, size_t replysize)
{
	char sha[65], path[PATH_MAX], *name, *base;
	const char *type, *ext;
	int rc;

	for (size_t k = 0; k < ATTACH_MAX; k++) {
		struct mail_attachment *a = &d->att[d->natt];
		unsigned char *data;
		size_t len;

		if ((rc = store_attachment_latest(m->st, id,
		    review_kinds[k].kind, sha)) == -1)
			return -1;
		if (rc == 1)
			continue;
		if (store_attachment_path(m->st, sha, path, sizeof(path)) == -1 ||
		    blob_read(path, &data, &len) == -1) {
			snprintf(reply, replysize, "attachment %s of %s: %s",
			    review_kinds[k].kind, id, strerror(errno));
			return 1;
		}
		sniff(data, len, &type, &ext);
		name = NULL;
		if (strcmp(review_kinds[k].kind, "package") != 0 &&
		    (rc = store_attachment_name(m->st, sha, &name)) == -1) {
			free(data);
			return -1;
		}
		/* an entry's own name, without its folders; the package is
		 * named after the filing */
		if (name != NULL && (base = strrchr(name, '/')) != NULL &&
		    base[1] != '\0') {
			base = xstrdup(base + 1);
			free(name);
			name = base;
		}
		if (name == NULL || name[0] == '\0') {
			free(name);
			name = strcmp(review_kinds[k].kind, "package") == 0 ?
			    xasprintf("%s.%s", id, ext) :
			    xasprintf("%s-%s.%s", id, review_kinds[k].kind, ext);
		}
		d->attdata[d->natt] = data;
		d->attname[d->natt] = name;
		a->filename = name;
		a->content_type = type;
		a->data = data;
		a->len = len;
		d->natt++;
	}
	return 0;
}

/*
 * The spec of mail row: 0 ready, 1 the mail cannot be made (reply says
 * why; permanent when *permanent), -1 store error.
 */
static int
draft_build(struct mailer *m, const struct store_mail *row, struct draft *d,
    char *reply, size_t replysize, int *permanent)
{
	const struct store_filing_detail *fd = NULL;
	const struct config_provider *prov;
	const struct json *sl;
	const char *tpl = workflow_template_name(row->tpl);
	const char *id, *token, *kind, *actor, *v;
	char jerr[128];
	int rc;

	memset(d, 0, sizeof(*d));
	*permanent = 1;
	if (json_parse(row->params, row->params ? strlen(row->params) : 0,
	    &d->params, jerr, sizeof(jerr)) == -1 ||
	    d->params->type != JSON_OBJECT) {
		snprintf(reply, replysize, "params: %s",
		    d->params ? "not an object" : jerr);
		return 1;
	}

	/* the plain string members the templates know by the same name */
	for (size_t i = 0; i < d->params->n; i++) {
		static const char *const same[] = { "state", "reason",
		    "subject_licence", "sponsor_name", "upload", "sites",
		    "domains", "provider_name" };

		if (d->params->v[i].type != JSON_STRING)
			continue;
		for (size_t k = 0; k < sizeof(same) / sizeof(same[0]); k++)
			if (strcmp(d->params->k[i], same[k]) == 0)
				param_set(d, same[k], d->params->v[i].str);
	}
	id = row->filing != NULL ? row->filing : json_get_str(d->params, "id");
	param_set(d, "tracking_id", id);
	param_set(d, "filing_type", json_get_str(d->params, "type"));
	if (m->cf->imap_address != NULL)
		param_set(d, "intake_address", m->cf->imap_address);

	if (row->filing != NULL) {
		if (filing_detail(m, row->filing, &fd) == -1)
			return -1;
		if (fd != NULL) {
			param_set(d, "sponsor_name", fd->sponsor_name);
			sites_add(d, fd);
			if (json_get_str(d->params, "subject_licence") == NULL)
				param_set(d, "subject_licence",
				    fd->subject_licence);
		}
	}
	sl = json_get(d->params, "site_licences");
	if (sl != NULL)
		param_own(d, "site_licences", join_strings(sl, "\n"));
	else if ((v = json_get_str(d->params, "cancelled")) != NULL ||
	    (v = json_get_str(d->params, "access_ended")) != NULL)
		param_set(d, "site_licences", v);
	if ((v = json_get_str(d->params, "provider")) != NULL) {
		prov = config_provider_find(m->cf, v);
		param_set(d, "provider_name", prov != NULL && prov->name != NULL &&
		    prov->name[0] != '\0' ? prov->name : v);
	}

	/* who acted, in the words each template wants */
	kind = json_get_str(d->params, "actor_kind");
	actor = json_get_str(d->params, "actor");
	if (kind == NULL)
		kind = "";
	switch (row->tpl) {
	case WF_TPL_WITHDRAWN:
		/* the state the filing left, not "withdrawn" */
		param_set(d, "state", json_get_str(d->params, "from"));
		param_own(d, "withdrawn_by", actor != NULL ?
		    xasprintf("%s %s", kind, actor) : xstrdup(kind));
		break;
	case WF_TPL_REVIEW_REQUEST:
		/* a passing verification's reason is the verifier's name */
		v = json_get_str(d->params, "reason");
		param_set(d, "verifier", v != NULL ? v : actor);
		break;
	case WF_TPL_RETURNED_TO_OWNER:
		if (strcmp(kind, "provider") == 0)
			param_set(d, "verifier", actor);
		break;
	case WF_TPL_RETURNED_TO_PROVIDER:
	case WF_TPL_APPROVED_OWNER:
	case WF_TPL_APPROVED_PROVIDER:
	case WF_TPL_APPROVED_BUREAU:
		if (strcmp(kind, "bureau") == 0 || strcmp(kind, "operator") == 0)
			param_set(d, "reviewer", actor);
		break;
	default:
		break;
	}
	/* the password: from the row's secret, for these two only */
	if ((row->tpl == WF_TPL_APPROVED_OWNER ||
	    row->tpl == WF_TPL_PASSWORD_RESET) && row->secret != NULL)
		param_set(d, "password", row->secret);

	findings_add(d, json_get(d->params, "errors"));
	findings_add(d, json_get(d->params, "issues"));

	/* threading: answer the first mail this recipient got about it */
	if (row->filing != NULL) {
		rc = store_outbox_thread_root(m->st, row->filing, row->role,
		    &d->root);
		if (rc == -1)
			return -1;
		if (rc == 0 && strcmp(d->root, row->message_id) == 0) {
			free(d->root);
			d->root = NULL;
		}
		token = strcmp(row->role, "owner") == 0 ?
		    json_get_str(d->params, "owner_token") : NULL;
		if (token != NULL)
			snprintf(d->tag, sizeof(d->tag), "[%.15s %.8s]",
			    row->filing, token);
		else
			snprintf(d->tag, sizeof(d->tag), "[%.15s]", row->filing);
	}

	if (row->tpl == WF_TPL_HELP) {
		/* the blank form the help text points to (embedded, like the
		 * templates: daemon/templates/filing_form.txt) */
		struct mail_attachment *a = &d->att[d->natt++];

		a->filename = "filing.xml";
		a->content_type = "application/xml";
		a->data = mail_tpl_filing_form;
		a->len = mail_tpl_filing_form_len;
	}
	if (row->tpl == WF_TPL_REVIEW_REQUEST && row->filing != NULL) {
		if ((rc = attachments_add(m, d, row->filing, reply,
		    replysize)) != 0) {
			*permanent = 0;
			return rc;
		}
	}

	d->spec.tpl = tpl;
	d->spec.from = m->cf->smtp_from;
	d->spec.to = row->to;
	if (m->cf->imap_address != NULL && m->cf->imap_address[0] != '\0' &&
	    (strcmp(row->role, "owner") == 0 ||
	    strcmp(row->role, "sender") == 0 ||
	    row->tpl == WF_TPL_REVIEW_REQUEST))
		d->spec.reply_to = m->cf->imap_address;
	d->spec.message_id = row->message_id;
	d->spec.in_reply_to = d->root;
	d->spec.references = d->root;
	d->spec.date = row->created;
	d->spec.tag = d->tag[0] != '\0' ? d->tag : NULL;
	d->spec.review_token = row->tpl == WF_TPL_REVIEW_REQUEST ?
	    json_get_str(d->params, "review_token") : NULL;
	d->spec.params = d->p;
	d->spec.nparams = d->np;
	d->spec.findings = d->findings;
	d->spec.nfindings = d->nfindings;
	d->spec.attachments = d->att;
	d->spec.nattachments = d->natt;
	return 0;
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
