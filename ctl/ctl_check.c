/*
 * ctl_check: `beianctl check` — validate packages offline, no store.
 *
 *   PATH: CODE: message                 one package
 *   PACKAGE: PATH: CODE: message        several packages
 *
 * A batch's items add their item path ("site-b/: /filing/...").
 * Warnings go to stderr (with --json to stdout, severity "warning").
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/check_setup.h"
#include "common/config.h"
#include "ctl/ctl.h"
#include "lib/xmalloc.h"
#include "parsers/package.h"

struct check_out {
	int json, multi;
	const char *package;
};

static void
check_print(const struct check_out *o, const char *item,
    const struct errlist *el)
{
	for (size_t i = 0; i < errlist_count(el); i++) {
		const struct err_item *e = errlist_get(el, i);
		int warn = e->severity == SEV_WARNING;
		FILE *fp = (warn && !o->json) ? stderr : stdout;

		if (o->json) {
			fputs("{\"package\":", fp);
			ctl_put_json(fp, o->package);
			if (item != NULL) {
				fputs(",\"item\":", fp);
				ctl_put_json(fp, item);
			}
			fputs(",\"path\":", fp);
			ctl_put_json(fp, e->path);
			fputs(",\"code\":", fp);
			ctl_put_json(fp, err_code_name(e->code));
			fputs(",\"severity\":", fp);
			ctl_put_json(fp, warn ? "warning" : "error");
			fputs(",\"message\":", fp);
			ctl_put_json(fp, e->message);
			fputs("}\n", fp);
			continue;
		}
		if (o->multi) {
			ctl_put_escaped(fp, o->package);
			fputs(": ", fp);
		}
		if (item != NULL) {
			ctl_put_escaped(fp, item);
			fputs(": ", fp);
		}
		ctl_put_escaped(fp, e->path);
		fprintf(fp, ": %s: ", err_code_name(e->code));
		ctl_put_escaped(fp, e->message);
		putc('\n', fp);
	}
}

void
ctl_put_findings(const struct errlist *el)
{
	struct check_out o = { 0 };

	check_print(&o, NULL, el);
}

/* Returns CTL_OK, CTL_REFUSED or CTL_USAGE (I/O). */
static int
check_one(const char *path, const struct check_ctx *ctx,
    const struct check_out *o)
{
	struct upload *u;
	unsigned char *buf;
	const char *name;
	size_t len;
	int invalid = 0;

	if ((buf = ctl_read_file(path, ctx->lim->archive_max_bytes, &len)) ==
	    NULL) {
		if (errno == EFBIG) {
			struct errlist *el = errlist_new();
			errlist_add(el, ERR_ARCHIVE_TOO_LARGE, "/", NULL);
			check_print(o, NULL, el);
			errlist_free(el);
			return CTL_REFUSED;
		}
		fprintf(stderr, "beianctl: ");
		ctl_put_escaped(stderr, path);
		fprintf(stderr, ": %s\n", strerror(errno));
		return CTL_USAGE;
	}
	name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	u = upload_read(name, buf, len, ctx, 0);
	check_print(o, NULL, u->errs);
	invalid = errlist_nerrors(u->errs) > 0;
	for (size_t i = 0; i < u->nitems; i++) {
		const struct item *it = &u->items[i];
		const char *ip = strcmp(it->path, "/") == 0 ? NULL : it->path;

		check_print(o, ip, it->errs);
		if (errlist_nerrors(it->errs) > 0)
			invalid = 1;
	}
	upload_free(u);
	free(buf);
	return invalid ? CTL_REFUSED : CTL_OK;
}

int
ctl_check(int argc, char **argv, const struct config *cf)
{
	static const struct option opts[] = {
		{ "provider", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_out o = { 0 };
	struct check_setup cs;
	const char *provider = NULL;
	int ch, rc = CTL_OK;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			provider = optarg;
			break;
		case 'j':
			o.json = 1;
			break;
		default:
			fprintf(stderr, "usage: beianctl check [--provider CODE] "
			    "[--json] PACKAGE...\n");
			return CTL_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: beianctl check [--provider CODE] "
		    "[--json] PACKAGE...\n");
		return CTL_USAGE;
	}
	if (check_setup_init(&cs, cf, provider, time(NULL)) != 0) {
		fprintf(stderr, "beianctl: unknown provider: ");
		ctl_put_escaped(stderr, provider);
		fputc('\n', stderr);
		return CTL_USAGE;
	}
	xmldoc_init();
	if (rules_init() != 0) {
		fprintf(stderr, "beianctl: no public suffix list\n");
		check_setup_fini(&cs);
		return CTL_USAGE;
	}
	o.multi = argc - optind > 1;
	for (int i = optind; i < argc; i++) {
		int r;

		o.package = argv[i];
		r = check_one(argv[i], &cs.ctx, &o);
		/* I/O trouble outranks an invalid package. */
		if (r == CTL_USAGE || (r == CTL_REFUSED && rc == CTL_OK))
			rc = r;
	}
	check_setup_fini(&cs);
	return rc;
}
