/*
 * fuzz_xml: every document parser of filing.h on hostile bytes.
 *
 * The first byte picks the parser (mod 6), the rest is the document.
 * A filing that parses is also re-serialised and parsed again, so the
 * writer meets whatever the reader lets through.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "parsers/filing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct input_limits lim;
	static int ready;
	struct errlist *errs;
	struct filing *f = NULL, *g = NULL;
	struct verification *v = NULL;
	struct decision *d = NULL;
	struct manifest *m = NULL;
	struct withdrawal *w = NULL;
	struct handback *h = NULL;
	char *x;
	size_t xl;

	if (!ready) {
		xmldoc_init();
		input_limits_defaults(&lim);
		ready = 1;
	}
	if (size < 1)
		return 0;
	errs = errlist_new();
	switch (data[0] % 6) {
	case 0:
		if (filing_parse(data + 1, size - 1, &lim, &f, errs) == 0) {
			x = filing_to_xml(f, &xl);
			if (filing_parse(x, xl, &lim, &g, errs) != 0)
				abort(); /* our own output must be readable */
			filing_free(g);
			free(x);
		}
		filing_free(f);
		break;
	case 1:
		verification_parse(data + 1, size - 1, &lim, &v, errs);
		verification_free(v);
		break;
	case 2:
		decision_parse(data + 1, size - 1, &lim, &d, errs);
		decision_free(d);
		break;
	case 3:
		manifest_parse(data + 1, size - 1, &lim, &m, errs);
		manifest_free(m);
		break;
	case 4:
		withdrawal_parse(data + 1, size - 1, &lim, &w, errs);
		withdrawal_free(w);
		break;
	default:
		handback_parse(data + 1, size - 1, &lim, &h, errs);
		handback_free(h);
		break;
	}
	errlist_free(errs);
	return 0;
}
