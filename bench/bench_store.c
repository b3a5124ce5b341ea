/*
 * bench_store: commits per second of the submit path.
 *
 *   bench_store DB N GROUP
 *
 * Files N valid first filings (store_filing_create, as from a provider's
 * spool; each with its own subject certificate and domain) into a new
 * database DB, GROUP filings per store_begin()/store_commit() (GROUP 1:
 * each filing in its own transaction, as the store does outside a
 * group).  Prints one line: "N GROUP seconds filings/s".  The database
 * is synchronous=FULL in WAL mode (store_open), so the figure is bound by
 * fsync and must be measured on a real disk; bench_store.sh picks one.
 * Checks that every filing ended awaiting verification.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/workflow.h"
#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "store/filings.h"
#include "store/store.h"

static struct filing *
bench_filing(long i)
{
	struct filing *f = xcalloc(1, sizeof(*f));
	struct website *w;

	f->type = FILING_FIRST;
	f->mode = FILING_MODE_DELEGATED;
	f->province = xstrdup("11");
	f->sponsor = xcalloc(1, sizeof(*f->sponsor));
	f->sponsor->name = xstrdup("北京示例科技有限公司");
	f->sponsor->nature = xstrdup("enterprise");
	f->sponsor->cert_type = xstrdup("uscc");
	f->sponsor->cert_number = xasprintf("91110108MA%08ld", i);
	f->sponsor->principal = xcalloc(1, sizeof(*f->sponsor->principal));
	f->sponsor->principal->email = xasprintf("owner%ld@example.cn", i);
	f->nwebsites = 1;
	f->websites = w = xcalloc(1, sizeof(*w));
	w->name = xasprintf("示例网站%ld", i);
	w->ndomains = 1;
	w->domains = xcalloc(1, sizeof(char *));
	w->domains[0] = xasprintf("site%ld.example.cn", i);
	return f;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(struct store *st, const char *what)
{
	fprintf(stderr, "bench_store: %s: %s\n", what, store_errmsg(st));
	exit(1);
}

int
main(int argc, char *argv[])
{
	struct config cfg = { 0 };
	struct config_provider prov = { 0 };
	struct config_bureau bur = { 0 };
	char *baddr = (char *)"review@bureau.example";
	struct store_actor who = { 0 };
	struct filing **fs;
	struct store *st;
	char err[512], *copy, *end;
	long n, group;
	double t0, dt;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_store DB N GROUP\n");
		return 2;
	}
	errno = 0;
	n = strtol(argv[2], &end, 10);
	if (errno != 0 || *end != '\0' || n <= 0 || n > 99999999)
		return 2;
	group = strtol(argv[3], &end, 10);
	if (errno != 0 || *end != '\0' || group <= 0)
		return 2;

	prov.code = (char *)"P001";
	prov.email = (char *)"filing@p001.example";
	strlcpy(bur.province, "11", sizeof(bur.province));
	bur.addresses = &baddr;
	bur.naddresses = 1;
	bur.record_to = baddr;
	copy = xstrdup(argv[1]);
	cfg.state_dir = xstrdup(dirname(copy));
	free(copy);
	cfg.smtp_from = (char *)"beian@provider.example";
	cfg.providers = &prov;
	cfg.nproviders = 1;
	cfg.bureaus = &bur;
	cfg.nbureaus = 1;
	if ((st = store_open(argv[1], &cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench_store: store_open: %s\n", err);
		return 1;
	}
	who.kind = WF_ACTOR_PROVIDER;
	who.channel = WF_CHANNEL_SPOOL;
	who.name = "P001";
	who.provider = "P001";
	who.source = "bench";

	/* the packages are parsed before the clock starts: only the store */
	fs = xreallocarray(NULL, (size_t)n, sizeof(*fs));
	for (long i = 0; i < n; i++)
		fs[i] = bench_filing(i);

	t0 = now_s();
	for (long i = 0; i < n; i++) {
		struct store_package pkg = { fs[i], "<filing/>", NULL, NULL };
		struct store_result r = { 0 };

		if (group > 1 && i % group == 0 && store_begin(st) == -1)
			die(st, "begin");
		r.errs = errlist_new();
		if (store_filing_create(st, &pkg, &who, &r) != 0)
			die(st, "create");
		if (r.state != WF_AWAITING_VERIFICATION) {
			fprintf(stderr, "bench_store: filing %ld went to %s (%s)\n",
			    i, workflow_state_name(r.state),
			    errlist_count(r.errs) > 0 ? err_code_name(
			    errlist_get(r.errs, 0)->code) : "?");
			return 1;
		}
		errlist_free(r.errs);
		if (group > 1 && (i % group == group - 1 || i == n - 1) &&
		    store_commit(st) == -1)
			die(st, "commit");
	}
	dt = now_s() - t0;
	printf("%ld %ld %.3f %.0f\n", n, group, dt, (double)n / dt);
	store_close(st);
	for (long i = 0; i < n; i++)
		filing_free(fs[i]);
	free(fs);
	free(cfg.state_dir);
	return 0;
}
