/*
 * licence: filing numbers (备案号) of FORMAT.md §4.
 *
 *   京ICP备2026000001号        subject number, year + six-digit serial
 *   京ICP备2026000001号-2      site number
 *   京ICP备16020626号-8        the older eight-digit form
 *   蜀ICP备… / 川ICP备…        bracketed abbreviations are accepted
 */
#ifndef BEIAND_LICENCE_H
#define BEIAND_LICENCE_H

#include <stddef.h>

struct licence {
	char province[3]; /* "11" */
	int year;         /* new form: the year; old form: 0 */
	long serial;      /* new form: 1..999999; old form: the eight digits */
	int old_form;     /* 1 for the eight-digit form */
	int site;         /* 0 for a subject number, else N of "-N" */
};

/* Parse s; -1 when it is no filing number (LICENCE_FORMAT). */
int licence_parse(const char *s, struct licence *out);
/*
 * Canonical text into buf (the province's main abbreviation, e.g. 蜀 for
 * 51).  Returns the length, or -1 when it did not fit.
 */
int licence_format(const struct licence *l, char *buf, size_t size);
/* The subject number of a site number (site = 0). */
void licence_subject(const struct licence *l, struct licence *subject);

#endif
