/*
 * tool_storecrash: the driver of tests/it_storecrash.sh.
 *
 *   tool_storecrash run DB N SEED   a random walk of N transitions
 *   tool_storecrash check DB        the invariants, read through the store
 *   tool_storecrash pairs           the workflow's from→to pairs, one a line
 *
 * `run` drives filings through every path of DESIGN.md's workflow
 * (create, verification pass and return, resubmission valid and invalid,
 * review approve and reject, handback, withdrawal, addSite on approved
 * subjects), in standalone transactions and in group commits of several
 * calls, some of them refused on purpose (each rolls back to its savepoint
 * alone) and some groups rolled back whole; between them it plays the
 * mail sender (outbox due, sending, sent/deferred/failed).  The script
 * SIGKILLs it at random moments and starts it again on the same
 * database: everything the walk needs is read back from the store at
 * start (review tokens of mails "sent" before a kill are forgotten: the
 * operator decides those filings).  It uses only the store API; the
 * SQL-level checks are in the script (sqlite3 command-line tool).
 *
 * Exit status: 0 done, 1 a store error or an answer the workflow forbids,
 * 2 usage.
 */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/workflow.h"
#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "store/filings.h"
#include "store/outbox.h"
#include "store/query.h"
#include "store/store.h"
#include "store/transition.h"

/* ---- a small deterministic PRNG (splitmix64) ---------------------------- */

static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* 0 <= r < n */
static size_t
rng_below(size_t n)
{
	return n == 0 ? 0 : (size_t)(rng_next() % n);
}

/* 1 with probability pct/100 */
static int
rng_pct(unsigned pct)
{
	return rng_below(100) < pct;
}

/* ---- the configuration the store needs --------------------------------- */

static struct config cfg;
static struct config_provider prov[2];
static struct config_bureau bur;
static char *baddr[1];
static const char *const provider_codes[2] = { "P001", "P002" };

static void
cfg_init(char *state_dir)
{
	prov[0].code = (char *)"P001";
	prov[0].email = (char *)"filing@p001.example";
	prov[1].code = (char *)"P002";
	prov[1].email = (char *)"filing@p002.example";
	strlcpy(bur.province, "11", sizeof(bur.province));
	baddr[0] = (char *)"review@bureau.example";
	bur.addresses = baddr;
	bur.naddresses = 1;
	bur.record_to = (char *)"records@bureau.example";
	cfg.smtp_from = (char *)"beian@provider.example";
	cfg.state_dir = state_dir;
	cfg.providers = prov;
	cfg.nproviders = 2;
	cfg.bureaus = &bur;
	cfg.nbureaus = 1;
}

static struct store *
open_store(const char *db)
{
	char err[512], *copy, *dir;
	struct store *st;

	setenv("BEIAND_PWHASH_FAST", "1", 1);
	copy = xstrdup(db);
	dir = xstrdup(dirname(copy));
	free(copy);
	cfg_init(dir);
	if ((st = store_open(db, &cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store_open %s: %s\n", db, err);
		exit(1);
	}
	return st;
}

static void
die_store(struct store *st, const char *what, const char *id)
{
	fprintf(stderr, "tool_storecrash: %s %s: %s\n", what, id ? id : "",
	    store_errmsg(st));
	exit(1);
}

/* ---- the walk's view of the database ------------------------------------- */

struct fil {
	char id[STORE_ID_SIZE];
	enum wf_state state;
	char provider[8];
	/* the event that opened the current review round (0: unknown), and
	 * its token once its review_request mail was "sent" by this run */
	int64_t review_event;
	char rtok[STORE_REVIEW_TOKEN_LEN + 1];
};

struct model {
	struct fil *f;
	size_t n, cap;
	char **subjects;   /* subject numbers of approved first filings */
	size_t nsubjects, capsubjects;
};

static int
model_add_cb(const struct store_filing_info *info, void *arg)
{
	struct model *m = arg;
	struct fil *f;

	xgrow(&m->f, &m->cap, m->n, sizeof(*m->f));
	f = &m->f[m->n++];
	memset(f, 0, sizeof(*f));
	strlcpy(f->id, info->id, sizeof(f->id));
	if (workflow_state_parse(info->state, &f->state) == -1)
		f->state = WF_NONE;
	strlcpy(f->provider, info->provider ? info->provider : "",
	    sizeof(f->provider));
	return 0;
}

static void
model_clear(struct model *m)
{
	for (size_t i = 0; i < m->nsubjects; i++)
		free(m->subjects[i]);
	free(m->subjects);
	free(m->f);
	memset(m, 0, sizeof(*m));
}

static void
model_add_subject(struct model *m, const char *licence)
{
	xgrow(&m->subjects, &m->capsubjects, m->nsubjects, sizeof(char *));
	m->subjects[m->nsubjects++] = xstrdup(licence);
}

static void
model_load(struct store *st, struct model *m)
{
	model_clear(m);
	if (store_filing_list(st, NULL, model_add_cb, m) == -1)
		die_store(st, "list", NULL);
	for (size_t i = 0; i < m->n; i++) {
		struct store_filing_detail *d = NULL;

		if (m->f[i].state != WF_APPROVED)
			continue;
		if (store_filing_show(st, m->f[i].id, &d) != 0)
			die_store(st, "show", m->f[i].id);
		if (d->info.type != NULL && !strcmp(d->info.type, "firstFiling") &&
		    d->subject_licence != NULL)
			model_add_subject(m, d->subject_licence);
		store_filing_detail_free(d);
	}
}

/* A random filing in one of the open states, NULL when none. */
static struct fil *
model_pick_open(struct model *m)
{
	size_t nopen = 0, k;

	for (size_t i = 0; i < m->n; i++)
		nopen += workflow_state_open(m->f[i].state) != 0;
	if (nopen == 0)
		return NULL;
	k = rng_below(nopen);
	for (size_t i = 0; i < m->n; i++)
		if (workflow_state_open(m->f[i].state) && k-- == 0)
			return &m->f[i];
	return NULL;
}

/* ---- filings as structs -------------------------------------------------- */

static struct filing *
filing_base(enum filing_type type, size_t nsites)
{
	struct filing *f = xcalloc(1, sizeof(*f));

	f->type = type;
	f->mode = FILING_MODE_DELEGATED;
	f->province = xstrdup("11");
	f->nwebsites = nsites;
	f->websites = xcalloc(nsites, sizeof(*f->websites));
	return f;
}

static void
filing_site(struct filing *f, size_t i, const char *name, const char *domains)
{
	char *copy = xstrdup(domains), *p, *tok, *save = NULL;

	f->websites[i].name = xstrdup(name);
	for (p = copy; (tok = strtok_r(p, " ", &save)) != NULL; p = NULL) {
		struct website *w = &f->websites[i];

		w->domains = xreallocarray(w->domains, w->ndomains + 1,
		    sizeof(char *));
		w->domains[w->ndomains++] = xstrdup(tok);
	}
	free(copy);
}

static void
filing_sponsor(struct filing *f, const char *cert, const char *owner)
{
	f->sponsor = xcalloc(1, sizeof(*f->sponsor));
	f->sponsor->name = xstrdup("北京示例科技有限公司");
	f->sponsor->nature = xstrdup("enterprise");
	f->sponsor->cert_type = xstrdup("uscc");
	f->sponsor->cert_number = xstrdup(cert);
	f->sponsor->principal = xcalloc(1, sizeof(*f->sponsor->principal));
	f->sponsor->principal->email = xstrdup(owner);
}

/* A new first filing (or addSite of subject) with fresh names. */
static struct filing *
filing_fresh(const char *subject)
{
	char tag[32], cert[40], owner[80], name[64], dom[96];
	size_t nsites = 1 + rng_below(subject != NULL ? 2 : 3);
	struct filing *f;

	snprintf(tag, sizeof(tag), "%012llx",
	    (unsigned long long)(rng_next() & 0xffffffffffffULL));
	f = filing_base(subject ? FILING_ADD_SITE : FILING_FIRST, nsites);
	if (subject != NULL)
		f->subject_licence = xstrdup(subject);
	else {
		snprintf(cert, sizeof(cert), "C%s", tag);
		snprintf(owner, sizeof(owner), "owner-%s@example.cn", tag);
		filing_sponsor(f, cert, owner);
	}
	for (size_t i = 0; i < nsites; i++) {
		snprintf(name, sizeof(name), "网站%s-%zu", tag, i + 1);
		snprintf(dom, sizeof(dom), "s%zu-%s.example.cn", i + 1, tag);
		filing_site(f, i, name, dom);
	}
	return f;
}

/* The package a filing was made of, rebuilt from what the store keeps. */
static struct filing *
filing_again(struct store *st, const char *id)
{
	struct store_filing_detail *d = NULL;
	struct filing *f;

	if (store_filing_show(st, id, &d) != 0)
		die_store(st, "show", id);
	if (d->info.type != NULL && !strcmp(d->info.type, "addSite")) {
		f = filing_base(FILING_ADD_SITE, d->nwebsites);
		f->subject_licence = d->subject_licence ?
		    xstrdup(d->subject_licence) : NULL;
	} else {
		f = filing_base(FILING_FIRST, d->nwebsites);
		filing_sponsor(f, d->sponsor_cert_number ?
		    d->sponsor_cert_number : "", d->info.owner ?
		    d->info.owner : "");
	}
	for (size_t i = 0; i < d->nwebsites; i++)
		filing_site(f, i, d->websites[i].name ? d->websites[i].name : "",
		    d->websites[i].domains ? d->websites[i].domains : "");
	store_filing_detail_free(d);
	return f;
}

/* ---- actors -------------------------------------------------------------- */

static struct store_actor
who_spool(const char *provider)
{
	struct store_actor w = { 0 };

	w.kind = WF_ACTOR_PROVIDER;
	w.channel = WF_CHANNEL_SPOOL;
	w.name = provider;
	w.provider = provider;
	w.source = "5707ecba5e";
	return w;
}

static struct store_actor
who_op(void)
{
	struct store_actor w = { 0 };

	w.kind = WF_ACTOR_OPERATOR;
	w.channel = WF_CHANNEL_CLI;
	w.name = "root";
	w.provider = "P001";
	return w;
}

static struct store_actor
who_owner(const char *address)
{
	struct store_actor w = { 0 };

	w.kind = WF_ACTOR_OWNER;
	w.channel = WF_CHANNEL_MAIL;
	w.name = address;
	w.sender = address;
	w.source = "<storecrash@example.cn>";
	return w;
}

static struct store_actor
who_bureau(void)
{
	struct store_actor w = { 0 };

	w.kind = WF_ACTOR_BUREAU;
	w.channel = WF_CHANNEL_MAIL;
	w.name = "review@bureau.example";
	w.sender = "review@bureau.example";
	w.source = "<decision@bureau.example>";
	return w;
}

/* Keep the review token of a review_request mail of the current round. */
static void
review_token_keep(struct model *m, const struct store_mail *mail)
{
	static const char key[] = "\"review_token\":\"";
	const char *p;

	if (mail->filing == NULL || mail->tpl != WF_TPL_REVIEW_REQUEST ||
	    (p = strstr(mail->params, key)) == NULL)
		return;
	p += sizeof(key) - 1;
	if (strlen(p) < STORE_REVIEW_TOKEN_LEN)
		return;
	for (size_t i = 0; i < m->n; i++) {
		struct fil *f = &m->f[i];

		if (strcmp(f->id, mail->filing) != 0)
			continue;
		if (f->review_event != 0 && f->review_event == mail->event) {
			memcpy(f->rtok, p, STORE_REVIEW_TOKEN_LEN);
			f->rtok[STORE_REVIEW_TOKEN_LEN] = '\0';
		}
		return;
	}
}

/* A filing moved: a new round (event ev), or none (ev 0). */
static void
review_round(struct fil *f, int64_t ev)
{
	f->review_event = ev;
	f->rtok[0] = '\0';
}

/* ---- one step of the walk ------------------------------------------------ */

struct walk {
	struct store *st;
	struct model m;
	long done;        /* successful calls: the transitions made */
	long refused;     /* refusals on purpose, all answered 1 */
	int in_group;
};

/* The store's answer rc to a call that should (expect 0) or should not
 * (expect 1) go through. */
static void
answer(struct walk *w, int rc, int expect, const char *what, const char *id,
    const struct store_result *r)
{
	if (rc == -1)
		die_store(w->st, what, id);
	if (rc != expect) {
		char buf[256] = "";

		if (r->errs != NULL && errlist_count(r->errs) > 0)
			snprintf(buf, sizeof(buf), " (%s)",
			    err_code_name(errlist_get(r->errs, 0)->code));
		fprintf(stderr, "tool_storecrash: %s %s: answered %d, expected %d%s\n",
		    what, id ? id : "", rc, expect, buf);
		exit(1);
	}
}

static void
step_create(struct walk *w)
{
	struct filing *f;
	struct errlist *perrs = NULL;
	struct store_package pkg = { NULL, "<filing/>", NULL, NULL };
	const char *provider = provider_codes[rng_below(2)];
	struct store_actor who = who_spool(provider);
	struct store_result r = { 0 };
	struct fil *nf;
	const char *subject = NULL;
	int rc;

	if (w->m.nsubjects > 0 && rng_pct(30))
		subject = w->m.subjects[rng_below(w->m.nsubjects)];
	f = filing_fresh(subject);
	if (rng_pct(6)) {
		/* what the parsers found wrong: the filing is born invalid */
		perrs = errlist_new();
		errlist_add(perrs, ERR_EMAIL_INVALID,
		    "/filing/sponsor/principal/email", "storecrash");
	}
	pkg.f = f;
	pkg.errs = perrs;
	r.errs = errlist_new();
	rc = store_filing_create(w->st, &pkg, &who, &r);
	answer(w, rc, 0, "create", NULL, &r);
	if (perrs != NULL && r.state != WF_INVALID) {
		fprintf(stderr, "tool_storecrash: %s created with errors in %s\n",
		    r.id, workflow_state_name(r.state));
		exit(1);
	}
	xgrow(&w->m.f, &w->m.cap, w->m.n, sizeof(*w->m.f));
	nf = &w->m.f[w->m.n++];
	memset(nf, 0, sizeof(*nf));
	strlcpy(nf->id, r.id, sizeof(nf->id));
	nf->state = r.state;
	strlcpy(nf->provider, provider, sizeof(nf->provider));
	errlist_free(r.errs);
	errlist_free(perrs);
	filing_free(f);
	w->done++;
}

static void
step_resubmit(struct walk *w, struct fil *fl, int invalid)
{
	struct filing *f = filing_again(w->st, fl->id);
	struct errlist *perrs = NULL;
	struct store_package pkg = { f, "<filing/>", NULL, NULL };
	struct store_actor who;
	struct store_result r = { 0 };
	char tok[STORE_TOKEN_LEN + 1], *owner = NULL;
	enum wf_state want;
	int rc, by_owner = 0;

	if (store_filing_owner(w->st, fl->id, &owner, tok) != 0)
		die_store(w->st, "owner", fl->id);
	if (fl->state == WF_RETURNED_TO_OWNER && rng_pct(50)) {
		who = who_owner(owner);
		pkg.from = owner;
		by_owner = 1;
	} else
		who = who_spool(fl->provider);
	if (invalid) {
		perrs = errlist_new();
		errlist_add(perrs, ERR_EMAIL_INVALID,
		    "/filing/sponsor/principal/email", "storecrash");
		pkg.errs = perrs;
	}
	r.errs = errlist_new();
	rc = store_filing_resubmit(w->st, fl->id, by_owner ? tok : NULL, &pkg,
	    &who, &r);
	answer(w, rc, 0, "resubmit", fl->id, &r);
	want = invalid ? fl->state : fl->state == WF_RETURNED_TO_OWNER ?
	    WF_AWAITING_VERIFICATION : WF_UNDER_REVIEW;
	if (r.state != want) {
		fprintf(stderr, "tool_storecrash: resubmit %s: %s, expected %s\n",
		    fl->id, workflow_state_name(r.state), workflow_state_name(want));
		exit(1);
	}
	if (!invalid)
		review_round(fl, r.state == WF_UNDER_REVIEW ? r.event : 0);
	fl->state = r.state;
	free(owner);
	errlist_free(r.errs);
	errlist_free(perrs);
	filing_free(f);
	w->done++;
}

/* A command: fl to `to` by a suitable actor (expect 0), or a move the
 * workflow forbids (expect 1, nothing must change). */
static void
step_move(struct walk *w, struct fil *fl, enum wf_state to, int expect)
{
	struct store_transition_req req = { 0 };
	struct store_actor who = who_op();
	struct store_result r = { 0 };
	struct store_issue issue = { "/filing/websites/website[1]/name", "OTHER",
	    "storecrash: please fix" };
	char tok[STORE_TOKEN_LEN + 1];
	char *owner = NULL;
	int rc;

	req.id = fl->id;
	req.to = to;
	switch (to) {
	case WF_UNDER_REVIEW:
	case WF_RETURNED_TO_OWNER:
		/* verification pass / return, handback: the provider by spool */
		if (rng_pct(70))
			who = who_spool(fl->provider);
		break;
	case WF_APPROVED:
	case WF_RETURNED_TO_PROVIDER:
		/* a decision: the bureau by mail with this round's token */
		if (fl->state == WF_UNDER_REVIEW && rng_pct(60) &&
		    fl->rtok[0] != '\0') {
			who = who_bureau();
			req.review_token = fl->rtok;
		}
		break;
	case WF_WITHDRAWN:
		if (rng_pct(40)) {
			if (store_filing_owner(w->st, fl->id, &owner, tok) != 0)
				die_store(w->st, "owner", fl->id);
			who = who_owner(owner);
			req.owner_token = tok;
		}
		req.reason = "storecrash withdrawal";
		break;
	default:
		break;
	}
	if (to == WF_RETURNED_TO_OWNER || to == WF_RETURNED_TO_PROVIDER) {
		req.issues = &issue;
		req.nissues = 1;
	}
	r.errs = errlist_new();
	rc = store_transition(w->st, &req, &who, &r);
	answer(w, rc, expect, "move", fl->id, &r);
	if (rc == 1) {
		if (r.state != fl->state) {
			fprintf(stderr, "tool_storecrash: refused move of %s"
			    " changed it to %s\n", fl->id,
			    workflow_state_name(r.state));
			exit(1);
		}
		w->refused++;
	} else {
		if (r.state != to) {
			fprintf(stderr, "tool_storecrash: move %s to %s: now %s\n",
			    fl->id, workflow_state_name(to),
			    workflow_state_name(r.state));
			exit(1);
		}
		fl->state = to;
		review_round(fl, to == WF_UNDER_REVIEW ? r.event : 0);
		w->done++;
		if (to == WF_APPROVED) {
			struct store_filing_detail *d = NULL;

			if (store_filing_show(w->st, fl->id, &d) != 0)
				die_store(w->st, "show", fl->id);
			if (!strcmp(d->info.type, "firstFiling")) {
				if (d->subject_licence == NULL) {
					fprintf(stderr, "tool_storecrash: %s approved"
					    " without a number\n", fl->id);
					exit(1);
				}
				model_add_subject(&w->m, d->subject_licence);
			}
			store_filing_detail_free(d);
		}
	}
	free(owner);
	errlist_free(r.errs);
}

/*
 * The mail sender's part: due mails to sending, then most to sent (which
 * wipes the password), some deferred or failed.  Not a transition of a
 * filing, not counted; it keeps the outbox short and puts the outbox
 * states under the kills too.
 */
static void
step_send(struct walk *w)
{
	struct store_mail *mails = NULL;
	size_t n = 0;
	time_t now = time(NULL);

	if (store_outbox_due(w->st, now, 1 + rng_below(40), &mails, &n) == -1)
		die_store(w->st, "outbox due", NULL);
	for (size_t i = 0; i < n; i++) {
		int64_t id = mails[i].id;
		int rc;

		if ((rc = store_outbox_mark_sending(w->st, id)) == -1)
			die_store(w->st, "mark sending", NULL);
		if (rc == 1) {
			fprintf(stderr, "tool_storecrash: due mail %lld refused"
			    " sending\n", (long long)id);
			exit(1);
		}
		review_token_keep(&w->m, &mails[i]);
		if (rng_pct(90))
			rc = store_outbox_mark_sent(w->st, id, "250 2.0.0 Ok");
		else if (rng_pct(50))
			rc = store_outbox_mark_deferred(w->st, id, now + 3600,
			    "451 4.3.0 try later");
		else
			rc = store_outbox_mark_failed(w->st, id,
			    "550 5.1.1 no such user");
		if (rc != 0) {
			if (rc == -1)
				die_store(w->st, "mark", NULL);
			fprintf(stderr, "tool_storecrash: sending mail %lld"
			    " refused its outcome\n", (long long)id);
			exit(1);
		}
	}
	store_mails_free(mails, n);
}

/* A state the workflow does not lead to from s (for a refusal). */
static enum wf_state
forbidden_target(enum wf_state s)
{
	enum wf_state cand[] = { WF_APPROVED, WF_UNDER_REVIEW,
	    WF_RETURNED_TO_PROVIDER, WF_AWAITING_VERIFICATION, WF_RECEIVED };

	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
		if (workflow_transition_find(s, cand[i]) == NULL)
			return cand[i];
	return WF_RECEIVED;
}

static void
step(struct walk *w)
{
	struct fil *fl;
	size_t nopen = 0;

	if (rng_pct(20))
		step_send(w);
	for (size_t i = 0; i < w->m.n; i++)
		nopen += workflow_state_open(w->m.f[i].state) != 0;
	/* keep some dozens of filings open at once */
	if (nopen < 20 || rng_pct(nopen > 80 ? 5 : 20) ||
	    (fl = model_pick_open(&w->m)) == NULL) {
		step_create(w);
		return;
	}
	if (rng_pct(5)) {
		step_move(w, fl, forbidden_target(fl->state), 1);
		return;
	}
	switch (fl->state) {
	case WF_AWAITING_VERIFICATION:
		if (rng_pct(12))
			step_move(w, fl, WF_WITHDRAWN, 0);
		else
			step_move(w, fl, rng_pct(65) ? WF_UNDER_REVIEW :
			    WF_RETURNED_TO_OWNER, 0);
		break;
	case WF_RETURNED_TO_OWNER:
		if (rng_pct(15))
			step_move(w, fl, WF_WITHDRAWN, 0);
		else
			step_resubmit(w, fl, rng_pct(20));
		break;
	case WF_UNDER_REVIEW:
		if (rng_pct(10))
			step_move(w, fl, WF_WITHDRAWN, 0);
		else
			step_move(w, fl, rng_pct(60) ? WF_APPROVED :
			    WF_RETURNED_TO_PROVIDER, 0);
		break;
	case WF_RETURNED_TO_PROVIDER:
		if (rng_pct(10))
			step_move(w, fl, WF_WITHDRAWN, 0);
		else if (rng_pct(35))
			step_move(w, fl, WF_RETURNED_TO_OWNER, 0);
		else
			step_resubmit(w, fl, rng_pct(15));
		break;
	default:
		/* received is never left standing: only inside a call */
		fprintf(stderr, "tool_storecrash: %s stands in %s\n", fl->id,
		    workflow_state_name(fl->state));
		exit(1);
	}
}

static int
cmd_run(const char *db, long n, uint64_t seed)
{
	struct walk w = { 0 };
	long next_progress = 100;

	rng_state = seed;
	w.st = open_store(db);
	/* as beiand does at start: mails a kill left in sending go back */
	if (store_outbox_recover(w.st) == -1)
		die_store(w.st, "outbox recover", NULL);
	model_load(w.st, &w.m);
	while (w.done < n) {
		if (rng_pct(35)) {
			/* a group of several calls, one commit */
			long target = w.done + 2 + (long)rng_below(9);
			int rollback = rng_pct(8);

			if (store_begin(w.st) == -1)
				die_store(w.st, "begin", NULL);
			while (w.done < target && w.done < n)
				step(&w);
			if (rollback) {
				if (store_rollback(w.st) == -1)
					die_store(w.st, "rollback", NULL);
				/* what the group did is gone: read back */
				model_load(w.st, &w.m);
			} else if (store_commit(w.st) == -1)
				die_store(w.st, "commit", NULL);
		} else
			step(&w);
		if (w.done >= next_progress) {
			printf("progress %ld/%ld\n", w.done, n);
			fflush(stdout);
			next_progress += 100;
		}
	}
	printf("done %ld transitions, %ld refusals, %zu filings\n", w.done,
	    w.refused, w.m.n);
	store_close(w.st);
	model_clear(&w.m);
	return 0;
}

/* ---- check: the invariants as the store API shows them ------------------- */

struct checkctx {
	struct store *st;
	long filings, events, bad;
	char **subjects;
	size_t nsubjects, capsubjects;
};

static void bad(struct checkctx *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
bad(struct checkctx *c, const char *id, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "VIOLATION %s: ", id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	c->bad++;
}

/* For messages: never pass NULL to %s. */
static const char *
nn(const char *s)
{
	return s != NULL ? s : "(null)";
}

static int
nullstreq(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && !strcmp(a, b);
}

static int
check_cb(const struct store_filing_info *info, void *arg)
{
	struct checkctx *c = arg;
	struct store_filing_detail *d = NULL;
	const struct store_event *ev;
	enum wf_state s;

	c->filings++;
	if (store_filing_show(c->st, info->id, &d) != 0) {
		bad(c, info->id, "listed but not shown");
		return 0;
	}
	ev = d->events;
	c->events += (long)d->nevents;
	if (workflow_state_parse(d->info.state, &s) == -1 || s == WF_RECEIVED)
		bad(c, info->id, "stands in state %s", nn(d->info.state));
	if (d->nevents == 0)
		bad(c, info->id, "no event");
	else {
		if (ev[0].from != NULL || !nullstreq(ev[0].to, "received"))
			bad(c, info->id, "first event %s -> %s", nn(ev[0].from),
			    nn(ev[0].to));
		for (size_t i = 1; i < d->nevents; i++) {
			enum wf_state f, t;

			if (!nullstreq(ev[i].from, ev[i - 1].to))
				bad(c, info->id, "chain broken: event %lld to %s,"
				    " event %lld from %s", (long long)ev[i - 1].id,
				    nn(ev[i - 1].to), (long long)ev[i].id,
				    nn(ev[i].from));
			if (ev[i].from == NULL || ev[i].to == NULL ||
			    workflow_state_parse(ev[i].from, &f) == -1 ||
			    workflow_state_parse(ev[i].to, &t) == -1 ||
			    (f != t && workflow_transition_find(f, t) == NULL))
				bad(c, info->id, "event %lld %s -> %s not in the"
				    " workflow", (long long)ev[i].id, nn(ev[i].from),
				    nn(ev[i].to));
		}
		if (!nullstreq(ev[d->nevents - 1].to, d->info.state))
			bad(c, info->id, "last event to %s, state %s",
			    nn(ev[d->nevents - 1].to), nn(d->info.state));
	}
	if (nullstreq(d->info.state, "approved")) {
		if (d->subject_licence == NULL)
			bad(c, info->id, "approved without a subject number");
		for (size_t i = 0; i < d->nwebsites; i++)
			if (d->websites[i].site_licence == NULL)
				bad(c, info->id, "approved, website %s without a"
				    " number", nn(d->websites[i].name));
		if (d->subject_licence != NULL &&
		    nullstreq(d->info.type, "firstFiling")) {
			for (size_t i = 0; i < c->nsubjects; i++)
				if (!strcmp(c->subjects[i], d->subject_licence))
					bad(c, info->id, "subject number %s given"
					    " twice", d->subject_licence);
			xgrow(&c->subjects, &c->capsubjects, c->nsubjects,
			    sizeof(char *));
			c->subjects[c->nsubjects++] = xstrdup(d->subject_licence);
		}
	} else
		for (size_t i = 0; i < d->nwebsites; i++)
			if (d->websites[i].site_licence != NULL)
				bad(c, info->id, "%s, yet website numbered %s",
				    nn(d->info.state), d->websites[i].site_licence);
	store_filing_detail_free(d);
	return 0;
}

static int
cmd_check(const char *db)
{
	struct checkctx c = { 0 };

	c.st = open_store(db);
	if (store_filing_list(c.st, NULL, check_cb, &c) == -1)
		die_store(c.st, "list", NULL);
	store_close(c.st);
	for (size_t i = 0; i < c.nsubjects; i++)
		free(c.subjects[i]);
	free(c.subjects);
	if (c.bad > 0) {
		fprintf(stderr, "tool_storecrash check: %ld violations\n", c.bad);
		return 1;
	}
	printf("check ok: %ld filings, %ld events\n", c.filings, c.events);
	return 0;
}

static int
cmd_pairs(void)
{
	size_t n;
	const struct wf_transition *t = workflow_transitions(&n);

	for (size_t i = 0; i < n; i++)
		printf("%s %s\n", workflow_state_name(t[i].from),
		    workflow_state_name(t[i].to));
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: tool_storecrash run DB N SEED\n"
	    "       tool_storecrash check DB\n"
	    "       tool_storecrash pairs\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	char *end;
	long n;
	unsigned long long seed;

	if (argc == 5 && !strcmp(argv[1], "run")) {
		errno = 0;
		n = strtol(argv[3], &end, 10);
		if (errno != 0 || *end != '\0' || n < 0)
			usage();
		seed = strtoull(argv[4], &end, 10);
		if (errno != 0 || *end != '\0')
			usage();
		return cmd_run(argv[2], n, (uint64_t)seed);
	}
	if (argc == 3 && !strcmp(argv[1], "check"))
		return cmd_check(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "pairs"))
		return cmd_pairs();
	usage();
	return 2;
}
