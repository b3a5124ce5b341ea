/*
 * test_wire: worker frames round-trip every field of real and built
 * uploads (worker/wire.c encodes, worker/wire_decode.c decodes).  The
 * uploads built here are shared (tests/test_wire.h); hostile frames are
 * tests/test_wire_hostile.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/check_setup.h"
#include "common/config.h"
#include "common/pack.h"
#include "lib/compat.h"
#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "parsers/archive_reader.h"
#include "parsers/mime.h"
#include "parsers/package.h"
#include "parsers/rules.h"
#include "worker/wire.h"
#include "test_wire.h"
#include "unit.h"

/* ---- deep comparison ---------------------------------------------------- */

static char *cmp_why;
static size_t cmp_whysize;

static int
differ(const char *what)
{
	if (cmp_why != NULL && cmp_why[0] == '\0')
		snprintf(cmp_why, cmp_whysize, "%s", what);
	return 0;
}

/* NULL and "" are different values. */
static int
str_eq(const char *a, const char *b, const char *what)
{
	if (a == NULL || b == NULL)
		return a == b ? 1 : differ(what);
	return strcmp(a, b) == 0 ? 1 : differ(what);
}

static int
errlist_eq(const struct errlist *a, const struct errlist *b)
{
	if (errlist_count(a) != errlist_count(b))
		return differ("finding count");
	for (size_t i = 0; i < errlist_count(a); i++) {
		const struct err_item *x = errlist_get(a, i), *y = errlist_get(b, i);

		if (x->code != y->code || x->severity != y->severity)
			return differ("finding code");
		if (!str_eq(x->path, y->path, "finding path") ||
		    !str_eq(x->message, y->message, "finding message"))
			return 0;
	}
	return 1;
}

static int
att_eq(const struct attachment *a, size_t na, const struct attachment *b,
    size_t nb)
{
	if (na != nb)
		return differ("attachment count");
	for (size_t i = 0; i < na; i++)
		if (!str_eq(a[i].kind, b[i].kind, "attachment kind") ||
		    !str_eq(a[i].file, b[i].file, "attachment file"))
			return 0;
	return 1;
}

static int
person_eq(const struct person *a, const struct person *b)
{
	if (a == NULL || b == NULL)
		return a == b ? 1 : differ("person presence");
	return str_eq(a->name, b->name, "person name") &&
	    str_eq(a->cert_type, b->cert_type, "person cert_type") &&
	    str_eq(a->cert_number, b->cert_number, "person cert_number") &&
	    str_eq(a->cert_valid_to, b->cert_valid_to, "person valid_to") &&
	    str_eq(a->mobile, b->mobile, "person mobile") &&
	    str_eq(a->office_phone, b->office_phone, "person office_phone") &&
	    str_eq(a->email, b->email, "person email") &&
	    att_eq(a->attachments, a->nattachments, b->attachments,
	    b->nattachments);
}

static int
strv_eq(char **a, size_t na, char **b, size_t nb, const char *what)
{
	if (na != nb)
		return differ(what);
	for (size_t i = 0; i < na; i++)
		if (!str_eq(a[i], b[i], what))
			return 0;
	return 1;
}

static int
issues_eq(const struct issue *a, size_t na, const struct issue *b, size_t nb)
{
	if (na != nb)
		return differ("issue count");
	for (size_t i = 0; i < na; i++)
		if (!str_eq(a[i].path, b[i].path, "issue path") ||
		    !str_eq(a[i].code, b[i].code, "issue code") ||
		    !str_eq(a[i].text, b[i].text, "issue text"))
			return 0;
	return 1;
}

static int
website_eq(const struct website *a, const struct website *b)
{
	if (!str_eq(a->name, b->name, "website name") ||
	    !strv_eq(a->domains, a->ndomains, b->domains, b->ndomains,
	    "domains") ||
	    !strv_eq(a->home_urls, a->nhome_urls, b->home_urls, b->nhome_urls,
	    "home_urls") ||
	    !str_eq(a->service_content, b->service_content, "service") ||
	    !strv_eq(a->languages, a->nlanguages, b->languages, b->nlanguages,
	    "languages") ||
	    !person_eq(a->manager, b->manager))
		return 0;
	if (a->npreapprovals != b->npreapprovals)
		return differ("preapproval count");
	for (size_t i = 0; i < a->npreapprovals; i++)
		if (!str_eq(a->preapprovals[i].type, b->preapprovals[i].type,
		    "preapproval type") ||
		    !str_eq(a->preapprovals[i].number,
		    b->preapprovals[i].number, "preapproval number") ||
		    !str_eq(a->preapprovals[i].file, b->preapprovals[i].file,
		    "preapproval file"))
			return 0;
	if (a->naccesses != b->naccesses)
		return differ("access count");
	for (size_t i = 0; i < a->naccesses; i++) {
		const struct access *x = &a->accesses[i], *y = &b->accesses[i];

		if (!str_eq(x->method, y->method, "access method") ||
		    !str_eq(x->server_location, y->server_location,
		    "server_location"))
			return 0;
		if (x->nips != y->nips)
			return differ("ip count");
		for (size_t k = 0; k < x->nips; k++) {
			if (x->ips[k].is_range != y->ips[k].is_range ||
			    x->ips[k].index != y->ips[k].index)
				return differ("ip kind/index");
			if (!str_eq(x->ips[k].ip, y->ips[k].ip, "ip") ||
			    !str_eq(x->ips[k].start, y->ips[k].start, "start") ||
			    !str_eq(x->ips[k].end, y->ips[k].end, "end"))
				return 0;
		}
	}
	return 1;
}

static int
filing_eq(const struct filing *a, const struct filing *b)
{
	if (a == NULL || b == NULL)
		return a == b ? 1 : differ("filing presence");
	if (a->type != b->type || a->mode != b->mode)
		return differ("filing type/mode");
	if (!str_eq(a->id, b->id, "filing id") ||
	    !str_eq(a->province, b->province, "province") ||
	    !str_eq(a->subject_licence, b->subject_licence, "subject_lic") ||
	    !str_eq(a->site_licence, b->site_licence, "site_licence") ||
	    !str_eq(a->password, b->password, "password"))
		return 0;
	if ((a->sponsor == NULL) != (b->sponsor == NULL))
		return differ("sponsor presence");
	if (a->sponsor != NULL) {
		const struct sponsor *x = a->sponsor, *y = b->sponsor;

		if (!str_eq(x->name, y->name, "sponsor name") ||
		    !str_eq(x->nature, y->nature, "nature") ||
		    !str_eq(x->cert_type, y->cert_type, "sponsor cert_type") ||
		    !str_eq(x->cert_number, y->cert_number, "sponsor number") ||
		    !str_eq(x->cert_address, y->cert_address, "cert_address") ||
		    !str_eq(x->region, y->region, "region") ||
		    !str_eq(x->address, y->address, "address") ||
		    !str_eq(x->investor, y->investor, "investor") ||
		    !att_eq(x->attachments, x->nattachments, y->attachments,
		    y->nattachments) ||
		    !person_eq(x->principal, y->principal))
			return 0;
	}
	if (a->nwebsites != b->nwebsites)
		return differ("website count");
	for (size_t i = 0; i < a->nwebsites; i++)
		if (!website_eq(&a->websites[i], &b->websites[i]))
			return 0;
	return 1;
}

static int
verification_eq(const struct verification *a, const struct verification *b)
{
	if (a == NULL || b == NULL)
		return a == b ? 1 : differ("verification presence");
	if (memcmp(a->checks, b->checks, sizeof(a->checks)) != 0)
		return differ("checks");
	return str_eq(a->filing, b->filing, "v filing") &&
	    str_eq(a->result, b->result, "v result") &&
	    str_eq(a->verifier, b->verifier, "verifier") &&
	    str_eq(a->verified_at, b->verified_at, "verified_at") &&
	    str_eq(a->photo_file, b->photo_file, "photo_file") &&
	    str_eq(a->scan_file, b->scan_file, "scan_file") &&
	    issues_eq(a->issues, a->nissues, b->issues, b->nissues);
}

static int
decision_eq(const struct decision *a, const struct decision *b)
{
	if (a == NULL || b == NULL)
		return a == b ? 1 : differ("decision presence");
	return str_eq(a->filing, b->filing, "d filing") &&
	    str_eq(a->result, b->result, "d result") &&
	    str_eq(a->token, b->token, "token") &&
	    str_eq(a->reviewer, b->reviewer, "reviewer") &&
	    str_eq(a->reviewed_at, b->reviewed_at, "reviewed_at") &&
	    str_eq(a->licence, b->licence, "licence") &&
	    str_eq(a->reason_code, b->reason_code, "reason_code") &&
	    str_eq(a->reason_text, b->reason_text, "reason_text");
}

static int
item_eq(const struct item *a, const struct item *b)
{
	if (a->kind != b->kind)
		return differ("item kind");
	if (!str_eq(a->path, b->path, "item path"))
		return 0;
	if (memcmp(a->sha256, b->sha256, 32) != 0)
		return differ("item sha256");
	if (!errlist_eq(a->errs, b->errs) || !filing_eq(a->filing, b->filing) ||
	    !verification_eq(a->verification, b->verification) ||
	    !decision_eq(a->decision, b->decision))
		return 0;
	if ((a->withdrawal == NULL) != (b->withdrawal == NULL))
		return differ("withdrawal presence");
	if (a->withdrawal != NULL &&
	    (!str_eq(a->withdrawal->filing, b->withdrawal->filing, "w filing") ||
	    !str_eq(a->withdrawal->reason, b->withdrawal->reason, "w reason")))
		return 0;
	if ((a->handback == NULL) != (b->handback == NULL))
		return differ("handback presence");
	if (a->handback != NULL &&
	    (!str_eq(a->handback->filing, b->handback->filing, "h filing") ||
	    !issues_eq(a->handback->issues, a->handback->nissues,
	    b->handback->issues, b->handback->nissues)))
		return 0;
	if (a->nfiles != b->nfiles)
		return differ("file count");
	for (size_t i = 0; i < a->nfiles; i++) {
		if (!str_eq(a->files[i].name, b->files[i].name, "file name"))
			return 0;
		if (a->files[i].size != b->files[i].size)
			return differ("file size");
		/* left out of a lean frame: its hash stands for it */
		if (b->files[i].data == NULL && a->files[i].size > 0 &&
		    a->files[i].data != NULL) {
			unsigned char d[32];

			sha256(a->files[i].data, a->files[i].size, d);
			if (b->files[i].sha256 == NULL ||
			    memcmp(d, b->files[i].sha256, 32) != 0)
				return differ("file sha256");
		} else if (a->files[i].size > 0 && memcmp(a->files[i].data,
		    b->files[i].data, a->files[i].size) != 0)
			return differ("file data");
	}
	return 1;
}

static int
mail_eq(const struct mail_meta *a, const struct mail_meta *b)
{
	if ((a == NULL) != (b == NULL))
		return differ("mail presence");
	if (a == NULL)
		return 1;
	return str_eq(a->message_id, b->message_id, "mail message_id") &&
	    str_eq(a->from_addr, b->from_addr, "mail from") &&
	    str_eq(a->return_path, b->return_path, "mail return_path") &&
	    str_eq(a->tag_id, b->tag_id, "mail tag_id") &&
	    str_eq(a->tag_token, b->tag_token, "mail tag_token") &&
	    str_eq(a->review_token, b->review_token, "mail review_token") &&
	    str_eq(a->reason, b->reason, "mail reason") &&
	    (a->automated == b->automated || differ("mail automated")) &&
	    (a->command == b->command || differ("mail command")) &&
	    (a->no_package == b->no_package || differ("mail no_package")) &&
	    (memcmp(a->sha256, b->sha256, 32) == 0 || differ("mail sha256"));
}

int
test_wire_upload_equal(const struct upload *a, const struct upload *b,
    char *why, size_t whysize)
{
	cmp_why = why;
	cmp_whysize = whysize;
	why[0] = '\0';
	if (!errlist_eq(a->errs, b->errs))
		return 0;
	if (!mail_eq(a->mail, b->mail))
		return 0;
	if (a->nitems != b->nitems)
		return differ("item count");
	for (size_t i = 0; i < a->nitems; i++)
		if (!item_eq(&a->items[i], &b->items[i]))
			return 0;
	return 1;
}

struct upload *
test_wire_roundtrip(const struct upload *u, const struct input_limits *lim)
{
	struct wire_answer a;
	unsigned char *frame;
	size_t len;
	char err[256];

	wire_encode_upload(u, &frame, &len);
	if (wire_decode(&frame, len, lim, &a, err, sizeof(err)) != 0) {
		unit_fail(__FILE__, __LINE__, "decode: %s", err);
		free(frame);
		return NULL;
	}
	if (a.kind != WIRE_UPLOAD || frame != NULL) {
		unit_fail(__FILE__, __LINE__, "decoded kind %d", a.kind);
		upload_free(a.upload);
		free(frame);
		return NULL;
	}
	return a.upload;
}

/* ---- uploads to test with ----------------------------------------------- */

struct config *
test_wire_config(void)
{
	char err[256];
	struct config *cf = config_parse("", 0, "test.conf", "/tmp", err,
	    sizeof(err));

	if (cf == NULL)
		unit_fail(__FILE__, __LINE__, "config: %s", err);
	return cf;
}

struct upload *
test_wire_read_upload(const struct config *cf, const char *name, const void *buf,
    size_t len)
{
	struct check_setup cs;
	struct upload *u;

	if (check_setup_init(&cs, cf, NULL, time(NULL)) != 0)
		return NULL;
	u = upload_read(name, buf, len, &cs.ctx, UPLOAD_HASH);
	check_setup_fini(&cs);
	return u;
}

static unsigned char *
fixture(const char *rel, size_t *len)
{
	char path[1024];
	unsigned char *b;

	snprintf(path, sizeof(path), "%s/%s", unit_fixtures(), rel);
	if ((b = unit_read_file(path, len)) == NULL)
		unit_fail(__FILE__, __LINE__, "cannot read %s", path);
	return b;
}

static const char withdrawal_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<withdrawal xmlns=\"urn:beiand:withdrawal:1\" filing=\"BA-2026-000123\">"
    "<reason>站点关闭</reason></withdrawal>\n";
static const char handback_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<handback xmlns=\"urn:beiand:handback:1\" filing=\"BA-2026-000124\">"
    "<issue path=\"/filing/sponsor/name\" code=\"NAME_MISMATCH\">名称不符"
    "</issue><issue path=\"/filing\" code=\"X\"></issue></handback>\n";

/*
 * A batch built in memory: two packages from valid.zip's members, records
 * of every kind beside them (a verification at the root and one inside a
 * package folder, so that items share files), a broken package, and a
 * stray file.
 */
unsigned char *
test_wire_batch(size_t *lenp)
{
	struct input_limits lim;
	struct errlist *el = errlist_new();
	struct ar_contents *ac = NULL;
	struct pkg_file files[64];
	char *names[64];
	unsigned char *zip = NULL, *valid, *ver, *dec;
	size_t n = 0, vlen, verlen, declen, zlen = 0;

	input_limits_defaults(&lim);
	valid = fixture("archive/valid.zip", &vlen);
	ver = unit_read_file("examples/BA-2026-000123.verification.xml",
	    &verlen);
	dec = unit_read_file("examples/BA-2026-000123.decision.xml", &declen);
	if (valid == NULL || ver == NULL || dec == NULL ||
	    ar_read(valid, vlen, &lim, &ac, el) != 0) {
		unit_fail(__FILE__, __LINE__, "batch ingredients");
		goto out;
	}
	for (int pkg = 0; pkg < 2; pkg++)
		for (size_t i = 0; i < ac->n; i++) {
			names[n] = xasprintf("%s/%s", pkg ? "site-b" : "site-a",
			    ac->entries[i].name);
			files[n].name = names[n];
			files[n].data = ac->entries[i].data;
			files[n].size = ac->entries[i].size;
			n++;
		}
#define ADD(nm, d, s) do {                                                     \
		names[n] = xstrdup(nm);                                        \
		files[n].name = names[n];                                      \
		files[n].data = (const unsigned char *)(d);                    \
		files[n].size = (s);                                           \
		n++;                                                           \
	} while (0)
	ADD("BA-2026-000123.verification.xml", ver, verlen);
	ADD("onsite.jpg", ac->entries[1].data, ac->entries[1].size);
	ADD("checklist.jpg", ac->entries[2].data, ac->entries[2].size);
	ADD("site-a/BA-2026-000125.verification.xml", ver, verlen);
	ADD("BA-2026-000123.decision.xml", dec, declen);
	ADD("BA-2026-000123.withdrawal.xml", withdrawal_xml,
	    sizeof(withdrawal_xml) - 1);
	ADD("BA-2026-000124.handback.xml", handback_xml,
	    sizeof(handback_xml) - 1);
	ADD("site-c/filing.xml", "<not-xml", 8);
	ADD("readme.txt", "", 0);
#undef ADD
	if (pack_zip(files, n, &zip, &zlen) != 0)
		unit_fail(__FILE__, __LINE__, "pack_zip");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
out:
	ar_contents_free(ac);
	errlist_free(el);
	free(valid);
	free(ver);
	free(dec);
	*lenp = zlen;
	return zip;
}

static unsigned counter;

/* A distinct string per call; every seventh is "" and every eleventh NULL,
 * so that the two are told apart on the wire. */
static char *
gen(void)
{
	unsigned c = counter++;

	if (c % 11 == 10)
		return NULL;
	if (c % 7 == 6)
		return xstrdup("");
	return xasprintf("v%u-值", c);
}

static struct person *
gen_person(void)
{
	struct person *p = xcalloc(1, sizeof(*p));

	p->name = gen();
	p->cert_type = gen();
	p->cert_number = gen();
	p->cert_valid_to = gen();
	p->mobile = gen();
	p->office_phone = gen();
	p->email = gen();
	p->nattachments = 2;
	p->attachments = xcalloc(2, sizeof(*p->attachments));
	for (size_t i = 0; i < 2; i++) {
		p->attachments[i].kind = gen();
		p->attachments[i].file = gen();
	}
	return p;
}

static void
gen_strv(char ***v, size_t *n, size_t count)
{
	*n = count;
	*v = count ? xcalloc(count, sizeof(**v)) : NULL;
	for (size_t i = 0; i < count; i++)
		(*v)[i] = gen();
}

static struct filing *
gen_filing(void)
{
	struct filing *f = xcalloc(1, sizeof(*f));
	struct sponsor *s;

	f->id = gen();
	f->type = FILING_ADD_SITE;
	f->mode = FILING_MODE_DELEGATED;
	f->province = gen();
	f->subject_licence = gen();
	f->site_licence = gen();
	f->password = xstrdup("");
	f->sponsor = s = xcalloc(1, sizeof(*s));
	s->name = gen();
	s->nature = gen();
	s->cert_type = gen();
	s->cert_number = gen();
	s->cert_address = gen();
	s->region = gen();
	s->address = gen();
	s->investor = gen();
	s->nattachments = 1;
	s->attachments = xcalloc(1, sizeof(*s->attachments));
	s->attachments[0].kind = gen();
	s->attachments[0].file = gen();
	s->principal = gen_person();
	f->nwebsites = 3;
	f->websites = xcalloc(3, sizeof(*f->websites));
	for (size_t i = 0; i < 3; i++) {
		struct website *w = &f->websites[i];

		w->name = gen();
		gen_strv(&w->domains, &w->ndomains, i + 1);
		gen_strv(&w->home_urls, &w->nhome_urls, i);
		w->service_content = gen();
		gen_strv(&w->languages, &w->nlanguages, 2);
		w->npreapprovals = i;
		w->preapprovals = i ? xcalloc(i, sizeof(*w->preapprovals)) :
		    NULL;
		for (size_t j = 0; j < i; j++) {
			w->preapprovals[j].type = gen();
			w->preapprovals[j].number = gen();
			w->preapprovals[j].file = gen();
		}
		w->manager = i == 1 ? NULL : gen_person();
		w->naccesses = 2;
		w->accesses = xcalloc(2, sizeof(*w->accesses));
		for (size_t j = 0; j < 2; j++) {
			struct access *a = &w->accesses[j];

			a->method = gen();
			a->server_location = gen();
			a->nips = 3;
			a->ips = xcalloc(3, sizeof(*a->ips));
			for (size_t k = 0; k < 3; k++) {
				a->ips[k].is_range = k == 1;
				a->ips[k].index = k * 1000 + j;
				a->ips[k].ip = gen();
				a->ips[k].start = gen();
				a->ips[k].end = gen();
			}
		}
	}
	return f;
}

static void
gen_issues(struct issue **is, size_t *n, size_t count)
{
	*n = count;
	*is = xcalloc(count, sizeof(**is));
	for (size_t i = 0; i < count; i++) {
		(*is)[i].path = gen();
		(*is)[i].code = gen();
		(*is)[i].text = gen();
	}
}

/* An upload built by hand: every field of every document set, with NULL
 * and "" among the values; files shared between items. */
struct upload *
test_wire_gen_upload(void)
{
	static const unsigned char blob[] = "\0binary\xff\x00 data";
	struct upload *u = xcalloc(1, sizeof(*u));
	struct item *it;

	counter = 0;
	u->errs = errlist_new();
	errlist_add(u->errs, ERR_MANIFEST_MISMATCH, "manifest.xml", "清单 %d", 1);
	errlist_add(u->errs, ERR_ATTACHMENT_UNUSED, "", NULL);
	u->nitems = 5;
	u->items = xcalloc(5, sizeof(*u->items));
	for (size_t i = 0; i < 5; i++) {
		it = &u->items[i];
		it->kind = (enum item_kind)i;
		it->path = xasprintf("item-%zu/", i);
		for (int k = 0; k < 32; k++)
			it->sha256[k] = (unsigned char)(i * 32 + (size_t)k);
		it->errs = errlist_new();
		if (i % 2 == 0)
			errlist_add(it->errs, ERR_CERT_EXPIRED,
			    "/filing/sponsor", "过期 / expired %zu", i);
		it->nfiles = i;
		it->files = i ? xcalloc(i, sizeof(*it->files)) : NULL;
		for (size_t j = 0; j < i; j++) {
			static const char *const nm[] = { "a.jpg", "子/b.png",
				"c", "d" };
			it->files[j].name = nm[j];
			it->files[j].data = j == 2 ? NULL : blob + j;
			it->files[j].size = j == 2 ? 0 : sizeof(blob) - 1 - j;
		}
	}
	u->items[0].filing = gen_filing();
	it = &u->items[1];
	it->verification = xcalloc(1, sizeof(*it->verification));
	it->verification->filing = gen();
	it->verification->result = gen();
	it->verification->verifier = gen();
	it->verification->verified_at = gen();
	for (int k = 0; k < 7; k++)
		it->verification->checks[k] = k % 3 - 1;
	it->verification->photo_file = gen();
	it->verification->scan_file = gen();
	gen_issues(&it->verification->issues, &it->verification->nissues, 4);
	it = &u->items[2];
	it->withdrawal = xcalloc(1, sizeof(*it->withdrawal));
	it->withdrawal->filing = gen();
	it->withdrawal->reason = xstrdup("");
	it = &u->items[3];
	it->handback = xcalloc(1, sizeof(*it->handback));
	it->handback->filing = NULL;
	gen_issues(&it->handback->issues, &it->handback->nissues, 2);
	it = &u->items[4];
	it->decision = xcalloc(1, sizeof(*it->decision));
	it->decision->filing = gen();
	it->decision->result = gen();
	it->decision->token = gen();
	it->decision->reviewer = gen();
	it->decision->reviewed_at = gen();
	it->decision->licence = gen();
	it->decision->reason_code = gen();
	it->decision->reason_text = gen();
	/* a second filing beside the verification: two documents */
	u->items[1].filing = gen_filing();
	return u;
}

/* ---- tests -------------------------------------------------------------- */

static void
check_roundtrip(const struct upload *u, const struct input_limits *lim,
    const char *what)
{
	struct upload *d = test_wire_roundtrip(u, lim);
	char why[256];

	CHECKM(d != NULL, "%s", what);
	if (d == NULL)
		return;
	CHECKM(test_wire_upload_equal(u, d, why, sizeof(why)), "%s: %s", what,
	    why);
	/* the decoded upload encodes to the same frame */
	{
		unsigned char *f1, *f2;
		size_t l1, l2;

		wire_encode_upload(u, &f1, &l1);
		wire_encode_upload(d, &f2, &l2);
		CHECKM(l1 == l2 && memcmp(f1, f2, l1) == 0, "%s: re-encode",
		    what);
		free(f1);
		free(f2);
	}
	upload_free(d);
}

UNIT_TEST(wire_roundtrip_built)
{
	struct input_limits lim;
	struct upload *u = test_wire_gen_upload(), *d;
	char why[256];

	input_limits_defaults(&lim);
	check_roundtrip(u, &lim, "built");
	/* The comparison can fail: a NULL made "" is a difference. */
	d = test_wire_roundtrip(u, &lim);
	if (d != NULL) {
		free(d->items[2].withdrawal->reason);
		d->items[2].withdrawal->reason = NULL;
		CHECK(!test_wire_upload_equal(u, d, why, sizeof(why)));
		CHECK_STR(why, "w reason");
		upload_free(d);
	}
	/* shared files travel once: of ten references, two views hold
	 * "binary" (blob and blob + 1), each on the wire once */
	{
		unsigned char *f, *q;
		size_t l, seen = 0;

		wire_encode_upload(u, &f, &l);
		for (q = f; (q = memmem(q, l - (size_t)(q - f), "binary\xff",
		    7)) != NULL; q++)
			seen++;
		CHECK_INT(seen, 2);
		free(f);
	}
	upload_free(u);
}

/*
 * A single package kept as uploaded travels lean: names, sizes and hashes,
 * no bytes.  The same frame claiming to be anything else (its item's path
 * changed) must not decode: the parent would need the bytes it lacks.
 */
static void
check_lean(const struct upload *u, const struct input_limits *lim)
{
	struct wire_answer a;
	unsigned char *frame, *p;
	size_t len, full = 0;
	char err[256];
	struct upload *d;

	CHECK(wire_upload_lean(u));
	for (size_t j = 0; j < u->items[0].nfiles; j++)
		full += u->items[0].files[j].size;
	wire_encode_upload(u, &frame, &len);
	CHECKM(len < full, "lean frame %zu bytes, contents %zu", len, full);
	if (wire_decode(&frame, len, lim, &a, err, sizeof(err)) != 0) {
		unit_fail(__FILE__, __LINE__, "decode: %s", err);
		free(frame);
		return;
	}
	d = a.upload;
	for (size_t j = 0; j < d->items[0].nfiles; j++) {
		unsigned char h[32];

		CHECK(d->items[0].files[j].data == NULL);
		sha256(u->items[0].files[j].data, u->items[0].files[j].size, h);
		CHECK(d->items[0].files[j].sha256 != NULL &&
		    memcmp(d->items[0].files[j].sha256, h, 32) == 0);
	}
	upload_free(d);

	wire_encode_upload(u, &frame, &len);
	p = memmem(frame, len, "\x01\x00\x00\x00/", 5);
	CHECK(p != NULL);
	if (p != NULL) {
		p[4] = 'x';
		CHECK(wire_decode(&frame, len, lim, &a, err, sizeof(err)) != 0);
		CHECK(strstr(err, "contents left out") != NULL);
	}
	free(frame);
}

UNIT_TEST(wire_roundtrip_fixtures)
{
	static const char *const rel[] = { "archive/valid.zip",
		"archive/valid.tar.gz", "archive/bomb.zip", "archive/many.zip",
		"archive/truncated.zip", "xml/schema-enum.zip",
		"xml/doctype.zip", "photo/pkg-dimensions.zip",
		"archive/cn-gb18030.zip" };
	struct config *cf = test_wire_config();

	if (cf == NULL)
		return;
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		size_t len;
		unsigned char *buf = fixture(rel[i], &len);
		struct upload *u;

		if (buf == NULL)
			continue;
		u = test_wire_read_upload(cf, "upload.zip", buf, len);
		check_roundtrip(u, &cf->limits, rel[i]);
		if (i == 0) {
			CHECK_INT(u->nitems, 1);
			CHECK(u->items[0].filing != NULL);
			CHECK_INT(u->items[0].nfiles, 6);
			check_lean(u, &cf->limits);
		}
		upload_free(u);
		free(buf);
	}
	config_free(cf);
}

UNIT_TEST(wire_roundtrip_batch)
{
	struct config *cf = test_wire_config();
	unsigned char *zip, *dec;
	size_t len, dlen;
	struct upload *u;

	if (cf == NULL)
		return;
	if ((zip = test_wire_batch(&len)) != NULL) {
		u = test_wire_read_upload(cf, "batch.zip", zip, len);
		CHECK(u->nitems >= 7);
		check_roundtrip(u, &cf->limits, "batch");
		/* a batch's items are packed anew: their bytes travel */
		CHECK(!wire_upload_lean(u));
		{
			struct upload *d = test_wire_roundtrip(u, &cf->limits);

			for (size_t i = 0; d != NULL && i < d->nitems; i++)
				for (size_t j = 0; j < d->items[i].nfiles; j++)
					CHECK(d->items[i].files[j].size == 0 ||
					    d->items[i].files[j].data != NULL);
			upload_free(d);
		}
		upload_free(u);
		free(zip);
	}
	/* a bare decision: no archive at all */
	dec = unit_read_file("examples/BA-2026-000123.decision.xml", &dlen);
	if (dec != NULL) {
		u = test_wire_read_upload(cf, "BA-2026-000123.decision.xml", dec, dlen);
		CHECK_INT(u->nitems, 1);
		check_roundtrip(u, &cf->limits, "bare decision");
		upload_free(u);
		free(dec);
	}
	config_free(cf);
}

UNIT_TEST(wire_small_answers)
{
	struct input_limits lim;
	struct wire_answer a;
	unsigned char *f;
	size_t l;
	char err[256];

	input_limits_defaults(&lim);
	for (int w = AR_WHOLE; w <= AR_NOT_ARCHIVE; w++) {
		wire_encode_whole((enum ar_whole)w, &f, &l);
		CHECK(wire_decode(&f, l, &lim, &a, err, sizeof(err)) == 0);
		CHECK_INT(a.kind, WIRE_WHOLE);
		CHECK_INT(a.whole, w);
		free(f);
	}
	wire_encode_error("reading the upload: I/O error", &f, &l);
	CHECK(wire_decode(&f, l, &lim, &a, err, sizeof(err)) == 0);
	CHECK_INT(a.kind, WIRE_ERROR);
	CHECK_STR(a.reason, "reading the upload: I/O error");
	free(f);
	/* whole value out of range */
	wire_encode_whole(AR_WHOLE, &f, &l);
	f[l - 1] = 7;
	CHECK(wire_decode(&f, l, &lim, &a, err, sizeof(err)) == -1);
	free(f);
}

/* Seeds for fuzz/fuzz_wire.c: BEIAND_WIRE_SEEDS=dir writes a few frames. */
UNIT_TEST(wire_seeds)
{
	const char *dir = getenv("BEIAND_WIRE_SEEDS");
	struct config *cf;
	struct upload *us[3] = { NULL, NULL, NULL };
	size_t len;
	unsigned char *buf;

	if (dir == NULL || (cf = test_wire_config()) == NULL)
		return;
	us[0] = test_wire_gen_upload();
	us[0]->mail = test_wire_gen_mail(); /* a WJ_MAIL answer */
	if ((buf = test_wire_batch(&len)) != NULL) {
		us[1] = test_wire_read_upload(cf, "b.zip", buf, len);
		free(buf);
	}
	if ((buf = fixture("xml/schema-enum.zip", &len)) != NULL) {
		us[2] = test_wire_read_upload(cf, "s.zip", buf, len);
		free(buf);
	}
	for (int i = 0; i < 5; i++) {
		char path[1024];
		unsigned char *f;
		size_t l;
		FILE *fp;

		if (i < 3 && us[i] == NULL)
			continue;
		if (i < 3)
			wire_encode_upload(us[i], &f, &l);
		else if (i == 3)
			wire_encode_whole(AR_INCOMPLETE, &f, &l);
		else
			wire_encode_error("reading the upload: EIO", &f, &l);
		snprintf(path, sizeof(path), "%s/seed-frame-%d", dir, i);
		if ((fp = fopen(path, "wb")) != NULL) {
			CHECK(fwrite(f, 1, l, fp) == l);
			fclose(fp);
		}
		free(f);
	}
	for (int i = 0; i < 3; i++)
		upload_free(us[i]);
	config_free(cf);
}

/* ---- mail (WJ_MAIL) ------------------------------------------------------ */

struct mail_meta *
test_wire_gen_mail(void)
{
	struct mail_meta *mm = xcalloc(1, sizeof(*mm));

	mm->message_id = xstrdup("abc.123@mua.example");
	mm->from_addr = xstrdup("owner@example.test");
	mm->return_path = xstrdup("bounce@example.test");
	strlcpy(mm->tag_id, "BA-2026-000123", sizeof(mm->tag_id));
	strlcpy(mm->tag_token, "k3J9xQ2m", sizeof(mm->tag_token));
	strlcpy(mm->review_token, "ABCDEFGHJKLMNPQR", sizeof(mm->review_token));
	mm->automated = 1;
	mm->command = MIME_CMD_REJECT;
	mm->reason = xstrdup("域名持有者不一致");
	mm->no_package = 1;
	for (int i = 0; i < 32; i++)
		mm->sha256[i] = (unsigned char)(i * 7 + 1);
	return mm;
}

UNIT_TEST(wire_mail_roundtrip)
{
	struct input_limits lim;
	struct upload *u = test_wire_gen_upload(), *d;
	char why[256];

	input_limits_defaults(&lim);
	/* with items and a mail, and a mail alone */
	u->mail = test_wire_gen_mail();
	check_roundtrip(u, &lim, "mail with items");
	d = test_wire_roundtrip(u, &lim);
	if (d != NULL) {
		CHECK(d->mail != NULL);
		if (d->mail != NULL) {
			CHECK_STR(d->mail->reason, "域名持有者不一致");
			CHECK_INT(d->mail->command, MIME_CMD_REJECT);
			/* the comparison sees a changed field */
			d->mail->command = MIME_CMD_APPROVE;
			CHECK(!test_wire_upload_equal(u, d, why, sizeof(why)));
			CHECK_STR(why, "mail command");
		}
		upload_free(d);
	}
	upload_free(u);

	u = xcalloc(1, sizeof(*u));
	u->errs = errlist_new();
	errlist_add(u->errs, ERR_MAIL_TOO_LARGE, "/", NULL);
	u->mail = test_wire_gen_mail();
	check_roundtrip(u, &lim, "mail alone");
	/* a spool upload decodes without a mail */
	mail_meta_free(u->mail);
	u->mail = NULL;
	d = test_wire_roundtrip(u, &lim);
	CHECK(d != NULL && d->mail == NULL);
	upload_free(d);
	upload_free(u);
}
