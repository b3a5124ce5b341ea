/*
 * prep: see include/daemon/prep.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/prep.h"
#include "lib/forksafe.h"
#include "lib/xmalloc.h"
#include "store/blob.h"

struct prep {
	struct parking pk;          /* its lock; its condition: a job queued,
	                             * a job done, a fork, the end */
	struct prep_job *head, *tail;
	int efd;                    /* eventfd: a call finished */
};

void
prep_run(struct prep_job *job)
{
	unsigned char *bytes = NULL;
	struct stat after;

	job->err = 0;
	job->len = 0;
	job->changed = 0;
	job->blob_written = job->blob_new = 0;
	job->blob_err[0] = '\0';
	if (blob_read_stat(job->path, &bytes, &job->len, &after) == -1) {
		job->err = errno;
		job->len = 0;
	} else if (job->stamped && (after.st_size != job->size ||
	    after.st_ctim.tv_sec != job->ctime.tv_sec ||
	    after.st_ctim.tv_nsec != job->ctime.tv_nsec))
		job->changed = 1;
	/* One pass over the bytes: blob_put() names the blob by the hash it
	 * takes itself, and that is the upload's hash too. */
	if (bytes != NULL && job->state_dir != NULL && !job->changed) {
		if (blob_put(job->state_dir, bytes, job->len, BLOB_NOSYNC,
		    job->sha256, &job->blob_new, job->blob_err,
		    sizeof(job->blob_err)) == 0)
			job->blob_written = 1;
	} else
		sha256(bytes != NULL ? bytes : (const unsigned char *)"",
		    job->len, job->sha256);
	free(bytes);
}

static void *
prep_main(void *arg)
{
	struct prep *pp = arg;

	pthread_mutex_lock(&pp->pk.mu);
	for (;;) {
		struct prep_job *job;

		while (pp->pk.pausing || (pp->head == NULL && !pp->pk.stop)) {
			parking_wait(&pp->pk);
		}
		if ((job = pp->head) == NULL)
			break; /* stopping, nothing left */
		if ((pp->head = job->next) == NULL)
			pp->tail = NULL;
		pthread_mutex_unlock(&pp->pk.mu);
		if (job->call != NULL)
			job->call(job->arg);
		else
			prep_run(job);
		pthread_mutex_lock(&pp->pk.mu);
		job->done = 1;
		pthread_cond_broadcast(&pp->pk.cv);
		if (job->call != NULL) {
			uint64_t one = 1;

			if (write(pp->efd, &one, sizeof(one)) == -1) {
				/* cannot overflow in practice; the loop looks
				 * at its calls every turn anyway */
			}
		}
	}
	pthread_mutex_unlock(&pp->pk.mu);
	return NULL;
}

struct prep *
prep_new(char *err, size_t errsize)
{
	struct prep *pp = xcalloc(1, sizeof(*pp));
	int rc;

	if ((pp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		snprintf(err, errsize, "eventfd: %s", strerror(errno));
		free(pp);
		return NULL;
	}
	if ((rc = parking_start(&pp->pk, prep_main, pp)) != 0) {
		snprintf(err, errsize, "prep: thread: %s", strerror(rc));
		close(pp->efd);
		free(pp);
		return NULL;
	}
	return pp;
}

void
prep_free(struct prep *pp)
{
	if (pp == NULL)
		return;
	parking_stop(&pp->pk); /* its jobs done first */
	close(pp->efd);
	free(pp);
}

void
prep_submit(struct prep *pp, struct prep_job *job)
{
	job->next = NULL;
	job->done = 0;
	pthread_mutex_lock(&pp->pk.mu);
	if (pp->tail == NULL)
		pp->head = job;
	else
		pp->tail->next = job;
	pp->tail = job;
	pthread_cond_broadcast(&pp->pk.cv);
	pthread_mutex_unlock(&pp->pk.mu);
}

void
prep_wait(struct prep *pp, struct prep_job *job)
{
	pthread_mutex_lock(&pp->pk.mu);
	while (!job->done)
		pthread_cond_wait(&pp->pk.cv, &pp->pk.mu);
	pthread_mutex_unlock(&pp->pk.mu);
}

int
prep_done(struct prep *pp, const struct prep_job *job)
{
	int done;

	pthread_mutex_lock(&pp->pk.mu);
	done = job->done;
	pthread_mutex_unlock(&pp->pk.mu);
	return done;
}

int
prep_fd(const struct prep *pp)
{
	return pp->efd;
}

void
prep_woken(struct prep *pp)
{
	uint64_t n;

	while (read(pp->efd, &n, sizeof(n)) > 0)
		;
}

int
prep_take(struct prep *pp, struct prep_job *job)
{
	struct prep_job **jp, *prev = NULL;
	int taken = 0;

	pthread_mutex_lock(&pp->pk.mu);
	for (jp = &pp->head; *jp != NULL; prev = *jp, jp = &(*jp)->next)
		if (*jp == job) {
			*jp = job->next;
			if (pp->tail == job)
				pp->tail = prev;
			taken = 1;
			break;
		}
	pthread_mutex_unlock(&pp->pk.mu);
	if (taken) {
		prep_run(job);
		job->done = 1;
	} else
		prep_wait(pp, job);
	return taken;
}
