/*
 * worker_client: see include/worker/worker_client.h.  A pool of one
 * worker (worker.c) driven synchronously: submit, then poll and collect
 * until the job's answer comes.
 *
 * Hostile here: the worker's answer, decoded by the pool (wire_decode);
 * this file only waits for it.
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/xmalloc.h"
#include "worker/worker.h"
#include "worker/worker_client.h"

struct worker_client {
	struct worker_pool *pool;
	char err[512];
};

struct client_wait {
	uint64_t job;
	int done;
	struct worker_result res;
};

static void
client_cb(const struct worker_result *res, void *arg)
{
	struct client_wait *w = arg;

	if (res->job == w->job && !w->done) {
		w->res = *res;
		w->done = 1;
	} else
		upload_free(res->upload); /* cannot be: one job at a time */
}

struct worker_client *
worker_client_new(const struct config *cf, char *err, size_t errsize)
{
	struct worker_client *c = xcalloc(1, sizeof(*c));

	if ((c->pool = worker_pool_new(cf, 1, err, errsize)) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
worker_client_free(struct worker_client *c)
{
	if (c == NULL)
		return;
	worker_pool_free(c->pool);
	free(c);
}

const char *
worker_client_error(const struct worker_client *c)
{
	return c->err;
}

pid_t
worker_client_pid(const struct worker_client *c)
{
	return worker_pool_pid(c->pool, 0);
}

/* Send with submit() and wait; the shared body of the calls. */
static int
client_wait(struct worker_client *c, struct client_wait *w)
{
	for (;;) {
		int fd, r;

		if (worker_pool_fds(c->pool, &fd, 1) == 1) {
			struct pollfd pfd = { fd, POLLIN, 0 };

			/* a bound, not a timer: collect also reaps the dead */
			(void)poll(&pfd, 1, 1000);
		}
		r = worker_pool_collect(c->pool, client_cb, w);
		if (w->done)
			break;
		if (r == -1) {
			snprintf(c->err, sizeof(c->err), "%s",
			    worker_pool_error(c->pool));
			return -1;
		}
	}
	if (w->res.status == WR_CRASHED || w->res.status == WR_PROTOCOL)
		snprintf(c->err, sizeof(c->err), "%s", w->res.reason);
	return 0;
}

static int
client_submit_failed(struct worker_client *c)
{
	snprintf(c->err, sizeof(c->err), "the job could not be handed to a "
	    "worker (%s)", worker_pool_error(c->pool)[0] != '\0' ?
	    worker_pool_error(c->pool) : "an unknown provider, or too long "
	    "a name");
	return -1;
}

int
worker_client_run(struct worker_client *c, enum worker_job_kind kind, int fd,
    const char *name, const char *provider, struct worker_result *res)
{
	struct client_wait w;

	for (;;) {
		memset(&w, 0, sizeof(w));
		c->err[0] = '\0';
		if (worker_pool_idle(c->pool) == 0 &&
		    worker_pool_collect(c->pool, client_cb, &w) == -1)
			return client_submit_failed(c);
		if (worker_submit(c->pool, kind, fd, name, provider,
		    &w.job) != 0)
			return client_submit_failed(c);
		if (client_wait(c, &w) == -1)
			return -1;
		/* never tried (its worker died before): once more */
		if (w.res.status != WR_NOT_STARTED)
			break;
	}
	*res = w.res;
	return 0;
}

/* A sealed memfd holding buf[0..len); -1 with errno. */
static int
client_memfd(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t off = 0;
	int fd, e;

	if ((fd = memfd_create("beiand-job", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		return -1;
	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1)
		goto fail;
	return fd;
fail:
	e = errno ? errno : EIO;
	close(fd);
	errno = e;
	return -1;
}

int
worker_client_run_mem(struct worker_client *c, enum worker_job_kind kind,
    const void *buf, size_t len, const char *name, const char *provider,
    struct worker_result *res)
{
	int fd, r;

	if ((fd = client_memfd(buf, len)) == -1) {
		snprintf(c->err, sizeof(c->err), "memfd: %s", strerror(errno));
		return -1;
	}
	r = worker_client_run(c, kind, fd, name, provider, res);
	close(fd);
	return r;
}

int
worker_client_verify(struct worker_client *c, const struct pkg_file *files,
    size_t n, struct worker_result *res)
{
	const char *names[3];
	int fds[3];
	size_t k;
	struct client_wait w;
	int r = -1;

	if (n == 0 || n > 3) {
		snprintf(c->err, sizeof(c->err), "a record and at most two "
		    "files beside it");
		return -1;
	}
	for (k = 0; k < n; k++) {
		names[k] = files[k].name;
		if ((fds[k] = client_memfd(files[k].data, files[k].size)) ==
		    -1) {
			snprintf(c->err, sizeof(c->err), "memfd: %s",
			    strerror(errno));
			goto out;
		}
	}
	for (;;) {
		memset(&w, 0, sizeof(w));
		c->err[0] = '\0';
		if (worker_pool_idle(c->pool) == 0 &&
		    worker_pool_collect(c->pool, client_cb, &w) == -1) {
			r = client_submit_failed(c);
			goto out;
		}
		if (worker_submit_files(c->pool, WJ_VERIFY, fds, names, n,
		    NULL, &w.job) != 0) {
			r = client_submit_failed(c);
			goto out;
		}
		if (client_wait(c, &w) == -1)
			goto out;
		if (w.res.status != WR_NOT_STARTED)
			break;
	}
	*res = w.res;
	r = 0;
out:
	while (k > 0)
		close(fds[--k]);
	return r;
}
