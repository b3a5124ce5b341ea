/*
 * Tests of lib/utf8.c: the strict decoder every part checks text with.
 */
#include <stdint.h>

#include "lib/utf8.h"
#include "unit.h"

UNIT_TEST(utf8)
{
	CHECK_INT(utf8_len(""), 0);
	CHECK_INT(utf8_len("abc"), 3);
	CHECK_INT(utf8_len("张三"), 2);
	CHECK_INT(utf8_len("𠀀a"), 2);
	CHECK_INT(utf8_len("\xc0\xaf"), -1);         /* overlong */
	CHECK_INT(utf8_len("\xe0\x80\xaf"), -1);     /* overlong */
	CHECK_INT(utf8_len("\xed\xa0\x80"), -1);     /* surrogate */
	CHECK_INT(utf8_len("\xf4\x90\x80\x80"), -1); /* > U+10FFFF */
	CHECK_INT(utf8_len("\xe5\xbc"), -1);         /* truncated */
	CHECK_INT(utf8_len("\x80"), -1);
	CHECK(utf8_valid("a\0b", 3));
	CHECK(utf8_valid("", 0));
	CHECK(utf8_valid("\xe5\xbc\xa0", 3));
	CHECK(!utf8_valid("\xe5\xbc\xa0", 2));
	CHECK(!utf8_valid("\xff", 1));
}
