/*
 * test_mail: the composed mails, checked by parsing them back with a real
 * MIME library (libetpan) and a few hand-written decoders; the .eml
 * transport on a temporary directory.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "mail/eml.h"
#include "mail/mail.h"
#include "unit.h"

static const char *const all_templates[] = {
	"received", "invalid", "awaiting_verification", "returned_to_owner",
	"review_request", "returned_to_provider", "approved_owner",
	"approved_provider", "approved_bureau", "withdrawn", "help", "password_reset",
	"password_failed",
};
#define NTEMPLATES (sizeof(all_templates) / sizeof(all_templates[0]))

#define PASSWORD "Pw7#xQ9zK2mL"

/* Every parameter mail.h documents, each with a recognisable value. */
static const struct mail_param full_params[] = {
	{ "tracking_id", "BA-2026-000123" },
	{ "state", "under_review" },
	{ "filing_type", "firstFiling" },
	{ "filing_type_zh", "首次备案（firstFiling）" },
	{ "filing_type_en", "first filing (firstFiling)" },
	{ "state_zh", "审核中（under_review）" },
	{ "state_en", "under review (under_review)" },
	{ "sponsor_name", "示例网络科技有限公司" },
	{ "sites", "示例网站" },
	{ "domains", "example.cn www.example.cn" },
	{ "subject_licence", "京ICP备2026000123号" },
	{ "site_licences", "京ICP备2026000123号-1" },
	{ "password", PASSWORD },
	{ "provider_name", "示例接入服务商" },
	{ "reason", "照片不清晰 / photo unclear" },
	{ "withdrawn_by", "owner" },
	{ "verifier", "李四" },
	{ "reviewer", "王五" },
	{ "upload", "batch-01.zip" },
	{ "intake_address", "intake@provider.example" },
	{ "at", "2026-03-03 14:05:00 +08:00" },
};
#define NPARAMS (sizeof(full_params) / sizeof(full_params[0]))

static const struct mail_finding findings[] = {
	{ "/filing/sponsor/certNumber", "CERT_NUMBER_INVALID",
	    "证件号码无效 / certificate number invalid" },
	{ "/filing/websites/website[1]/domains/domain[2]", "DOMAIN_INVALID",
	    "域名无效 / domain invalid" },
	{ "photos/身份证.jpg", "PHOTO_CORRUPT", "照片损坏 / photo corrupt" },
};

static void
spec_full(struct mail_spec *sp, const char *tpl)
{
	memset(sp, 0, sizeof(*sp));
	sp->tpl = tpl;
	sp->from = "beian@provider.example";
	sp->to = "zhangsan@example.cn";
	sp->reply_to = "intake@provider.example";
	sp->message_id = "<BA-2026-000123.17.received.owner@provider.example>";
	sp->in_reply_to = "<BA-2026-000123.1.received.owner@provider.example>";
	sp->references = "<BA-2026-000123.1.received.owner@provider.example>";
	sp->date = 1772517900;	/* 2026-03-03 06:05:00 UTC */
	sp->tag = "[BA-2026-000123 k3J9xQ2m]";
	sp->review_token = strcmp(tpl, "review_request") == 0 ?
	    "Tk9qLmZ3" : NULL;
	sp->params = full_params;
	sp->nparams = NPARAMS;
	sp->findings = findings;
	sp->nfindings = sizeof(findings) / sizeof(findings[0]);
}

/* ---- small decoders -------------------------------------------------- */

static int
b64val(int c)
{
	const char *a =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(a, c) : NULL;

	return p ? (int)(p - a) : -1;
}

/* Decode base64, skipping CR/LF; NULL on a bad character. */
static unsigned char *
b64dec(const char *s, size_t n, size_t *outlen)
{
	unsigned char *out = malloc(n + 1);
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0, v;

	for (i = 0; i < n; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '=')
			break;
		if ((v = b64val((unsigned char)s[i])) < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0, k, j;

	while (i < n) {
		if (s[i] < 0x80)
			k = 1;
		else if ((s[i] & 0xe0) == 0xc0)
			k = 2;
		else if ((s[i] & 0xf0) == 0xe0)
			k = 3;
		else if ((s[i] & 0xf8) == 0xf0)
			k = 4;
		else
			return 0;
		if (i + k > n)
			return 0;
		for (j = 1; j < k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
		i += k;
	}
	return 1;
}

/* The header section (up to the empty line), NUL-terminated copy. */
static char *
headers_of(const char *msg)
{
	const char *e = strstr(msg, "\r\n\r\n");

	return e ? strndup(msg, (size_t)(e - msg) + 2) : NULL;
}

/* The unfolded value of the first header name, or NULL. */
static char *
header_get(const char *hdrs, const char *name)
{
	size_t nl = strlen(name);
	const char *p = hdrs, *v;
	char *out;
	size_t o = 0;

	while (*p) {
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			v = p + nl + 1;
			while (*v == ' ')
				v++;
			out = malloc(strlen(v) + 1);
			for (; *v; v++) {
				if (v[0] == '\r' && v[1] == '\n') {
					if (v[2] != ' ' && v[2] != '\t')
						break;
					v++;
					continue;
				}
				out[o++] = *v;
			}
			out[o] = '\0';
			return out;
		}
		p = strstr(p, "\r\n");
		if (p == NULL)
			break;
		p += 2;
	}
	return NULL;
}

/* Every line ends in CRLF and is at most max characters. */
static int
lines_ok(const char *msg, size_t len, size_t max)
{
	size_t i, col = 0;

	for (i = 0; i < len; i++) {
		if (msg[i] == '\n')
			return 0;	/* bare LF */
		if (msg[i] == '\r') {
			if (i + 1 >= len || msg[i + 1] != '\n')
				return 0;
			i++;
			col = 0;
			continue;
		}
		if (++col > max)
			return 0;
	}
	return len >= 2 && msg[len - 2] == '\r' && msg[len - 1] == '\n';
}

/* Decode an RFC 2047 subject with libetpan; malloc'd UTF-8 or NULL. */
static char *
subject_decode(const char *raw)
{
	size_t idx = 0;
	char *dec = NULL;

	if (mailmime_encoded_phrase_parse("utf-8", raw, strlen(raw), &idx,
	    "utf-8", &dec) != MAILIMF_NO_ERROR)
		return NULL;
	return dec;
}

/* Check each encoded-word of a Subject value on its own: at most 75
 * characters, B-encoded UTF-8 that is valid alone (nothing split). */
static int
subject_words_ok(const char *raw)
{
	const char *p = raw, *q;
	int nwords = 0;

	while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
		unsigned char *d;
		size_t dl;
		int ok;

		if ((q = strstr(p + 10, "?=")) == NULL)
			return 0;
		if (q + 2 - p > 75)
			return 0;
		if ((d = b64dec(p + 10, (size_t)(q - p - 10), &dl)) == NULL)
			return 0;
		ok = utf8_valid(d, dl);
		free(d);
		if (!ok)
			return 0;
		nwords++;
		p = q + 2;
	}
	return nwords > 0;
}

/* A single (non-multipart) part's decoded bytes. */
static unsigned char *
part_bytes(struct mailmime *part, size_t *len)
{
	struct mailmime_data *d = part->mm_data.mm_single;
	char *res = NULL;
	size_t idx = 0, rl = 0;
	unsigned char *out;

	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT)
		return NULL;
	if (mailmime_part_parse(d->dt_data.dt_text.dt_data,
	    d->dt_data.dt_text.dt_length, &idx, d->dt_encoding, &res,
	    &rl) != MAILIMF_NO_ERROR)
		return NULL;
	out = malloc(rl + 1);
	memcpy(out, res, rl);
	out[rl] = '\0';
	mmap_string_unref(res);
	*len = rl;
	return out;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * The filename of a part from its Content-Disposition, decoding RFC 2231
 * (filename*=, filename*0*=… continuations) ourselves: libetpan keeps
 * those as plain parameters.
 */
static char *
part_filename(struct mailmime *part)
{
	char *segs[32] = { 0 }, *out;
	clistiter *it, *ft;
	size_t o = 0, total = 0, i;
	int maxseg = -1;

	if (part->mm_mime_fields == NULL)
		return NULL;
	for (ft = clist_begin(part->mm_mime_fields->fld_list); ft;
	    ft = clist_next(ft)) {
		struct mailmime_field *f = clist_content(ft);

		if (f->fld_type != MAILMIME_FIELD_DISPOSITION)
			continue;
		for (it = clist_begin(f->fld_data.fld_disposition->dsp_parms);
		    it; it = clist_next(it)) {
			struct mailmime_disposition_parm *dp = clist_content(it);
			const char *n, *v;
			int seg = 0;

			if (dp->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME)
				return strdup(dp->pa_data.pa_filename);
			if (dp->pa_type != MAILMIME_DISPOSITION_PARM_PARAMETER)
				continue;
			n = dp->pa_data.pa_parameter->pa_name;
			v = dp->pa_data.pa_parameter->pa_value;
			if (strcasecmp(n, "filename*") == 0)
				seg = 0;
			else if (strncasecmp(n, "filename*", 9) == 0)
				seg = atoi(n + 9);
			else
				continue;
			if (seg < 0 || seg >= 32)
				return NULL;
			if (seg == 0) {
				if (strncasecmp(v, "UTF-8''", 7) != 0)
					return NULL;
				v += 7;
			}
			segs[seg] = strdup(v);
			if (seg > maxseg)
				maxseg = seg;
		}
	}
	if (maxseg < 0)
		return NULL;
	for (i = 0; i <= (size_t)maxseg; i++) {
		if (segs[i] == NULL)
			return NULL;
		total += strlen(segs[i]);
	}
	out = malloc(total + 1);
	for (i = 0; i <= (size_t)maxseg; i++) {
		const char *s = segs[i];

		while (*s) {
			if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
				out[o++] = (char)(hexval(s[1]) * 16 +
				    hexval(s[2]));
				s += 3;
			} else
				out[o++] = *s++;
		}
		free(segs[i]);
	}
	out[o] = '\0';
	return out;
}

/* The RFC 2047 name= of a part's Content-Type, decoded. */
static char *
part_name(struct mailmime *part)
{
	char key[] = "name", *n;

	if (part->mm_content_type == NULL)
		return NULL;
	n = mailmime_content_param_get(part->mm_content_type, key);
	return n ? subject_decode(n) : NULL;
}

/* ---- templates ------------------------------------------------------- */

UNIT_TEST(mail_templates_all_render)
{
	struct mail_spec sp;
	char *subj, *body, err[256];
	size_t i;

	for (i = 0; i < NTEMPLATES; i++) {
		const char *t = all_templates[i];
		const char *zh, *en;

		CHECKM(mail_template_exists(t), "%s", t);
		spec_full(&sp, t);
		if (mail_render(&sp, &subj, &body, err, sizeof(err)) == -1) {
			CHECKM(0, "%s: %s", t, err);
			continue;
		}
		/* no placeholder left: every one is known and given */
		CHECKM(strstr(subj, "{{") == NULL, "%s subject: %s", t, subj);
		CHECKM(strstr(body, "{{") == NULL && strstr(body, "}}") ==
		    NULL, "%s body has a placeholder left", t);
		/* bilingual, zh-CN first */
		zh = strstr(body, "您好");
		en = strstr(body, "Hello");
		CHECKM(zh != NULL && en != NULL && zh < en, "%s: zh then en", t);
		CHECKM(strstr(subj, " / ") != NULL, "%s subject bilingual", t);
		CHECKM(strncmp(subj, sp.tag, strlen(sp.tag)) == 0,
		    "%s: subject starts with the tag", t);
		/* the password shows in approved_owner and password_reset only */
		if (strcmp(t, "approved_owner") == 0 ||
		    strcmp(t, "password_reset") == 0)
			CHECKM(strstr(body, PASSWORD) != NULL, "%s", t);
		else
			CHECKM(strstr(body, PASSWORD) == NULL &&
			    strstr(subj, PASSWORD) == NULL,
			    "%s shows the password", t);
		free(subj);
		free(body);
	}
	CHECK(!mail_template_exists("approved"));
	CHECK(!mail_template_exists(NULL));
}

UNIT_TEST(mail_templates_all_compose)
{
	struct mail_spec sp;
	struct mailmime *mime;
	char *msg, err[256];
	size_t i, len, idx;

	for (i = 0; i < NTEMPLATES; i++) {
		const char *t = all_templates[i];

		spec_full(&sp, t);
		if (mail_compose(&sp, &msg, &len, err, sizeof(err)) == -1) {
			CHECKM(0, "%s: %s", t, err);
			continue;
		}
		CHECKM(strlen(msg) == len, "%s", t);
		CHECKM(lines_ok(msg, len, 76), "%s: CRLF lines <= 76", t);
		idx = 0;
		mime = NULL;
		CHECKM(mailmime_parse(msg, len, &idx, &mime) ==
		    MAILIMF_NO_ERROR && mime != NULL, "%s parses", t);
		if (mime != NULL) {
			struct mailmime *b = mime->mm_data.mm_message.mm_msg_mime;

			CHECKM(b != NULL && b->mm_type == MAILMIME_SINGLE,
			    "%s: one text part", t);
			mailmime_free(mime);
		}
		free(msg);
	}
}

UNIT_TEST(mail_sections_optional)
{
	struct mail_spec sp;
	struct mail_param few[] = {
		{ "tracking_id", "BA-2026-000124" },
		{ "filing_type", "addSite" },
		{ "sponsor_name", "" },	/* empty counts as absent */
		{ "filing_type_zh", "新增网站（addSite）" },
	};
	char *subj, *body;

	spec_full(&sp, "received");
	sp.params = few;
	sp.nparams = 4;
	CHECK(mail_render(&sp, &subj, &body, NULL, 0) == 0);
	CHECK(strstr(body, "主办者") == NULL);
	CHECK(strstr(body, "Sponsor") == NULL);
	CHECK(strstr(body, "BA-2026-000124") != NULL);
	/* a hidden standalone section leaves no empty line behind */
	CHECK(strstr(body, "新增网站（addSite）\n\n下一步") != NULL);
	free(subj);
	free(body);

	/* approved_owner of a later filing: no password, no password text */
	spec_full(&sp, "approved_owner");
	sp.nparams = 12;	/* full_params up to site_licences */
	CHECK(mail_render(&sp, &subj, &body, NULL, 0) == 0);
	CHECK(strstr(body, "备案密码") == NULL);
	CHECK(strstr(body, "京ICP备2026000123号-1") != NULL);
	free(subj);
	free(body);

	/* invalid about an unreadable upload: no tracking id */
	spec_full(&sp, "invalid");
	sp.params = full_params + 18;	/* upload, intake_address */
	sp.nparams = 2;
	sp.tag = NULL;
	CHECK(mail_render(&sp, &subj, &body, NULL, 0) == 0);
	CHECK(strstr(body, "未生成备案记录") != NULL);
	CHECK(strstr(body, "batch-01.zip") != NULL);
	CHECK(strstr(body, "受理编号") == NULL);
	CHECK(strncmp(subj, "备案材料", strlen("备案材料")) == 0);
	free(subj);
	free(body);
}

UNIT_TEST(mail_unknown_template)
{
	struct mail_spec sp;
	char *msg = NULL, err[256] = "";
	size_t len = 0;

	spec_full(&sp, "approved");
	CHECK(mail_compose(&sp, &msg, &len, err, sizeof(err)) == -1);
	CHECK(msg == NULL);
	CHECK(strstr(err, "approved") != NULL);
}

/* ---- headers --------------------------------------------------------- */

UNIT_TEST(mail_headers)
{
	struct mail_spec sp;
	char *msg, *h, *v;
	size_t len;

	spec_full(&sp, "received");
	CHECK(mail_compose(&sp, &msg, &len, NULL, 0) == 0);
	h = headers_of(msg);
	CHECK(h != NULL);
	if (h == NULL)
		return;
#define HDR(name, want)                                                        \
	do {                                                                   \
		v = header_get(h, name);                                       \
		CHECK_STR(v, want);                                            \
		free(v);                                                       \
	} while (0)
	HDR("From", "beian@provider.example");
	HDR("To", "zhangsan@example.cn");
	HDR("Reply-To", "intake@provider.example");
	HDR("Message-ID", "<BA-2026-000123.17.received.owner@provider.example>");
	HDR("In-Reply-To", "<BA-2026-000123.1.received.owner@provider.example>");
	HDR("References", "<BA-2026-000123.1.received.owner@provider.example>");
	HDR("Date", "Tue, 03 Mar 2026 14:05:00 +0800");
	HDR("MIME-Version", "1.0");
	HDR("Auto-Submitted", "auto-generated");
	HDR(MAIL_LOOP_HEADER, "beian@provider.example");
	HDR("Content-Type", "text/plain; charset=UTF-8");
	HDR("Content-Transfer-Encoding", "base64");
	free(h);
	free(msg);

	/* no Reply-To, no threading: the headers are absent */
	sp.reply_to = NULL;
	sp.in_reply_to = NULL;
	sp.references = NULL;
	CHECK(mail_compose(&sp, &msg, &len, NULL, 0) == 0);
	h = headers_of(msg);
	CHECK((v = header_get(h, "Reply-To")) == NULL);
	free(v);
	CHECK((v = header_get(h, "In-Reply-To")) == NULL);
	free(v);
	CHECK((v = header_get(h, "References")) == NULL);
	free(v);
	free(h);
	free(msg);

	/* long References fold at the spaces, unfold to the same list */
	spec_full(&sp, "withdrawn");
	sp.references = "<BA-2026-000123.1.received.owner@provider.example> "
	    "<BA-2026-000123.5.returned_to_owner.owner@provider.example> "
	    "<BA-2026-000123.9.received.owner@provider.example>";
	CHECK(mail_compose(&sp, &msg, &len, NULL, 0) == 0);
	CHECK(lines_ok(msg, len, 76));
	h = headers_of(msg);
	v = header_get(h, "References");
	CHECK(v != NULL && strstr(v, "<BA-2026-000123.9.received") != NULL);
	free(v);
	free(h);
	free(msg);
#undef HDR
}

UNIT_TEST(mail_date_format)
{
	static const struct {
		time_t t;
		const char *want;
	} rows[] = {
		{ 0, "Thu, 01 Jan 1970 08:00:00 +0800" },
		{ 1772517900, "Tue, 03 Mar 2026 14:05:00 +0800" },
		{ 1767196799, "Wed, 31 Dec 2025 23:59:59 +0800" },
		{ 1767196800, "Thu, 01 Jan 2026 00:00:00 +0800" },
		{ 1709222400, "Fri, 01 Mar 2024 00:00:00 +0800" },
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CHECKM(mail_date_format(rows[i].t, buf, sizeof(buf)) == 0,
		    "row %zu", i);
		CHECK_STR(buf, rows[i].want);
	}
	CHECK(mail_date_format(0, buf, 10) == -1);
}

UNIT_TEST(mail_subject_decodes)
{
	static const struct {
		const char *tpl, *tag, *token, *want;
	} rows[] = {
		{ "received", "[BA-2026-000123 k3J9xQ2m]", NULL,
		    "[BA-2026-000123 k3J9xQ2m] 备案申请已受理 / Filing received" },
		{ "approved_provider", "[BA-2026-000123]", NULL,
		    "[BA-2026-000123] 备案已通过 / Filing approved" },
		{ "review_request", "[BA-2026-000123]", "Tk9qLmZ3",
		    "[BA-2026-000123] 备案审核申请 / Filing review request "
		    "[review:Tk9qLmZ3]" },
		{ "returned_to_owner", "[BA-2026-000123 k3J9xQ2m]", NULL,
		    "[BA-2026-000123 k3J9xQ2m] 备案申请被退回，请修改 / "
		    "Filing returned for correction" },
		{ "help", NULL, NULL,
		    "如何提交ICP备案 / How to file for an ICP licence" },
	};
	struct mail_spec sp;
	char *msg, *h, *raw, *dec;
	size_t i, len;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		spec_full(&sp, rows[i].tpl);
		sp.tag = rows[i].tag;
		sp.review_token = rows[i].token;
		CHECKM(mail_compose(&sp, &msg, &len, NULL, 0) == 0, "row %zu", i);
		h = headers_of(msg);
		raw = header_get(h, "Subject");
		CHECKM(raw != NULL && subject_words_ok(raw), "row %zu: %s", i,
		    raw ? raw : "(none)");
		dec = raw ? subject_decode(raw) : NULL;
		CHECK_STR(dec, rows[i].want);
		free(dec);
		free(raw);
		free(h);
		free(msg);
	}
}

/* ---- body ------------------------------------------------------------ */

UNIT_TEST(mail_body_findings)
{
	static const char *const tpls[] = { "invalid", "returned_to_owner",
		"returned_to_provider" };
	struct mail_spec sp;
	struct mailmime *mime;
	unsigned char *body;
	char *msg, line[512];
	size_t i, j, len, blen, idx;

	for (i = 0; i < 3; i++) {
		spec_full(&sp, tpls[i]);
		CHECK(mail_compose(&sp, &msg, &len, NULL, 0) == 0);
		idx = 0;
		mime = NULL;
		CHECK(mailmime_parse(msg, len, &idx, &mime) == MAILIMF_NO_ERROR);
		if (mime == NULL) {
			free(msg);
			continue;
		}
		body = part_bytes(mime->mm_data.mm_message.mm_msg_mime, &blen);
		CHECKM(body != NULL && utf8_valid(body, blen), "%s", tpls[i]);
		if (body != NULL) {
			const char *b = (const char *)body;

			/* CRLF text, zh first */
			CHECK(strstr(b, "\r\n") != NULL);
			CHECK(strstr(b, "您好") < strstr(b, "Hello"));
			for (j = 0; j < sizeof(findings) / sizeof(findings[0]);
			    j++) {
				snprintf(line, sizeof(line), "\r\n  %s  %s  %s\r\n",
				    findings[j].path, findings[j].code,
				    findings[j].message);
				CHECKM(strstr(b, line) != NULL, "%s finding %zu",
				    tpls[i], j);
			}
		}
		free(body);
		mailmime_free(mime);
		free(msg);
	}
}

/* ---- attachments ----------------------------------------------------- */

UNIT_TEST(mail_attachments_parse_back)
{
	static const char *const names[] = {
		"备案材料-示例网络科技有限公司-一个相当长的中文文件名用于测试折行.zip",
		"photo.jpg",
		"核验单 \"扫描\".pdf",
	};
	unsigned char bin[3][700];
	struct mail_attachment att[3];
	struct mail_spec sp;
	struct mailmime *mime, *body;
	clistiter *it;
	char *msg, *h, *ct;
	size_t i, len, idx, n;

	for (i = 0; i < 3; i++) {
		for (n = 0; n < sizeof(bin[i]); n++)
			bin[i][n] = (unsigned char)(n * (i + 7) + i);
		att[i].filename = names[i];
		att[i].content_type = i == 1 ? "image/jpeg" : NULL;
		att[i].data = bin[i];
		att[i].len = sizeof(bin[i]) - i * 100;
	}
	spec_full(&sp, "review_request");
	sp.attachments = att;
	sp.nattachments = 3;
	CHECK(mail_compose(&sp, &msg, &len, NULL, 0) == 0);
	CHECK(lines_ok(msg, len, 76));
	h = headers_of(msg);
	ct = header_get(h, "Content-Type");
	CHECK(ct != NULL && strncmp(ct, "multipart/mixed;", 16) == 0);
	free(ct);
	free(h);

	idx = 0;
	mime = NULL;
	CHECK(mailmime_parse(msg, len, &idx, &mime) == MAILIMF_NO_ERROR);
	if (mime == NULL) {
		free(msg);
		return;
	}
	body = mime->mm_data.mm_message.mm_msg_mime;
	CHECK(body != NULL && body->mm_type == MAILMIME_MULTIPLE);
	if (body == NULL || body->mm_type != MAILMIME_MULTIPLE)
		goto out;
	CHECK_INT(clist_count(body->mm_data.mm_multipart.mm_mp_list), 4);
	i = 0;
	for (it = clist_begin(body->mm_data.mm_multipart.mm_mp_list); it;
	    it = clist_next(it), i++) {
		struct mailmime *part = clist_content(it);
		unsigned char *data;
		char *fn, *nm;
		size_t dl;

		data = part_bytes(part, &dl);
		CHECKM(data != NULL, "part %zu", i);
		if (i == 0) {
			/* the text first */
			CHECK(part->mm_content_type != NULL &&
			    strcasecmp(part->mm_content_type->ct_subtype,
			    "plain") == 0);
			CHECK(data != NULL &&
			    strstr((char *)data, "[review:Tk9qLmZ3]") != NULL);
			free(data);
			continue;
		}
		fn = part_filename(part);
		nm = part_name(part);
		CHECK_STR(fn, names[i - 1]);
		/* the name= fallback has ' for " (see mail_compose.c) */
		if (i == 3)
			CHECK_STR(nm, "核验单 '扫描'.pdf");
		else
			CHECK_STR(nm, names[i - 1]);
		CHECKM(data != NULL && dl == att[i - 1].len &&
		    memcmp(data, att[i - 1].data, dl) == 0, "part %zu bytes", i);
		if (i == 2)
			CHECK(strcasecmp(part->mm_content_type->ct_subtype,
			    "jpeg") == 0);
		free(fn);
		free(nm);
		free(data);
	}
out:
	mailmime_free(mime);
	free(msg);
}

UNIT_TEST(mail_deterministic)
{
	struct mail_attachment att = { "表.xml", "application/xml",
		(const unsigned char *)"<a/>", 4 };
	struct mail_spec sp;
	char *a, *b;
	size_t la, lb;

	spec_full(&sp, "approved_bureau");
	sp.attachments = &att;
	sp.nattachments = 1;
	CHECK(mail_compose(&sp, &a, &la, NULL, 0) == 0);
	CHECK(mail_compose(&sp, &b, &lb, NULL, 0) == 0);
	CHECK(la == lb && memcmp(a, b, la) == 0);
	free(a);
	free(b);
}

/* ---- refusals -------------------------------------------------------- */

UNIT_TEST(mail_header_injection_refused)
{
	static const struct {
		const char *field, *value;
	} rows[] = {
		{ "to", "zhangsan@example.cn\r\nBcc: evil@example.org" },
		{ "to", "zhangsan@example.cn\nBcc: evil@example.org" },
		{ "to", "Zhang San <zhangsan@example.cn>" },
		{ "to", "" },
		{ "from", "beian@provider.example\r\n" },
		{ "reply_to", "a@b\rX-Evil: 1" },
		{ "message_id", "<a@b>\r\nBcc: evil@example.org" },
		{ "message_id", "a@b" },
		{ "message_id", "<ab>" },
		{ "in_reply_to", "<a@b>\nX: y" },
		{ "references", "<a@b>\r\n <c@d>" },
		{ "references", "<a@b>  <c@d>" },
		{ "tag", "[BA-2026-000123]\r\nBcc: evil@example.org" },
		{ "review_token", "abc\ndef" },
	};
	struct mail_spec sp;
	char *msg, err[256];
	size_t i, len;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		spec_full(&sp, "review_request");
		if (strcmp(rows[i].field, "to") == 0)
			sp.to = rows[i].value;
		else if (strcmp(rows[i].field, "from") == 0)
			sp.from = rows[i].value;
		else if (strcmp(rows[i].field, "reply_to") == 0)
			sp.reply_to = rows[i].value;
		else if (strcmp(rows[i].field, "message_id") == 0)
			sp.message_id = rows[i].value;
		else if (strcmp(rows[i].field, "in_reply_to") == 0)
			sp.in_reply_to = rows[i].value;
		else if (strcmp(rows[i].field, "references") == 0)
			sp.references = rows[i].value;
		else if (strcmp(rows[i].field, "tag") == 0)
			sp.tag = rows[i].value;
		else
			sp.review_token = rows[i].value;
		msg = NULL;
		CHECKM(mail_compose(&sp, &msg, &len, err, sizeof(err)) == -1,
		    "row %zu (%s)", i, rows[i].field);
		CHECK(msg == NULL);
	}

	/* a bad attachment content type */
	{
		struct mail_attachment a = { "x.bin",
			"application/zip\r\nBcc: evil@example.org",
			(const unsigned char *)"x", 1 };

		spec_full(&sp, "review_request");
		sp.attachments = &a;
		sp.nattachments = 1;
		CHECK(mail_compose(&sp, &msg, &len, err, sizeof(err)) == -1);
	}
}

UNIT_TEST(mail_hostile_params_stay_in_body)
{
	struct mail_param evil[] = {
		{ "tracking_id", "BA-2026-000123" },
		{ "sponsor_name", "坏人\r\nBcc: evil@example.org\r\n\r\nhi" },
		{ "sites", "bad\xff\xfeutf8" },
	};
	struct mail_finding f = { "a\r\nBcc: x/\x01.jpg", "PHOTO_CORRUPT",
		"坏\r\n / bad" };
	struct mail_spec sp;
	struct mailmime *mime;
	unsigned char *body;
	char *msg, *h;
	size_t len, idx = 0, blen;

	spec_full(&sp, "returned_to_owner");
	sp.params = evil;
	sp.nparams = 3;
	sp.findings = &f;
	sp.nfindings = 1;
	CHECK(mail_compose(&sp, &msg, &len, NULL, 0) == 0);
	h = headers_of(msg);
	CHECK(h != NULL && strstr(h, "Bcc") == NULL);
	free(h);
	CHECK(mailmime_parse(msg, len, &idx, &mime) == MAILIMF_NO_ERROR);
	body = part_bytes(mime->mm_data.mm_message.mm_msg_mime, &blen);
	CHECK(body != NULL && utf8_valid(body, blen));
	/* the path's controls are escaped, the line stays one line */
	CHECK(body != NULL && strstr((char *)body,
	    "  a\\x0D\\x0ABcc: x/\\x01.jpg  PHOTO_CORRUPT  坏   / bad\r\n") !=
	    NULL);
	free(body);
	mailmime_free(mime);
	free(msg);
}

UNIT_TEST(mail_addr_and_msgid_valid)
{
	CHECK(mail_addr_valid("a@b"));
	CHECK(mail_addr_valid("first.last+tag@sub.example.cn"));
	CHECK(!mail_addr_valid("a@b@c"));
	CHECK(!mail_addr_valid("@b"));
	CHECK(!mail_addr_valid("a@"));
	CHECK(!mail_addr_valid("a b@c"));
	CHECK(!mail_addr_valid("张三@example.cn"));
	CHECK(mail_msgid_valid("<BA-2026-000123.1.received.owner@p.example>"));
	CHECK(!mail_msgid_valid("<a@b> "));
	CHECK(!mail_msgid_valid("<a@b@c>"));
	CHECK(!mail_msgid_valid("<@b>"));
	CHECK(!mail_msgid_valid(NULL));
}

/* ---- eml ------------------------------------------------------------- */

UNIT_TEST(eml_name)
{
	static const struct {
		const char *id, *want;
	} rows[] = {
		{ "<BA-2026-000123.17.approved_owner.owner@provider.example>",
		    "BA-2026-000123.17.approved_owner.owner" },
		{ "<3fa9c1.2.help.sender@p.example>", "3fa9c1.2.help.sender" },
		{ "<../../etc/passwd@x>", "_._.._etc_passwd" },
		{ "<.hidden@x>", "_hidden" },
		{ "<a b/c\\d@x>", "a_b_c_d" },
	};
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CHECKM(eml_name(rows[i].id, buf, sizeof(buf)) == 0, "row %zu", i);
		CHECK_STR(buf, rows[i].want);
	}
	CHECK(eml_name("<@x>", buf, sizeof(buf)) == -1);
	CHECK(eml_name("<abcdef@x>", buf, 4) == -1);
}

UNIT_TEST(eml_write_atomic)
{
	char dir[] = "/tmp/beiand-eml.XXXXXX", sub[300], path[512];
	const char *id = "<BA-2026-000123.17.received.owner@provider.example>";
	const char *msg = "Subject: x\r\n\r\nhello\r\n";
	unsigned char *back;
	struct dirent *de;
	struct stat st;
	size_t len;
	DIR *d;
	int files = 0;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(sub, sizeof(sub), "%s/mail", dir);
	/* the directory is created when missing */
	CHECK_INT(eml_write(sub, id, msg, strlen(msg), path, sizeof(path)), 0);
	CHECK(strstr(path, "/mail/BA-2026-000123.17.received.owner.eml") != NULL);
	CHECK(stat(path, &st) == 0);
	CHECK_INT(st.st_mode & 07777, 0600);
	back = unit_read_file(path, &len);
	CHECK(back != NULL && len == strlen(msg) && memcmp(back, msg, len) == 0);
	free(back);
	/* a resend of the same bytes is recognised */
	CHECK_INT(eml_write(sub, id, msg, strlen(msg), NULL, 0), 1);
	/* other bytes under the same name: an error, nothing replaced */
	errno = 0;
	CHECK_INT(eml_write(sub, id, "other", 5, NULL, 0), -1);
	CHECK_INT(errno, EEXIST);
	back = unit_read_file(path, &len);
	CHECK(back != NULL && len == strlen(msg));
	free(back);
	/* no temporary file is left behind */
	if ((d = opendir(sub)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				files++;
		closedir(d);
	}
	CHECK_INT(files, 1);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}
