/*
 * test_json: the strict JSON reader, table-driven: documents that must
 * parse (with what they must give) and documents that must be refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "unit.h"

/* Valid documents; want is the top value's string (or number text) when
 * the top is a string/number, or the string member "k" of an object. */
static const struct {
	const char *doc;
	size_t len;        /* 0: strlen */
	enum json_type type;
	const char *want;
	size_t n;          /* members or elements */
} good[] = {
	{ "{}", 0, JSON_OBJECT, NULL, 0 },
	{ " [ ] ", 0, JSON_ARRAY, NULL, 0 },
	{ "null", 0, JSON_NULL, NULL, 0 },
	{ "true", 0, JSON_TRUE, NULL, 0 },
	{ "false", 0, JSON_FALSE, NULL, 0 },
	{ "0", 0, JSON_NUMBER, "0", 0 },
	{ "-0.5e+3", 0, JSON_NUMBER, "-0.5e+3", 0 },
	{ "12E2", 0, JSON_NUMBER, "12E2", 0 },
	{ "\"\"", 0, JSON_STRING, "", 0 },
	{ "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", 0, JSON_STRING,
	    "a\"b\\c/d\b\f\n\r\t", 0 },
	{ "\"\\u0041\\u00e9\\u4e2d\"", 0, JSON_STRING, "A\xc3\xa9\xe4\xb8\xad", 0 },
	{ "\"\\ud83d\\ude00\"", 0, JSON_STRING, "\xf0\x9f\x98\x80", 0 },
	{ "\"北京示例\"", 0, JSON_STRING, "北京示例", 0 },
	{ "{\"k\":\"v\",\"n\":[1,2,{\"x\":null}],\"b\":true}", 0, JSON_OBJECT,
	    "v", 3 },
	{ "{\"a\":{\"k\":\"inner\"},\"k\":\"outer\"}", 0, JSON_OBJECT, "outer", 2 },
	{ "\t\r\n{ \"k\" : \"s p\" }\n", 0, JSON_OBJECT, "s p", 1 },
	{ "\"x\"garbage", 3, JSON_STRING, "x", 0 }, /* len bounds the read */
};

static const struct {
	const char *doc;
	size_t len;
	const char *why;
} bad[] = {
	{ "", 0, "empty" },
	{ "   ", 0, "blank" },
	{ "{", 0, "unterminated object" },
	{ "[1,", 0, "unterminated array" },
	{ "[1,]", 0, "trailing comma" },
	{ "{\"a\":1,}", 0, "trailing comma in object" },
	{ "{'a':1}", 0, "single quotes" },
	{ "{a:1}", 0, "bare key" },
	{ "{\"a\" 1}", 0, "no colon" },
	{ "{\"a\":1 \"b\":2}", 0, "no comma" },
	{ "{\"a\":1,\"a\":2}", 0, "duplicate key" },
	{ "01", 0, "leading zero" },
	{ "-", 0, "lone minus" },
	{ ".5", 0, "no integer part" },
	{ "1.", 0, "no fraction digits" },
	{ "1e", 0, "no exponent digits" },
	{ "+1", 0, "plus sign" },
	{ "1e999", 0, "out of range" },
	{ "NaN", 0, "NaN" },
	{ "tru", 0, "short literal" },
	{ "nul", 0, "short null" },
	{ "truex", 0, "literal with trailing bytes" },
	{ "\"abc", 0, "unterminated string" },
	{ "\"a\\\"", 0, "escaped closing quote" },
	{ "\"a\nb\"", 0, "raw newline" },
	{ "\"a\\x\"", 0, "unknown escape" },
	{ "\"\\u12\"", 0, "short \\u" },
	{ "\"\\u12g4\"", 0, "bad hex" },
	{ "\"\\u0000\"", 0, "NUL escape" },
	{ "\"\\ud83d\"", 0, "lone high surrogate" },
	{ "\"\\ude00\"", 0, "lone low surrogate" },
	{ "\"\\ud83d\\u0041\"", 0, "high surrogate then BMP" },
	{ "\"\\ude00\\ud83d\"", 0, "reversed pair" },
	{ "\"\xff\"", 0, "invalid UTF-8" },
	{ "\"\xc0\xaf\"", 0, "overlong UTF-8" },
	{ "\"\xed\xa0\x80\"", 0, "encoded surrogate" },
	{ "\"\xe4\xb8\"", 0, "truncated UTF-8" },
	{ "{} {}", 0, "two values" },
	{ "[1] x", 0, "trailing garbage" },
	{ "/* c */ {}", 0, "comment" },
	{ "{\"k\":\"v\"}", 5, "cut by len" },
	{ "[\"a\0b\"]", 7, "NUL byte" },
};

UNIT_TEST(json_valid_documents)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct json *j = NULL;
		char err[128] = "";
		size_t len = good[i].len ? good[i].len : strlen(good[i].doc);
		const char *got;

		if (json_parse(good[i].doc, len, &j, err, sizeof(err)) == -1) {
			CHECKM(0, "good %zu (%s): %s", i, good[i].doc, err);
			continue;
		}
		CHECKM(j->type == good[i].type, "good %zu: type %d", i, j->type);
		if (good[i].want != NULL) {
			got = j->type == JSON_OBJECT ? json_get_str(j, "k") : j->str;
			CHECKM(got != NULL && strcmp(got, good[i].want) == 0,
			    "good %zu: got '%s'", i, got ? got : "(null)");
		}
		if (j->type == JSON_OBJECT || j->type == JSON_ARRAY)
			CHECKM(j->n == good[i].n, "good %zu: n %zu", i, j->n);
		json_free(j);
	}
}

UNIT_TEST(json_invalid_documents)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json *j = (struct json *)&j; /* must stay untouched */
		char err[128] = "";
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].doc);

		CHECKM(json_parse(bad[i].doc, len, &j, err, sizeof(err)) == -1,
		    "bad %zu (%s) was accepted", i, bad[i].why);
		CHECKM(j == (struct json *)&j, "bad %zu: *out set", i);
		CHECKM(strncmp(err, "json: offset ", 13) == 0, "bad %zu: err '%s'",
		    i, err);
	}
}

UNIT_TEST(json_structure_and_lookup)
{
	static const char doc[] = "{\"id\":\"BA-2026-000001\",\"review_round\":2,"
	    "\"errors\":[{\"path\":\"/f\",\"code\":\"X\",\"message\":\"m\\u4e2d\"}],"
	    "\"n\":null}";
	const struct json *e, *r;
	struct json *j = NULL;

	CHECK(json_parse(doc, strlen(doc), &j, NULL, 0) == 0);
	if (j == NULL)
		return;
	CHECK_STR(json_get_str(j, "id"), "BA-2026-000001");
	r = json_get(j, "review_round");
	CHECK(r != NULL && r->type == JSON_NUMBER && r->num == 2.0);
	CHECK(json_get_str(j, "review_round") == NULL); /* not a string */
	CHECK(json_get_str(j, "n") == NULL);
	CHECK(json_get(j, "missing") == NULL);
	e = json_get(j, "errors");
	CHECK(e != NULL && e->type == JSON_ARRAY && e->n == 1);
	if (e != NULL && e->n == 1) {
		CHECK_STR(json_get_str(&e->v[0], "path"), "/f");
		CHECK_STR(json_get_str(&e->v[0], "message"), "m中");
	}
	CHECK(json_get(e, "path") == NULL); /* an array has no members */
	json_free(j);
	json_free(NULL);
}

/* Every prefix of a valid document is refused, and no read goes past
 * the given length (ASan would see it: each prefix is its own copy). */
UNIT_TEST(json_prefixes_refused)
{
	static const char doc[] = "{\"a\":[1,-2.5e3,\"\\ud83d\\ude00\\n\",true,"
	    "false,null],\"b\":{\"c\":\"中\"}}";
	size_t n = strlen(doc);
	struct json *j;

	for (size_t i = 0; i < n; i++) {
		char *copy = malloc(i ? i : 1);

		memcpy(copy, doc, i);
		j = NULL;
		CHECKM(json_parse(copy, i, &j, NULL, 0) == -1, "prefix %zu", i);
		free(copy);
	}
	CHECK(json_parse(doc, n, &j, NULL, 0) == 0);
	if (j != NULL)
		json_free(j);
}

/* JSON_DEPTH_MAX levels of nesting parse; one more is refused. */
UNIT_TEST(json_depth_bound)
{
	char doc[2 * (JSON_DEPTH_MAX + 1) + 8];
	struct json *j = NULL;

	for (size_t levels = JSON_DEPTH_MAX; levels <= JSON_DEPTH_MAX + 1;
	    levels++) {
		for (size_t i = 0; i < levels; i++) {
			doc[i] = '[';
			doc[2 * levels - 1 - i] = ']';
		}
		j = NULL;
		if (levels == JSON_DEPTH_MAX) {
			CHECK(json_parse(doc, 2 * levels, &j, NULL, 0) == 0);
			json_free(j);
		} else
			CHECK(json_parse(doc, 2 * levels, &j, NULL, 0) == -1);
	}
}

/* What json_put_string() writes reads back as the same text: every ASCII
 * character, the ones to escape alone, in runs and at either end. */
UNIT_TEST(json_written_reads_back)
{
	static const char *const cases[] = {
		"", "plain", "\"", "\\", "\x01", "\x1f\x7f", "a\"b\\c\nd\te\x7f",
		"末尾\"", "\"开头", "中文 and ASCII", NULL,
	};
	char all[128];
	struct json *j;
	char *s;
	size_t len;
	FILE *fp;

	for (int i = 1; i < 128; i++)
		all[i - 1] = (char)i;
	all[127] = '\0';
	for (size_t i = 0; i <= sizeof(cases) / sizeof(cases[0]) - 1; i++) {
		const char *want = cases[i] != NULL ? cases[i] : all;

		s = NULL;
		len = 0;
		if ((fp = open_memstream(&s, &len)) == NULL)
			abort();
		json_put_string(fp, want);
		fclose(fp);
		j = NULL;
		CHECKM(json_parse(s, len, &j, NULL, 0) == 0, "%s", s);
		CHECK(j != NULL && j->type == JSON_STRING &&
		    j->len == strlen(want) && memcmp(j->str, want, j->len) == 0);
		/* only what must be escaped is: the output is as short as
		 * the escapes allow */
		if (cases[i] != NULL && strcmp(want, "plain") == 0)
			CHECK_STR(s, "\"plain\"");
		if (cases[i] != NULL && strcmp(want, "\x1f\x7f") == 0)
			CHECK_STR(s, "\"\\u001f\\u007f\"");
		json_free(j);
		free(s);
	}
	/* bytes that are not UTF-8 (a GBK name, a cut sequence) become the
	 * text \xhh: the document stays valid */
	{
		static const struct {
			const char *in, *want;
		} notutf8[] = {
			{ "bad\xb0\xa1.zip", "bad\\xb0\\xa1.zip" },
			{ "\xe4\xb8", "\\xe4\\xb8" },	/* 中 cut short */
			{ "\xc0\xaf", "\\xc0\\xaf" },	/* overlong '/' */
			{ "\xed\xa0\x80", "\\xed\\xa0\\x80" }, /* surrogate */
			{ "中\xff文", "中\\xff文" },
		};

		for (size_t i = 0; i < sizeof(notutf8) / sizeof(notutf8[0]); i++) {
			s = NULL;
			len = 0;
			if ((fp = open_memstream(&s, &len)) == NULL)
				abort();
			json_put_string(fp, notutf8[i].in);
			fclose(fp);
			j = NULL;
			CHECKM(json_parse(s, len, &j, NULL, 0) == 0, "%s", s);
			CHECK(j != NULL && j->type == JSON_STRING &&
			    strcmp(j->str, notutf8[i].want) == 0);
			json_free(j);
			free(s);
		}
	}
	CHECK_INT(json_plain_span("abc\"d"), 3);
	CHECK_INT(json_plain_span("ab\xb0\xa1"), 2);
	CHECK_INT(json_plain_span("中\x01"), strlen("中"));
	CHECK_INT(json_plain_span(""), 0);
}
