/*
 * view: hostile bytes through the parser worker (view.h), and the cache
 * of stored packages read for their photos.
 *
 * Hostile input: uploaded photos and scans, stored packages (a
 * provider's archive as it came), and the worker's answers (decoded by
 * worker/wire_decode.c, bounded).  beiand-web never parses any of them
 * itself: a file goes to the worker as a descriptor and comes back as a
 * decoded upload.  The worker is used by one request at a time (a
 * mutex); a request waits for its answer at most VIEW_WAIT_S seconds
 * (the worker's own CPU limit ends a runaway job sooner).
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/pack.h"
#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "worker/worker.h"
#include "web/view.h"

#define VIEW_WAIT_S 60
#define VIEW_CACHE_MAX 64 /* entries, besides cache_max bytes */

struct centry {
	char hex[65];
	struct upload *u;
	size_t bytes;
	unsigned refs;
	time_t used;
};

struct web_view {
	const struct config *cf;
	pthread_mutex_t wmu;        /* the worker: one job at a time */
	struct worker_pool *pool;
	pthread_mutex_t cmu;        /* the cache */
	struct centry cache[VIEW_CACHE_MAX];
	size_t ncache, bytes;
};

struct web_view *
web_view_new(const struct config *cf, char *err, size_t errsize)
{
	struct web_view *v = xcalloc(1, sizeof(*v));

	v->cf = cf;
	pthread_mutex_init(&v->wmu, NULL);
	pthread_mutex_init(&v->cmu, NULL);
	if ((v->pool = worker_pool_new(cf, 1, err, errsize)) == NULL) {
		free(v);
		return NULL;
	}
	return v;
}

void
web_view_free(struct web_view *v)
{
	if (v == NULL)
		return;
	worker_pool_free(v->pool);
	for (size_t i = 0; i < v->ncache; i++)
		upload_free(v->cache[i].u);
	pthread_mutex_destroy(&v->wmu);
	pthread_mutex_destroy(&v->cmu);
	free(v);
}

/* ---- the worker ---------------------------------------------------------------- */

struct wait {
	uint64_t job;
	int done;
	struct worker_result res;
};

static void
collect_cb(const struct worker_result *res, void *arg)
{
	struct wait *w = arg;

	if (res->job == w->job && !w->done) {
		w->res = *res;
		w->done = 1;
	} else
		upload_free(res->upload);
}

/*
 * The one call to the worker: fd (a regular file) parsed as kind, named
 * name, with provider's configuration.  0 and *out; -1 with err.
 * (When the worker becomes a program of its own with a client API, this
 * is what changes.)
 */
static int
view_worker_run(struct web_view *v, enum worker_job_kind kind, int fd,
    const char *name, const char *provider, struct upload **out, char *err,
    size_t errsize)
{
	struct wait w;
	time_t end = time(NULL) + VIEW_WAIT_S;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	pthread_mutex_lock(&v->wmu);
	/* a worker that died since the last job is replaced first */
	(void)worker_pool_collect(v->pool, collect_cb, &w);
	if (worker_submit(v->pool, kind, fd, name, provider, &w.job) != 0) {
		snprintf(err, errsize, "the parser worker took no job");
		goto out;
	}
	while (!w.done && time(NULL) < end) {
		struct pollfd pfd;
		int wfd;

		if (worker_pool_fds(v->pool, &wfd, 1) == 1) {
			pfd.fd = wfd;
			pfd.events = POLLIN;
			(void)poll(&pfd, 1, 200);
		} else
			(void)poll(NULL, 0, 200);
		if (worker_pool_collect(v->pool, collect_cb, &w) == -1) {
			snprintf(err, errsize, "the parser worker could not "
			    "be started again");
			goto out;
		}
	}
	if (!w.done) {
		snprintf(err, errsize, "the parser worker did not answer in "
		    "%d s", VIEW_WAIT_S);
		goto out;
	}
	if (w.res.status != WR_OK || w.res.upload == NULL) {
		snprintf(err, errsize, "the parser worker failed: %s",
		    w.res.reason[0] ? w.res.reason : "no answer");
		upload_free(w.res.upload);
		goto out;
	}
	*out = w.res.upload;
	rc = 0;
out:
	pthread_mutex_unlock(&v->wmu);
	return rc;
}

/* ---- uploaded photos ------------------------------------------------------------ */

int
web_photo_check(struct web_view *v, const char *provider,
    const struct pkg_file *files, size_t nfiles, struct upload **out,
    char *err, size_t errsize)
{
	unsigned char *zip = NULL;
	size_t len = 0, off = 0;
	int fd, rc = -1;

	if (pack_zip(files, nfiles, &zip, &len) != 0) {
		snprintf(err, errsize, "the verification could not be packed");
		return -1;
	}
	/* a file of its own, in memory, handed over as any upload is */
	if ((fd = memfd_create("console-verification", MFD_CLOEXEC)) == -1) {
		snprintf(err, errsize, "memfd_create: %s", strerror(errno));
		free(zip);
		return -1;
	}
	while (off < len) {
		ssize_t n = write(fd, zip + off, len - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errsize, "memfd: %s", strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	rc = view_worker_run(v, WJ_PARSE, fd, "console.zip", provider, out,
	    err, errsize);
out:
	close(fd);
	free(zip);
	return rc;
}

/* ---- stored packages, cached -------------------------------------------------- */

static size_t
upload_bytes(const struct upload *u)
{
	size_t n = 4096;

	for (size_t i = 0; i < u->nitems; i++)
		for (size_t k = 0; k < u->items[i].nfiles; k++)
			n += u->items[i].files[k].size + 64;
	return n;
}

/* Drop unused entries, oldest first, until the cache keeps to its
 * bounds (cmu held). */
static void
cache_trim(struct web_view *v, size_t room)
{
	while (v->ncache > 0 && (v->bytes + room > v->cf->web_cache_max ||
	    v->ncache >= VIEW_CACHE_MAX)) {
		size_t old = v->ncache;

		for (size_t i = 0; i < v->ncache; i++)
			if (v->cache[i].refs == 0 && (old == v->ncache ||
			    v->cache[i].used < v->cache[old].used))
				old = i;
		if (old == v->ncache)
			return; /* all in use */
		upload_free(v->cache[old].u);
		v->bytes -= v->cache[old].bytes;
		v->cache[old] = v->cache[--v->ncache];
	}
}

int
web_view_package(struct web_view *v, const char *blob_hex,
    const char *blob_path, const struct upload **out, char *err,
    size_t errsize)
{
	struct upload *u = NULL;
	size_t bytes;
	int fd, rc;

	pthread_mutex_lock(&v->cmu);
	for (size_t i = 0; i < v->ncache; i++)
		if (strcmp(v->cache[i].hex, blob_hex) == 0) {
			v->cache[i].refs++;
			v->cache[i].used = time(NULL);
			*out = v->cache[i].u;
			pthread_mutex_unlock(&v->cmu);
			return 0;
		}
	pthread_mutex_unlock(&v->cmu);

	if ((fd = open(blob_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(err, errsize, "%s: %s", blob_path, strerror(errno));
		return -1;
	}
	rc = view_worker_run(v, WJ_VIEW, fd, "package.zip", NULL, &u, err,
	    errsize);
	close(fd);
	if (rc != 0)
		return -1;

	bytes = upload_bytes(u);
	pthread_mutex_lock(&v->cmu);
	/* read by another request meanwhile: keep one */
	for (size_t i = 0; i < v->ncache; i++)
		if (strcmp(v->cache[i].hex, blob_hex) == 0) {
			v->cache[i].refs++;
			v->cache[i].used = time(NULL);
			*out = v->cache[i].u;
			pthread_mutex_unlock(&v->cmu);
			upload_free(u);
			return 0;
		}
	cache_trim(v, bytes);
	if (v->ncache < VIEW_CACHE_MAX) {
		struct centry *e = &v->cache[v->ncache++];

		strlcpy(e->hex, blob_hex, sizeof(e->hex));
		e->u = u;
		e->bytes = bytes;
		e->refs = 1;
		e->used = time(NULL);
		v->bytes += bytes;
	}
	/* else every entry is in use: this one is not kept, and
	 * web_view_release() frees it */
	pthread_mutex_unlock(&v->cmu);
	*out = u;
	return 0;
}

void
web_view_release(struct web_view *v, const struct upload *u)
{
	pthread_mutex_lock(&v->cmu);
	for (size_t i = 0; i < v->ncache; i++)
		if (v->cache[i].u == u) {
			v->cache[i].refs--;
			cache_trim(v, 0);
			pthread_mutex_unlock(&v->cmu);
			return;
		}
	pthread_mutex_unlock(&v->cmu);
	/* not in the cache: it was the caller's alone */
	upload_free((struct upload *)u);
}
