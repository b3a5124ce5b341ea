/*
 * fuzz_archive: ar_read and ar_check_whole on arbitrary bytes, with the
 * default limits.  Seed it with the archives of tests/fx_archive.py.
 */
#include <stddef.h>
#include <stdint.h>

#include "parsers/archive_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input_limits lim;
	struct errlist *el = errlist_new();
	struct ar_contents *ac = NULL;

	input_limits_defaults(&lim);
	(void)ar_check_whole(data, size, &lim);
	(void)ar_sniff(data, size);
	if (ar_read(data, size, &lim, &ac, el) == 0) {
		/* Touch what came out: names and NUL-terminated data. */
		for (size_t i = 0; i < ac->n; i++)
			if (ac->entries[i].name[0] == '\0' ||
			    ac->entries[i].data[ac->entries[i].size] != '\0')
				__builtin_trap();
		ar_contents_free(ac);
	} else if (errlist_count(el) == 0)
		__builtin_trap();	/* a refusal always says why */
	errlist_free(el);
	return 0;
}
