/*
 * test_mime: mime_parse and friends.
 *
 * The mails come from tests/fx_mail.py (a missing one fails), composed
 * as Thunderbird, Outlook, an MTA's DSN and an auto-responder compose
 * them; each decoded field is checked exactly.  Header words, subject
 * tags, commands and limits are tables of small inputs built here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "parsers/mime.h"
#include "unit.h"

/* ---- helpers -------------------------------------------------------- */

static unsigned char *
fixture(const char *name, size_t *len)
{
	char path[1024];
	unsigned char *b;

	snprintf(path, sizeof(path), "%s/mail/%s", unit_fixtures(), name);
	b = unit_read_file(path, len);
	if (b == NULL)
		unit_fail(__FILE__, __LINE__, "fixture %s missing (run "
		    "tests/mkfixtures.py)", path);
	return b;
}

/* Parse a fixture with the default limits; NULL (and a failure) when
 * it does not parse or when it earns a finding. */
static struct mime_mail *
parse_fixture(const char *name)
{
	struct input_limits lim;
	struct errlist *el = errlist_new();
	struct mime_mail *m = NULL;
	unsigned char *b;
	size_t len;

	input_limits_defaults(&lim);
	if ((b = fixture(name, &len)) == NULL)
		goto out;
	if (mime_parse(b, len, &lim, &m, el) != 0)
		unit_fail(__FILE__, __LINE__, "%s: mime_parse failed", name);
	if (errlist_count(el) != 0)
		unit_fail(__FILE__, __LINE__, "%s: %zu findings, first %s", name,
		    errlist_count(el), err_code_name(errlist_get(el, 0)->code));
out:
	free(b);
	errlist_free(el);
	return m;
}

static struct mime_mail *
parse_str(const char *s, struct errlist *el)
{
	struct input_limits lim;
	struct mime_mail *m = NULL;

	input_limits_defaults(&lim);
	if (mime_parse(s, strlen(s), &lim, &m, el) != 0)
		return NULL;
	return m;
}

static int
same_as_fixture(const struct mime_attachment *a, const char *name)
{
	size_t len;
	unsigned char *b = fixture(name, &len);
	int same = b != NULL && a->len == len && memcmp(a->data, b, len) == 0;

	free(b);
	return same;
}

/* ---- mails from real clients --------------------------------------- */

UNIT_TEST(mime_thunderbird_zip)
{
	struct mime_mail *m = parse_fixture("thunderbird_zip.eml");
	struct mime_package pkg;
	struct errlist *el = errlist_new();

	if (m == NULL)
		goto out;
	CHECK_STR(m->message_id, "m1@example.cn");
	CHECK_STR(m->from_addr, "ZhangSan@example.cn");
	CHECK_STR(m->from_display, "张三");
	CHECK_STR(m->subject, "Re: 更正材料 [BA-2026-000123 k3J9xQ2m]");
	CHECK_STR(m->tag_id, "BA-2026-000123");
	CHECK_STR(m->tag_token, "k3J9xQ2m");
	CHECK_STR(m->review_token, "");
	CHECK_STR(m->text, "您好，附件是更正后的材料。\n\n张三\n");
	CHECK(m->return_path == NULL && m->reply_to_addr == NULL);
	CHECK_INT(m->nattachments, 1); /* the HTML alternative is no file */
	if (m->nattachments == 1) {
		CHECK_STR(m->attachments[0].filename, "备案材料.zip");
		CHECK_STR(m->attachments[0].content_type, "application/zip");
		CHECK(same_as_fixture(&m->attachments[0], "thunderbird_zip.zip"));
	}
	CHECK_INT(mime_is_automated(m, "intake@p001.example"), 0);
	CHECK_INT(mime_first_command(m, NULL), MIME_CMD_NONE);
	CHECK_INT(mime_package_get(m, &pkg, el), 0);
	CHECK_INT(pkg.kind, MIME_PKG_ARCHIVE);
	CHECK(pkg.archive == &m->attachments[0]);
	CHECK(pkg.decision == NULL);
	mime_package_clear(&pkg);
out:
	errlist_free(el);
	mime_mail_free(m);
}

UNIT_TEST(mime_outlook_gb2312)
{
	struct mime_mail *m = parse_fixture("outlook_gb2312.eml");

	if (m == NULL)
		return;
	CHECK_STR(m->message_id, "000001db0000$12345670$abcdef00@example.cn");
	CHECK_STR(m->from_addr, "zhangsan@example.cn");
	CHECK_STR(m->from_display, "张三");
	CHECK_STR(m->return_path, "zhangsan@example.cn");
	CHECK_STR(m->subject, "回复：备案通知 [BA-2026-000123 k3J9xQ2m]");
	CHECK_STR(m->tag_id, "BA-2026-000123");
	CHECK_STR(m->tag_token, "k3J9xQ2m");
	CHECK_STR(m->text, "请查收附件。\n");
	CHECK_INT(m->nattachments, 1);
	if (m->nattachments == 1) {
		CHECK_STR(m->attachments[0].filename, "备案材料.zip");
		CHECK_STR(m->attachments[0].content_type,
		    "application/x-zip-compressed");
		CHECK(same_as_fixture(&m->attachments[0], "outlook_gb2312.zip"));
	}
	CHECK_INT(mime_is_automated(m, NULL), 0);
	mime_mail_free(m);
}

UNIT_TEST(mime_rfc2231)
{
	static const char *names[] = {
		"备案.zip",	/* filename*0*=UTF-8''…; filename*1*=… */
		"备案-v2.txt",	/* encoded, plain, encoded; out of order */
		"备案.doc",	/* gb2312'zh-cn'… */
		"passwd",	/* "../../etc/passwd": the last component */
		"attachment-5",	/* ".." */
	};
	struct mime_mail *m = parse_fixture("rfc2231_split.eml");

	if (m == NULL)
		return;
	CHECK_STR(m->subject, "备案材料 plain");
	CHECK_STR(m->text, "see attached");
	CHECK_INT(m->nattachments, 5);
	for (size_t i = 0; i < 5 && i < m->nattachments; i++)
		CHECKM(strcmp(m->attachments[i].filename, names[i]) == 0,
		    "%zu: %s", i, m->attachments[i].filename);
	if (m->nattachments == 5) {
		CHECK_INT(m->attachments[0].len, 22);
		CHECK(memcmp(m->attachments[0].data, "PK\x05\x06", 4) == 0);
		CHECK_INT(m->attachments[1].len, 3);
		CHECK_STR((char *)m->attachments[1].data, "abc");
		CHECK_STR(m->attachments[1].content_type,
		    "application/octet-stream");
	}
	mime_mail_free(m);
}

UNIT_TEST(mime_files_direct)
{
	struct mime_mail *m = parse_fixture("files_direct.eml");
	struct errlist *el = errlist_new();
	struct mime_package pkg;
	unsigned char *xml;
	size_t xlen = 0;

	xml = unit_read_file("examples/filing.xml", &xlen);
	if (m == NULL)
		goto out;
	CHECK_STR(m->text, "备案材料见附件。\n");
	CHECK_STR(m->tag_id, "");
	CHECK(m->nattachments >= 4);
	CHECK_INT(mime_package_get(m, &pkg, el), 0);
	CHECK_INT(pkg.kind, MIME_PKG_FILES);
	CHECK_INT(pkg.nfiles, m->nattachments);
	if (pkg.nfiles > 0) {
		CHECK_STR(pkg.files[0].name, "filing.xml");
		CHECK(xml != NULL && pkg.files[0].size == xlen &&
		    memcmp(pkg.files[0].data, xml, xlen) == 0);
	}
	for (size_t i = 1; i < pkg.nfiles; i++) {
		CHECKM(strcmp(m->attachments[i].content_type, "image/jpeg") == 0,
		    "%zu", i);
		CHECKM(pkg.files[i].size > 2 && pkg.files[i].data[0] == 0xff &&
		    pkg.files[i].data[1] == 0xd8, "%zu jpeg", i);
	}
	mime_package_clear(&pkg);
out:
	free(xml);
	errlist_free(el);
	mime_mail_free(m);
}

UNIT_TEST(mime_decisions_by_mail)
{
	struct mime_mail *m;
	char *reason = NULL;

	if ((m = parse_fixture("reject_gbk.eml")) != NULL) {
		CHECK_STR(m->from_addr, "Review@bureau.example");
		CHECK_STR(m->from_display, "审核");
		CHECK_STR(m->subject, "回复：评审请求 [review:ABCDEFGHJKMNPQRS]");
		CHECK_STR(m->review_token, "ABCDEFGHJKMNPQRS");
		CHECK_STR(m->tag_id, "");
		CHECK_STR(m->text, "\nREJECT：域名持有者与主办单位不一致\n\n> 原邮件\n");
		CHECK_INT(mime_first_command(m, &reason), MIME_CMD_REJECT);
		CHECK_STR(reason, "域名持有者与主办单位不一致");
		free(reason);
		CHECK(mime_addr_equal(m->from_addr, "review@bureau.example"));
		mime_mail_free(m);
	}
	if ((m = parse_fixture("approve_quoted.eml")) != NULL) {
		CHECK_STR(m->text, "\n   \n> REJECT: not this one\n>> nor this\n"
		    "  Approve  \n\nregards\n");
		CHECK_STR(m->review_token, "ABCDEFGHJKMNPQRS");
		reason = NULL;
		CHECK_INT(mime_first_command(m, &reason), MIME_CMD_APPROVE);
		CHECK(reason == NULL);
		mime_mail_free(m);
	}
	if ((m = parse_fixture("withdraw.eml")) != NULL) {
		CHECK_STR(m->subject, "Re: [BA-2026-000123 k3J9xQ2m] 撤回");
		CHECK_STR(m->tag_token, "k3J9xQ2m");
		CHECK_INT(mime_first_command(m, NULL), MIME_CMD_WITHDRAW);
		mime_mail_free(m);
	}
}

UNIT_TEST(mime_automated)
{
	static const struct {
		const char *file;
		int automated;
	} rows[] = {
		{ "ooo.eml", 1 }, { "dsn.eml", 1 }, { "bulk.eml", 1 },
		{ "list.eml", 1 }, { "nullrp.eml", 1 }, { "loop.eml", 1 },
		{ "plain.eml", 0 }, { "thunderbird_zip.eml", 0 },
		{ "withdraw.eml", 0 },
	};
	struct mime_mail *m;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if ((m = parse_fixture(rows[i].file)) == NULL)
			continue;
		CHECKM(mime_is_automated(m, "intake@p001.example") ==
		    rows[i].automated, "%s", rows[i].file);
		mime_mail_free(m);
	}

	if ((m = parse_fixture("ooo.eml")) != NULL) {
		CHECK_STR(m->auto_submitted, "auto-replied");
		CHECK_STR(m->text, "我正在休假。\n");
		mime_mail_free(m);
	}
	if ((m = parse_fixture("dsn.eml")) != NULL) {
		CHECK_INT(m->is_dsn, 1);
		CHECK_STR(m->return_path, "");
		CHECK_STR(m->from_addr, "MAILER-DAEMON@mx.example.cn");
		CHECK_STR(m->text, "I'm sorry to have to inform you that your "
		    "message could not");
		CHECK_INT(m->nattachments, 2);
		if (m->nattachments == 2) {
			CHECK_STR(m->attachments[0].filename, "attachment-1");
			CHECK_STR(m->attachments[0].content_type,
			    "message/delivery-status");
			CHECK_STR(m->attachments[1].filename, "attachment-2.eml");
			CHECK_STR(m->attachments[1].content_type, "message/rfc822");
			CHECK_STR((char *)m->attachments[1].data,
			    "From: filing@p001.example\r\nSubject: x\r\n\r\nbody");
		}
		mime_mail_free(m);
	}
	if ((m = parse_fixture("bulk.eml")) != NULL) {
		CHECK_STR(m->precedence, "bulk");
		CHECK(m->list_id == NULL && m->auto_submitted == NULL);
		mime_mail_free(m);
	}
	if ((m = parse_fixture("list.eml")) != NULL) {
		CHECK_STR(m->list_id, "Filings <filings.lists.example.cn>");
		mime_mail_free(m);
	}
	if ((m = parse_fixture("nullrp.eml")) != NULL) {
		CHECK_STR(m->return_path, "");
		CHECK_INT(m->is_dsn, 0);
		mime_mail_free(m);
	}
	if ((m = parse_fixture("loop.eml")) != NULL) {
		CHECK_INT(m->has_loop_header, 1);
		mime_mail_free(m);
	}
	if ((m = parse_fixture("plain.eml")) != NULL) {
		CHECK_STR(m->auto_submitted, "no");
		CHECK_STR(m->return_path, "Owner@example.cn");
		CHECK_STR(m->reply_to_addr, "other@example.net");
		CHECK_INT(m->has_loop_header, 0);
		CHECK_STR(m->text, "hello\n");
		/* beiand's own address as sender */
		CHECK_INT(mime_is_automated(m, "zhangsan@EXAMPLE.cn"), 1);
		mime_mail_free(m);
	}
}

UNIT_TEST(mime_broken_input)
{
	struct mime_mail *m;
	size_t len;
	unsigned char *b;

	if ((m = parse_fixture("broken_charset.eml")) != NULL) {
		/* x-unknown: kept as UTF-8, each invalid byte U+FFFD */
		CHECK_STR(m->text, "ok \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
		    "\xef\xbf\xbd\n");
		CHECK_STR(m->subject, "备案n\xef\xbf\xbd$z备");
		mime_mail_free(m);
	}
	if ((m = parse_fixture("b64_junk.eml")) != NULL) {
		CHECK_STR(m->text, "café softbreak = done");
		CHECK_INT(m->nattachments, 1);
		if (m->nattachments == 1) {
			CHECK_STR(m->attachments[0].filename, "blob.bin");
			CHECK(same_as_fixture(&m->attachments[0], "b64_junk.bin"));
		}
		mime_mail_free(m);
	}
	if ((m = parse_fixture("nested16.eml")) != NULL) {
		CHECK_INT(m->nattachments, 1);
		mime_mail_free(m);
	}
	if ((b = fixture("nested17.eml", &len)) != NULL) {
		struct input_limits lim;
		struct errlist *el = errlist_new();

		input_limits_defaults(&lim);
		m = NULL;
		CHECK_INT(mime_parse(b, len, &lim, &m, el), 0);
		CHECK(errlist_has(el, ERR_ARCHIVE_BOMB));
		CHECK(m != NULL && m->nattachments == 0);
		mime_mail_free(m);
		errlist_free(el);
		free(b);
	}
}

UNIT_TEST(mime_limits)
{
	struct input_limits lim;
	struct errlist *el = errlist_new();
	struct mime_mail *m = NULL;
	unsigned char *b;
	size_t len;

	if ((b = fixture("rfc2231_split.eml", &len)) == NULL)
		goto out;

	input_limits_defaults(&lim);
	lim.mail_max_bytes = len - 1;
	CHECK_INT(mime_parse(b, len, &lim, &m, el), -1);
	CHECK(m == NULL);
	CHECK_INT(errlist_count(el), 1);
	CHECK(errlist_has(el, ERR_MAIL_TOO_LARGE));
	CHECK_STR(errlist_get(el, 0)->path, "/");
	lim.mail_max_bytes = len;
	errlist_clear(el);
	CHECK_INT(mime_parse(b, len, &lim, &m, el), 0);
	CHECK_INT(errlist_count(el), 0);
	mime_mail_free(m);
	m = NULL;

	input_limits_defaults(&lim);
	lim.archive_max_entries = 2;
	CHECK_INT(mime_parse(b, len, &lim, &m, el), 0);
	CHECK(errlist_has(el, ERR_ARCHIVE_TOO_MANY_ENTRIES));
	CHECK(m != NULL && m->nattachments == 2);
	mime_mail_free(m);
	m = NULL;
	errlist_clear(el);

	input_limits_defaults(&lim);
	lim.archive_max_bytes = 21; /* the first attachment has 22 */
	CHECK_INT(mime_parse(b, len, &lim, &m, el), 0);
	CHECK_INT(errlist_count(el), 1);
	CHECK(errlist_has(el, ERR_ARCHIVE_TOO_LARGE));
	if (errlist_count(el) == 1)
		CHECK_STR(errlist_get(el, 0)->path, "备案.zip");
	CHECK(m != NULL && m->nattachments == 4);
	mime_mail_free(m);
	m = NULL;
	errlist_clear(el);

	input_limits_defaults(&lim);
	lim.archive_max_unpacked = 30; /* text 12 + zip 22 */
	CHECK_INT(mime_parse(b, len, &lim, &m, el), 0);
	CHECK(errlist_has(el, ERR_ARCHIVE_BOMB));
	mime_mail_free(m);
	m = NULL;
	errlist_clear(el);

	/* not a message at all */
	input_limits_defaults(&lim);
	CHECK_INT(mime_parse("", 0, &lim, &m, el), -1);
	CHECK(errlist_has(el, ERR_NO_PACKAGE));
	errlist_clear(el);
	CHECK_INT(mime_parse("hello world\r\n", 13, &lim, &m, el), -1);
	CHECK(errlist_has(el, ERR_NO_PACKAGE));
	CHECK(m == NULL);
	free(b);
out:
	errlist_free(el);
}

/* ---- tables --------------------------------------------------------- */

UNIT_TEST(mime_subject_tags)
{
	static const struct {
		const char *subject, *id, *token, *review;
	} rows[] = {
		{ "[BA-2026-000123 k3J9xQ2m]", "BA-2026-000123", "k3J9xQ2m", "" },
		{ "Re: 回复：[BA-2026-000123 k3J9xQ2m] 更正", "BA-2026-000123",
		  "k3J9xQ2m", "" },
		{ "=?utf-8?B?5Zue5aSN77yaW0JBLTIwMjYtMDAwMTIzIGszSjl4UTJtXQ==?=",
		  "BA-2026-000123", "k3J9xQ2m", "" },
		{ "Fwd: [BA-2026-000123]", "BA-2026-000123", "", "" },
		{ "[BA-2026-000123  k3J9xQ2m]", "BA-2026-000123", "k3J9xQ2m", "" },
		{ "[BA-2026-000123 k3J9xQ2]", "BA-2026-000123", "", "" },
		{ "[BA-2026-000123 k3J9xQ21]", "BA-2026-000123", "", "" },
		{ "[BA-2026-000123 k3J9xQ2mm]", "BA-2026-000123", "", "" },
		{ "[BA-2026-000123 k3J9xQ2m", "", "", "" },
		{ "[BA-2026-00012]", "", "", "" },
		{ "[BA-2026-0001234]", "", "", "" }, /* seven, not canonical */
		/* a seventh digit after a year's first million */
		{ "[BA-2026-1000000 k3J9xQ2m]", "BA-2026-1000000", "k3J9xQ2m",
		  "" },
		{ "Re: [BA-2026-1234567]", "BA-2026-1234567", "", "" },
		{ "[BA-2026-12345678]", "", "", "" },
		{ "[BA-26-000123]", "", "", "" },
		{ "BA-2026-000123 k3J9xQ2m", "", "", "" },
		{ "[ba-2026-000123]", "", "", "" },
		{ "[review:ABCDEFGHJKMNPQRS]", "", "", "ABCDEFGHJKMNPQRS" },
		{ "Re: 评审 [Review:ABCDEFGHJKMNPQRS]", "", "", "ABCDEFGHJKMNPQRS" },
		{ "[review:ABCDEFGHJKMNPQR]", "", "", "" },
		{ "[review:ABCDEFGHJKMNPQRSI]", "", "", "" },
		{ "[review:ABCDEFGHJKMNPQRT]", "", "", "ABCDEFGHJKMNPQRT" },
		{ "[review:ABCDEFGHIKMNPQRS]", "", "", "" }, /* I is not */
		{ "[x] [BA-2026-000124 abcdefgh] [review:ABCDEFGHJKMNPQRS]",
		  "BA-2026-000124", "abcdefgh", "ABCDEFGHJKMNPQRS" },
		{ "[BA-2026-000124] [BA-2026-000125 abcdefgh]", "BA-2026-000124",
		  "", "" },
		{ "", "", "", "" },
	};
	struct errlist *el = errlist_new();

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *msg = xasprintf("Subject: %s\r\nFrom: a@b.c\r\n\r\nx\r\n",
		    rows[i].subject);
		struct mime_mail *m = parse_str(msg, el);

		CHECKM(m != NULL, "row %zu", i);
		if (m != NULL) {
			CHECKM(strcmp(m->tag_id, rows[i].id) == 0,
			    "row %zu: id \"%s\"", i, m->tag_id);
			CHECKM(strcmp(m->tag_token, rows[i].token) == 0,
			    "row %zu: token \"%s\"", i, m->tag_token);
			CHECKM(strcmp(m->review_token, rows[i].review) == 0,
			    "row %zu: review \"%s\"", i, m->review_token);
		}
		mime_mail_free(m);
		free(msg);
	}
	CHECK_INT(errlist_count(el), 0);
	errlist_free(el);
}

UNIT_TEST(mime_header_words)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "=?GBK?B?xOO6ww==?=", "你好" },
		{ "=?gb2312?b?xOO6ww==?=", "你好" },
		{ "=?x-gbk?Q?=C4=E3=BA=C3?=", "你好" },
		{ "=?utf-8?q?a_b?=", "a b" },
		{ "=?utf-8?B?5aSH?= =?utf-8?B?5qGI?=", "备案" },
		{ "=?utf-8?B?5aQ=?=\r\n =?UTF-8?B?hw==?=", "备" }, /* split char */
		{ "plain =?utf-8?q?x?= tail", "plain x tail" },
		{ "=?utf-8?q?x?=  =?utf-8?q?y?=", "xy" },
		{ "=?utf-8?q?x?= a =?utf-8?q?y?=", "x a y" },
		{ "=?utf-8*zh-cn?Q?=E5=A4=87?=", "备" },
		{ "=?bogus", "=?bogus" },
		{ "=?utf-8?x?abc?=", "=?utf-8?x?abc?=" },
		{ "=?utf-8?q?a b?=", "=?utf-8?q?a b?=" },
		{ "\xc4\xe3\xba\xc3", "你好" },		/* raw GBK bytes */
		{ "备案", "备案" },			/* raw UTF-8 */
		{ "a\tb\x01" "c", "a b c" },
		{ "=?big5?B?pl7C0A==?=", "回覆" },
		{ "=?iso-8859-1?q?caf=E9?=", "café" },
		{ "=?utf-8?q?=00x?=", "x" },
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *s = mime_header_decode(rows[i].in);

		CHECKM(strcmp(s, rows[i].out) == 0, "row %zu: \"%s\"", i, s);
		free(s);
	}
}

UNIT_TEST(mime_charsets)
{
	static const struct {
		const char *charset, *in, *out;
	} rows[] = {
		{ "GB2312", "\xb1\xb8\xb0\xb8", "备案" },
		{ "gbk", "\x95\x96", "晼" },	/* GBK, not in GB2312 */
		{ "CP936", "\xb1\xb8", "备" },
		{ "gb18030", "\x81\x30\x81\x30", "\xc2\x80" },
		{ "gb2312", "\xb1\xb8\xff", "备\xef\xbf\xbd" },
		{ "gb2312", "\xb1", "\xef\xbf\xbd" },	/* cut character */
		{ "utf-8", "a\xe5\xa4" "b", "a\xef\xbf\xbd\xef\xbf\xbd" "b" },
		{ "utf-8", "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "us-ascii", "plain", "plain" },
		{ "ISO-8859-1", "\xe9", "é" },
		{ "x-unknown", "\xe5\xa4\x87", "备" },
		{ "x-unknown", "\xb1\xb8", "\xef\xbf\xbd\xef\xbf\xbd" },
		{ NULL, "\xb1\xb8", "备" },
		{ NULL, "备", "备" },
		{ "../../../etc/x", "ok", "ok" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *s = mime_charset_decode(rows[i].charset, rows[i].in,
		    strlen(rows[i].in));

		CHECKM(strcmp(s, rows[i].out) == 0, "row %zu: \"%s\"", i, s);
		free(s);
	}
}

UNIT_TEST(mime_commands)
{
	static const struct {
		const char *text;
		enum mime_command cmd;
		const char *reason;
	} rows[] = {
		{ "withdraw", MIME_CMD_WITHDRAW, NULL },
		{ "  WithDraw  \n", MIME_CMD_WITHDRAW, NULL },
		{ "\n\n> quoted\n  > also\nAPPROVE\n", MIME_CMD_APPROVE, NULL },
		{ "\xe3\x80\x80" "approve", MIME_CMD_APPROVE, NULL },
		{ "\xef\xbb\xbf" "APPROVE\n", MIME_CMD_APPROVE, NULL },
		{ "reject: bad name", MIME_CMD_REJECT, "bad name" },
		{ "REJECT：理由 \n", MIME_CMD_REJECT, "理由" },
		{ "Reject : x", MIME_CMD_REJECT, "x" },
		{ "REJECT", MIME_CMD_REJECT, "" },
		{ "REJECT:", MIME_CMD_REJECT, "" },
		{ "rejected", MIME_CMD_NONE, NULL },
		{ "reject it", MIME_CMD_NONE, NULL },
		{ "withdraw please", MIME_CMD_NONE, NULL },
		{ "approved", MIME_CMD_NONE, NULL },
		{ "hello\nwithdraw", MIME_CMD_NONE, NULL },
		{ "> withdraw\n", MIME_CMD_NONE, NULL },
		{ "", MIME_CMD_NONE, NULL },
		{ "\n \t \n", MIME_CMD_NONE, NULL },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct mime_mail m;
		char *reason = NULL;
		enum mime_command c;

		memset(&m, 0, sizeof(m));
		m.text = (char *)(uintptr_t)rows[i].text;
		c = mime_first_command(&m, &reason);
		CHECKM(c == rows[i].cmd, "row %zu: %d", i, (int)c);
		if (rows[i].reason == NULL)
			CHECKM(reason == NULL, "row %zu", i);
		else
			CHECKM(reason != NULL && strcmp(reason,
			    rows[i].reason) == 0, "row %zu: \"%s\"", i,
			    reason ? reason : "(null)");
		free(reason);
	}
}

UNIT_TEST(mime_addresses)
{
	static const struct {
		const char *from, *addr, *display;
	} rows[] = {
		{ "ZhangSan@Example.CN", "ZhangSan@example.cn", NULL },
		{ "\"张三\" <a@B.cn>", "a@b.cn", "张三" },
		{ "=?utf-8?B?5byg5LiJ?= <a@b.cn>", "a@b.cn", "张三" },
		{ "\"=?utf-8?B?5byg5LiJ?=\" <a@b.cn>", "a@b.cn", "张三" },
		{ "张三 <a@b.cn>", "a@b.cn", "张三" },	/* raw 8-bit name */
		{ "a@b.cn (Zhang San)", "a@b.cn", NULL },
		{ "Zhang, San <a@b.cn>", "a@b.cn", NULL },
		{ "<a@b.cn>, other@x.cn", "a@b.cn", NULL },
		{ "not an address", NULL, NULL },
		{ "<>", NULL, NULL },
	};
	struct errlist *el = errlist_new();

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *msg = xasprintf("From: %s\r\n\r\nx\r\n", rows[i].from);
		struct mime_mail *m = parse_str(msg, el);

		CHECKM(m != NULL, "row %zu", i);
		if (m != NULL) {
			if (rows[i].addr == NULL)
				CHECKM(m->from_addr == NULL, "row %zu: %s", i,
				    m->from_addr);
			else
				CHECKM(m->from_addr != NULL &&
				    strcmp(m->from_addr, rows[i].addr) == 0,
				    "row %zu: %s", i, m->from_addr ?
				    m->from_addr : "(null)");
			if (rows[i].display != NULL)
				CHECKM(m->from_display != NULL &&
				    strcmp(m->from_display, rows[i].display) == 0,
				    "row %zu: %s", i, m->from_display ?
				    m->from_display : "(null)");
		}
		mime_mail_free(m);
		free(msg);
	}
	errlist_free(el);

	CHECK(mime_addr_equal("Owner@Example.cn", "owner@example.CN"));
	CHECK(!mime_addr_equal("owner@example.cn", "owner2@example.cn"));
	CHECK(!mime_addr_equal(NULL, "a@b"));
	CHECK(!mime_addr_equal("", ""));
}

UNIT_TEST(mime_package_duplicate)
{
	static const char mail[] =
	    "From: a@b.cn\r\n"
	    "Content-Type: multipart/mixed; boundary=q\r\n\r\n"
	    "--q\r\nContent-Type: application/xml; name=filing.xml\r\n\r\n<a/>\r\n"
	    "--q\r\nContent-Disposition: attachment; filename=\"dir\\\\filing.xml\"\r\n"
	    "Content-Type: application/xml\r\n\r\n<b/>\r\n"
	    "--q\r\nContent-Type: application/xml; name=x.decision.xml\r\n\r\n<d/>\r\n"
	    "--q--\r\n";
	struct errlist *el = errlist_new();
	struct mime_mail *m = parse_str(mail, el);
	struct mime_package pkg;

	CHECK(m != NULL);
	if (m != NULL) {
		CHECK_INT(m->nattachments, 3);
		memset(&pkg, 0, sizeof(pkg));
		CHECK_INT(mime_package_get(m, &pkg, el), -1);
		CHECK(errlist_has(el, ERR_ARCHIVE_DUPLICATE_ENTRY));
		CHECK(pkg.files == NULL);
		/* without the duplicate: a file set and a decision */
		free(m->attachments[1].filename);
		m->attachments[1].filename = xstrdup("photo.jpg");
		errlist_clear(el);
		CHECK_INT(mime_package_get(m, &pkg, el), 0);
		CHECK_INT(pkg.kind, MIME_PKG_FILES);
		CHECK_INT(pkg.nfiles, 3);
		CHECK(pkg.decision == &m->attachments[2]);
		mime_package_clear(&pkg);
	}
	mime_mail_free(m);
	errlist_free(el);
}
