/*
 * filing_xml_write: a filing struct back to canonical XML (FORMAT.md §1),
 * and a verification record written out (FORMAT.md §6) for those who
 * verify at the host or in the console.
 *
 * What is stored of an accepted filing is this re-serialisation, never the
 * uploaded bytes: it has one encoding (UTF-8), one element order, no
 * comments or processing instructions, and never the <password>.  Values
 * come from filing_parse() (valid UTF-8 without control characters);
 * xmlTextWriter escapes markup characters.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "lib/xmalloc.h"
#include "parsers/filing.h"

struct fxw {
	xmlTextWriterPtr w;
	int bad; /* some writer call failed: only on memory exhaustion */
};

static void
fxw_check(struct fxw *x, int rc)
{
	if (rc < 0)
		x->bad = 1;
}

static void
fxw_start(struct fxw *x, const char *name)
{
	fxw_check(x, xmlTextWriterStartElement(x->w, BAD_CAST name));
}

static void
fxw_end(struct fxw *x)
{
	fxw_check(x, xmlTextWriterEndElement(x->w));
}

static void
fxw_text(struct fxw *x, const char *name, const char *value)
{
	if (value == NULL)
		return;
	fxw_check(x, xmlTextWriterWriteElement(x->w, BAD_CAST name,
	    BAD_CAST value));
}

static void
fxw_attr(struct fxw *x, const char *name, const char *value)
{
	if (value == NULL)
		return;
	fxw_check(x, xmlTextWriterWriteAttribute(x->w, BAD_CAST name,
	    BAD_CAST value));
}

static void
fxw_attachments(struct fxw *x, const struct attachment *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		fxw_start(x, "attachment");
		fxw_attr(x, "kind", a[i].kind);
		fxw_attr(x, "file", a[i].file);
		fxw_end(x);
	}
}

static void
fxw_person(struct fxw *x, const char *elem, const struct person *p)
{
	if (p == NULL)
		return;
	fxw_start(x, elem);
	fxw_text(x, "name", p->name);
	fxw_text(x, "certType", p->cert_type);
	fxw_text(x, "certNumber", p->cert_number);
	fxw_text(x, "certValidTo", p->cert_valid_to);
	fxw_text(x, "mobile", p->mobile);
	fxw_text(x, "officePhone", p->office_phone);
	fxw_text(x, "email", p->email);
	fxw_attachments(x, p->attachments, p->nattachments);
	fxw_end(x);
}

static void
fxw_sponsor(struct fxw *x, const struct sponsor *s)
{
	if (s == NULL)
		return;
	fxw_start(x, "sponsor");
	fxw_text(x, "name", s->name);
	fxw_text(x, "nature", s->nature);
	fxw_text(x, "certType", s->cert_type);
	fxw_text(x, "certNumber", s->cert_number);
	fxw_text(x, "certAddress", s->cert_address);
	fxw_text(x, "region", s->region);
	fxw_text(x, "address", s->address);
	fxw_text(x, "investor", s->investor);
	fxw_attachments(x, s->attachments, s->nattachments);
	fxw_person(x, "principal", s->principal);
	fxw_end(x);
}

static void
fxw_access(struct fxw *x, const struct access *a)
{
	size_t i;

	fxw_start(x, "access");
	fxw_text(x, "method", a->method);
	fxw_text(x, "serverLocation", a->server_location);
	for (i = 0; i < a->nips; i++) {
		if (!a->ips[i].is_range) {
			fxw_text(x, "ip", a->ips[i].ip);
			continue;
		}
		fxw_start(x, "ipRange");
		fxw_attr(x, "start", a->ips[i].start);
		fxw_attr(x, "end", a->ips[i].end);
		fxw_end(x);
	}
	fxw_end(x);
}

static void
fxw_website(struct fxw *x, const struct website *w)
{
	size_t i;

	fxw_start(x, "website");
	fxw_text(x, "name", w->name);
	for (i = 0; i < w->ndomains; i++)
		fxw_text(x, "domain", w->domains[i]);
	for (i = 0; i < w->nhome_urls; i++)
		fxw_text(x, "homeUrl", w->home_urls[i]);
	fxw_text(x, "serviceContent", w->service_content);
	for (i = 0; i < w->nlanguages; i++)
		fxw_text(x, "language", w->languages[i]);
	for (i = 0; i < w->npreapprovals; i++) {
		fxw_start(x, "preApproval");
		fxw_attr(x, "type", w->preapprovals[i].type);
		fxw_attr(x, "number", w->preapprovals[i].number);
		fxw_attr(x, "file", w->preapprovals[i].file);
		fxw_end(x);
	}
	fxw_person(x, "manager", w->manager);
	for (i = 0; i < w->naccesses; i++)
		fxw_access(x, &w->accesses[i]);
	fxw_end(x);
}

char *
filing_to_xml(const struct filing *f, size_t *lenp)
{
	struct fxw x = { NULL, 0 };
	xmlBufferPtr buf;
	char *out;
	size_t i, len;

	if ((buf = xmlBufferCreate()) == NULL ||
	    (x.w = xmlNewTextWriterMemory(buf, 0)) == NULL)
		abort(); /* only on memory exhaustion */
	fxw_check(&x, xmlTextWriterSetIndent(x.w, 1));
	fxw_check(&x, xmlTextWriterSetIndentString(x.w, BAD_CAST "  "));
	fxw_check(&x, xmlTextWriterStartDocument(x.w, NULL, "UTF-8", NULL));
	fxw_start(&x, "filing");
	fxw_attr(&x, "xmlns", "urn:beiand:filing:1");
	if (f->type != FILING_TYPE_UNKNOWN)
		fxw_attr(&x, "type", filing_type_name(f->type));
	if (f->mode != FILING_MODE_UNKNOWN)
		fxw_attr(&x, "mode", filing_mode_name(f->mode));
	fxw_attr(&x, "id", f->id);
	fxw_text(&x, "province", f->province);
	fxw_text(&x, "subjectLicence", f->subject_licence);
	fxw_text(&x, "siteLicence", f->site_licence);
	/* <password> is never written */
	fxw_sponsor(&x, f->sponsor);
	for (i = 0; i < f->nwebsites; i++)
		fxw_website(&x, &f->websites[i]);
	fxw_end(&x);
	fxw_check(&x, xmlTextWriterEndDocument(x.w));
	xmlFreeTextWriter(x.w); /* flushes into buf */
	if (x.bad)
		abort();
	len = (size_t)xmlBufferLength(buf);
	out = xstrndup((const char *)xmlBufferContent(buf), len);
	xmlBufferFree(buf);
	if (lenp != NULL)
		*lenp = len;
	return out;
}

/* The seven checks of FORMAT.md §6, in struct verification's order. */
static const char *const verification_check_names[7] = {
	"subjectCert", "personCert", "contacts", "siteName", "preApproval",
	"domainOwner", "photoTaken"
};

char *
verification_to_xml(const struct verification *v, size_t *lenp)
{
	struct fxw x = { NULL, 0 };
	xmlBufferPtr buf;
	char *out;
	size_t len;
	int any = 0;

	if ((buf = xmlBufferCreate()) == NULL ||
	    (x.w = xmlNewTextWriterMemory(buf, 0)) == NULL)
		abort(); /* only on memory exhaustion */
	fxw_check(&x, xmlTextWriterSetIndent(x.w, 1));
	fxw_check(&x, xmlTextWriterSetIndentString(x.w, BAD_CAST "  "));
	fxw_check(&x, xmlTextWriterStartDocument(x.w, NULL, "UTF-8", NULL));
	fxw_start(&x, "verification");
	fxw_attr(&x, "xmlns", "urn:beiand:verification:1");
	fxw_attr(&x, "filing", v->filing);
	fxw_attr(&x, "result", v->result);
	fxw_text(&x, "verifier", v->verifier);
	fxw_text(&x, "verifiedAt", v->verified_at);
	for (size_t i = 0; i < 7; i++)
		any |= v->checks[i] != -1;
	if (any) {
		fxw_start(&x, "checks");
		for (size_t i = 0; i < 7; i++)
			if (v->checks[i] != -1)
				fxw_attr(&x, verification_check_names[i],
				    v->checks[i] ? "true" : "false");
		fxw_end(&x);
	}
	if (v->photo_file != NULL) {
		fxw_start(&x, "photo");
		fxw_attr(&x, "file", v->photo_file);
		fxw_end(&x);
	}
	if (v->scan_file != NULL) {
		fxw_start(&x, "checklistScan");
		fxw_attr(&x, "file", v->scan_file);
		fxw_end(&x);
	}
	if (v->nissues > 0) {
		fxw_start(&x, "remarks");
		for (size_t i = 0; i < v->nissues; i++) {
			fxw_start(&x, "issue");
			fxw_attr(&x, "path", v->issues[i].path);
			fxw_attr(&x, "code", v->issues[i].code);
			if (v->issues[i].text != NULL)
				fxw_check(&x, xmlTextWriterWriteString(x.w,
				    BAD_CAST v->issues[i].text));
			fxw_end(&x);
		}
		fxw_end(&x);
	}
	fxw_end(&x);
	fxw_check(&x, xmlTextWriterEndDocument(x.w));
	xmlFreeTextWriter(x.w);
	if (x.bad)
		abort();
	len = (size_t)xmlBufferLength(buf);
	out = xstrndup((const char *)xmlBufferContent(buf), len);
	xmlBufferFree(buf);
	if (lenp != NULL)
		*lenp = len;
	return out;
}
