/*
 * fuzz_wire: the parent's decoder of worker frames on arbitrary bytes,
 * with the default limits.  Each input is tried as it is and with a
 * valid header written over its first bytes (magic, version, the length
 * that fits), so that mutations and non-frame seeds reach the body.  A frame
 * that decodes must give an upload that can be walked, encoded again and
 * freed.  Seed it with frames from the unit tests (BEIAND_WIRE_SEEDS=dir
 * build/unit wire_seeds).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "worker/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_one(const uint8_t *data, size_t size, int fix,
    const struct input_limits *lim)
{
	unsigned char *f = xmalloc(size ? size : 1), *g;
	struct wire_answer a;
	char err[256];
	size_t len;

	memcpy(f, data, size);
	if (fix && size >= WIRE_HEADER_SIZE) {
		uint64_t body = size - WIRE_HEADER_SIZE;

		memcpy(f, "BWF\x02", 4);
		for (int i = 0; i < 8; i++)
			f[4 + i] = (unsigned char)(body >> (8 * i));
	}
	if (wire_decode(&f, size, lim, &a, err, sizeof(err)) == 0) {
		if (a.kind == WIRE_UPLOAD) {
			if (f != NULL || a.upload == NULL)
				__builtin_trap();
			wire_encode_upload(a.upload, &g, &len);
			free(g);
			upload_free(a.upload);
		}
	} else if (err[0] == '\0')
		__builtin_trap(); /* an error always says why */
	free(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input_limits lim;

	input_limits_defaults(&lim);
	fuzz_one(data, size, 0, &lim);
	fuzz_one(data, size, 1, &lim);
	return 0;
}
