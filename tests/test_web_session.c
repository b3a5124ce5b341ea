/*
 * test_web_session: what guards the console besides the store's
 * sessions — login throttling per account and per address, the CSRF
 * comparison, the cookies' attributes.
 */
#include <stdlib.h>
#include <string.h>

#include "web/session.h"
#include "unit.h"

#define T ((time_t)1795000000)

UNIT_TEST(web_throttle)
{
	struct web_throttle *t = web_throttle_new(3, 60, 8);
	time_t wait = 0;

	CHECK_INT(web_throttle_check(t, "u:li", T, &wait), 0);
	web_throttle_fail(t, "u:li", T);
	web_throttle_fail(t, "u:li", T + 1);
	CHECK_INT(web_throttle_check(t, "u:li", T + 2, &wait), 0);
	web_throttle_fail(t, "u:li", T + 2);
	/* the third failure within the window: refused until it passes */
	CHECK_INT(web_throttle_check(t, "u:li", T + 3, &wait), 1);
	CHECK_INT(wait, 57);
	CHECK_INT(web_throttle_check(t, "u:li", T + 59, &wait), 1);
	CHECK_INT(wait, 1);
	CHECK_INT(web_throttle_check(t, "u:other", T + 3, &wait), 0);
	CHECK_INT(web_throttle_check(t, "u:li", T + 60, &wait), 0);
	/* a new window counts from the first failure in it */
	web_throttle_fail(t, "u:li", T + 60);
	CHECK_INT(web_throttle_check(t, "u:li", T + 61, &wait), 0);
	/* a success clears */
	web_throttle_fail(t, "u:li", T + 61);
	web_throttle_fail(t, "u:li", T + 62);
	CHECK_INT(web_throttle_check(t, "u:li", T + 63, &wait), 1);
	web_throttle_clear(t, "u:li");
	CHECK_INT(web_throttle_check(t, "u:li", T + 63, &wait), 0);

	/* bounded: many keys never grow the table past its size, and the
	 * oldest window makes room */
	for (int i = 0; i < 100; i++) {
		char k[32];

		snprintf(k, sizeof(k), "a:192.0.2.%d", i);
		web_throttle_fail(t, k, T + 100 + i);
		web_throttle_fail(t, k, T + 100 + i);
		web_throttle_fail(t, k, T + 100 + i);
	}
	CHECK_INT(web_throttle_check(t, "a:192.0.2.99", T + 200, &wait), 1);
	CHECK_INT(web_throttle_check(t, "a:192.0.2.0", T + 200, &wait), 0);
	web_throttle_free(t);
	web_throttle_free(NULL);
}

UNIT_TEST(web_throttle_addresses)
{
	char a[96], b[96];

	web_throttle_addr_key("192.0.2.7", a, sizeof(a));
	CHECK_STR(a, "a:192.0.2.7");
	/* one IPv6 client holds its /64 */
	web_throttle_addr_key("2001:db8:1:2:aaaa::1", a, sizeof(a));
	web_throttle_addr_key("2001:db8:1:2:bbbb:cccc:dddd:eeee", b, sizeof(b));
	CHECK_STR(a, b);
	CHECK_STR(a, "a:2001:db8:1:2::/64");
	web_throttle_addr_key("2001:db8:1:3::1", b, sizeof(b));
	CHECK(strcmp(a, b) != 0);
}

UNIT_TEST(web_csrf_tokens)
{
	char a[65], b[65];

	web_token_new(a);
	web_token_new(b);
	CHECK_INT(strlen(a), 64);
	CHECK(strspn(a, "0123456789abcdef") == 64);
	CHECK(strcmp(a, b) != 0);
	CHECK(web_token_eq(a, a));
	CHECK(!web_token_eq(a, b));
	CHECK(!web_token_eq(NULL, a));
	CHECK(!web_token_eq(a, NULL));
	CHECK(!web_token_eq("", ""));
	CHECK(!web_token_eq("abc", "abcd"));
	b[0] = a[0];
	memcpy(b, a, 63);
	b[63] = a[63] == '0' ? '1' : '0';
	CHECK(!web_token_eq(b, a));
}

UNIT_TEST(web_cookies)
{
	char *c;

	c = web_cookie("beiand_session", "abc", "/", 0, -1);
	CHECK_STR(c, "beiand_session=abc; Path=/; HttpOnly; SameSite=Strict");
	free(c);
	c = web_cookie("beiand_session", "abc", "/", 1, -1);
	CHECK_STR(c, "beiand_session=abc; Path=/; HttpOnly; SameSite=Strict; "
	    "Secure");
	free(c);
	c = web_cookie("beiand_login", "", "/login", 1, 0);
	CHECK_STR(c, "beiand_login=; Path=/login; HttpOnly; SameSite=Strict; "
	    "Secure; Max-Age=0");
	free(c);
}
