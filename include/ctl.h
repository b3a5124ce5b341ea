/*
 * ctl: beianctl's verbs (DESIGN.md, Command line).
 *
 * Each verb is a function taking the arguments after its name and the
 * loaded configuration, returning one of the exit statuses below.
 */
#ifndef BEIAND_CTL_H
#define BEIAND_CTL_H

#include <stdio.h>

struct config;

/* Exit statuses of every verb. */
#define CTL_OK 0        /* done */
#define CTL_REFUSED 1   /* invalid or refused */
#define CTL_USAGE 2     /* usage, configuration or I/O error */
#define CTL_UNKNOWN_ID 3 /* an ID given on the command line is unknown */

int ctl_main(int argc, char **argv);

int ctl_check(int argc, char **argv, const struct config *cf);

/* Output helpers shared by the verbs. */
/* Print s with bytes below 0x20 and 0x7f as \xHH. */
void ctl_put_escaped(FILE *fp, const char *s);
/* Print s as a JSON string literal (quotes included); NULL as null. */
void ctl_put_json(FILE *fp, const char *s);
/* Read a whole file; NULL with errno set on failure.  *len gets its size.
 * Refuses files larger than max (errno EFBIG) without reading them. */
unsigned char *ctl_read_file(const char *path, size_t max, size_t *len);

#endif
