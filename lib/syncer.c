/*
 * syncer: see include/lib/syncer.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/forksafe.h"
#include "lib/syncer.h"
#include "lib/xmalloc.h"

#define SYNCER_DIRS 4

struct syncer {
	struct parking pk;      /* its lock; its condition: a request, a
	                         * completion, a fork, the end */
	int fds[SYNCER_DIRS];   /* one folder per filesystem */
	int nfds;
	int efd;                /* eventfd: a sync completed */
	uint64_t requested;     /* the last tag handed out */
	uint64_t durable;       /* the last tag made durable */
	int error;              /* errno of the last failed sync, or 0 */
	uint64_t nfailed;       /* failed syncs so far */
};

static void *
syncer_main(void *arg)
{
	struct syncer *sy = arg;

	pthread_mutex_lock(&sy->pk.mu);
	for (;;) {
		uint64_t tag, one = 1;
		int e = 0;

		while (sy->pk.pausing ||
		    (!sy->pk.stop && sy->durable == sy->requested)) {
			parking_wait(&sy->pk);
		}
		if (sy->durable == sy->requested)
			break; /* stopping with nothing asked */
		tag = sy->requested;
		pthread_mutex_unlock(&sy->pk.mu);
		/* Whatever was written before the request is covered: the
		 * tag was handed out after those writes returned. */
		for (int i = 0; i < sy->nfds && e == 0; i++)
			if (syncfs(sy->fds[i]) == -1)
				e = errno;
		if (e != 0) {
			struct timespec ts = { 1, 0 };

			nanosleep(&ts, NULL);
		}
		pthread_mutex_lock(&sy->pk.mu);
		sy->error = e;
		if (e == 0)
			sy->durable = tag;
		else
			sy->nfailed++;
		pthread_cond_broadcast(&sy->pk.cv);
		if (write(sy->efd, &one, sizeof(one)) == -1) {
			/* the counter cannot overflow in practice; the loop
			 * reads the durable tag on its next turn anyway */
		}
	}
	pthread_mutex_unlock(&sy->pk.mu);
	return NULL;
}

struct syncer *
syncer_new(const char *const *dirs, int ndirs, char *err, size_t errsize)
{
	struct syncer *sy = xcalloc(1, sizeof(*sy));
	dev_t devs[SYNCER_DIRS];
	int rc;

	sy->efd = -1;
	for (int i = 0; i < ndirs; i++) {
		struct stat st;
		int fd, seen = 0;

		if (sy->nfds == SYNCER_DIRS) {
			snprintf(err, errsize, "syncer: too many filesystems");
			goto fail;
		}
		if ((fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
		    -1 || fstat(fd, &st) == -1) {
			snprintf(err, errsize, "%s: %s", dirs[i],
			    strerror(errno));
			if (fd != -1)
				close(fd);
			goto fail;
		}
		for (int k = 0; k < sy->nfds; k++)
			seen |= devs[k] == st.st_dev;
		if (seen) {
			close(fd);
			continue;
		}
		devs[sy->nfds] = st.st_dev;
		sy->fds[sy->nfds++] = fd;
	}
	if ((sy->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		snprintf(err, errsize, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((rc = parking_start(&sy->pk, syncer_main, sy)) != 0) {
		snprintf(err, errsize, "syncer: thread: %s", strerror(rc));
		goto fail;
	}
	return sy;
fail:
	for (int i = 0; i < sy->nfds; i++)
		close(sy->fds[i]);
	if (sy->efd != -1)
		close(sy->efd);
	free(sy);
	return NULL;
}

void
syncer_free(struct syncer *sy)
{
	if (sy == NULL)
		return;
	parking_stop(&sy->pk); /* what was asked is synced first */
	for (int i = 0; i < sy->nfds; i++)
		close(sy->fds[i]);
	close(sy->efd);
	free(sy);
}

uint64_t
syncer_request(struct syncer *sy)
{
	uint64_t tag;

	pthread_mutex_lock(&sy->pk.mu);
	tag = ++sy->requested;
	pthread_cond_broadcast(&sy->pk.cv);
	pthread_mutex_unlock(&sy->pk.mu);
	return tag;
}

uint64_t
syncer_durable(struct syncer *sy)
{
	uint64_t n, tag;

	while (read(sy->efd, &n, sizeof(n)) > 0)
		;
	pthread_mutex_lock(&sy->pk.mu);
	tag = sy->durable;
	pthread_mutex_unlock(&sy->pk.mu);
	return tag;
}

int
syncer_wait(struct syncer *sy, uint64_t tag)
{
	uint64_t nfailed;
	int rc = 0;

	pthread_mutex_lock(&sy->pk.mu);
	nfailed = sy->nfailed;
	while (sy->durable < tag && sy->nfailed == nfailed)
		pthread_cond_wait(&sy->pk.cv, &sy->pk.mu);
	if (sy->durable < tag) {
		errno = sy->error;
		rc = -1;
	}
	pthread_mutex_unlock(&sy->pk.mu);
	return rc;
}

int
syncer_fd(const struct syncer *sy)
{
	return sy->efd;
}

int
syncer_error(struct syncer *sy)
{
	int e;

	pthread_mutex_lock(&sy->pk.mu);
	e = sy->error;
	pthread_mutex_unlock(&sy->pk.mu);
	return e;
}
