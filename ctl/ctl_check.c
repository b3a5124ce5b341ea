/*
 * ctl_check: `beianctl check` — validate packages offline, no store.
 *
 *   PATH: CODE: message                 one package
 *   PACKAGE: PATH: CODE: message        several packages
 *
 * A batch's items add their item path ("site-b/: /filing/...").
 * Warnings go to stderr (with --json to stdout, severity "warning").
 *
 * Hostile input: the packages.  This process never parses them: each is
 * opened here and handed to a sandboxed worker (worker/worker.h), as
 * many workers as cores (or [daemon] workers) and packages, answers
 * printed in the order of the command line.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "ctl/ctl.h"
#include "lib/xmalloc.h"
#include "parsers/package.h"
#include "worker/worker.h"

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

/* Print one package's answer; returns CTL_OK, CTL_REFUSED. */
static int
check_answer(const struct check_out *o, const struct upload *u)
{
	int invalid;

	check_print(o, NULL, u->errs);
	invalid = errlist_nerrors(u->errs) > 0;
	for (size_t i = 0; i < u->nitems; i++) {
		const struct item *it = &u->items[i];
		const char *ip = strcmp(it->path, "/") == 0 ? NULL : it->path;

		check_print(o, ip, it->errs);
		if (errlist_nerrors(it->errs) > 0)
			invalid = 1;
	}
	return invalid ? CTL_REFUSED : CTL_OK;
}

/*
 * One package on the command line: opened here, parsed by a worker.
 * A worker that dies on it twice leaves it refused as the daemon
 * refuses such an upload (could not be read safely).
 */
struct check_pkg {
	const char *path;
	int state;          /* CP_* */
	int attempts;
	int err;            /* CP_DONE without res: the errno of opening it */
	uint64_t job;
	struct worker_result res;
};

enum { CP_WAITING, CP_RUNNING, CP_DONE };

#define CHECK_AHEAD 64 /* packages handed to the workers ahead of the output */

struct check_run {
	struct check_pkg *pk;
	size_t n;
	const char *provider;
};

static void
check_cb(const struct worker_result *res, void *arg)
{
	struct check_run *r = arg;

	for (size_t i = 0; i < r->n; i++) {
		struct check_pkg *p = &r->pk[i];

		if (p->state != CP_RUNNING || p->job != res->job)
			continue;
		if (res->status == WR_NOT_STARTED ||
		    (res->status != WR_OK && ++p->attempts < 2)) {
			p->state = CP_WAITING; /* again, to a new worker */
			upload_free(res->upload);
			return;
		}
		p->res = *res;
		p->state = CP_DONE;
		return;
	}
	upload_free(res->upload);
}

/* Hand pk to the pool: 0 sent or settled (an open error), -1 no room. */
static int
check_submit(struct worker_pool *pool, const struct check_run *run,
    struct check_pkg *p)
{
	const char *name;
	struct stat st;
	int fd, r;

	if ((fd = open(p->path, O_RDONLY | O_CLOEXEC)) == -1) {
		p->err = errno;
		p->state = CP_DONE;
		return 0;
	}
	if ((r = fstat(fd, &st)) != 0 || !S_ISREG(st.st_mode)) {
		/* as ctl_read_file() refuses a folder or a device */
		p->err = r != 0 ? errno : EINVAL;
		close(fd);
		p->state = CP_DONE;
		return 0;
	}
	name = strrchr(p->path, '/') ? strrchr(p->path, '/') + 1 : p->path;
	if (worker_submit(pool, WJ_PARSE, fd, name, run->provider,
	    &p->job) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
	p->state = CP_RUNNING;
	return 0;
}

/* Print pk's outcome; returns its exit status. */
static int
check_done(struct check_out *o, struct check_pkg *p)
{
	int rc;

	o->package = p->path;
	if (p->err != 0) {
		fprintf(stderr, "beianctl: ");
		ctl_put_escaped(stderr, p->path);
		fprintf(stderr, ": %s\n", strerror(p->err));
		return CTL_USAGE;
	}
	if (p->res.status != WR_OK || p->res.upload == NULL) {
		struct errlist *el = errlist_new();

		/* as the daemon's receipt says it of such an upload */
		errlist_add(el, ERR_ARCHIVE_CORRUPT, "/", "无法安全读取 / "
		    "could not be read safely: %s", p->res.reason);
		check_print(o, NULL, el);
		errlist_free(el);
		return CTL_REFUSED;
	}
	rc = check_answer(o, p->res.upload);
	upload_free(p->res.upload);
	p->res.upload = NULL;
	return rc;
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
	struct check_run run = { 0 };
	struct worker_pool *pool;
	const char *provider = NULL;
	char err[512];
	size_t nw;
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
	if (provider != NULL && config_provider_find(cf, provider) == NULL) {
		fprintf(stderr, "beianctl: unknown provider: ");
		ctl_put_escaped(stderr, provider);
		fputc('\n', stderr);
		return CTL_USAGE;
	}
	run.n = (size_t)(argc - optind);
	run.pk = xcalloc(run.n, sizeof(*run.pk));
	run.provider = provider;
	for (size_t i = 0; i < run.n; i++)
		run.pk[i].path = argv[optind + (int)i];
	/* as many workers as the packages can keep busy */
	nw = cf->workers > 0 ? (size_t)cf->workers :
	    (size_t)(sysconf(_SC_NPROCESSORS_ONLN) > 0 ?
	    sysconf(_SC_NPROCESSORS_ONLN) : 1);
	if (nw > run.n)
		nw = run.n;
	if ((pool = worker_pool_new(cf, (int)nw, err, sizeof(err))) == NULL) {
		fprintf(stderr, "beianctl: %s\n", err);
		free(run.pk);
		return CTL_USAGE;
	}
	o.multi = run.n > 1;
	for (size_t next = 0; next < run.n;) {
		int r;

		for (size_t i = next; i < run.n && i < next + CHECK_AHEAD; i++)
			if (run.pk[i].state == CP_WAITING &&
			    check_submit(pool, &run, &run.pk[i]) != 0)
				break;
		while (next < run.n && run.pk[next].state == CP_DONE) {
			r = check_done(&o, &run.pk[next++]);
			/* I/O trouble outranks an invalid package. */
			if (r == CTL_USAGE || (r == CTL_REFUSED && rc == CTL_OK))
				rc = r;
		}
		if (next == run.n)
			break;
		if (run.pk[next].state == CP_RUNNING) {
			struct pollfd pfd[64];
			int fds[64];
			size_t nfds = worker_pool_fds(pool, fds, 64);

			for (size_t i = 0; i < nfds; i++) {
				pfd[i].fd = fds[i];
				pfd[i].events = POLLIN;
			}
			/* a bound, not a timer: collect also reaps the dead */
			(void)poll(pfd, nfds, 1000);
		}
		if (worker_pool_collect(pool, check_cb, &run) == -1) {
			fprintf(stderr, "beianctl: %s\n",
			    worker_pool_error(pool));
			rc = CTL_USAGE;
			break;
		}
	}
	for (size_t i = 0; i < run.n; i++)
		upload_free(run.pk[i].res.upload);
	worker_pool_free(pool);
	free(run.pk);
	return rc;
}
