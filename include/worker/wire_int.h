/*
 * wire: what the encoder and the decoder share (private to worker/wire.c
 * and worker/wire_decode.c; no other file includes it): the frame's magic
 * and version, the NULL string, the document mask, saturating arithmetic.
 */
#ifndef BEIAND_WIRE_INT_H
#define BEIAND_WIRE_INT_H

#include <stdint.h>

#define WIRE_MAGIC0 'B'
#define WIRE_MAGIC1 'W'
#define WIRE_MAGIC2 'F'
#define WIRE_VERSION 3

#define WIRE_NULL 0xffffffffU

enum {
	DOC_FILING = 0x01,
	DOC_VERIFICATION = 0x02,
	DOC_WITHDRAWAL = 0x04,
	DOC_HANDBACK = 0x08,
	DOC_DECISION = 0x10
};

static inline uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static inline uint64_t
sat_mul(uint64_t a, uint64_t b)
{
	return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

#endif
