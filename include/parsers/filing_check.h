/*
 * filing_check: every rule of FORMAT.md §1–§4 that needs no database,
 * applied to a parsed filing and the files of its package.
 */
#ifndef BEIAND_FILING_CHECK_H
#define BEIAND_FILING_CHECK_H

#include <stddef.h>

#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "parsers/input_limits.h"
#include "parsers/rules.h"

/* One file of a package: an archive member relative to the package
 * folder, or a mail attachment.  A view: check functions never free it. */
struct pkg_file {
	const char *name;
	const unsigned char *data; /* NULL: left out of a worker's answer */
	size_t size;
	const unsigned char *sha256; /* its SHA-256 (32 bytes) when known */
};

struct check_ctx {
	const struct input_limits *lim;
	struct day today; /* the processing day, CST */
	/* Provinces served by this deployment (codes); nprovinces == 0: all. */
	const char *const *provinces;
	size_t nprovinces;
	/* IP_NOT_PROVIDER applies only when provider_ranges != NULL. */
	const struct ip_range *provider_ranges;
	size_t nprovider_ranges;
};

/*
 * Check f against every store-independent rule and check the files it
 * names: ATTACHMENT_MISSING for a named file not among files, photo rules
 * for each present one, the warning ATTACHMENT_UNUSED for a file that is
 * neither filing.xml nor named.  All findings go to errs, none stops the
 * others.  Paths are FORMAT.md's ("/filing/website[1]/domain[2]").
 */
void filing_check(const struct filing *f, const struct pkg_file *files,
    size_t nfiles, const struct check_ctx *ctx, struct errlist *errs);

/*
 * Check a verification record's own rules (§6, no database): result
 * "pass" needs all seven checks true, the photo and the scan present and
 * sound (VERIFICATION_INCOMPLETE, photo codes); "return" needs at least
 * one issue.  files are those beside the record.
 */
void verification_check(const struct verification *v,
    const struct pkg_file *files, size_t nfiles, const struct check_ctx *ctx,
    struct errlist *errs);

#endif
