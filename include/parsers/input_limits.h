/*
 * input_limits: the bounds every parser of hostile input is handed.
 *
 * Defaults are those of DESIGN.md ([limits]); configuration can change
 * them.  Parsers never allocate or read past these.
 */
#ifndef BEIAND_INPUT_LIMITS_H
#define BEIAND_INPUT_LIMITS_H

#include <stdint.h>

struct input_limits {
	uint64_t archive_max_bytes;    /* one archive as uploaded/attached */
	uint64_t archive_max_entries;  /* members of one archive */
	uint64_t archive_max_unpacked; /* all members together */
	uint64_t entry_max_bytes;      /* one member */
	uint64_t archive_max_ratio;    /* unpacked / packed, per entry and overall */
	uint64_t path_max;             /* bytes of one member name */
	uint64_t xml_max_bytes;        /* one XML document */
	uint64_t photo_max_bytes;      /* one photo or scan */
	uint64_t mail_max_bytes;       /* one mail */
};

void input_limits_defaults(struct input_limits *lim);

#endif
