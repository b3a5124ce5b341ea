/*
 * receipt: the receipt of an upload (FORMAT.md §9).
 */
#ifndef BEIAND_RECEIPT_H
#define BEIAND_RECEIPT_H

#include <stddef.h>
#include <time.h>

#include "parsers/errlist.h"
#include "parsers/package.h"

struct receipt_item {
	const char *path;     /* item path: "site-a/", "/", or the record's file */
	enum item_kind kind;
	const char *id;       /* tracking id, or NULL/"" when the item made none */
	const char *state;    /* the filing's state after the item, or NULL */
	const struct errlist *errs;
};

/*
 * The receipt's XML text (malloc'd).  upload_errs non-empty: a refusal of
 * the whole upload, its findings directly under <receipt> and no items.
 * Names are written verbatim but for XML escaping; bytes XML cannot hold
 * (controls) are written as \xHH.
 */
char *receipt_build(const char *upload, const char *sha256_hex, time_t received,
    const struct errlist *upload_errs, const struct receipt_item *items,
    size_t nitems);

/*
 * Write dir/<upload>.receipt.xml: a temporary name, fsync, rename, fsync
 * of dir.  Returns 0 or -1 with errno.
 */
int receipt_write(const char *dir, const char *upload, const char *xml);

/* Write bytes to dir/name atomically the same way (also .reason files). */
int file_write_atomic(const char *dir, const char *name, const void *data,
    size_t len, int mode);

/*
 * With FW_NOSYNC, the temporary file is renamed without any fsync: the
 * caller makes a whole batch durable with one syncfs(2) before it acts on
 * it (removes the claimed uploads the receipts answer).
 */
#define FW_NOSYNC 0x1
int file_write_atomic_flags(const char *dir, const char *name,
    const void *data, size_t len, int mode, int flags);
int receipt_write_flags(const char *dir, const char *upload, const char *xml,
    int flags);

#endif
