/*
 * xml_filing: the filing document (FORMAT.md §1) into struct filing, and
 * the cardinalities of §1 that XSD 1.0 cannot express (which elements a
 * type and mode need or forbid, a unit's investor, a manager's
 * officePhone) as SCHEMA_VIOLATION findings.
 *
 * The document is hostile: an uploaded package or a mail attachment.  It
 * reaches this file only as a tree xmldoc_read() has checked (size,
 * encoding, no DOCTYPE, well-formed, schema findings reported), and the
 * walk still trusts nothing of its shape: unknown or misplaced elements
 * are skipped, the first of a single element wins, repeated elements are
 * kept up to XMLDOC_LIST_MAX.  Values are only copied here (type and
 * mode become enums; filing_check.c judges the rest), and the password is
 * wiped before it is freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "lib/xmalloc.h"
#include "parsers/filing.h"
#include "parsers/xmldoc_int.h"

/* ---- filing ------------------------------------------------------------- */

#define NS_FILING "urn:beiand:filing:1"

static void
xmldoc_push_text(char ***arr, size_t *n, size_t *cap, const xmlNode *e)
{
	if (*n >= XMLDOC_LIST_MAX)
		return;
	xgrow(arr, cap, *n, sizeof(**arr));
	(*arr)[(*n)++] = xmldoc_text(e);
}

static void
xmldoc_attachment_push(struct attachment **arr, size_t *n, size_t *cap,
    const xmlNode *e)
{
	if (*n >= XMLDOC_LIST_MAX)
		return;
	xgrow(arr, cap, *n, sizeof(**arr));
	(*arr)[*n].kind = xmldoc_attr(e, "kind");
	(*arr)[*n].file = xmldoc_attr(e, "file");
	(*n)++;
}

static void
xmldoc_person_free(struct person *p)
{
	size_t i;

	if (p == NULL)
		return;
	free(p->name);
	free(p->cert_type);
	free(p->cert_number);
	free(p->cert_valid_to);
	free(p->mobile);
	free(p->office_phone);
	free(p->email);
	for (i = 0; i < p->nattachments; i++) {
		free(p->attachments[i].kind);
		free(p->attachments[i].file);
	}
	free(p->attachments);
	free(p);
}

static struct person *
xmldoc_person(const xmlNode *e)
{
	struct person *p = xcalloc(1, sizeof(*p));
	const xmlNode *c;
	size_t cap = 0;

	for (c = e->children; c != NULL; c = c->next) {
		if (!xmldoc_el(c, NS_FILING, NULL))
			continue;
		if (strcmp((const char *)c->name, "name") == 0)
			xmldoc_set_text(&p->name, c);
		else if (strcmp((const char *)c->name, "certType") == 0)
			xmldoc_set_text(&p->cert_type, c);
		else if (strcmp((const char *)c->name, "certNumber") == 0)
			xmldoc_set_text(&p->cert_number, c);
		else if (strcmp((const char *)c->name, "certValidTo") == 0)
			xmldoc_set_text(&p->cert_valid_to, c);
		else if (strcmp((const char *)c->name, "mobile") == 0)
			xmldoc_set_text(&p->mobile, c);
		else if (strcmp((const char *)c->name, "officePhone") == 0)
			xmldoc_set_text(&p->office_phone, c);
		else if (strcmp((const char *)c->name, "email") == 0)
			xmldoc_set_text(&p->email, c);
		else if (strcmp((const char *)c->name, "attachment") == 0)
			xmldoc_attachment_push(&p->attachments,
			    &p->nattachments, &cap, c);
	}
	return p;
}

static struct sponsor *
xmldoc_sponsor(const xmlNode *e)
{
	struct sponsor *s = xcalloc(1, sizeof(*s));
	const xmlNode *c;
	size_t cap = 0;

	for (c = e->children; c != NULL; c = c->next) {
		if (!xmldoc_el(c, NS_FILING, NULL))
			continue;
		if (strcmp((const char *)c->name, "name") == 0)
			xmldoc_set_text(&s->name, c);
		else if (strcmp((const char *)c->name, "nature") == 0)
			xmldoc_set_text(&s->nature, c);
		else if (strcmp((const char *)c->name, "certType") == 0)
			xmldoc_set_text(&s->cert_type, c);
		else if (strcmp((const char *)c->name, "certNumber") == 0)
			xmldoc_set_text(&s->cert_number, c);
		else if (strcmp((const char *)c->name, "certAddress") == 0)
			xmldoc_set_text(&s->cert_address, c);
		else if (strcmp((const char *)c->name, "region") == 0)
			xmldoc_set_text(&s->region, c);
		else if (strcmp((const char *)c->name, "address") == 0)
			xmldoc_set_text(&s->address, c);
		else if (strcmp((const char *)c->name, "investor") == 0)
			xmldoc_set_text(&s->investor, c);
		else if (strcmp((const char *)c->name, "attachment") == 0)
			xmldoc_attachment_push(&s->attachments,
			    &s->nattachments, &cap, c);
		else if (strcmp((const char *)c->name, "principal") == 0 &&
		    s->principal == NULL)
			s->principal = xmldoc_person(c);
	}
	return s;
}

static void
xmldoc_access(struct access *a, const xmlNode *e)
{
	const xmlNode *c;
	struct access_ip *ip;
	size_t cap = 0, nip = 0, nrange = 0;

	for (c = e->children; c != NULL; c = c->next) {
		if (!xmldoc_el(c, NS_FILING, NULL))
			continue;
		if (strcmp((const char *)c->name, "method") == 0)
			xmldoc_set_text(&a->method, c);
		else if (strcmp((const char *)c->name, "serverLocation") == 0)
			xmldoc_set_text(&a->server_location, c);
		else if ((strcmp((const char *)c->name, "ip") == 0 ||
		    strcmp((const char *)c->name, "ipRange") == 0) &&
		    a->nips < XMLDOC_LIST_MAX) {
			xgrow(&a->ips, &cap, a->nips, sizeof(*a->ips));
			ip = &a->ips[a->nips++];
			if (c->name[2] == '\0') {
				ip->index = ++nip;
				ip->ip = xmldoc_text(c);
			} else {
				ip->is_range = 1;
				ip->index = ++nrange;
				ip->start = xmldoc_attr(c, "start");
				ip->end = xmldoc_attr(c, "end");
			}
		}
	}
}

static void
xmldoc_website(struct website *w, const xmlNode *e)
{
	const xmlNode *c;
	struct preapproval *pa;
	size_t dcap = 0, hcap = 0, lcap = 0, pcap = 0, acap = 0;

	for (c = e->children; c != NULL; c = c->next) {
		if (!xmldoc_el(c, NS_FILING, NULL))
			continue;
		if (strcmp((const char *)c->name, "name") == 0)
			xmldoc_set_text(&w->name, c);
		else if (strcmp((const char *)c->name, "domain") == 0)
			xmldoc_push_text(&w->domains, &w->ndomains, &dcap, c);
		else if (strcmp((const char *)c->name, "homeUrl") == 0)
			xmldoc_push_text(&w->home_urls, &w->nhome_urls, &hcap, c);
		else if (strcmp((const char *)c->name, "serviceContent") == 0)
			xmldoc_set_text(&w->service_content, c);
		else if (strcmp((const char *)c->name, "language") == 0)
			xmldoc_push_text(&w->languages, &w->nlanguages, &lcap,
			    c);
		else if (strcmp((const char *)c->name, "preApproval") == 0 &&
		    w->npreapprovals < XMLDOC_LIST_MAX) {
			xgrow(&w->preapprovals, &pcap, w->npreapprovals,
			    sizeof(*w->preapprovals));
			pa = &w->preapprovals[w->npreapprovals++];
			pa->type = xmldoc_attr(c, "type");
			pa->number = xmldoc_attr(c, "number");
			pa->file = xmldoc_attr(c, "file");
		} else if (strcmp((const char *)c->name, "manager") == 0 &&
		    w->manager == NULL)
			w->manager = xmldoc_person(c);
		else if (strcmp((const char *)c->name, "access") == 0 &&
		    w->naccesses < XMLDOC_LIST_MAX) {
			xgrow(&w->accesses, &acap, w->naccesses,
			    sizeof(*w->accesses));
			xmldoc_access(&w->accesses[w->naccesses++], c);
		}
	}
}

/* The cardinalities of FORMAT.md §1 that XSD 1.0 cannot express. */
static void
xmldoc_filing_card(const struct filing *f, struct errlist *errs)
{
	char why[64], path[64];
	const char *tn = filing_type_name(f->type);
	size_t i;
	int first, cancel;

	if (f->type != FILING_TYPE_UNKNOWN) {
		first = f->type == FILING_FIRST;
		cancel = f->type == FILING_CANCEL_SITE ||
		    f->type == FILING_CANCEL_ACCESS;
		snprintf(why, sizeof(why), "for type=\"%s\"", tn);
		xmldoc_need(errs, "/filing", f->subject_licence != NULL,
		    !first, "subjectLicence", why);
		xmldoc_need(errs, "/filing", f->site_licence != NULL, cancel,
		    "siteLicence", why);
		if (f->mode != FILING_MODE_UNKNOWN) {
			snprintf(why, sizeof(why),
			    "for type=\"%s\" mode=\"%s\"", tn,
			    filing_mode_name(f->mode));
			xmldoc_need(errs, "/filing", f->password != NULL,
			    f->type == FILING_CANCEL_SITE &&
			    f->mode == FILING_MODE_SELF, "password", why);
			snprintf(why, sizeof(why), "for type=\"%s\"", tn);
		}
		xmldoc_need(errs, "/filing", f->sponsor != NULL, first,
		    "sponsor", why);
		xmldoc_need(errs, "/filing", f->nwebsites > 0, !cancel,
		    "website", why);
	}
	if (f->sponsor != NULL && f->sponsor->nature != NULL &&
	    strcmp(f->sponsor->nature, "individual") != 0 &&
	    f->sponsor->investor == NULL)
		xmldoc_need(errs, "/filing/sponsor", 0, 1, "investor",
		    "for a unit");
	for (i = 0; i < f->nwebsites; i++) {
		if (f->websites[i].manager == NULL ||
		    f->websites[i].manager->office_phone != NULL)
			continue;
		snprintf(path, sizeof(path), "/filing/website[%zu]/manager",
		    i + 1);
		xmldoc_need(errs, path, 0, 1, "officePhone", "for a manager");
	}
}

int
filing_parse(const void *buf, size_t len, const struct input_limits *lim,
    struct filing **out, struct errlist *errs)
{
	xmlDocPtr doc;
	const xmlNode *root, *c;
	struct filing *f;
	char *s;
	size_t cap = 0;

	if ((doc = xmldoc_read(buf, len, lim, XMLDOC_FILING, errs)) == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	f = xcalloc(1, sizeof(*f));
	f->id = xmldoc_attr(root, "id");
	s = xmldoc_attr(root, "type");
	f->type = filing_type_parse(s);
	free(s);
	s = xmldoc_attr(root, "mode");
	if (s != NULL && strcmp(s, "self") == 0)
		f->mode = FILING_MODE_SELF;
	else if (s != NULL && strcmp(s, "delegated") == 0)
		f->mode = FILING_MODE_DELEGATED;
	free(s);
	for (c = root->children; c != NULL; c = c->next) {
		if (!xmldoc_el(c, NS_FILING, NULL))
			continue;
		if (strcmp((const char *)c->name, "province") == 0)
			xmldoc_set_text(&f->province, c);
		else if (strcmp((const char *)c->name, "subjectLicence") == 0)
			xmldoc_set_text(&f->subject_licence, c);
		else if (strcmp((const char *)c->name, "siteLicence") == 0)
			xmldoc_set_text(&f->site_licence, c);
		else if (strcmp((const char *)c->name, "password") == 0)
			xmldoc_set_text(&f->password, c);
		else if (strcmp((const char *)c->name, "sponsor") == 0 &&
		    f->sponsor == NULL)
			f->sponsor = xmldoc_sponsor(c);
		else if (strcmp((const char *)c->name, "website") == 0 &&
		    f->nwebsites < XMLDOC_LIST_MAX) {
			xgrow(&f->websites, &cap, f->nwebsites,
			    sizeof(*f->websites));
			xmldoc_website(&f->websites[f->nwebsites++], c);
		}
	}
	xmlFreeDoc(doc);
	xmldoc_filing_card(f, errs);
	*out = f;
	return 0;
}

static void
xmldoc_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
filing_free(struct filing *f)
{
	struct website *w;
	struct access *a;
	size_t i, j, k;

	if (f == NULL)
		return;
	free(f->id);
	free(f->province);
	free(f->subject_licence);
	free(f->site_licence);
	if (f->password != NULL) {
		/* do not leave the password lying in freed memory */
		explicit_bzero(f->password, strlen(f->password));
		free(f->password);
	}
	if (f->sponsor != NULL) {
		struct sponsor *s = f->sponsor;

		free(s->name);
		free(s->nature);
		free(s->cert_type);
		free(s->cert_number);
		free(s->cert_address);
		free(s->region);
		free(s->address);
		free(s->investor);
		for (i = 0; i < s->nattachments; i++) {
			free(s->attachments[i].kind);
			free(s->attachments[i].file);
		}
		free(s->attachments);
		xmldoc_person_free(s->principal);
		free(s);
	}
	for (i = 0; i < f->nwebsites; i++) {
		w = &f->websites[i];
		free(w->name);
		xmldoc_strv_free(w->domains, w->ndomains);
		xmldoc_strv_free(w->home_urls, w->nhome_urls);
		free(w->service_content);
		xmldoc_strv_free(w->languages, w->nlanguages);
		for (j = 0; j < w->npreapprovals; j++) {
			free(w->preapprovals[j].type);
			free(w->preapprovals[j].number);
			free(w->preapprovals[j].file);
		}
		free(w->preapprovals);
		xmldoc_person_free(w->manager);
		for (j = 0; j < w->naccesses; j++) {
			a = &w->accesses[j];
			free(a->method);
			free(a->server_location);
			for (k = 0; k < a->nips; k++) {
				free(a->ips[k].ip);
				free(a->ips[k].start);
				free(a->ips[k].end);
			}
			free(a->ips);
		}
		free(w->accesses);
	}
	free(f->websites);
	free(f);
}

enum filing_type
filing_type_parse(const char *s)
{
	if (s == NULL)
		return FILING_TYPE_UNKNOWN;
	if (strcmp(s, "firstFiling") == 0)
		return FILING_FIRST;
	if (strcmp(s, "addSite") == 0)
		return FILING_ADD_SITE;
	if (strcmp(s, "cancelSite") == 0)
		return FILING_CANCEL_SITE;
	if (strcmp(s, "cancelAccess") == 0)
		return FILING_CANCEL_ACCESS;
	return FILING_TYPE_UNKNOWN;
}

const char *
filing_type_name(enum filing_type t)
{
	switch (t) {
	case FILING_FIRST:
		return "firstFiling";
	case FILING_ADD_SITE:
		return "addSite";
	case FILING_CANCEL_SITE:
		return "cancelSite";
	case FILING_CANCEL_ACCESS:
		return "cancelAccess";
	default:
		return "unknown";
	}
}

const char *
filing_mode_name(enum filing_mode m)
{
	switch (m) {
	case FILING_MODE_SELF:
		return "self";
	case FILING_MODE_DELEGATED:
		return "delegated";
	default:
		return "unknown";
	}
}
