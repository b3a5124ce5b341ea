/*
 * fuzz_mime: mime_parse on arbitrary bytes with the default limits, then
 * everything a caller does with the result.  Seed it with the mails of
 * tests/fx_mail.py.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input_limits lim;
	struct errlist *el = errlist_new();
	struct mime_mail *m = NULL;
	struct mime_package pkg;
	char *reason = NULL;

	input_limits_defaults(&lim);
	if (mime_parse(data, size, &lim, &m, el) == 0) {
		if (m->text == NULL)
			__builtin_trap();
		(void)mime_is_automated(m, "intake@p001.example");
		if (mime_first_command(m, &reason) == MIME_CMD_REJECT &&
		    reason == NULL)
			__builtin_trap();
		free(reason);
		for (size_t i = 0; i < m->nattachments; i++) {
			const struct mime_attachment *a = &m->attachments[i];

			/* never a path, never empty */
			if (a->filename[0] == '\0' ||
			    strchr(a->filename, '/') != NULL ||
			    strcmp(a->filename, "..") == 0 ||
			    a->data[a->len] != '\0')
				__builtin_trap();
		}
		if (mime_package_get(m, &pkg, el) == 0)
			mime_package_clear(&pkg);
		mime_mail_free(m);
	} else if (errlist_count(el) == 0)
		__builtin_trap();	/* a refusal always says why */
	errlist_free(el);
	return 0;
}
