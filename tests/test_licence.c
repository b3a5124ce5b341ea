/*
 * Tests of licence.c: the §4 examples, the bracketed abbreviations, and
 * every shape that must be refused.
 */
#include <string.h>

#include "parsers/licence.h"
#include "unit.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

UNIT_TEST(licence_parse_valid)
{
	static const struct {
		const char *s, *province;
		int year;
		long serial;
		int old_form, site;
		const char *canon;
	} rows[] = {
		/* §4 examples */
		{ "京ICP备2026000001号", "11", 2026, 1, 0, 0,
		  "京ICP备2026000001号" },
		{ "京ICP备2026000001号-2", "11", 2026, 1, 0, 2,
		  "京ICP备2026000001号-2" },
		{ "京ICP备16020626号-8", "11", 0, 16020626, 1, 8,
		  "京ICP备16020626号-8" },
		/* bracketed abbreviations become the main one */
		{ "川ICP备2026000123号", "51", 2026, 123, 0, 0,
		  "蜀ICP备2026000123号" },
		{ "蜀ICP备2026000123号", "51", 2026, 123, 0, 0,
		  "蜀ICP备2026000123号" },
		{ "贵ICP备2025999999号-10", "52", 2025, 999999, 0, 10,
		  "黔ICP备2025999999号-10" },
		{ "云ICP备05001234号", "53", 0, 5001234, 1, 0,
		  "滇ICP备05001234号" },
		{ "甘ICP备2026000001号-1", "62", 2026, 1, 0, 1,
		  "陇ICP备2026000001号-1" },
		{ "粤ICP备2000000001号", "44", 2000, 1, 0, 0,
		  "粤ICP备2000000001号" },
		{ "新ICP备2099000001号-999999", "65", 2099, 1, 0, 999999,
		  "新ICP备2099000001号-999999" },
	};
	struct licence l, subj;
	char buf[64];
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		CHECKM(licence_parse(rows[i].s, &l) == 0, "%s", rows[i].s);
		CHECKM(strcmp(l.province, rows[i].province) == 0 &&
		    l.year == rows[i].year && l.serial == rows[i].serial &&
		    l.old_form == rows[i].old_form && l.site == rows[i].site,
		    "%s -> %s %d %ld %d %d", rows[i].s, l.province, l.year,
		    l.serial, l.old_form, l.site);
		CHECKM(licence_format(&l, buf, sizeof(buf)) ==
		    (int)strlen(rows[i].canon), "%s", rows[i].s);
		CHECKM(strcmp(buf, rows[i].canon) == 0, "%s -> %s", rows[i].s,
		    buf);
		/* The canonical text parses back to the same number. */
		CHECKM(licence_parse(buf, &subj) == 0 &&
		    memcmp(&subj, &l, sizeof(l)) == 0, "%s", buf);
	}
}

UNIT_TEST(licence_parse_invalid)
{
	static const char *const rows[] = {
		"京ICP备202600001号",       /* nine digits */
		"京ICP备20260000001号",     /* eleven */
		"京ICP备1602062号",         /* seven */
		"京ICP备2026000001",        /* no 号 */
		"京ICP备2026000001号-0",
		"京ICP备2026000001号-02",
		"京ICP备2026000001号-",
		"京ICP备2026000001号-1000000",
		"京ICP备2026000001号-2x",
		"京ICP备2026000001号 ",
		" 京ICP备2026000001号",
		"京ICP备2026000001号号",
		"京ICP备2026000000号",      /* serial 0 */
		"京ICP备1999000001号",      /* year out of range */
		"京ICP备2100000001号",
		"京ICP备00000000号",
		"京ICP证2026000001号",
		"京icp备2026000001号",
		"京 ICP备2026000001号",
		"港ICP备2026000001号",
		"ICP备2026000001号",
		"京京ICP备2026000001号",
		"京ICP备２０２６０００００１号",
		"京ICP备2026000001号－2",   /* full-width dash */
		"京ICP备2026000001号-+2",
		"京ICP备-2026000001号",
		"",
	};
	struct licence l;
	size_t i;

	for (i = 0; i < NELEM(rows); i++) {
		memset(&l, 0x5a, sizeof(l));
		CHECKM(licence_parse(rows[i], &l) == -1, "%s", rows[i]);
		CHECKM(l.site == 0x5a5a5a5a, "out touched: %s", rows[i]);
	}
	CHECK(licence_parse(NULL, &l) == -1);
}

UNIT_TEST(licence_format_edges)
{
	struct licence l, subj;
	char buf[64];
	int n;

	CHECK(licence_parse("京ICP备2026000001号-2", &l) == 0);
	n = (int)strlen("京ICP备2026000001号-2");
	/* exactly the room needed, then one byte less */
	CHECK_INT(licence_format(&l, buf, (size_t)n + 1), n);
	CHECK_STR(buf, "京ICP备2026000001号-2");
	CHECK_INT(licence_format(&l, buf, (size_t)n), -1);
	CHECK_INT(licence_format(&l, buf, 0), -1);

	licence_subject(&l, &subj);
	CHECK_INT(subj.site, 0);
	CHECK(licence_format(&subj, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "京ICP备2026000001号");
	CHECK_INT(l.site, 2);

	/* old numbers keep their leading zero */
	CHECK(licence_parse("沪ICP备05012345号-3", &l) == 0);
	CHECK(licence_format(&l, buf, sizeof(buf)) > 0);
	CHECK_STR(buf, "沪ICP备05012345号-3");

	/* a struct no parse could give is refused */
	memset(&l, 0, sizeof(l));
	strcpy(l.province, "99");
	l.year = 2026;
	l.serial = 1;
	CHECK_INT(licence_format(&l, buf, sizeof(buf)), -1);
	strcpy(l.province, "11");
	CHECK(licence_format(&l, buf, sizeof(buf)) > 0);
	l.serial = 1000000;
	CHECK_INT(licence_format(&l, buf, sizeof(buf)), -1);
	l.serial = 0;
	CHECK_INT(licence_format(&l, buf, sizeof(buf)), -1);
	l.serial = 1;
	l.site = -1;
	CHECK_INT(licence_format(&l, buf, sizeof(buf)), -1);
}
