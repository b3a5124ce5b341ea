/*
 * filing_check: the rules of FORMAT.md §1–§4 and §6 that need no store.
 *
 * Hostile input: the parsed filing and every file of its package come
 * from outside.  Values are only ever compared and measured; a file name
 * from the document is a key into the package's file list and is never
 * used as a filesystem path.  Photos are walked by photo_check, never
 * decoded.  Every finding is collected; nothing stops at the first.
 *
 * Presence and cardinality belong to the XML parser: the schema and
 * parsers/xml_filing.c's type-dependent checks (sponsor, licences, password,
 * websites, a unit's investor, a manager's officePhone) report them as
 * SCHEMA_VIOLATION; this file checks the values that are present.
 * Decisions the contract leaves open:
 * - a province code that is not one of §4 is PROVINCE_NOT_SERVED: no
 *   deployment serves it, and the sender's fix is the same;
 * - a certValidTo that is neither a date nor "longTerm" is CERT_EXPIRED
 *   with the message "not a date": the sender must give a validity;
 * - an access serverLocation that is not a province of §4 is
 *   REGION_INVALID at .../serverLocation.
 *
 * Work is O(n log n) in the number of domains and files: duplicate
 * domains and file look-ups go through sorted arrays, and each distinct
 * photo is checked once.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "lib/xmalloc.h"
#include "parsers/filing_check.h"
#include "parsers/licence.h"
#include "parsers/photo.h"
#include "parsers/rules.h"

/* The longest path, every index at 20 digits, is under 120 bytes. */
#define PATH_SIZE 192
#define ALABEL_SIZE 254
#define RANGE_MAX 65536

/* The files of one package, sorted by name for look-up. */
struct file_key {
	const char *name;
	size_t idx; /* into files */
};
struct file_index {
	const struct pkg_file *files;
	size_t nfiles;
	struct file_key *keys; /* by name, then position */
	unsigned char *used, *checked; /* by index into files */
};

struct check {
	const struct check_ctx *ctx;
	struct errlist *errs;
	struct file_index fi;
};

static const char *const unit_cert_types[] = {
	"uscc", "orgCode", "publicInstitutionCert", "socialGroupCert", "other",
};
static const char *const person_cert_types[] = {
	"residentId", "passport", "hkMacauPermit", "taiwanPermit",
	"foreignPermanentId",
};
/* §6, in the order of struct verification's checks[]. */
static const char *const verification_checks[7] = {
	"subjectCert", "personCert", "contacts", "siteName", "preApproval",
	"domainOwner", "photoTaken",
};
static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int
str_in(const char *s, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}

#define STR_IN(s, set) str_in((s), (set), sizeof(set) / sizeof((set)[0]))

/* 1 when s has lo..hi characters (UTF-8); invalid UTF-8 is out of range. */
static int
utf8_len_between(const char *s, long lo, long hi)
{
	long n = utf8_len(s);

	return n >= lo && n <= hi;
}

/* 5–32 characters of [A-Z0-9], with '-' too when dash is set. */
static int
cert_plain_valid(const char *s, int dash)
{
	size_t i, n = strlen(s);

	if (n < 5 || n > 32)
		return 0;
	for (i = 0; i < n; i++) {
		if ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9'))
			continue;
		if (dash && s[i] == '-')
			continue;
		return 0;
	}
	return 1;
}

/* 18 characters of the USCC alphabet: checked as a USCC. */
static int
uscc_shaped(const char *s)
{
	size_t i;

	if (strlen(s) != 18)
		return 0;
	for (i = 0; i < 18; i++)
		if (strchr(uscc_alphabet, s[i]) == NULL)
			return 0;
	return 1;
}

/*
 * The number of a personal certificate type; -1 when invalid, 1 when the
 * type is unknown (the schema's finding, not ours).
 */
static int
cert_number_person(const char *type, const char *num, struct day today)
{
	char norm[19];

	if (strcmp(type, "residentId") == 0)
		return rules_resident_id(num, today, norm) == 0 ? 0 : -1;
	if (STR_IN(type, person_cert_types))
		return cert_plain_valid(num, 0) ? 0 : -1;
	return 1;
}

static void path_fmt(char *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* Paths are built from fixed words and indices only: never truncated. */
static void
path_fmt(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, PATH_SIZE, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_SIZE)
		abort(); /* a broken invariant, see PATH_SIZE */
}

/* ---- files ---- */

static int
file_key_cmp(const void *a, const void *b)
{
	const struct file_key *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void
file_index_init(struct file_index *fi, const struct pkg_file *files,
    size_t nfiles)
{
	size_t i, n = nfiles ? nfiles : 1;

	fi->files = files;
	fi->nfiles = nfiles;
	fi->keys = xcalloc(n, sizeof(*fi->keys));
	fi->used = xcalloc(n, 1);
	fi->checked = xcalloc(n, 1);
	for (i = 0; i < nfiles; i++) {
		fi->keys[i].name = files[i].name != NULL ? files[i].name : "";
		fi->keys[i].idx = i;
	}
	qsort(fi->keys, nfiles, sizeof(*fi->keys), file_key_cmp);
}

static void
file_index_free(struct file_index *fi)
{
	free(fi->keys);
	free(fi->used);
	free(fi->checked);
}

/* Position in fi->keys of the first file named name; -1 if none. */
static long
file_index_find(const struct file_index *fi, const char *name)
{
	size_t lo = 0, hi = fi->nfiles, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(fi->keys[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < fi->nfiles && strcmp(fi->keys[lo].name, name) == 0)
		return (long)lo;
	return -1;
}

static void
photo_report(struct check *c, const struct pkg_file *pf, const char *path)
{
	struct photo_info info;
	enum photo_result r;

	memset(&info, 0, sizeof(info));
	r = photo_check(pf->data, pf->size, c->ctx->lim->photo_max_bytes, &info);
	switch (r) {
	case PHOTO_OK:
		break;
	case PHOTO_ERR_FORMAT:
		errlist_add(c->errs, ERR_PHOTO_FORMAT, path, NULL);
		break;
	case PHOTO_ERR_CORRUPT:
		errlist_add(c->errs, ERR_PHOTO_CORRUPT, path, NULL);
		break;
	case PHOTO_ERR_TOO_LARGE:
		errlist_add(c->errs, ERR_PHOTO_TOO_LARGE, path,
		    "照片或扫描件超过 %llu 字节 / the file is over %llu bytes",
		    (unsigned long long)c->ctx->lim->photo_max_bytes,
		    (unsigned long long)c->ctx->lim->photo_max_bytes);
		break;
	case PHOTO_ERR_DIMENSIONS:
		errlist_add(c->errs, ERR_PHOTO_DIMENSIONS, path,
		    "图片尺寸 %lux%lu 不符合要求 / %lux%lu px: the short side "
		    "needs 480 px, the long side at most 5000 px",
		    (unsigned long)info.width, (unsigned long)info.height,
		    (unsigned long)info.width, (unsigned long)info.height);
		break;
	}
}

/*
 * A file named at path: missing is reported at every naming path; a
 * present one is marked used and its photo checked the first time only.
 */
static void
file_ref(struct check *c, const char *name, const char *path)
{
	struct file_index *fi = &c->fi;
	long pos;
	size_t k, idx;

	if (name == NULL)
		return;
	pos = file_index_find(fi, name);
	if (pos < 0) {
		errlist_add(c->errs, ERR_ATTACHMENT_MISSING, path,
		    "包中没有文件 \"%s\" / \"%s\" is not in the package", name,
		    name);
		return;
	}
	idx = fi->keys[pos].idx;
	if (fi->checked[idx])
		return;
	/* Every file of that name (mail may repeat one) counts as used. */
	for (k = (size_t)pos; k < fi->nfiles &&
	    strcmp(fi->keys[k].name, name) == 0; k++) {
		fi->used[fi->keys[k].idx] = 1;
		fi->checked[fi->keys[k].idx] = 1;
	}
	photo_report(c, &fi->files[idx], path);
}

static void
files_unused(struct check *c)
{
	size_t i;

	for (i = 0; i < c->fi.nfiles; i++) {
		if (c->fi.used[i] || c->fi.files[i].name == NULL ||
		    strcmp(c->fi.files[i].name, "filing.xml") == 0)
			continue;
		errlist_add(c->errs, ERR_ATTACHMENT_UNUSED, c->fi.files[i].name,
		    "filing.xml 未引用此文件 / not named by filing.xml");
	}
}

/* ---- persons and sponsor ---- */

static int
has_kind(const struct attachment *a, size_t n, const char *kind)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i].kind != NULL && strcmp(a[i].kind, kind) == 0)
			return 1;
	return 0;
}

static void
attachments_check(struct check *c, const struct attachment *a, size_t n,
    const char *base)
{
	char path[PATH_SIZE];
	size_t i;

	for (i = 0; i < n; i++) {
		path_fmt(path, "%s/attachment[%zu]/@file", base,
		    i + 1);
		file_ref(c, a[i].file, path);
	}
}

static void
field_path(char *buf, const char *base, const char *field)
{
	path_fmt(buf, "%s/%s", base, field);
}

static void
person_check(struct check *c, const struct person *p, const char *base)
{
	char path[PATH_SIZE], norm[12];
	struct day d;
	long left;

	if (p->name != NULL && rules_person_name(p->name) != 0) {
		field_path(path, base, "name");
		errlist_add(c->errs, ERR_NAME_INVALID, path, NULL);
	}
	if (p->cert_type != NULL && p->cert_number != NULL &&
	    cert_number_person(p->cert_type, p->cert_number, c->ctx->today) < 0) {
		field_path(path, base, "certNumber");
		errlist_add(c->errs, ERR_CERT_NUMBER_INVALID, path, NULL);
	}
	if (p->cert_valid_to != NULL && strcmp(p->cert_valid_to, "longTerm") != 0) {
		field_path(path, base, "certValidTo");
		if (day_parse(p->cert_valid_to, &d) != 0)
			errlist_add(c->errs, ERR_CERT_EXPIRED, path,
			    "有效期不是日期 / not a date (YYYY-MM-DD or longTerm)");
		else if ((left = day_diff(c->ctx->today, d)) < 90)
			errlist_add(c->errs, ERR_CERT_EXPIRED, path,
			    "证件有效期不足 90 天 / valid for %ld more days, "
			    "90 needed", left < 0 ? 0 : left);
	}
	if (p->mobile != NULL && rules_mobile(p->mobile, norm) != 0) {
		field_path(path, base, "mobile");
		errlist_add(c->errs, ERR_MOBILE_INVALID, path, NULL);
	}
	if (p->office_phone != NULL && rules_landline(p->office_phone) != 0) {
		field_path(path, base, "officePhone");
		errlist_add(c->errs, ERR_PHONE_INVALID, path, NULL);
	}
	if (p->email != NULL && rules_email(p->email) != 0) {
		field_path(path, base, "email");
		errlist_add(c->errs, ERR_EMAIL_INVALID, path, NULL);
	}
	if (!has_kind(p->attachments, p->nattachments, "certFront"))
		errlist_add(c->errs, ERR_ATTACHMENT_REQUIRED, base,
		    "缺少证件正面 / certFront is required");
	if (p->cert_type != NULL && strcmp(p->cert_type, "residentId") == 0 &&
	    !has_kind(p->attachments, p->nattachments, "certBack"))
		errlist_add(c->errs, ERR_ATTACHMENT_REQUIRED, base,
		    "居民身份证需要背面 / certBack is required for residentId");
	attachments_check(c, p->attachments, p->nattachments, base);
}

static void
sponsor_cert_check(struct check *c, const struct sponsor *s, int unit)
{
	const char *type = s->cert_type, *num = s->cert_number;
	int bad;

	if (type == NULL)
		return;
	if (s->nature != NULL &&
	    (unit ? !STR_IN(type, unit_cert_types)
		  : !STR_IN(type, person_cert_types)))
		errlist_add(c->errs, ERR_CERT_TYPE_MISMATCH, "/filing/sponsor/certType",
		    unit ? "单位需要单位证件 / a unit needs a unit certificate type"
			 : "个人需要个人证件 / an individual needs a personal "
			   "certificate type");
	if (num == NULL)
		return;
	if (strcmp(type, "uscc") == 0)
		bad = rules_uscc(num) != 0;
	else if (strcmp(type, "orgCode") == 0)
		bad = rules_orgcode(num) != 0;
	else if (STR_IN(type, unit_cert_types))
		bad = uscc_shaped(num) ? rules_uscc(num) != 0
				       : !cert_plain_valid(num, 1);
	else
		bad = cert_number_person(type, num, c->ctx->today) < 0;
	if (bad)
		errlist_add(c->errs, ERR_CERT_NUMBER_INVALID,
		    "/filing/sponsor/certNumber", NULL);
}

static int
region_province(const char *region, char prov[3])
{
	size_t i;

	if (strlen(region) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		if (region[i] < '0' || region[i] > '9')
			return -1;
	prov[0] = region[0];
	prov[1] = region[1];
	prov[2] = '\0';
	return rules_province_valid(prov) ? 0 : -1;
}

static void
sponsor_check(struct check *c, const struct filing *f, const struct sponsor *s)
{
	char prov[3];
	int unit, individual;

	individual = s->nature != NULL && strcmp(s->nature, "individual") == 0;
	unit = s->nature != NULL && !individual;

	sponsor_cert_check(c, s, unit);
	if (s->cert_address != NULL && !utf8_len_between(s->cert_address, 5, 200))
		errlist_add(c->errs, ERR_ADDRESS_INCOMPLETE,
		    "/filing/sponsor/certAddress",
		    "证件地址需 5–200 个字符 / 5–200 characters needed");
	if (s->address != NULL && !utf8_len_between(s->address, 5, 200))
		errlist_add(c->errs, ERR_ADDRESS_INCOMPLETE, "/filing/sponsor/address",
		    "地址需 5–200 个字符 / 5–200 characters needed");
	if (s->region != NULL) {
		if (region_province(s->region, prov) != 0)
			errlist_add(c->errs, ERR_REGION_INVALID,
			    "/filing/sponsor/region", NULL);
		else if (unit && f->province != NULL &&
		    rules_province_valid(f->province) &&
		    strcmp(prov, f->province) != 0)
			errlist_add(c->errs, ERR_CROSS_PROVINCE,
			    "/filing/sponsor/region", NULL);
	}
	if (individual && s->name != NULL && s->principal != NULL &&
	    s->principal->name != NULL &&
	    strcmp(s->name, s->principal->name) != 0)
		errlist_add(c->errs, ERR_NAME_MISMATCH, "/filing/sponsor/name",
		    "个人主办者名称须与负责人姓名一致 / an individual sponsor's "
		    "name must equal the principal's");
	if (unit && !has_kind(s->attachments, s->nattachments, "sponsorCert"))
		errlist_add(c->errs, ERR_ATTACHMENT_REQUIRED, "/filing/sponsor",
		    "单位需要证件扫描件 / sponsorCert is required for units");
	attachments_check(c, s->attachments, s->nattachments, "/filing/sponsor");
	if (s->principal != NULL)
		person_check(c, s->principal, "/filing/sponsor/principal");
}

/* ---- websites ---- */

/* One domain of the filing, normalised. */
struct dom {
	size_t site, pos;   /* 0-based */
	enum domain_result r;
	char alabel[ALABEL_SIZE];
};

static int
dom_cmp(const void *a, const void *b)
{
	const struct dom *x = *(const struct dom *const *)a;
	const struct dom *y = *(const struct dom *const *)b;
	int c = strcmp(x->alabel, y->alabel);

	if (c != 0)
		return c;
	if (x->site != y->site)
		return x->site < y->site ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void
domains_duplicate(struct check *c, struct dom *doms, size_t n)
{
	struct dom **v;
	char path[PATH_SIZE];
	size_t i, k = 0;

	v = xcalloc(n ? n : 1, sizeof(*v));
	for (i = 0; i < n; i++)
		if (doms[i].r == DOMAIN_OK)
			v[k++] = &doms[i];
	qsort(v, k, sizeof(*v), dom_cmp);
	for (i = 1; i < k; i++) {
		if (strcmp(v[i]->alabel, v[i - 1]->alabel) != 0)
			continue;
		path_fmt(path, "/filing/website[%zu]/domain[%zu]",
		    v[i]->site + 1, v[i]->pos + 1);
		errlist_add(c->errs, ERR_DOMAIN_DUPLICATE, path,
		    "域名 %s 重复 / %s appears twice in the filing",
		    v[i]->alabel, v[i]->alabel);
	}
	free(v);
}

static int
ip_provider(const struct check_ctx *ctx, const struct ipaddr *lo,
    const struct ipaddr *hi)
{
	size_t i;

	for (i = 0; i < ctx->nprovider_ranges; i++)
		if (rules_ip_in_range(lo, &ctx->provider_ranges[i]) &&
		    rules_ip_in_range(hi, &ctx->provider_ranges[i]))
			return 1;
	return 0;
}

static void
access_ip_check(struct check *c, const struct access_ip *ai, const char *base)
{
	char path[PATH_SIZE];
	struct ipaddr lo, hi;
	uint64_t count;

	if (ai->is_range) {
		path_fmt(path, "%s/ipRange[%zu]", base, ai->index);
		if (ai->start == NULL || ai->end == NULL)
			return;
		if (rules_ip_parse(ai->start, &lo) != 0) {
			errlist_add(c->errs, ERR_IP_INVALID, path,
			    "起始地址无效 / invalid start address");
			return;
		}
		if (rules_ip_parse(ai->end, &hi) != 0) {
			errlist_add(c->errs, ERR_IP_INVALID, path,
			    "结束地址无效 / invalid end address");
			return;
		}
		if (rules_ip_range_size(&lo, &hi, &count) != 0) {
			errlist_add(c->errs, ERR_IP_INVALID, path,
			    "起始地址须不大于结束地址且同族 / start must not "
			    "exceed end, both of one family");
			return;
		}
		if (count > RANGE_MAX) {
			errlist_add(c->errs, ERR_IP_INVALID, path,
			    "地址段超过 65536 个地址 / over 65,536 addresses");
			return;
		}
		/*
		 * Both ends public is enough: the smallest non-public IPv4
		 * block is a /16, which no range of at most 65,536 addresses
		 * can hold strictly inside public ends, and non-public IPv6
		 * is everything outside 2000::/3.
		 */
		if (!rules_ip_public(&lo) || !rules_ip_public(&hi)) {
			errlist_add(c->errs, ERR_IP_NOT_PUBLIC, path, NULL);
			return;
		}
	} else {
		path_fmt(path, "%s/ip[%zu]", base, ai->index);
		if (ai->ip == NULL)
			return;
		if (rules_ip_parse(ai->ip, &lo) != 0) {
			errlist_add(c->errs, ERR_IP_INVALID, path, NULL);
			return;
		}
		if (!rules_ip_public(&lo)) {
			errlist_add(c->errs, ERR_IP_NOT_PUBLIC, path, NULL);
			return;
		}
		hi = lo;
	}
	if (c->ctx->provider_ranges != NULL && !ip_provider(c->ctx, &lo, &hi))
		errlist_add(c->errs, ERR_IP_NOT_PROVIDER, path, NULL);
}

static void
website_check(struct check *c, const struct website *w, size_t wi,
    struct dom *doms, int government)
{
	char base[PATH_SIZE], path[PATH_SIZE], host[ALABEL_SIZE];
	const char **okd;
	size_t i, j, nok = 0, nknown = 0;
	int found;

	path_fmt(base, "/filing/website[%zu]", wi + 1);
	okd = xcalloc(w->ndomains ? w->ndomains : 1, sizeof(*okd));

	for (i = 0; i < w->ndomains; i++) {
		doms[i].site = wi;
		doms[i].pos = i;
		doms[i].alabel[0] = '\0';
		doms[i].r = w->domains[i] == NULL ? DOMAIN_BAD :
		    rules_domain(w->domains[i], doms[i].alabel, ALABEL_SIZE, 1);
		path_fmt(path, "%s/domain[%zu]", base, i + 1);
		if (doms[i].r == DOMAIN_BAD) {
			doms[i].alabel[0] = '\0';
			if (w->domains[i] != NULL)
				errlist_add(c->errs, ERR_DOMAIN_INVALID, path,
				    NULL);
		} else if (doms[i].r == DOMAIN_NOT_REGISTRABLE) {
			/* alabel is not promised here: take the syntax form. */
			if (rules_domain(w->domains[i], doms[i].alabel,
			    ALABEL_SIZE, 0) != DOMAIN_OK)
				doms[i].alabel[0] = '\0';
			errlist_add(c->errs, ERR_DOMAIN_NOT_REGISTRABLE, path,
			    "%s 不是可注册域名 / %s is not a registrable name",
			    w->domains[i], w->domains[i]);
		}
	}
	/* Registrable ones first: the site name is compared with those. */
	for (i = 0; i < w->ndomains; i++)
		if (doms[i].r == DOMAIN_OK)
			okd[nok++] = doms[i].alabel;
	nknown = nok;
	for (i = 0; i < w->ndomains; i++)
		if (doms[i].r == DOMAIN_NOT_REGISTRABLE &&
		    doms[i].alabel[0] != '\0')
			okd[nknown++] = doms[i].alabel;

	if (w->name != NULL &&
	    rules_site_name(w->name, okd, nok, government) != 0) {
		path_fmt(path, "%s/name", base);
		errlist_add(c->errs, ERR_SITE_NAME_INVALID, path, NULL);
	}
	/* Without one usable domain, the home URLs cannot be judged. */
	for (i = 0; nknown > 0 && i < w->nhome_urls; i++) {
		if (w->home_urls[i] == NULL)
			continue;
		path_fmt(path, "%s/homeUrl[%zu]", base, i + 1);
		found = 0;
		if (rules_url_host(w->home_urls[i], host, sizeof(host)) == 0)
			for (j = 0; j < nknown && !found; j++)
				found = rules_host_under(host, okd[j]);
		if (!found)
			errlist_add(c->errs, ERR_HOMEURL_NOT_IN_DOMAINS, path,
			    NULL);
	}
	free(okd);

	if (w->service_content != NULL &&
	    (strcmp(w->service_content, "news") == 0 ||
	    strcmp(w->service_content, "education") == 0)) {
		found = 0;
		for (i = 0; i < w->npreapprovals && !found; i++)
			found = w->preapprovals[i].type != NULL &&
			    strcmp(w->preapprovals[i].type, w->service_content) == 0;
		if (!found) {
			path_fmt(path, "%s/serviceContent", base);
			errlist_add(c->errs, ERR_PREAPPROVAL_MISSING, path,
			    "%s 需要 %s 前置审批 / needs a preApproval of type %s",
			    w->service_content, w->service_content,
			    w->service_content);
		}
	}
	for (i = 0; i < w->npreapprovals; i++) {
		path_fmt(path, "%s/preApproval[%zu]/@file", base,
		    i + 1);
		file_ref(c, w->preapprovals[i].file, path);
	}
	if (w->manager != NULL) {
		path_fmt(path, "%s/manager", base);
		person_check(c, w->manager, path);
	}
	for (i = 0; i < w->naccesses; i++) {
		const struct access *a = &w->accesses[i];
		char abase[PATH_SIZE];

		path_fmt(abase, "%s/access[%zu]", base, i + 1);
		if (a->server_location != NULL &&
		    !rules_province_valid(a->server_location)) {
			field_path(path, abase, "serverLocation");
			errlist_add(c->errs, ERR_REGION_INVALID, path,
			    "不是省级行政区代码 / not a province code of §4");
		}
		for (j = 0; j < a->nips; j++)
			access_ip_check(c, &a->ips[j], abase);
	}
}

/* ---- filing ---- */

static void
province_check(struct check *c, const char *prov)
{
	size_t i;

	if (prov == NULL)
		return;
	if (!rules_province_valid(prov)) {
		errlist_add(c->errs, ERR_PROVINCE_NOT_SERVED, "/filing/province",
		    "未知的省份代码 / not a province code");
		return;
	}
	if (c->ctx->nprovinces == 0)
		return;
	for (i = 0; i < c->ctx->nprovinces; i++)
		if (c->ctx->provinces[i] != NULL &&
		    strcmp(c->ctx->provinces[i], prov) == 0)
			return;
	errlist_add(c->errs, ERR_PROVINCE_NOT_SERVED, "/filing/province", NULL);
}

static void
licences_check(struct check *c, const struct filing *f)
{
	struct licence subj, site;

	if (f->type == FILING_FIRST || f->type == FILING_TYPE_UNKNOWN)
		return;
	if (f->subject_licence != NULL) {
		if (licence_parse(f->subject_licence, &subj) != 0)
			errlist_add(c->errs, ERR_LICENCE_FORMAT,
			    "/filing/subjectLicence", NULL);
		else if (subj.site != 0)
			errlist_add(c->errs, ERR_LICENCE_FORMAT,
			    "/filing/subjectLicence",
			    "须为主体备案号，而非网站备案号 / a subject number "
			    "is needed, not a site number");
	}
	if (f->type == FILING_ADD_SITE || f->site_licence == NULL)
		return;
	if (licence_parse(f->site_licence, &site) != 0)
		errlist_add(c->errs, ERR_LICENCE_FORMAT, "/filing/siteLicence",
		    NULL);
	else if (site.site == 0)
		errlist_add(c->errs, ERR_LICENCE_FORMAT, "/filing/siteLicence",
		    "须为网站备案号 / a site number (…号-N) is needed");
	/* Whether the site belongs to the subject is the store's rule. */
}

void
filing_check(const struct filing *f, const struct pkg_file *files,
    size_t nfiles, const struct check_ctx *ctx, struct errlist *errs)
{
	struct check c;
	struct dom *doms;
	size_t i, ndoms = 0, off;
	int government;

	c.ctx = ctx;
	c.errs = errs;
	file_index_init(&c.fi, files, nfiles);

	province_check(&c, f->province);
	licences_check(&c, f);
	if (f->sponsor != NULL)
		sponsor_check(&c, f, f->sponsor);
	government = f->sponsor != NULL && f->sponsor->nature != NULL &&
	    strcmp(f->sponsor->nature, "government") == 0;

	for (i = 0; i < f->nwebsites; i++) {
		if (SIZE_MAX - ndoms < f->websites[i].ndomains)
			abort(); /* cannot happen: each is an allocated array */
		ndoms += f->websites[i].ndomains;
	}
	doms = xcalloc(ndoms ? ndoms : 1, sizeof(*doms));
	for (i = 0, off = 0; i < f->nwebsites; i++) {
		website_check(&c, &f->websites[i], i, doms + off, government);
		off += f->websites[i].ndomains;
	}
	domains_duplicate(&c, doms, ndoms);
	free(doms);

	files_unused(&c);
	file_index_free(&c.fi);
}

void
verification_check(const struct verification *v,
    const struct pkg_file *files, size_t nfiles, const struct check_ctx *ctx,
    struct errlist *errs)
{
	struct check c;
	char path[PATH_SIZE];
	size_t i;
	int pass;

	c.ctx = ctx;
	c.errs = errs;
	file_index_init(&c.fi, files, nfiles);

	pass = v->result != NULL && strcmp(v->result, "pass") == 0;
	if (pass) {
		for (i = 0; i < 7; i++) {
			if (v->checks[i] == 1)
				continue;
			path_fmt(path, "/verification/checks/@%s",
			    verification_checks[i]);
			errlist_add(errs, ERR_VERIFICATION_INCOMPLETE, path,
			    v->checks[i] == 0 ?
			    "核验项未通过 / this check is not true" :
			    "缺少核验项 / this check is missing");
		}
		if (v->photo_file == NULL)
			errlist_add(errs, ERR_VERIFICATION_INCOMPLETE,
			    "/verification/photo",
			    "缺少现场照片 / the on-site photo is missing");
		if (v->scan_file == NULL)
			errlist_add(errs, ERR_VERIFICATION_INCOMPLETE,
			    "/verification/checklistScan",
			    "缺少核验单扫描件 / the checklist scan is missing");
	} else if (v->result != NULL && strcmp(v->result, "return") == 0 &&
	    v->nissues == 0)
		errlist_add(errs, ERR_VERIFICATION_INCOMPLETE,
		    "/verification/remarks",
		    "退回需要至少一条问题 / a return needs at least one issue");
	/* Files that are named are checked whatever the result. */
	file_ref(&c, v->photo_file, "/verification/photo/@file");
	file_ref(&c, v->scan_file, "/verification/checklistScan/@file");
	file_index_free(&c.fi);
}
