/*
 * test_worker: a real pool of forked workers with the built-in
 * configuration.  What comes back must equal upload_read() done in this
 * process; refusals (bombs, too many entries) leave the workers alive; a
 * killed worker's job comes back WR_CRASHED and a replacement takes over.
 */
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_setup.h"
#include "config.h"
#include "package.h"
#include "unit.h"
#include "worker.h"
#include "xmalloc.h"

int test_wire_upload_equal(const struct upload *a, const struct upload *b,
    char *why, size_t whysize);
unsigned char *test_wire_batch(size_t *lenp);

struct collected {
	uint64_t job;
	int done;
	struct worker_result res;
	size_t others; /* results for jobs nobody waits for */
};

static void
collect_cb(const struct worker_result *res, void *arg)
{
	struct collected *c = arg;

	if (res->job == c->job && !c->done) {
		c->res = *res;
		c->done = 1;
	} else {
		c->others++;
		upload_free(res->upload);
	}
}

/* Poll the pool until job ends (10 s at most); 0 and *out, or -1. */
static int
wait_job(struct worker_pool *p, uint64_t job, struct worker_result *out)
{
	struct collected c;
	time_t end = time(NULL) + 10;

	memset(&c, 0, sizeof(c));
	c.job = job;
	while (!c.done && time(NULL) <= end) {
		struct pollfd pfd[64];
		int fds[64];
		size_t n = worker_pool_fds(p, fds, 64);

		for (size_t i = 0; i < n; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = POLLIN;
		}
		(void)poll(pfd, n, 100);
		if (worker_pool_collect(p, collect_cb, &c) < 0)
			unit_fail(__FILE__, __LINE__, "replacement failed");
	}
	if (!c.done)
		return -1;
	*out = c.res;
	return 0;
}

static struct config *
test_config(const char *text)
{
	char err[256];
	struct config *cf = config_parse(text, strlen(text), "test.conf",
	    "/tmp", err, sizeof(err));

	if (cf == NULL)
		unit_fail(__FILE__, __LINE__, "config: %s", err);
	return cf;
}

static int
open_fixture(const char *rel)
{
	char path[1024];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", unit_fixtures(), rel);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		unit_fail(__FILE__, __LINE__, "open %s: %s", path,
		    strerror(errno));
	return fd;
}

/* Submit fd, wait; -1 when submitting or waiting failed. */
static int
run_job(struct worker_pool *p, enum worker_job_kind kind, int fd,
    const char *name, struct worker_result *res)
{
	uint64_t job;

	if (worker_submit(p, kind, fd, name, NULL, &job) != 0) {
		unit_fail(__FILE__, __LINE__, "submit %s", name);
		return -1;
	}
	if (wait_job(p, job, res) != 0) {
		unit_fail(__FILE__, __LINE__, "no answer for %s", name);
		return -1;
	}
	return 0;
}

/* The same bytes parsed here. */
static struct upload *
local_upload(const struct config *cf, int fd, const char *name)
{
	struct check_setup cs;
	struct upload *u;
	unsigned char *buf;
	off_t size = lseek(fd, 0, SEEK_END);
	size_t got = 0;

	if (size < 0 || check_setup_init(&cs, cf, NULL, time(NULL)) != 0)
		return NULL;
	buf = xmalloc((size_t)size + 1);
	while (got < (size_t)size) {
		ssize_t r = pread(fd, buf + got, (size_t)size - got, (off_t)got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	u = upload_read(name, buf, got, &cs.ctx, UPLOAD_HASH);
	check_setup_fini(&cs);
	free(buf);
	return u;
}

static void
check_parse_equal(struct worker_pool *p, const struct config *cf, int fd,
    const char *name)
{
	struct worker_result res;
	struct upload *local;
	char why[256];

	if (fd < 0 || run_job(p, WJ_PARSE, fd, name, &res) != 0)
		return;
	CHECKM(res.status == WR_OK, "%s: %s", name, res.reason);
	local = local_upload(cf, fd, name);
	CHECKM(res.upload != NULL && local != NULL &&
	    test_wire_upload_equal(local, res.upload, why, sizeof(why)),
	    "%s: %s", name, why);
	upload_free(local);
	upload_free(res.upload);
}

UNIT_TEST(worker_parse)
{
	struct config *cf = test_config("");
	struct worker_pool *p;
	char err[256];
	int fd;

	if (cf == NULL)
		return;
	if ((p = worker_pool_new(cf, 2, err, sizeof(err))) == NULL) {
		unit_fail(__FILE__, __LINE__, "pool: %s", err);
		config_free(cf);
		return;
	}
	CHECK_INT(worker_pool_idle(p), 2);
	fd = open_fixture("archive/valid.zip");
	check_parse_equal(p, cf, fd, "valid.zip");
	/* the pool's pread leaves our offset alone */
	CHECK(fd < 0 || lseek(fd, 0, SEEK_CUR) == 0 ||
	    lseek(fd, 0, SEEK_CUR) == lseek(fd, 0, SEEK_END));
	close(fd);
	fd = open_fixture("xml/schema-enum.zip");
	check_parse_equal(p, cf, fd, "schema-enum.zip");
	close(fd);
	{
		size_t len;
		unsigned char *zip = test_wire_batch(&len);
		char path[] = "/tmp/beiand-test-batch-XXXXXX";
		int bfd = zip ? mkstemp(path) : -1;

		if (bfd >= 0) {
			unlink(path);
			CHECK(write(bfd, zip, len) == (ssize_t)len);
			check_parse_equal(p, cf, bfd, "batch.zip");
			close(bfd);
		}
		free(zip);
	}
	/* an unknown provider is refused at submission */
	{
		uint64_t job;

		fd = open_fixture("archive/valid.zip");
		CHECK(worker_submit(p, WJ_PARSE, fd, "x.zip", "NO-SUCH",
		    &job) == -1);
		close(fd);
	}
	CHECK_INT(worker_pool_restarts(p), 0);
	worker_pool_free(p);
	config_free(cf);
}

UNIT_TEST(worker_refusals)
{
	static const struct {
		const char *rel;
		enum err_code code;
	} cases[] = {
		{ "archive/bomb.zip", ERR_ARCHIVE_BOMB },
		{ "archive/many.zip", ERR_ARCHIVE_TOO_MANY_ENTRIES },
		{ "archive/truncated.zip", ERR_ARCHIVE_TRUNCATED },
		{ "archive/zipslip.zip", ERR_ARCHIVE_UNSAFE_PATH },
	};
	struct config *cf = test_config("");
	struct config *small = test_config("[limits]\narchive_max_bytes = 1K\n");
	struct worker_pool *p;
	char err[256];

	if (cf == NULL || small == NULL)
		goto out;
	if ((p = worker_pool_new(cf, 2, err, sizeof(err))) == NULL) {
		unit_fail(__FILE__, __LINE__, "pool: %s", err);
		goto out;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct worker_result res;
		int fd = open_fixture(cases[i].rel);

		if (fd < 0)
			continue;
		if (run_job(p, WJ_PARSE, fd, "u.zip", &res) == 0) {
			CHECKM(res.status == WR_OK, "%s: %s", cases[i].rel,
			    res.reason);
			CHECKM(res.upload != NULL &&
			    errlist_has(res.upload->errs, cases[i].code) &&
			    res.upload->nitems == 0, "%s", cases[i].rel);
			upload_free(res.upload);
		}
		close(fd);
	}
	CHECK_INT(worker_pool_restarts(p), 0);
	CHECK_INT(worker_pool_idle(p), 2);
	worker_pool_free(p);

	/* larger than archive_max_bytes: refused without reading it */
	if ((p = worker_pool_new(small, 1, err, sizeof(err))) != NULL) {
		struct worker_result res;
		int fd = open_fixture("archive/valid.zip");

		if (fd >= 0 && run_job(p, WJ_PARSE, fd, "u.zip", &res) == 0) {
			CHECK(res.status == WR_OK);
			CHECK(res.upload != NULL &&
			    errlist_has(res.upload->errs,
			    ERR_ARCHIVE_TOO_LARGE));
			upload_free(res.upload);
		}
		if (fd >= 0)
			close(fd);
		worker_pool_free(p);
	}
out:
	config_free(cf);
	config_free(small);
}

UNIT_TEST(worker_whole)
{
	static const struct {
		const char *rel;
		enum ar_whole want;
	} cases[] = {
		{ "archive/valid.zip", AR_WHOLE },
		{ "archive/valid.tar.gz", AR_WHOLE },
		{ "archive/truncated.zip", AR_INCOMPLETE },
		{ "archive/noend.tar", AR_INCOMPLETE },
		{ "archive/truncated.tar.gz", AR_INCOMPLETE },
	};
	struct config *cf = test_config("");
	struct worker_pool *p;
	char err[256];

	if (cf == NULL)
		return;
	if ((p = worker_pool_new(cf, 2, err, sizeof(err))) == NULL) {
		unit_fail(__FILE__, __LINE__, "pool: %s", err);
		config_free(cf);
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct worker_result res;
		int fd = open_fixture(cases[i].rel);

		if (fd < 0)
			continue;
		if (run_job(p, WJ_WHOLE, fd, "u", &res) == 0) {
			CHECKM(res.status == WR_OK, "%s", cases[i].rel);
			CHECKM(res.whole == cases[i].want, "%s: %d",
			    cases[i].rel, res.whole);
			CHECK(res.upload == NULL);
		}
		close(fd);
	}
	worker_pool_free(p);
	config_free(cf);
}

/* What /proc says about a running worker: 1 when sandboxed. */
static int
sandboxed(pid_t pid)
{
	char path[64], line[256];
	int nofile = 0, core = 0, fsize = 0, nnp = 0, uid_ok = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/limits", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "Max open files", 14) == 0)
			nofile = strstr(line, " 16 ") != NULL;
		if (strncmp(line, "Max core file size", 18) == 0)
			core = strstr(line, " 0 ") != NULL;
		if (strncmp(line, "Max file size", 13) == 0)
			fsize = strstr(line, " 0 ") != NULL;
	}
	fclose(fp);
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		unsigned long r, e;

		if (strncmp(line, "NoNewPrivs:", 11) == 0)
			nnp = atoi(line + 11) == 1;
		if (sscanf(line, "Uid: %lu %lu", &r, &e) == 2)
			uid_ok = geteuid() != 0 || (r != 0 && e != 0);
	}
	fclose(fp);
	return nofile && core && fsize && nnp && uid_ok;
}

/* A fresh worker may still be setting up: give it a second. */
static void
check_sandbox(pid_t pid)
{
	int ok = 0;

	for (int i = 0; i < 100 && !(ok = sandboxed(pid)); i++)
		usleep(10000);
	CHECKM(ok, "worker %ld sandboxed", (long)pid);
}

UNIT_TEST(worker_crash)
{
	struct config *cf = test_config("");
	struct worker_pool *p;
	struct worker_result res;
	char err[256];
	int pfd[2], fd, before[4];
	uint64_t job;
	pid_t pid;

	if (cf == NULL)
		return;
	if ((p = worker_pool_new(cf, 2, err, sizeof(err))) == NULL) {
		unit_fail(__FILE__, __LINE__, "pool: %s", err);
		config_free(cf);
		return;
	}
	/* A pipe whose write end stays open keeps the worker reading, so
	 * the kill lands while it is busy. */
	CHECK_INT(worker_pool_fds(p, before, 4), 2);
	if (pipe(pfd) != 0) {
		unit_fail(__FILE__, __LINE__, "pipe");
		goto out;
	}
	CHECK(worker_submit(p, WJ_PARSE, pfd[0], "slow.zip", NULL, &job) == 0);
	pid = worker_pool_pid_of_job(p, job);
	CHECK(pid > 0);
	CHECK_INT(worker_pool_idle(p), 1);
	if (pid > 0)
		check_sandbox(pid);
	usleep(20000);
	if (pid > 0)
		kill(pid, SIGKILL);
	if (wait_job(p, job, &res) == 0) {
		CHECK_INT(res.status, WR_CRASHED);
		CHECKM(strstr(res.reason, "signal 9") != NULL, "%s",
		    res.reason);
		CHECK(res.upload == NULL);
	} else
		unit_fail(__FILE__, __LINE__, "no answer for the killed job");
	close(pfd[0]);
	close(pfd[1]);
	CHECK_INT(worker_pool_restarts(p), 1);
	CHECK_INT(worker_pool_idle(p), 2);

	/* the replacement works */
	fd = open_fixture("archive/valid.zip");
	for (int i = 0; fd >= 0 && i < 4; i++) {
		if (run_job(p, WJ_PARSE, fd, "valid.zip", &res) != 0)
			break;
		CHECK_INT(res.status, WR_OK);
		CHECK(res.upload != NULL && res.upload->nitems == 1);
		upload_free(res.upload);
	}
	if (fd >= 0)
		close(fd);

	/* the replacement took its predecessor's descriptor number */
	{
		int after[4];

		CHECK_INT(worker_pool_fds(p, after, 4), 2);
		CHECK(after[0] == before[0] && after[1] == before[1]);
	}
out:
	worker_pool_free(p);
	config_free(cf);
}

/* Throughput of small packages through two workers (printed). */
UNIT_TEST(worker_throughput)
{
	struct config *cf = test_config("");
	struct worker_pool *p;
	struct collected c;
	struct timeval t0, t1;
	char err[256];
	int fd;
	size_t submitted = 0, want = 400;
	double s;

	if (cf == NULL)
		return;
	if ((p = worker_pool_new(cf, 2, err, sizeof(err))) == NULL) {
		unit_fail(__FILE__, __LINE__, "pool: %s", err);
		config_free(cf);
		return;
	}
	fd = open_fixture("archive/valid.zip");
	memset(&c, 0, sizeof(c));
	c.job = 0; /* count everything as "others" */
	c.done = 1;
	gettimeofday(&t0, NULL);
	while (fd >= 0 && c.others < want) {
		struct pollfd pfd[8];
		int fds[8];
		size_t n;
		uint64_t job;

		while (submitted < want && worker_pool_idle(p) > 0 &&
		    worker_submit(p, WJ_PARSE, fd, "v.zip", NULL, &job) == 0)
			submitted++;
		n = worker_pool_fds(p, fds, 8);
		for (size_t i = 0; i < n; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, n, 5000) <= 0) {
			unit_fail(__FILE__, __LINE__, "stalled");
			break;
		}
		(void)worker_pool_collect(p, collect_cb, &c);
	}
	gettimeofday(&t1, NULL);
	s = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_usec - t0.tv_usec) / 1e6;
	CHECK_INT(c.others, want);
	printf("worker: %zu valid.zip parses through 2 workers in %.2f s: "
	    "%.0f jobs/s\n", c.others, s, (double)c.others / s);
	if (fd >= 0)
		close(fd);
	worker_pool_free(p);
	config_free(cf);
}
