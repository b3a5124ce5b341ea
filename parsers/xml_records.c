/*
 * xml_records: the records beside a filing into their structs: the
 * verification record (FORMAT.md §6), the bureau decision (§7), and the
 * manifest, withdrawals and handbacks of a provider batch (§5).
 *
 * Every document is hostile: a mail attachment or a provider's batch.  It
 * reaches this file only as a tree xmldoc_read() has checked (size,
 * encoding, no DOCTYPE, well-formed, schema findings reported), and the
 * walk still trusts nothing of its shape: unknown or misplaced elements
 * are skipped, the first of a single element wins, issues are kept up to
 * XMLDOC_LIST_MAX (manifest items are not capped: every member must be
 * listed, and xml_max_bytes bounds them).  A decision's token is wiped
 * before it is freed.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "lib/xmalloc.h"
#include "parsers/filing.h"
#include "parsers/xmldoc_int.h"

/* An issue of a verification record or a handback (§6). */
static void
xmldoc_issue_push(struct issue **arr, size_t *n, size_t *cap, const xmlNode *e)
{
	if (*n >= XMLDOC_LIST_MAX)
		return;
	xgrow(arr, cap, *n, sizeof(**arr));
	(*arr)[*n].path = xmldoc_attr(e, "path");
	(*arr)[*n].code = xmldoc_attr(e, "code");
	(*arr)[*n].text = xmldoc_text(e);
	(*n)++;
}

/* ---- verification ------------------------------------------------------- */

#define NS_VERIFICATION "urn:beiand:verification:1"

static const char *const xmldoc_checks[7] = {
	"subjectCert", "personCert", "contacts", "siteName", "preApproval",
	"domainOwner", "photoTaken",
};

int
verification_parse(const void *buf, size_t len,
    const struct input_limits *lim, struct verification **out,
    struct errlist *errs)
{
	xmlDocPtr doc;
	const xmlNode *root, *c, *i;
	struct verification *v;
	size_t k, cap = 0;
	char *s;

	if ((doc = xmldoc_read(buf, len, lim, XMLDOC_VERIFICATION,
	    errs)) == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	v = xcalloc(1, sizeof(*v));
	for (k = 0; k < 7; k++)
		v->checks[k] = -1;
	v->filing = xmldoc_attr(root, "filing");
	v->result = xmldoc_attr(root, "result");
	for (c = root->children; c != NULL; c = c->next) {
		if (!xmldoc_el(c, NS_VERIFICATION, NULL))
			continue;
		if (strcmp((const char *)c->name, "verifier") == 0)
			xmldoc_set_text(&v->verifier, c);
		else if (strcmp((const char *)c->name, "verifiedAt") == 0)
			xmldoc_set_text(&v->verified_at, c);
		else if (strcmp((const char *)c->name, "checks") == 0) {
			for (k = 0; k < 7; k++) {
				if ((s = xmldoc_attr(c, xmldoc_checks[k])) ==
				    NULL)
					continue;
				/* anything but a true value is not true */
				v->checks[k] = strcmp(s, "true") == 0 ||
				    strcmp(s, "1") == 0;
				free(s);
			}
		} else if (strcmp((const char *)c->name, "photo") == 0 &&
		    v->photo_file == NULL)
			v->photo_file = xmldoc_attr(c, "file");
		else if (strcmp((const char *)c->name, "checklistScan") == 0 &&
		    v->scan_file == NULL)
			v->scan_file = xmldoc_attr(c, "file");
		else if (strcmp((const char *)c->name, "remarks") == 0) {
			for (i = c->children; i != NULL; i = i->next)
				if (xmldoc_el(i, NS_VERIFICATION, "issue"))
					xmldoc_issue_push(&v->issues,
					    &v->nissues, &cap, i);
		}
	}
	xmlFreeDoc(doc);
	*out = v;
	return 0;
}

static void
xmldoc_issues_free(struct issue *is, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(is[i].path);
		free(is[i].code);
		free(is[i].text);
	}
	free(is);
}

void
verification_free(struct verification *v)
{
	if (v == NULL)
		return;
	free(v->filing);
	free(v->result);
	free(v->verifier);
	free(v->verified_at);
	free(v->photo_file);
	free(v->scan_file);
	xmldoc_issues_free(v->issues, v->nissues);
	free(v);
}

/* ---- decision ----------------------------------------------------------- */

#define NS_DECISION "urn:beiand:decision:1"

int
decision_parse(const void *buf, size_t len, const struct input_limits *lim,
    struct decision **out, struct errlist *errs)
{
	xmlDocPtr doc;
	const xmlNode *root, *c;
	struct decision *d;
	int reason = 0;

	if ((doc = xmldoc_read(buf, len, lim, XMLDOC_DECISION, errs)) == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	d = xcalloc(1, sizeof(*d));
	d->filing = xmldoc_attr(root, "filing");
	d->result = xmldoc_attr(root, "result");
	d->token = xmldoc_attr(root, "token");
	for (c = root->children; c != NULL; c = c->next) {
		if (!xmldoc_el(c, NS_DECISION, NULL))
			continue;
		if (strcmp((const char *)c->name, "reviewer") == 0)
			xmldoc_set_text(&d->reviewer, c);
		else if (strcmp((const char *)c->name, "reviewedAt") == 0)
			xmldoc_set_text(&d->reviewed_at, c);
		else if (strcmp((const char *)c->name, "licence") == 0)
			xmldoc_set_text(&d->licence, c);
		else if (strcmp((const char *)c->name, "reason") == 0 &&
		    !reason) {
			reason = 1;
			d->reason_code = xmldoc_attr(c, "code");
			d->reason_text = xmldoc_text(c);
		}
	}
	xmlFreeDoc(doc);
	if (d->result != NULL && strcmp(d->result, "approve") == 0)
		xmldoc_need(errs, "/decision", reason, 0, "reason",
		    "for result=\"approve\"");
	else if (d->result != NULL && strcmp(d->result, "reject") == 0) {
		xmldoc_need(errs, "/decision", reason, 1, "reason",
		    "for result=\"reject\"");
		xmldoc_need(errs, "/decision", d->licence != NULL, 0,
		    "licence", "for result=\"reject\"");
	}
	*out = d;
	return 0;
}

void
decision_free(struct decision *d)
{
	if (d == NULL)
		return;
	free(d->filing);
	free(d->result);
	if (d->token != NULL) {
		explicit_bzero(d->token, strlen(d->token));
		free(d->token);
	}
	free(d->reviewer);
	free(d->reviewed_at);
	free(d->licence);
	free(d->reason_code);
	free(d->reason_text);
	free(d);
}

/* ---- manifest, withdrawal, handback ------------------------------------- */

#define NS_BATCH "urn:beiand:batch:1"
#define NS_WITHDRAWAL "urn:beiand:withdrawal:1"
#define NS_HANDBACK "urn:beiand:handback:1"

int
manifest_parse(const void *buf, size_t len, const struct input_limits *lim,
    struct manifest **out, struct errlist *errs)
{
	xmlDocPtr doc;
	const xmlNode *root, *c;
	struct manifest *m;
	size_t cap = 0;

	if ((doc = xmldoc_read(buf, len, lim, XMLDOC_MANIFEST, errs)) == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	m = xcalloc(1, sizeof(*m));
	m->id = xmldoc_attr(root, "id");
	/* not capped: every member must be listed (bounded by xml_max_bytes) */
	for (c = root->children; c != NULL; c = c->next) {
		if (!xmldoc_el(c, NS_BATCH, "item"))
			continue;
		xgrow(&m->items, &cap, m->nitems, sizeof(*m->items));
		m->items[m->nitems].path = xmldoc_attr(c, "path");
		m->items[m->nitems].sha256 = xmldoc_attr(c, "sha256");
		m->nitems++;
	}
	xmlFreeDoc(doc);
	*out = m;
	return 0;
}

void
manifest_free(struct manifest *m)
{
	size_t i;

	if (m == NULL)
		return;
	free(m->id);
	for (i = 0; i < m->nitems; i++) {
		free(m->items[i].path);
		free(m->items[i].sha256);
	}
	free(m->items);
	free(m);
}

int
withdrawal_parse(const void *buf, size_t len,
    const struct input_limits *lim, struct withdrawal **out,
    struct errlist *errs)
{
	xmlDocPtr doc;
	const xmlNode *root, *c;
	struct withdrawal *w;

	if ((doc = xmldoc_read(buf, len, lim, XMLDOC_WITHDRAWAL,
	    errs)) == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	w = xcalloc(1, sizeof(*w));
	w->filing = xmldoc_attr(root, "filing");
	for (c = root->children; c != NULL; c = c->next)
		if (xmldoc_el(c, NS_WITHDRAWAL, "reason"))
			xmldoc_set_text(&w->reason, c);
	xmlFreeDoc(doc);
	*out = w;
	return 0;
}

void
withdrawal_free(struct withdrawal *w)
{
	if (w == NULL)
		return;
	free(w->filing);
	free(w->reason);
	free(w);
}

int
handback_parse(const void *buf, size_t len, const struct input_limits *lim,
    struct handback **out, struct errlist *errs)
{
	xmlDocPtr doc;
	const xmlNode *root, *c, *i;
	struct handback *h;
	size_t cap = 0;

	if ((doc = xmldoc_read(buf, len, lim, XMLDOC_HANDBACK, errs)) == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	h = xcalloc(1, sizeof(*h));
	h->filing = xmldoc_attr(root, "filing");
	for (c = root->children; c != NULL; c = c->next) {
		if (xmldoc_el(c, NS_HANDBACK, "issue"))
			xmldoc_issue_push(&h->issues, &h->nissues, &cap, c);
		else if (xmldoc_el(c, NS_HANDBACK, "remarks"))
			for (i = c->children; i != NULL; i = i->next)
				if (xmldoc_el(i, NS_HANDBACK, "issue"))
					xmldoc_issue_push(&h->issues,
					    &h->nissues, &cap, i);
	}
	xmlFreeDoc(doc);
	*out = h;
	return 0;
}

void
handback_free(struct handback *h)
{
	if (h == NULL)
		return;
	free(h->filing);
	xmldoc_issues_free(h->issues, h->nissues);
	free(h);
}
