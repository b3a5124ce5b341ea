/*
 * ctl_act: the verbs of beianctl that decide — verify, review, handback,
 * withdraw (DESIGN.md, Command line).  The maintenance verbs are
 * ctl_maint.c.
 *
 * A decision taken here is the same transaction as one that came by the
 * spool or by mail, recorded with actor kind operator and channel cli:
 * verification records (given, or made from --pass/--return) go through
 * ingest_item() exactly as a batch's do; the other moves are one
 * store_transition() each.
 *
 * Hostile input: the files named on the command line (a verification
 * record and the photos beside it) may come from outside.  They are
 * parsed and checked in a sandboxed worker (worker/worker_client.h) by
 * the same code as a batch's record, never in this process; the files
 * a record names are read only from its own folder (a name with a '/'
 * is never opened).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/check_setup.h"
#include "common/config.h"
#include "common/workflow.h"
#include "ctl/ctl.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"
#include "parsers/filing.h"
#include "parsers/filing_check.h"
#include "parsers/package.h"
#include "parsers/photo.h"
#include "parsers/rules.h"
#include "store/admin.h"
#include "store/ingest.h"
#include "store/outbox.h"
#include "store/query.h"
#include "store/status.h"
#include "store/store.h"
#include "store/transition.h"
#include "worker/worker_client.h"

/* ---- shared ----------------------------------------------------------- */

/* "BA-…: state" after a done action. */
static void
put_state(const char *id, enum wf_state s)
{
	ctl_put_escaped(stdout, id);
	printf(": %s\n", s == WF_NONE ? "unknown" : workflow_state_name(s));
}

/*
 * The exit status for findings errs about filing id: unknown id → 3,
 * any error → 1 (each printed), else 0.
 */
static int
findings_status(const char *id, const struct errlist *errs)
{
	size_t n = ctl_put_refusals(id, errs);

	if (errlist_has(errs, ERR_TRACKING_ID_UNKNOWN))
		return CTL_UNKNOWN_ID;
	return n > 0 ? CTL_REFUSED : CTL_OK;
}

/* 0 when id is a filing; else prints why and returns the exit status. */
static int
filing_known(struct store *st, const char *id, enum wf_state *state)
{
	enum wf_state s;
	int rc;

	if ((rc = store_filing_state(st, id, &s)) == -1)
		return ctl_store_error(st);
	if (rc == 1) {
		ctl_put_escaped(stdout, id);
		printf(": TRACKING_ID_UNKNOWN: %s\n",
		    err_code_message(ERR_TRACKING_ID_UNKNOWN));
		return CTL_UNKNOWN_ID;
	}
	if (state != NULL)
		*state = s;
	return 0;
}

/*
 * Refuse unless the filing is in state want.  Some moves share their
 * table row with another verb (verify --return and handback both end in
 * returned_to_owner), so the verb says where it starts; the store's
 * compare-and-swap still guards against a change after this look.
 */
static int
state_is(const char *id, enum wf_state s, enum wf_state want)
{
	if (s == want)
		return 0;
	ctl_put_escaped(stdout, id);
	printf(": WRONG_STATE: %s (%s, not %s)\n",
	    err_code_message(ERR_WRONG_STATE), workflow_state_name(s),
	    workflow_state_name(want));
	return CTL_REFUSED;
}

/* One store_transition as the operator; prints the outcome. */
static int
act(struct store *st, const struct store_transition_req *req)
{
	struct store_actor who;
	struct store_result res = { 0 };
	int rc;

	ctl_operator(&who);
	res.errs = errlist_new();
	if ((rc = store_transition(st, req, &who, &res)) == -1)
		rc = ctl_store_error(st);
	else if ((rc = findings_status(req->id, res.errs)) == CTL_OK)
		put_state(req->id, res.state);
	errlist_free(res.errs);
	return rc;
}

/*
 * "PATH=CODE:text" into an issue pointing into s (modified).  PATH is up
 * to the first '=', CODE up to the next ':'; both must be non-empty.
 */
static int
issue_parse(char *s, struct store_issue *is)
{
	char *eq, *colon;

	if ((eq = strchr(s, '=')) == NULL || eq == s)
		return -1;
	*eq = '\0';
	if ((colon = strchr(eq + 1, ':')) == NULL || colon == eq + 1)
		return -1;
	*colon = '\0';
	is->path = s;
	is->code = eq + 1;
	is->text = colon + 1;
	return 0;
}

/* "CODE:text" (review --reject). */
static int
reason_parse(char *s, struct store_issue *is)
{
	char *colon;

	if ((colon = strchr(s, ':')) == NULL || colon == s)
		return -1;
	*colon = '\0';
	is->path = "/";
	is->code = s;
	is->text = colon + 1;
	return 0;
}

/* ---- verify --------------------------------------------------------------- */

/*
 * The verification record of FORMAT.md §6 for --pass (photo and scan
 * named photo_name, scan_name) or --return (issues).  Written by
 * verification_to_xml() and parsed back by the same parser as any
 * record, so that what is stored is what a provider could have sent.
 */
static char *
record_make(const char *id, int pass, const char *verifier,
    const char *photo_name, const char *scan_name,
    const struct store_issue *issues, size_t nissues)
{
	struct verification v;
	struct issue *is = NULL;
	char at[32];
	char *x;

	memset(&v, 0, sizeof(v));
	time_rfc3339_cst(time(NULL), at);
	v.filing = (char *)id;
	v.result = (char *)(pass ? "pass" : "return");
	v.verifier = (char *)verifier;
	v.verified_at = at;
	for (size_t i = 0; i < 7; i++)
		v.checks[i] = pass ? 1 : -1;
	if (pass) {
		v.photo_file = (char *)photo_name;
		v.scan_file = (char *)scan_name;
	} else {
		is = xreallocarray(NULL, nissues ? nissues : 1, sizeof(*is));
		for (size_t i = 0; i < nissues; i++) {
			is[i].path = (char *)issues[i].path;
			is[i].code = (char *)issues[i].code;
			is[i].text = (char *)issues[i].text;
		}
		v.issues = is;
		v.nissues = nissues;
	}
	x = verification_to_xml(&v, NULL);
	free(is);
	return x;
}

/* The files of one verification item: the record first, then the rest. */
struct vfiles {
	struct pkg_file f[3];
	unsigned char *data[3]; /* owned */
	char *names[3];         /* owned */
	size_t n;
};

static void
vfiles_free(struct vfiles *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->data[i]);
		free(v->names[i]);
	}
	v->n = 0;
}

static void
vfiles_add(struct vfiles *v, const char *name, unsigned char *data,
    size_t size)
{
	v->names[v->n] = xstrdup(name);
	v->data[v->n] = data;
	v->f[v->n].name = v->names[v->n];
	v->f[v->n].data = data;
	v->f[v->n].size = size;
	v->n++;
}

/*
 * The record (files->f[0]) and its files, parsed and checked by a
 * sandboxed worker as a batch's record is (wc: started by the caller,
 * NULL to start one here); its answer in *res.  0, or the exit status
 * with why printed.
 */
static int
verify_parse(const struct config *cf, const char *id, struct vfiles *vf,
    struct worker_client *wc, struct worker_result *res)
{
	struct worker_client *own = NULL;
	char err[512];
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if (wc == NULL &&
	    (wc = own = worker_client_new(cf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "beianctl: %s\n", err);
		return CTL_USAGE;
	}
	if (worker_client_verify(wc, vf->f, vf->n, res) == -1) {
		fprintf(stderr, "beianctl: %s\n", worker_client_error(wc));
		rc = CTL_USAGE;
	} else if (res->status != WR_OK || res->upload == NULL ||
	    res->upload->nitems != 1 ||
	    res->upload->items[0].kind != ITEM_VERIFICATION) {
		struct errlist *el = errlist_new();

		/* as the daemon's receipt says it of such an upload */
		errlist_add(el, ERR_ARCHIVE_CORRUPT, "/", "无法安全读取 / "
		    "could not be read safely: %s", res->status != WR_OK ?
		    res->reason : "the worker answered something else");
		rc = findings_status(id, el);
		errlist_free(el);
		upload_free(res->upload);
		res->upload = NULL;
	}
	worker_client_free(own);
	return rc;
}

/*
 * Check the record (files->f[0]) and its files as a batch's record is
 * checked (in a worker), then hand it to ingest_item as the operator.
 */
static int
verify_ingest(const struct config *cf, const char *id, struct vfiles *vf,
    struct worker_client *wc)
{
	struct worker_result res;
	struct store_actor who;
	struct ingest_outcome out = { 0 };
	struct store *st = NULL;
	struct item *it;
	enum wf_state state;
	int rc;

	if ((rc = verify_parse(cf, id, vf, wc, &res)) != 0)
		return rc;
	it = &res.upload->items[0];
	out.errs = errlist_new();
	if (it->verification != NULL && (it->verification->filing == NULL ||
	    strcmp(it->verification->filing, id) != 0)) {
		fputs("beianctl: the record is about filing ", stderr);
		ctl_put_escaped(stderr, it->verification->filing ?
		    it->verification->filing : "(none)");
		fputs(", not ", stderr);
		ctl_put_escaped(stderr, id);
		fputc('\n', stderr);
		rc = CTL_USAGE;
		goto out;
	}
	if ((st = ctl_store_open(cf)) == NULL) {
		rc = CTL_USAGE;
		goto out;
	}
	if ((rc = filing_known(st, id, &state)) != 0 ||
	    (rc = state_is(id, state, WF_AWAITING_VERIFICATION)) != 0)
		goto out;
	ctl_operator(&who);
	if (ingest_item(st, cf, it, &who, NULL, NULL, &out) == -1) {
		rc = ctl_store_error(st);
		goto out;
	}
	if ((rc = findings_status(id, out.errs)) == CTL_OK)
		put_state(id, out.state);
out:
	store_close(st);
	upload_free(res.upload);
	errlist_free(out.errs);
	return rc;
}

static int
verify_record(const struct config *cf, const char *id, const char *path)
{
	struct worker_client *wc = NULL;
	struct worker_result first;
	const struct verification *v = NULL;
	struct vfiles vf = { 0 };
	unsigned char *b;
	const char *base, *names[2] = { NULL, NULL };
	char *dir, err[512];
	size_t len;
	int rc;

	if ((b = ctl_read_file(path, cf->limits.xml_max_bytes, &len)) == NULL) {
		if (errno == EFBIG) {
			ctl_put_escaped(stdout, id);
			printf(": XML_TOO_LARGE: %s\n",
			    err_code_message(ERR_XML_TOO_LARGE));
			return CTL_REFUSED;
		}
		ctl_put_file_error(path, errno);
		return CTL_USAGE;
	}
	base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	dir = base == path ? xstrdup(".") :
	    xstrndup(path, (size_t)(base - path - 1));
	if (dir[0] == '\0') {
		free(dir);
		dir = xstrdup("/");
	}
	vfiles_add(&vf, base, b, len);
	if ((wc = worker_client_new(cf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "beianctl: %s\n", err);
		rc = CTL_USAGE;
		goto out;
	}
	/* a first look, by the worker, for the names of the files beside it
	 * (what it answers is hostile: the names are checked below) */
	if ((rc = verify_parse(cf, id, &vf, wc, &first)) != 0)
		goto out;
	v = first.upload->items[0].verification;
	names[0] = v != NULL ? v->photo_file : NULL;
	names[1] = v != NULL ? v->scan_file : NULL;
	rc = CTL_OK;
	for (size_t i = 0; i < 2 && rc == CTL_OK; i++) {
		char *p;

		/* only files in the record's folder; a missing one is the
		 * checks' ATTACHMENT_MISSING */
		if (names[i] == NULL || names[i][0] == '\0' ||
		    strchr(names[i], '/') != NULL ||
		    strcmp(names[i], ".") == 0 || strcmp(names[i], "..") == 0 ||
		    strcmp(names[i], base) == 0 ||
		    (i == 1 && names[0] != NULL &&
		    strcmp(names[0], names[1]) == 0))
			continue;
		p = xasprintf("%s/%s", dir, names[i]);
		if ((b = ctl_read_file(p, cf->limits.archive_max_bytes,
		    &len)) != NULL)
			vfiles_add(&vf, names[i], b, len);
		else if (errno != ENOENT) {
			ctl_put_file_error(p, errno);
			rc = CTL_USAGE;
		}
		free(p);
	}
	upload_free(first.upload);
	if (rc == CTL_OK)
		rc = verify_ingest(cf, id, &vf, wc);
out:
	worker_client_free(wc);
	free(dir);
	vfiles_free(&vf);
	return rc;
}

static int
verify_pass(const struct config *cf, const char *id, const char *verifier,
    const char *photo, const char *scan)
{
	struct vfiles vf = { 0 };
	const char *paths[2] = { photo, scan };
	char names[2][32];
	unsigned char *b[2] = { NULL, NULL };
	size_t len[2];
	char *rec, *recname;
	int rc = CTL_OK;

	for (size_t i = 0; i < 2; i++) {
		if ((b[i] = ctl_read_or_complain(paths[i],
		    cf->limits.archive_max_bytes, &len[i])) == NULL) {
			free(b[0]);
			return CTL_USAGE;
		}
		/* stored under a fixed name that says what it is (by its
		 * first bytes only: the worker checks the photo itself) */
		snprintf(names[i], sizeof(names[i]), "%s.%s",
		    i == 0 ? "onsite" : "checklist",
		    photo_kind_sniff(b[i], len[i]) == PHOTO_PNG ? "png" : "jpg");
	}
	rec = record_make(id, 1, verifier, names[0], names[1], NULL, 0);
	recname = xasprintf("%s.verification.xml", id);
	vfiles_add(&vf, recname, (unsigned char *)rec, strlen(rec));
	vfiles_add(&vf, names[0], b[0], len[0]);
	vfiles_add(&vf, names[1], b[1], len[1]);
	free(recname);
	rc = verify_ingest(cf, id, &vf, NULL);
	vfiles_free(&vf);
	return rc;
}

static int
verify_return(const struct config *cf, const char *id, const char *verifier,
    char **specs, size_t nspecs)
{
	struct store_issue *is;
	struct vfiles vf = { 0 };
	char *rec, *recname;
	int rc;

	is = xreallocarray(NULL, nspecs, sizeof(*is));
	for (size_t i = 0; i < nspecs; i++)
		if (issue_parse(specs[i], &is[i]) == -1) {
			fputs("beianctl: not PATH=CODE:text: ", stderr);
			ctl_put_escaped(stderr, specs[i]);
			fputc('\n', stderr);
			free(is);
			return CTL_USAGE;
		}
	rec = record_make(id, 0, verifier, NULL, NULL, is, nspecs);
	free(is);
	recname = xasprintf("%s.verification.xml", id);
	vfiles_add(&vf, recname, (unsigned char *)rec, strlen(rec));
	free(recname);
	rc = verify_ingest(cf, id, &vf, NULL);
	vfiles_free(&vf);
	return rc;
}

static void
verify_usage(void)
{
	fprintf(stderr,
	    "usage: beianctl verify ID --record FILE\n"
	    "       beianctl verify ID --pass --photo JPG --scan JPG "
	    "[--verifier NAME]\n"
	    "       beianctl verify ID --return \"PATH=CODE:text\"... "
	    "[--verifier NAME]\n");
}

int
ctl_verify(int argc, char **argv, const struct config *cf)
{
	static const struct option opts[] = {
		{ "record", required_argument, NULL, 'r' },
		{ "pass", no_argument, NULL, 'p' },
		{ "return", no_argument, NULL, 'R' },
		{ "photo", required_argument, NULL, 'P' },
		{ "scan", required_argument, NULL, 's' },
		{ "verifier", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const char *record = NULL, *photo = NULL, *scan = NULL;
	const char *verifier = NULL, *id;
	int pass = 0, ret = 0, ch, nmodes;

	/* permuting: ID may come before or after the options; --return's
	 * issues are the operands after ID */
	optind = 1;
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			record = optarg;
			break;
		case 'p':
			pass = 1;
			break;
		case 'R':
			ret = 1;
			break;
		case 'P':
			photo = optarg;
			break;
		case 's':
			scan = optarg;
			break;
		case 'v':
			verifier = optarg;
			break;
		default:
			verify_usage();
			return CTL_USAGE;
		}
	}
	nmodes = (record != NULL) + pass + ret;
	if (optind >= argc || nmodes != 1 ||
	    (record != NULL && (argc - optind != 1 || photo || scan ||
	    verifier)) ||
	    (pass && (argc - optind != 1 || photo == NULL || scan == NULL)) ||
	    (ret && (argc - optind < 2 || photo || scan))) {
		verify_usage();
		return CTL_USAGE;
	}
	id = argv[optind];
	if (verifier == NULL)
		verifier = ctl_operator_name();
	if (verifier[0] == '\0') {
		verify_usage();
		return CTL_USAGE;
	}
	if (record != NULL)
		return verify_record(cf, id, record);
	if (pass)
		return verify_pass(cf, id, verifier, photo, scan);
	return verify_return(cf, id, verifier, argv + optind + 1,
	    (size_t)(argc - optind - 1));
}

/* ---- review, handback, withdraw --------------------------------------------- */

int
ctl_review(int argc, char **argv, const struct config *cf)
{
	static const struct option opts[] = {
		{ "approve", no_argument, NULL, 'a' },
		{ "reject", required_argument, NULL, 'r' },
		{ "licence", required_argument, NULL, 'l' },
		{ "reviewer", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_transition_req req = { 0 };
	struct store_issue issue;
	struct store *st;
	const char *licence = NULL, *reviewer = NULL;
	char *reject = NULL;
	int approve = 0, ch, rc;

	optind = 1;
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			approve = 1;
			break;
		case 'r':
			reject = optarg;
			break;
		case 'l':
			licence = optarg;
			break;
		case 'v':
			reviewer = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 1 || approve == (reject != NULL) ||
	    (licence != NULL && !approve))
		goto usage;
	if (reject != NULL && reason_parse(reject, &issue) == -1)
		goto usage;
	req.id = argv[optind];
	if (approve) {
		req.to = WF_APPROVED;
		req.licence = licence;
		/* as a decision record's approval: the reviewer is the reason */
		req.reason = reviewer != NULL ? reviewer : ctl_operator_name();
	} else {
		req.to = WF_RETURNED_TO_PROVIDER;
		req.issues = &issue;
		req.nissues = 1;
		req.reason = issue.text;
	}
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	if ((rc = filing_known(st, req.id, NULL)) == 0)
		rc = act(st, &req);
	store_close(st);
	return rc;
usage:
	fprintf(stderr, "usage: beianctl review ID --approve [--licence NUMBER]"
	    " | --reject \"CODE:text\" [--reviewer NAME]\n");
	return CTL_USAGE;
}

int
ctl_handback(int argc, char **argv, const struct config *cf)
{
	struct store_issue *is = NULL;
	struct store_actor who;
	struct store_result res = { 0 };
	struct store *st;
	enum wf_state state;
	const char *id;
	size_t n = 0;
	int rc;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: beianctl handback ID "
		    "[\"PATH=CODE:text\"...]\n");
		return CTL_USAGE;
	}
	id = argv[1];
	if (argc > 2) {
		n = (size_t)(argc - 2);
		is = xreallocarray(NULL, n, sizeof(*is));
		for (size_t i = 0; i < n; i++)
			if (issue_parse(argv[i + 2], &is[i]) == -1) {
				fputs("beianctl: not PATH=CODE:text: ", stderr);
				ctl_put_escaped(stderr, argv[i + 2]);
				fputc('\n', stderr);
				free(is);
				return CTL_USAGE;
			}
	}
	if ((st = ctl_store_open(cf)) == NULL) {
		free(is);
		return CTL_USAGE;
	}
	if ((rc = filing_known(st, id, &state)) == 0 &&
	    (rc = state_is(id, state, WF_RETURNED_TO_PROVIDER)) == 0) {
		ctl_operator(&who);
		res.errs = errlist_new();
		if (store_handback(st, id, is, n, &who, &res) == -1)
			rc = ctl_store_error(st);
		else if ((rc = findings_status(id, res.errs)) == CTL_OK)
			put_state(id, res.state);
		errlist_free(res.errs);
	}
	free(is);
	store_close(st);
	return rc;
}

int
ctl_withdraw(int argc, char **argv, const struct config *cf)
{
	struct store_transition_req req = { 0 };
	struct store *st;
	int rc;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: beianctl withdraw ID\n");
		return CTL_USAGE;
	}
	req.id = argv[1];
	req.to = WF_WITHDRAWN;
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	if ((rc = filing_known(st, req.id, NULL)) == 0)
		rc = act(st, &req);
	store_close(st);
	return rc;
}
