/*
 * test_xmldoc: the XML documents of FORMAT.md (parsers/xmldoc.c,
 * parsers/xml_filing.c, parsers/xml_records.c, parsers/filing_xml_write.c).
 */
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xmalloc.h"
#include "parsers/filing.h"
#include "unit.h"

static char *
example(const char *name, size_t *lenp)
{
	char path[256];
	unsigned char *b;
	size_t len = 0;

	snprintf(path, sizeof(path), "examples/%s", name);
	b = unit_read_file(path, &len);
	if (b == NULL)
		unit_fail(__FILE__, __LINE__, "cannot read %s", path);
	if (lenp != NULL)
		*lenp = len;
	return (char *)b;
}

/* s with the first occurrence of from replaced by to (a copy). */
static char *
repl(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *r;

	if (p == NULL) {
		unit_fail(__FILE__, __LINE__, "no \"%s\" in template", from);
		return xstrdup(s);
	}
	r = xasprintf("%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return r;
}

/* 1 when errs holds code at path (path NULL: any path). */
static int
has_at(const struct errlist *errs, enum err_code code, const char *path)
{
	size_t i;
	const struct err_item *it;

	for (i = 0; i < errlist_count(errs); i++) {
		it = errlist_get(errs, i);
		if (it->code == code &&
		    (path == NULL || strcmp(it->path, path) == 0))
			return 1;
	}
	return 0;
}

static void
dump(const struct errlist *errs)
{
	size_t i;
	const struct err_item *it;

	for (i = 0; i < errlist_count(errs); i++) {
		it = errlist_get(errs, i);
		fprintf(stderr, "    %s %s %s\n", err_code_name(it->code),
		    it->path, it->message);
	}
}

UNIT_TEST(xmldoc_example_filing)
{
	struct errlist *errs = errlist_new();
	struct filing *f = NULL;
	struct website *w;
	size_t len;
	char *x = example("filing.xml", &len);

	xmldoc_init();
	xmldoc_init(); /* idempotent */
	CHECK_INT(filing_parse(x, len, NULL, &f, errs), 0);
	CHECK_INT(errlist_count(errs), 0);
	if (f == NULL)
		goto out;
	CHECK_INT(f->type, FILING_FIRST);
	CHECK_INT(f->mode, FILING_MODE_SELF);
	CHECK(f->id == NULL);
	CHECK_STR(f->province, "11");
	CHECK(f->subject_licence == NULL && f->site_licence == NULL);
	CHECK(f->password == NULL);
	CHECK(f->sponsor != NULL);
	if (f->sponsor != NULL) {
		CHECK_STR(f->sponsor->name, "北京示例科技有限公司");
		CHECK_STR(f->sponsor->nature, "enterprise");
		CHECK_STR(f->sponsor->cert_type, "uscc");
		CHECK_STR(f->sponsor->cert_number, "91110108MA01XY3K34");
		CHECK_STR(f->sponsor->region, "110108");
		CHECK_STR(f->sponsor->investor, "北京示例控股有限公司");
		CHECK_INT(f->sponsor->nattachments, 1);
		CHECK_STR(f->sponsor->attachments[0].kind, "sponsorCert");
		CHECK_STR(f->sponsor->attachments[0].file, "license.jpg");
		CHECK(f->sponsor->principal != NULL);
		if (f->sponsor->principal != NULL) {
			CHECK_STR(f->sponsor->principal->name, "张三");
			CHECK_STR(f->sponsor->principal->cert_valid_to,
			    "2036-03-07");
			CHECK_STR(f->sponsor->principal->email,
			    "zhangsan@example.cn");
			CHECK_INT(f->sponsor->principal->nattachments, 2);
			CHECK_STR(f->sponsor->principal->attachments[1].kind,
			    "certBack");
		}
	}
	CHECK_INT(f->nwebsites, 1);
	if (f->nwebsites != 1)
		goto out;
	w = &f->websites[0];
	CHECK_STR(w->name, "示例科技官网");
	CHECK_INT(w->ndomains, 1);
	CHECK_STR(w->domains[0], "example.cn");
	CHECK_INT(w->nhome_urls, 1);
	CHECK_STR(w->home_urls[0], "www.example.cn");
	CHECK_STR(w->service_content, "unitPortal");
	CHECK_INT(w->nlanguages, 2);
	CHECK_STR(w->languages[1], "en");
	CHECK_INT(w->npreapprovals, 0);
	CHECK(w->manager != NULL);
	if (w->manager != NULL) {
		CHECK_STR(w->manager->cert_number, "11010519491231002X");
		CHECK_STR(w->manager->office_phone, "010-62345679");
	}
	CHECK_INT(w->naccesses, 1);
	if (w->naccesses == 1) {
		CHECK_STR(w->accesses[0].method, "cloud");
		CHECK_STR(w->accesses[0].server_location, "11");
		CHECK_INT(w->accesses[0].nips, 2);
		if (w->accesses[0].nips == 2) {
			CHECK_INT(w->accesses[0].ips[0].is_range, 0);
			CHECK_INT(w->accesses[0].ips[0].index, 1);
			CHECK_STR(w->accesses[0].ips[0].ip, "203.0.113.10");
			CHECK_INT(w->accesses[0].ips[1].is_range, 1);
			CHECK_INT(w->accesses[0].ips[1].index, 1);
			CHECK_STR(w->accesses[0].ips[1].start, "203.0.113.20");
			CHECK_STR(w->accesses[0].ips[1].end, "203.0.113.29");
		}
	}
 out:
	filing_free(f);
	errlist_free(errs);
	free(x);
}

UNIT_TEST(xmldoc_example_news_site)
{
	struct errlist *errs = errlist_new();
	struct filing *f = NULL;
	struct website *w;
	size_t len;
	char *x = example("news-site.xml", &len);

	CHECK_INT(filing_parse(x, len, NULL, &f, errs), 0);
	CHECK_INT(errlist_count(errs), 0);
	dump(errs);
	if (f == NULL || f->nwebsites != 1)
		goto out;
	CHECK_INT(f->type, FILING_ADD_SITE);
	CHECK_INT(f->mode, FILING_MODE_DELEGATED);
	CHECK(f->sponsor == NULL);
	CHECK_STR(f->subject_licence, "京ICP备2026000001号");
	w = &f->websites[0];
	CHECK_STR(w->domains[0], "例子.中国");
	CHECK_STR(w->home_urls[0], "https://www.例子.中国/news");
	CHECK_STR(w->service_content, "news");
	CHECK_INT(w->npreapprovals, 1);
	if (w->npreapprovals == 1) {
		CHECK_STR(w->preapprovals[0].type, "news");
		CHECK_STR(w->preapprovals[0].number, "京新闻许字〔2026〕001号");
		CHECK_STR(w->preapprovals[0].file, "news-approval.jpg");
	}
	CHECK_INT(w->naccesses, 1);
	if (w->naccesses == 1 && w->accesses[0].nips == 1)
		CHECK_STR(w->accesses[0].ips[0].ip, "2001:db8::10");
	else
		CHECK(0);
 out:
	filing_free(f);
	errlist_free(errs);
	free(x);
}

UNIT_TEST(xmldoc_example_records)
{
	struct errlist *errs = errlist_new();
	struct verification *v = NULL;
	struct decision *d = NULL;
	struct manifest *m = NULL;
	size_t len, i;
	char *x;

	x = example("BA-2026-000123.verification.xml", &len);
	CHECK_INT(verification_parse(x, len, NULL, &v, errs), 0);
	free(x);
	CHECK_INT(errlist_count(errs), 0);
	if (v != NULL) {
		CHECK_STR(v->filing, "BA-2026-000123");
		CHECK_STR(v->result, "pass");
		CHECK_STR(v->verifier, "李四");
		CHECK_STR(v->verified_at, "2026-11-28T10:00:00+08:00");
		for (i = 0; i < 7; i++)
			CHECKM(v->checks[i] == 1, "check %zu", i);
		CHECK_STR(v->photo_file, "onsite.jpg");
		CHECK_STR(v->scan_file, "checklist.jpg");
		CHECK_INT(v->nissues, 0);
	}
	verification_free(v);

	x = example("BA-2026-000123.decision.xml", &len);
	CHECK_INT(decision_parse(x, len, NULL, &d, errs), 0);
	free(x);
	CHECK_INT(errlist_count(errs), 0);
	if (d != NULL) {
		CHECK_STR(d->filing, "BA-2026-000123");
		CHECK_STR(d->result, "approve");
		CHECK_STR(d->token, "q7M2xR9kT4vW8pL3");
		CHECK_STR(d->reviewer, "王五");
		CHECK_STR(d->reviewed_at, "2026-11-29T09:30:00+08:00");
		CHECK(d->licence == NULL && d->reason_code == NULL);
	}
	decision_free(d);

	x = example("manifest.xml", &len);
	CHECK_INT(manifest_parse(x, len, NULL, &m, errs), 0);
	free(x);
	CHECK_INT(errlist_count(errs), 0);
	if (m != NULL) {
		CHECK_STR(m->id, "P001-20261128-01");
		CHECK_INT(m->nitems, 9);
		if (m->nitems == 9) {
			CHECK_STR(m->items[0].path, "site-a/filing.xml");
			CHECK_STR(m->items[8].path, "checklist.jpg");
			CHECK_INT(strlen(m->items[8].sha256), 64);
		}
	}
	manifest_free(m);
	errlist_free(errs);
}

static const char verification_return[] =
    "<verification xmlns=\"urn:beiand:verification:1\" filing=\"BA-2026-000124\" result=\"return\">"
    "<verifier>李四</verifier><verifiedAt>2026-11-28T10:00:00+08:00</verifiedAt>"
    "<checks subjectCert=\"true\" personCert=\"false\" contacts=\"1\" siteName=\"0\"/>"
    "<remarks><issue path=\"/filing/sponsor/principal/name\" code=\"NAME_MISMATCH\">与证件不符</issue>"
    "<issue path=\"/filing/website[1]/name\" code=\"SITE_NAME_INVALID\"> 网站名称 </issue></remarks>"
    "</verification>";

static const char decision_reject[] =
    "<decision xmlns=\"urn:beiand:decision:1\" filing=\"BA-2026-000123\" result=\"reject\" token=\"t0k\">"
    "<reviewer>王五</reviewer><reviewedAt>2026-11-29T09:30:00+08:00</reviewedAt>"
    "<reason code=\"DOMAIN_OWNER_MISMATCH\">域名持有者与主办单位不一致</reason></decision>";

static const char withdrawal_doc[] =
    "<?xml version=\"1.0\"?>\n<withdrawal xmlns=\"urn:beiand:withdrawal:1\" filing=\"BA-2026-000125\">"
    "<reason>客户撤回</reason></withdrawal>";

static const char handback_doc[] =
    "<handback xmlns=\"urn:beiand:handback:1\" filing=\"BA-2026-000126\">"
    "<issue path=\"/filing/website[1]/domain[1]\" code=\"DOMAIN_OWNER_MISMATCH\">域名持有者不符</issue>"
    "<issue path=\"/filing/sponsor/name\" code=\"NAME_MISMATCH\">名称不符</issue></handback>";

static const char handback_remarks_doc[] =
    "<handback xmlns=\"urn:beiand:handback:1\" filing=\"BA-2026-000126\"><remarks>"
    "<issue path=\"/filing/sponsor/name\" code=\"NAME_MISMATCH\">名称不符</issue></remarks></handback>";

UNIT_TEST(xmldoc_records_inline)
{
	struct errlist *errs = errlist_new();
	struct verification *v = NULL;
	struct decision *d = NULL;
	struct withdrawal *w = NULL;
	struct handback *h = NULL;
	char *x, *y;

	CHECK_INT(verification_parse(verification_return,
	    strlen(verification_return), NULL, &v, errs), 0);
	CHECK_INT(errlist_count(errs), 0);
	if (v != NULL) {
		CHECK_STR(v->result, "return");
		CHECK_INT(v->checks[0], 1);
		CHECK_INT(v->checks[1], 0);
		CHECK_INT(v->checks[2], 1);
		CHECK_INT(v->checks[3], 0);
		CHECK_INT(v->checks[4], -1);
		CHECK_INT(v->checks[6], -1);
		CHECK(v->photo_file == NULL && v->scan_file == NULL);
		CHECK_INT(v->nissues, 2);
		if (v->nissues == 2) {
			CHECK_STR(v->issues[0].path,
			    "/filing/sponsor/principal/name");
			CHECK_STR(v->issues[0].code, "NAME_MISMATCH");
			CHECK_STR(v->issues[0].text, "与证件不符");
			CHECK_STR(v->issues[1].text, "网站名称");
		}
	}
	verification_free(v);

	CHECK_INT(decision_parse(decision_reject, strlen(decision_reject),
	    NULL, &d, errs), 0);
	CHECK_INT(errlist_count(errs), 0);
	if (d != NULL) {
		CHECK_STR(d->result, "reject");
		CHECK_STR(d->reason_code, "DOMAIN_OWNER_MISMATCH");
		CHECK_STR(d->reason_text, "域名持有者与主办单位不一致");
	}
	decision_free(d);
	d = NULL;

	/* a reject needs its reason, and an approval has none */
	x = repl(decision_reject, "<reason code=\"DOMAIN_OWNER_MISMATCH\">"
	    "域名持有者与主办单位不一致</reason>", "");
	CHECK_INT(decision_parse(x, strlen(x), NULL, &d, errs), 0);
	CHECK(has_at(errs, ERR_SCHEMA_VIOLATION, "/decision"));
	free(x);
	decision_free(d);
	d = NULL;
	errlist_clear(errs);
	x = repl(decision_reject, "result=\"reject\"", "result=\"approve\"");
	CHECK_INT(decision_parse(x, strlen(x), NULL, &d, errs), 0);
	CHECK(has_at(errs, ERR_SCHEMA_VIOLATION, "/decision"));
	free(x);
	decision_free(d);
	d = NULL;
	errlist_clear(errs);
	/* an approval may carry the bureau's licence number */
	x = repl(decision_reject, "result=\"reject\"", "result=\"approve\"");
	y = repl(x, "<reason code=\"DOMAIN_OWNER_MISMATCH\">"
	    "域名持有者与主办单位不一致</reason>",
	    "<licence>京ICP备2026000001号</licence>");
	CHECK_INT(decision_parse(y, strlen(y), NULL, &d, errs), 0);
	CHECK_INT(errlist_count(errs), 0);
	if (d != NULL)
		CHECK_STR(d->licence, "京ICP备2026000001号");
	free(y);
	free(x);
	decision_free(d);
	d = NULL;
	x = repl(decision_reject, "result=\"reject\"", "result=\"maybe\"");
	CHECK_INT(decision_parse(x, strlen(x), NULL, &d, errs), 0);
	CHECK(has_at(errs, ERR_SCHEMA_VIOLATION, "/decision/@result"));
	free(x);
	decision_free(d);
	errlist_clear(errs);

	CHECK_INT(withdrawal_parse(withdrawal_doc, strlen(withdrawal_doc),
	    NULL, &w, errs), 0);
	CHECK_INT(errlist_count(errs), 0);
	if (w != NULL) {
		CHECK_STR(w->filing, "BA-2026-000125");
		CHECK_STR(w->reason, "客户撤回");
	}
	withdrawal_free(w);

	CHECK_INT(handback_parse(handback_doc, strlen(handback_doc), NULL, &h,
	    errs), 0);
	CHECK_INT(errlist_count(errs), 0);
	if (h != NULL) {
		CHECK_STR(h->filing, "BA-2026-000126");
		CHECK_INT(h->nissues, 2);
		if (h->nissues == 2)
			CHECK_STR(h->issues[1].code, "NAME_MISMATCH");
	}
	handback_free(h);
	h = NULL;
	CHECK_INT(handback_parse(handback_remarks_doc,
	    strlen(handback_remarks_doc), NULL, &h, errs), 0);
	CHECK_INT(errlist_count(errs), 0);
	if (h != NULL)
		CHECK_INT(h->nissues, 1);
	handback_free(h);

	/* the wrong document type is refused at the root */
	w = NULL;
	CHECK_INT(withdrawal_parse(handback_doc, strlen(handback_doc), NULL,
	    &w, errs), -1);
	CHECK(w == NULL);
	CHECK(has_at(errs, ERR_SCHEMA_VIOLATION, "/"));
	errlist_free(errs);
}

/* One mutation of examples/filing.xml and the finding it must earn. */
static const struct {
	const char *from, *to;
	enum err_code code;
	const char *path;
} schema_cases[] = {
	{ "type=\"firstFiling\"", "type=\"bogus\"", ERR_SCHEMA_VIOLATION,
	    "/filing/@type" },
	{ " mode=\"self\"", "", ERR_SCHEMA_VIOLATION, "/filing/@mode" },
	{ "mode=\"self\"", "mode=\"self\" extra=\"1\"", ERR_SCHEMA_VIOLATION,
	    "/filing/@extra" },
	{ "<serviceContent>unitPortal", "<serviceContent>casino",
	    ERR_SCHEMA_VIOLATION, "/filing/website[1]/serviceContent" },
	{ "<language>en</language>", "<language>de</language>",
	    ERR_SCHEMA_VIOLATION, "/filing/website[1]/language[2]" },
	{ "<nature>enterprise", "<nature>company", ERR_SCHEMA_VIOLATION,
	    "/filing/sponsor/nature" },
	{ "<name>北京示例科技有限公司", "<name>北", ERR_SCHEMA_VIOLATION,
	    "/filing/sponsor/name" },
	{ "<method>cloud", "<method>satellite", ERR_SCHEMA_VIOLATION,
	    "/filing/website[1]/access[1]/method" },
	{ "kind=\"certBack\" file=\"zs-back.jpg\"",
	    "kind=\"selfie\" file=\"zs-back.jpg\"", ERR_SCHEMA_VIOLATION,
	    "/filing/sponsor/principal/attachment[2]/@kind" },
	{ "<certType>residentId</certType>\n      <certNumber>110108",
	    "<certType>uscc</certType>\n      <certNumber>110108",
	    ERR_SCHEMA_VIOLATION, "/filing/sponsor/principal/certType" },
	{ "<province>11</province>", "", ERR_SCHEMA_VIOLATION, "/filing" },
	{ "<email>zhangsan@example.cn</email>", "", ERR_SCHEMA_VIOLATION,
	    "/filing/sponsor/principal" },
	{ "<ipRange start=\"203.0.113.20\" end=\"203.0.113.29\"/>",
	    "<ipRange start=\"203.0.113.20\"/>", ERR_SCHEMA_VIOLATION,
	    "/filing/website[1]/access[1]/ipRange[1]/@end" },
	{ "<domain>example.cn</domain>", "<domain>example.cn</domain><extra/>",
	    ERR_SCHEMA_VIOLATION, "/filing/website[1]/extra" },
	{ "<name>北京示例科技有限公司</name>", "", ERR_SCHEMA_VIOLATION,
	    "/filing/sponsor" },
	{ "<domain>example.cn</domain>\n    <homeUrl>www.example.cn</homeUrl>",
	    "<homeUrl>www.example.cn</homeUrl><domain>example.cn</domain>",
	    ERR_SCHEMA_VIOLATION, "/filing/website[1]/homeUrl[1]" },
	{ "<access>", "<foo/><access>", ERR_SCHEMA_VIOLATION,
	    "/filing/website[1]/foo" },
	{ "<officePhone>010-62345679</officePhone>", "", ERR_SCHEMA_VIOLATION,
	    "/filing/website[1]/manager" },
	{ "<investor>北京示例控股有限公司</investor>", "", ERR_SCHEMA_VIOLATION,
	    "/filing/sponsor" },
	{ "type=\"firstFiling\"", "type=\"addSite\"", ERR_SCHEMA_VIOLATION,
	    "/filing" },
	/* values with their own codes are not schema findings here */
	{ "<certNumber>91110108MA01XY3K34", "<certNumber>bad", ERR__COUNT,
	    NULL },
	{ "<mobile>13800138000", "<mobile>12", ERR__COUNT, NULL },
	{ "<domain>example.cn", "<domain>-bad-", ERR__COUNT, NULL },
};

UNIT_TEST(xmldoc_schema_paths)
{
	struct errlist *errs = errlist_new();
	struct filing *f;
	size_t i, len;
	char *base = example("filing.xml", &len), *x;

	for (i = 0; i < sizeof(schema_cases) / sizeof(schema_cases[0]); i++) {
		x = repl(base, schema_cases[i].from, schema_cases[i].to);
		f = NULL;
		errlist_clear(errs);
		CHECKM(filing_parse(x, strlen(x), NULL, &f, errs) == 0,
		    "case %zu", i);
		CHECKM(f != NULL, "case %zu", i);
		if (schema_cases[i].code == ERR__COUNT)
			CHECKM(errlist_count(errs) == 0, "case %zu", i);
		else
			CHECKM(has_at(errs, schema_cases[i].code,
			    schema_cases[i].path), "case %zu: %s", i,
			    schema_cases[i].path);
		if (!has_at(errs, schema_cases[i].code, schema_cases[i].path) &&
		    schema_cases[i].code != ERR__COUNT)
			dump(errs);
		filing_free(f);
		free(x);
	}
	free(base);
	errlist_free(errs);
}

/* A second sponsor, and an unknown element inside the second website. */
UNIT_TEST(xmldoc_schema_structure)
{
	struct errlist *errs = errlist_new();
	struct filing *f = NULL;
	const char *s0, *s1, *w0, *w1;
	size_t len;
	int i;
	char *base = example("filing.xml", &len), *x, *w2;

	s0 = strstr(base, "  <sponsor>");
	s1 = strstr(base, "</sponsor>\n") + strlen("</sponsor>\n");
	x = xasprintf("%.*s%.*s%s", (int)(s1 - base), base, (int)(s1 - s0), s0,
	    s1);
	CHECK_INT(filing_parse(x, strlen(x), NULL, &f, errs), 0);
	CHECK(has_at(errs, ERR_SCHEMA_VIOLATION, "/filing/sponsor"));
	CHECK(f != NULL && f->sponsor != NULL);
	filing_free(f);
	f = NULL;
	free(x);
	errlist_clear(errs);

	w0 = strstr(base, "  <website>");
	w1 = strstr(base, "</website>\n") + strlen("</website>\n");
	w2 = xasprintf("%.*s", (int)(w1 - w0), w0);
	x = repl(w2, "<serviceContent>", "<bogus>1</bogus><serviceContent>");
	free(w2);
	w2 = x;
	x = xasprintf("%.*s%s%s", (int)(w1 - base), base, w2, w1);
	CHECK_INT(filing_parse(x, strlen(x), NULL, &f, errs), 0);
	CHECK(has_at(errs, ERR_SCHEMA_VIOLATION, "/filing/website[2]/bogus"));
	CHECK_INT(errlist_count(errs), 1);
	/* extraction goes on past the unknown element */
	CHECK(f != NULL && f->nwebsites == 2);
	if (f != NULL && f->nwebsites == 2) {
		CHECK_STR(f->websites[1].service_content, "unitPortal");
		CHECK_INT(f->websites[1].naccesses, 1);
	}
	filing_free(f);
	f = NULL;
	free(x);
	free(w2);
	errlist_clear(errs);

	/* eleven websites: the schema's 10 is broken at the eleventh */
	w0 = strstr(base, "  <website>");
	w1 = strstr(base, "</website>\n") + strlen("</website>\n");
	w2 = xstrdup("");
	for (i = 0; i < 11; i++) {
		x = xasprintf("%s%.*s", w2, (int)(w1 - w0), w0);
		free(w2);
		w2 = x;
	}
	x = xasprintf("%.*s%s%s", (int)(w0 - base), base, w2, w1);
	free(w2);
	CHECK_INT(filing_parse(x, strlen(x), NULL, &f, errs), 0);
	CHECK(has_at(errs, ERR_SCHEMA_VIOLATION, "/filing/website[11]"));
	CHECK(f != NULL && f->nwebsites == 11);
	filing_free(f);
	free(x);
	free(base);
	errlist_free(errs);
}

/* Cardinalities that hang on the filing type (checked in C). */
UNIT_TEST(xmldoc_type_cardinality)
{
	static const struct {
		const char *doc;
		int nerr;
		const char *word; /* in the message of the finding */
	} cases[] = {
		{ "<filing xmlns='urn:beiand:filing:1' type='cancelSite' mode='self'>"
		  "<province>11</province><subjectLicence>京ICP备2026000001号</subjectLicence>"
		  "<siteLicence>京ICP备2026000001号-1</siteLicence><password>ab</password></filing>",
		  0, NULL },
		{ "<filing xmlns='urn:beiand:filing:1' type='cancelSite' mode='self'>"
		  "<province>11</province><subjectLicence>京ICP备2026000001号</subjectLicence>"
		  "<siteLicence>京ICP备2026000001号-1</siteLicence></filing>",
		  1, "password" },
		{ "<filing xmlns='urn:beiand:filing:1' type='cancelSite' mode='delegated'>"
		  "<province>11</province><subjectLicence>京ICP备2026000001号</subjectLicence>"
		  "<siteLicence>京ICP备2026000001号-1</siteLicence></filing>",
		  0, NULL },
		{ "<filing xmlns='urn:beiand:filing:1' type='cancelAccess' mode='delegated'>"
		  "<province>11</province><subjectLicence>京ICP备2026000001号</subjectLicence>"
		  "</filing>",
		  1, "siteLicence" },
		{ "<filing xmlns='urn:beiand:filing:1' type='addSite' mode='self'>"
		  "<province>11</province><subjectLicence>京ICP备2026000001号</subjectLicence>"
		  "</filing>",
		  1, "website" },
		{ "<filing xmlns='urn:beiand:filing:1' type='firstFiling' mode='self'>"
		  "<province>11</province></filing>",
		  2, "sponsor" },
	};
	struct errlist *errs = errlist_new();
	struct filing *f;
	const struct err_item *it;
	size_t i, k;
	int found;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f = NULL;
		errlist_clear(errs);
		CHECKM(filing_parse(cases[i].doc, strlen(cases[i].doc), NULL,
		    &f, errs) == 0, "case %zu", i);
		CHECKM((int)errlist_count(errs) == cases[i].nerr,
		    "case %zu: %zu findings", i, errlist_count(errs));
		found = cases[i].word == NULL;
		for (k = 0; k < errlist_count(errs); k++) {
			it = errlist_get(errs, k);
			CHECKM(it->code == ERR_SCHEMA_VIOLATION &&
			    strcmp(it->path, "/filing") == 0, "case %zu", i);
			if (cases[i].word != NULL &&
			    strstr(it->message, cases[i].word) != NULL)
				found = 1;
		}
		CHECKM(found, "case %zu", i);
		if (i == 0 && f != NULL)
			CHECK_STR(f->password, "ab");
		filing_free(f);
	}
	errlist_free(errs);
}

static const char doctype_doc[] =
    "<?xml version=\"1.0\"?>\n<!DOCTYPE filing>\n"
    "<filing xmlns=\"urn:beiand:filing:1\" type=\"firstFiling\" mode=\"self\"/>";
static const char xxe_doc[] =
    "<?xml version=\"1.0\"?>\n"
    "<!DOCTYPE filing [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
    "<filing xmlns=\"urn:beiand:filing:1\" type=\"firstFiling\" mode=\"self\">"
    "<province>&xxe;</province></filing>";
static const char ext_dtd_doc[] =
    "<!DOCTYPE filing SYSTEM \"http://127.0.0.1:9/x.dtd\">"
    "<filing xmlns=\"urn:beiand:filing:1\" type=\"firstFiling\" mode=\"self\"/>";
static const char undeclared_entity_doc[] =
    "<filing xmlns=\"urn:beiand:filing:1\" type=\"firstFiling\" mode=\"self\">"
    "<province>&xxe;</province></filing>";

static char *
billion_laughs(void)
{
	char *s = xstrdup("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
	    "<!ENTITY lol0 \"lol\">\n"), *t;
	int i;

	for (i = 1; i <= 10; i++) {
		t = xasprintf("%s<!ENTITY lol%d \"&lol%d;&lol%d;&lol%d;&lol%d;"
		    "&lol%d;&lol%d;&lol%d;&lol%d;&lol%d;&lol%d;\">\n", s, i,
		    i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
		    i - 1, i - 1);
		free(s);
		s = t;
	}
	t = xasprintf("%s]>\n<filing xmlns=\"urn:beiand:filing:1\" "
	    "type=\"firstFiling\" mode=\"self\"><province>&lol10;</province>"
	    "</filing>", s);
	free(s);
	return t;
}

static int
refused(const void *buf, size_t len, const struct input_limits *lim,
    enum err_code code)
{
	struct errlist *errs = errlist_new();
	struct filing *f = NULL;
	int ok;

	ok = filing_parse(buf, len, lim, &f, errs) == -1 && f == NULL &&
	    errlist_count(errs) == 1 && has_at(errs, code, "/");
	if (!ok)
		dump(errs);
	filing_free(f);
	errlist_free(errs);
	return ok;
}

UNIT_TEST(xmldoc_refuses_dtd)
{
	struct timespec t0, t1;
	char *bl = billion_laughs();
	double ms;

	CHECK(refused(doctype_doc, strlen(doctype_doc), NULL,
	    ERR_XML_DTD_FORBIDDEN));
	CHECK(refused(xxe_doc, strlen(xxe_doc), NULL, ERR_XML_DTD_FORBIDDEN));
	CHECK(refused(ext_dtd_doc, strlen(ext_dtd_doc), NULL,
	    ERR_XML_DTD_FORBIDDEN));
	/* Refused before any expansion: the CPU this process spends (not
	 * the wall clock, which a busy machine stretches) stays far below
	 * what expanding 10^9 entities would cost (many seconds). */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	CHECK(refused(bl, strlen(bl), NULL, ERR_XML_DTD_FORBIDDEN));
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	CHECKM(ms < 1000, "billion laughs took %.1f ms of CPU", ms);
	free(bl);
	/* without a DOCTYPE an entity reference is simply malformed */
	CHECK(refused(undeclared_entity_doc, strlen(undeclared_entity_doc),
	    NULL, ERR_XML_MALFORMED));
}

UNIT_TEST(xmldoc_refuses_bad_bytes)
{
	static const struct {
		const char *doc;
		size_t len;
		enum err_code code;
	} cases[] = {
#define C(s, c) { s, sizeof(s) - 1, c }
		C("\xff\xfe<\0f\0", ERR_XML_ENCODING),
		C("\xfe\xff\0<\0f", ERR_XML_ENCODING),
		C("\0<\0?\0x\0m\0l", ERR_XML_ENCODING),
		C("<\0?\0x\0m\0l\0", ERR_XML_ENCODING),
		C("\0\0\0<", ERR_XML_ENCODING),
		C("<filing xmlns=\"urn:beiand:filing:1\">\xc3\x28</filing>",
		    ERR_XML_ENCODING),
		C("<filing xmlns=\"urn:beiand:filing:1\">\xed\xa0\x80</filing>",
		    ERR_XML_ENCODING),
		C("<filing xmlns=\"urn:beiand:filing:1\">\xc0\xaf</filing>",
		    ERR_XML_ENCODING),
		C("<filing xmlns=\"urn:beiand:filing:1\">\xe4\xb8", ERR_XML_ENCODING),
		C("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><filing/>",
		    ERR_XML_ENCODING),
		C("<?xml version=\"1.0\" encoding=\"UTF-16\"?><filing/>",
		    ERR_XML_ENCODING),
		C("<?xml version='1.0' encoding='\xe4\xb8\xad'?><filing/>",
		    ERR_XML_ENCODING),
		C("<?xml version=\"1.0\" encoding=\"GBK\"?><filing>\x81</filing>",
		    ERR_XML_ENCODING),
		C("<filing xmlns=\"urn:beiand:filing:1\"><province>11</filing>",
		    ERR_XML_MALFORMED),
		C("<filing xmlns=\"urn:beiand:filing:1\"/><second/>",
		    ERR_XML_MALFORMED),
		C("<a:filing xmlns=\"urn:beiand:filing:1\"/>", ERR_XML_MALFORMED),
		C("<filing>\x01</filing>", ERR_XML_MALFORMED),
		C("", ERR_XML_MALFORMED),
		C("\xef\xbb\xbf", ERR_XML_MALFORMED),
		C("   ", ERR_XML_MALFORMED),
		C("<filing xmlns=\"urn:other\" type=\"firstFiling\" mode=\"self\"/>",
		    ERR_SCHEMA_VIOLATION),
		C("<filing type=\"firstFiling\" mode=\"self\"/>",
		    ERR_SCHEMA_VIOLATION),
		C("<decision xmlns=\"urn:beiand:decision:1\"/>",
		    ERR_SCHEMA_VIOLATION),
#undef C
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECKM(refused(cases[i].doc, cases[i].len, NULL, cases[i].code),
		    "case %zu", i);
}

UNIT_TEST(xmldoc_malformed_message)
{
	static const char doc[] = "<filing xmlns=\"urn:beiand:filing:1\">\n"
	    "<province>11</province>\n<x></y>\n</filing>";
	struct errlist *errs = errlist_new();
	struct filing *f = NULL;

	CHECK_INT(filing_parse(doc, strlen(doc), NULL, &f, errs), -1);
	CHECK(errlist_count(errs) == 1);
	if (errlist_count(errs) == 1) {
		CHECK_STR(errlist_get(errs, 0)->path, "/");
		CHECK(strstr(errlist_get(errs, 0)->message,
		    "malformed XML: line 3: ") != NULL);
	}
	errlist_free(errs);
}

UNIT_TEST(xmldoc_size_limit)
{
	struct input_limits lim;
	size_t len, big;
	char *x = example("filing.xml", &len), *pad;
	struct errlist *errs = errlist_new();
	struct filing *f = NULL;

	input_limits_defaults(&lim);
	lim.xml_max_bytes = len - 1;
	CHECK(refused(x, len, &lim, ERR_XML_TOO_LARGE));
	lim.xml_max_bytes = len;
	CHECK_INT(filing_parse(x, len, &lim, &f, errs), 0);
	filing_free(f);
	/* over the default 1 MiB, padded with a comment */
	big = (1u << 20) + 1;
	pad = xmalloc(big + len + 1);
	memcpy(pad, x, len);
	memcpy(pad + len, "<!--", 4);
	memset(pad + len + 4, 'x', big - 7);
	memcpy(pad + len + big - 3, "-->", 3);
	pad[len + big] = '\0';
	CHECK(refused(pad, len + big, NULL, ERR_XML_TOO_LARGE));
	free(pad);
	free(x);
	errlist_free(errs);
}

/* UTF-8 to another encoding, with iconv as a fixture maker. */
static char *
recode(const char *to, const char *s, size_t *outlen)
{
	iconv_t cd = iconv_open(to, "UTF-8");
	size_t il = strlen(s), ol = il * 4 + 16;
	char *out = xmalloc(ol), *ip = (char *)(uintptr_t)s, *op = out;

	if (cd == (iconv_t)-1 || iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
		unit_fail(__FILE__, __LINE__, "iconv to %s failed", to);
		*outlen = 0;
	} else
		*outlen = (size_t)(op - out);
	if (cd != (iconv_t)-1)
		iconv_close(cd);
	return out;
}

UNIT_TEST(xmldoc_gb_encodings)
{
	static const char *const encs[] = { "GBK", "gb2312", "GB18030",
		"CP936" };
	struct errlist *errs = errlist_new();
	struct filing *f = NULL, *g = NULL;
	size_t len, glen, i;
	char *x = example("filing.xml", &len), *decl, *gb, *a, *b;

	CHECK_INT(filing_parse(x, len, NULL, &f, errs), 0);
	for (i = 0; i < sizeof(encs) / sizeof(encs[0]); i++) {
		decl = xasprintf("encoding=\"%s\"", encs[i]);
		a = repl(x, "encoding=\"UTF-8\"", decl);
		gb = recode(i == 2 ? "GB18030" : "GBK", a, &glen);
		CHECKM(glen != strlen(a), "%s: really recoded", encs[i]);
		g = NULL;
		CHECKM(filing_parse(gb, glen, NULL, &g, errs) == 0, "%s",
		    encs[i]);
		CHECKM(errlist_count(errs) == 0, "%s", encs[i]);
		dump(errs);
		if (f != NULL && g != NULL) {
			a = (free(a), filing_to_xml(f, NULL));
			b = filing_to_xml(g, NULL);
			CHECKM(strcmp(a, b) == 0, "%s: same filing", encs[i]);
			CHECK_STR(g->sponsor->principal->name, "张三");
			free(b);
		}
		filing_free(g);
		free(a);
		free(gb);
		free(decl);
	}
	/* a character beyond GBK: four bytes in GB18030 */
	a = repl(x, "encoding=\"UTF-8\"", "encoding=\"GB18030\"");
	b = repl(a, "<name>示例科技官网</name>", "<name>示例𠀀官网</name>");
	gb = recode("GB18030", b, &glen);
	g = NULL;
	CHECK_INT(filing_parse(gb, glen, NULL, &g, errs), 0);
	if (g != NULL && g->nwebsites == 1)
		CHECK_STR(g->websites[0].name, "示例𠀀官网");
	filing_free(g);
	free(gb);
	free(b);
	free(a);
	filing_free(f);
	free(x);
	errlist_free(errs);
}

UNIT_TEST(xmldoc_text_values)
{
	static const char doc[] =
	    "\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?>\n"
	    "<f:filing xmlns:f='urn:beiand:filing:1' xmlns:o='urn:other' "
	    "type=' cancelSite ' mode='self' id='BA-2026-1000001'>\n"
	    "<!-- comment --><?pi x?>"
	    "<f:province>\n\t 11 \r\n</f:province>"
	    "<f:subjectLicence><![CDATA[京ICP备]]>2026000001&#21495;</f:subjectLicence>"
	    "<f:siteLicence>京ICP备2026000001号-1</f:siteLicence>"
	    "<f:password>a&amp;b&lt;</f:password>"
	    "<o:province>99</o:province>"
	    "</f:filing>";
	struct errlist *errs = errlist_new();
	struct filing *f = NULL;
	char *x;

	CHECK_INT(filing_parse(doc, strlen(doc), NULL, &f, errs), 0);
	/* only the foreign element is a finding */
	CHECK_INT(errlist_count(errs), 1);
	CHECK(has_at(errs, ERR_SCHEMA_VIOLATION, "/filing/province"));
	if (f != NULL) {
		CHECK_INT(f->type, FILING_CANCEL_SITE);
		CHECK_STR(f->id, "BA-2026-1000001");
		CHECK_STR(f->province, "11");
		CHECK_STR(f->subject_licence, "京ICP备2026000001号");
		CHECK_STR(f->password, "a&b<");
		x = filing_to_xml(f, NULL);
		CHECK(strstr(x, "password") == NULL);
		CHECK(strstr(x, "a&amp;b") == NULL);
		CHECK(strstr(x, "id=\"BA-2026-1000001\"") != NULL);
		free(x);
	}
	filing_free(f);
	errlist_free(errs);
}

/* parse(filing_to_xml(parse(x))) is parse(x), password aside. */
UNIT_TEST(xmldoc_round_trip)
{
	static const char *const names[] = { "filing.xml", "news-site.xml" };
	struct errlist *errs = errlist_new();
	struct filing *f, *g;
	size_t i, len, xl, yl;
	char *x, *a, *b;

	for (i = 0; i < 2; i++) {
		x = example(names[i], &len);
		f = g = NULL;
		CHECK_INT(filing_parse(x, len, NULL, &f, errs), 0);
		if (f == NULL) {
			free(x);
			continue;
		}
		a = filing_to_xml(f, &xl);
		CHECK_INT(strlen(a), xl);
		CHECK_INT(filing_parse(a, xl, NULL, &g, errs), 0);
		CHECK_INT(errlist_count(errs), 0);
		if (g != NULL) {
			b = filing_to_xml(g, &yl);
			CHECK_STR(a, b);
			CHECK_INT(g->type, f->type);
			CHECK_INT(g->mode, f->mode);
			CHECK_INT(g->nwebsites, f->nwebsites);
			CHECK_STR(g->websites[0].domains[0],
			    f->websites[0].domains[0]);
			CHECK_INT(g->websites[0].accesses[0].nips,
			    f->websites[0].accesses[0].nips);
			free(b);
		}
		filing_free(g);
		filing_free(f);
		free(a);
		free(x);
	}
	errlist_free(errs);
}

/* A flood of violations is reported, but not without bound. */
UNIT_TEST(xmldoc_findings_capped)
{
	struct errlist *errs = errlist_new();
	struct filing *f = NULL;
	char *doc = xstrdup("<filing xmlns='urn:beiand:filing:1' type='x' "
	    "mode='y'><province>11</province>"), *t;
	int i;

	for (i = 0; i < 5000; i++) {
		t = xasprintf("%s<website><domain>a%d.cn</domain><bad a='1'/>"
		    "</website>", doc, i);
		free(doc);
		doc = t;
	}
	t = xasprintf("%s</filing>", doc);
	free(doc);
	doc = t;
	CHECK_INT(filing_parse(doc, strlen(doc), NULL, &f, errs), 0);
	CHECK(errlist_count(errs) > 1 && errlist_count(errs) <= 60);
	CHECK(f != NULL && f->nwebsites <= 100);
	filing_free(f);
	free(doc);
	errlist_free(errs);
}
