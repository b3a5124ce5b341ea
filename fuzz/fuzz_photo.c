/*
 * fuzz_photo: photo_check on arbitrary bytes.  Seed with
 * tests/fixtures/photo/ (the big.jpg there is over the bound used here,
 * which keeps the too-large path in the corpus too).
 */
#include <stddef.h>
#include <stdint.h>

#include "parsers/photo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct photo_info info;
	enum photo_result r;

	r = photo_check(data, size, 1024 * 1024, &info);
	/* dimensions are only judged on a whole file */
	if (r == PHOTO_OK && (info.width < 480 && info.height < 480))
		__builtin_trap();
	if (r == PHOTO_OK && info.kind == PHOTO_NONE)
		__builtin_trap();
	return 0;
}
