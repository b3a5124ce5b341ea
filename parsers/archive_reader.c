/*
 * archive_reader: zip, tar, tar.gz and tar.xz into memory, over libarchive.
 *
 * Every byte read here is hostile: archives come from anyone who can upload
 * to a provider folder or mail the intake address.  This file never writes
 * to the filesystem and never uses a member name as a path; it never
 * allocates more than entry_max_bytes for a member whatever a header
 * declares, and it stops decompressing as soon as any bound of struct
 * input_limits is crossed, so a compression bomb costs a few milliseconds.
 * Links, devices, FIFOs, unsafe or undecodable names, nested archives and
 * duplicate names refuse the whole archive.
 *
 * libarchive decodes; archive_zip.c reads the zip central directory
 * itself as well, because member names need their raw bytes, flags and
 * the Info-ZIP Unicode Path field, which libarchive would rewrite after
 * the locale; archive_name.c decodes and checks those names.  This file
 * also checks what libarchive lets pass: a tar without its end-of-archive
 * blocks, a gzip or xz stream cut after the tar's end, a gzip CRC.
 */
#include <sys/types.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "parsers/archive_int.h"
#include "parsers/archive_reader.h"
#include "parsers/stream_decode.h"

/* Below this many unpacked bytes no ratio is judged: tiny XML compresses
 * far better than 100:1 and is no threat. */
#define AR_RATIO_FLOOR	(1ULL << 20)
/* First allocation for a member of unknown or large declared size. */
#define AR_FIRST_CAP	(256U * 1024)
#define TAR_BLOCK	512

void
ar_refuse(struct ar_ctx *c, enum err_code code, const char *path,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errlist_vadd(c->errs, code, path, fmt, ap);
	va_end(ap);
	c->refused = 1;
}

/* ---- limits and member data ----------------------------------------- */

static int
over_ratio(uint64_t unpacked, uint64_t packed, uint64_t ratio)
{
	if (ratio == 0 || unpacked <= AR_RATIO_FLOOR)
		return 0;
	if (packed > UINT64_MAX / ratio)
		return 0;
	return unpacked > packed * ratio;
}

/*
 * Judge a member of size bytes (declared by its header, or read so far):
 * per-member ratio where the format gives the packed size, total and
 * overall ratio, member size.  A plain tar declares sizes that no
 * decompression stands behind: only the member bound applies to them.
 */
static int
entry_bounds(struct ar_ctx *c, const char *path, uint64_t size,
    const uint64_t *packed, int declared)
{
	const struct input_limits *lim = c->lim;
	uint64_t total = c->unpacked > UINT64_MAX - size ? UINT64_MAX :
	    c->unpacked + size;

	if (!declared || !c->plain) {
		if (packed != NULL &&
		    over_ratio(size, *packed, lim->archive_max_ratio)) {
			ar_refuse(c, ERR_ARCHIVE_BOMB, path, "成员压缩比超过 "
			    "%llu / member compression ratio over %llu",
			    (unsigned long long)lim->archive_max_ratio,
			    (unsigned long long)lim->archive_max_ratio);
			return -1;
		}
		if (total > lim->archive_max_unpacked) {
			ar_refuse(c, ERR_ARCHIVE_BOMB, "/", "解压后超过 %llu 字节"
			    " / unpacked size over %llu bytes",
			    (unsigned long long)lim->archive_max_unpacked,
			    (unsigned long long)lim->archive_max_unpacked);
			return -1;
		}
		if (over_ratio(total, c->len, lim->archive_max_ratio)) {
			ar_refuse(c, ERR_ARCHIVE_BOMB, "/", "压缩比超过 %llu / "
			    "compression ratio over %llu",
			    (unsigned long long)lim->archive_max_ratio,
			    (unsigned long long)lim->archive_max_ratio);
			return -1;
		}
	}
	if (size > lim->entry_max_bytes) {
		ar_refuse(c, ERR_ARCHIVE_TOO_LARGE, path, "成员超过 %llu 字节 / "
		    "member over %llu bytes",
		    (unsigned long long)lim->entry_max_bytes,
		    (unsigned long long)lim->entry_max_bytes);
		return -1;
	}
	return 0;
}

static int
err_truncated(const char *s)
{
	return s == NULL || strstr(s, "runcated") != NULL ||
	    strstr(s, "No progress") != NULL ||
	    strstr(s, "remature end") != NULL;
}

/* The compressed layer of a tar failed: say how. */
static void
ar_stream_refuse(struct ar_ctx *c)
{
	const char *why = sd_why(c->sd);

	switch (sd_status(c->sd)) {
	case SD_TRUNCATED:
		ar_refuse(c, ERR_ARCHIVE_TRUNCATED, "/", "压缩流不完整 / "
		    "compressed stream ends early (%s)", why);
		break;
	case SD_OVER:
		ar_refuse(c, ERR_ARCHIVE_BOMB, "/", "解压后超过限制 / "
		    "decompresses to more than the limits allow");
		break;
	case SD_CORRUPT:
	case SD_OK:
		ar_refuse(c, ERR_ARCHIVE_CORRUPT, "/", "压缩流损坏 / "
		    "compressed stream damaged (%s)", why);
		break;
	}
}

/* Map a libarchive failure: the compressed layer's own, data that ends
 * early, or any other damage. */
static void
ar_damage(struct ar_ctx *c, struct archive *a, const char *path)
{
	const char *s = archive_error_string(a);

	if (c->sd != NULL && sd_status(c->sd) != SD_OK) {
		ar_stream_refuse(c);
		return;
	}

	if (err_truncated(s))
		ar_refuse(c, ERR_ARCHIVE_TRUNCATED, "/", "归档不完整 / archive "
		    "ends early (%s)", s != NULL ? s : "end of stream");
	else
		ar_refuse(c, ERR_ARCHIVE_CORRUPT, path, "归档损坏 / archive "
		    "damaged (%s)", s);
}

/*
 * Read the current member into memory, NUL-terminated, growing the buffer
 * as data arrives (never to more than entry_max_bytes + 1, whatever was
 * declared) and judging every bound after each block.
 */
static int
entry_read(struct ar_ctx *c, struct archive *a, const char *path,
    const uint64_t *packed, const uint64_t *declared, unsigned char **datap,
    size_t *sizep)
{
	unsigned char *d = NULL;
	size_t cap = 0, pos = 0;

	for (;;) {
		const void *blk;
		size_t bsz;
		la_int64_t off;
		uint64_t end;
		int r;

		r = archive_read_data_block(a, &blk, &bsz, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			ar_damage(c, a, path);
			goto fail;
		}
		if (off < 0 || (uint64_t)off < pos ||
		    bsz > UINT64_MAX - (uint64_t)off) {
			ar_refuse(c, ERR_ARCHIVE_CORRUPT, path,
			    "成员数据错乱 / member data out of order");
			goto fail;
		}
		end = (uint64_t)off + bsz;
		if (end == pos)
			continue;
		if (entry_bounds(c, path, end, packed, 0) == -1)
			goto fail;
		if (end >= SIZE_MAX) {
			ar_refuse(c, ERR_ARCHIVE_TOO_LARGE, path, NULL);
			goto fail;
		}
		if (end >= cap) {
			size_t ncap = cap ? cap : AR_FIRST_CAP;

			if (cap != 0)
				ncap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
			/* Snap to the declared size once it is in reach. */
			if (declared != NULL && *declared < ncap &&
			    *declared >= end)
				ncap = (size_t)*declared + 1;
			if (ncap <= end)
				ncap = (size_t)end + 1;
			d = xreallocarray(d, ncap, 1);
			cap = ncap;
		}
		if ((uint64_t)off > pos)
			memset(d + pos, 0, (size_t)off - pos);
		if (bsz > 0)
			memcpy(d + off, blk, bsz);
		pos = (size_t)end;
	}
	if (d == NULL)
		d = xmalloc(1);
	d[pos] = '\0';
	*datap = d;
	*sizep = pos;
	return 0;
fail:
	free(d);
	return -1;
}

/* ---- the walk ------------------------------------------------------- */

/* One member.  Returns -1 when the walk must stop (damage or a limit);
 * name, type and nesting refusals let it go on to report everything. */
static int
ar_member(struct ar_ctx *c, struct archive *a, struct archive_entry *e,
    const unsigned char *raw, size_t rawlen, const struct zip_cd *cd)
{
	char *display = NULL, *dec;
	const char *name = NULL, *rpath;
	unsigned char *data = NULL;
	size_t size = 0;
	uint64_t decl = 0;
	const uint64_t *declared = NULL, *packed = NULL;
	mode_t type = archive_entry_filetype(e);
	int is_dir = 0, empty = 0, rc = 0;

	if (cd != NULL && cd->unix_type != 0 && cd->unix_type != AE_IFREG &&
	    cd->unix_type != AE_IFDIR)
		type = (mode_t)cd->unix_type;

	dec = ar_name_decode(c, raw, rawlen, cd, &display);
	if (dec == NULL)
		ar_refuse(c, ERR_ARCHIVE_UNSAFE_PATH, display, "成员名既非 "
		    "UTF-8 亦非 GB18030 / member name is neither UTF-8 nor "
		    "GB18030");
	else
		name = ar_name_normalise(c, dec, &is_dir, &empty);
	rpath = name != NULL && !empty ? name : dec != NULL ? dec : display;

	if (archive_entry_hardlink(e) != NULL ||
	    archive_entry_symlink(e) != NULL || type == AE_IFLNK) {
		ar_refuse(c, ERR_ARCHIVE_LINK, rpath, "链接成员 / link member");
		goto out;
	}
	if (type == AE_IFDIR)
		is_dir = 1;
	else if (type != AE_IFREG) {
		ar_refuse(c, ERR_ARCHIVE_SPECIAL_FILE, rpath, "设备、FIFO 或套接字"
		    " / device, FIFO or socket member");
		goto out;
	}
	if (is_dir) {
		if (name != NULL && !empty)
			ar_names_add(c, name, 0);
		goto out;
	}
	if (name != NULL && empty) {
		ar_refuse(c, ERR_ARCHIVE_UNSAFE_PATH, rpath, "成员名为空 / "
		    "empty member name");
		name = NULL;
	}

	if (cd != NULL) {
		if (archive_entry_size_is_set(e) &&
		    (uint64_t)archive_entry_size(e) != cd->usize) {
			ar_refuse(c, ERR_ARCHIVE_CORRUPT, rpath, "本地文件头与中央"
			    "目录不符 / local header disagrees with the "
			    "central directory");
			rc = -1;
			goto out;
		}
		decl = cd->usize;
		declared = &decl;
		packed = &cd->csize;
	} else if (archive_entry_size_is_set(e) && archive_entry_size(e) >= 0) {
		decl = (uint64_t)archive_entry_size(e);
		declared = &decl;
	}
	if (declared != NULL &&
	    entry_bounds(c, rpath, decl, packed, 1) == -1) {
		rc = -1;
		goto out;
	}
	if (entry_read(c, a, rpath, packed, declared, &data, &size) == -1) {
		rc = -1;
		goto out;
	}
	c->unpacked += size;
	if (ar_sniff(data, size))
		ar_refuse(c, ERR_ARCHIVE_NESTED, rpath, "成员本身是归档或压缩流"
		    " / member is itself an archive or compressed stream");
	if (name == NULL)
		goto out;
	ar_names_add(c, name, 1);
	if (c->refused)
		goto out;	/* nothing will be returned: keep no data */
	xgrow(&c->ents, &c->cap, c->n, sizeof(*c->ents));
	c->ents[c->n].name = xstrdup(name);
	c->ents[c->n].data = data;
	c->ents[c->n].size = size;
	c->ents[c->n].hashed = 0;
	c->n++;
	data = NULL;	/* transferred */
out:
	free(data);
	free(dec);
	free(display);
	return rc;
}

static void
ar_walk(struct ar_ctx *c, struct archive *a, const struct zip_cd *cds,
    size_t ncd)
{
	struct archive_entry *e;
	size_t k = 0;

	for (;;) {
		const unsigned char *raw;
		size_t rawlen;
		int r;

		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r == ARCHIVE_WARN) {
			/* Charset warnings are moot (names are decoded
			 * here); a zip header disagreeing is damage. */
			const char *s = archive_error_string(a);

			if (s != NULL && strstr(s, "Inconsistent") != NULL) {
				ar_refuse(c, ERR_ARCHIVE_CORRUPT, "/", "本地文件头"
				    "与中央目录不符 / local header disagrees "
				    "with the central directory (%s)", s);
				return;
			}
		} else if (r != ARCHIVE_OK) {
			ar_damage(c, a, "/");
			return;
		}
		if (++c->headers > c->lim->archive_max_entries) {
			ar_refuse(c, ERR_ARCHIVE_TOO_MANY_ENTRIES, "/", "成员超过 "
			    "%llu 个 / more than %llu members",
			    (unsigned long long)c->lim->archive_max_entries,
			    (unsigned long long)c->lim->archive_max_entries);
			return;
		}
		if (cds != NULL) {
			if (k >= ncd) {
				ar_refuse(c, ERR_ARCHIVE_CORRUPT, "/", "成员多于"
				    "中央目录 / more members than the central "
				    "directory lists");
				return;
			}
			raw = cds[k].name;
			rawlen = cds[k].namelen;
		} else {
			const char *s = archive_entry_pathname(e);

			if (s == NULL)
				s = archive_entry_pathname_utf8(e);
			if (s == NULL)
				s = "";
			raw = (const unsigned char *)s;
			rawlen = strlen(s);
		}
		if (ar_member(c, a, e, raw, rawlen, cds ? &cds[k++] : NULL) == -1)
			return;
	}
	if (cds != NULL && k != ncd) {
		ar_refuse(c, ERR_ARCHIVE_CORRUPT, "/", "中央目录成员未读到 / "
		    "central directory lists members not found");
		return;
	}
	if (cds == NULL) {
		/* libarchive takes a tar that just stops at a header
		 * boundary as complete; FORMAT.md does not. */
		la_int64_t last = archive_read_header_position(a);
		la_int64_t pos = archive_filter_bytes(a, 0);

		if (last < 0 || pos < last || pos - last < 2 * TAR_BLOCK) {
			ar_refuse(c, ERR_ARCHIVE_TRUNCATED, "/", "tar 缺少结束块 / "
			    "tar lacks its two end-of-archive blocks");
			return;
		}
		c->tar_end = (uint64_t)pos;
	}
}

/* ---- the compressed stream as a whole -------------------------------- */

enum scan_status { SCAN_OK, SCAN_TRUNCATED, SCAN_CORRUPT, SCAN_OVER,
    SCAN_NOT };

struct ar_scan {
	enum scan_status status;
	char why[160];				/* libarchive's words, if any */
	uint64_t total;				/* decompressed bytes */
	unsigned char head[TAR_BLOCK];
	size_t headn;
	unsigned char tail[2 * TAR_BLOCK];	/* the last bytes */
	size_t tailn;
};

/* The most a gzip or xz stream may decompress to before the answer is a
 * refusal anyway: the unpacked and ratio limits, and room for the tar's
 * headers and padding. */
static uint64_t
ar_stream_cap(const struct input_limits *lim, size_t len)
{
	uint64_t cap = lim->archive_max_unpacked;

	if (lim->archive_max_ratio != 0 &&
	    len <= UINT64_MAX / lim->archive_max_ratio &&
	    len * lim->archive_max_ratio < cap)
		cap = len * lim->archive_max_ratio;
	if (cap < AR_RATIO_FLOOR)
		cap = AR_RATIO_FLOOR;
	return cap > UINT64_MAX - (4ULL << 20) ? UINT64_MAX : cap + (4ULL << 20);
}

/*
 * Decompress a whole gzip or xz stream, keeping only its first and last
 * bytes, to see that it ends as its framing says.  Stops past cap
 * decompressed bytes.
 */
static void
ar_scan_stream(const unsigned char *buf, size_t len, uint64_t cap,
    struct ar_scan *sc)
{
	struct stream_decoder *d = sd_new(buf, len, cap);
	const unsigned char *p;
	size_t n;
	int r;

	memset(sc, 0, sizeof(*sc));
	if (d == NULL) {
		sc->status = SCAN_NOT;
		return;
	}
	while ((r = sd_next(d, &p, &n)) == 1) {
		if (sc->headn < TAR_BLOCK) {
			size_t k = TAR_BLOCK - sc->headn < n ?
			    TAR_BLOCK - sc->headn : n;

			memcpy(sc->head + sc->headn, p, k);
			sc->headn += k;
		}
		if (n >= sizeof(sc->tail)) {
			memcpy(sc->tail, p + n - sizeof(sc->tail),
			    sizeof(sc->tail));
			sc->tailn = sizeof(sc->tail);
		} else if (n > 0) {
			size_t keep = sc->tailn + n > sizeof(sc->tail) ?
			    sizeof(sc->tail) - n : sc->tailn;

			memmove(sc->tail, sc->tail + sc->tailn - keep, keep);
			memcpy(sc->tail + keep, p, n);
			sc->tailn = keep + n;
		}
	}
	sc->total = sd_total(d);
	if (r == -1) {
		snprintf(sc->why, sizeof(sc->why), "%s", sd_why(d));
		sc->status = sd_status(d) == SD_TRUNCATED ? SCAN_TRUNCATED :
		    sd_status(d) == SD_OVER ? SCAN_OVER : SCAN_CORRUPT;
	}
	sd_free(d);
}

/* A tar header block: its checksum (unsigned, or signed as some old tars
 * wrote it) matches. */
static int
tar_header_ok(const unsigned char *h)
{
	uint64_t want = 0;
	long long s = 0;
	unsigned long long u = 0;
	size_t i = 148;
	int digits = 0;

	while (i < 156 && (h[i] == ' ' || h[i] == '\0'))
		i++;
	for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++, digits++)
		want = want * 8 + (uint64_t)(h[i] - '0');
	if (digits == 0)
		return 0;
	for (i = 0; i < TAR_BLOCK; i++) {
		unsigned char b = i >= 148 && i < 156 ? ' ' : h[i];

		u += b;
		s += (signed char)b;
	}
	return want == u || (long long)want == s;
}

static int
all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* ---- the two readers ------------------------------------------------ */

static void
ar_read_zip(struct ar_ctx *c)
{
	struct zip_dir zd;
	struct zip_cd *cds;
	struct archive *a;
	const char *why = NULL;

	c->format = AR_ZIP;
	switch (zip_eocd_find(c->buf, c->len, &zd)) {
	case ZIP_NO_EOCD:
		ar_refuse(c, ERR_ARCHIVE_TRUNCATED, "/", "zip 缺少中央目录结束"
		    "记录 / zip lacks its end of central directory record");
		return;
	case ZIP_BAD:
		ar_refuse(c, ERR_ARCHIVE_CORRUPT, "/", "zip 中央目录结束记录"
		    "不一致 / inconsistent zip end of central directory");
		return;
	case ZIP_OK:
		break;
	}
	if (zd.count > c->lim->archive_max_entries) {
		ar_refuse(c, ERR_ARCHIVE_TOO_MANY_ENTRIES, "/", "成员超过 %llu "
		    "个 / more than %llu members",
		    (unsigned long long)c->lim->archive_max_entries,
		    (unsigned long long)c->lim->archive_max_entries);
		return;
	}
	if ((cds = zip_cd_parse(c->buf, &zd, &why)) == NULL) {
		ar_refuse(c, ERR_ARCHIVE_CORRUPT, "/", "%s", why);
		return;
	}
	if (zd.count == 0) {
		free(cds);
		return;
	}
	a = archive_read_new();
	archive_read_support_format_zip_seekable(a);
	if (archive_read_open_memory(a, c->buf, c->len) != ARCHIVE_OK)
		ar_damage(c, a, "/");
	else
		ar_walk(c, a, cds, (size_t)zd.count);
	archive_read_free(a);
	free(cds);
}

/* libarchive reads a compressed tar through the one decoder. */
static la_ssize_t
tar_stream_read(struct archive *a, void *arg, const void **buf)
{
	struct stream_decoder *d = arg;
	const unsigned char *p;
	size_t n;
	int r = sd_next(d, &p, &n);

	if (r == 1) {
		*buf = p;
		return (la_ssize_t)n;
	}
	if (r == 0)
		return 0;
	archive_set_error(a, EIO, "%s", sd_why(d));
	return ARCHIVE_FATAL;
}

/*
 * A tar, plain or in one gzip or xz layer.  The layer is decoded once:
 * the tar walk reads it as it is decoded, then the rest of the stream is
 * decoded to its end to check its framing and to count what follows the
 * tar's end blocks.  A layer inside the layer (a tar.gz.gz) is no format
 * of ours and the classic way to stack bombs: the walk finds no tar.
 */
static void
ar_read_tar(struct ar_ctx *c)
{
	struct archive *a;
	int gz = sd_gzip_magic(c->buf, c->len), xz = sd_xz_magic(c->buf, c->len);
	int r;

	a = archive_read_new();
	archive_read_support_format_tar(a);
	if (gz || xz) {
		c->format = gz ? AR_TAR_GZ : AR_TAR_XZ;
		c->sd = sd_new(c->buf, c->len, ar_stream_cap(c->lim, c->len));
		r = archive_read_open(a, c->sd, NULL, tar_stream_read, NULL);
	} else {
		c->format = AR_TAR;
		c->plain = 1;
		r = archive_read_open_memory(a, c->buf, c->len);
	}
	if (r != ARCHIVE_OK) {
		const char *s = archive_error_string(a);

		if (c->sd != NULL && sd_status(c->sd) != SD_OK)
			ar_stream_refuse(c);
		else if (s != NULL && strstr(s, "Unrecognized") != NULL)
			ar_refuse(c, ERR_ARCHIVE_FORMAT, "/", NULL);
		else
			ar_damage(c, a, "/");
		goto out;
	}
	ar_walk(c, a, NULL, 0);
	if (archive_format(a) != 0 &&
	    (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_TAR)
		ar_refuse(c, ERR_ARCHIVE_FORMAT, "/", NULL);
	if (!c->refused && c->sd != NULL) {
		const struct input_limits *lim = c->lim;
		uint64_t room = lim->archive_max_unpacked - c->unpacked;
		uint64_t ratio_room = AR_RATIO_FLOOR, end;
		const unsigned char *p;
		size_t n;

		/* Whatever follows the end blocks counts as unpacked too. */
		if (lim->archive_max_ratio != 0 &&
		    c->len <= UINT64_MAX / lim->archive_max_ratio &&
		    c->len * lim->archive_max_ratio > ratio_room)
			ratio_room = c->len * lim->archive_max_ratio;
		else if (lim->archive_max_ratio == 0)
			ratio_room = UINT64_MAX;
		ratio_room = ratio_room > c->unpacked ?
		    ratio_room - c->unpacked : 0;
		if (ratio_room < room)
			room = ratio_room;
		end = c->tar_end > UINT64_MAX - room ? UINT64_MAX :
		    c->tar_end + room;
		while ((r = sd_next(c->sd, &p, &n)) == 1)
			if (sd_total(c->sd) > end)
				break;
		if (r == 1)
			ar_refuse(c, ERR_ARCHIVE_BOMB, "/", "结束块后数据过多 / "
			    "too much data after the end of the tar");
		else if (r == -1)
			ar_stream_refuse(c);
	}
out:
	archive_read_free(a);
	sd_free(c->sd);
	c->sd = NULL;
}

/* ---- public --------------------------------------------------------- */

int
ar_read(const void *buf, size_t len, const struct input_limits *lim,
    struct ar_contents **out, struct errlist *errs)
{
	struct ar_ctx c;
	struct ar_contents *ac;

	memset(&c, 0, sizeof(c));
	c.buf = buf;
	c.len = len;
	c.lim = lim;
	c.errs = errs;
	c.gb = (iconv_t)-1;

	if (len > lim->archive_max_bytes) {
		ar_refuse(&c, ERR_ARCHIVE_TOO_LARGE, "/", "归档超过 %llu 字节 / "
		    "archive over %llu bytes",
		    (unsigned long long)lim->archive_max_bytes,
		    (unsigned long long)lim->archive_max_bytes);
		return -1;
	}
	if (len == 0) {
		ar_refuse(&c, ERR_ARCHIVE_FORMAT, "/", "空文件 / empty file");
		return -1;
	}
	if (zip_magic(c.buf, len))
		ar_read_zip(&c);
	else
		ar_read_tar(&c);
	if (!c.refused)
		ar_names_check(&c);

	if (c.gb != (iconv_t)-1)
		iconv_close(c.gb);
	for (size_t i = 0; i < c.nnames; i++)
		free(c.names[i].name);
	free(c.names);
	ac = xcalloc(1, sizeof(*ac));
	ac->format = c.format;
	ac->entries = c.ents;
	ac->n = c.n;
	ac->unpacked = c.unpacked;
	if (c.refused) {
		ar_contents_free(ac);
		return -1;
	}
	*out = ac;
	return 0;
}

void
ar_contents_free(struct ar_contents *ac)
{
	if (ac == NULL)
		return;
	for (size_t i = 0; i < ac->n; i++) {
		free(ac->entries[i].name);
		free(ac->entries[i].data);
	}
	free(ac->entries);
	free(ac);
}

enum ar_whole
ar_check_whole(const void *buf, size_t len, const struct input_limits *lim)
{
	const unsigned char *b = buf;
	struct zip_dir zd;

	if (len == 0)
		return AR_NOT_ARCHIVE;
	/* Too large to take whatever follows: claim it and let ar_read
	 * refuse it rather than wait for an end that changes nothing. */
	if (len > lim->archive_max_bytes)
		return AR_WHOLE;
	if (zip_magic(b, len))
		return zip_eocd_find(b, len, &zd) == ZIP_NO_EOCD ?
		    AR_INCOMPLETE : AR_WHOLE;
	if (sd_gzip_magic(b, len) || sd_xz_magic(b, len)) {
		struct ar_scan sc;

		/* Past what ar_read would take the answer is a refusal
		 * anyway: stop there. */
		ar_scan_stream(b, len, ar_stream_cap(lim, len), &sc);
		switch (sc.status) {
		case SCAN_TRUNCATED:
			return AR_INCOMPLETE;
		case SCAN_CORRUPT:
		case SCAN_OVER:
			return AR_WHOLE;	/* refused later */
		case SCAN_NOT:
			return AR_NOT_ARCHIVE;
		case SCAN_OK:
			break;
		}
		if (sc.headn < TAR_BLOCK || (!all_zero(sc.head, TAR_BLOCK) &&
		    !tar_header_ok(sc.head)))
			return AR_NOT_ARCHIVE;
		return sc.total % TAR_BLOCK == 0 && sc.tailn == 2 * TAR_BLOCK &&
		    all_zero(sc.tail, sc.tailn) ? AR_WHOLE : AR_INCOMPLETE;
	}
	if (len < TAR_BLOCK || (!all_zero(b, TAR_BLOCK) && !tar_header_ok(b)))
		return AR_NOT_ARCHIVE;
	return len % TAR_BLOCK == 0 && len >= 2 * TAR_BLOCK &&
	    all_zero(b + len - 2 * TAR_BLOCK, 2 * TAR_BLOCK) ?
	    AR_WHOLE : AR_INCOMPLETE;
}

int
ar_sniff(const void *buf, size_t len)
{
	const unsigned char *b = buf;

	if (len >= 4 && b[0] == 'P' && b[1] == 'K' &&
	    ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6) ||
	    (b[2] == 7 && b[3] == 8)))
		return 1;			/* zip */
	if (len >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8)
		return 1;			/* gzip */
	if (sd_xz_magic(b, len))
		return 1;
	if (len >= 4 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h' &&
	    b[3] >= '1' && b[3] <= '9')
		return 1;			/* bzip2 */
	if (len >= 4 && memcmp(b, "\x28\xb5\x2f\xfd", 4) == 0)
		return 1;			/* zstd */
	if (len >= 6 && memcmp(b, "7z\xbc\xaf\x27\x1c", 6) == 0)
		return 1;			/* 7z */
	if (len >= 6 && memcmp(b, "Rar!\x1a\x07", 6) == 0)
		return 1;			/* rar 1.5 - 5 */
	if (len >= 262 && memcmp(b + 257, "ustar", 5) == 0)
		return 1;			/* tar */
	return 0;
}

const unsigned char *
ar_entry_sha256(struct ar_entry *e)
{
	if (!e->hashed) {
		sha256(e->data, e->size, e->sha256);
		e->hashed = 1;
	}
	return e->sha256;
}
