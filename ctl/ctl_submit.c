/*
 * ctl_submit: `beianctl submit [--provider CODE] PACKAGE` — file a package
 * from the host, new or a resubmission (filing/@id), as the operator
 * acting for the provider.
 *
 * Prints "BA-…: STATE" for each filing it creates or changes, then any
 * findings as `check` prints them.
 *
 * Hostile input: the package.  It is read here (its bytes are what is
 * stored) and parsed by a sandboxed worker from exactly those bytes
 * (worker/worker_client.h), never in this process.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "ctl/ctl.h"
#include "lib/xmalloc.h"
#include "parsers/package.h"
#include "store/attachments.h"
#include "store/ingest.h"
#include "store/store.h"
#include "worker/worker_client.h"

int
ctl_submit(int argc, char **argv, const struct config *cf)
{
	static const struct option opts[] = {
		{ "provider", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *provider = NULL, *path, *name;
	struct worker_client *wc = NULL;
	struct worker_result res;
	struct store_actor who = { 0 };
	struct store *st = NULL;
	struct upload *u = NULL;
	unsigned char *buf = NULL;
	char err[512];
	size_t len;
	int ch, rc = CTL_USAGE, refused = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (ch != 'p')
			goto usage;
		provider = optarg;
	}
	if (argc - optind != 1)
		goto usage;
	path = argv[optind];
	if (provider == NULL && cf->imap_provider[0] != '\0')
		provider = cf->imap_provider;
	if (provider != NULL && config_provider_find(cf, provider) == NULL) {
		fprintf(stderr, "beianctl: unknown provider: %s\n", provider);
		return CTL_USAGE;
	}
	if ((buf = ctl_read_file(path, cf->limits.archive_max_bytes, &len)) ==
	    NULL && errno != EFBIG) {
		ctl_put_file_error(path, errno);
		goto out;
	}
	if (buf == NULL) {
		printf("/: ARCHIVE_TOO_LARGE: %s\n",
		    err_code_message(ERR_ARCHIVE_TOO_LARGE));
		rc = CTL_REFUSED;
		goto out;
	}
	name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if ((wc = worker_client_new(cf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "beianctl: %s\n", err);
		goto out;
	}
	if (worker_client_run_mem(wc, WJ_PARSE, buf, len, name, provider,
	    &res) == -1) {
		fprintf(stderr, "beianctl: %s\n", worker_client_error(wc));
		goto out;
	}
	if (res.status != WR_OK || res.upload == NULL) {
		struct errlist *el = errlist_new();

		/* as the daemon's receipt says it of such an upload */
		errlist_add(el, ERR_ARCHIVE_CORRUPT, "/", "无法安全读取 / "
		    "could not be read safely: %s", res.reason);
		ctl_put_findings(el);
		errlist_free(el);
		rc = CTL_REFUSED;
		goto out;
	}
	u = res.upload;
	if (errlist_nerrors(u->errs) > 0 || u->nitems != 1 ||
	    u->items[0].kind != ITEM_FILING) {
		ctl_put_findings(u->errs);
		if (errlist_nerrors(u->errs) == 0)
			fprintf(stderr, "beianctl: %s: not a single filing "
			    "package\n", path);
		rc = CTL_REFUSED;
		goto out;
	}
	/* (a first submit on a new deployment makes the state folder) */
	if ((st = ctl_store_open(cf)) == NULL)
		goto out;
	ctl_operator(&who);
	who.provider = provider;
	for (size_t i = 0; i < u->nitems; i++) {
		struct ingest_outcome o = { .errs = errlist_new() };
		struct store_blob orig = { buf, len, NULL, 0 };

		if (ingest_item(st, cf, &u->items[i], &who, NULL, &orig,
		    &o) == -1) {
			fprintf(stderr, "beianctl: %s\n", store_errmsg(st));
			errlist_free(o.errs);
			goto out;
		}
		if (o.id[0] != '\0')
			printf("%s: %s\n", o.id, o.state == WF_NONE ? "unknown" :
			    workflow_state_name(o.state));
		ctl_put_findings(o.errs);
		if (errlist_nerrors(o.errs) > 0)
			refused = 1;
		errlist_free(o.errs);
	}
	rc = refused ? CTL_REFUSED : CTL_OK;
	goto out;
usage:
	fprintf(stderr, "usage: beianctl submit [--provider CODE] PACKAGE\n");
	return CTL_USAGE;
out:
	store_close(st);
	upload_free(u);
	worker_client_free(wc);
	free(buf);
	return rc;
}
