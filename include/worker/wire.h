/*
 * wire: the frames a parser worker sends back to the parent.
 *
 * A frame is a 12-byte header (the magic "BWF" and a version byte, then
 * the body length as a little-endian 64-bit number) and a body: one kind
 * byte, then the answer.  An upload travels whole: its findings (codes by
 * name), its items with their documents (every string field, NULL kept
 * distinct from ""), and the items' files, each name and each content
 * once even when several items share them.  Every name and content is
 * followed by a NUL byte on the wire, so the decoded upload's file views
 * point straight into the frame buffer, which it keeps as u->bare.
 *
 * The decoder treats the frame as hostile (it comes from a process that
 * parsed hostile input and may have been subverted): every count and
 * length is checked against what is left of the frame and against the
 * limits it is given, strings must hold no NUL, names must be UTF-8, enum
 * values must be in range, and trailing bytes are an error.  It never
 * reads outside the frame and never allocates more than a small multiple
 * of the frame's size.
 */
#ifndef BEIAND_WIRE_H
#define BEIAND_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "parsers/archive_reader.h"
#include "parsers/input_limits.h"
#include "parsers/package.h"

#define WIRE_HEADER_SIZE 12

enum wire_kind {
	WIRE_WHOLE = 1,  /* an enum ar_whole */
	WIRE_UPLOAD = 2, /* a struct upload */
	WIRE_ERROR = 3   /* the worker could not do the job: a reason */
};

/* What a decoded frame holds; the member of its kind is set. */
struct wire_answer {
	enum wire_kind kind;
	enum ar_whole whole;    /* WIRE_WHOLE */
	struct upload *upload;  /* WIRE_UPLOAD: caller frees (upload_free) */
	char reason[200];       /* WIRE_ERROR */
};

/*
 * The largest frame a worker may send under lim: the archive and its
 * unpacked contents, one name per member, file references, and room for
 * findings and documents.  Saturates instead of overflowing.
 */
uint64_t wire_frame_max(const struct input_limits *lim);

/*
 * Encoders: a whole frame, header included, in malloc'd *out (*len bytes).
 * They cannot fail (allocation aborts).
 */
void wire_encode_upload(const struct upload *u, unsigned char **out,
    size_t *len);
/*
 * Whether u is one package kept as it was uploaded (no mail, one filing
 * item at "/", no password): its frame carries its files' names, sizes
 * and hashes but not their bytes, which the parent never reads.
 */
int wire_upload_lean(const struct upload *u);
/* As wire_encode_upload(), always with every content's bytes (WJ_VIEW:
 * the parent shows the files). */
void wire_encode_upload_all(const struct upload *u, unsigned char **out,
    size_t *len);
void wire_encode_whole(enum ar_whole w, unsigned char **out, size_t *len);
void wire_encode_error(const char *reason, unsigned char **out, size_t *len);

/*
 * Read a frame header (WIRE_HEADER_SIZE bytes): 0 and the whole frame's
 * length in *total, or -1 when the magic or version is wrong or the frame
 * would be larger than max.
 */
int wire_header_parse(const unsigned char *hdr, uint64_t max, size_t *total);

/*
 * Decode frame[0..len) (header included) under lim.  On success returns
 * 0 and fills *out; for WIRE_UPLOAD the frame buffer, which must come
 * from malloc, now belongs to out->upload (as its bare bytes) and *frame
 * is set to NULL.  On error returns -1, says why in err, and leaves the
 * frame to the caller.
 */
int wire_decode(unsigned char **frame, size_t len,
    const struct input_limits *lim, struct wire_answer *out, char *err,
    size_t errsize);

#endif
