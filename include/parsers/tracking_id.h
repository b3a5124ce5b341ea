/*
 * tracking_id: the one place that knows the form of a tracking id
 * (DESIGN.md, States): "BA-YYYY-NNNNNN", six digits of a per-year
 * sequence, and a seventh once a year has used up its first million
 * ("BA-2026-999999" is followed by "BA-2026-1000000").  Every writer
 * and reader of ids (the store, mail subject tags, the CLI, the web
 * console) goes through it, so that the two forms are accepted alike
 * everywhere and only the canonical text of a number is an id.
 */
#ifndef BEIAND_TRACKING_ID_H
#define BEIAND_TRACKING_ID_H

#include <stddef.h>

#define TRACKING_ID_SIZE 16          /* the longest id, "BA-2026-1000000", + NUL */
#define TRACKING_ID_SEQ_MAX 9999999L /* the last number of a year */

/*
 * The length of the tracking id that s starts with (14 or 15), or 0 when
 * s does not start with one.  Only canonical text counts: six digits
 * (zero-padded) up to 999999, seven without a leading zero above; the
 * id must not run on into another digit.  s is NUL-terminated; nothing
 * past its NUL is read.
 */
size_t tracking_id_scan(const char *s);
/* s is exactly one tracking id: 0 with *year and *seq set (either may be
 * NULL), else -1. */
int tracking_id_parse(const char *s, int *year, long *seq);
/* The id of number seq (1..TRACKING_ID_SEQ_MAX) of year (1000..9999)
 * into buf; -1 when either is out of range or buf is too small. */
int tracking_id_format(char *buf, size_t size, int year, long seq);

#endif
