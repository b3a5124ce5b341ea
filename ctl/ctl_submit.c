/*
 * ctl_submit: `beianctl submit [--provider CODE] PACKAGE` — file a package
 * from the host, new or a resubmission (filing/@id), as the operator
 * acting for the provider.
 *
 * Prints "BA-…: STATE" for each filing it creates or changes, then any
 * findings as `check` prints them.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/check_setup.h"
#include "common/config.h"
#include "ctl/ctl.h"
#include "lib/xmalloc.h"
#include "parsers/package.h"
#include "store/attachments.h"
#include "store/ingest.h"
#include "store/store.h"

int
ctl_submit(int argc, char **argv, const struct config *cf)
{
	static const struct option opts[] = {
		{ "provider", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *provider = NULL, *path, *name;
	struct check_setup cs;
	struct store_actor who = { 0 };
	struct store *st = NULL;
	struct upload *u = NULL;
	unsigned char *buf = NULL;
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
	if (check_setup_init(&cs, cf, provider, time(NULL)) != 0) {
		fprintf(stderr, "beianctl: unknown provider: %s\n", provider);
		return CTL_USAGE;
	}
	xmldoc_init();
	if (rules_init() != 0) {
		fprintf(stderr, "beianctl: no public suffix list\n");
		goto out;
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
	u = upload_read(name, buf, len, &cs.ctx, UPLOAD_HASH);
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
	free(buf);
	check_setup_fini(&cs);
	return rc;
}
