/*
 * pack: write a set of in-memory files as a zip archive in memory.
 *
 * Used to keep a batch item (or a package whose filing.xml had to lose
 * its <password>) as a package of its own.  Never touches the filesystem.
 */
#ifndef BEIAND_PACK_H
#define BEIAND_PACK_H

#include <stddef.h>

#include "parsers/filing_check.h"

/* 0 and *out (malloc'd, *len bytes), or -1 when libarchive refused. */
int pack_zip(const struct pkg_file *files, size_t nfiles, unsigned char **out,
    size_t *len);

#endif
