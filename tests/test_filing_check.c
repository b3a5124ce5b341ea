/*
 * test_filing_check: the store-independent rules, on filings built in C.
 *
 * A valid filing mirroring examples/filing.xml must give no finding; each
 * table row changes a few fields (or the files) and must give exactly the
 * listed findings.  The XML parser is not involved.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "parsers/filing_check.h"
#include "parsers/input_limits.h"
#include "parsers/rules.h"
#include "unit.h"

/* A minimal but structurally whole JPEG: SOI, SOF0, SOS, data, EOI. */
static void
fx_jpeg(unsigned char *b, size_t *len, unsigned w, unsigned h)
{
	static const unsigned char sos[] = {
		0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03,
		0x11, 0x00, 0x3f, 0x00, 0x12, 0x34, 0x56, 0xff, 0x00, 0x78,
		0xff, 0xd9,
	};
	size_t n = 0;

	b[n++] = 0xff; b[n++] = 0xd8;
	b[n++] = 0xff; b[n++] = 0xc0; b[n++] = 0x00; b[n++] = 0x11;
	b[n++] = 0x08;
	b[n++] = h >> 8; b[n++] = h & 0xff;
	b[n++] = w >> 8; b[n++] = w & 0xff;
	b[n++] = 0x03;
	b[n++] = 0x01; b[n++] = 0x22; b[n++] = 0x00;
	b[n++] = 0x02; b[n++] = 0x11; b[n++] = 0x01;
	b[n++] = 0x03; b[n++] = 0x11; b[n++] = 0x01;
	memcpy(b + n, sos, sizeof(sos));
	*len = n + sizeof(sos);
}

#define S(lit) ((char *)(lit)) /* fields are never written through */

/* Every part of one test filing, in one block. */
struct fx {
	struct filing f;
	struct sponsor s;
	struct person principal, manager;
	struct attachment sa[1], pa[2], ma[2];
	struct website w[2];
	char *domains[2][3];
	char *urls[2][2];
	char *langs[1];
	struct preapproval pre[1];
	struct access acc[1];
	struct access_ip ips[2];

	unsigned char jpeg[64], small[64];
	size_t jpeg_len, small_len;
	struct pkg_file files[8];
	size_t nfiles;
};

static void
fx_person(struct person *p, struct attachment *a, int manager)
{
	memset(p, 0, sizeof(*p));
	p->name = S(manager ? "王芳" : "张三");
	p->cert_type = S("residentId");
	p->cert_number = S(manager ? "11010519491231002X" : "110108199003078886");
	p->cert_valid_to = S(manager ? "longTerm" : "2036-03-07");
	p->mobile = S(manager ? "13911112222" : "13800138000");
	p->office_phone = S(manager ? "010-62345679" : "010-62345678");
	p->email = S(manager ? "wangfang@example.cn" : "zhangsan@example.cn");
	a[0].kind = S("certFront");
	a[0].file = S(manager ? "wf-front.jpg" : "zs-front.jpg");
	a[1].kind = S("certBack");
	a[1].file = S(manager ? "wf-back.jpg" : "zs-back.jpg");
	p->attachments = a;
	p->nattachments = 2;
}

static void
fx_file(struct fx *x, const char *name, const unsigned char *data, size_t len)
{
	x->files[x->nfiles].name = name;
	x->files[x->nfiles].data = data;
	x->files[x->nfiles].size = len;
	x->nfiles++;
}

/* examples/filing.xml as structs, with its files. */
static void
fx_good(struct fx *x)
{
	static const unsigned char xml[] = "<filing/>";
	struct website *w = &x->w[0];

	memset(x, 0, sizeof(*x));
	x->f.type = FILING_FIRST;
	x->f.mode = FILING_MODE_SELF;
	x->f.province = S("11");
	x->f.sponsor = &x->s;
	x->f.websites = x->w;
	x->f.nwebsites = 1;

	x->s.name = S("北京示例科技有限公司");
	x->s.nature = S("enterprise");
	x->s.cert_type = S("uscc");
	x->s.cert_number = S("91110108MA01XY3K34");
	x->s.cert_address = S("北京市海淀区中关村大街1号");
	x->s.region = S("110108");
	x->s.address = S("北京市海淀区中关村大街1号5层");
	x->s.investor = S("北京示例控股有限公司");
	x->sa[0].kind = S("sponsorCert");
	x->sa[0].file = S("license.jpg");
	x->s.attachments = x->sa;
	x->s.nattachments = 1;
	x->s.principal = &x->principal;
	fx_person(&x->principal, x->pa, 0);
	fx_person(&x->manager, x->ma, 1);

	w->name = S("示例科技官网");
	x->domains[0][0] = S("example.cn");
	w->domains = x->domains[0];
	w->ndomains = 1;
	x->urls[0][0] = S("www.example.cn");
	w->home_urls = x->urls[0];
	w->nhome_urls = 1;
	w->service_content = S("unitPortal");
	x->langs[0] = S("zh-Hans");
	w->languages = x->langs;
	w->nlanguages = 1;
	w->manager = &x->manager;
	x->acc[0].method = S("cloud");
	x->acc[0].server_location = S("11");
	x->ips[0].is_range = 0;
	x->ips[0].index = 1;
	x->ips[0].ip = S("203.0.113.10");
	x->ips[1].is_range = 1;
	x->ips[1].index = 1;
	x->ips[1].start = S("203.0.113.20");
	x->ips[1].end = S("203.0.113.29");
	x->acc[0].ips = x->ips;
	x->acc[0].nips = 2;
	w->accesses = x->acc;
	w->naccesses = 1;

	fx_jpeg(x->jpeg, &x->jpeg_len, 480, 640);
	fx_jpeg(x->small, &x->small_len, 300, 400);
	fx_file(x, "filing.xml", xml, sizeof(xml) - 1);
	fx_file(x, "license.jpg", x->jpeg, x->jpeg_len);
	fx_file(x, "zs-front.jpg", x->jpeg, x->jpeg_len);
	fx_file(x, "zs-back.jpg", x->jpeg, x->jpeg_len);
	fx_file(x, "wf-front.jpg", x->jpeg, x->jpeg_len);
	fx_file(x, "wf-back.jpg", x->jpeg, x->jpeg_len);
}

/* A second website whose domain repeats the first one's. */
static void
fx_second_site(struct fx *x, const char *domain)
{
	struct website *w = &x->w[1];

	*w = x->w[0];
	w->name = S("示例科技商城");
	x->domains[1][0] = S("shop-example.cn");
	x->domains[1][1] = S(domain);
	w->domains = x->domains[1];
	w->ndomains = 2;
	x->urls[1][0] = S("shop-example.cn");
	w->home_urls = x->urls[1];
	x->f.nwebsites = 2;
}

static void
fx_drop_file(struct fx *x, const char *name)
{
	size_t i;

	for (i = 0; i < x->nfiles; i++)
		if (strcmp(x->files[i].name, name) == 0) {
			x->files[i] = x->files[--x->nfiles];
			return;
		}
}

static void
fx_set_file(struct fx *x, const char *name, const unsigned char *d, size_t n)
{
	size_t i;

	for (i = 0; i < x->nfiles; i++)
		if (strcmp(x->files[i].name, name) == 0) {
			x->files[i].data = d;
			x->files[i].size = n;
		}
}

static struct input_limits fx_lim;
static const char *const fx_provinces[] = { "11" };

static void
fx_ctx(struct check_ctx *ctx)
{
	input_limits_defaults(&fx_lim);
	memset(ctx, 0, sizeof(*ctx));
	ctx->lim = &fx_lim;
	ctx->today.y = 2026;
	ctx->today.m = 11;
	ctx->today.d = 28;
	ctx->provinces = fx_provinces;
	ctx->nprovinces = 1;
}

static struct errlist *
fx_run(const struct fx *x, const struct check_ctx *ctx)
{
	struct errlist *el = errlist_new();

	filing_check(&x->f, x->files, x->nfiles, ctx, el);
	return el;
}

static void
fx_dump(const struct errlist *el, const char *what)
{
	size_t i;

	for (i = 0; i < errlist_count(el); i++) {
		const struct err_item *it = errlist_get(el, i);

		fprintf(stderr, "  [%s] %s %s: %s\n", what,
		    err_code_name(it->code), it->path, it->message);
	}
}

static int
fx_has(const struct errlist *el, enum err_code code, const char *path)
{
	size_t i;

	for (i = 0; i < errlist_count(el); i++) {
		const struct err_item *it = errlist_get(el, i);

		if (it->code == code && strcmp(it->path, path) == 0)
			return 1;
	}
	return 0;
}

UNIT_TEST(filing_check_good)
{
	struct check_ctx ctx;
	struct fx x;
	struct errlist *el;

	fx_ctx(&ctx);
	fx_good(&x);
	el = fx_run(&x, &ctx);
	CHECK_INT(errlist_count(el), 0);
	fx_dump(el, "good");
	errlist_free(el);

	/* every province served */
	ctx.nprovinces = 0;
	x.f.province = S("12");
	x.s.region = S("120101");
	el = fx_run(&x, &ctx);
	CHECK_INT(errlist_count(el), 0);
	fx_dump(el, "all provinces");
	errlist_free(el);
}

/* Up to three fields set; UNSET makes a field absent (NULL). */
static const char UNSET[] = "(unset)";
#define F(field) (offsetof(struct fx, field) + 1)
#define NONE ERR__COUNT

enum fx_op { OP_NONE, OP_DROP, OP_EXTRA, OP_BADPHOTO, OP_SMALLPHOTO,
	OP_CUTPHOTO, OP_SITE2 };

struct fx_row {
	const char *name;
	size_t off[3];
	const char *val[3];
	enum fx_op op;
	const char *arg;
	enum err_code code;
	const char *path;
};

static const struct fx_row fx_rows[] = {
	{ "province not served", { F(f.province), F(s.region) },
	  { "12", "120101" }, 0, NULL,
	  ERR_PROVINCE_NOT_SERVED, "/filing/province" },
	{ "province unknown", { F(f.province) }, { "99" }, 0, NULL,
	  ERR_PROVINCE_NOT_SERVED, "/filing/province" },
	{ "sponsor uscc", { F(s.cert_number) }, { "91350203M0001QAY9B" }, 0,
	  NULL, ERR_CERT_NUMBER_INVALID, "/filing/sponsor/certNumber" },
	{ "sponsor orgCode ok", { F(s.cert_type), F(s.cert_number) },
	  { "orgCode", "D2143569-X" }, 0, NULL, NONE, NULL },
	{ "sponsor orgCode bad", { F(s.cert_type), F(s.cert_number) },
	  { "orgCode", "D2143569-1" }, 0, NULL, ERR_CERT_NUMBER_INVALID,
	  "/filing/sponsor/certNumber" },
	{ "sponsor other ok", { F(s.cert_type), F(s.cert_number) },
	  { "socialGroupCert", "SG-2026-0001" }, 0, NULL, NONE, NULL },
	{ "sponsor other uscc-shaped", { F(s.cert_type), F(s.cert_number) },
	  { "other", "91350203M0001QAY9B" }, 0, NULL, ERR_CERT_NUMBER_INVALID,
	  "/filing/sponsor/certNumber" },
	{ "sponsor other short", { F(s.cert_type), F(s.cert_number) },
	  { "publicInstitutionCert", "A1" }, 0, NULL, ERR_CERT_NUMBER_INVALID,
	  "/filing/sponsor/certNumber" },
	{ "unit personal cert", { F(s.cert_type), F(s.cert_number) },
	  { "passport", "E12345678" }, 0, NULL, ERR_CERT_TYPE_MISMATCH,
	  "/filing/sponsor/certType" },
	{ "individual uscc number", { F(s.nature), F(s.name), F(s.cert_type) },
	  { "individual", "张三", "residentId" }, OP_NONE, NULL, ERR_CERT_NUMBER_INVALID,
	  "/filing/sponsor/certNumber" },
	{ "individual unit cert", { F(s.nature), F(s.name) },
	  { "individual", "张三" }, 0, NULL, ERR_CERT_TYPE_MISMATCH,
	  "/filing/sponsor/certType" },
	{ "individual name", { F(s.nature), F(s.cert_type), F(s.cert_number) },
	  { "individual", "residentId", "110108199003078886" }, 0, NULL,
	  ERR_NAME_MISMATCH, "/filing/sponsor/name" },
	{ "certAddress short", { F(s.cert_address) }, { "北京市" }, 0, NULL,
	  ERR_ADDRESS_INCOMPLETE, "/filing/sponsor/certAddress" },
	{ "address short", { F(s.address) }, { "北京" }, 0, NULL,
	  ERR_ADDRESS_INCOMPLETE, "/filing/sponsor/address" },
	{ "region province", { F(s.region) }, { "990108" }, 0, NULL,
	  ERR_REGION_INVALID, "/filing/sponsor/region" },
	{ "region short", { F(s.region) }, { "11010" }, 0, NULL,
	  ERR_REGION_INVALID, "/filing/sponsor/region" },
	{ "cross province", { F(s.region) }, { "120101" }, 0, NULL,
	  ERR_CROSS_PROVINCE, "/filing/sponsor/region" },
	{ "investor is the parser's", { F(s.investor) }, { UNSET }, 0, NULL,
	  NONE, NULL },
	{ "sponsorCert", { F(sa[0].kind) }, { "certFront" }, 0, NULL,
	  ERR_ATTACHMENT_REQUIRED, "/filing/sponsor" },
	{ "principal name", { F(principal.name) }, { "张3" }, 0, NULL,
	  ERR_NAME_INVALID, "/filing/sponsor/principal/name" },
	{ "principal id", { F(principal.cert_number) },
	  { "110108199003078888" }, 0, NULL, ERR_CERT_NUMBER_INVALID,
	  "/filing/sponsor/principal/certNumber" },
	{ "passport ok", { F(principal.cert_type), F(principal.cert_number) },
	  { "passport", "E12345678" }, 0, NULL, NONE, NULL },
	{ "passport bad", { F(principal.cert_type), F(principal.cert_number) },
	  { "passport", "e1234" }, 0, NULL, ERR_CERT_NUMBER_INVALID,
	  "/filing/sponsor/principal/certNumber" },
	{ "expires soon", { F(principal.cert_valid_to) }, { "2026-12-31" }, 0,
	  NULL, ERR_CERT_EXPIRED, "/filing/sponsor/principal/certValidTo" },
	{ "expires day 89", { F(principal.cert_valid_to) }, { "2027-02-25" },
	  0, NULL, ERR_CERT_EXPIRED, "/filing/sponsor/principal/certValidTo" },
	{ "expires day 90", { F(principal.cert_valid_to) }, { "2027-02-26" },
	  0, NULL, NONE, NULL },
	{ "expired", { F(manager.cert_valid_to) }, { "2020-01-01" }, 0, NULL,
	  ERR_CERT_EXPIRED, "/filing/website[1]/manager/certValidTo" },
	{ "not a date", { F(principal.cert_valid_to) }, { "forever" }, 0, NULL,
	  ERR_CERT_EXPIRED, "/filing/sponsor/principal/certValidTo" },
	{ "mobile", { F(principal.mobile) }, { "12800138000" }, 0, NULL,
	  ERR_MOBILE_INVALID, "/filing/sponsor/principal/mobile" },
	{ "phone", { F(manager.office_phone) }, { "62345679" }, 0, NULL,
	  ERR_PHONE_INVALID, "/filing/website[1]/manager/officePhone" },
	{ "principal no phone", { F(principal.office_phone) }, { UNSET }, 0,
	  NULL, NONE, NULL },
	{ "email", { F(manager.email) }, { "wangfang@" }, 0, NULL,
	  ERR_EMAIL_INVALID, "/filing/website[1]/manager/email" },
	{ "certBack", { F(pa[1].kind) }, { "certFront" }, 0, NULL,
	  ERR_ATTACHMENT_REQUIRED, "/filing/sponsor/principal" },
	{ "certFront", { F(ma[0].kind) }, { "certBack" }, 0, NULL,
	  ERR_ATTACHMENT_REQUIRED, "/filing/website[1]/manager" },
	{ "site name", { F(w[0].name) }, { "中国示例网" }, 0, NULL,
	  ERR_SITE_NAME_INVALID, "/filing/website[1]/name" },
	{ "site name ascii", { F(w[0].name) }, { "Example" }, 0, NULL,
	  ERR_SITE_NAME_INVALID, "/filing/website[1]/name" },
	{ "government site name", { F(w[0].name), F(s.nature) },
	  { "中国示例网", "government" }, 0, NULL, NONE, NULL },
	{ "domain www", { F(domains[0][0]) }, { "www.example.cn" }, 0, NULL,
	  ERR_DOMAIN_NOT_REGISTRABLE, "/filing/website[1]/domain[1]" },
	{ "domain bad", { F(domains[0][0]) }, { "exa_mple.cn" }, 0, NULL,
	  ERR_DOMAIN_INVALID, "/filing/website[1]/domain[1]" },
	{ "homeUrl other", { F(urls[0][0]) }, { "www.other.cn" }, 0, NULL,
	  ERR_HOMEURL_NOT_IN_DOMAINS, "/filing/website[1]/homeUrl[1]" },
	{ "homeUrl boundary", { F(urls[0][0]) }, { "notexample.cn" }, 0, NULL,
	  ERR_HOMEURL_NOT_IN_DOMAINS, "/filing/website[1]/homeUrl[1]" },
	{ "idn", { F(domains[0][0]), F(urls[0][0]) },
	  { "例子.中国", "https://www.例子.中国/news" }, 0, NULL, NONE, NULL },
	{ "idn duplicate", { F(domains[0][0]), F(urls[0][0]) },
	  { "例子.中国", "www.例子.中国" }, OP_SITE2, "xn--fsqu00a.xn--fiqs8s",
	  ERR_DOMAIN_DUPLICATE, "/filing/website[2]/domain[2]" },
	{ "homeUrl port path", { F(urls[0][0]) },
	  { "https://WWW.Example.cn:8080/x" }, 0, NULL, NONE, NULL },
	{ "news", { F(w[0].service_content) }, { "news" }, 0, NULL,
	  ERR_PREAPPROVAL_MISSING, "/filing/website[1]/serviceContent" },
	{ "serverLocation", { F(acc[0].server_location) }, { "99" }, 0, NULL,
	  ERR_REGION_INVALID, "/filing/website[1]/access[1]/serverLocation" },
	{ "ip private", { F(ips[0].ip) }, { "10.0.0.1" }, 0, NULL,
	  ERR_IP_NOT_PUBLIC, "/filing/website[1]/access[1]/ip[1]" },
	{ "ip zero", { F(ips[0].ip) }, { "203.0.113.010" }, 0, NULL,
	  ERR_IP_INVALID, "/filing/website[1]/access[1]/ip[1]" },
	{ "ip v6", { F(ips[0].ip) }, { "2001:db8::10" }, 0, NULL, NONE, NULL },
	{ "ip v6 private", { F(ips[0].ip) }, { "fe80::1" }, 0, NULL,
	  ERR_IP_NOT_PUBLIC, "/filing/website[1]/access[1]/ip[1]" },
	{ "range reversed", { F(ips[1].start) }, { "203.0.113.30" }, 0, NULL,
	  ERR_IP_INVALID, "/filing/website[1]/access[1]/ipRange[1]" },
	{ "range families", { F(ips[1].start) }, { "2001:db8::1" }, 0, NULL,
	  ERR_IP_INVALID, "/filing/website[1]/access[1]/ipRange[1]" },
	{ "range 65536", { F(ips[1].start), F(ips[1].end) },
	  { "203.0.0.0", "203.0.255.255" }, 0, NULL, NONE, NULL },
	{ "range 65537", { F(ips[1].start), F(ips[1].end) },
	  { "203.0.0.0", "203.1.0.0" }, 0, NULL, ERR_IP_INVALID,
	  "/filing/website[1]/access[1]/ipRange[1]" },
	{ "range private", { F(ips[1].start), F(ips[1].end) },
	  { "192.168.1.1", "192.168.1.9" }, 0, NULL, ERR_IP_NOT_PUBLIC,
	  "/filing/website[1]/access[1]/ipRange[1]" },
	{ "range bad end", { F(ips[1].end) }, { "203.0.113" }, 0, NULL,
	  ERR_IP_INVALID, "/filing/website[1]/access[1]/ipRange[1]" },
	{ "missing file", { 0 }, { NULL }, OP_DROP, "wf-back.jpg",
	  ERR_ATTACHMENT_MISSING,
	  "/filing/website[1]/manager/attachment[2]/@file" },
	{ "unused file", { 0 }, { NULL }, OP_EXTRA, "notes.txt",
	  ERR_ATTACHMENT_UNUSED, "notes.txt" },
	{ "photo format", { 0 }, { NULL }, OP_BADPHOTO, "license.jpg",
	  ERR_PHOTO_FORMAT, "/filing/sponsor/attachment[1]/@file" },
	{ "photo corrupt", { 0 }, { NULL }, OP_CUTPHOTO, "zs-back.jpg",
	  ERR_PHOTO_CORRUPT, "/filing/sponsor/principal/attachment[2]/@file" },
	{ "photo dimensions", { 0 }, { NULL }, OP_SMALLPHOTO, "wf-front.jpg",
	  ERR_PHOTO_DIMENSIONS,
	  "/filing/website[1]/manager/attachment[1]/@file" },
	{ "duplicate domain", { 0 }, { NULL }, OP_SITE2, "EXAMPLE.cn.",
	  ERR_DOMAIN_DUPLICATE, "/filing/website[2]/domain[2]" },
	{ "two sites", { 0 }, { NULL }, OP_SITE2, "example.com.cn", NONE,
	  NULL },
};

static void
fx_apply(struct fx *x, const struct fx_row *r)
{
	static unsigned char cut[64];
	static const unsigned char text[] = "not a photo";
	size_t i;

	for (i = 0; i < 3 && r->off[i] != 0; i++)
		*(char **)((char *)x + r->off[i] - 1) =
		    r->val[i] == UNSET ? NULL : S(r->val[i]);
	switch (r->op) {
	case OP_NONE:
		break;
	case OP_DROP:
		fx_drop_file(x, r->arg);
		break;
	case OP_EXTRA:
		fx_file(x, r->arg, text, sizeof(text) - 1);
		break;
	case OP_BADPHOTO:
		fx_set_file(x, r->arg, text, sizeof(text) - 1);
		break;
	case OP_CUTPHOTO:
		memcpy(cut, x->jpeg, x->jpeg_len);
		fx_set_file(x, r->arg, cut, x->jpeg_len - 2); /* no EOI */
		break;
	case OP_SMALLPHOTO:
		fx_set_file(x, r->arg, x->small, x->small_len);
		break;
	case OP_SITE2:
		fx_second_site(x, r->arg);
		break;
	}
}

UNIT_TEST(filing_check_mutations)
{
	struct check_ctx ctx;
	struct errlist *el;
	struct fx x;
	size_t i, want;

	fx_ctx(&ctx);
	for (i = 0; i < sizeof(fx_rows) / sizeof(fx_rows[0]); i++) {
		const struct fx_row *r = &fx_rows[i];

		fx_good(&x);
		fx_apply(&x, r);
		el = fx_run(&x, &ctx);
		want = r->code == NONE ? 0 : 1;
		CHECKM(errlist_count(el) == want, "%s: %zu findings",
		    r->name, errlist_count(el));
		if (want)
			CHECKM(fx_has(el, r->code, r->path), "%s: want %s at %s",
			    r->name, err_code_name(r->code), r->path);
		if (errlist_count(el) != want || (want &&
		    !fx_has(el, r->code, r->path)))
			fx_dump(el, r->name);
		errlist_free(el);
	}
}

UNIT_TEST(filing_check_multi)
{
	struct check_ctx ctx;
	struct errlist *el;
	struct fx x;

	fx_ctx(&ctx);
	fx_good(&x);
	x.f.province = S("12");
	x.principal.cert_number = S("110108199003078888");
	x.manager.mobile = S("123");
	x.ips[0].ip = S("10.0.0.1");
	x.urls[0][0] = S("www.other.cn");
	fx_drop_file(&x, "license.jpg");
	fx_file(&x, "notes.txt", (const unsigned char *)"x", 1);
	el = fx_run(&x, &ctx);
	CHECK(fx_has(el, ERR_PROVINCE_NOT_SERVED, "/filing/province"));
	/* a unit in 11 filing in 12 is also cross-province */
	CHECK(fx_has(el, ERR_CROSS_PROVINCE, "/filing/sponsor/region"));
	CHECK(fx_has(el, ERR_CERT_NUMBER_INVALID,
	    "/filing/sponsor/principal/certNumber"));
	CHECK(fx_has(el, ERR_MOBILE_INVALID, "/filing/website[1]/manager/mobile"));
	CHECK(fx_has(el, ERR_IP_NOT_PUBLIC, "/filing/website[1]/access[1]/ip[1]"));
	CHECK(fx_has(el, ERR_HOMEURL_NOT_IN_DOMAINS,
	    "/filing/website[1]/homeUrl[1]"));
	CHECK(fx_has(el, ERR_ATTACHMENT_MISSING,
	    "/filing/sponsor/attachment[1]/@file"));
	CHECK(fx_has(el, ERR_ATTACHMENT_UNUSED, "notes.txt"));
	CHECK_INT(errlist_count(el), 8);
	CHECK_INT(errlist_nerrors(el), 7);
	errlist_free(el);
}

UNIT_TEST(filing_check_files_once)
{
	struct check_ctx ctx;
	struct errlist *el;
	struct fx x;
	static const unsigned char text[] = "plain text";

	fx_ctx(&ctx);

	/* a broken file named twice is reported once, at its first path */
	fx_good(&x);
	x.pa[1].file = S("zs-front.jpg");
	fx_set_file(&x, "zs-front.jpg", text, sizeof(text) - 1);
	fx_drop_file(&x, "zs-back.jpg");
	el = fx_run(&x, &ctx);
	CHECK_INT(errlist_count(el), 1);
	CHECK(fx_has(el, ERR_PHOTO_FORMAT,
	    "/filing/sponsor/principal/attachment[1]/@file"));
	errlist_free(el);

	/* a missing file named twice is reported at each path */
	fx_good(&x);
	x.pa[1].file = S("zs-front.jpg");
	fx_drop_file(&x, "zs-front.jpg");
	fx_drop_file(&x, "zs-back.jpg");
	el = fx_run(&x, &ctx);
	CHECK_INT(errlist_count(el), 2);
	CHECK(fx_has(el, ERR_ATTACHMENT_MISSING,
	    "/filing/sponsor/principal/attachment[1]/@file"));
	CHECK(fx_has(el, ERR_ATTACHMENT_MISSING,
	    "/filing/sponsor/principal/attachment[2]/@file"));
	errlist_free(el);

	/* photo_max_bytes comes from the limits */
	fx_good(&x);
	fx_lim.photo_max_bytes = 16;
	el = fx_run(&x, &ctx);
	CHECK_INT(errlist_count(el), 5);
	CHECK(fx_has(el, ERR_PHOTO_TOO_LARGE,
	    "/filing/website[1]/manager/attachment[2]/@file"));
	errlist_free(el);
	input_limits_defaults(&fx_lim);
}

UNIT_TEST(filing_check_provider)
{
	struct check_ctx ctx;
	struct ip_range pr[2];
	struct errlist *el;
	struct fx x;

	fx_ctx(&ctx);
	memset(pr, 0, sizeof(pr));
	CHECK_INT(rules_ip_parse("203.0.113.0", &pr[0].lo), 0);
	CHECK_INT(rules_ip_parse("203.0.113.255", &pr[0].hi), 0);
	CHECK_INT(rules_ip_parse("2001:db8::", &pr[1].lo), 0);
	CHECK_INT(rules_ip_parse("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
	    &pr[1].hi), 0);
	ctx.provider_ranges = pr;
	ctx.nprovider_ranges = 2;

	fx_good(&x);
	x.acc[0].nips = 2;
	el = fx_run(&x, &ctx);
	CHECK_INT(errlist_count(el), 0);
	errlist_free(el);

	fx_good(&x);
	x.ips[0].ip = S("198.51.100.7");
	x.ips[1].start = S("203.0.113.250");
	x.ips[1].end = S("203.0.114.5");
	el = fx_run(&x, &ctx);
	CHECK_INT(errlist_count(el), 2);
	CHECK(fx_has(el, ERR_IP_NOT_PROVIDER,
	    "/filing/website[1]/access[1]/ip[1]"));
	CHECK(fx_has(el, ERR_IP_NOT_PROVIDER,
	    "/filing/website[1]/access[1]/ipRange[1]"));
	errlist_free(el);

	/* without ranges the rule is skipped */
	ctx.provider_ranges = NULL;
	ctx.nprovider_ranges = 0;
	el = fx_run(&x, &ctx);
	CHECK_INT(errlist_count(el), 0);
	errlist_free(el);
}

UNIT_TEST(filing_check_types)
{
	static const struct {
		enum filing_type type;
		const char *subject, *site;
		enum err_code code;
		const char *path;
	} rows[] = {
		{ FILING_ADD_SITE, "京ICP备2026000001号", NULL, NONE, NULL },
		{ FILING_ADD_SITE, "京ICP备2026000001号-2", NULL,
		  ERR_LICENCE_FORMAT, "/filing/subjectLicence" },
		{ FILING_ADD_SITE, "ICP2026", NULL, ERR_LICENCE_FORMAT,
		  "/filing/subjectLicence" },
		{ FILING_CANCEL_SITE, "京ICP备2026000001号",
		  "京ICP备2026000001号-2", NONE, NULL },
		{ FILING_CANCEL_ACCESS, "京ICP备2026000001号",
		  "京ICP备2026000001号", ERR_LICENCE_FORMAT,
		  "/filing/siteLicence" },
		{ FILING_CANCEL_ACCESS, "京ICP备2026000001号", "备案",
		  ERR_LICENCE_FORMAT, "/filing/siteLicence" },
	};
	struct check_ctx ctx;
	struct errlist *el;
	struct fx x;
	size_t i;

	fx_ctx(&ctx);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fx_good(&x);
		x.f.type = rows[i].type;
		x.f.sponsor = NULL;
		x.f.subject_licence = S(rows[i].subject);
		x.f.site_licence = S(rows[i].site);
		if (rows[i].type != FILING_ADD_SITE) {
			x.f.nwebsites = 0;
			x.nfiles = 1; /* filing.xml only */
		} else {
			fx_drop_file(&x, "license.jpg");
			fx_drop_file(&x, "zs-front.jpg");
			fx_drop_file(&x, "zs-back.jpg");
		}
		el = fx_run(&x, &ctx);
		CHECKM(errlist_count(el) == (rows[i].code == NONE ? 0 : 1),
		    "row %zu: %zu findings", i, errlist_count(el));
		if (rows[i].code != NONE)
			CHECKM(fx_has(el, rows[i].code, rows[i].path), "row %zu",
			    i);
		errlist_free(el);
	}
}

UNIT_TEST(filing_check_verification)
{
	struct check_ctx ctx;
	struct verification v;
	struct issue iss;
	struct pkg_file files[2];
	struct errlist *el;
	unsigned char jpeg[64];
	size_t len, i;

	fx_ctx(&ctx);
	fx_jpeg(jpeg, &len, 640, 480);
	files[0].name = "onsite.jpg";
	files[1].name = "checklist.jpg";
	for (i = 0; i < 2; i++) {
		files[i].data = jpeg;
		files[i].size = len;
	}
	memset(&v, 0, sizeof(v));
	v.filing = S("BA-2026-000123");
	v.result = S("pass");
	for (i = 0; i < 7; i++)
		v.checks[i] = 1;
	v.photo_file = S("onsite.jpg");
	v.scan_file = S("checklist.jpg");

	el = errlist_new();
	verification_check(&v, files, 2, &ctx, el);
	CHECK_INT(errlist_count(el), 0);
	errlist_clear(el);

	v.checks[3] = 0;
	v.checks[6] = -1;
	v.scan_file = NULL;
	verification_check(&v, files, 1, &ctx, el);
	CHECK_INT(errlist_count(el), 3);
	CHECK(fx_has(el, ERR_VERIFICATION_INCOMPLETE,
	    "/verification/checks/@siteName"));
	CHECK(fx_has(el, ERR_VERIFICATION_INCOMPLETE,
	    "/verification/checks/@photoTaken"));
	CHECK(fx_has(el, ERR_VERIFICATION_INCOMPLETE,
	    "/verification/checklistScan"));
	errlist_clear(el);

	for (i = 0; i < 7; i++)
		v.checks[i] = 1;
	v.scan_file = S("checklist.jpg");
	v.photo_file = S("gone.jpg");
	files[1].size = 5;
	verification_check(&v, files, 2, &ctx, el);
	CHECK_INT(errlist_count(el), 2);
	CHECK(fx_has(el, ERR_ATTACHMENT_MISSING, "/verification/photo/@file"));
	CHECK(fx_has(el, ERR_PHOTO_CORRUPT,
	    "/verification/checklistScan/@file"));
	errlist_clear(el);

	memset(&v, 0, sizeof(v));
	v.result = S("return");
	for (i = 0; i < 7; i++)
		v.checks[i] = -1;
	verification_check(&v, NULL, 0, &ctx, el);
	CHECK_INT(errlist_count(el), 1);
	CHECK(fx_has(el, ERR_VERIFICATION_INCOMPLETE, "/verification/remarks"));
	errlist_clear(el);

	iss.path = S("/filing/sponsor/principal/name");
	iss.code = S("NAME_MISMATCH");
	iss.text = S("与证件不符");
	v.issues = &iss;
	v.nissues = 1;
	verification_check(&v, NULL, 0, &ctx, el);
	CHECK_INT(errlist_count(el), 0);
	errlist_free(el);
}
