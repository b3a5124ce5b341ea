/*
 * Tests of rules.c: every worked example of FORMAT.md §3 and §4, and the
 * edges of each check.  Table rows are { input, expected }.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "parsers/rules.h"
#include "unit.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct day test_today = { 2026, 11, 28 };

UNIT_TEST(rules_day_cst)
{
	struct day d;

	/* 1970-01-01T00:00Z is 08:00 in China. */
	d = day_cst(0);
	CHECK_INT(d.y, 1970); CHECK_INT(d.m, 1); CHECK_INT(d.d, 1);
	/* 2026-11-28T15:59:59Z is 23:59:59 CST, one second later the 29th. */
	d = day_cst((time_t)1795881599);
	CHECK_INT(d.y, 2026); CHECK_INT(d.m, 11); CHECK_INT(d.d, 28);
	d = day_cst((time_t)1795881600);
	CHECK_INT(d.y, 2026); CHECK_INT(d.m, 11); CHECK_INT(d.d, 29);
	/* 1969-12-31T15:59:59Z is 23:59:59 CST on the 31st. */
	d = day_cst((time_t)-28801);
	CHECK_INT(d.y, 1969); CHECK_INT(d.m, 12); CHECK_INT(d.d, 31);
	d = day_cst((time_t)-28800);
	CHECK_INT(d.y, 1970); CHECK_INT(d.m, 1); CHECK_INT(d.d, 1);
	/* 2024-02-29T16:00Z is 2024-03-01 CST. */
	d = day_cst((time_t)1709222400);
	CHECK_INT(d.y, 2024); CHECK_INT(d.m, 3); CHECK_INT(d.d, 1);
}

UNIT_TEST(rules_day_parse)
{
	static const struct {
		const char *s;
		int ok, y, m, d;
	} rows[] = {
		{ "2026-11-28", 1, 2026, 11, 28 },
		{ "2024-02-29", 1, 2024, 2, 29 },
		{ "2000-02-29", 1, 2000, 2, 29 },
		{ "1900-02-29", 0, 0, 0, 0 },
		{ "2023-02-29", 0, 0, 0, 0 },
		{ "2026-04-31", 0, 0, 0, 0 },
		{ "2026-13-01", 0, 0, 0, 0 },
		{ "2026-00-10", 0, 0, 0, 0 },
		{ "2026-01-00", 0, 0, 0, 0 },
		{ "0000-01-01", 0, 0, 0, 0 },
		{ "2026-1-01", 0, 0, 0, 0 },
		{ "2026-01-011", 0, 0, 0, 0 },
		{ "2026/01/01", 0, 0, 0, 0 },
		{ " 2026-01-01", 0, 0, 0, 0 },
		{ "2026-01-0a", 0, 0, 0, 0 },
		{ "+026-01-01", 0, 0, 0, 0 },
		{ "", 0, 0, 0, 0 },
		{ "longTerm", 0, 0, 0, 0 },
	};
	struct day d;
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		d.y = -1;
		CHECKM((day_parse(rows[i].s, &d) == 0) == rows[i].ok, "%s",
		    rows[i].s);
		if (rows[i].ok)
			CHECKM(d.y == rows[i].y && d.m == rows[i].m &&
			    d.d == rows[i].d, "%s", rows[i].s);
		else
			CHECKM(d.y == -1, "out touched: %s", rows[i].s);
	}
	CHECK(day_parse(NULL, &d) == -1);
}

UNIT_TEST(rules_day_diff)
{
	CHECK_INT(day_diff((struct day){ 2026, 11, 28 },
	    (struct day){ 2026, 11, 28 }), 0);
	CHECK_INT(day_diff((struct day){ 2026, 11, 28 },
	    (struct day){ 2027, 2, 26 }), 90);
	CHECK_INT(day_diff((struct day){ 2027, 2, 26 },
	    (struct day){ 2026, 11, 28 }), -90);
	CHECK_INT(day_diff((struct day){ 2024, 2, 28 },
	    (struct day){ 2024, 3, 1 }), 2);
	CHECK_INT(day_diff((struct day){ 2023, 2, 28 },
	    (struct day){ 2023, 3, 1 }), 1);
	CHECK_INT(day_diff((struct day){ 1900, 1, 1 },
	    (struct day){ 2000, 1, 1 }), 36524);
	CHECK_INT(day_diff((struct day){ 1970, 1, 1 },
	    (struct day){ 2026, 11, 28 }), 20785);
	CHECK(day_valid(2024, 2, 29));
	CHECK(!day_valid(2100, 2, 29));
	CHECK(!day_valid(2026, 6, 31));
	CHECK(day_valid(2026, 12, 31));
}

UNIT_TEST(rules_provinces)
{
	static const char *const codes[] = {
		"11", "12", "13", "14", "15", "21", "22", "23", "31", "32",
		"33", "34", "35", "36", "37", "41", "42", "43", "44", "45",
		"46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
		"65",
	};
	static const struct {
		const char *code, *abbr;
	} rows[] = {
		{ "11", "京" }, { "12", "津" }, { "13", "冀" }, { "14", "晋" },
		{ "15", "蒙" }, { "21", "辽" }, { "22", "吉" }, { "23", "黑" },
		{ "31", "沪" }, { "32", "苏" }, { "33", "浙" }, { "34", "皖" },
		{ "35", "闽" }, { "36", "赣" }, { "37", "鲁" }, { "41", "豫" },
		{ "42", "鄂" }, { "43", "湘" }, { "44", "粤" }, { "45", "桂" },
		{ "46", "琼" }, { "50", "渝" }, { "51", "蜀" }, { "52", "黔" },
		{ "53", "滇" }, { "54", "藏" }, { "61", "陕" }, { "62", "陇" },
		{ "63", "青" }, { "64", "宁" }, { "65", "新" },
	};
	static const char *const bad[] = {
		"", "1", "10", "16", "24", "71", "81", "82", "83", "99", "011",
		"11 ", "1a",
	};
	size_t i;

	CHECK_INT(NELEM(codes), 31);
	for (i = 0; i < NELEM(codes); i++)
		CHECKM(rules_province_valid(codes[i]), "%s", codes[i]);
	for (i = 0; i < NELEM(rows); i++) {
		CHECK_STR(rules_province_abbr(rows[i].code), rows[i].abbr);
		CHECK_STR(rules_province_by_abbr(rows[i].abbr), rows[i].code);
	}
	for (i = 0; i < NELEM(bad); i++) {
		CHECKM(!rules_province_valid(bad[i]), "%s", bad[i]);
		CHECKM(rules_province_abbr(bad[i]) == NULL, "%s", bad[i]);
	}
	/* The bracketed alternatives of §4. */
	CHECK_STR(rules_province_by_abbr("川"), "51");
	CHECK_STR(rules_province_by_abbr("贵"), "52");
	CHECK_STR(rules_province_by_abbr("云"), "53");
	CHECK_STR(rules_province_by_abbr("甘"), "62");
	CHECK(rules_province_by_abbr("京京") == NULL);
	CHECK(rules_province_by_abbr("港") == NULL);
	CHECK(rules_province_by_abbr("") == NULL);
	CHECK(rules_province_by_abbr(NULL) == NULL);
	CHECK(rules_province_abbr(NULL) == NULL);
}

UNIT_TEST(rules_resident_id)
{
	static const struct {
		const char *s, *norm; /* norm NULL: invalid */
	} rows[] = {
		/* §3.1 worked examples */
		{ "11010519491231002X", "11010519491231002X" },
		{ "110108199003078886", "110108199003078886" },
		{ "330106200002291232", "330106200002291232" },
		{ "110108199003078888", NULL },
		/* lower-case x is upper-cased */
		{ "11010519491231002x", "11010519491231002X" },
		/* born today is fine, tomorrow not */
		{ "110108202611280011", "110108202611280011" },
		{ "110108202611290017", NULL },
		/* 1900-01-01 is the first day */
		{ "110108190001010019", "110108190001010019" },
		{ "110108189912310014", NULL },
		/* 1900 is no leap year, 1988 is */
		{ "110108190002290016", NULL },
		{ "110108198802290010", "110108198802290010" },
		{ "110108199002300019", NULL },
		/* Hong Kong/Macau/Taiwan residence permits; no province 99 */
		{ "810000199001010019", "810000199001010019" },
		{ "830000200001010018", "830000200001010018" },
		{ "990108199001010013", NULL },
		{ "510101200001010015", "510101200001010015" },
		/* shape */
		{ "11010519491231002", NULL },
		{ "11010519491231002X0", NULL },
		{ "1101051949123100X2", NULL },
		{ "11010519491231002Y", NULL },
		{ "11010519491231002X ", NULL },
		{ " 11010519491231002X", NULL },
		{ "", NULL },
	};
	char norm[19];
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		memset(norm, '?', sizeof(norm));
		norm[18] = '\0';
		if (rows[i].norm != NULL) {
			CHECKM(rules_resident_id(rows[i].s, test_today, norm) == 0,
			    "%s", rows[i].s);
			CHECK_STR(norm, rows[i].norm);
		} else {
			CHECKM(rules_resident_id(rows[i].s, test_today, norm) == -1,
			    "%s", rows[i].s);
			CHECKM(norm[0] == '?', "out touched: %s", rows[i].s);
		}
	}
	CHECK(rules_resident_id(NULL, test_today, norm) == -1);
	/* Against a real today, a birth in 1949 is in the past. */
	CHECK(rules_resident_id("11010519491231002X", day_cst(time(NULL)),
	    norm) == 0);
}

UNIT_TEST(rules_uscc)
{
	static const struct {
		const char *s;
		int ok;
	} rows[] = {
		/* §3.2 worked examples */
		{ "91350200776049653A", 1 },
		{ "91110108MA01XY3K34", 1 },
		{ "121400004062722259", 1 },
		{ "91350203M0001QAY9B", 0 },
		/* the same with the right check character */
		{ "91350203M0001QAY99", 1 },
		/* org code check X inside a USCC */
		{ "91110000D2143569X7", 1 },
		{ "91110000MA01XY3K3B", 1 },
		/* characters 3-8 must be digits */
		{ "9111000AMA01XY3K3U", 0 },
		/* right USCC check, wrong organization code check */
		{ "91350200AAAAAAAA0D", 0 },
		/* one character changed */
		{ "91350200776049654A", 0 },
		{ "91350200776049653B", 0 },
		/* letters outside the set (I O S V Z), lower case */
		{ "91350200776049653I", 0 },
		{ "91350200776049653O", 0 },
		{ "91350200776049653a", 0 },
		{ "91110108ma01xy3k34", 0 },
		/* length */
		{ "91350200776049653", 0 },
		{ "91350200776049653AA", 0 },
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < NELEM(rows); i++)
		CHECKM((rules_uscc(rows[i].s) == 0) == rows[i].ok, "%s",
		    rows[i].s);
	CHECK(rules_uscc(NULL) == -1);
}

UNIT_TEST(rules_orgcode)
{
	static const struct {
		const char *s;
		int ok;
	} rows[] = {
		/* §3.3 worked example */
		{ "D2143569-X", 1 },
		{ "D2143569X", 1 },
		{ "D2143569-0", 0 },
		{ "D2143569-x", 0 },
		{ "d2143569-X", 0 },
		/* check 11 -> '0', plain digits */
		{ "000000000", 1 },
		{ "00000000-0", 1 },
		{ "776049653", 1 },
		{ "77604965-3", 1 },
		{ "77604965-4", 0 },
		{ "ZZZZZZZZ-3", 1 },
		{ "AAAAAAAA-4", 1 },
		{ "123456788", 1 },
		{ "12345678-8", 1 },
		/* shape */
		{ "12345678--8", 0 },
		{ "1234567-88", 0 },
		{ "1234-56788", 0 },
		{ "12345678", 0 },
		{ "1234567888", 0 },
		{ "12345678_8", 0 },
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < NELEM(rows); i++)
		CHECKM((rules_orgcode(rows[i].s) == 0) == rows[i].ok, "%s",
		    rows[i].s);
	CHECK(rules_orgcode(NULL) == -1);
}

UNIT_TEST(rules_mobile)
{
	static const struct {
		const char *s, *norm;
	} rows[] = {
		{ "13800138000", "13800138000" },
		{ "+8613800138000", "13800138000" },
		{ "008613800138000", "13800138000" },
		{ "+86 138 0013 8000", "13800138000" },
		{ "138-0013-8000", "13800138000" },
		{ "0086-138-0013-8000", "13800138000" },
		{ "19912345678", "19912345678" },
		{ "12800138000", NULL },
		{ "10800138000", NULL },
		{ "23800138000", NULL },
		{ "1380013800", NULL },
		{ "138001380000", NULL },
		{ "8613800138000", NULL },
		{ "+85213800138000", NULL },
		{ "+86+8613800138000", NULL },
		{ "1380013800a", NULL },
		{ "(138)00138000", NULL },
		{ "138\t00138000", NULL },
		{ "+86", NULL },
		{ "", NULL },
		{ "1 3 8 0 0 1 3 8 0 0 0 1 3 8 0 0 1 3 8 0 0 0 1 3 8 0 0 1 3 8 0 "
		  "0 0", NULL },
	};
	char norm[12];
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		norm[0] = '?';
		norm[1] = '\0';
		if (rows[i].norm != NULL) {
			CHECKM(rules_mobile(rows[i].s, norm) == 0, "%s",
			    rows[i].s);
			CHECK_STR(norm, rows[i].norm);
		} else {
			CHECKM(rules_mobile(rows[i].s, norm) == -1, "%s",
			    rows[i].s);
			CHECKM(norm[0] == '?', "out touched: %s", rows[i].s);
		}
	}
	CHECK(rules_mobile(NULL, norm) == -1);
}

UNIT_TEST(rules_landline)
{
	static const struct {
		const char *s;
		int ok;
	} rows[] = {
		{ "010-62345678", 1 },
		{ "01062345678", 1 },
		{ "010-6234567", 1 },
		{ "021-62345678", 1 },
		{ "0755-8765432", 1 },
		{ "0755-87654321", 1 },
		{ "075587654321", 1 },
		{ "010-62345678-1", 1 },
		{ "010-62345678-123456", 1 },
		{ "010-62345678-1234567", 0 },
		{ "010-62345678-", 0 },
		{ "010-62345678-12a", 0 },
		{ "010-623456789", 0 },
		{ "010-623456", 0 },
		{ "010-12345678", 0 },
		{ "010-02345678", 0 },
		{ "011-62345678", 0 },
		{ "000-62345678", 0 },
		{ "10-62345678", 0 },
		{ "010--62345678", 0 },
		{ "(010)62345678", 0 },
		{ "010 62345678", 0 },
		{ "0755-876543210", 0 },
		{ "075-87654321", 0 },
		{ "02-62345678", 0 },
		{ "010-62345678 ", 0 },
		{ "13800138000", 0 },
		{ "0", 0 },
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < NELEM(rows); i++)
		CHECKM((rules_landline(rows[i].s) == 0) == rows[i].ok, "%s",
		    rows[i].s);
	CHECK(rules_landline(NULL) == -1);
}

UNIT_TEST(rules_email)
{
	static char long_local[80], long_total[300];
	static const struct {
		const char *s;
		int ok;
	} rows[] = {
		{ "zhangsan@example.cn", 1 },
		{ "zhang.san@mail.example.com.cn", 1 },
		{ "a!#$%&'*+-/=?^_`{|}~z@example.cn", 1 },
		{ "Zhang@Example.CN", 1 },
		{ "x@xn--fsqu00a.xn--fiqs8s", 1 },
		{ "x@a-b.cn", 1 },
		{ "x@localhost", 0 },
		{ "x@example", 0 },
		{ "x@例子.中国", 0 },
		{ "张三@example.cn", 0 },
		{ ".zhang@example.cn", 0 },
		{ "zhang.@example.cn", 0 },
		{ "zhang..san@example.cn", 0 },
		{ "zhang san@example.cn", 0 },
		{ "\"zhang\"@example.cn", 0 },
		{ "zhang(x)@example.cn", 0 },
		{ "zhang@", 0 },
		{ "@example.cn", 0 },
		{ "zhang", 0 },
		{ "a@b@example.cn", 0 },
		{ "x@example.cn.", 0 },
		{ "x@.example.cn", 0 },
		{ "x@exa_mple.cn", 0 },
		{ "x@-example.cn", 0 },
		{ "x@example..cn", 0 },
		{ "x@[192.0.2.1]", 0 },
		{ "x@192.0.2.1", 0 },
		{ "x@ab--c.cn", 0 },
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < NELEM(rows); i++)
		CHECKM((rules_email(rows[i].s) == 0) == rows[i].ok, "%s",
		    rows[i].s);
	CHECK(rules_email(NULL) == -1);

	/* local part: 64 fine, 65 not */
	memset(long_local, 'a', 64);
	strcpy(long_local + 64, "@example.cn");
	CHECK(rules_email(long_local) == 0);
	memset(long_local, 'a', 65);
	strcpy(long_local + 65, "@example.cn");
	CHECK(rules_email(long_local) == -1);
	/* whole address: 254 fine, 255 not ("x@" + labels of 62 + ".cn") */
	strcpy(long_total, "x@");
	for (i = 0; i < 3; i++) {
		memset(long_total + strlen(long_total), 'a', 62);
		long_total[2 + (i + 1) * 63 - 1] = '.';
		long_total[2 + (i + 1) * 63] = '\0';
	}
	/* 2 + 189 = 191; pad one more label to reach 254 */
	memset(long_total + 191, 'b', 60);
	strcpy(long_total + 251, ".cn");
	CHECK_INT(strlen(long_total), 254);
	CHECK(rules_email(long_total) == 0);
	memmove(long_total + 1, long_total, strlen(long_total) + 1);
	CHECK_INT(strlen(long_total), 255);
	CHECK(rules_email(long_total) == -1);
}

UNIT_TEST(rules_domain)
{
	static const struct {
		const char *s;
		enum domain_result r;
		const char *alabel;
	} rows[] = {
		/* §3.7 */
		{ "example.cn", DOMAIN_OK, "example.cn" },
		{ "example.com.cn", DOMAIN_OK, "example.com.cn" },
		{ "例子.中国", DOMAIN_OK, "xn--fsqu00a.xn--fiqs8s" },
		{ "xn--fsqu00a.xn--fiqs8s", DOMAIN_OK, "xn--fsqu00a.xn--fiqs8s" },
		{ "www.example.cn", DOMAIN_NOT_REGISTRABLE, NULL },
		{ "com.cn", DOMAIN_NOT_REGISTRABLE, NULL },
		{ "gov.cn", DOMAIN_NOT_REGISTRABLE, NULL },
		{ "bj.cn", DOMAIN_NOT_REGISTRABLE, NULL },
		{ "example.bj.cn", DOMAIN_OK, "example.bj.cn" },
		{ "example.gov.cn", DOMAIN_OK, "example.gov.cn" },
		{ "-a.cn", DOMAIN_BAD, NULL },
		{ "a_b.cn", DOMAIN_BAD, NULL },
		{ "*.example.cn", DOMAIN_BAD, NULL },
		/* normalisation */
		{ "Example.CN", DOMAIN_OK, "example.cn" },
		{ "example.cn.", DOMAIN_OK, "example.cn" },
		{ "例子。中国", DOMAIN_OK, "xn--fsqu00a.xn--fiqs8s" },
		{ "XN--FSQU00A.XN--FIQS8S", DOMAIN_OK, "xn--fsqu00a.xn--fiqs8s" },
		{ "例子.公司", DOMAIN_OK, "xn--fsqu00a.xn--55qx5d" },
		{ "示例.cn", DOMAIN_OK, "xn--fsq092h.cn" },
		{ "bücher.de", DOMAIN_OK, "xn--bcher-kva.de" },
		{ "faß.de", DOMAIN_OK, "xn--fa-hia.de" },
		{ "a-b.cn", DOMAIN_OK, "a-b.cn" },
		{ "a--b.cn", DOMAIN_OK, "a--b.cn" },
		{ "123.cn", DOMAIN_OK, "123.cn" },
		{ "cn", DOMAIN_NOT_REGISTRABLE, NULL },
		{ "中国", DOMAIN_NOT_REGISTRABLE, NULL },
		{ "a.b.example.cn", DOMAIN_NOT_REGISTRABLE, NULL },
		{ "www.cn", DOMAIN_NOT_REGISTRABLE, NULL },
		/* syntax */
		{ "example.cn..", DOMAIN_BAD, NULL },
		{ ".example.cn", DOMAIN_BAD, NULL },
		{ "example..cn", DOMAIN_BAD, NULL },
		{ ".", DOMAIN_BAD, NULL },
		{ "", DOMAIN_BAD, NULL },
		{ "a-.cn", DOMAIN_BAD, NULL },
		{ "ab--c.cn", DOMAIN_BAD, NULL },
		{ "xn--zz.cn", DOMAIN_BAD, NULL },
		{ "xn--abc-.cn", DOMAIN_BAD, NULL },
		{ "xn--n3h.cn", DOMAIN_BAD, NULL },   /* ☃: disallowed */
		{ "☃.cn", DOMAIN_BAD, NULL },
		{ "exa mple.cn", DOMAIN_BAD, NULL },
		{ "exa\tmple.cn", DOMAIN_BAD, NULL },
		{ "example.cn/", DOMAIN_BAD, NULL },
		{ "192.0.2.1", DOMAIN_BAD, NULL },
		{ "例子 .中国", DOMAIN_BAD, NULL },
		{ "\xff\xfe.cn", DOMAIN_BAD, NULL },
		{ "\xe4\xbe.cn", DOMAIN_BAD, NULL },
	};
	char alabel[254], big[400];
	size_t i;
	enum domain_result r;

	CHECK(rules_init() == 0);
	for (i = 0; i < NELEM(rows); i++) {
		strcpy(alabel, "?");
		r = rules_domain(rows[i].s, alabel, sizeof(alabel), 1);
		CHECKM(r == rows[i].r, "%s: %d", rows[i].s, (int)r);
		if (rows[i].alabel != NULL)
			CHECKM(strcmp(alabel, rows[i].alabel) == 0, "%s -> %s",
			    rows[i].s, alabel);
	}

	/* Syntax only: not-registrable names pass. */
	CHECK(rules_domain("www.example.cn", alabel, sizeof(alabel), 0) ==
	    DOMAIN_OK);
	CHECK_STR(alabel, "www.example.cn");
	CHECK(rules_domain("com.cn", alabel, sizeof(alabel), 0) == DOMAIN_OK);
	CHECK(rules_domain("a_b.cn", alabel, sizeof(alabel), 0) == DOMAIN_BAD);
	CHECK(rules_domain(NULL, alabel, sizeof(alabel), 0) == DOMAIN_BAD);

	/* Label of 63 fine, 64 not. */
	memset(big, 'a', 63);
	strcpy(big + 63, ".cn");
	CHECK(rules_domain(big, alabel, sizeof(alabel), 1) == DOMAIN_OK);
	memset(big, 'a', 64);
	strcpy(big + 64, ".cn");
	CHECK(rules_domain(big, alabel, sizeof(alabel), 1) == DOMAIN_BAD);
	/* 253 characters fine, 254 not (labels of 63 + "." ...). */
	for (i = 0; i < 3; i++) {
		memset(big + i * 64, 'a', 63);
		big[i * 64 + 63] = '.';
	}
	memset(big + 192, 'b', 58);
	strcpy(big + 250, ".cn");
	CHECK_INT(strlen(big), 253);
	CHECK(rules_domain(big, alabel, sizeof(alabel), 0) == DOMAIN_OK);
	CHECK(rules_domain(big, alabel, 253, 0) == DOMAIN_BAD); /* no room */
	memset(big + 192, 'b', 59);
	strcpy(big + 251, ".cn");
	CHECK_INT(strlen(big), 254);
	CHECK(rules_domain(big, alabel, sizeof(alabel), 0) == DOMAIN_BAD);
	/* Far too long input. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(rules_domain(big, alabel, sizeof(alabel), 0) == DOMAIN_BAD);
}

UNIT_TEST(rules_person_name)
{
	static const struct {
		const char *s;
		int ok;
	} rows[] = {
		{ "张三", 1 },
		{ "李", 1 },
		{ "Zhang San", 1 },
		{ "阿卜杜拉·艾买提", 1 },
		{ "买买提・吐尔逊", 1 },        /* U+30FB */
		{ "José García", 1 },
		{ "Jose\xcc\x81 Garci\xcc\x81" "a", 1 }, /* combining acute */
		{ "Иван Петров", 1 },
		{ "Νίκος", 1 },
		{ "ئابدۇرېھىم", 1 },      /* Uyghur */
		{ "བསྟན་འཛིན", 1 },            /* Tibetan with tsheg */
		{ "ᠪᠠᠲᠤ", 1 },                  /* Mongolian */
		{ "김철수", 1 },
		{ "さとう たろう", 1 },
		{ "佐々木", 1 },
		{ "𠀾明", 1 },                  /* Extension B */
		{ "ꆈꌠ", 1 },                    /* Yi */
		{ "Nguyễn Văn A", 1 },
		{ "张三3", 0 },
		{ "张三.", 0 },
		{ "张三,李四", 0 },
		{ "张三（经理）", 0 },
		{ "张-三", 0 },
		{ "O'Brien", 0 },
		{ "张\t三", 0 },
		{ "张三١", 0 },                  /* Arabic-Indic digit */
		{ "张三😀", 0 },
		{ "·", 0 },
		{ " ", 0 },
		{ "\xcc\x81" "a", 0 },          /* mark first */
		{ "", 0 },
		{ "\xe5\xbc", 0 },
		{ "ＡＢＣ", 1 },                  /* full-width letters */
		{ "１２", 0 },                    /* full-width digits */
	};
	char buf[256];
	size_t i;

	for (i = 0; i < NELEM(rows); i++)
		CHECKM((rules_person_name(rows[i].s) == 0) == rows[i].ok, "%s",
		    rows[i].s);
	CHECK(rules_person_name(NULL) == -1);
	/* 50 characters fine, 51 not. */
	buf[0] = '\0';
	for (i = 0; i < 50; i++)
		strcat(buf, "张");
	CHECK(rules_person_name(buf) == 0);
	strcat(buf, "张");
	CHECK(rules_person_name(buf) == -1);
}

UNIT_TEST(rules_site_name)
{
	static const char *const domains[] = {
		"example.cn", "xn--fsqu00a.xn--fiqs8s",
	};
	static const struct {
		const char *s;
		int government, ok;
	} rows[] = {
		{ "示例科技官网", 0, 1 },
		{ "示例新闻", 0, 1 },
		{ "示例", 0, 1 },
		{ "示", 0, 0 },
		{ "Example 官网", 0, 1 },
		{ "Example Site", 0, 0 },
		{ "12345", 0, 0 },
		{ "!!", 0, 0 },
		{ "example.cn", 0, 0 },
		{ "EXAMPLE.CN", 0, 0 },
		{ "例子.中国", 0, 0 },
		{ "例子。中国", 0, 0 },
		{ "XN--FSQU00A.XN--FIQS8S", 0, 0 },
		{ "例子.公司", 0, 1 },
		{ "中国示例网", 0, 0 },
		{ "中国示例网", 1, 1 },
		{ "中华文化", 0, 0 },
		{ "中央厨房", 0, 0 },
		{ "全国联网", 0, 0 },
		{ "国家地理", 0, 0 },
		{ "人民网", 0, 0 },
		{ "人大附中", 0, 0 },
		{ "人大附中", 1, 1 },
		{ " 中国示例", 0, 0 },
		{ "\xe3\x80\x80中国示例", 0, 0 },
		{ "示例中国", 0, 1 },
		{ "示例\n网", 0, 0 },
		{ "示例\x7f网", 0, 0 },
		{ "\xe7\xa4", 0, 0 },
		{ "", 0, 0 },
	};
	char buf[256];
	size_t i;

	for (i = 0; i < NELEM(rows); i++)
		CHECKM((rules_site_name(rows[i].s, domains, NELEM(domains),
		    rows[i].government) == 0) == rows[i].ok, "%s", rows[i].s);
	CHECK(rules_site_name(NULL, domains, NELEM(domains), 0) == -1);
	CHECK(rules_site_name("例子.中国", NULL, 0, 0) == 0);
	/* 50 characters fine, 51 not. */
	buf[0] = '\0';
	for (i = 0; i < 50; i++)
		strcat(buf, "网");
	CHECK(rules_site_name(buf, domains, NELEM(domains), 0) == 0);
	strcat(buf, "网");
	CHECK(rules_site_name(buf, domains, NELEM(domains), 0) == -1);
}

UNIT_TEST(rules_ip)
{
	static const struct {
		const char *s;
		int ok, pub;
		const char *fmt;
	} rows[] = {
		/* §1 example */
		{ "203.0.113.10", 1, 1, "203.0.113.10" },
		{ "203.0.113.29", 1, 1, "203.0.113.29" },
		{ "8.8.8.8", 1, 1, "8.8.8.8" },
		{ "1.0.0.0", 1, 1, "1.0.0.0" },
		{ "223.255.255.255", 1, 1, "223.255.255.255" },
		/* §3.9 non-public ranges, both edges */
		{ "0.0.0.0", 1, 0, NULL },
		{ "0.255.255.255", 1, 0, NULL },
		{ "10.0.0.1", 1, 0, NULL },
		{ "9.255.255.255", 1, 1, NULL },
		{ "11.0.0.0", 1, 1, NULL },
		{ "100.64.0.0", 1, 0, NULL },
		{ "100.127.255.255", 1, 0, NULL },
		{ "100.63.255.255", 1, 1, NULL },
		{ "100.128.0.0", 1, 1, NULL },
		{ "127.0.0.1", 1, 0, NULL },
		{ "169.254.1.1", 1, 0, NULL },
		{ "169.253.1.1", 1, 1, NULL },
		{ "172.16.0.0", 1, 0, NULL },
		{ "172.31.255.255", 1, 0, NULL },
		{ "172.15.255.255", 1, 1, NULL },
		{ "172.32.0.0", 1, 1, NULL },
		{ "192.168.1.1", 1, 0, NULL },
		{ "192.169.0.0", 1, 1, NULL },
		{ "224.0.0.1", 1, 0, NULL },
		{ "239.255.255.255", 1, 0, NULL },
		{ "240.0.0.1", 1, 0, NULL },
		{ "255.255.255.255", 1, 0, NULL },
		/* IPv4 syntax */
		{ "203.0.113.010", 0, 0, NULL },
		{ "203.00.113.10", 0, 0, NULL },
		{ "256.0.0.1", 0, 0, NULL },
		{ "1.2.3", 0, 0, NULL },
		{ "1.2.3.4.5", 0, 0, NULL },
		{ "1.2.3.4 ", 0, 0, NULL },
		{ "1..3.4", 0, 0, NULL },
		{ "1.2.3.-4", 0, 0, NULL },
		{ "0x1.2.3.4", 0, 0, NULL },
		{ "1234.2.3.4", 0, 0, NULL },
		{ "", 0, 0, NULL },
		/* IPv6, RFC 5952 output */
		{ "2001:db8::1", 1, 1, "2001:db8::1" },
		{ "2001:DB8:0:0:0:0:0:1", 1, 1, "2001:db8::1" },
		{ "2001:0db8:0000:0001:0000:0000:0000:0001", 1, 1,
		  "2001:db8:0:1::1" },
		{ "2001:db8:0:1:1:1:1:1", 1, 1, "2001:db8:0:1:1:1:1:1" },
		{ "2400:3200::1", 1, 1, "2400:3200::1" },
		{ "2001:db8::10", 1, 1, "2001:db8::10" },
		{ "3fff:ffff::", 1, 1, "3fff:ffff::" },
		{ "4000::1", 1, 0, NULL },
		{ "1fff::1", 1, 0, NULL },
		{ "::1", 1, 0, "::1" },
		{ "::", 1, 0, "::" },
		{ "fe80::1", 1, 0, NULL },
		{ "fc00::1", 1, 0, NULL },
		{ "ff02::1", 1, 0, NULL },
		{ "::ffff:8.8.8.8", 1, 0, "::ffff:8.8.8.8" },
		{ "fe80::1%eth0", 0, 0, NULL },
		{ "2001:db8::1::2", 0, 0, NULL },
		{ "2001:db8:::1", 0, 0, NULL },
		{ "[2001:db8::1]", 0, 0, NULL },
		{ "2001:db8::g", 0, 0, NULL },
	};
	struct ipaddr ip;
	char buf[64];
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		memset(&ip, 0xee, sizeof(ip));
		if (!rows[i].ok) {
			CHECKM(rules_ip_parse(rows[i].s, &ip) == -1, "%s",
			    rows[i].s);
			CHECKM(ip.family == (int)0xeeeeeeee, "out touched: %s",
			    rows[i].s);
			continue;
		}
		CHECKM(rules_ip_parse(rows[i].s, &ip) == 0, "%s", rows[i].s);
		CHECKM(rules_ip_public(&ip) == rows[i].pub, "public %s",
		    rows[i].s);
		if (rows[i].fmt != NULL) {
			rules_ip_format(&ip, buf, sizeof(buf));
			CHECKM(strcmp(buf, rows[i].fmt) == 0, "%s -> %s",
			    rows[i].s, buf);
		}
	}
	CHECK(rules_ip_parse(NULL, &ip) == -1);
	CHECK(rules_ip_parse("203.0.113.10", &ip) == 0);
	CHECK_INT(ip.family, 4);
	CHECK(ip.a[0] == 203 && ip.a[1] == 0 && ip.a[2] == 113 && ip.a[3] == 10);
	/* a buffer too small gets an empty string, never a cut address */
	rules_ip_format(&ip, buf, 5);
	CHECK_STR(buf, "");
}

UNIT_TEST(rules_ip_range)
{
	struct ipaddr a, b;
	uint64_t n = 0;

	/* §1 example: 203.0.113.20-29 is ten addresses */
	CHECK(rules_ip_parse("203.0.113.20", &a) == 0);
	CHECK(rules_ip_parse("203.0.113.29", &b) == 0);
	CHECK(rules_ip_range_size(&a, &b, &n) == 0);
	CHECK_INT(n, 10);
	CHECK(rules_ip_range_size(&b, &a, &n) == -1);
	CHECK(rules_ip_range_size(&a, &a, &n) == 0);
	CHECK_INT(n, 1);
	CHECK(rules_ip_parse("203.0.0.0", &a) == 0);
	CHECK(rules_ip_parse("203.0.255.255", &b) == 0);
	CHECK(rules_ip_range_size(&a, &b, &n) == 0);
	CHECK_INT(n, 65536);
	CHECK(rules_ip_parse("203.1.0.0", &b) == 0);
	CHECK(rules_ip_range_size(&a, &b, &n) == 0);
	CHECK_INT(n, 65537);
	CHECK(rules_ip_parse("0.0.0.0", &a) == 0);
	CHECK(rules_ip_parse("255.255.255.255", &b) == 0);
	CHECK(rules_ip_range_size(&a, &b, &n) == 0);
	CHECK_INT(n, 4294967296LL);
	/* mixed families */
	CHECK(rules_ip_parse("2001:db8::1", &b) == 0);
	CHECK(rules_ip_range_size(&a, &b, &n) == -1);
	/* IPv6, with a borrow across the 64-bit halves */
	CHECK(rules_ip_parse("2001:db8::ffff:ffff:ffff:ffff", &a) == 0);
	CHECK(rules_ip_parse("2001:db8:0:1::1", &b) == 0);
	CHECK(rules_ip_range_size(&a, &b, &n) == 0);
	CHECK_INT(n, 3);
	CHECK(rules_ip_range_size(&b, &a, &n) == -1);
	CHECK(rules_ip_parse("2001:db8::", &a) == 0);
	CHECK(rules_ip_parse("2001:db8::ffff", &b) == 0);
	CHECK(rules_ip_range_size(&a, &b, &n) == 0);
	CHECK_INT(n, 65536);
	CHECK(rules_ip_parse("2001:db8::ffff:ffff:ffff:ffff", &b) == 0);
	CHECK(rules_ip_range_size(&a, &b, &n) == 0);
	CHECK(n == UINT64_MAX);
	CHECK(rules_ip_parse("2001:db9::", &b) == 0);
	CHECK(rules_ip_range_size(&a, &b, &n) == 0);
	CHECK(n == UINT64_MAX);
}

UNIT_TEST(rules_cidr)
{
	static const struct {
		const char *s;
		int ok;
		const char *lo, *hi;
	} rows[] = {
		{ "203.0.113.0/24", 1, "203.0.113.0", "203.0.113.255" },
		{ "203.0.113.7/24", 1, "203.0.113.0", "203.0.113.255" },
		{ "203.0.113.7", 1, "203.0.113.7", "203.0.113.7" },
		{ "203.0.113.7/32", 1, "203.0.113.7", "203.0.113.7" },
		{ "203.0.113.0/25", 1, "203.0.113.0", "203.0.113.127" },
		{ "203.0.113.200/29", 1, "203.0.113.200", "203.0.113.207" },
		{ "0.0.0.0/0", 1, "0.0.0.0", "255.255.255.255" },
		{ "10.1.2.3/9", 1, "10.0.0.0", "10.127.255.255" },
		{ "2001:db8::/32", 1, "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" },
		{ "2001:db8::/33", 1, "2001:db8::", "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff" },
		{ "2001:db8::1/128", 1, "2001:db8::1", "2001:db8::1" },
		{ "2001:db8::1", 1, "2001:db8::1", "2001:db8::1" },
		{ "203.0.113.0/33", 0, NULL, NULL },
		{ "203.0.113.0/024", 0, NULL, NULL },
		{ "203.0.113.0/", 0, NULL, NULL },
		{ "203.0.113.0/24/", 0, NULL, NULL },
		{ "203.0.113.0/2a", 0, NULL, NULL },
		{ "203.0.113.0/-1", 0, NULL, NULL },
		{ "2001:db8::/129", 0, NULL, NULL },
		{ "2001:db8::/1280", 0, NULL, NULL },
		{ "/24", 0, NULL, NULL },
		{ "", 0, NULL, NULL },
	};
	struct ip_range r;
	struct ipaddr ip;
	char lo[64], hi[64];
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		if (!rows[i].ok) {
			CHECKM(rules_cidr_parse(rows[i].s, &r) == -1, "%s",
			    rows[i].s);
			continue;
		}
		CHECKM(rules_cidr_parse(rows[i].s, &r) == 0, "%s", rows[i].s);
		rules_ip_format(&r.lo, lo, sizeof(lo));
		rules_ip_format(&r.hi, hi, sizeof(hi));
		CHECKM(strcmp(lo, rows[i].lo) == 0 && strcmp(hi, rows[i].hi) == 0,
		    "%s -> %s - %s", rows[i].s, lo, hi);
	}
	CHECK(rules_cidr_parse(NULL, &r) == -1);

	CHECK(rules_cidr_parse("203.0.113.0/24", &r) == 0);
	CHECK(rules_ip_parse("203.0.113.10", &ip) == 0);
	CHECK(rules_ip_in_range(&ip, &r));
	CHECK(rules_ip_parse("203.0.114.0", &ip) == 0);
	CHECK(!rules_ip_in_range(&ip, &r));
	CHECK(rules_ip_parse("203.0.112.255", &ip) == 0);
	CHECK(!rules_ip_in_range(&ip, &r));
	CHECK(rules_ip_parse("2001:db8::1", &ip) == 0);
	CHECK(!rules_ip_in_range(&ip, &r));
	CHECK(rules_cidr_parse("2001:db8::/32", &r) == 0);
	CHECK(rules_ip_in_range(&ip, &r));
	CHECK(rules_ip_parse("2001:db9::1", &ip) == 0);
	CHECK(!rules_ip_in_range(&ip, &r));
}

UNIT_TEST(rules_url_host)
{
	static const struct {
		const char *s, *host; /* host NULL: no host */
	} rows[] = {
		{ "www.example.cn", "www.example.cn" },
		{ "https://www.example.cn:8080/x", "www.example.cn" },
		{ "http://example.cn", "example.cn" },
		{ "HTTPS://WWW.Example.CN/Path?q=1#f", "www.example.cn" },
		{ "HtTp://example.cn/", "example.cn" },
		{ "example.cn?x=1", "example.cn" },
		{ "example.cn#top", "example.cn" },
		{ "example.cn.", "example.cn" },
		{ "http://例子.中国/首页", "xn--fsqu00a.xn--fiqs8s" },
		/* examples/news-site.xml */
		{ "https://www.例子.中国/news", "www.xn--fsqu00a.xn--fiqs8s" },
		{ "example.cn:65535", "example.cn" },
		{ "example.cn:1", "example.cn" },
		{ "example.cn:0", NULL },
		{ "example.cn:65536", NULL },
		{ "example.cn:080", NULL },
		{ "example.cn:", NULL },
		{ "example.cn:http", NULL },
		{ "example.cn:80:80", NULL },
		{ "http://user@example.cn/", NULL },
		{ "http://evil.com\\@example.cn/", NULL },
		{ "http://[2001:db8::1]/", NULL },
		{ "ftp://example.cn/", NULL },
		{ "//example.cn/", NULL },
		{ "http://", NULL },
		{ "http:///x", NULL },
		{ "http://exa mple.cn/", NULL },
		{ "http://a_b.cn/", NULL },
		{ "http://*.example.cn/", NULL },
		{ "", NULL },
	};
	char host[256];
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		strcpy(host, "?");
		if (rows[i].host != NULL) {
			CHECKM(rules_url_host(rows[i].s, host, sizeof(host)) == 0,
			    "%s", rows[i].s);
			CHECKM(strcmp(host, rows[i].host) == 0, "%s -> %s",
			    rows[i].s, host);
		} else {
			CHECKM(rules_url_host(rows[i].s, host, sizeof(host)) == -1,
			    "%s", rows[i].s);
			CHECKM(strcmp(host, "?") == 0, "out touched: %s",
			    rows[i].s);
		}
	}
	CHECK(rules_url_host(NULL, host, sizeof(host)) == -1);
	CHECK(rules_url_host("www.example.cn", host, 14) == -1);
	CHECK(rules_url_host("www.example.cn", host, 15) == 0);
}

UNIT_TEST(rules_host_under)
{
	CHECK(rules_host_under("example.cn", "example.cn"));
	CHECK(rules_host_under("www.example.cn", "example.cn"));
	CHECK(rules_host_under("a.b.example.cn", "example.cn"));
	CHECK(!rules_host_under("badexample.cn", "example.cn"));
	CHECK(!rules_host_under("example.cn", "www.example.cn"));
	CHECK(!rules_host_under("example.cn.evil.com", "example.cn"));
	CHECK(!rules_host_under(".example.cn", "exampl.cn"));
	CHECK(!rules_host_under("example.cn", ""));
	CHECK(!rules_host_under(NULL, "example.cn"));
}
