/*
 * package: from uploaded bytes to the items they hold (FORMAT.md §1, §5).
 *
 * An upload is either a single filing package (filing.xml at its root),
 * a batch (top-level folders holding filing.xml, *.verification.xml,
 * *.withdrawal.xml, *.handback.xml, *.decision.xml, an optional
 * manifest.xml), or — in the bureau's folder — a bare decision.
 * Everything here is pure: bytes in, items and findings out.
 */
#ifndef BEIAND_PACKAGE_H
#define BEIAND_PACKAGE_H

#include <stddef.h>

#include "parsers/archive_reader.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "parsers/filing_check.h"
#include "parsers/tracking_id.h"

enum item_kind {
	ITEM_FILING,
	ITEM_VERIFICATION,
	ITEM_WITHDRAWAL,
	ITEM_HANDBACK,
	ITEM_DECISION
};

const char *item_kind_name(enum item_kind k);

struct item {
	enum item_kind kind;
	char *path;           /* "site-a/", "/" for a single package, or the record's file name */
	unsigned char sha256[32]; /* with UPLOAD_HASH: see item_hash() in package.c */
	struct errlist *errs; /* findings of the item's own content */
	/* ITEM_FILING */
	struct filing *filing; /* NULL when filing.xml could not be read */
	/* ITEM_VERIFICATION, ITEM_WITHDRAWAL, ITEM_HANDBACK, ITEM_DECISION */
	struct verification *verification;
	struct withdrawal *withdrawal;
	struct handback *handback;
	struct decision *decision;
	/* files of the item (package folder members, or those beside a record),
	 * names relative to the folder; views into the archive contents */
	struct pkg_file *files;
	size_t nfiles;
};

/*
 * What the worker read of a mail (WJ_MAIL, DESIGN.md "Owner mail (IMAP)"):
 * the parent decides with it, never with the raw message.  Strings are
 * UTF-8 without control bytes, never NULL ("" when absent).
 */
struct mail_meta {
	char *message_id;     /* without angle brackets */
	char *from_addr;      /* From addr-spec */
	char *return_path;    /* envelope sender; "" for "<>" or none */
	char tag_id[TRACKING_ID_SIZE]; /* [BA-YYYY-NNNNNN(N) ...] */
	char tag_token[16];   /* the owner token of the tag, "" if none or mangled */
	char review_token[32];/* [review:TOKEN] */
	int automated;        /* mime_is_automated() with the [imap] address */
	int command;          /* enum mime_command */
	char *reason;         /* REJECT: the reason ("" otherwise) */
	int no_package;       /* a message with no package (help or command) */
	unsigned char sha256[32]; /* of the raw message */
};
void mail_meta_free(struct mail_meta *mm); /* accepts NULL */

struct upload {
	struct ar_contents *ac; /* owns the bytes the items point into; NULL for a bare XML */
	unsigned char *bare;    /* a bare XML upload's bytes */
	struct item *items;
	size_t nitems;
	struct errlist *errs;   /* upload-wide refusals: archive errors, MANIFEST_MISMATCH, FILING_XML_MISSING */
	struct mail_meta *mail; /* WJ_MAIL: the mail the items came in; else NULL */
};

#define UPLOAD_HASH 0x1 /* compute each item's sha256 */

/*
 * Read an upload named name (used to recognise a bare *.decision.xml) from
 * buf[0..len) and check each item's content.  Never fails: an upload
 * refused as a whole has findings in u->errs and no items.
 */
struct upload *upload_read(const char *name, const void *buf, size_t len,
    const struct check_ctx *ctx, int flags);
void upload_free(struct upload *u); /* accepts NULL */
/* Drop u's items (the upload's own findings stay). */
void upload_items_free(struct upload *u);

/*
 * Check one filing package given as files (a mail's attachments, or one
 * folder of a batch).  *out receives the filing when filing.xml could be
 * parsed (caller frees), else NULL.
 */
void package_check_files(const struct pkg_file *files, size_t nfiles,
    const struct check_ctx *ctx, struct filing **out, struct errlist *errs);

/*
 * Hash of a set of files, independent of their order: SHA-256 over the
 * files sorted by name, each as its name and a NUL, its size (8 bytes,
 * little-endian) and its own SHA-256 (files[i].sha256 when set, else
 * taken here).  A file's bytes are read once for both digests.
 */
void package_files_sha256(const struct pkg_file *files, size_t nfiles,
    unsigned char out[32]);

#endif
