/*
 * mime: one raw RFC 5322 message into struct mime_mail: the walk over its
 * parts, and what beiand asks of a mail (is it automated, which command,
 * which package).  Header fields, parameters, charsets and transfer
 * encodings are decoded by mime_header.c.
 *
 * Every byte is hostile: anyone can mail the intake address.  This file
 * (with mime_header.c) splits headers and multiparts itself, so that it
 * controls nesting depth (MIME_MAX_DEPTH, checked before descending:
 * libetpan's mailmime_parse recurses without bound and its tree would
 * point into the buffer), the count and size of every decoded part, and
 * the leniency: a broken charset, transfer encoding, header or boundary
 * never fails the mail, what can be read is read and invalid bytes become
 * U+FFFD.  A filename is never a path: it is reduced to its last
 * component, and a name that is empty, ".", "..", over path_max or holds
 * a control byte is replaced.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xmalloc.h"
#include "parsers/archive_reader.h"
#include "parsers/mime.h"
#include "parsers/mime_int.h"
#include "parsers/tracking_id.h"

/* ---- subject tags */

static const char pw_alphabet[] =
    "23456789ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz";

static size_t
token_run(const char *s)
{
	size_t i = 0;

	while (s[i] != '\0' && strchr(pw_alphabet, s[i]) != NULL)
		i++;
	return i;
}

static void
subject_tags(struct mime_mail *m)
{
	const char *s = m->subject, *p;

	for (p = s ? strchr(s, '[') : NULL; p != NULL; p = strchr(p + 1, '[')) {
		const char *q = p + 1, *e;
		size_t k, n;

		/* the scanner stops at the NUL: no read past the end */
		if (m->tag_id[0] == '\0' && (n = tracking_id_scan(q)) > 0 &&
		    n < sizeof(m->tag_id) && (q[n] == ']' || is_wsp(q[n]))) {
			e = q + n;
			while (is_wsp(*e))
				e++;
			k = token_run(e);
			if (e[strcspn(e, "[]")] == ']') {
				memcpy(m->tag_id, q, n);
				m->tag_id[n] = '\0';
				if (k == 8 && e[k] == ']') {
					memcpy(m->tag_token, e, 8);
					m->tag_token[8] = '\0';
				}
			}
		}
		if (m->review_token[0] == '\0' &&
		    strncasecmp(q, "review:", 7) == 0 &&
		    (k = token_run(q + 7)) == 16 && q[7 + 16] == ']') {
			memcpy(m->review_token, q + 7, 16);
			m->review_token[16] = '\0';
		}
	}
}

/* ---- the MIME walk */

struct walk {
	const struct input_limits *lim;
	struct errlist *errs;
	struct mime_mail *m;
	size_t cap;
	uint64_t total;
	int have_text;
	int too_many;
	int too_deep;
};

static char *
file_name_safe(const char *fn, size_t idx, const char *suffix,
    const struct input_limits *lim)
{
	const char *base = fn, *p;
	size_t n;

	if (fn != NULL) {
		for (p = fn; *p != '\0'; p++)
			if (*p == '/' || *p == '\\')
				base = p + 1;
		while (is_space(*base))
			base++;
		n = strlen(base);
		while (n > 0 && is_space(base[n - 1]))
			n--;
		for (p = base; p < base + n; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				break;
		if (n > 0 && p == base + n && n <= lim->path_max &&
		    !(n == 1 && base[0] == '.') &&
		    !(n == 2 && base[0] == '.' && base[1] == '.'))
			return xstrndup(base, n);
	}
	return xasprintf("attachment-%zu%s", idx, suffix);
}

/* Account one decoded part; 0 when it is within the limits. */
static int
part_admit(struct walk *w, size_t len, const char *path)
{
	if (len > w->lim->archive_max_bytes) {
		errlist_add(w->errs, ERR_ARCHIVE_TOO_LARGE, path,
		    "邮件部分超过 %llu 字节 / a mail part is over %llu bytes",
		    (unsigned long long)w->lim->archive_max_bytes,
		    (unsigned long long)w->lim->archive_max_bytes);
		return -1;
	}
	if (w->total + len > w->lim->archive_max_unpacked) {
		errlist_add(w->errs, ERR_ARCHIVE_BOMB, "/",
		    "邮件解码后超过 %llu 字节 / the decoded mail is over %llu bytes",
		    (unsigned long long)w->lim->archive_max_unpacked,
		    (unsigned long long)w->lim->archive_max_unpacked);
		return -1;
	}
	w->total += len;
	return 0;
}

static void
text_set(struct walk *w, const struct params *ct, const char *cte,
    const char *p, size_t n)
{
	struct sbuf raw = { 0 }, out = { 0 };
	const char *cs = mime_param_raw(ct, "charset");
	char *u;
	size_t i;

	mime_body_decode(&raw, cte, p, n);
	w->have_text = 1;
	if (part_admit(w, raw.len, "/") != 0) {
		free(raw.s);
		return;
	}
	/* A missing charset is us-ascii by RFC 2045; read it as UTF-8 or
	 * GB18030, as raw 8-bit text really is. */
	u = mime_charset_decode(cs, raw.s ? raw.s : "", raw.len);
	free(raw.s);
	for (i = 0; u[i] != '\0'; i++) {
		if (u[i] == '\r') {
			sb_addc(&out, '\n');
			if (u[i + 1] == '\n')
				i++;
		} else
			sb_addc(&out, u[i]);
	}
	free(u);
	free(w->m->text);
	w->m->text = sb_done(&out);
}

static void
attachment_add(struct walk *w, const char *type, const char *fname,
    const char *cte, const char *p, size_t n)
{
	struct mime_mail *m = w->m;
	struct mime_attachment *a;
	struct sbuf data = { 0 };
	char *name;

	if (w->too_many)
		return;
	if (m->nattachments >= w->lim->archive_max_entries) {
		errlist_add(w->errs, ERR_ARCHIVE_TOO_MANY_ENTRIES, "/",
		    "邮件附件超过 %llu 个 / more than %llu attachments",
		    (unsigned long long)w->lim->archive_max_entries,
		    (unsigned long long)w->lim->archive_max_entries);
		w->too_many = 1;
		return;
	}
	name = file_name_safe(fname, m->nattachments + 1,
	    strcmp(type, "message/rfc822") == 0 ? ".eml" : "", w->lim);
	mime_body_decode(&data, cte, p, n);
	if (part_admit(w, data.len, name) != 0) {
		free(data.s);
		free(name);
		return;
	}
	xgrow(&m->attachments, &w->cap, m->nattachments, sizeof(*a));
	a = &m->attachments[m->nattachments++];
	a->filename = name;
	a->content_type = xstrdup(type[0] ? type : "application/octet-stream");
	ctl_blank(a->content_type);
	a->len = data.len;
	a->data = (unsigned char *)sb_done(&data);
}

static void part_walk(struct walk *, const char *, size_t, int, int);

/* The parts of a multipart body, each walked at depth. */
static void
multipart_walk(struct walk *w, const char *p, size_t n, const char *bd,
    int depth, int digest)
{
	size_t bl = strlen(bd), i = 0, start = 0;
	int in_part = 0;

	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t eol = nl ? (size_t)(nl - p) : n;
		size_t next = nl ? eol + 1 : n;
		size_t j = i + 2 + bl, end;
		int close = 0;

		if (eol - i < 2 + bl || p[i] != '-' || p[i + 1] != '-' ||
		    memcmp(p + i + 2, bd, bl) != 0) {
			i = next;
			continue;
		}
		if (j + 1 < eol && p[j] == '-' && p[j + 1] == '-') {
			close = 1;
			j += 2;
		}
		while (j < eol && is_space(p[j]))
			j++;
		if (j != eol) {
			i = next; /* a longer boundary that starts alike */
			continue;
		}
		if (in_part) {
			/* The line end before the delimiter belongs to it. */
			end = i;
			if (end > start && p[end - 1] == '\n')
				end--;
			if (end > start && p[end - 1] == '\r')
				end--;
			part_walk(w, p + start, end - start, depth, digest);
		}
		if (close)
			return;
		in_part = 1;
		start = next;
		i = next;
	}
	if (in_part) /* no close delimiter: a cut mail, read what is there */
		part_walk(w, p + start, n - start, depth, digest);
}

static void
part_walk(struct walk *w, const char *p, size_t n, int depth, int digest)
{
	struct hdrs h = { 0 };
	struct params ct, cd;
	const char *v, *cte, *type;
	size_t off;
	char *fname = NULL;
	int is_att;

	off = mime_hdrs_parse(p, n, &h);
	mime_params_parse((v = mime_hdr_get(&h, "content-type")) ? v : "", &ct);
	if (ct.token[0] == '\0' || strchr(ct.token, '/') == NULL) {
		free(ct.token);
		ct.token = xstrdup(digest ? "message/rfc822" : "text/plain");
	}
	type = ct.token;
	mime_params_parse((v = mime_hdr_get(&h, "content-disposition")) ? v : "", &cd);
	cte = mime_hdr_get(&h, "content-transfer-encoding");

	if (strncmp(type, "multipart/", 10) == 0) {
		const char *bd = mime_param_raw(&ct, "boundary");

		if (depth == 0 && strcmp(type, "multipart/report") == 0)
			w->m->is_dsn = 1;
		if (bd == NULL || bd[0] == '\0')
			goto out; /* no way to split it: nothing usable */
		if (depth + 1 > MIME_MAX_DEPTH) {
			if (!w->too_deep)
				errlist_add(w->errs, ERR_ARCHIVE_BOMB, "/",
				    "邮件嵌套超过 %d 层 / multiparts nested over %d deep",
				    MIME_MAX_DEPTH, MIME_MAX_DEPTH);
			w->too_deep = 1;
			goto out;
		}
		multipart_walk(w, p + off, n - off, bd, depth + 1,
		    strcmp(type, "multipart/digest") == 0);
		goto out;
	}

	if ((fname = mime_param_get(&cd, "filename")) == NULL)
		fname = mime_param_get(&ct, "name");
	is_att = fname != NULL || strcmp(cd.token, "attachment") == 0 ||
	    strncmp(type, "text/", 5) != 0;
	if (!is_att) {
		if (strcmp(type, "text/plain") == 0 && !w->have_text)
			text_set(w, &ct, cte, p + off, n - off);
		goto out;
	}
	attachment_add(w, type, fname, cte, p + off, n - off);
out:
	free(fname);
	mime_params_free(&ct);
	mime_params_free(&cd);
	mime_hdrs_free(&h);
}

/* ---- public */

int
mime_parse(const void *buf, size_t len, const struct input_limits *lim,
    struct mime_mail **out, struct errlist *errs)
{
	const char *p = buf;
	struct mime_mail *m;
	struct hdrs h = { 0 };
	struct walk w;
	const char *v;
	size_t skip = 0;

	if (len > lim->mail_max_bytes) {
		errlist_add(errs, ERR_MAIL_TOO_LARGE, "/", NULL);
		return -1;
	}
	/* An mbox "From " line may lead a message saved by hand. */
	if (len >= 5 && memcmp(p, "From ", 5) == 0) {
		const char *nl = memchr(p, '\n', len);

		skip = nl ? (size_t)(nl - p) + 1 : len;
	}
	if (len == skip || mime_field_name_len(p + skip, len - skip) == 0) {
		errlist_add(errs, ERR_NO_PACKAGE, "/",
		    "不是邮件 / not an RFC 5322 message");
		return -1;
	}
	p += skip;
	len -= skip;

	m = xcalloc(1, sizeof(*m));
	(void)mime_hdrs_parse(p, len, &h);
	if ((v = mime_hdr_get(&h, "message-id")) != NULL)
		m->message_id = mime_angle_value(v);
	if ((v = mime_hdr_get(&h, "from")) != NULL)
		mime_mailbox_get(v, &m->from_addr, &m->from_display);
	if ((v = mime_hdr_get(&h, "reply-to")) != NULL)
		mime_mailbox_get(v, &m->reply_to_addr, NULL);
	if ((v = mime_hdr_get(&h, "subject")) != NULL)
		m->subject = mime_header_decode(v);
	if ((v = mime_hdr_get(&h, "return-path")) != NULL) {
		m->return_path = mime_angle_value(v);
		if (m->return_path[0] != '\0') {
			char *a = mime_addr_clean(m->return_path,
			    strlen(m->return_path));

			free(m->return_path);
			/* unreadable but not null: keep it non-empty */
			m->return_path = a ? a : xstrdup("?");
		}
	}
	if ((v = mime_hdr_get(&h, "auto-submitted")) != NULL)
		m->auto_submitted = mime_header_copy(v);
	if ((v = mime_hdr_get(&h, "precedence")) != NULL)
		m->precedence = mime_header_copy(v);
	if ((v = mime_hdr_get(&h, "list-id")) != NULL)
		m->list_id = mime_header_copy(v);
	m->has_loop_header = mime_hdr_get(&h, "x-beiand-loop") != NULL;
	mime_hdrs_free(&h);
	subject_tags(m);

	memset(&w, 0, sizeof(w));
	w.lim = lim;
	w.errs = errs;
	w.m = m;
	part_walk(&w, p, len, 0, 0);
	if (m->text == NULL)
		m->text = xstrdup("");
	*out = m;
	return 0;
}

void
mime_mail_free(struct mime_mail *m)
{
	if (m == NULL)
		return;
	free(m->message_id);
	free(m->from_addr);
	free(m->from_display);
	free(m->reply_to_addr);
	free(m->subject);
	free(m->return_path);
	free(m->auto_submitted);
	free(m->precedence);
	free(m->list_id);
	free(m->text);
	for (size_t i = 0; i < m->nattachments; i++) {
		free(m->attachments[i].filename);
		free(m->attachments[i].content_type);
		free(m->attachments[i].data);
	}
	free(m->attachments);
	free(m);
}

int
mime_addr_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL || a[0] == '\0')
		return 0;
	return strcasecmp(a, b) == 0;
}

/* The first word of a header value ("auto-replied; x=y" -> auto-replied). */
static int
first_word_is(const char *v, const char *word)
{
	size_t n = strlen(word);

	while (is_space(*v))
		v++;
	return strncasecmp(v, word, n) == 0 &&
	    (v[n] == '\0' || v[n] == ';' || is_space(v[n]) || v[n] == '(');
}

int
mime_is_automated(const struct mime_mail *m, const char *own_address)
{
	if (m->auto_submitted != NULL && !first_word_is(m->auto_submitted, "no"))
		return 1;
	if (m->is_dsn || m->has_loop_header || m->list_id != NULL)
		return 1;
	if (m->return_path != NULL && m->return_path[0] == '\0')
		return 1;
	if (m->precedence != NULL &&
	    (first_word_is(m->precedence, "bulk") ||
	    first_word_is(m->precedence, "junk") ||
	    first_word_is(m->precedence, "list")))
		return 1;
	if (own_address != NULL && mime_addr_equal(m->from_addr, own_address))
		return 1;
	return 0;
}

/* ASCII white space, U+3000 (ideographic space) and U+FEFF (BOM). */
static size_t
blank_len(const char *s, size_t n)
{
	if (n >= 1 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' ||
	    s[0] == '\f' || s[0] == '\v'))
		return 1;
	if (n >= 3 && memcmp(s, "\xe3\x80\x80", 3) == 0)
		return 3;
	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		return 3;
	return 0;
}

static void
trim(const char **s, size_t *n)
{
	size_t k;

	while (*n > 0 && (k = blank_len(*s, *n)) > 0) {
		*s += k;
		*n -= k;
	}
	for (;;) {
		if (*n >= 1 && blank_len(*s + *n - 1, 1) == 1)
			(*n)--;
		else if (*n >= 3 && blank_len(*s + *n - 3, 3) == 3)
			*n -= 3;
		else
			break;
	}
}

enum mime_command
mime_first_command(const struct mime_mail *m, char **reason)
{
	const char *s = m->text ? m->text : "", *l, *e;
	size_t n;

	for (l = s; *l != '\0'; l = e + (*e == '\n')) {
		e = strchr(l, '\n');
		if (e == NULL)
			e = l + strlen(l);
		n = (size_t)(e - l);
		trim(&l, &n);
		if (n == 0)
			continue;
		if (l[0] == '>')
			continue;
		if (n == 8 && strncasecmp(l, "withdraw", 8) == 0)
			return MIME_CMD_WITHDRAW;
		if (n == 7 && strncasecmp(l, "approve", 7) == 0)
			return MIME_CMD_APPROVE;
		if (n < 6 || strncasecmp(l, "reject", 6) != 0)
			return MIME_CMD_NONE;
		l += 6;
		n -= 6;
		trim(&l, &n);
		if (n > 0 && l[0] == ':') {
			l++;
			n--;
		} else if (n >= 3 && memcmp(l, "\xef\xbc\x9a", 3) == 0) {
			l += 3;
			n -= 3;
		} else if (n > 0)
			return MIME_CMD_NONE; /* "rejected", "reject it" */
		trim(&l, &n);
		if (reason != NULL)
			*reason = xstrndup(l, n);
		return MIME_CMD_REJECT;
	}
	return MIME_CMD_NONE;
}

static int
name_is_decision(const char *fn)
{
	size_t n = strlen(fn);

	return strcmp(fn, "decision.xml") == 0 ||
	    (n > 13 && strcmp(fn + n - 13, ".decision.xml") == 0);
}

int
mime_package_get(const struct mime_mail *m, struct mime_package *pkg,
    struct errlist *errs)
{
	struct mime_package r;
	size_t i, j;
	int has_filing = 0;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < m->nattachments; i++) {
		const struct mime_attachment *a = &m->attachments[i];

		if (r.archive == NULL && ar_sniff(a->data, a->len))
			r.archive = a;
		if (r.decision == NULL && name_is_decision(a->filename))
			r.decision = a;
		if (strcmp(a->filename, "filing.xml") == 0)
			has_filing = 1;
	}
	if (r.archive != NULL)
		r.kind = MIME_PKG_ARCHIVE;
	else if (has_filing) {
		for (i = 0; i < m->nattachments; i++)
			for (j = 0; j < i; j++)
				if (strcmp(m->attachments[i].filename,
				    m->attachments[j].filename) == 0) {
					errlist_add(errs,
					    ERR_ARCHIVE_DUPLICATE_ENTRY,
					    m->attachments[i].filename, NULL);
					return -1;
				}
		r.kind = MIME_PKG_FILES;
		r.files = xcalloc(m->nattachments, sizeof(*r.files));
		r.nfiles = m->nattachments;
		for (i = 0; i < m->nattachments; i++) {
			r.files[i].name = m->attachments[i].filename;
			r.files[i].data = m->attachments[i].data;
			r.files[i].size = m->attachments[i].len;
		}
	}
	*pkg = r;
	return 0;
}

void
mime_package_clear(struct mime_package *pkg)
{
	if (pkg == NULL)
		return;
	free(pkg->files);
	memset(pkg, 0, sizeof(*pkg));
}
