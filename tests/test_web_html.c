/*
 * test_web_html: the console's one writer (web/html.c) — every value
 * escaped, whatever it holds: markup, quotes, GB18030 text (as UTF-8,
 * and as raw GB18030 bytes that are not UTF-8), control characters.
 */
#include <stdlib.h>
#include <string.h>

#include "web/html.h"
#include "unit.h"

#define FFFD "\xef\xbf\xbd"

UNIT_TEST(web_html_escapes)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{ "plain", "plain" },
		{ "<script>alert(1)</script>",
		    "&lt;script&gt;alert(1)&lt;/script&gt;" },
		{ "\"><img src=x onerror=alert(1)>",
		    "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" },
		{ "it's & \"that\"", "it&#39;s &amp; &quot;that&quot;" },
		{ "&amp;", "&amp;amp;" },
		/* GB18030 text, converted to UTF-8 at parse time: as it is,
		 * four-byte characters (U+20000, the euro sign) included */
		{ "北京示例科技有限公司 𠀀 €", "北京示例科技有限公司 𠀀 €" },
		/* raw GB18030 bytes (张三 = D5 C5 C8 FD) are no UTF-8 */
		{ "\xd5\xc5\xc8\xfd", FFFD FFFD FFFD FFFD },
		/* a four-byte GB18030 sequence (0x81 0x30 0x81 0x30) */
		{ "a\x81\x30\x81\x30z", "a" FFFD "0" FFFD "0z" },
		{ "tab\tand\nline", "tab\tand\nline" },
		{ "nul-less \x01\x1b[31m\x7f", "nul-less " FFFD FFFD "[31m" FFFD },
		{ "C1 \xc2\x85 next-line", "C1 " FFFD " next-line" },
		{ "overlong \xc0\xbc", "overlong " FFFD FFFD },
		{ "surrogate \xed\xa0\x80", "surrogate " FFFD FFFD FFFD },
		{ "cut \xe5\x8c", "cut " FFFD FFFD },
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *got = html_escape(rows[i].in);

		CHECKM(strcmp(got, rows[i].out) == 0, "row %zu: \"%s\"", i, got);
		free(got);
	}
}

UNIT_TEST(web_html_writer)
{
	struct html h;
	char *s;
	size_t len;

	html_init(&h);
	html_raw(&h, "<a href=\"/filings/");
	html_url_segment(&h, "BA-2026-000123");
	html_raw(&h, "\" title=\"");
	html_attr(&h, "\" onmouseover=\"alert(1)");
	html_raw(&h, "\">");
	html_text(&h, "<b>张三</b>");
	html_raw(&h, "</a>");
	html_text(&h, NULL);
	html_textf(&h, " %d <%s>", 3, "x");
	s = html_take(&h, &len);
	CHECK_STR(s, "<a href=\"/filings/BA-2026-000123\" title=\"&quot; "
	    "onmouseover=&quot;alert(1)\">&lt;b&gt;张三&lt;/b&gt;</a> 3 "
	    "&lt;x&gt;");
	CHECK_INT(len, strlen(s));
	free(s);

	/* a path segment: nothing but unreserved characters survive */
	html_init(&h);
	html_url_segment(&h, "../a b/\"<>?#%中");
	s = html_take(&h, NULL);
	CHECK_STR(s, "..%2Fa%20b%2F%22%3C%3E%3F%23%25%E4%B8%AD");
	free(s);

	/* a long value grows the buffer */
	html_init(&h);
	for (int i = 0; i < 10000; i++)
		html_text(&h, "<>");
	s = html_take(&h, &len);
	CHECK_INT(len, 80000);
	free(s);
	html_free(&h);
}
