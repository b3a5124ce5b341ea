/*
 * test_mailer: the outbox delivery loop with the .eml transport.
 *
 * A real store in a temporary folder; filings are made and moved through
 * the workflow with the store API (as test_store.c does), then the mailer
 * writes the .eml files of state_dir/mail/, which are parsed back with libetpan.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "common/config.h"
#include "common/workflow.h"
#include "daemon/mailer.h"
#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "mail/eml.h"
#include "parsers/filing.h"
#include "store/admin.h"
#include "store/attachments.h"
#include "store/filings.h"
#include "store/outbox.h"
#include "store/query.h"
#include "store/store.h"
#include "store/transition.h"
#include "unit.h"

#define T0 ((time_t)1795000000) /* 2026-11-18 19:06:40 CST */

struct mctx {
	char dir[64], db[128], maildir[128];
	struct config cfg;
	struct config_provider prov[1];
	struct config_bureau bur;
	char *baddr[1];
	struct store *st;
	struct mailer *m;
};

static void
mctx_open(struct mctx *t)
{
	char err[256];

	memset(t, 0, sizeof(*t));
	strlcpy(t->dir, "/tmp/beiand-mailer-XXXXXX", sizeof(t->dir));
	if (mkdtemp(t->dir) == NULL)
		abort();
	snprintf(t->db, sizeof(t->db), "%s/beiand.db", t->dir);
	snprintf(t->maildir, sizeof(t->maildir), "%s/mail", t->dir);
	setenv("BEIAND_PWHASH_FAST", "1", 1);
	t->prov[0].code = (char *)"P001";
	t->prov[0].name = (char *)"示例云";
	t->prov[0].email = (char *)"filing@p001.example";
	strlcpy(t->bur.province, "11", sizeof(t->bur.province));
	t->baddr[0] = (char *)"review@bureau.example";
	t->bur.addresses = t->baddr;
	t->bur.naddresses = 1;
	t->bur.record_to = (char *)"records@bureau.example";
	t->cfg.smtp_url = (char *)"";
	t->cfg.smtp_from = (char *)"beian@provider.example";
	t->cfg.imap_address = (char *)"beian-in@provider.example";
	t->cfg.smtp_retry_min = 60;
	t->cfg.smtp_retry_max = 3600;
	t->cfg.smtp_max_age = 5 * 86400;
	t->cfg.state_dir = t->dir;
	t->cfg.providers = t->prov;
	t->cfg.nproviders = 1;
	t->cfg.bureaus = &t->bur;
	t->cfg.nbureaus = 1;
	t->st = store_open(t->db, &t->cfg, err, sizeof(err));
	if (t->st == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		abort();
	}
	t->m = mailer_new(&t->cfg, t->st, err, sizeof(err));
	if (t->m == NULL) {
		fprintf(stderr, "mailer_new: %s\n", err);
		abort();
	}
}

static void
mctx_close(struct mctx *t)
{
	mailer_free(t->m);
	store_close(t->st);
	unit_rmtree(t->dir);
}

/* ---- filings ------------------------------------------------------------ */

/* A delegated first filing by spool from P001; its id into id. */
static void
file_first(struct store *st, const char *cert, const char *owner, time_t now,
    char id[STORE_ID_SIZE])
{
	struct person principal = { 0 };
	struct sponsor sponsor = { 0 };
	struct website site = { 0 };
	struct filing f = { 0 };
	char dom[64], *doms[1] = { dom };
	struct store_package pkg = { &f, "<filing/>", NULL, NULL };
	struct store_actor w = { 0 };
	struct store_result r = { 0 };
	struct errlist *errs = errlist_new();

	snprintf(dom, sizeof(dom), "site-%s.example.cn", cert + 14);
	principal.email = (char *)owner;
	sponsor.name = (char *)"北京示例科技有限公司";
	sponsor.nature = (char *)"enterprise";
	sponsor.cert_type = (char *)"uscc";
	sponsor.cert_number = (char *)cert;
	sponsor.principal = &principal;
	site.name = (char *)"示例网站";
	site.domains = doms;
	site.ndomains = 1;
	f.type = FILING_FIRST;
	f.mode = FILING_MODE_DELEGATED;
	f.province = (char *)"11";
	f.sponsor = &sponsor;
	f.websites = &site;
	f.nwebsites = 1;
	w.kind = WF_ACTOR_PROVIDER;
	w.channel = WF_CHANNEL_SPOOL;
	w.name = "P001";
	w.provider = "P001";
	w.source = "0123abcd";
	w.now = now;
	r.errs = errs;
	CHECKM(store_filing_create(st, &pkg, &w, &r) == 0, "create: %s",
	    store_errmsg(st));
	CHECK_INT(r.state, WF_AWAITING_VERIFICATION);
	strlcpy(id, r.id, STORE_ID_SIZE);
	errlist_free(errs);
}

static int
op_move(struct store *st, const char *id, enum wf_state to, const char *reason,
    time_t now)
{
	struct store_transition_req req = { 0 };
	struct store_actor w = { 0 };
	struct store_result r = { 0 };
	struct errlist *errs = errlist_new();
	int rc;

	w.kind = WF_ACTOR_OPERATOR;
	w.channel = WF_CHANNEL_CLI;
	w.name = "root";
	w.provider = "P001";
	w.now = now;
	req.id = id;
	req.to = to;
	req.reason = reason;
	r.errs = errs;
	rc = store_transition(st, &req, &w, &r);
	errlist_free(errs);
	return rc;
}

/* The four kinds the review request attaches. */
static void
attach_all(struct store *st, const char *id)
{
	static const unsigned char zip[] = "PK\3\4 a package";
	static const unsigned char xml[] = "<?xml version=\"1.0\"?><verification/>";
	static const unsigned char jpg[] = "\xff\xd8\xff\xe0 photo";
	static const unsigned char pdf[] = "%PDF-1.4 scan";
	static const struct {
		const char *kind, *name;
		const unsigned char *data;
		size_t len;
	} a[] = {
		{ "package", "filing.xml", zip, sizeof(zip) - 1 },
		{ "verification", "batch/verification.xml", xml, sizeof(xml) - 1 },
		{ "onsite_photo", "现场照片.jpg", jpg, sizeof(jpg) - 1 },
		{ "checklist_scan", "scan.pdf", pdf, sizeof(pdf) - 1 },
	};
	char hex[65];

	for (size_t i = 0; i < 4; i++) {
		struct store_entry e = { a[i].name, a[i].data, a[i].len, NULL };
		struct store_blob b = { a[i].data, a[i].len, NULL, 0 };

		CHECKM(store_attachment_put(st, id, a[i].kind, &b, &e, 1,
		    hex) == 0, "attach %s: %s", a[i].kind,
		    store_errmsg(st));
	}
}

/* ---- the outbox -------------------------------------------------------------- */

#define MAXROWS 32

struct rows {
	size_t n;
	struct store_mail m[MAXROWS];
};

static int
rows_cb(const struct store_mail *m, void *arg)
{
	struct rows *v = arg;
	struct store_mail *c;

	if (v->n == MAXROWS)
		return 1;
	c = &v->m[v->n++];
	*c = *m;
	c->filing = m->filing ? xstrdup(m->filing) : NULL;
	c->role = xstrdup(m->role);
	c->to = xstrdup(m->to);
	c->params = xstrdup(m->params);
	c->message_id = xstrdup(m->message_id);
	c->state = xstrdup(m->state);
	c->last_reply = m->last_reply ? xstrdup(m->last_reply) : NULL;
	c->secret = m->secret ? xstrdup(m->secret) : NULL;
	return 0;
}

/* All rows not sent, by id. */
static void
rows_load(struct store *st, struct rows *v)
{
	memset(v, 0, sizeof(*v));
	CHECK(store_outbox_list(st, 0, rows_cb, v) == 0);
}

static void
rows_free(struct rows *v)
{
	for (size_t i = 0; i < v->n; i++) {
		struct store_mail *m = &v->m[i];

		free(m->filing);
		free(m->role);
		free(m->to);
		free(m->params);
		free(m->message_id);
		free(m->state);
		free(m->last_reply);
		free(m->secret);
	}
	v->n = 0;
}

static const struct store_mail *
row_find(const struct rows *v, enum wf_template tpl, const char *role)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->m[i].tpl == tpl && strcmp(v->m[i].role, role) == 0)
			return &v->m[i];
	return NULL;
}

static size_t
eml_count(const char *dir)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		n += l > 4 && strcmp(de->d_name + l - 4, ".eml") == 0;
	}
	closedir(d);
	return n;
}

/* ---- a written mail, parsed back -------------------------------------------- */

struct parsed {
	char *raw;
	size_t len;
	char *subject, *msgid, *in_reply_to, *references, *reply_to;
	char *text;          /* the decoded text part */
	size_t nattach;
	int mode;
};

/* A header's raw value (unfolded), malloc'd, or NULL. */
static char *
header_get(const char *raw, const char *name)
{
	size_t nl = strlen(name);
	const char *p = raw, *end;
	char *out;
	size_t o = 0;

	for (;;) {
		if (strncmp(p, "\r\n", 2) == 0)
			return NULL; /* end of the header */
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':')
			break;
		if ((p = strstr(p, "\r\n")) == NULL)
			return NULL;
		p += 2;
	}
	p += nl + 1;
	while (*p == ' ')
		p++;
	end = p;
	for (;;) {
		end = strstr(end, "\r\n");
		if (end == NULL || (end[2] != ' ' && end[2] != '\t'))
			break;
		end += 2;
	}
	if (end == NULL)
		return NULL;
	out = xmalloc((size_t)(end - p) + 1);
	for (; p < end; p++)
		if (*p != '\r' && *p != '\n')
			out[o++] = *p;
	out[o] = '\0';
	return out;
}

static char *
subject_decode(const char *raw)
{
	size_t idx = 0;
	char *dec = NULL, *out;

	if (raw == NULL || mailmime_encoded_phrase_parse("utf-8", raw,
	    strlen(raw), &idx, "utf-8", &dec) != MAILIMF_NO_ERROR)
		return NULL;
	out = xstrdup(dec);
	free(dec);
	return out;
}

static char *
part_text(struct mailmime *part)
{
	struct mailmime_data *d = part->mm_data.mm_single;
	size_t idx = 0, rl = 0;
	char *res = NULL, *out;

	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT ||
	    mailmime_part_parse(d->dt_data.dt_text.dt_data,
	    d->dt_data.dt_text.dt_length, &idx, d->dt_encoding, &res,
	    &rl) != MAILIMF_NO_ERROR)
		return NULL;
	out = xmalloc(rl + 1);
	memcpy(out, res, rl);
	out[rl] = '\0';
	mmap_string_unref(res);
	return out;
}

/* Read and parse the .eml of msgid; 0 or -1. */
static int
parsed_load(const char *maildir, const char *msgid, struct parsed *p)
{
	struct mailmime *mime = NULL, *body;
	char name[256], path[512];
	struct stat sb;
	size_t idx = 0;

	memset(p, 0, sizeof(*p));
	if (eml_name(msgid, name, sizeof(name)) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/%s.eml", maildir, name);
	if (stat(path, &sb) == -1)
		return -1;
	p->mode = (int)(sb.st_mode & 07777);
	if ((p->raw = (char *)unit_read_file(path, &p->len)) == NULL)
		return -1;
	{
		char *raw = header_get(p->raw, "Subject");

		p->subject = subject_decode(raw);
		free(raw);
	}
	p->msgid = header_get(p->raw, "Message-ID");
	p->in_reply_to = header_get(p->raw, "In-Reply-To");
	p->references = header_get(p->raw, "References");
	p->reply_to = header_get(p->raw, "Reply-To");
	if (mailmime_parse(p->raw, p->len, &idx, &mime) != MAILIMF_NO_ERROR)
		return -1;
	body = mime->mm_data.mm_message.mm_msg_mime;
	if (body != NULL && body->mm_type == MAILMIME_SINGLE)
		p->text = part_text(body);
	else if (body != NULL && body->mm_type == MAILMIME_MULTIPLE) {
		clistiter *it = clist_begin(body->mm_data.mm_multipart.mm_mp_list);

		if (it != NULL)
			p->text = part_text(clist_content(it));
		p->nattach = (size_t)clist_count(
		    body->mm_data.mm_multipart.mm_mp_list) - 1;
	}
	mailmime_free(mime);
	return p->text != NULL ? 0 : -1;
}

static void
parsed_free(struct parsed *p)
{
	free(p->raw);
	free(p->subject);
	free(p->msgid);
	free(p->in_reply_to);
	free(p->references);
	free(p->reply_to);
	free(p->text);
}

/* ---- tests ------------------------------------------------------------------- */

UNIT_TEST(mailer_backoff_table)
{
	static const struct {
		uint64_t min, max;
		int attempts;
		uint64_t want;
	} t[] = {
		{ 60, 3600, 1, 60 }, { 60, 3600, 2, 120 }, { 60, 3600, 3, 240 },
		{ 60, 3600, 6, 1920 }, { 60, 3600, 7, 3600 },
		{ 60, 3600, 1000, 3600 }, { 60, 3600, 0, 60 },
		{ 0, 10, 1, 1 }, { 5, 5, 9, 5 }, { 1, UINT64_MAX, 200, UINT64_MAX },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		CHECKM(mailer_backoff(t[i].min, t[i].max, t[i].attempts) ==
		    t[i].want, "row %zu: %llu", i, (unsigned long long)
		    mailer_backoff(t[i].min, t[i].max, t[i].attempts));
}

UNIT_TEST(mailer_new_refuses)
{
	struct config cf = { 0 };
	char err[256];

	cf.smtp_url = (char *)"";
	cf.state_dir = (char *)"/tmp";
	cf.smtp_from = (char *)"not an address";
	CHECK(mailer_new(&cf, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "[smtp] from") != NULL);
	cf.smtp_from = (char *)"beian@provider.example";
	cf.smtp_url = (char *)"http://user:hunter2@example.test/";
	CHECK(mailer_new(&cf, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "hunter2") == NULL);
}

UNIT_TEST(mailer_eml_whole_flow)
{
	struct mctx t;
	struct rows before, after;
	const struct store_mail *r;
	struct store_mail *got = NULL;
	char id[STORE_ID_SIZE], token[STORE_TOKEN_LEN + 1] = "", want[256];
	char *password = NULL, *owner = NULL, *root_owner = NULL;
	char *root_provider = NULL;
	time_t next = -1;
	int n;

	mctx_open(&t);
	file_first(t.st, "91110108MA01XY3K34", "owner@example.cn", T0, id);
	attach_all(t.st, id);
	CHECK(op_move(t.st, id, WF_UNDER_REVIEW, "张核验", T0 + 60) == 0);
	CHECK(op_move(t.st, id, WF_APPROVED, NULL, T0 + 120) == 0);
	CHECK(store_filing_owner(t.st, id, &owner, token) == 0);
	free(owner);

	rows_load(t.st, &before);
	CHECK(before.n >= 7); /* received ×2, awaiting, review, approved ×3 */
	r = row_find(&before, WF_TPL_APPROVED_OWNER, "owner");
	CHECK(r != NULL && r->secret != NULL);
	if (r != NULL && r->secret != NULL)
		password = xstrdup(r->secret);
	if ((r = row_find(&before, WF_TPL_RECEIVED, "owner")) != NULL)
		root_owner = xstrdup(r->message_id);
	if ((r = row_find(&before, WF_TPL_RECEIVED, "provider")) != NULL)
		root_provider = xstrdup(r->message_id);

	/* the database as a crash would leave it: every row still to send */
	snprintf(want, sizeof(want), "%s/copy.db", t.dir);
	CHECKM(store_backup(t.st, want) == 0, "backup: %s", store_errmsg(t.st));

	n = mailer_run(t.m, T0 + 180, 100, &next);
	CHECKM(n == (int)before.n, "handled %d of %zu: %s", n, before.n,
	    store_errmsg(t.st));
	CHECK_INT(next, 0);
	CHECK_INT(eml_count(t.maildir), before.n);
	rows_load(t.st, &after);
	CHECKM(after.n == 0, "%zu rows left, first %s: %s", after.n,
	    after.n ? after.m[0].state : "", after.n && after.m[0].last_reply ?
	    after.m[0].last_reply : "");
	rows_free(&after);

	for (size_t i = 0; i < before.n; i++) {
		const struct store_mail *m = &before.m[i];
		int is_owner = strcmp(m->role, "owner") == 0;
		const char *root = NULL;

		/* the first row to this role (rows come by id) */
		for (size_t k = 0; k < before.n && root == NULL; k++)
			if (strcmp(before.m[k].role, m->role) == 0)
				root = before.m[k].message_id;
		struct parsed p;

		if (is_owner)
			CHECK_STR(root, root_owner);
		if (strcmp(m->role, "provider") == 0)
			CHECK_STR(root, root_provider);
		if (parsed_load(t.maildir, m->message_id, &p) == -1) {
			CHECKM(0, "mail %s does not parse", m->message_id);
			parsed_free(&p);
			continue;
		}
		CHECKM(p.mode == 0600, "%s: mode %o", m->message_id, p.mode);
		CHECK_STR(p.msgid, m->message_id);
		if (is_owner)
			snprintf(want, sizeof(want), "[%s %s] ", id, token);
		else
			snprintf(want, sizeof(want), "[%s] ", id);
		CHECKM(p.subject != NULL && strncmp(p.subject, want,
		    strlen(want)) == 0, "%s: subject '%s', want '%s…'",
		    m->message_id, p.subject ? p.subject : "", want);
		CHECK(strstr(p.raw, "\r\nAuto-Submitted: auto-generated\r\n"));
		CHECK(strstr(p.raw, "\r\nX-Beiand-Loop: beian@provider.example\r\n"));
		if (root != NULL && strcmp(root, m->message_id) != 0) {
			CHECKM(p.in_reply_to && !strcmp(p.in_reply_to, root),
			    "%s: In-Reply-To '%s'", m->message_id,
			    p.in_reply_to ? p.in_reply_to : "");
			CHECKM(p.references && strstr(p.references, root),
			    "%s: References", m->message_id);
		} else
			CHECKM(p.in_reply_to == NULL, "%s: In-Reply-To on the "
			    "first mail", m->message_id);
		if (is_owner || m->tpl == WF_TPL_REVIEW_REQUEST)
			CHECKM(p.reply_to && !strcmp(p.reply_to,
			    "beian-in@provider.example"), "%s: Reply-To",
			    m->message_id);
		else
			CHECKM(p.reply_to == NULL, "%s: Reply-To to %s",
			    m->message_id, m->role);
		/* the password is in the owner's approval mail and only there */
		if (password != NULL)
			CHECKM((m->tpl == WF_TPL_APPROVED_OWNER) ==
			    (strstr(p.text, password) != NULL),
			    "%s: password shown or missing", m->message_id);
		CHECKM(strstr(p.text, id) != NULL, "%s: no tracking id",
		    m->message_id);
		if (m->tpl == WF_TPL_APPROVED_OWNER)
			CHECK(strstr(p.text, "京ICP备2026") != NULL);
		if (m->tpl == WF_TPL_REVIEW_REQUEST) {
			CHECK_INT(p.nattach, 4);
			CHECK(strstr(p.subject, "[review:") != NULL);
			CHECK(strstr(p.text, "张核验") != NULL);
			CHECK(strstr(p.text, "北京示例科技有限公司") != NULL);
			CHECK(strstr(p.text, "示例云") != NULL);
			/* the type by its label, the name beside it */
			CHECK(strstr(p.text, "备案类型：首次备案（firstFiling）") !=
			    NULL);
			CHECK(strstr(p.text, "Filing type: first filing "
			    "(firstFiling)") != NULL);
			CHECK(strstr(p.text, "{{") == NULL);
			snprintf(want, sizeof(want), "filename=\"%s.zip\"", id);
			CHECK(strstr(p.raw, want) != NULL);
			CHECK(strstr(p.raw, "filename=\"verification.xml\"") != NULL);
			CHECK(strstr(p.raw, "image/jpeg") != NULL);
			CHECK(strstr(p.raw, "filename=\"scan.pdf\"") != NULL);
		}
		parsed_free(&p);
	}

	/* the secret is gone from the store */
	r = row_find(&before, WF_TPL_APPROVED_OWNER, "owner");
	if (r != NULL && store_outbox_get(t.st, r->id, &got) == 0) {
		CHECK_STR(got->state, "sent");
		CHECK(got->secret == NULL);
		CHECK(got->last_reply != NULL &&
		    strncmp(got->last_reply, "eml: ", 5) == 0);
		store_mail_free(got);
	}

	/* nothing left to do */
	next = -1;
	CHECK_INT(mailer_run(t.m, T0 + 240, 100, &next), 0);
	CHECK_INT(next, 0);
	CHECK_INT(eml_count(t.maildir), before.n);

	/* resent from the copy, later: the same bytes, so every .eml is
	 * recognised as already written (different bytes would fail) */
	{
		struct store *st2;
		struct mailer *m2;
		char err[256];

		snprintf(want, sizeof(want), "%s/copy.db", t.dir);
		st2 = store_open(want, &t.cfg, err, sizeof(err));
		CHECKM(st2 != NULL, "%s", err);
		m2 = st2 ? mailer_new(&t.cfg, st2, err, sizeof(err)) : NULL;
		if (m2 != NULL) {
			struct mailer_stats ms;

			CHECK_INT(mailer_run(m2, T0 + 86400, 100, NULL),
			    before.n);
			mailer_stats_get(m2, &ms);
			CHECK_INT(ms.sent, before.n);
			for (size_t i = 0; i < before.n; i++) {
				struct store_mail *g = NULL;

				CHECK(store_outbox_get(st2, before.m[i].id,
				    &g) == 0);
				CHECKM(g != NULL && g->last_reply != NULL &&
				    strstr(g->last_reply, "(already written)"),
				    "%s: %s", before.m[i].message_id,
				    g && g->last_reply ? g->last_reply : "");
				store_mail_free(g);
			}
		}
		mailer_free(m2);
		store_close(st2);
		CHECK_INT(eml_count(t.maildir), before.n);
	}

	rows_free(&before);
	free(password);
	free(root_owner);
	free(root_provider);
	mctx_close(&t);
}

/* I/O trouble defers with backoff; max_age fails; a row a crash left in
 * sending goes out after recovery. */
UNIT_TEST(mailer_eml_defer_and_expire)
{
	struct mctx t;
	struct rows v, f;
	char id[STORE_ID_SIZE], id2[STORE_ID_SIZE];
	time_t next = 0, t1 = T0 + 10, t2 = T0 + 5 * 86400 + 1;
	FILE *fp;

	mctx_open(&t);
	file_first(t.st, "91110108MA01XY3K34", "owner@example.cn", T0, id);
	/* a file where the folder should be: every write fails */
	fp = fopen(t.maildir, "w");
	CHECK(fp != NULL);
	if (fp != NULL)
		fclose(fp);
	CHECK_INT(mailer_run(t.m, t1, 100, &next), 3);
	rows_load(t.st, &v);
	CHECK_INT(v.n, 3);
	for (size_t i = 0; i < v.n; i++) {
		CHECK_STR(v.m[i].state, "deferred");
		CHECK_INT(v.m[i].attempts, 1);
		/* retry_min 60, jitter at most a tenth */
		CHECKM(v.m[i].next_try >= t1 + 54 && v.m[i].next_try <= t1 + 60,
		    "next_try +%lld", (long long)(v.m[i].next_try - t1));
		CHECK(v.m[i].last_reply != NULL &&
		    strncmp(v.m[i].last_reply, "eml: ", 5) == 0);
	}
	CHECK(next >= t1 + 54 && next <= t1 + 60);
	rows_free(&v);
	/* not due yet */
	CHECK_INT(mailer_run(t.m, t1 + 1, 100, NULL), 0);
	/* second failure: 120 s */
	CHECK_INT(mailer_run(t.m, t1 + 61, 100, NULL), 3);
	rows_load(t.st, &v);
	for (size_t i = 0; i < v.n; i++) {
		CHECK_INT(v.m[i].attempts, 2);
		CHECK(v.m[i].next_try >= t1 + 61 + 108 &&
		    v.m[i].next_try <= t1 + 61 + 120);
	}
	rows_free(&v);

	/* a younger filing: its mails defer while the old ones expire */
	file_first(t.st, "91110108MA01XY3K99", "owner2@example.cn",
	    T0 + 4 * 86400, id2);
	CHECK_INT(mailer_run(t.m, t2, 100, NULL), 6);
	memset(&f, 0, sizeof(f));
	CHECK(store_outbox_list(t.st, 1, rows_cb, &f) == 0);
	CHECK_INT(f.n, 3);
	for (size_t i = 0; i < f.n; i++) {
		CHECK_STR(f.m[i].filing, id);
		CHECK(f.m[i].last_reply != NULL &&
		    strstr(f.m[i].last_reply, "max_age") != NULL);
	}
	rows_free(&f);

	/* the server comes back; one row was caught by a crash */
	unlink(t.maildir);
	rows_load(t.st, &v);
	CHECK_INT(v.n, 6);
	for (size_t i = 0; i < v.n; i++)
		if (strcmp(v.m[i].filing, id2) == 0) {
			CHECK(store_outbox_mark_sending(t.st, v.m[i].id) == 0);
			break;
		}
	rows_free(&v);
	CHECK_INT(store_outbox_recover(t.st), 1);
	CHECK_INT(mailer_run(t.m, t2 + 1000, 100, &next), 3);
	CHECK_INT(next, 0);
	CHECK_INT(eml_count(t.maildir), 3);
	mctx_close(&t);
}

/* A mail that cannot be composed (a bad owner address) fails at once;
 * the others of its filing go out. */
UNIT_TEST(mailer_compose_failure_fails)
{
	struct mctx t;
	struct rows v;
	char id[STORE_ID_SIZE];

	mctx_open(&t);
	file_first(t.st, "91110108MA01XY3K34", "owner at example", T0, id);
	CHECK_INT(mailer_run(t.m, T0 + 1, 100, NULL), 3);
	memset(&v, 0, sizeof(v));
	CHECK(store_outbox_list(t.st, 1, rows_cb, &v) == 0);
	CHECK_INT(v.n, 1);
	if (v.n == 1) {
		CHECK_STR(v.m[0].role, "owner");
		CHECK(v.m[0].last_reply != NULL &&
		    strncmp(v.m[0].last_reply, "compose: ", 9) == 0);
	}
	rows_free(&v);
	CHECK_INT(eml_count(t.maildir), 2);
	mctx_close(&t);
}

/* A row a crash left in sending is sent after recovery, once; the
 * withdrawal mail says who withdrew and from which state. */
UNIT_TEST(mailer_crash_recover)
{
	struct mctx t;
	struct rows v;
	char id[STORE_ID_SIZE];
	struct store_mail *got = NULL;

	mctx_open(&t);
	file_first(t.st, "91110108MA01XY3K34", "owner@example.cn", T0, id);
	CHECK_INT(mailer_run(t.m, T0 + 1, 100, NULL), 3);
	CHECK_INT(eml_count(t.maildir), 3);
	memset(&v, 0, sizeof(v));
	CHECK(store_outbox_list(t.st, 0, rows_cb, &v) == 0);
	CHECK_INT(v.n, 0);
	rows_free(&v);
	/* withdrawing queues new mails; crash one mid-send, then recover */
	CHECK(op_move(t.st, id, WF_WITHDRAWN, "no longer needed", T0 + 10) == 0);
	rows_load(t.st, &v);
	CHECK(v.n >= 2);
	CHECK(store_outbox_mark_sending(t.st, v.m[0].id) == 0);
	CHECK_INT(mailer_run(t.m, T0 + 11, 100, NULL), (int)v.n - 1);
	CHECK(store_outbox_recover(t.st) == 1);
	CHECK_INT(mailer_run(t.m, T0 + 12, 100, NULL), 1);
	CHECK(store_outbox_get(t.st, v.m[0].id, &got) == 0);
	if (got != NULL) {
		CHECK_STR(got->state, "sent");
		CHECK_INT(got->attempts, 2);
		store_mail_free(got);
	}
	CHECK_INT(eml_count(t.maildir), 3 + v.n);
	{
		struct parsed p;

		CHECK(parsed_load(t.maildir, v.m[0].message_id, &p) == 0);
		CHECK(p.text != NULL && strstr(p.text, "provider P001") == NULL);
		CHECK(p.text != NULL && strstr(p.text, "operator root") != NULL);
		CHECK(p.text != NULL && strstr(p.text, "awaiting_verification"));
		parsed_free(&p);
	}
	rows_free(&v);
	mctx_close(&t);
}
