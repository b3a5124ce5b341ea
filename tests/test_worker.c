/*
 * test_worker: a real pool of workers (beiand-worker) with the built-in
 * configuration.  What comes back must equal upload_read() done in this
 * process; refusals (bombs, too many entries) leave the workers alive; a
 * killed worker's job comes back WR_CRASHED and a replacement takes over.
 */
#include <sys/mman.h>
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

#include "common/check_setup.h"
#include "common/config.h"
#include "lib/xmalloc.h"
#include "parsers/mime.h"
#include "parsers/package.h"
#include "worker/worker.h"
#include "test_wire.h"
#include "unit.h"

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

/* A pool of n workers, or NULL (the test failed). */
static struct worker_pool *
pool_new(const struct config *cf, int n)
{
	struct worker_pool *p;
	char err[256];

	if ((p = worker_pool_new(cf, n, err, sizeof(err))) == NULL)
		unit_fail(__FILE__, __LINE__, "pool: %s", err);
	return p;
}

/* Wait up to ms for a worker's socket to become readable (poll's
 * answer). */
static int
pool_poll(struct worker_pool *p, int ms)
{
	struct pollfd pfd[64];
	int fds[64];
	size_t n = worker_pool_fds(p, fds, 64);

	for (size_t i = 0; i < n; i++) {
		pfd[i].fd = fds[i];
		pfd[i].events = POLLIN;
	}
	return poll(pfd, n, ms);
}

/* Poll the pool until job ends (60 s at most: a bound, not a pace);
 * 0 and *out, or -1. */
static int
wait_job(struct worker_pool *p, uint64_t job, struct worker_result *out)
{
	struct collected c;
	time_t end = time(NULL) + 60;

	memset(&c, 0, sizeof(c));
	c.job = job;
	while (!c.done && time(NULL) <= end) {
		(void)pool_poll(p, 100);
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
	int fd;

	if (cf == NULL)
		return;
	if ((p = pool_new(cf, 2)) == NULL) {
		config_free(cf);
		return;
	}
	CHECK_INT(worker_pool_idle(p), 2 * WORKER_DEPTH);
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

/* WJ_VIEW: one package as uploaded comes back with its files' bytes,
 * which WJ_PARSE leaves out (the daemon keeps the upload itself). */
UNIT_TEST(worker_view)
{
	struct config *cf = test_config("");
	struct worker_pool *p;
	struct worker_result parsed, viewed;
	struct upload *local;
	int fd;

	if (cf == NULL)
		return;
	if ((p = pool_new(cf, 1)) == NULL) {
		config_free(cf);
		return;
	}
	fd = open_fixture("archive/valid.zip");
	if (fd >= 0 && run_job(p, WJ_PARSE, fd, "valid.zip", &parsed) == 0 &&
	    run_job(p, WJ_VIEW, fd, "valid.zip", &viewed) == 0) {
		CHECK(parsed.status == WR_OK && viewed.status == WR_OK);
		local = local_upload(cf, fd, "valid.zip");
		CHECK(local != NULL && local->nitems == 1);
		CHECK(parsed.upload != NULL && parsed.upload->nitems == 1 &&
		    viewed.upload != NULL && viewed.upload->nitems == 1);
		if (local != NULL && local->nitems == 1 && parsed.upload &&
		    parsed.upload->nitems == 1 && viewed.upload &&
		    viewed.upload->nitems == 1) {
			const struct item *l = &local->items[0];
			const struct item *a = &parsed.upload->items[0];
			const struct item *v = &viewed.upload->items[0];

			CHECK_INT(v->nfiles, l->nfiles);
			CHECK(v->filing != NULL);
			for (size_t i = 0; i < l->nfiles && i < v->nfiles &&
			    i < a->nfiles; i++) {
				CHECK(a->files[i].data == NULL);
				CHECK_STR(v->files[i].name, l->files[i].name);
				CHECK(v->files[i].data != NULL &&
				    v->files[i].size == l->files[i].size &&
				    memcmp(v->files[i].data, l->files[i].data,
				    l->files[i].size) == 0);
			}
		}
		upload_free(local);
		upload_free(parsed.upload);
		upload_free(viewed.upload);
	}
	if (fd >= 0)
		close(fd);
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
	CHECK_INT(worker_pool_idle(p), 2 * WORKER_DEPTH);
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

	if (cf == NULL)
		return;
	if ((p = pool_new(cf, 2)) == NULL) {
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

/* A "Name: value" number of /proc/PID/status (-1: none). */
static long
status_field(pid_t pid, const char *name, int hex)
{
	char path[64], line[256];
	size_t nl = strlen(name);
	long v = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, name, nl) == 0 && line[nl] == ':')
			v = strtol(line + nl + 1, NULL, hex ? 16 : 10);
	fclose(fp);
	return v;
}

/*
 * What /proc says about a running worker: 1 when sandboxed — its own
 * seccomp filter on top of ours, no_new_privs, no capability, not root
 * (when we are), its limits.
 */
static int
sandboxed(pid_t pid)
{
	static const char *const caps[] = { "CapInh", "CapPrm", "CapEff",
		"CapAmb" };
	char path[64], line[256];
	int nofile = 0, core = 0, uid_ok = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/limits", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "Max open files", 14) == 0)
			nofile = strstr(line, " 16 ") != NULL;
		if (strncmp(line, "Max core file size", 18) == 0)
			core = strstr(line, " 0 ") != NULL;
	}
	fclose(fp);
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		unsigned long r, e;

		if (sscanf(line, "Uid: %lu %lu", &r, &e) == 2)
			uid_ok = geteuid() != 0 || (r != 0 && e != 0);
	}
	fclose(fp);
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (status_field(pid, caps[i], 1) != 0)
			return 0;
	return nofile && core && uid_ok &&
	    status_field(pid, "NoNewPrivs", 0) == 1 &&
	    status_field(pid, "Seccomp", 0) == 2 &&
	    status_field(pid, "Seccomp_filters", 0) >
	    status_field(getpid(), "Seccomp_filters", 0);
}

/* A fresh worker may still be setting up: wait for its sandbox (60 s at
 * most, for a busy machine). */
static void
check_sandbox(pid_t pid)
{
	int ok = 0;

	for (int i = 0; i < 6000 && !(ok = sandboxed(pid)); i++)
		usleep(10000);
	CHECKM(ok, "worker %ld sandboxed", (long)pid);
}

UNIT_TEST(worker_crash)
{
	struct config *cf = test_config("");
	struct worker_pool *p;
	struct worker_result res;
	int pfd[2], fd, before[4];
	uint64_t job;
	pid_t pid;

	if (cf == NULL)
		return;
	if ((p = pool_new(cf, 2)) == NULL) {
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
	CHECK_INT(worker_pool_idle(p), 2 * WORKER_DEPTH - 1);
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
	CHECK_INT(worker_pool_idle(p), 2 * WORKER_DEPTH);

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

/* Every result, in the order delivered. */
struct results {
	struct worker_result r[16];
	size_t n;
};

static void
results_cb(const struct worker_result *res, void *arg)
{
	struct results *rs = arg;

	if (rs->n < sizeof(rs->r) / sizeof(rs->r[0]))
		rs->r[rs->n++] = *res;
	else
		upload_free(res->upload);
}

static void
results_wait(struct worker_pool *p, struct results *rs, size_t want)
{
	time_t end = time(NULL) + 60;

	while (rs->n < want && time(NULL) <= end) {
		(void)pool_poll(p, 100);
		(void)worker_pool_collect(p, results_cb, rs);
	}
}

/*
 * One worker holds several jobs and answers them in order; when the one
 * it works on kills it, that job is WR_CRASHED and those queued behind
 * it come back WR_NOT_STARTED (never tried), then run on the replacement.
 */
UNIT_TEST(worker_queue)
{
	struct config *cf = test_config("");
	struct worker_pool *p;
	struct results rs;
	uint64_t job[4];
	int fd, pfd[2] = { -1, -1 };
	pid_t pid;

	if (cf == NULL)
		return;
	if ((p = pool_new(cf, 1)) == NULL) {
		config_free(cf);
		return;
	}
	if ((fd = open_fixture("archive/valid.zip")) < 0 || pipe(pfd) != 0)
		goto out;

	/* in order, all from one worker */
	memset(&rs, 0, sizeof(rs));
	for (int i = 0; i < 4; i++)
		CHECK(worker_submit(p, WJ_PARSE, fd, "v.zip", NULL, &job[i]) ==
		    0);
	CHECK_INT(worker_pool_idle(p), WORKER_DEPTH - 4);
	results_wait(p, &rs, 4);
	CHECK_INT(rs.n, 4);
	for (size_t i = 0; i < rs.n; i++) {
		CHECK(rs.r[i].job == job[i] && rs.r[i].status == WR_OK);
		upload_free(rs.r[i].upload);
	}

	/* a job that never ends, three queued behind it; then a kill */
	memset(&rs, 0, sizeof(rs));
	CHECK(worker_submit(p, WJ_PARSE, pfd[0], "slow.zip", NULL, &job[0]) ==
	    0);
	for (int i = 1; i < 4; i++)
		CHECK(worker_submit(p, WJ_PARSE, fd, "v.zip", NULL, &job[i]) ==
		    0);
	pid = worker_pool_pid_of_job(p, job[3]);
	CHECK(pid > 0 && pid == worker_pool_pid_of_job(p, job[0]));
	usleep(20000);
	if (pid > 0)
		kill(pid, SIGKILL);
	results_wait(p, &rs, 4);
	CHECK_INT(rs.n, 4);
	for (size_t i = 0; i < rs.n; i++) {
		CHECK(rs.r[i].upload == NULL);
		if (rs.r[i].job == job[0])
			CHECK_INT(rs.r[i].status, WR_CRASHED);
		else
			CHECKM(rs.r[i].status == WR_NOT_STARTED, "job %d: "
			    "status %d", (int)rs.r[i].job, rs.r[i].status);
	}
	CHECK_INT(worker_pool_restarts(p), 1);
	CHECK_INT(worker_pool_idle(p), WORKER_DEPTH);
	/* submitted again, they run */
	memset(&rs, 0, sizeof(rs));
	for (int i = 1; i < 4; i++)
		CHECK(worker_submit(p, WJ_PARSE, fd, "v.zip", NULL, &job[i]) ==
		    0);
	results_wait(p, &rs, 3);
	CHECK_INT(rs.n, 3);
	for (size_t i = 0; i < rs.n; i++) {
		CHECK_INT(rs.r[i].status, WR_OK);
		upload_free(rs.r[i].upload);
	}
out:
	if (fd >= 0)
		close(fd);
	if (pfd[0] >= 0) {
		close(pfd[0]);
		close(pfd[1]);
	}
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
	int fd;
	size_t submitted = 0, want = 400;
	double s;

	if (cf == NULL)
		return;
	if ((p = pool_new(cf, 2)) == NULL) {
		config_free(cf);
		return;
	}
	fd = open_fixture("archive/valid.zip");
	memset(&c, 0, sizeof(c));
	c.job = 0; /* count everything as "others" */
	c.done = 1;
	gettimeofday(&t0, NULL);
	while (fd >= 0 && c.others < want) {
		uint64_t job;

		while (submitted < want && worker_pool_idle(p) > 0 &&
		    worker_submit(p, WJ_PARSE, fd, "v.zip", NULL, &job) == 0)
			submitted++;
		if (pool_poll(p, 5000) <= 0) {
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

/* ---- WJ_MAIL ------------------------------------------------------------- */

static void
b64_append(char **s, size_t *len, const unsigned char *p, size_t n)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	FILE *fp = open_memstream(s, len);
	size_t col = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 |
		    (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
		    (i + 2 < n ? p[i + 2] : 0);

		fputc(t[v >> 18 & 63], fp);
		fputc(t[v >> 12 & 63], fp);
		fputc(i + 1 < n ? t[v >> 6 & 63] : '=', fp);
		fputc(i + 2 < n ? t[v & 63] : '=', fp);
		if ((col += 4) >= 76) {
			fputs("\r\n", fp);
			col = 0;
		}
	}
	fclose(fp);
}

/* A mail: head, then an attachment of the bytes att (when not NULL). */
static int
mail_fd(const char *head, const char *text, const unsigned char *att,
    size_t attlen, const char *attname)
{
	char *b64 = NULL, *m = NULL;
	size_t blen = 0, mlen = 0;
	FILE *fp;
	int fd = memfd_create("test-mail", MFD_CLOEXEC);

	if (fd == -1)
		return -1;
	fp = open_memstream(&m, &mlen);
	fputs(head, fp);
	if (att == NULL)
		fprintf(fp, "Content-Type: text/plain; charset=utf-8\r\n\r\n%s",
		    text);
	else {
		b64_append(&b64, &blen, att, attlen);
		fprintf(fp, "MIME-Version: 1.0\r\nContent-Type: multipart/mixed;"
		    " boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n"
		    "\r\n%s\r\n--b\r\nContent-Type: application/zip\r\n"
		    "Content-Disposition: attachment; filename=\"%s\"\r\n"
		    "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b--\r\n",
		    text, attname, b64);
		free(b64);
	}
	fclose(fp);
	if (write(fd, m, mlen) != (ssize_t)mlen) {
		close(fd);
		fd = -1;
	}
	free(m);
	return fd;
}

static unsigned char *
fixture_bytes(const char *rel, size_t *len)
{
	char path[1024];
	unsigned char *buf;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "%s/%s", unit_fixtures(), rel);
	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = xmalloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, fp);
	fclose(fp);
	return buf;
}

UNIT_TEST(worker_mail)
{
	static const char head[] =
	    "From: =?utf-8?B?5byg5LiJ?= <Owner@Example.TEST>\r\n"
	    "Return-Path: <bounce@example.test>\r\n"
	    "To: intake@example.test\r\n"
	    "Message-ID: <m1@mua.example>\r\n"
	    "Subject: Re: [BA-2026-000123 k3J9xQ2m] =?utf-8?B?5aSH5qGI?=\r\n";
	static const char head_auto[] =
	    "From: owner@example.test\r\n"
	    "Message-ID: <ooo@mua.example>\r\n"
	    "Auto-Submitted: auto-replied\r\n"
	    "Subject: Re: [BA-2026-000123 k3J9xQ2m] out of office\r\n";
	static const char head_bureau[] =
	    "From: review@bureau.example\r\n"
	    "Message-ID: <r1@bureau.example>\r\n"
	    "Subject: Re: [BA-2026-000123] [review:ABCDEFGHJKMNPQRS]\r\n";
	static const char head_own[] =
	    "From: intake@example.test\r\n"
	    "Message-ID: <loop@example.test>\r\n"
	    "Subject: hello\r\n";
	struct config *cf = test_config("[limits]\nmail_max_bytes = 1M\n"
	    "[imap]\naddress = intake@example.test\n");
	struct worker_pool *p;
	struct worker_result res;
	unsigned char *zip = NULL, *batch = NULL;
	size_t ziplen = 0, batchlen = 0;
	int fd;

	if (cf == NULL)
		return;
	if ((p = pool_new(cf, 1)) == NULL) {
		config_free(cf);
		return;
	}
	zip = fixture_bytes("archive/valid.zip", &ziplen);
	batch = test_wire_batch(&batchlen);

	/* a follow-up with a package: one filing item, the tag, the hash */
	if (zip != NULL && (fd = mail_fd(head, "corrected", zip, ziplen,
	    "pkg.zip")) != -1) {
		if (run_job(p, WJ_MAIL, fd, "1-1.eml", &res) == 0) {
			const struct upload *u = res.upload;

			CHECK_INT(res.status, WR_OK);
			CHECK(u != NULL && u->mail != NULL);
			if (u != NULL && u->mail != NULL) {
				CHECK_INT(u->nitems, 1);
				CHECK(u->nitems == 1 &&
				    u->items[0].kind == ITEM_FILING &&
				    strcmp(u->items[0].path, "/") == 0);
				CHECK_STR(u->mail->message_id, "m1@mua.example");
				CHECK_STR(u->mail->from_addr,
				    "Owner@example.test");
				CHECK_STR(u->mail->return_path,
				    "bounce@example.test");
				CHECK_STR(u->mail->tag_id, "BA-2026-000123");
				CHECK_STR(u->mail->tag_token, "k3J9xQ2m");
				CHECK_INT(u->mail->automated, 0);
				CHECK_INT(u->mail->no_package, 0);
				CHECK_INT(u->mail->command, 0);
			}
			upload_free(res.upload);
		}
		close(fd);
	}
	/* an out-of-office "withdraw": automated, no package, the command */
	if ((fd = mail_fd(head_auto, "withdraw\r\n", NULL, 0, NULL)) != -1) {
		if (run_job(p, WJ_MAIL, fd, "1-2.eml", &res) == 0 &&
		    res.upload != NULL && res.upload->mail != NULL) {
			CHECK_INT(res.upload->mail->automated, 1);
			CHECK_INT(res.upload->mail->no_package, 1);
			CHECK_INT(res.upload->mail->command, 1);
			CHECK_INT(res.upload->nitems, 0);
		} else
			CHECK(0);
		if (res.upload)
			upload_free(res.upload);
		close(fd);
	}
	/* the bureau's reply, a tab in the reason made a space */
	if ((fd = mail_fd(head_bureau, "\r\nREJECT:\tname\tmismatch\r\n> q\r\n",
	    NULL, 0, NULL)) != -1) {
		if (run_job(p, WJ_MAIL, fd, "1-3.eml", &res) == 0 &&
		    res.upload != NULL && res.upload->mail != NULL) {
			CHECK_STR(res.upload->mail->review_token,
			    "ABCDEFGHJKMNPQRS");
			CHECK_INT(res.upload->mail->command, 3);
			CHECK_STR(res.upload->mail->reason, "name mismatch");
			CHECK_STR(res.upload->mail->tag_token, "");
		} else
			CHECK(0);
		if (res.upload)
			upload_free(res.upload);
		close(fd);
	}
	/* our own address is automated ([imap] address) */
	if ((fd = mail_fd(head_own, "hi", NULL, 0, NULL)) != -1) {
		if (run_job(p, WJ_MAIL, fd, "1-4.eml", &res) == 0 &&
		    res.upload != NULL && res.upload->mail != NULL)
			CHECK_INT(res.upload->mail->automated, 1);
		else
			CHECK(0);
		if (res.upload)
			upload_free(res.upload);
		close(fd);
	}
	/* a batch by mail is refused whole; no items */
	if (batch != NULL && (fd = mail_fd(head, "batch", batch, batchlen,
	    "b.zip")) != -1) {
		if (run_job(p, WJ_MAIL, fd, "1-5.eml", &res) == 0 &&
		    res.upload != NULL) {
			CHECK_INT(res.upload->nitems, 0);
			CHECK(errlist_has(res.upload->errs,
			    ERR_FILING_XML_MISSING));
		} else
			CHECK(0);
		if (res.upload)
			upload_free(res.upload);
		close(fd);
	}
	/* over mail_max_bytes, and no message at all */
	{
		static const struct {
			size_t size;
			enum err_code code;
		} big[] = { { 1100 * 1024, ERR_MAIL_TOO_LARGE },
			{ 0, ERR_NO_PACKAGE } };

		for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
			unsigned char *junk = xcalloc(1, big[i].size + 1);
			int jfd = memfd_create("junk", MFD_CLOEXEC);

			memset(junk, 'x', big[i].size);
			if (jfd != -1 && write(jfd, junk, big[i].size) ==
			    (ssize_t)big[i].size && run_job(p, WJ_MAIL, jfd,
			    "1-6.eml", &res) == 0 && res.upload != NULL) {
				CHECKM(errlist_has(res.upload->errs,
				    big[i].code), "case %zu", i);
				CHECK(res.upload->mail != NULL);
			} else
				CHECK(0);
			if (res.upload)
				upload_free(res.upload);
			if (jfd != -1)
				close(jfd);
			free(junk);
		}
	}
	CHECK_INT(worker_pool_restarts(p), 0);
	free(zip);
	free(batch);
	worker_pool_free(p);
	config_free(cf);
}

/*
 * Every charset the parsers convert from, decoded in a sandboxed worker
 * (its converters opened before its filter) exactly as in this process:
 * a bureau's "REJECT: reason" in each.
 */
UNIT_TEST(worker_mail_charsets)
{
	static const struct {
		const char *charset;
		const char *reason; /* in that charset */
	} cases[] = {
		{ "gb2312", "\xc0\xed\xd3\xc9" },          /* 理由 */
		{ "gbk", "\xc0\xed\xd3\xc9" },
		{ "gb18030", "\x81\x30\x81\x30" },        /* U+0080 */
		{ "big5", "\xb2\x7a\xa5\xd1" },           /* 理由 */
		{ "big5-hkscs", "\x88\x40" },
		{ "iso-8859-1", "caf\xe9" },
		{ "windows-1252", "\x80 5" },             /* € 5 */
	};
	struct config *cf = test_config("[imap]\naddress = intake@example.test\n");
	struct worker_pool *p;

	if (cf == NULL)
		return;
	if ((p = pool_new(cf, 1)) == NULL) {
		config_free(cf);
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *mail, *want, *text;
		struct worker_result res;
		int fd = memfd_create("test-mail", MFD_CLOEXEC);

		text = xasprintf("REJECT: %s", cases[i].reason);
		want = mime_charset_decode(cases[i].charset, cases[i].reason,
		    strlen(cases[i].reason));
		mail = xasprintf("From: review@bureau.example\r\n"
		    "Message-ID: <c%zu@bureau.example>\r\n"
		    "Subject: Re: [BA-2026-000123] [review:ABCDEFGHJKMNPQRS]\r\n"
		    "Content-Type: text/plain; charset=%s\r\n\r\n%s\r\n", i,
		    cases[i].charset, text);
		CHECK(fd != -1 && write(fd, mail, strlen(mail)) ==
		    (ssize_t)strlen(mail));
		/* the case must be one the converter decodes, not U+FFFD */
		CHECKM(strstr(want, "\xef\xbf\xbd") == NULL, "%s", cases[i].charset);
		if (fd != -1 && run_job(p, WJ_MAIL, fd, "c.eml", &res) == 0) {
			CHECKM(res.status == WR_OK && res.upload != NULL &&
			    res.upload->mail != NULL, "%s: %s",
			    cases[i].charset, res.reason);
			if (res.upload != NULL && res.upload->mail != NULL) {
				CHECK_INT(res.upload->mail->command,
				    MIME_CMD_REJECT);
				CHECKM(strcmp(res.upload->mail->reason, want) ==
				    0, "%s: %s != %s", cases[i].charset,
				    res.upload->mail->reason, want);
			}
			upload_free(res.upload);
		}
		if (fd != -1)
			close(fd);
		free(text);
		free(want);
		free(mail);
	}
	CHECK_INT(worker_pool_restarts(p), 0);
	worker_pool_free(p);
	config_free(cf);
}
