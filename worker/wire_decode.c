/*
 * wire: decode a worker's answer in the parent (the layout is described
 * in wire.c, which encodes it).
 *
 * Hostile input: the frame.  It was written by a process that parsed
 * hostile bytes and may be under an attacker's control, so the decoder
 * trusts nothing in it: each read is checked against the bytes left, each
 * count against the limits of the configuration and the bytes left, each
 * enum against its range, each string for NUL bytes (and file names for
 * UTF-8), and the memory it allocates is charged against a budget of a
 * few times the frame's size.  Any inconsistency is an error; the decoder
 * never aborts on bad input and never leaves a half-built upload behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "worker/wire.h"
#include "worker/wire_int.h"

/* Repeated elements of one document; the XML parser keeps far fewer. */
#define WIRE_LIST_MAX 4096
/* What the decoder may allocate: this many times the frame, plus slack. */
#define WIRE_BUDGET_FACTOR 4
#define WIRE_BUDGET_SLACK (1U << 20)
/* Charged per allocation besides its size (malloc's own overhead). */
#define WIRE_ALLOC_COST 32

/* ---- decoder ------------------------------------------------------------ */

int
wire_header_parse(const unsigned char *hdr, uint64_t max, size_t *total)
{
	uint64_t body = 0;

	if (hdr[0] != WIRE_MAGIC0 || hdr[1] != WIRE_MAGIC1 ||
	    hdr[2] != WIRE_MAGIC2 || hdr[3] != WIRE_VERSION)
		return -1;
	for (int i = 0; i < 8; i++)
		body |= (uint64_t)hdr[4 + i] << (8 * i);
	if (body > max || body > SIZE_MAX - WIRE_HEADER_SIZE ||
	    body + WIRE_HEADER_SIZE > max)
		return -1;
	*total = (size_t)body + WIRE_HEADER_SIZE;
	return 0;
}

/* A reader with a sticky error: after the first failure every read
 * yields zero or NULL, so loops end and the caller checks once. */
struct rd {
	const unsigned char *start, *p, *end;
	const char *why;
	size_t at;       /* where the first failure was found */
	uint64_t budget; /* bytes the decoder may still allocate */
	const struct input_limits *lim;
	int absent;      /* a content was left out */
};

static int
rd_fail(struct rd *r, const char *why)
{
	if (r->why == NULL) {
		r->why = why;
		r->at = (size_t)(r->p - r->start);
	}
	r->p = r->end;
	return -1;
}

static size_t
rd_left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

static int
rd_charge(struct rd *r, uint64_t n)
{
	n = sat_add(n, WIRE_ALLOC_COST);
	if (r->why != NULL)
		return -1;
	if (n > r->budget)
		return rd_fail(r, "frame asks for too much memory");
	r->budget -= n;
	return 0;
}

static const unsigned char *
rd_take(struct rd *r, size_t n)
{
	const unsigned char *p = r->p;

	if (r->why != NULL)
		return NULL;
	if (n > rd_left(r)) {
		rd_fail(r, "frame truncated");
		return NULL;
	}
	r->p += n;
	return p;
}

static uint64_t
rd_le(struct rd *r, int n)
{
	const unsigned char *p = rd_take(r, (size_t)n);
	uint64_t v = 0;

	if (p == NULL)
		return 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static unsigned
rd_u8(struct rd *r)
{
	return (unsigned)rd_le(r, 1);
}

static unsigned
rd_enum(struct rd *r, unsigned max)
{
	unsigned v = rd_u8(r);

	if (v > max) {
		rd_fail(r, "value out of range");
		return 0;
	}
	return v;
}

/* A count of elements each at least minsize bytes on the wire. */
static size_t
rd_count(struct rd *r, size_t minsize, uint64_t max)
{
	uint64_t n = rd_le(r, 4);

	if (r->why != NULL)
		return 0;
	if (n > max || n > rd_left(r) / minsize) {
		rd_fail(r, "count out of bounds");
		return 0;
	}
	return (size_t)n;
}

static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], need;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else
			return 0;
		if (n - i - 1 < need)
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* The bytes of a string, NUL-free; *isnull for the NULL marker. */
static const unsigned char *
rd_strbytes(struct rd *r, size_t *len, int *isnull)
{
	uint64_t n = rd_le(r, 4);
	const unsigned char *p;

	*isnull = 0;
	*len = 0;
	if (r->why != NULL)
		return NULL;
	if (n == WIRE_NULL) {
		*isnull = 1;
		return NULL;
	}
	if ((p = rd_take(r, (size_t)n)) == NULL)
		return NULL;
	if (memchr(p, '\0', (size_t)n) != NULL) {
		rd_fail(r, "NUL byte in a string");
		return NULL;
	}
	*len = (size_t)n;
	return p;
}

/* A string as a malloc'd copy (NULL stays NULL). */
static char *
rd_str(struct rd *r)
{
	const unsigned char *p;
	size_t n;
	int isnull;

	p = rd_strbytes(r, &n, &isnull);
	if (r->why != NULL || isnull)
		return NULL;
	if (rd_charge(r, (uint64_t)n + 1) != 0)
		return NULL;
	return xstrndup((const char *)p, n);
}

/* A string that may not be NULL. */
static char *
rd_str_nn(struct rd *r)
{
	const unsigned char *p;
	size_t n;
	int isnull;

	p = rd_strbytes(r, &n, &isnull);
	if (isnull)
		rd_fail(r, "NULL where a string is required");
	if (r->why != NULL)
		return NULL;
	if (rd_charge(r, (uint64_t)n + 1) != 0)
		return NULL;
	return xstrndup((const char *)p, n);
}

/* A zeroed array of n elements, charged; NULL for n == 0. */
static void *
rd_array(struct rd *r, size_t n, size_t size)
{
	if (n == 0 || r->why != NULL)
		return NULL;
	if (rd_charge(r, sat_mul(n, size)) != 0)
		return NULL;
	return xcalloc(n, size);
}

static void
rd_errlist(struct rd *r, struct errlist *el)
{
	uint64_t max = sat_add(sat_mul(r->lim->archive_max_entries, 4), 4096);
	size_t n = rd_count(r, 12, max);

	for (size_t i = 0; i < n && r->why == NULL; i++) {
		const unsigned char *name, *path, *msg;
		size_t nl, pl, ml;
		int nn, pn, mn;
		char cname[64];
		enum err_code code;

		name = rd_strbytes(r, &nl, &nn);
		path = rd_strbytes(r, &pl, &pn);
		msg = rd_strbytes(r, &ml, &mn);
		if (r->why != NULL)
			return;
		if (nn || pn || mn) {
			rd_fail(r, "NULL in a finding");
			return;
		}
		if (nl >= sizeof(cname)) {
			rd_fail(r, "unknown error code");
			return;
		}
		memcpy(cname, name, nl);
		cname[nl] = '\0';
		if (err_code_parse(cname, &code) != 0) {
			rd_fail(r, "unknown error code");
			return;
		}
		if (rd_charge(r, sat_add((uint64_t)pl + 2 + sizeof(struct err_item),
		    ml)) != 0)
			return;
		{
			/* errlist_add wants C strings; the frame has none. */
			char *p = xstrndup((const char *)path, pl);
			char *m = xstrndup((const char *)msg, ml);

			errlist_add(el, code, p, "%s", m);
			free(p);
			free(m);
		}
	}
}

static void
rd_attachments(struct rd *r, struct attachment **out, size_t *nout)
{
	size_t n = rd_count(r, 8, WIRE_LIST_MAX);
	struct attachment *a = rd_array(r, n, sizeof(*a));

	if (a == NULL)
		return;
	*out = a;
	*nout = n;
	for (size_t i = 0; i < n; i++) {
		a[i].kind = rd_str(r);
		a[i].file = rd_str(r);
	}
}

static struct person *
rd_person(struct rd *r)
{
	struct person *p;

	if (rd_enum(r, 1) == 0)
		return NULL;
	if ((p = rd_array(r, 1, sizeof(*p))) == NULL)
		return NULL;
	p->name = rd_str(r);
	p->cert_type = rd_str(r);
	p->cert_number = rd_str(r);
	p->cert_valid_to = rd_str(r);
	p->mobile = rd_str(r);
	p->office_phone = rd_str(r);
	p->email = rd_str(r);
	rd_attachments(r, &p->attachments, &p->nattachments);
	return p;
}

static void
rd_strv(struct rd *r, char ***out, size_t *nout)
{
	size_t n = rd_count(r, 4, WIRE_LIST_MAX);
	char **v = rd_array(r, n, sizeof(*v));

	if (v == NULL)
		return;
	*out = v;
	*nout = n;
	for (size_t i = 0; i < n; i++)
		v[i] = rd_str(r);
}

static void
rd_issues(struct rd *r, struct issue **out, size_t *nout)
{
	size_t n = rd_count(r, 12, WIRE_LIST_MAX);
	struct issue *is = rd_array(r, n, sizeof(*is));

	if (is == NULL)
		return;
	*out = is;
	*nout = n;
	for (size_t i = 0; i < n; i++) {
		is[i].path = rd_str(r);
		is[i].code = rd_str(r);
		is[i].text = rd_str(r);
	}
}

static void
rd_website(struct rd *r, struct website *w)
{
	size_t n;

	w->name = rd_str(r);
	rd_strv(r, &w->domains, &w->ndomains);
	rd_strv(r, &w->home_urls, &w->nhome_urls);
	w->service_content = rd_str(r);
	rd_strv(r, &w->languages, &w->nlanguages);
	n = rd_count(r, 12, WIRE_LIST_MAX);
	if ((w->preapprovals = rd_array(r, n, sizeof(*w->preapprovals)))) {
		w->npreapprovals = n;
		for (size_t j = 0; j < n; j++) {
			w->preapprovals[j].type = rd_str(r);
			w->preapprovals[j].number = rd_str(r);
			w->preapprovals[j].file = rd_str(r);
		}
	}
	w->manager = rd_person(r);
	n = rd_count(r, 12, WIRE_LIST_MAX);
	if ((w->accesses = rd_array(r, n, sizeof(*w->accesses))) == NULL)
		return;
	w->naccesses = n;
	for (size_t j = 0; j < n; j++) {
		struct access *a = &w->accesses[j];
		size_t m;

		a->method = rd_str(r);
		a->server_location = rd_str(r);
		m = rd_count(r, 21, WIRE_LIST_MAX);
		if ((a->ips = rd_array(r, m, sizeof(*a->ips))) == NULL)
			continue;
		a->nips = m;
		for (size_t k = 0; k < m; k++) {
			uint64_t index;

			a->ips[k].is_range = (int)rd_enum(r, 1);
			index = rd_le(r, 8);
			if (index > SIZE_MAX)
				rd_fail(r, "value out of range");
			a->ips[k].index = (size_t)index;
			a->ips[k].ip = rd_str(r);
			a->ips[k].start = rd_str(r);
			a->ips[k].end = rd_str(r);
		}
	}
}

static struct filing *
rd_filing(struct rd *r)
{
	struct filing *f;
	size_t n;

	if ((f = rd_array(r, 1, sizeof(*f))) == NULL)
		return NULL;
	f->id = rd_str(r);
	f->type = (enum filing_type)rd_enum(r, FILING_CANCEL_ACCESS);
	f->mode = (enum filing_mode)rd_enum(r, FILING_MODE_DELEGATED);
	f->province = rd_str(r);
	f->subject_licence = rd_str(r);
	f->site_licence = rd_str(r);
	f->password = rd_str(r);
	if (rd_enum(r, 1) == 1 &&
	    (f->sponsor = rd_array(r, 1, sizeof(*f->sponsor))) != NULL) {
		struct sponsor *s = f->sponsor;

		s->name = rd_str(r);
		s->nature = rd_str(r);
		s->cert_type = rd_str(r);
		s->cert_number = rd_str(r);
		s->cert_address = rd_str(r);
		s->region = rd_str(r);
		s->address = rd_str(r);
		s->investor = rd_str(r);
		rd_attachments(r, &s->attachments, &s->nattachments);
		s->principal = rd_person(r);
	}
	n = rd_count(r, 29, WIRE_LIST_MAX);
	if ((f->websites = rd_array(r, n, sizeof(*f->websites))) != NULL) {
		f->nwebsites = n;
		for (size_t i = 0; i < n; i++)
			rd_website(r, &f->websites[i]);
	}
	return f;
}

static struct verification *
rd_verification(struct rd *r)
{
	struct verification *v;

	if ((v = rd_array(r, 1, sizeof(*v))) == NULL)
		return NULL;
	v->filing = rd_str(r);
	v->result = rd_str(r);
	v->verifier = rd_str(r);
	v->verified_at = rd_str(r);
	for (int i = 0; i < 7; i++)
		v->checks[i] = (int)rd_enum(r, 2) - 1;
	v->photo_file = rd_str(r);
	v->scan_file = rd_str(r);
	rd_issues(r, &v->issues, &v->nissues);
	return v;
}

static struct decision *
rd_decision(struct rd *r)
{
	struct decision *d;

	if ((d = rd_array(r, 1, sizeof(*d))) == NULL)
		return NULL;
	d->filing = rd_str(r);
	d->result = rd_str(r);
	d->token = rd_str(r);
	d->reviewer = rd_str(r);
	d->reviewed_at = rd_str(r);
	d->licence = rd_str(r);
	d->reason_code = rd_str(r);
	d->reason_text = rd_str(r);
	return d;
}

static struct withdrawal *
rd_withdrawal(struct rd *r)
{
	struct withdrawal *w;

	if ((w = rd_array(r, 1, sizeof(*w))) == NULL)
		return NULL;
	w->filing = rd_str(r);
	w->reason = rd_str(r);
	return w;
}

static struct handback *
rd_handback(struct rd *r)
{
	struct handback *h;

	if ((h = rd_array(r, 1, sizeof(*h))) == NULL)
		return NULL;
	h->filing = rd_str(r);
	rd_issues(r, &h->issues, &h->nissues);
	return h;
}

/* Mail header values: a line of a header is far below this. */
#define WIRE_MAIL_STR_MAX 4096

/* A mail string: not NULL, bounded, UTF-8 without control bytes. */
static char *
rd_mail_str(struct rd *r, size_t max)
{
	const unsigned char *p;
	size_t n;
	int isnull;

	p = rd_strbytes(r, &n, &isnull);
	if (r->why != NULL)
		return NULL;
	if (isnull || n > max || !utf8_valid(p, n)) {
		rd_fail(r, "bad mail field");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f) {
			rd_fail(r, "control byte in a mail field");
			return NULL;
		}
	if (rd_charge(r, (uint64_t)n + 1) != 0)
		return NULL;
	return xstrndup((const char *)p, n);
}

static void
rd_mail_buf(struct rd *r, char *buf, size_t size)
{
	char *s = rd_mail_str(r, size - 1);

	if (s != NULL)
		memcpy(buf, s, strlen(s) + 1);
	free(s);
}

static struct mail_meta *
rd_mail(struct rd *r)
{
	struct mail_meta *mm;
	const unsigned char *sha;

	if (rd_enum(r, 1) == 0 || r->why != NULL)
		return NULL;
	if (rd_charge(r, sizeof(*mm)) != 0)
		return NULL;
	mm = xcalloc(1, sizeof(*mm));
	mm->message_id = rd_mail_str(r, WIRE_MAIL_STR_MAX);
	mm->from_addr = rd_mail_str(r, WIRE_MAIL_STR_MAX);
	mm->return_path = rd_mail_str(r, WIRE_MAIL_STR_MAX);
	rd_mail_buf(r, mm->tag_id, sizeof(mm->tag_id));
	rd_mail_buf(r, mm->tag_token, sizeof(mm->tag_token));
	rd_mail_buf(r, mm->review_token, sizeof(mm->review_token));
	mm->automated = (int)rd_enum(r, 1);
	mm->command = (int)rd_enum(r, 3);
	mm->reason = rd_mail_str(r, WIRE_MAIL_STR_MAX);
	mm->no_package = (int)rd_enum(r, 1);
	if ((sha = rd_take(r, sizeof(mm->sha256))) != NULL)
		memcpy(mm->sha256, sha, sizeof(mm->sha256));
	return mm;
}

struct rd_file {
	const unsigned char *p;  /* NULL: left out */
	size_t size;
	const unsigned char *sha256;
};

/* The names or contents table: views into the frame, each followed by
 * the NUL the encoder put there. */
static struct rd_file *
rd_table(struct rd *r, size_t *nout, int is_data)
{
	uint64_t max = sat_add(r->lim->archive_max_entries, 1);
	uint64_t sum = 0;
	struct rd_file *t;
	size_t n;

	n = rd_count(r, is_data ? 8 + SHA256_LEN + 1 : 5, max);
	*nout = 0;
	if (n == 0 || r->why != NULL)
		return NULL;
	if (rd_charge(r, sat_mul(n, sizeof(*t))) != 0)
		return NULL;
	t = xcalloc(n, sizeof(*t));
	for (size_t i = 0; i < n && r->why == NULL; i++) {
		uint64_t size = rd_le(r, is_data ? 8 : 4);
		const unsigned char *p, *sha = NULL;

		if (is_data) {
			sha = rd_take(r, SHA256_LEN);
			if (rd_enum(r, 1) == 0 && r->why == NULL) {
				/* left out: only its size counts */
				sum = sat_add(sum, size);
				if (sum > r->lim->archive_max_unpacked)
					rd_fail(r, "more contents than an "
					    "archive may unpack to");
				t[i].size = (size_t)size;
				t[i].sha256 = sha;
				r->absent = 1;
				continue;
			}
		}
		if (r->why != NULL)
			break;
		if (size >= rd_left(r)) {
			rd_fail(r, "frame truncated");
			break;
		}
		p = rd_take(r, (size_t)size + 1);
		if (p[size] != '\0') {
			rd_fail(r, "table entry not terminated");
			break;
		}
		if (is_data) {
			sum += size;
			if (sum > r->lim->archive_max_unpacked)
				rd_fail(r, "more contents than an archive "
				    "may unpack to");
		} else if (size > r->lim->path_max || size == 0 ||
		    memchr(p, '\0', (size_t)size) != NULL ||
		    !utf8_valid(p, (size_t)size))
			rd_fail(r, "bad file name");
		t[i].p = p;
		t[i].size = (size_t)size;
		t[i].sha256 = sha;
	}
	if (r->why != NULL) {
		free(t);
		return NULL;
	}
	*nout = n;
	return t;
}

static struct upload *
rd_upload(struct rd *r)
{
	struct upload *u = xcalloc(1, sizeof(*u));
	struct rd_file *names = NULL, *data = NULL;
	size_t nnames, ndata, nitems;

	u->errs = errlist_new();
	rd_errlist(r, u->errs);
	names = rd_table(r, &nnames, 0);
	data = rd_table(r, &ndata, 1);
	nitems = rd_count(r, 46, sat_add(r->lim->archive_max_entries, 1));
	if ((u->items = rd_array(r, nitems, sizeof(*u->items))) == NULL)
		nitems = 0;
	for (size_t i = 0; i < nitems && r->why == NULL; i++) {
		struct item *it = &u->items[i];
		const unsigned char *sha;
		unsigned mask;
		size_t nf;

		/* Counted now so that upload_free frees what is built. */
		u->nitems = i + 1;
		it->kind = (enum item_kind)rd_enum(r, ITEM_DECISION);
		it->path = rd_str_nn(r);
		if ((sha = rd_take(r, sizeof(it->sha256))) != NULL)
			memcpy(it->sha256, sha, sizeof(it->sha256));
		it->errs = errlist_new();
		rd_errlist(r, it->errs);
		mask = rd_u8(r);
		if (mask & ~0x1fU)
			rd_fail(r, "unknown document");
		if (mask & DOC_FILING)
			it->filing = rd_filing(r);
		if (mask & DOC_VERIFICATION)
			it->verification = rd_verification(r);
		if (mask & DOC_WITHDRAWAL)
			it->withdrawal = rd_withdrawal(r);
		if (mask & DOC_HANDBACK)
			it->handback = rd_handback(r);
		if (mask & DOC_DECISION)
			it->decision = rd_decision(r);
		nf = rd_count(r, 8, r->lim->archive_max_entries);
		if ((it->files = rd_array(r, nf, sizeof(*it->files))) == NULL)
			continue;
		it->nfiles = nf;
		for (size_t j = 0; j < nf; j++) {
			uint64_t ni = rd_le(r, 4), di = rd_le(r, 4);

			if (r->why != NULL)
				break;
			if (ni >= nnames || di >= ndata) {
				rd_fail(r, "file reference out of range");
				break;
			}
			it->files[j].name = (const char *)names[ni].p;
			it->files[j].data = data[di].p;
			it->files[j].size = data[di].size;
			it->files[j].sha256 = data[di].sha256;
		}
	}
	free(names);
	free(data);
	if (r->why == NULL)
		u->mail = rd_mail(r);
	if (r->why == NULL && r->absent && !wire_upload_lean(u))
		rd_fail(r, "contents left out of an upload that needs them");
	return u;
}

int
wire_decode(unsigned char **frame, size_t len, const struct input_limits *lim,
    struct wire_answer *out, char *err, size_t errsize)
{
	struct rd r;
	struct wire_answer a;
	size_t total;

	memset(&a, 0, sizeof(a));
	if (len < WIRE_HEADER_SIZE ||
	    wire_header_parse(*frame, wire_frame_max(lim), &total) != 0) {
		snprintf(err, errsize, "bad frame header");
		return -1;
	}
	if (total != len) {
		snprintf(err, errsize, "frame length %zu, header says %zu",
		    len, total);
		return -1;
	}
	r.start = *frame;
	r.p = *frame + WIRE_HEADER_SIZE;
	r.at = 0;
	r.end = *frame + len;
	r.why = NULL;
	r.lim = lim;
	r.budget = sat_add(sat_mul(len, WIRE_BUDGET_FACTOR), WIRE_BUDGET_SLACK);
	r.absent = 0;
	a.kind = (enum wire_kind)rd_u8(&r);
	switch (a.kind) {
	case WIRE_WHOLE:
		a.whole = (enum ar_whole)rd_enum(&r, AR_NOT_ARCHIVE);
		break;
	case WIRE_ERROR: {
		const unsigned char *p;
		size_t n;
		int isnull;

		p = rd_strbytes(&r, &n, &isnull);
		if (r.why == NULL && isnull)
			rd_fail(&r, "NULL reason");
		if (r.why == NULL)
			snprintf(a.reason, sizeof(a.reason), "%.*s",
			    (int)(n < sizeof(a.reason) ? n : sizeof(a.reason)),
			    (const char *)p);
		break;
	}
	case WIRE_UPLOAD:
		a.upload = rd_upload(&r);
		break;
	default:
		rd_fail(&r, "unknown answer kind");
		break;
	}
	if (r.why == NULL && r.p != r.end)
		rd_fail(&r, "trailing bytes after the answer");
	if (r.why != NULL) {
		snprintf(err, errsize, "%s at byte %zu", r.why, r.at);
		upload_free(a.upload);
		return -1;
	}
	if (a.upload != NULL) {
		a.upload->bare = *frame;
		*frame = NULL; /* transferred */
	}
	*out = a;
	return 0;
}
