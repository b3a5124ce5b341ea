/*
 * package: split an upload into items and check each item's content.
 *
 * Hostile input: the whole upload.  The archive reader has already
 * refused unsafe members; here member names are only compared as
 * strings, never opened.  An upload-wide problem (archive damage, a
 * manifest that does not match, nothing recognisable inside) refuses the
 * upload; otherwise each item stands alone and a bad one never stops the
 * others.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "parsers/package.h"

static const char *const item_kind_names[] = {
	[ITEM_FILING] = "filing",
	[ITEM_VERIFICATION] = "verification",
	[ITEM_WITHDRAWAL] = "withdrawal",
	[ITEM_HANDBACK] = "handback",
	[ITEM_DECISION] = "decision",
};

const char *
item_kind_name(enum item_kind k)
{
	return item_kind_names[k];
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

static const char *
base_name(const char *s)
{
	const char *slash = strrchr(s, '/');

	return slash ? slash + 1 : s;
}

static int
pkg_file_cmp(const void *a, const void *b)
{
	const struct pkg_file *x = a, *y = b;

	return strcmp(x->name, y->name);
}

void
package_files_sha256(const struct pkg_file *files, size_t nfiles,
    unsigned char out[32])
{
	struct sha256_ctx *st;
	struct pkg_file *sorted;

	sorted = xreallocarray(NULL, nfiles ? nfiles : 1, sizeof(*sorted));
	memcpy(sorted, files, nfiles * sizeof(*sorted));
	qsort(sorted, nfiles, sizeof(*sorted), pkg_file_cmp);
	st = sha256_init();
	for (size_t i = 0; i < nfiles; i++) {
		unsigned char len[8], d[SHA256_LEN];
		uint64_t n = sorted[i].size;

		for (int k = 0; k < 8; k++)
			len[k] = (unsigned char)(n >> (8 * k));
		if (sorted[i].sha256 == NULL)
			sha256(sorted[i].data, sorted[i].size, d);
		sha256_update(st, sorted[i].name,
		    strlen(sorted[i].name) + 1);
		sha256_update(st, len, sizeof(len));
		sha256_update(st, sorted[i].sha256 ? sorted[i].sha256 : d,
		    SHA256_LEN);
	}
	sha256_final(st, out);
	free(sorted);
}

void
package_check_files(const struct pkg_file *files, size_t nfiles,
    const struct check_ctx *ctx, struct filing **out, struct errlist *errs)
{
	const struct pkg_file *xml = NULL;
	struct filing *f = NULL;

	for (size_t i = 0; i < nfiles; i++)
		if (strcmp(files[i].name, "filing.xml") == 0)
			xml = &files[i];
	if (xml == NULL) {
		errlist_add(errs, ERR_FILING_XML_MISSING, "/", NULL);
		return;
	}
	if (filing_parse(xml->data, xml->size, ctx->lim, &f, errs) != 0)
		return;
	filing_check(f, files, nfiles, ctx, errs);
	if (out != NULL)
		*out = f;
	else
		filing_free(f);
}

static struct item *
upload_item_add(struct upload *u, size_t *cap, enum item_kind kind,
    const char *path)
{
	struct item *it;

	xgrow(&u->items, cap, u->nitems, sizeof(*u->items));
	it = &u->items[u->nitems++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->path = xstrdup(path);
	it->errs = errlist_new();
	return it;
}

/* Members of folder dir ("" for the root, else "a/b/"): recursive when
 * deep, else direct children only.  Names become relative to dir; with
 * UPLOAD_HASH each carries its member's digest. */
static void
item_collect(struct item *it, struct ar_contents *ac, const char *dir,
    int deep, int flags)
{
	size_t dl = strlen(dir), cap = 0;

	for (size_t i = 0; i < ac->n; i++) {
		const char *name = ac->entries[i].name;

		if (strncmp(name, dir, dl) != 0)
			continue;
		if (!deep && strchr(name + dl, '/') != NULL)
			continue;
		xgrow(&it->files, &cap, it->nfiles, sizeof(*it->files));
		it->files[it->nfiles].name = name + dl;
		it->files[it->nfiles].data = ac->entries[i].data;
		it->files[it->nfiles].size = ac->entries[i].size;
		it->files[it->nfiles].sha256 = (flags & UPLOAD_HASH) ?
		    ar_entry_sha256(&ac->entries[i]) : NULL;
		it->nfiles++;
	}
}

static void
item_check(struct item *it, const struct pkg_file *record,
    const struct check_ctx *ctx)
{
	const struct input_limits *lim = ctx->lim;

	switch (it->kind) {
	case ITEM_FILING:
		package_check_files(it->files, it->nfiles, ctx, &it->filing,
		    it->errs);
		return;
	case ITEM_VERIFICATION:
		if (verification_parse(record->data, record->size, lim,
		    &it->verification, it->errs) == 0)
			verification_check(it->verification, it->files,
			    it->nfiles, ctx, it->errs);
		break;
	case ITEM_WITHDRAWAL:
		withdrawal_parse(record->data, record->size, lim,
		    &it->withdrawal, it->errs);
		break;
	case ITEM_HANDBACK:
		handback_parse(record->data, record->size, lim, &it->handback,
		    it->errs);
		break;
	case ITEM_DECISION:
		decision_parse(record->data, record->size, lim, &it->decision,
		    it->errs);
		break;
	}
}

/*
 * An item's identity.  A package is its files (names and contents, in
 * any order); a verification record is itself and the files beside it
 * that it may name, so the same record with another photo is another
 * item; any other record is its own bytes.
 */
static void
item_hash(struct item *it, const struct pkg_file *record)
{
	if (it->kind == ITEM_FILING || it->kind == ITEM_VERIFICATION) {
		struct pkg_file *all;

		all = xreallocarray(NULL, it->nfiles + 1, sizeof(*all));
		memcpy(all, it->files, it->nfiles * sizeof(*all));
		if (record != NULL)
			all[it->nfiles] = *record;
		package_files_sha256(all, it->nfiles + (record != NULL), it->sha256);
		free(all);
	} else
		sha256(record->data, record->size, it->sha256);
}

static int
record_kind(const char *name, enum item_kind *kind)
{
	const char *b = base_name(name);

	if (ends_with(b, ".verification.xml"))
		*kind = ITEM_VERIFICATION;
	else if (ends_with(b, ".withdrawal.xml"))
		*kind = ITEM_WITHDRAWAL;
	else if (ends_with(b, ".handback.xml"))
		*kind = ITEM_HANDBACK;
	else if (ends_with(b, ".decision.xml") || strcmp(b, "decision.xml") == 0)
		*kind = ITEM_DECISION;
	else
		return -1;
	return 0;
}

static const struct ar_entry *
ac_find(const struct ar_contents *ac, const char *name)
{
	for (size_t i = 0; i < ac->n; i++)
		if (strcmp(ac->entries[i].name, name) == 0)
			return &ac->entries[i];
	return NULL;
}

/*
 * FORMAT.md §5: one manifest item for every other regular member, exactly
 * once, with its sha256.  Every disagreement is reported; any refuses the
 * batch.
 */
static void
manifest_verify(struct ar_contents *ac, const struct ar_entry *me,
    const struct check_ctx *ctx, struct errlist *errs)
{
	struct manifest *m = NULL;
	struct errlist *merrs = errlist_new();
	unsigned char *seen;

	if (manifest_parse(me->data, me->size, ctx->lim, &m, merrs) != 0 ||
	    errlist_nerrors(merrs) > 0) {
		for (size_t i = 0; i < errlist_count(merrs); i++) {
			const struct err_item *e = errlist_get(merrs, i);
			errlist_add(errs, ERR_MANIFEST_MISMATCH, "manifest.xml",
			    "清单无效 / the manifest is not valid: %s %s: %s",
			    err_code_name(e->code), e->path, e->message);
		}
		if (errlist_count(merrs) == 0)
			errlist_add(errs, ERR_MANIFEST_MISMATCH, "manifest.xml",
			    NULL);
		goto out;
	}
	seen = xcalloc(ac->n, 1);
	for (size_t k = 0; k < m->nitems; k++) {
		const struct manifest_item *mi = &m->items[k];
		const struct ar_entry *e = NULL;
		size_t idx = 0;
		char hex[65];

		for (size_t i = 0; i < ac->n; i++)
			if (strcmp(ac->entries[i].name, mi->path) == 0) {
				e = &ac->entries[i];
				idx = i;
				break;
			}
		if (e == NULL || e == me) {
			errlist_add(errs, ERR_MANIFEST_MISMATCH, mi->path,
			    "清单列出的文件不存在 / listed but not in the batch");
			continue;
		}
		if (seen[idx]++) {
			errlist_add(errs, ERR_MANIFEST_MISMATCH, mi->path,
			    "清单重复列出 / listed more than once");
			continue;
		}
		sha256_to_hex(ar_entry_sha256(&ac->entries[idx]), hex);
		if (mi->sha256 == NULL || strcmp(hex, mi->sha256) != 0)
			errlist_add(errs, ERR_MANIFEST_MISMATCH, mi->path,
			    "校验值不符 / sha256 differs: the member is %s", hex);
	}
	for (size_t i = 0; i < ac->n; i++)
		if (&ac->entries[i] != me && !seen[i])
			errlist_add(errs, ERR_MANIFEST_MISMATCH,
			    ac->entries[i].name,
			    "清单中没有此文件 / member missing from the manifest");
	free(seen);
out:
	manifest_free(m);
	errlist_free(merrs);
}

static void
upload_split(struct upload *u, const struct check_ctx *ctx, int flags)
{
	struct ar_contents *ac = u->ac;
	const struct ar_entry *me;
	size_t cap = 0;

	/* A single package: filing.xml at the root. */
	if (ac_find(ac, "filing.xml") != NULL) {
		struct item *it = upload_item_add(u, &cap, ITEM_FILING, "/");
		item_collect(it, ac, "", 1, flags);
		item_check(it, NULL, ctx);
		if (flags & UPLOAD_HASH)
			item_hash(it, NULL);
		return;
	}

	if ((me = ac_find(ac, "manifest.xml")) != NULL) {
		manifest_verify(ac, me, ctx, u->errs);
		if (errlist_nerrors(u->errs) > 0)
			return;
	}

	for (size_t i = 0; i < ac->n; i++) {
		const char *name = ac->entries[i].name;
		const char *slash = strchr(name, '/');
		enum item_kind kind;

		/* "dir/filing.xml" at depth one makes dir/ a package. */
		if (slash != NULL && strcmp(slash + 1, "filing.xml") == 0) {
			char *dir = xstrndup(name, (size_t)(slash - name) + 1);
			struct item *it;

			it = upload_item_add(u, &cap, ITEM_FILING, dir);
			item_collect(it, ac, dir, 1, flags);
			item_check(it, NULL, ctx);
			if (flags & UPLOAD_HASH)
				item_hash(it, NULL);
			free(dir);
			continue;
		}
		if (record_kind(name, &kind) == 0) {
			const char *b = base_name(name);
			char *dir = xstrndup(name, (size_t)(b - name));
			struct pkg_file rec = { name, ac->entries[i].data,
				ac->entries[i].size, (flags & UPLOAD_HASH) ?
				ar_entry_sha256(&ac->entries[i]) : NULL };
			struct item *it;

			it = upload_item_add(u, &cap, kind, name);
			if (kind == ITEM_VERIFICATION)
				item_collect(it, ac, dir, 0, flags);
			item_check(it, &rec, ctx);
			if (flags & UPLOAD_HASH)
				item_hash(it, &rec);
			free(dir);
		}
	}
	if (u->nitems == 0)
		errlist_add(u->errs, ERR_FILING_XML_MISSING, "/",
		    "既无 filing.xml 也无可识别的记录 / no filing.xml and no "
		    "record this batch could hold");
}

struct upload *
upload_read(const char *name, const void *buf, size_t len,
    const struct check_ctx *ctx, int flags)
{
	struct upload *u = xcalloc(1, sizeof(*u));
	enum item_kind kind;

	u->errs = errlist_new();
	/* The bureau may drop a bare decision file. */
	if (name != NULL && record_kind(name, &kind) == 0 &&
	    kind == ITEM_DECISION && !ar_sniff(buf, len)) {
		size_t cap = 0;
		struct item *it;
		struct pkg_file rec;

		u->bare = (unsigned char *)xstrndup(buf, len);
		rec.name = base_name(name);
		rec.data = u->bare;
		rec.size = len;
		it = upload_item_add(u, &cap, ITEM_DECISION, rec.name);
		item_check(it, &rec, ctx);
			if (flags & UPLOAD_HASH)
				item_hash(it, &rec);
		return u;
	}
	if (ar_read(buf, len, ctx->lim, &u->ac, u->errs) != 0)
		return u;
	upload_split(u, ctx, flags);
	return u;
}

void
mail_meta_free(struct mail_meta *mm)
{
	if (mm == NULL)
		return;
	free(mm->message_id);
	free(mm->from_addr);
	free(mm->return_path);
	free(mm->reason);
	free(mm);
}

void
upload_items_free(struct upload *u)
{
	for (size_t i = 0; i < u->nitems; i++) {
		struct item *it = &u->items[i];

		free(it->path);
		errlist_free(it->errs);
		filing_free(it->filing);
		verification_free(it->verification);
		withdrawal_free(it->withdrawal);
		handback_free(it->handback);
		decision_free(it->decision);
		free(it->files);
	}
	free(u->items);
	u->items = NULL;
	u->nitems = 0;
}

void
upload_free(struct upload *u)
{
	if (u == NULL)
		return;
	upload_items_free(u);
	errlist_free(u->errs);
	mail_meta_free(u->mail);
	ar_contents_free(u->ac);
	free(u->bare);
	free(u);
}
