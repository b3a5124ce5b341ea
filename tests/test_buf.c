/*
 * Tests of lib/buf.c: the growing buffer behind pages, receipts, mails,
 * worker answers and zips.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "unit.h"

UNIT_TEST(buf)
{
	struct buf b = { 0 };
	size_t len = 99;
	char *s, big[1000];

	/* empty: a text all the same */
	s = buf_take(&b, &len);
	CHECK_STR(s, "");
	CHECK_INT(len, 0);
	free(s);

	/* grows past its first allocation; always NUL-terminated */
	memset(big, 'x', sizeof(big));
	buf_str(&b, "<p>");
	CHECK_STR(b.p, "<p>");
	for (int i = 0; i < 10; i++)
		buf_add(&b, big, sizeof(big));
	buf_ch(&b, '!');
	CHECK_INT(b.len, 3 + 10 * sizeof(big) + 1);
	CHECK(b.cap > b.len && b.p[b.len] == '\0');
	CHECK(b.p[3] == 'x' && b.p[b.len - 2] == 'x' && b.p[b.len - 1] == '!');

	/* bytes, NUL among them, and room the caller fills */
	buf_free(&b);
	CHECK(b.p == NULL && b.len == 0 && b.cap == 0);
	buf_add(&b, "a\0b", 3);
	memcpy(buf_room(&b, 2), "cd", 2);
	CHECK_INT(b.len, 5);
	CHECK(memcmp(b.p, "a\0bcd", 6) == 0);
	s = buf_take(&b, &len);
	CHECK_INT(len, 5);
	CHECK(b.p == NULL && b.len == 0);
	free(s);

	/* a reservation is exact: the known size and its NUL, no more */
	buf_reserve(&b, 5000);
	CHECK_INT(b.cap, 5001);
	buf_add(&b, big, 1000);
	CHECK_INT(b.cap, 5001); /* no growth within it */
	buf_free(&b);
}
