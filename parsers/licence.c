/*
 * licence: filing numbers (备案号) of FORMAT.md §4.
 *
 * Numbers arrive in filing packages and bureau decisions and are hostile:
 * the parser accepts exactly the three shapes of §4 and nothing around
 * them (no blanks, no full-width digits or dashes, no leading zeros in
 * the site counter, no trailing bytes), so that one number has one text.
 */
#include <stdio.h>
#include <string.h>

#include "parsers/licence.h"
#include "parsers/rules.h"

#define LICENCE_MIDDLE "ICP备"
#define LICENCE_END "号"
#define LICENCE_YEAR_MIN 2000
#define LICENCE_YEAR_MAX 2099
#define LICENCE_SITE_MAX 999999

/* The n digits at s as a number; -1 when one is no digit. */
static long
licence_digits(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
licence_parse(const char *s, struct licence *out)
{
	struct licence l;
	char abbr[8];
	const char *mid, *p, *code;
	size_t n;
	long v;

	if (s == NULL)
		return -1;
	memset(&l, 0, sizeof(l));

	/* The abbreviation: one CJK character, three bytes of UTF-8. */
	if ((mid = strstr(s, LICENCE_MIDDLE)) == NULL || mid - s != 3)
		return -1;
	memcpy(abbr, s, 3);
	abbr[3] = '\0';
	if ((code = rules_province_by_abbr(abbr)) == NULL)
		return -1;
	memcpy(l.province, code, sizeof(l.province));

	p = mid + strlen(LICENCE_MIDDLE);
	for (n = 0; p[n] >= '0' && p[n] <= '9'; n++)
		if (n > 10)
			return -1;
	if (n == 10) {
		l.year = (int)licence_digits(p, 4);
		l.serial = licence_digits(p + 4, 6);
		if (l.year < LICENCE_YEAR_MIN || l.year > LICENCE_YEAR_MAX ||
		    l.serial < 1)
			return -1;
	} else if (n == 8) {
		l.old_form = 1;
		l.serial = licence_digits(p, 8);
		if (l.serial < 1)
			return -1;
	} else
		return -1;
	p += n;

	if (strncmp(p, LICENCE_END, strlen(LICENCE_END)) != 0)
		return -1;
	p += strlen(LICENCE_END);
	if (*p == '-') {
		p++;
		for (n = 0; p[n] >= '0' && p[n] <= '9'; n++)
			if (n > 6)
				return -1;
		if (n < 1 || n > 6 || p[0] == '0' || p[n] != '\0')
			return -1;
		if ((v = licence_digits(p, n)) < 1 || v > LICENCE_SITE_MAX)
			return -1;
		l.site = (int)v;
	} else if (*p != '\0')
		return -1;

	*out = l;
	return 0;
}

int
licence_format(const struct licence *l, char *buf, size_t size)
{
	const char *abbr;
	char site[16] = "";
	int n;

	if ((abbr = rules_province_abbr(l->province)) == NULL)
		return -1;
	if (l->site < 0 || l->site > LICENCE_SITE_MAX)
		return -1;
	if (l->site > 0)
		snprintf(site, sizeof(site), "-%d", l->site);
	if (l->old_form) {
		if (l->serial < 1 || l->serial > 99999999)
			return -1;
		n = snprintf(buf, size, "%s" LICENCE_MIDDLE "%08ld" LICENCE_END
		    "%s", abbr, l->serial, site);
	} else {
		if (l->year < LICENCE_YEAR_MIN || l->year > LICENCE_YEAR_MAX ||
		    l->serial < 1 || l->serial > 999999)
			return -1;
		n = snprintf(buf, size, "%s" LICENCE_MIDDLE "%04d%06ld"
		    LICENCE_END "%s", abbr, l->year, l->serial, site);
	}
	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}

void
licence_subject(const struct licence *l, struct licence *subject)
{
	*subject = *l;
	subject->site = 0;
}
