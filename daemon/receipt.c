/*
 * receipt: build and write upload receipts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/receipt.h"
#include "lib/buf.h"
#include "lib/utf8.h"
#include "store/store.h"

/* XML text or attribute value; controls and bytes that are not UTF-8 (a
 * name in GBK, say) as the text \xhh: XML 1.0 cannot hold them. */
static void
sb_xml(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t left = strlen((const char *)p), k;
	uint32_t cp;
	char hx[8];

	for (; *p; p += k, left -= k) {
		k = *p < 0x80 ? 1 : utf8_seq(p, left, &cp);
		if (k == 0 || *p < 0x20 || *p == 0x7f) {
			k = 1;
			snprintf(hx, sizeof(hx), "\\x%02x", *p);
			buf_str(b, hx);
			continue;
		}
		switch (*p) {
		case '&':
			buf_str(b, "&amp;");
			break;
		case '<':
			buf_str(b, "&lt;");
			break;
		case '>':
			buf_str(b, "&gt;");
			break;
		case '"':
			buf_str(b, "&quot;");
			break;
		default:
			buf_add(b, (const char *)p, k);
		}
	}
}

static void
findings(struct buf *b, const struct errlist *el, const char *indent)
{
	for (size_t i = 0; el != NULL && i < errlist_count(el); i++) {
		const struct err_item *e = errlist_get(el, i);
		const char *tag = e->severity == SEV_WARNING ? "warning" : "error";

		buf_str(b, indent);
		buf_str(b, "<");
		buf_str(b, tag);
		buf_str(b, " path=\"");
		sb_xml(b, e->path);
		buf_str(b, "\" code=\"");
		buf_str(b, err_code_name(e->code));
		buf_str(b, "\">");
		sb_xml(b, e->message);
		buf_str(b, "</");
		buf_str(b, tag);
		buf_str(b, ">\n");
	}
}

char *
receipt_build(const char *upload, const char *sha256_hex, time_t received,
    const struct errlist *upload_errs, const struct receipt_item *items,
    size_t nitems)
{
	struct buf b = { 0 };
	char when[32];

	time_rfc3339_cst(received, when);
	buf_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<receipt xmlns=\"urn:beiand:receipt:1\" upload=\"");
	sb_xml(&b, upload);
	buf_str(&b, "\" sha256=\"");
	buf_str(&b, sha256_hex);
	buf_str(&b, "\" received=\"");
	buf_str(&b, when);
	buf_str(&b, "\">\n");
	if (upload_errs != NULL && errlist_nerrors(upload_errs) > 0) {
		findings(&b, upload_errs, "  ");
		nitems = 0;
	}
	for (size_t i = 0; i < nitems; i++) {
		const struct receipt_item *it = &items[i];
		int body = it->errs != NULL && errlist_count(it->errs) > 0;

		buf_str(&b, "  <item path=\"");
		sb_xml(&b, it->path);
		buf_str(&b, "\" kind=\"");
		buf_str(&b, item_kind_name(it->kind));
		buf_str(&b, "\"");
		if (it->id != NULL && it->id[0] != '\0') {
			buf_str(&b, " id=\"");
			sb_xml(&b, it->id);
			buf_str(&b, "\"");
		}
		if (it->state != NULL) {
			buf_str(&b, " state=\"");
			buf_str(&b, it->state);
			buf_str(&b, "\"");
		}
		buf_str(&b, body ? ">\n" : "/>\n");
		if (body) {
			findings(&b, it->errs, "    ");
			buf_str(&b, "  </item>\n");
		}
	}
	buf_str(&b, "</receipt>\n");
	return buf_take(&b, NULL);
}

/* Temporary names stay short whatever the final name's length, and
 * differ between the daemon's threads. */
static unsigned long file_write_seq;

int
file_write_atomic(const char *dir, const char *name, const void *data,
    size_t len, int mode)
{
	return file_write_atomic_flags(dir, name, data, len, mode, 0);
}

int
file_write_atomic_flags(const char *dir, const char *name, const void *data,
    size_t len, int mode, int flags)
{
	char tmp[4096], dst[4096];
	const char *p = data;
	int fd, dfd, saved;

	if ((size_t)snprintf(dst, sizeof(dst), "%s/%s", dir, name) >=
	    sizeof(dst) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.beiand.%d.%lu.tmp", dir,
	    (int)getpid(), __atomic_add_fetch(&file_write_seq, 1,
	    __ATOMIC_RELAXED)) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, mode)) == -1)
		return -1;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		p += n;
		len -= (size_t)n;
	}
	if ((!(flags & FW_NOSYNC) && fsync(fd) == -1) || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, dst) == -1)
		goto fail;
	if (flags & FW_NOSYNC)
		return 0;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

int
receipt_write(const char *dir, const char *upload, const char *xml)
{
	return receipt_write_flags(dir, upload, xml, 0);
}

int
receipt_write_flags(const char *dir, const char *upload, const char *xml,
    int flags)
{
	char name[1024];

	if ((size_t)snprintf(name, sizeof(name), "%s.receipt.xml", upload) >=
	    sizeof(name)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return file_write_atomic_flags(dir, name, xml, strlen(xml), 0640, flags);
}
