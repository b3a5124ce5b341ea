/*
 * version: see include/lib/version.h.  BEIAND_VERSION comes from the
 * Makefile (debian/changelog); a build without it says so.
 */
#include "lib/version.h"

#ifndef BEIAND_VERSION
#define BEIAND_VERSION "unknown"
#endif

const char beiand_version[] = BEIAND_VERSION;
