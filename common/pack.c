/*
 * pack: see include/common/pack.h.
 */
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/pack.h"
#include "lib/buf.h"

static la_ssize_t
pack_write_cb(struct archive *a, void *arg, const void *buf, size_t n)
{
	buf_add(arg, buf, n);
	return (la_ssize_t)n;
}

int
pack_zip(const struct pkg_file *files, size_t nfiles, unsigned char **out,
    size_t *len)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	struct buf m = { 0 };
	int rc = -1;

	if (a == NULL || e == NULL || archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, &m, NULL, pack_write_cb, NULL) != ARCHIVE_OK)
		goto out;
	for (size_t i = 0; i < nfiles; i++) {
		archive_entry_clear(e);
		archive_entry_set_pathname_utf8(e, files[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)files[i].size);
		if (archive_write_header(a, e) != ARCHIVE_OK ||
		    archive_write_data(a, files[i].data, files[i].size) !=
		    (la_ssize_t)files[i].size)
			goto out;
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		goto out;
	*out = (unsigned char *)buf_take(&m, len);
	rc = 0;
out:
	archive_entry_free(e);
	if (a != NULL)
		archive_write_free(a);
	buf_free(&m);
	return rc;
}
