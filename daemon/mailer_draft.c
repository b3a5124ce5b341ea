/*
 * mailer: the spec of one mail, built from its outbox row — the params
 * JSON, the filing's details and findings, the provider, the thread's
 * first Message-ID, and a review request's attachments.  Composition
 * itself is mail_compose() (mail/mail_compose.c); mailer.c runs this.
 *
 * What is hostile here: the texts that end up in mails (sponsor names,
 * site names, findings, reasons) came from packages and mails of
 * strangers; they are only handed on as parameters, which mail_compose
 * keeps out of the headers.  The params JSON of a row is beiand's own but
 * is read by the strict json.c reader and refused (the mail fails) rather
 * than guessed at.  An attachment is typed by its content, never by the
 * name it came with.  The password of an approval mail is taken only
 * from the row's secret column and only for the two templates that show
 * it, never from params.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/json.h"
#include "common/labels.h"
#include "common/workflow.h"
#include "daemon/mailer_int.h"
#include "lib/xmalloc.h"
#include "mail/mail.h"
#include "store/attachments.h"
#include "store/blob.h"
#include "store/outbox.h"
#include "store/query.h"
#include "store/store.h"

/* The blank filing form attached to help replies. */
extern const unsigned char mail_tpl_filing_form[];
extern const size_t mail_tpl_filing_form_len;

/* ---- the spec of one mail ------------------------------------------------ */

void
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

/*
 * key_zh and key_en: the label of name with the name beside it, in
 * each language's part of the mail (common/labels.h: the console shows
 * the same words).
 */
static void
labels_add(struct draft *d, enum label_set set, const char *key,
    const char *name)
{
	char buf[128];

	if (name == NULL || name[0] == '\0')
		return;
	param_own(d, strcmp(key, "state") == 0 ? "state_zh" : "filing_type_zh",
	    xstrdup(label_with_name(set, name, 1, buf, sizeof(buf))));
	param_own(d, strcmp(key, "state") == 0 ? "state_en" : "filing_type_en",
	    xstrdup(label_with_name(set, name, 0, buf, sizeof(buf))));
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
int
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
	labels_add(d, LABEL_TYPE, "filing_type", json_get_str(d->params,
	    "type"));
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
		labels_add(d, LABEL_STATE, "state", json_get_str(d->params,
		    "from"));
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
	case WF_TPL_PASSWORD_FAILED:
		param_set(d, "at", json_get_str(d->params, "at"));
		param_set(d, "site_licences", json_get_str(d->params, "site"));
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
