/*
 * tracking_id: see include/parsers/tracking_id.h.  Ids arrive from
 * outside in subject tags, filing/@id, records and command lines: the
 * scanner reads at most the id's length and stops at the first byte that
 * does not fit.
 */
#include <stdio.h>
#include <string.h>

#include "parsers/tracking_id.h"

static size_t
digits(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

size_t
tracking_id_scan(const char *s)
{
	size_t n;

	if (strncmp(s, "BA-", 3) != 0 || digits(s + 3, 4) != 4 || s[7] != '-')
		return 0;
	n = digits(s + 8, 8);
	if (n == 6 || (n == 7 && s[8] != '0'))
		return 8 + n;
	return 0;
}

int
tracking_id_parse(const char *s, int *year, long *seq)
{
	size_t n = tracking_id_scan(s);
	long v = 0;
	int y = 0;

	if (n == 0 || s[n] != '\0')
		return -1;
	for (size_t i = 3; i < 7; i++)
		y = y * 10 + (s[i] - '0');
	for (size_t i = 8; i < n; i++)
		v = v * 10 + (s[i] - '0');
	if (v < 1)
		return -1;
	if (year != NULL)
		*year = y;
	if (seq != NULL)
		*seq = v;
	return 0;
}

int
tracking_id_format(char *buf, size_t size, int year, long seq)
{
	int n;

	if (year < 1000 || year > 9999 || seq < 1 || seq > TRACKING_ID_SEQ_MAX)
		return -1;
	n = snprintf(buf, size, "BA-%04d-%06ld", year, seq);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}
