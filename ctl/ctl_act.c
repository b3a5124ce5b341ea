/*
 * ctl_act: the verbs of beianctl that act — verify, review, handback,
 * withdraw, retry, requeue, import, password-reset, backup (DESIGN.md,
 * Command line).
 *
 * A decision taken here is the same transaction as one that came by the
 * spool or by mail, recorded with actor kind operator and channel cli:
 * verification records (given, or made from --pass/--return) go through
 * ingest_item() exactly as a batch's do; the other moves are one
 * store_transition() each.
 *
 * Hostile input: the files named on the command line (a verification
 * record and the photos beside it, an import CSV) may come from outside.
 * The record is parsed by the same code as a batch's; the files it names
 * are read only from its own folder (a name with a '/' is never opened);
 * the CSV parser keeps every field within the file it read.  requeue
 * renames only within spool_dir and refuses sources with ".." or a
 * leading '/'.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/admin.h"
#include "common/check_setup.h"
#include "lib/compat.h"
#include "common/config.h"
#include "ctl/ctl.h"
#include "parsers/filing.h"
#include "parsers/filing_check.h"
#include "store/ingest.h"
#include "store/outbox.h"
#include "parsers/package.h"
#include "parsers/photo.h"
#include "lib/utf8.h"
#include "parsers/rules.h"
#include "store/query.h"
#include "store/status.h"
#include "store/store.h"
#include "store/transition.h"
#include "common/workflow.h"
#include "lib/xmalloc.h"

#define IMPORT_MAX_BYTES ((size_t)256 << 20)
#define IMPORT_COLUMNS 8

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

/* Append s to b with the five XML specials escaped. */
static void
xml_put(char **b, const char *s)
{
	char *old = *b, *n;
	size_t len = strlen(old), extra = 0;

	for (const char *p = s; *p; p++)
		extra += *p == '&' ? 5 : *p == '<' || *p == '>' ? 4 :
		    *p == '"' || *p == '\'' ? 6 : 1;
	n = xmalloc(len + extra + 1);
	memcpy(n, old, len);
	for (const char *p = s; *p; p++) {
		const char *r = NULL;

		switch (*p) {
		case '&': r = "&amp;"; break;
		case '<': r = "&lt;"; break;
		case '>': r = "&gt;"; break;
		case '"': r = "&quot;"; break;
		case '\'': r = "&apos;"; break;
		}
		if (r != NULL) {
			memcpy(n + len, r, strlen(r));
			len += strlen(r);
		} else
			n[len++] = *p;
	}
	n[len] = '\0';
	free(old);
	*b = n;
}

static void
raw_put(char **b, const char *s)
{
	char *n = xasprintf("%s%s", *b, s);

	free(*b);
	*b = n;
}

/*
 * The verification record of FORMAT.md §6 for --pass (photo and scan
 * named photo_name, scan_name) or --return (issues).  Built as text and
 * parsed back by the same parser as any record, so that what is stored
 * is what a provider could have sent.
 */
static char *
record_make(const char *id, int pass, const char *verifier,
    const char *photo_name, const char *scan_name,
    const struct store_issue *issues, size_t nissues)
{
	char at[32];
	char *b = xstrdup("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<verification xmlns=\"urn:beiand:verification:1\" filing=\"");

	time_rfc3339_cst(time(NULL), at);
	xml_put(&b, id);
	raw_put(&b, pass ? "\" result=\"pass\">\n  <verifier>" :
	    "\" result=\"return\">\n  <verifier>");
	xml_put(&b, verifier);
	raw_put(&b, "</verifier>\n  <verifiedAt>");
	raw_put(&b, at);
	raw_put(&b, "</verifiedAt>\n");
	if (pass) {
		raw_put(&b, "  <checks subjectCert=\"true\" personCert=\"true\""
		    " contacts=\"true\" siteName=\"true\"\n"
		    "          preApproval=\"true\" domainOwner=\"true\""
		    " photoTaken=\"true\"/>\n  <photo file=\"");
		xml_put(&b, photo_name);
		raw_put(&b, "\"/>\n  <checklistScan file=\"");
		xml_put(&b, scan_name);
		raw_put(&b, "\"/>\n");
	} else {
		raw_put(&b, "  <remarks>\n");
		for (size_t i = 0; i < nissues; i++) {
			raw_put(&b, "    <issue path=\"");
			xml_put(&b, issues[i].path);
			raw_put(&b, "\" code=\"");
			xml_put(&b, issues[i].code);
			raw_put(&b, "\">");
			xml_put(&b, issues[i].text);
			raw_put(&b, "</issue>\n");
		}
		raw_put(&b, "  </remarks>\n");
	}
	raw_put(&b, "</verification>\n");
	return b;
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
 * Check the record (files->f[0]) and its files as a batch's record is
 * checked, then hand it to ingest_item as the operator.
 */
static int
verify_ingest(const struct config *cf, const char *id, struct vfiles *vf)
{
	struct check_setup cs;
	struct item it;
	struct pkg_file *all;
	struct store_actor who;
	struct ingest_outcome out = { 0 };
	struct store *st = NULL;
	enum wf_state state;
	int rc;

	if (check_setup_init(&cs, cf, NULL, time(NULL)) != 0)
		return CTL_USAGE;
	xmldoc_init();
	memset(&it, 0, sizeof(it));
	it.kind = ITEM_VERIFICATION;
	it.path = vf->names[0];
	it.errs = errlist_new();
	it.files = vf->f;
	it.nfiles = vf->n;
	out.errs = errlist_new();
	if (verification_parse(vf->f[0].data, vf->f[0].size, &cf->limits,
	    &it.verification, it.errs) == 0) {
		if (it.verification->filing == NULL ||
		    strcmp(it.verification->filing, id) != 0) {
			fputs("beianctl: the record is about filing ", stderr);
			ctl_put_escaped(stderr, it.verification->filing ?
			    it.verification->filing : "(none)");
			fputs(", not ", stderr);
			ctl_put_escaped(stderr, id);
			fputc('\n', stderr);
			rc = CTL_USAGE;
			goto out;
		}
		verification_check(it.verification, vf->f, vf->n, &cs.ctx,
		    it.errs);
	}
	/* its identity as package.c's item_hash gives it: itself and the
	 * files beside it (the record is among them, and added again) */
	all = xreallocarray(NULL, vf->n + 1, sizeof(*all));
	memcpy(all, vf->f, vf->n * sizeof(*all));
	all[vf->n] = vf->f[0];
	package_files_sha256(all, vf->n + 1, it.sha256);
	free(all);

	if ((st = ctl_store_open(cf)) == NULL) {
		rc = CTL_USAGE;
		goto out;
	}
	if ((rc = filing_known(st, id, &state)) != 0 ||
	    (rc = state_is(id, state, WF_AWAITING_VERIFICATION)) != 0)
		goto out;
	ctl_operator(&who);
	if (ingest_item(st, cf, &it, &who, NULL, NULL, &out) == -1) {
		rc = ctl_store_error(st);
		goto out;
	}
	if ((rc = findings_status(id, out.errs)) == CTL_OK)
		put_state(id, out.state);
out:
	store_close(st);
	verification_free(it.verification);
	errlist_free(it.errs);
	errlist_free(out.errs);
	check_setup_fini(&cs);
	return rc;
}

/* Read path; on failure print why and return NULL. */
static unsigned char *
read_or_complain(const char *path, size_t max, size_t *len)
{
	unsigned char *b;

	if ((b = ctl_read_file(path, max, len)) == NULL) {
		fputs("beianctl: ", stderr);
		ctl_put_escaped(stderr, path);
		fprintf(stderr, ": %s\n", strerror(errno));
	}
	return b;
}

static int
verify_record(const struct config *cf, const char *id, const char *path)
{
	struct verification *v = NULL;
	struct errlist *scratch;
	struct vfiles vf = { 0 };
	unsigned char *b;
	const char *base, *names[2];
	char *dir;
	size_t len;
	int rc;

	if ((b = ctl_read_file(path, cf->limits.xml_max_bytes, &len)) == NULL) {
		if (errno == EFBIG) {
			ctl_put_escaped(stdout, id);
			printf(": XML_TOO_LARGE: %s\n",
			    err_code_message(ERR_XML_TOO_LARGE));
			return CTL_REFUSED;
		}
		fputs("beianctl: ", stderr);
		ctl_put_escaped(stderr, path);
		fprintf(stderr, ": %s\n", strerror(errno));
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
	/* a first look for the names of the files beside it */
	scratch = errlist_new();
	verification_parse(b, len, &cf->limits, &v, scratch);
	errlist_free(scratch);
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
			fputs("beianctl: ", stderr);
			ctl_put_escaped(stderr, p);
			fprintf(stderr, ": %s\n", strerror(errno));
			rc = CTL_USAGE;
		}
		free(p);
	}
	verification_free(v);
	free(dir);
	if (rc == CTL_OK)
		rc = verify_ingest(cf, id, &vf);
	vfiles_free(&vf);
	return rc;
}

static int
verify_pass(const struct config *cf, const char *id, const char *verifier,
    const char *photo, const char *scan)
{
	struct vfiles vf = { 0 };
	struct photo_info pi;
	const char *paths[2] = { photo, scan };
	char names[2][32];
	unsigned char *b[2] = { NULL, NULL };
	size_t len[2];
	char *rec, *recname;
	int rc = CTL_OK;

	for (size_t i = 0; i < 2; i++) {
		if ((b[i] = read_or_complain(paths[i],
		    cf->limits.archive_max_bytes, &len[i])) == NULL) {
			free(b[0]);
			return CTL_USAGE;
		}
		/* stored under a fixed name that says what it is */
		memset(&pi, 0, sizeof(pi));
		photo_check(b[i], len[i], cf->limits.photo_max_bytes, &pi);
		snprintf(names[i], sizeof(names[i]), "%s.%s",
		    i == 0 ? "onsite" : "checklist",
		    pi.kind == PHOTO_PNG ? "png" : "jpg");
	}
	rec = record_make(id, 1, verifier, names[0], names[1], NULL, 0);
	recname = xasprintf("%s.verification.xml", id);
	vfiles_add(&vf, recname, (unsigned char *)rec, strlen(rec));
	vfiles_add(&vf, names[0], b[0], len[0]);
	vfiles_add(&vf, names[1], b[1], len[1]);
	free(recname);
	rc = verify_ingest(cf, id, &vf);
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
	rc = verify_ingest(cf, id, &vf);
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
	struct store_transition_req req = { 0 };
	struct store_filing_detail *d = NULL;
	struct store_issue *is = NULL;
	struct store *st;
	enum wf_state state;
	size_t n = 0;
	int rc;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: beianctl handback ID "
		    "[\"PATH=CODE:text\"...]\n");
		return CTL_USAGE;
	}
	req.id = argv[1];
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
	if (n == 0) {
		/* hand on the bureau's reason: the filing's last errors */
		if ((rc = store_filing_show(st, req.id, &d)) == -1) {
			rc = ctl_store_error(st);
			goto out;
		}
		if (rc == 1) {
			rc = filing_known(st, req.id, NULL);
			goto out;
		}
		n = d->nerrors;
		is = xreallocarray(NULL, n ? n : 1, sizeof(*is));
		for (size_t i = 0; i < n; i++) {
			is[i].path = d->errors[i].path;
			is[i].code = d->errors[i].code;
			is[i].text = d->errors[i].message;
		}
	}
	req.to = WF_RETURNED_TO_OWNER;
	req.issues = is;
	req.nissues = n;
	req.reason = "handback";
	if ((rc = filing_known(st, req.id, &state)) == 0 &&
	    (rc = state_is(req.id, state, WF_RETURNED_TO_PROVIDER)) == 0)
		rc = act(st, &req);
out:
	store_filing_detail_free(d);
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

/* ---- retry ------------------------------------------------------------------- */

int
ctl_retry(int argc, char **argv, const struct config *cf)
{
	struct store_mail *m = NULL;
	struct store *st;
	char *end;
	long long v;
	int rc;

	if (argc != 2 || argv[1][0] < '0' || argv[1][0] > '9') {
		fprintf(stderr, "usage: beianctl retry MAILID\n");
		return CTL_USAGE;
	}
	errno = 0;
	v = strtoll(argv[1], &end, 10);
	if (*end != '\0' || errno != 0 || v <= 0) {
		fprintf(stderr, "usage: beianctl retry MAILID\n");
		return CTL_USAGE;
	}
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	if ((rc = store_outbox_get(st, (int64_t)v, &m)) == -1) {
		rc = ctl_store_error(st);
		goto out;
	}
	if (rc == 1) {
		printf("%lld: TRACKING_ID_UNKNOWN: no such mail\n", v);
		rc = CTL_UNKNOWN_ID;
		goto out;
	}
	if ((rc = store_outbox_retry(st, (int64_t)v)) == -1)
		rc = ctl_store_error(st);
	else if (rc == 1) {
		printf("%lld: WRONG_STATE: ", v);
		if (m->to == NULL || m->to[0] == '\0')
			fputs("no address for this recipient\n", stdout);
		else {
			fputs("the mail is ", stdout);
			ctl_put_escaped(stdout, m->state ? m->state : "?");
			fputs(", not failed or deferred\n", stdout);
		}
		rc = CTL_REFUSED;
	} else {
		printf("%lld: queued\n", v);
		rc = CTL_OK;
	}
out:
	store_mail_free(m);
	store_close(st);
	return rc;
}

/* ---- requeue ---------------------------------------------------------------- */

struct qfind {
	const char *item;
	int found;
	char *source;
};

static int
qfind_cb(const char *item, const char *source, time_t at, const char *reason,
    void *arg)
{
	struct qfind *q = arg;

	if (strcmp(item, q->item) != 0)
		return 0;
	q->found = 1;
	q->source = source != NULL ? xstrdup(source) : NULL;
	return 1;
}

/* A relative path with no "..", "." or empty component. */
static int
relpath_safe(const char *p)
{
	const char *s = p;

	if (p[0] == '\0' || p[0] == '/')
		return 0;
	for (;;) {
		size_t n = strcspn(s, "/");

		if (n == 0 || (n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		if (s[n] == '\0')
			return 1;
		s += n + 1;
	}
}

int
ctl_requeue(int argc, char **argv, const struct config *cf)
{
	struct qfind q = { 0 };
	struct store *st;
	char *from = NULL, *to = NULL, *reason = NULL;
	int rc;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: beianctl requeue ITEM\n");
		return CTL_USAGE;
	}
	q.item = argv[1];
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	if (store_quarantine_list(st, qfind_cb, &q) == -1) {
		rc = ctl_store_error(st);
		goto out;
	}
	if (!q.found || !relpath_safe(q.item) || strchr(q.item, '/') != NULL) {
		ctl_put_escaped(stdout, q.item);
		fputs(": TRACKING_ID_UNKNOWN: no such quarantined item\n", stdout);
		rc = CTL_UNKNOWN_ID;
		goto out;
	}
	if (q.source == NULL || !relpath_safe(q.source)) {
		fputs("beianctl: ", stderr);
		ctl_put_escaped(stderr, q.item);
		fputs(": its source is not known", stderr);
		if (q.source != NULL) {
			fputs(" (", stderr);
			ctl_put_escaped(stderr, q.source);
			fputc(')', stderr);
		}
		fputc('\n', stderr);
		rc = CTL_USAGE;
		goto out;
	}
	from = xasprintf("%s/quarantine/%s", cf->spool_dir, q.item);
	reason = xasprintf("%s.reason", from);
	to = xasprintf("%s/%s", cf->spool_dir, q.source);
	/* never over a file that came since: the new one would be lost */
	if (access(to, F_OK) == 0) {
		fputs("beianctl: ", stderr);
		ctl_put_escaped(stderr, to);
		fputs(": exists; move it away first\n", stderr);
		rc = CTL_USAGE;
		goto out;
	}
	if (rename(from, to) == -1) {
		fputs("beianctl: ", stderr);
		ctl_put_escaped(stderr, from);
		fputs(" -> ", stderr);
		ctl_put_escaped(stderr, to);
		fprintf(stderr, ": %s\n", strerror(errno));
		rc = CTL_USAGE;
		goto out;
	}
	if (unlink(reason) == -1 && errno != ENOENT) {
		fputs("beianctl: ", stderr);
		ctl_put_escaped(stderr, reason);
		fprintf(stderr, ": %s\n", strerror(errno));
	}
	if (store_quarantine_remove(st, q.item) == -1) {
		rc = ctl_store_error(st);
		goto out;
	}
	ctl_put_escaped(stdout, q.item);
	fputs(": requeued to ", stdout);
	ctl_put_escaped(stdout, q.source);
	fputc('\n', stdout);
	rc = CTL_OK;
out:
	free(q.source);
	free(from);
	free(to);
	free(reason);
	store_close(st);
	return rc;
}

/* ---- import ------------------------------------------------------------------ */

struct csv {
	const char *p, *end;
	size_t line;        /* the line p is on (1-based) */
};

struct csv_row {
	char **f;
	size_t n, cap;
	size_t line;        /* where the row starts */
};

static void
csv_row_clear(struct csv_row *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->f[i]);
	r->n = 0;
}

/*
 * One record of RFC 4180 (LF or CRLF line ends; a quoted field may hold
 * commas, quotes doubled and line breaks).  Returns 1 with a row, 0 at
 * the end, -1 on a malformed quote (the rest of the line is skipped).
 */
static int
csv_next(struct csv *c, struct csv_row *r)
{
	csv_row_clear(r);
	if (c->p >= c->end)
		return 0;
	r->line = c->line;
	for (;;) {
		char *v = xmalloc((size_t)(c->end - c->p) + 1);
		size_t n = 0;
		int bad = 0;

		if (c->p < c->end && *c->p == '"') {
			c->p++;
			for (;;) {
				if (c->p >= c->end) {
					bad = 1;
					break;
				}
				if (*c->p == '"') {
					if (c->p + 1 < c->end && c->p[1] == '"') {
						v[n++] = '"';
						c->p += 2;
						continue;
					}
					c->p++;
					break;
				}
				if (*c->p == '\n')
					c->line++;
				v[n++] = *c->p++;
			}
			if (!bad && c->p < c->end && *c->p != ',' &&
			    *c->p != '\n' && !(*c->p == '\r' &&
			    c->p + 1 < c->end && c->p[1] == '\n'))
				bad = 1;
		} else {
			while (c->p < c->end && *c->p != ',' && *c->p != '\n') {
				if (*c->p == '"')
					bad = 1;
				v[n++] = *c->p++;
			}
			if (n > 0 && v[n - 1] == '\r' &&
			    (c->p >= c->end || *c->p == '\n'))
				n--;
		}
		v[n] = '\0';
		xgrow(&r->f, &r->cap, r->n, sizeof(*r->f));
		r->f[r->n++] = v;
		if (bad) {
			/* skip to the end of this line */
			while (c->p < c->end && *c->p != '\n')
				c->p++;
			if (c->p < c->end) {
				c->p++;
				c->line++;
			}
			return -1;
		}
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p == '\n') {
			c->p++;
			c->line++;
		}
		return 1;
	}
}

/* 1 when s is well-formed UTF-8 (no overlongs, no surrogates). */
static void
row_refused(size_t line, enum err_code code, const char *msg)
{
	printf("%zu: %s: ", line, err_code_name(code));
	ctl_put_escaped(stdout, msg);
	fputc('\n', stdout);
}

int
ctl_import(int argc, char **argv, const struct config *cf)
{
	static const char *const header[IMPORT_COLUMNS] = {
		"subject_licence", "site_licence", "sponsor_name", "cert_type",
		"cert_number", "domains", "owner_email", "providers"
	};
	struct csv c;
	struct csv_row r = { 0 };
	struct store *st = NULL;
	struct errlist *errs;
	unsigned char *buf;
	size_t len, rows = 0, good = 0;
	int rc = CTL_OK, k;

	if (argc != 2 || (argv[1][0] == '-' && argv[1][1] != '\0')) {
		fprintf(stderr, "usage: beianctl import FILE\n");
		return CTL_USAGE;
	}
	if ((buf = read_or_complain(argv[1], IMPORT_MAX_BYTES, &len)) == NULL)
		return CTL_USAGE;
	if (memchr(buf, '\0', len) != NULL) {
		fputs("beianctl: ", stderr);
		ctl_put_escaped(stderr, argv[1]);
		fputs(": not a text file\n", stderr);
		free(buf);
		return CTL_USAGE;
	}
	c.p = (const char *)buf;
	c.end = c.p + len;
	c.line = 1;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		c.p += 3;
	if (csv_next(&c, &r) != 1 || r.n != IMPORT_COLUMNS)
		goto bad_header;
	for (size_t i = 0; i < IMPORT_COLUMNS; i++)
		if (strcmp(r.f[i], header[i]) != 0)
			goto bad_header;
	if ((st = ctl_store_open(cf)) == NULL) {
		rc = CTL_USAGE;
		goto out;
	}
	if (store_begin(st) == -1) {
		rc = ctl_store_error(st);
		goto out;
	}
	errs = errlist_new();
	while ((k = csv_next(&c, &r)) != 0) {
		struct store_import_row row;
		int ok = 1;

		if (k == 1 && r.n == 1 && r.f[0][0] == '\0')
			continue; /* an empty line */
		rows++;
		if (k == -1) {
			row_refused(r.line, ERR_SCHEMA_VIOLATION,
			    "引号不匹配 / malformed quotes");
			rc = CTL_REFUSED;
			continue;
		}
		if (r.n != IMPORT_COLUMNS) {
			char m[96];

			snprintf(m, sizeof(m), "应为 %d 列 / expected %d fields,"
			    " found %zu", IMPORT_COLUMNS, IMPORT_COLUMNS, r.n);
			row_refused(r.line, ERR_SCHEMA_VIOLATION, m);
			rc = CTL_REFUSED;
			continue;
		}
		for (size_t i = 0; i < r.n; i++)
			if (!utf8_valid(r.f[i], strlen(r.f[i])))
				ok = 0;
		if (!ok) {
			row_refused(r.line, ERR_XML_ENCODING,
			    "不是 UTF-8 / not UTF-8");
			rc = CTL_REFUSED;
			continue;
		}
		row.subject_licence = r.f[0];
		row.site_licence = r.f[1];
		row.sponsor_name = r.f[2];
		row.cert_type = r.f[3];
		row.cert_number = r.f[4];
		row.domains = r.f[5];
		row.owner_email = r.f[6];
		row.providers = r.f[7];
		errlist_clear(errs);
		k = store_subject_import(st, &row, errs);
		if (k == -1) {
			rc = ctl_store_error(st);
			store_rollback(st);
			errlist_free(errs);
			good = 0;
			goto out;
		}
		if (k == 1) {
			for (size_t i = 0; i < errlist_count(errs); i++) {
				const struct err_item *e = errlist_get(errs, i);

				printf("%zu: %s: ", r.line, err_code_name(e->code));
				ctl_put_escaped(stdout, e->path);
				fputs(": ", stdout);
				ctl_put_escaped(stdout, e->message);
				fputc('\n', stdout);
			}
			rc = CTL_REFUSED;
		} else
			good++;
	}
	errlist_free(errs);
	if (store_commit(st) == -1) {
		rc = ctl_store_error(st);
		good = 0;
	}
	printf("imported %zu of %zu rows\n", good, rows);
	goto out;
bad_header:
	fputs("beianctl: ", stderr);
	ctl_put_escaped(stderr, argv[1]);
	fputs(": the first line must be the header ", stderr);
	for (size_t i = 0; i < IMPORT_COLUMNS; i++)
		fprintf(stderr, "%s%s", i ? "," : "", header[i]);
	fputc('\n', stderr);
	rc = CTL_USAGE;
out:
	csv_row_clear(&r);
	free(r.f);
	store_close(st);
	free(buf);
	return rc;
}

/* ---- password-reset, backup ----------------------------------------------------- */

int
ctl_password_reset(int argc, char **argv, const struct config *cf)
{
	struct store_actor who;
	struct store_mail *m = NULL;
	struct errlist *errs;
	struct store *st;
	int64_t mail_id = 0;
	int rc;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: beianctl password-reset "
		    "SUBJECT_LICENCE\n");
		return CTL_USAGE;
	}
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	ctl_operator(&who);
	errs = errlist_new();
	rc = store_password_reset(st, argv[1], &who, errs, &mail_id);
	if (rc == -1)
		rc = ctl_store_error(st);
	else if (rc == 1) {
		ctl_put_refusals(argv[1], errs);
		rc = errlist_has(errs, ERR_LICENCE_UNKNOWN) ? CTL_UNKNOWN_ID :
		    CTL_REFUSED;
	} else {
		ctl_put_escaped(stdout, argv[1]);
		printf(": password reset; mail %" PRId64 " queued", mail_id);
		if (store_outbox_get(st, mail_id, &m) == 0 && m->to != NULL) {
			fputs(" to ", stdout);
			ctl_put_escaped(stdout, m->to);
		}
		fputc('\n', stdout);
		store_mail_free(m);
		rc = CTL_OK;
	}
	errlist_free(errs);
	store_close(st);
	return rc;
}

int
ctl_backup(int argc, char **argv, const struct config *cf)
{
	struct store *st;
	int rc = CTL_OK;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: beianctl backup FILE\n");
		return CTL_USAGE;
	}
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	if (store_backup(st, argv[1]) == -1)
		rc = ctl_store_error(st);
	else {
		ctl_put_escaped(stdout, argv[1]);
		fputs(": backup written\n", stdout);
	}
	store_close(st);
	return rc;
}
