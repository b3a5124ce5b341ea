/*
 * archive_zip: the zip end of central directory record (zip64 too) and
 * the central directory, read from the raw bytes beside libarchive.
 *
 * The bytes are hostile.  Every offset and length read from them is
 * checked against the input before it is followed: the directory must end
 * right where its EOCD record starts, each record lie inside it, each
 * member's local header and data before it.  A multi-disk or encrypted
 * zip, a zip64 field that does not say what the record needs, or two
 * records sharing one member is damage.  Nothing is decompressed here,
 * and nothing is allocated but one record per member the EOCD declares
 * (a count the caller has bounded).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <archive_entry.h>

#include "lib/xmalloc.h"
#include "parsers/archive_int.h"

/* ---- zip central directory ------------------------------------------ */

int
zip_magic(const unsigned char *b, size_t len)
{
	return len >= 4 && b[0] == 'P' && b[1] == 'K' &&
	    ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6));
}

/* Find the end of central directory record and check that it is
 * consistent: one disk, the directory right before it. */
enum zip_status
zip_eocd_find(const unsigned char *b, size_t len, struct zip_dir *zd)
{
	size_t p, stop;
	uint64_t size;

	if (len < ZIP_EOCD_LEN)
		return ZIP_NO_EOCD;
	stop = len > ZIP_EOCD_SCAN ? len - ZIP_EOCD_SCAN : 0;
	for (p = len - ZIP_EOCD_LEN;; p--) {
		if (b[p] == 'P' && b[p + 1] == 'K' && b[p + 2] == 5 &&
		    b[p + 3] == 6 && p + ZIP_EOCD_LEN + le16(b + p + 20) == len)
			break;
		if (p == stop)
			return ZIP_NO_EOCD;
	}
	if (le16(b + p + 4) != 0 || le16(b + p + 6) != 0 ||
	    le16(b + p + 8) != le16(b + p + 10))
		return ZIP_BAD;
	zd->count = le16(b + p + 10);
	size = le32(b + p + 12);
	zd->cd_off = le32(b + p + 16);
	zd->cd_end = p;
	if (zd->count == 0xffff || size == 0xffffffff ||
	    zd->cd_off == 0xffffffff) {
		uint64_t z;

		if (p < 20 || memcmp(b + p - 20, "PK\6\7", 4) != 0)
			return ZIP_BAD;
		z = le64(b + p - 20 + 8);
		if (z > p - 20 || p - 20 - z < 56 ||
		    memcmp(b + z, "PK\6\6", 4) != 0 || le32(b + z + 16) != 0 ||
		    le32(b + z + 20) != 0 || le64(b + z + 24) != le64(b + z + 32))
			return ZIP_BAD;
		zd->count = le64(b + z + 32);
		size = le64(b + z + 40);
		zd->cd_off = le64(b + z + 48);
		zd->cd_end = z;
	}
	if (zd->cd_off > zd->cd_end || size != zd->cd_end - zd->cd_off)
		return ZIP_BAD;
	return ZIP_OK;
}

/* Sizes and offset from the zip64 extra field where the record says so. */
static int
zip_cd_zip64(struct zip_cd *cd)
{
	const unsigned char *x = cd->extra;
	size_t left = cd->extralen;

	while (left >= 4) {
		uint16_t id = le16(x), sz = le16(x + 2);
		const unsigned char *f = x + 4;
		size_t need = 0;

		if (sz > left - 4)
			return -1;
		if (id == 0x0001) {
			need = 8 * ((cd->usize == 0xffffffff) +
			    (cd->csize == 0xffffffff) +
			    (cd->offset == 0xffffffff));
			if (sz < need)
				return -1;
			if (cd->usize == 0xffffffff) {
				cd->usize = le64(f);
				f += 8;
			}
			if (cd->csize == 0xffffffff) {
				cd->csize = le64(f);
				f += 8;
			}
			if (cd->offset == 0xffffffff)
				cd->offset = le64(f);
			return 0;
		}
		x += 4 + (size_t)sz;
		left -= 4 + (size_t)sz;
	}
	return -1;
}

static int
zip_cd_cmp(const void *x, const void *y)
{
	const struct zip_cd *a = x, *b = y;

	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

/*
 * Every central directory record, sorted by local header offset (the
 * order libarchive's seekable reader returns them in).  Each member's
 * local header and data must lie before the directory.  Returns NULL with
 * *why set when the directory is damaged.
 */
struct zip_cd *
zip_cd_parse(const unsigned char *b, const struct zip_dir *zd,
    const char **why)
{
	struct zip_cd *cds;
	uint64_t p = zd->cd_off;

	cds = xcalloc(zd->count ? (size_t)zd->count : 1, sizeof(*cds));
	for (size_t i = 0; i < zd->count; i++) {
		struct zip_cd *cd = &cds[i];
		const unsigned char *h = b + p;
		uint64_t nl, el, cl, lh, data;

		if (zd->cd_end - p < ZIP_CDH_LEN ||
		    memcmp(h, "PK\1\2", 4) != 0) {
			*why = "中央目录记录损坏 / bad central directory record";
			goto bad;
		}
		nl = le16(h + 28);
		el = le16(h + 30);
		cl = le16(h + 32);
		if (zd->cd_end - p - ZIP_CDH_LEN < nl + el + cl) {
			*why = "中央目录越界 / central directory overruns";
			goto bad;
		}
		cd->flags = le16(h + 8);
		/* libarchive reads a FIFO or device mode as a regular file:
		 * keep the type the Unix attributes declare. */
		if (h[5] == 3)
			cd->unix_type = (le32(h + 38) >> 16) & AE_IFMT;
		cd->csize = le32(h + 20);
		cd->usize = le32(h + 24);
		cd->offset = le32(h + 42);
		cd->name = h + ZIP_CDH_LEN;
		cd->namelen = (size_t)nl;
		cd->extra = cd->name + nl;
		cd->extralen = (size_t)el;
		cd->index = i;
		if ((cd->usize == 0xffffffff || cd->csize == 0xffffffff ||
		    cd->offset == 0xffffffff) && zip_cd_zip64(cd) == -1) {
			*why = "zip64 字段损坏 / bad zip64 extra field";
			goto bad;
		}
		if (le16(h + 34) != 0) {
			*why = "多卷 zip / multi-disk zip";
			goto bad;
		}
		if (cd->flags & 0x0041) {
			*why = "加密成员 / encrypted member";
			goto bad;
		}
		lh = cd->offset;
		if (lh > zd->cd_off || zd->cd_off - lh < ZIP_LFH_LEN ||
		    memcmp(b + lh, "PK\3\4", 4) != 0) {
			*why = "本地文件头缺失 / local header missing";
			goto bad;
		}
		data = lh + ZIP_LFH_LEN + le16(b + lh + 26) + le16(b + lh + 28);
		if (data > zd->cd_off || cd->csize > zd->cd_off - data) {
			*why = "成员数据越界 / member data outside the archive";
			goto bad;
		}
		p += ZIP_CDH_LEN + nl + el + cl;
	}
	if (p != zd->cd_end) {
		*why = "中央目录长度不符 / central directory size mismatch";
		goto bad;
	}
	qsort(cds, (size_t)zd->count, sizeof(*cds), zip_cd_cmp);
	for (size_t i = 1; i < zd->count; i++) {
		if (cds[i].offset == cds[i - 1].offset) {
			*why = "两条目录记录指向同一成员 / two directory "
			    "records share one member";
			goto bad;
		}
	}
	return cds;
bad:
	free(cds);
	return NULL;
}
