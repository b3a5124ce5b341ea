/*
 * wire: encode a worker's answer (in the worker); the parent decodes it
 * in wire_decode.c, which treats the frame as hostile.
 *
 * Layout of an upload body (integers little-endian; str = u32 length,
 * 0xffffffff for NULL, then the bytes):
 *   u8 kind=2, errlist, u32 nnames {u32 len, bytes, 0},
 *   u32 ndata {u64 size, sha256[32], u8 present, present ? bytes, 0},
 *   u32 nitems {item}
 *   item = u8 kind, str path, sha256[32], errlist, u8 document mask,
 *          the documents present, u32 nfiles {u32 name, u32 data}
 *   errlist = u32 n {str code name, str path, str message}
 * then (version 2) the mail the upload came in, for WJ_MAIL:
 *   u8 present, and when 1: str message_id, str from, str return_path,
 *   str tag_id, str tag_token, str review_token, u8 automated,
 *   u8 command, str reason, u8 no_package, sha256[32]
 * (no NULL strings; the tags bounded by their buffers, UTF-8 checked).
 *
 * Version 3 gives each content its SHA-256 and may leave the bytes out
 * (present = 0) where the parent keeps the upload itself and never reads
 * them: wire_upload_lean().  A frame that leaves out contents of any
 * other upload does not decode.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "worker/wire.h"
#include "worker/wire_int.h"

uint64_t
wire_frame_max(const struct input_limits *lim)
{
	uint64_t n = sat_add(lim->archive_max_entries, 1), m;

	m = sat_add(lim->archive_max_unpacked, lim->archive_max_bytes);
	/* one name and one content header per member */
	m = sat_add(m, sat_mul(n, sat_add(lim->path_max, 32)));
	/* file references: a member may belong to several items */
	m = sat_add(m, sat_mul(sat_mul(n, n), 8));
	/* findings, documents, headers */
	m = sat_add(m, 64ULL << 20);
	if (m > SIZE_MAX / 2)
		m = SIZE_MAX / 2;
	return m;
}

/* ---- encoder ------------------------------------------------------------ */

static unsigned char *
wb_room(struct buf *b, size_t n)
{
	return buf_room(b, n);
}

static void
wb_u8(struct buf *b, unsigned v)
{
	*wb_room(b, 1) = (unsigned char)v;
}

static void
wb_le(struct buf *b, uint64_t v, int n)
{
	unsigned char *d = wb_room(b, (size_t)n);

	for (int i = 0; i < n; i++)
		d[i] = (unsigned char)(v >> (8 * i));
}

static void
wb_u32(struct buf *b, size_t v)
{
	/* Every count and string here is far below 4 GiB by the limits;
	 * one that is not is a broken invariant. */
	if ((uint64_t)v >= WIRE_NULL)
		abort();
	wb_le(b, v, 4);
}

static void
wb_str(struct buf *b, const char *s)
{
	if (s == NULL) {
		wb_le(b, WIRE_NULL, 4);
		return;
	}
	size_t n = strlen(s);
	wb_u32(b, n);
	buf_add(b, s, n);
}

static void
wb_errlist(struct buf *b, const struct errlist *el)
{
	size_t n = el ? errlist_count(el) : 0;

	wb_u32(b, n);
	for (size_t i = 0; i < n; i++) {
		const struct err_item *e = errlist_get(el, i);

		wb_str(b, err_code_name(e->code));
		wb_str(b, e->path);
		wb_str(b, e->message);
	}
}

static void
wb_attachments(struct buf *b, const struct attachment *a, size_t n)
{
	wb_u32(b, n);
	for (size_t i = 0; i < n; i++) {
		wb_str(b, a[i].kind);
		wb_str(b, a[i].file);
	}
}

static void
wb_person(struct buf *b, const struct person *p)
{
	wb_u8(b, p != NULL);
	if (p == NULL)
		return;
	wb_str(b, p->name);
	wb_str(b, p->cert_type);
	wb_str(b, p->cert_number);
	wb_str(b, p->cert_valid_to);
	wb_str(b, p->mobile);
	wb_str(b, p->office_phone);
	wb_str(b, p->email);
	wb_attachments(b, p->attachments, p->nattachments);
}

static void
wb_strv(struct buf *b, char *const *v, size_t n)
{
	wb_u32(b, n);
	for (size_t i = 0; i < n; i++)
		wb_str(b, v[i]);
}

static void
wb_issues(struct buf *b, const struct issue *is, size_t n)
{
	wb_u32(b, n);
	for (size_t i = 0; i < n; i++) {
		wb_str(b, is[i].path);
		wb_str(b, is[i].code);
		wb_str(b, is[i].text);
	}
}

static void
wb_filing(struct buf *b, const struct filing *f)
{
	const struct sponsor *s = f->sponsor;

	wb_str(b, f->id);
	wb_u8(b, f->type);
	wb_u8(b, f->mode);
	wb_str(b, f->province);
	wb_str(b, f->subject_licence);
	wb_str(b, f->site_licence);
	wb_str(b, f->password);
	wb_u8(b, s != NULL);
	if (s != NULL) {
		wb_str(b, s->name);
		wb_str(b, s->nature);
		wb_str(b, s->cert_type);
		wb_str(b, s->cert_number);
		wb_str(b, s->cert_address);
		wb_str(b, s->region);
		wb_str(b, s->address);
		wb_str(b, s->investor);
		wb_attachments(b, s->attachments, s->nattachments);
		wb_person(b, s->principal);
	}
	wb_u32(b, f->nwebsites);
	for (size_t i = 0; i < f->nwebsites; i++) {
		const struct website *w = &f->websites[i];

		wb_str(b, w->name);
		wb_strv(b, w->domains, w->ndomains);
		wb_strv(b, w->home_urls, w->nhome_urls);
		wb_str(b, w->service_content);
		wb_strv(b, w->languages, w->nlanguages);
		wb_u32(b, w->npreapprovals);
		for (size_t j = 0; j < w->npreapprovals; j++) {
			wb_str(b, w->preapprovals[j].type);
			wb_str(b, w->preapprovals[j].number);
			wb_str(b, w->preapprovals[j].file);
		}
		wb_person(b, w->manager);
		wb_u32(b, w->naccesses);
		for (size_t j = 0; j < w->naccesses; j++) {
			const struct access *a = &w->accesses[j];

			wb_str(b, a->method);
			wb_str(b, a->server_location);
			wb_u32(b, a->nips);
			for (size_t k = 0; k < a->nips; k++) {
				wb_u8(b, a->ips[k].is_range != 0);
				wb_le(b, a->ips[k].index, 8);
				wb_str(b, a->ips[k].ip);
				wb_str(b, a->ips[k].start);
				wb_str(b, a->ips[k].end);
			}
		}
	}
}

static void
wb_verification(struct buf *b, const struct verification *v)
{
	wb_str(b, v->filing);
	wb_str(b, v->result);
	wb_str(b, v->verifier);
	wb_str(b, v->verified_at);
	for (int i = 0; i < 7; i++)
		wb_u8(b, v->checks[i] < 0 ? 0 : v->checks[i] == 0 ? 1 : 2);
	wb_str(b, v->photo_file);
	wb_str(b, v->scan_file);
	wb_issues(b, v->issues, v->nissues);
}

static void
wb_decision(struct buf *b, const struct decision *d)
{
	wb_str(b, d->filing);
	wb_str(b, d->result);
	wb_str(b, d->token);
	wb_str(b, d->reviewer);
	wb_str(b, d->reviewed_at);
	wb_str(b, d->licence);
	wb_str(b, d->reason_code);
	wb_str(b, d->reason_text);
}

static void
wb_mail(struct buf *b, const struct mail_meta *mm)
{
	wb_u8(b, mm != NULL);
	if (mm == NULL)
		return;
	wb_str(b, mm->message_id ? mm->message_id : "");
	wb_str(b, mm->from_addr ? mm->from_addr : "");
	wb_str(b, mm->return_path ? mm->return_path : "");
	wb_str(b, mm->tag_id);
	wb_str(b, mm->tag_token);
	wb_str(b, mm->review_token);
	wb_u8(b, mm->automated != 0);
	wb_u8(b, (unsigned)mm->command);
	wb_str(b, mm->reason ? mm->reason : "");
	wb_u8(b, mm->no_package != 0);
	buf_add(b, mm->sha256, sizeof(mm->sha256));
}

/* One distinct name or content of the frame's tables, by identity. */
struct wref {
	const void *key;  /* identity: the bytes, or a left-out content's hash */
	const void *ptr;
	size_t size;
	size_t flat;  /* position among all the items' files */
	const unsigned char *sha256; /* a content's, when known */
};

int
wire_upload_lean(const struct upload *u)
{
	const struct item *it = u->nitems == 1 ? &u->items[0] : NULL;

	/* One package as the whole upload, kept as it came: the parent stores
	 * the upload's own bytes (ingest.c, keep_package) and needs of its
	 * files only names, sizes and hashes. */
	return u->mail == NULL && it != NULL && it->kind == ITEM_FILING &&
	    it->path != NULL && strcmp(it->path, "/") == 0 &&
	    it->filing != NULL && it->filing->password == NULL;
}

static int
wref_cmp(const void *a, const void *b)
{
	const struct wref *x = a, *y = b;
	uintptr_t px = (uintptr_t)x->key, py = (uintptr_t)y->key;

	if (px != py)
		return px < py ? -1 : 1;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return 0;
}

/*
 * Give each reference a table index, one per distinct (pointer, size):
 * files that are views of the same archive member travel once.  Writes
 * the table to b and the index of each flat position to idx.
 */
static void
wb_table(struct buf *b, struct wref *refs, size_t n, uint32_t *idx,
    int is_data, int lean)
{
	size_t count = 0;

	qsort(refs, n, sizeof(*refs), wref_cmp);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || wref_cmp(&refs[i - 1], &refs[i]) != 0)
			count++;
	wb_u32(b, count);
	count = 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || wref_cmp(&refs[i - 1], &refs[i]) != 0) {
			if (is_data) {
				unsigned char d[SHA256_LEN];

				if (refs[i].sha256 == NULL)
					sha256(refs[i].ptr, refs[i].size, d);
				wb_le(b, refs[i].size, 8);
				buf_add(b, refs[i].sha256 ? refs[i].sha256 : d,
				    SHA256_LEN);
				wb_u8(b, !lean);
			} else
				wb_u32(b, refs[i].size);
			if (!is_data || !lean) {
				buf_add(b, refs[i].ptr, refs[i].size);
				wb_u8(b, 0);
			}
			count++;
		}
		idx[refs[i].flat] = (uint32_t)(count - 1);
	}
}

static void
wb_header(struct buf *b)
{
	wb_u8(b, WIRE_MAGIC0);
	wb_u8(b, WIRE_MAGIC1);
	wb_u8(b, WIRE_MAGIC2);
	wb_u8(b, WIRE_VERSION);
	wb_le(b, 0, 8); /* the body length, set by wb_finish */
}

static void
wb_finish(struct buf *b, unsigned char **out, size_t *len)
{
	uint64_t body = b->len - WIRE_HEADER_SIZE;
	unsigned char *p = (unsigned char *)b->p;

	for (int i = 0; i < 8; i++)
		p[4 + i] = (unsigned char)(body >> (8 * i));
	*out = (unsigned char *)buf_take(b, len);
}

static void
encode_upload(const struct upload *u, int lean, unsigned char **out,
    size_t *len);

void
wire_encode_upload(const struct upload *u, unsigned char **out, size_t *len)
{
	encode_upload(u, wire_upload_lean(u), out, len);
}

void
wire_encode_upload_all(const struct upload *u, unsigned char **out,
    size_t *len)
{
	encode_upload(u, 0, out, len);
}

static void
encode_upload(const struct upload *u, int lean, unsigned char **out,
    size_t *len)
{
	struct buf b = { 0 };
	struct wref *refs;
	uint32_t *name_idx, *data_idx;
	size_t total = 0, flat, reserve = 4096;

	for (size_t i = 0; i < u->nitems; i++)
		total += u->items[i].nfiles;
	refs = xreallocarray(NULL, total ? total : 1, sizeof(*refs));
	name_idx = xreallocarray(NULL, total ? total : 1, sizeof(*name_idx));
	data_idx = xreallocarray(NULL, total ? total : 1, sizeof(*data_idx));
	if (u->ac != NULL)
		reserve += (lean ? 0 : u->ac->unpacked) + u->ac->n * 96;

	/* One allocation for the common case: the contents and a margin. */
	buf_reserve(&b, reserve);
	wb_header(&b);
	wb_u8(&b, WIRE_UPLOAD);
	wb_errlist(&b, u->errs);

	flat = 0;
	for (size_t i = 0; i < u->nitems; i++)
		for (size_t j = 0; j < u->items[i].nfiles; j++, flat++) {
			refs[flat].key = refs[flat].ptr = u->items[i].files[j].name;
			refs[flat].size = strlen(u->items[i].files[j].name);
			refs[flat].flat = flat;
			refs[flat].sha256 = NULL;
		}
	wb_table(&b, refs, total, name_idx, 0, 0);
	flat = 0;
	for (size_t i = 0; i < u->nitems; i++)
		for (size_t j = 0; j < u->items[i].nfiles; j++, flat++) {
			refs[flat].ptr = u->items[i].files[j].data;
			refs[flat].key = refs[flat].ptr != NULL ? refs[flat].ptr :
			    (const void *)u->items[i].files[j].sha256;
			refs[flat].size = u->items[i].files[j].size;
			refs[flat].flat = flat;
			refs[flat].sha256 = u->items[i].files[j].sha256;
		}
	wb_table(&b, refs, total, data_idx, 1, lean);

	wb_u32(&b, u->nitems);
	flat = 0;
	for (size_t i = 0; i < u->nitems; i++) {
		const struct item *it = &u->items[i];
		unsigned mask = 0;

		wb_u8(&b, it->kind);
		wb_str(&b, it->path);
		buf_add(&b, it->sha256, sizeof(it->sha256));
		wb_errlist(&b, it->errs);
		mask |= it->filing ? DOC_FILING : 0;
		mask |= it->verification ? DOC_VERIFICATION : 0;
		mask |= it->withdrawal ? DOC_WITHDRAWAL : 0;
		mask |= it->handback ? DOC_HANDBACK : 0;
		mask |= it->decision ? DOC_DECISION : 0;
		wb_u8(&b, mask);
		if (it->filing)
			wb_filing(&b, it->filing);
		if (it->verification)
			wb_verification(&b, it->verification);
		if (it->withdrawal) {
			wb_str(&b, it->withdrawal->filing);
			wb_str(&b, it->withdrawal->reason);
		}
		if (it->handback) {
			wb_str(&b, it->handback->filing);
			wb_issues(&b, it->handback->issues,
			    it->handback->nissues);
		}
		if (it->decision)
			wb_decision(&b, it->decision);
		wb_u32(&b, it->nfiles);
		for (size_t j = 0; j < it->nfiles; j++, flat++) {
			wb_le(&b, name_idx[flat], 4);
			wb_le(&b, data_idx[flat], 4);
		}
	}
	free(refs);
	free(name_idx);
	free(data_idx);
	wb_mail(&b, u->mail);
	wb_finish(&b, out, len);
}

void
wire_encode_whole(enum ar_whole w, unsigned char **out, size_t *len)
{
	struct buf b = { 0 };

	wb_header(&b);
	wb_u8(&b, WIRE_WHOLE);
	wb_u8(&b, w);
	wb_finish(&b, out, len);
}

void
wire_encode_error(const char *reason, unsigned char **out, size_t *len)
{
	struct buf b = { 0 };

	wb_header(&b);
	wb_u8(&b, WIRE_ERROR);
	wb_str(&b, reason);
	wb_finish(&b, out, len);
}
