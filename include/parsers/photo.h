/*
 * photo: structural checks of JPEG and PNG attachments (FORMAT.md §2).
 *
 * Never decodes pixel data; walks the container only.
 */
#ifndef BEIAND_PHOTO_H
#define BEIAND_PHOTO_H

#include <stddef.h>
#include <stdint.h>

enum photo_kind { PHOTO_NONE, PHOTO_JPEG, PHOTO_PNG };

struct photo_info {
	enum photo_kind kind;
	uint32_t width, height;
};

enum photo_result {
	PHOTO_OK,
	PHOTO_ERR_FORMAT,     /* neither JPEG nor PNG by content */
	PHOTO_ERR_CORRUPT,    /* structure broken: JPEG SOI..SOF..SOS..EOI, PNG chunks/CRCs */
	PHOTO_ERR_TOO_LARGE,  /* over max_bytes */
	PHOTO_ERR_DIMENSIONS, /* short side < 480 or long side > 5000 */
};

/* The kind by the first bytes alone (a JPEG or PNG signature), nothing
 * else read: what photo_check() would take it for. */
enum photo_kind photo_kind_sniff(const void *buf, size_t len);

/* Check buf[0..len); info is filled when the header could be read. */
enum photo_result photo_check(const void *buf, size_t len, uint64_t max_bytes,
    struct photo_info *info);

#endif
