/*
 * test_archive_reader: ar_read, ar_check_whole and ar_sniff.
 *
 * Fixtures come from tests/fx_archive.py (a missing one fails); the finer
 * cases are archives built here: zips byte by byte (raw names, flags,
 * extra fields), tars and compressed tars with libarchive's writer.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsers/archive_reader.h"
#include "unit.h"

/* ---- helpers -------------------------------------------------------- */

static unsigned char *
fixture(const char *name, size_t *len)
{
	char path[1024];
	unsigned char *b;

	snprintf(path, sizeof(path), "%s/archive/%s", unit_fixtures(), name);
	b = unit_read_file(path, len);
	if (b == NULL)
		unit_fail(__FILE__, __LINE__, "fixture %s missing (run "
		    "tests/mkfixtures.py)", path);
	return b;
}

static const struct ar_entry *
find(const struct ar_contents *ac, const char *name)
{
	for (size_t i = 0; i < ac->n; i++)
		if (strcmp(ac->entries[i].name, name) == 0)
			return &ac->entries[i];
	return NULL;
}

/* 1 when errs holds code at path (path NULL: any). */
static int
has(const struct errlist *el, enum err_code code, const char *path)
{
	for (size_t i = 0; i < errlist_count(el); i++) {
		const struct err_item *it = errlist_get(el, i);

		if (it->code == code &&
		    (path == NULL || strcmp(it->path, path) == 0))
			return 1;
	}
	return 0;
}

/* ar_read with lim (NULL: defaults); returns its result, *ac on success. */
static int
run(const void *buf, size_t len, const struct input_limits *lim,
    struct ar_contents **ac, struct errlist *el)
{
	struct input_limits def;

	if (lim == NULL) {
		input_limits_defaults(&def);
		lim = &def;
	}
	return ar_read(buf, len, lim, ac, el);
}

/* Expect a refusal with code at path (NULL: any path); out untouched. */
static void
expect_refusal(const char *what, const void *buf, size_t len,
    const struct input_limits *lim, enum err_code code, const char *path)
{
	struct errlist *el = errlist_new();
	struct ar_contents *sentinel = (struct ar_contents *)(uintptr_t)1;
	struct ar_contents *ac = sentinel;
	int r = run(buf, len, lim, &ac, el);

	CHECKM(r == -1, "%s: ar_read returned %d", what, r);
	CHECKM(ac == sentinel, "%s: out set on refusal", what);
	CHECKM(has(el, code, path), "%s: want %s at %s, got %zu findings, "
	    "first %s at %s", what, err_code_name(code), path ? path : "*",
	    errlist_count(el), errlist_count(el) ?
	    err_code_name(errlist_get(el, 0)->code) : "-",
	    errlist_count(el) ? errlist_get(el, 0)->path : "-");
	if (r == 0)
		ar_contents_free(ac);
	errlist_free(el);
}

static struct ar_contents *
expect_ok(const char *what, const void *buf, size_t len,
    const struct input_limits *lim)
{
	struct errlist *el = errlist_new();
	struct ar_contents *ac = NULL;
	int r = run(buf, len, lim, &ac, el);

	CHECKM(r == 0, "%s: refused: %s at %s", what, errlist_count(el) ?
	    err_code_name(errlist_get(el, 0)->code) : "-",
	    errlist_count(el) ? errlist_get(el, 0)->path : "-");
	CHECKM(errlist_count(el) == 0, "%s: findings on success", what);
	errlist_free(el);
	return r == 0 ? ac : NULL;
}

/* ---- zips byte by byte ---------------------------------------------- */

struct zmember {
	const char *name;	/* raw bytes */
	size_t namelen;		/* 0: strlen(name) */
	const char *data;
	unsigned flags;
	const unsigned char *extra;
	size_t extralen;
	unsigned unix_mode;	/* 0: regular 0644 */
};

static uint32_t
crc32_bitwise(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while (n-- > 0) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320U & (0U - (crc & 1)));
	}
	return ~crc;
}

static void
put16(unsigned char **p, unsigned v)
{
	(*p)[0] = (unsigned char)v;
	(*p)[1] = (unsigned char)(v >> 8);
	*p += 2;
}

static void
put32(unsigned char **p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p, v >> 16);
}

static void
putn(unsigned char **p, const void *s, size_t n)
{
	memcpy(*p, s, n);
	*p += n;
}

/* A stored zip of members; caller frees. */
static unsigned char *
zip_make(const struct zmember *m, size_t n, size_t *len)
{
	size_t cap = 64;
	unsigned char *buf, *p, *cd, *q;
	uint32_t *offs;

	for (size_t i = 0; i < n; i++)
		cap += 2 * (46 + strlen(m[i].data) + (m[i].namelen ?
		    m[i].namelen : strlen(m[i].name)) + m[i].extralen);
	buf = calloc(1, cap);
	cd = calloc(1, cap);
	offs = calloc(n + 1, sizeof(*offs));
	p = buf;
	q = cd;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			size_t nl = m[i].namelen ? m[i].namelen :
			    strlen(m[i].name);
			size_t dl = strlen(m[i].data);
			uint32_t crc = crc32_bitwise(0,
			    (const unsigned char *)m[i].data, dl);
			unsigned char **w = pass == 0 ? &p : &q;

			if (pass == 0) {
				offs[i] = (uint32_t)(p - buf);
				put32(w, 0x04034b50);
			} else {
				put32(w, 0x02014b50);
				put16(w, 0x0314);
			}
			put16(w, 20);
			put16(w, m[i].flags);
			put16(w, 0);		/* stored */
			put16(w, 0);
			put16(w, 0x5b7c);
			put32(w, crc);
			put32(w, (uint32_t)dl);
			put32(w, (uint32_t)dl);
			put16(w, (unsigned)nl);
			put16(w, (unsigned)m[i].extralen);
			if (pass == 1) {
				put16(w, 0);
				put16(w, 0);
				put16(w, 0);
				put32(w, (uint32_t)(m[i].unix_mode ?
				    m[i].unix_mode : 0100644) << 16);
				put32(w, offs[i]);
			}
			putn(w, m[i].name, nl);
			if (m[i].extralen)
				putn(w, m[i].extra, m[i].extralen);
			if (pass == 0)
				putn(w, m[i].data, dl);
		}
	}
	offs[n] = (uint32_t)(p - buf);
	putn(&p, cd, (size_t)(q - cd));
	put32(&p, 0x06054b50);
	put32(&p, 0);
	put16(&p, (unsigned)n);
	put16(&p, (unsigned)n);
	put32(&p, (uint32_t)(q - cd));
	put32(&p, offs[n]);
	put16(&p, 0);
	*len = (size_t)(p - buf);
	free(cd);
	free(offs);
	return buf;
}

/* ---- tars with libarchive's writer ---------------------------------- */

struct tmember {
	const char *name;
	size_t size;		/* of zeros when data is NULL */
	const char *data;
	mode_t type;		/* 0: regular */
	const char *link;	/* symlink target */
};

/* filter: ARCHIVE_FILTER_NONE, _GZIP or _XZ; caller frees. */
static unsigned char *
tar_make(const struct tmember *m, size_t n, int filter, size_t *len)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t cap = 1 << 20, used = 0;
	unsigned char *buf;

	for (size_t i = 0; i < n; i++)
		cap += m[i].size + 2048;
	buf = malloc(cap);
	archive_write_set_format_pax_restricted(a);
	if (filter == ARCHIVE_FILTER_GZIP)
		archive_write_add_filter_gzip(a);
	else if (filter == ARCHIVE_FILTER_XZ)
		archive_write_add_filter_xz(a);
	archive_write_set_bytes_in_last_block(a, 1);
	archive_write_open_memory(a, buf, cap, &used);
	for (size_t i = 0; i < n; i++) {
		size_t sz = m[i].data ? strlen(m[i].data) : m[i].size;
		char *zeros = NULL;

		archive_entry_clear(e);
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_filetype(e, m[i].type ? m[i].type : AE_IFREG);
		archive_entry_set_perm(e, 0644);
		if (m[i].link != NULL)
			archive_entry_set_symlink(e, m[i].link);
		if (m[i].type == 0)
			archive_entry_set_size(e, (la_int64_t)sz);
		archive_write_header(a, e);
		if (m[i].type == 0 && sz > 0) {
			if (m[i].data == NULL)
				zeros = calloc(1, sz);
			archive_write_data(a, m[i].data ? m[i].data : zeros, sz);
			free(zeros);
		}
	}
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
	*len = used;
	return buf;
}

/* ---- the fixtures of fx_archive.py ------------------------------------ */

UNIT_TEST(archive_reader_fixtures)
{
	static const struct {
		const char *file;
		int code;		/* -1: accepted */
		const char *path;	/* refusal path, or a member to find */
		enum ar_format format;
	} t[] = {
		{ "valid.zip", -1, "filing.xml", AR_ZIP },
		{ "valid-stored.zip", -1, "filing.xml", AR_ZIP },
		{ "valid.tar", -1, "filing.xml", AR_TAR },
		{ "valid.tar.gz", -1, "filing.xml", AR_TAR_GZ },
		{ "valid.tar.xz", -1, "filing.xml", AR_TAR_XZ },
		{ "valid-dotslash.tar", -1, "filing.xml", AR_TAR },
		{ "valid-gnu.tar.gz", -1, "filing.xml", AR_TAR_GZ },
		{ "cn-utf8flag.zip", -1, "说明.txt", AR_ZIP },
		{ "cn-gb18030.zip", -1, "说明.txt", AR_ZIP },
		{ "cn-unicodepath.zip", -1, "说明.txt", AR_ZIP },
		{ "cn-gb18030.tar", -1, "说明.txt", AR_TAR },
		{ "cn-pax.tar", -1, "说明.txt", AR_TAR },
		{ "zipslip.zip", ERR_ARCHIVE_UNSAFE_PATH, "../evil.txt", 0 },
		{ "absolute.zip", ERR_ARCHIVE_UNSAFE_PATH, "/etc/evil.txt", 0 },
		{ "backslash.zip", ERR_ARCHIVE_UNSAFE_PATH, "..\\evil.txt", 0 },
		{ "dotdot.tar", ERR_ARCHIVE_UNSAFE_PATH, "a/../../evil.txt", 0 },
		{ "absolute.tar", ERR_ARCHIVE_UNSAFE_PATH, "/tmp/evil.txt", 0 },
		{ "longpath.zip", ERR_ARCHIVE_UNSAFE_PATH, NULL, 0 },
		{ "duplicate.zip", ERR_ARCHIVE_DUPLICATE_ENTRY, "notes.txt", 0 },
		{ "symlink.tar", ERR_ARCHIVE_LINK, "link.jpg", 0 },
		{ "hardlink.tar", ERR_ARCHIVE_LINK, "hard.jpg", 0 },
		{ "symlink.zip", ERR_ARCHIVE_LINK, "link.jpg", 0 },
		{ "fifo.tar", ERR_ARCHIVE_SPECIAL_FILE, "pipe", 0 },
		{ "device.tar", ERR_ARCHIVE_SPECIAL_FILE, "null", 0 },
		{ "nested.zip", ERR_ARCHIVE_NESTED, "inner.zip", 0 },
		{ "nested-gz.tar", ERR_ARCHIVE_NESTED, "x.gz", 0 },
		{ "bomb.zip", ERR_ARCHIVE_BOMB, "zeros.bin", 0 },
		{ "bomb.tar.gz", ERR_ARCHIVE_BOMB, "/", 0 },
		{ "many.zip", ERR_ARCHIVE_TOO_MANY_ENTRIES, "/", 0 },
		{ "toolarge.zip", ERR_ARCHIVE_TOO_LARGE, "big.bin", 0 },
		{ "truncated.zip", ERR_ARCHIVE_TRUNCATED, "/", 0 },
		{ "truncated.tar.gz", ERR_ARCHIVE_TRUNCATED, "/", 0 },
		{ "truncated.tar.xz", ERR_ARCHIVE_TRUNCATED, "/", 0 },
		{ "noend.tar", ERR_ARCHIVE_TRUNCATED, "/", 0 },
		{ "noend.tar.gz", ERR_ARCHIVE_TRUNCATED, "/", 0 },
		{ "corrupt.zip", ERR_ARCHIVE_CORRUPT, "filing.xml", 0 },
		{ "empty.zip", ERR_ARCHIVE_FORMAT, "/", 0 },
		{ "random.zip", ERR_ARCHIVE_FORMAT, "/", 0 },
		{ "bare.gz", ERR_ARCHIVE_FORMAT, "/", 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t len = 0;
		unsigned char *b = fixture(t[i].file, &len);
		struct ar_contents *ac;
		const struct ar_entry *e;

		if (b == NULL)
			continue;
		if (t[i].code >= 0) {
			expect_refusal(t[i].file, b, len, NULL,
			    (enum err_code)t[i].code, t[i].path);
			free(b);
			continue;
		}
		if ((ac = expect_ok(t[i].file, b, len, NULL)) != NULL) {
			CHECKM(ac->format == t[i].format, "%s format %d",
			    t[i].file, ac->format);
			e = find(ac, t[i].path);
			CHECKM(e != NULL, "%s: no member %s", t[i].file,
			    t[i].path);
			CHECKM(find(ac, "filing.xml") != NULL &&
			    find(ac, "license.jpg") != NULL, "%s: package",
			    t[i].file);
			if (e != NULL)
				CHECKM(e->size > 0 && e->data[e->size] == '\0',
				    "%s: data", t[i].file);
			if ((e = find(ac, "filing.xml")) != NULL)
				CHECKM(strstr((const char *)e->data,
				    "<filing") != NULL, "%s: xml", t[i].file);
			ar_contents_free(ac);
		}
		free(b);
	}
}

UNIT_TEST(archive_reader_check_whole)
{
	static const struct {
		const char *file;
		enum ar_whole want;
	} t[] = {
		{ "valid.zip", AR_WHOLE },
		{ "valid.tar", AR_WHOLE },
		{ "valid.tar.gz", AR_WHOLE },
		{ "valid.tar.xz", AR_WHOLE },
		{ "corrupt.zip", AR_WHOLE },
		{ "bomb.tar.gz", AR_WHOLE },
		{ "truncated.zip", AR_INCOMPLETE },
		{ "truncated.tar.gz", AR_INCOMPLETE },
		{ "truncated.tar.xz", AR_INCOMPLETE },
		{ "noend.tar", AR_INCOMPLETE },
		{ "noend.tar.gz", AR_INCOMPLETE },
		{ "empty.zip", AR_NOT_ARCHIVE },
		{ "random.zip", AR_NOT_ARCHIVE },
		{ "bare.gz", AR_NOT_ARCHIVE },
	};
	struct input_limits lim;

	input_limits_defaults(&lim);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t len = 0;
		unsigned char *b = fixture(t[i].file, &len);

		if (b == NULL)
			continue;
		CHECKM(ar_check_whole(b, len, &lim) == t[i].want, "%s: %d",
		    t[i].file, ar_check_whole(b, len, &lim));
		/* Every prefix of a whole zip is incomplete. */
		if (t[i].want == AR_WHOLE && strcmp(t[i].file, "valid.zip") == 0)
			for (size_t cut = 4; cut < len; cut += len / 37 + 1)
				CHECKM(ar_check_whole(b, cut, &lim) ==
				    AR_INCOMPLETE, "valid.zip cut at %zu", cut);
		free(b);
	}
}

/* ---- cases built here ------------------------------------------------ */

UNIT_TEST(archive_reader_sniff)
{
	static const struct {
		const char *bytes;
		size_t len;
		int want;
	} t[] = {
		{ "PK\3\4rest", 8, 1 },
		{ "PK\5\6", 4, 1 },
		{ "\x1f\x8b\x08\x00", 4, 1 },
		{ "\xfd" "7zXZ\0..", 8, 1 },
		{ "BZh91AY&SY", 10, 1 },
		{ "\x28\xb5\x2f\xfd..", 6, 1 },
		{ "7z\xbc\xaf\x27\x1c", 6, 1 },
		{ "Rar!\x1a\x07\x00", 7, 1 },
		{ "\xff\xd8\xff\xe0", 4, 0 },	/* JPEG */
		{ "\x89PNG\r\n\x1a\n", 8, 0 },
		{ "<?xml version", 13, 0 },
		{ "PK", 2, 0 },
		{ "BZh", 3, 0 },
		{ "BZhx", 4, 0 },
		{ "", 0, 0 },
	};
	unsigned char tarhdr[600];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECKM(ar_sniff(t[i].bytes, t[i].len) == t[i].want, "row %zu",
		    i);
	memset(tarhdr, 'a', sizeof(tarhdr));
	CHECK(ar_sniff(tarhdr, sizeof(tarhdr)) == 0);
	memcpy(tarhdr + 257, "ustar", 5);
	CHECK(ar_sniff(tarhdr, sizeof(tarhdr)) == 1);
	CHECK(ar_sniff(tarhdr, 261) == 0);
}

UNIT_TEST(archive_reader_names)
{
	static const unsigned char up_bad[] = {	/* 0x7075, CRC wrong */
		0x75, 0x70, 0x0b, 0x00, 0x01, 0, 0, 0, 0,
		0xe8, 0xaf, 0xb4, 0xe6, 0x98, 0x8e };
	static const struct {
		struct zmember m;
		const char *want;	/* accepted under this name */
		const char *unsafe;	/* or refused at this path */
	} t[] = {
		{ { "./a.txt", 0, "x", 0, NULL, 0, 0 }, "a.txt", NULL },
		{ { "././d/a.txt", 0, "x", 0, NULL, 0, 0 }, "d/a.txt", NULL },
		{ { "\xcb\xb5\xc3\xf7.txt", 0, "x", 0, NULL, 0, 0 },
		    "说明.txt", NULL },
		{ { "\xe8\xaf\xb4.txt", 0, "x", 0, NULL, 0, 0 }, "说.txt", NULL },
		{ { "u.txt", 0, "x", 0x800, NULL, 0, 0 }, "u.txt", NULL },
		{ { "ok.txt", 0, "x", 0, up_bad, sizeof(up_bad), 0 },
		    "ok.txt", NULL },
		{ { "a//b", 0, "x", 0, NULL, 0, 0 }, NULL, "a//b" },
		{ { "a/./b", 0, "x", 0, NULL, 0, 0 }, NULL, "a/./b" },
		{ { "a/..", 0, "x", 0, NULL, 0, 0 }, NULL, "a/.." },
		{ { "..", 0, "x", 0, NULL, 0, 0 }, NULL, ".." },
		{ { "/x", 0, "x", 0, NULL, 0, 0 }, NULL, "/x" },
		{ { "a\\b", 0, "x", 0, NULL, 0, 0 }, NULL, "a\\b" },
		{ { "a\x01" "b", 0, "x", 0, NULL, 0, 0 }, NULL,
		    "a\xef\xbf\xbd" "b" },
		{ { "a\0b", 3, "x", 0, NULL, 0, 0 }, NULL, "a\xef\xbf\xbd" "b" },
		/* bytes valid neither as UTF-8 nor as GB18030 */
		{ { "\x81\x30", 0, "x", 0, NULL, 0, 0 }, NULL,
		    "\xef\xbf\xbd" "0" },
		/* the UTF-8 flag on bytes that are not UTF-8 */
		{ { "\xffu", 0, "x", 0x800, NULL, 0, 0 }, NULL,
		    "\xef\xbf\xbdu" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct zmember m[2] = {
			{ "filing.xml", 0, "<filing/>", 0, NULL, 0, 0 }, t[i].m };
		size_t len;
		unsigned char *z = zip_make(m, 2, &len);
		char what[64];

		snprintf(what, sizeof(what), "names row %zu", i);
		if (t[i].want != NULL) {
			struct ar_contents *ac = expect_ok(what, z, len, NULL);

			if (ac != NULL) {
				CHECKM(ac->n == 2 && find(ac, t[i].want),
				    "%s: %s", what, t[i].want);
				ar_contents_free(ac);
			}
		} else
			expect_refusal(what, z, len, NULL,
			    ERR_ARCHIVE_UNSAFE_PATH, t[i].unsafe);
		free(z);
	}
}

UNIT_TEST(archive_reader_path_max)
{
	char name[300];
	struct zmember m[1] = { { name, 0, "x", 0, NULL, 0, 0 } };
	struct input_limits lim;
	struct ar_contents *ac;
	unsigned char *z;
	size_t len;

	input_limits_defaults(&lim);
	memset(name, 'n', sizeof(name));
	name[lim.path_max] = '\0';
	z = zip_make(m, 1, &len);
	if ((ac = expect_ok("path_max", z, len, &lim)) != NULL)
		ar_contents_free(ac);
	lim.path_max--;
	expect_refusal("path_max - 1", z, len, &lim, ERR_ARCHIVE_UNSAFE_PATH,
	    name);
	free(z);
}

UNIT_TEST(archive_reader_dirs_links_dups)
{
	static const struct {
		struct zmember m[3];
		size_t n;
		int code;		/* -1: accepted with nfiles */
		const char *path;
		size_t nfiles;
	} t[] = {
		{ { { "d/", 0, "", 0, NULL, 0, 040755 },
		    { "d/a", 0, "x", 0, NULL, 0, 0 } }, 2, -1, NULL, 1 },
		{ { { "d/", 0, "", 0, NULL, 0, 040755 },
		    { "./d/", 0, "", 0, NULL, 0, 040755 } }, 2, -1, NULL, 0 },
		{ { { "./", 0, "", 0, NULL, 0, 040755 } }, 1, -1, NULL, 0 },
		{ { { "x/", 0, "", 0, NULL, 0, 040755 },
		    { "x", 0, "y", 0, NULL, 0, 0 } }, 2,
		    ERR_ARCHIVE_DUPLICATE_ENTRY, "x", 0 },
		{ { { "a", 0, "1", 0, NULL, 0, 0 },
		    { "./a", 0, "2", 0, NULL, 0, 0 } }, 2,
		    ERR_ARCHIVE_DUPLICATE_ENTRY, "a", 0 },
		{ { { "l", 0, "target", 0, NULL, 0, 0120777 } }, 1,
		    ERR_ARCHIVE_LINK, "l", 0 },
		{ { { "p", 0, "", 0, NULL, 0, 010644 } }, 1,
		    ERR_ARCHIVE_SPECIAL_FILE, "p", 0 },
		{ { { "n.zip", 0, "PK\3\4xxxx", 0, NULL, 0, 0 } }, 1,
		    ERR_ARCHIVE_NESTED, "n.zip", 0 },
		/* every violation is reported, not just the first */
		{ { { "../a", 0, "1", 0, NULL, 0, 0 },
		    { "l", 0, "t", 0, NULL, 0, 0120777 },
		    { "n.gz", 0, "\x1f\x8b\x08", 0, NULL, 0, 0 } }, 3,
		    ERR_ARCHIVE_NESTED, "n.gz", 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t len;
		unsigned char *z = zip_make(t[i].m, t[i].n, &len);
		char what[64];

		snprintf(what, sizeof(what), "dirs row %zu", i);
		if (t[i].code < 0) {
			struct ar_contents *ac = expect_ok(what, z, len, NULL);

			if (ac != NULL) {
				CHECKM(ac->n == t[i].nfiles, "%s: %zu", what,
				    ac->n);
				ar_contents_free(ac);
			}
		} else
			expect_refusal(what, z, len, NULL,
			    (enum err_code)t[i].code, t[i].path);
		free(z);
	}
	{
		size_t len;
		unsigned char *z = zip_make(t[8].m, 3, &len);

		expect_refusal("all: unsafe", z, len, NULL,
		    ERR_ARCHIVE_UNSAFE_PATH, "../a");
		expect_refusal("all: link", z, len, NULL, ERR_ARCHIVE_LINK, "l");
		free(z);
	}
}

UNIT_TEST(archive_reader_zip_structure)
{
	struct zmember m[2] = { { "a", 0, "hello", 0, NULL, 0, 0 },
	    { "b", 0, "world", 0, NULL, 0, 0 } };
	struct ar_contents *ac;
	unsigned char *z, *y;
	size_t len;

	/* the empty zip */
	z = zip_make(m, 0, &len);
	CHECK(len == 22);
	if ((ac = expect_ok("empty zip", z, len, NULL)) == NULL ||
	    ac->n != 0)
		unit_fail(__FILE__, __LINE__, "empty zip");
	ar_contents_free(ac);
	free(z);
	z = zip_make(m, 2, &len);
	if ((ac = expect_ok("zip", z, len, NULL)) != NULL) {
		CHECK(ac->n == 2 && ac->unpacked == 10);
		CHECK(strcmp((const char *)ac->entries[0].data, "hello") == 0);
		ar_contents_free(ac);
	}
	y = malloc(len);
	/* the EOCD count disagreeing with the directory */
	memcpy(y, z, len);
	y[len - 22 + 10] = 3;
	y[len - 22 + 8] = 3;
	expect_refusal("count", y, len, NULL, ERR_ARCHIVE_CORRUPT, "/");
	/* a local header offset pointing nowhere */
	memcpy(y, z, len);
	y[len - 22 - 2 * 47 + 1 + 42] = 0x7f;
	expect_refusal("offset", y, len, NULL, ERR_ARCHIVE_CORRUPT, "/");
	/* two directory records for one member */
	memcpy(y, z, len);
	memset(y + len - 22 - 47 + 42, 0, 4);
	expect_refusal("shared", y, len, NULL, ERR_ARCHIVE_CORRUPT, "/");
	/* a data byte changed: CRC */
	memcpy(y, z, len);
	y[31] ^= 0x20;
	expect_refusal("crc", y, len, NULL, ERR_ARCHIVE_CORRUPT, "a");
	/* the central directory cut off */
	expect_refusal("cut", z, len - 30, NULL, ERR_ARCHIVE_TRUNCATED, "/");
	free(y);
	free(z);
}

UNIT_TEST(archive_reader_tar)
{
	static const int filters[] = { ARCHIVE_FILTER_NONE, ARCHIVE_FILTER_GZIP,
	    ARCHIVE_FILTER_XZ };
	static const enum ar_format formats[] = { AR_TAR, AR_TAR_GZ,
	    AR_TAR_XZ };
	struct tmember ok[] = {
		{ "./filing.xml", 0, "<filing/>", 0, NULL },
		{ "d", 0, NULL, AE_IFDIR, NULL },
		{ "d/说明.txt", 0, "note", 0, NULL },
		{ "empty", 0, "", 0, NULL },
	};
	struct tmember bad[] = {
		{ "s", 0, NULL, AE_IFLNK, "filing.xml" },
		{ "f", 0, NULL, AE_IFIFO, NULL },
		{ "b", 0, NULL, AE_IFBLK, NULL },
		{ "c", 0, NULL, AE_IFCHR, NULL },
	};

	for (size_t f = 0; f < 3; f++) {
		size_t len;
		unsigned char *b = tar_make(ok, 4, filters[f], &len);
		struct ar_contents *ac = expect_ok("tar", b, len, NULL);

		if (ac != NULL) {
			CHECKM(ac->format == formats[f] && ac->n == 3,
			    "filter %zu: %d %zu", f, ac->format, ac->n);
			CHECK(find(ac, "filing.xml") && find(ac, "d/说明.txt"));
			CHECK(find(ac, "empty") && find(ac, "empty")->size == 0);
			ar_contents_free(ac);
		}
		free(b);
		b = tar_make(bad, 4, filters[f], &len);
		expect_refusal("tar link", b, len, NULL, ERR_ARCHIVE_LINK, "s");
		expect_refusal("tar fifo", b, len, NULL,
		    ERR_ARCHIVE_SPECIAL_FILE, "f");
		expect_refusal("tar blk", b, len, NULL,
		    ERR_ARCHIVE_SPECIAL_FILE, "b");
		expect_refusal("tar chr", b, len, NULL,
		    ERR_ARCHIVE_SPECIAL_FILE, "c");
		free(b);
	}
}

UNIT_TEST(archive_reader_tar_damage)
{
	struct tmember m[] = {
		{ "a", 0, "hello", 0, NULL },
		{ "b", 0, "world", 0, NULL },
	};
	size_t len, glen;
	unsigned char *b = tar_make(m, 2, ARCHIVE_FILTER_NONE, &len);
	unsigned char *g = tar_make(m, 2, ARCHIVE_FILTER_GZIP, &glen);
	unsigned char *y = malloc(len > glen ? len : glen);
	struct ar_contents *ac;

	/* pax_restricted, no pax headers: a at 0, b's header at 1024 */
	CHECK(len == 3072);
	if ((ac = expect_ok("tar 3072", b, len, NULL)) != NULL)
		ar_contents_free(ac);
	memcpy(y, b, len);
	y[1024 + 148] ^= 1;
	expect_refusal("checksum", y, len, NULL, ERR_ARCHIVE_CORRUPT, NULL);
	expect_refusal("one end block", b, len - 512, NULL,
	    ERR_ARCHIVE_TRUNCATED, "/");
	expect_refusal("no end block", b, len - 1024, NULL,
	    ERR_ARCHIVE_TRUNCATED, "/");
	expect_refusal("short data", b, 1024 + 512 + 3, NULL,
	    ERR_ARCHIVE_TRUNCATED, "/");
	expect_refusal("short header", b, 1024 + 100, NULL,
	    ERR_ARCHIVE_TRUNCATED, "/");
	/* gzip: CRC, stream cut anywhere, one layer too many */
	memcpy(y, g, glen);
	y[glen - 8] ^= 1;
	expect_refusal("gz crc", y, glen, NULL, ERR_ARCHIVE_CORRUPT, "/");
	for (size_t cut = 1; cut < glen; cut += 7) {
		char what[32];

		/* even inside its 10-byte header: the magic says gzip */
		snprintf(what, sizeof(what), "gz cut %zu", cut);
		expect_refusal(what, g, glen - cut, NULL, ERR_ARCHIVE_TRUNCATED,
		    "/");
	}
	{
		struct archive *a = archive_write_new();
		size_t used = 0, cap = glen + 4096;
		unsigned char *gg = malloc(cap);

		/* tar.gz.gz: the tar.gz as a raw "file", gzipped */
		archive_write_set_format_raw(a);
		archive_write_add_filter_gzip(a);
		archive_write_open_memory(a, gg, cap, &used);
		{
			struct archive_entry *e = archive_entry_new();

			archive_entry_set_pathname(e, "x");
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)glen);
			archive_write_header(a, e);
			archive_write_data(a, g, glen);
			archive_entry_free(e);
		}
		archive_write_close(a);
		archive_write_free(a);
		expect_refusal("tar.gz.gz", gg, used, NULL, ERR_ARCHIVE_FORMAT,
		    "/");
		free(gg);
	}
	free(y);
	free(g);
	free(b);
}

UNIT_TEST(archive_reader_limits)
{
	struct tmember zeros[] = {
		{ "z1", 3 << 20, NULL, 0, NULL },
		{ "z2", 3 << 20, NULL, 0, NULL },
	};
	struct input_limits lim;
	struct ar_contents *ac;
	unsigned char *b, *plain;
	size_t len, plen;

	b = tar_make(zeros, 2, ARCHIVE_FILTER_GZIP, &len);
	plain = tar_make(zeros, 2, ARCHIVE_FILTER_NONE, &plen);
	input_limits_defaults(&lim);
	/* 6 MiB of zeros in a few KiB: over 100:1 */
	expect_refusal("ratio", b, len, &lim, ERR_ARCHIVE_BOMB, "/");
	lim.archive_max_ratio = 0;	/* no ratio judged */
	if ((ac = expect_ok("no ratio", b, len, &lim)) != NULL) {
		CHECK(ac->n == 2 && ac->unpacked == 6 << 20);
		ar_contents_free(ac);
	}
	lim.archive_max_unpacked = 5 << 20;
	expect_refusal("unpacked", b, len, &lim, ERR_ARCHIVE_BOMB, "/");
	input_limits_defaults(&lim);
	lim.entry_max_bytes = (3 << 20) - 1;
	expect_refusal("entry", plain, plen, &lim, ERR_ARCHIVE_TOO_LARGE, "z1");
	input_limits_defaults(&lim);
	lim.archive_max_bytes = plen - 1;
	expect_refusal("archive", plain, plen, &lim, ERR_ARCHIVE_TOO_LARGE, "/");
	input_limits_defaults(&lim);
	lim.archive_max_entries = 1;
	expect_refusal("entries", plain, plen, &lim,
	    ERR_ARCHIVE_TOO_MANY_ENTRIES, "/");
	lim.archive_max_entries = 2;
	if ((ac = expect_ok("entries = max", plain, plen, &lim)) != NULL)
		ar_contents_free(ac);
	free(b);
	free(plain);
}

UNIT_TEST(archive_reader_many_tar)
{
	enum { N = 20000 };
	struct tmember *m = calloc(N, sizeof(*m));
	char (*names)[16] = calloc(N, sizeof(*names));
	unsigned char *b;
	size_t len;

	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "f%05zu", i);
		m[i].name = names[i];
		m[i].data = "";
	}
	b = tar_make(m, N, ARCHIVE_FILTER_GZIP, &len);
	expect_refusal("20000 entries", b, len, NULL,
	    ERR_ARCHIVE_TOO_MANY_ENTRIES, "/");
	free(b);
	free(m);
	free(names);
}

UNIT_TEST(archive_reader_format)
{
	static const char *const t[] = {
		"", "x", "hello world", "<?xml version=\"1.0\"?><filing/>",
		"\x89PNG\r\n\x1a\n", "BZh91AY&SY",
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		expect_refusal(t[i], t[i], strlen(t[i]), NULL,
		    ERR_ARCHIVE_FORMAT, "/");
}
