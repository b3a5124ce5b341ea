/*
 * test_wire: what tests/test_wire.c builds for the tests of the wire
 * format and of the workers (tests/test_wire_hostile.c, test_worker.c).
 */
#ifndef BEIAND_TEST_WIRE_H
#define BEIAND_TEST_WIRE_H

#include <stddef.h>

#include "parsers/input_limits.h"

struct config;
struct mail_meta;
struct upload;

/* Deep comparison: 1 equal, else 0 with the first difference in why. */
int test_wire_upload_equal(const struct upload *a, const struct upload *b,
    char *why, size_t whysize);
/* u encoded and decoded again; NULL (a failure reported) when it does not
 * decode. */
struct upload *test_wire_roundtrip(const struct upload *u,
    const struct input_limits *lim);
/* The built-in configuration; NULL (a failure reported) if it fails. */
struct config *test_wire_config(void);
/* buf read as upload name under cf, as a worker would. */
struct upload *test_wire_read_upload(const struct config *cf,
    const char *name, const void *buf, size_t len);
/* A zip of packages and records of every kind (malloc'd; NULL on error). */
unsigned char *test_wire_batch(size_t *lenp);
/* An upload built by hand, every field set; a mail with every field. */
struct upload *test_wire_gen_upload(void);
struct mail_meta *test_wire_gen_mail(void);

#endif
