/*
 * version: beiand's version, one for every program.  It is kept in one
 * place, the first line of debian/changelog, which the Makefile reads.
 */
#ifndef BEIAND_VERSION_H
#define BEIAND_VERSION_H

/* "0.8.0": static storage, never NULL. */
extern const char beiand_version[];

#endif
