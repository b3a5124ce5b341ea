/*
 * prep: see include/prep.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "forksafe.h"
#include "prep.h"
#include "xmalloc.h"

struct prep {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;          /* a job queued, a job done, the end */
	struct prep_job *head, *tail;
	int stop;
	int pausing, parked;        /* forksafe: a fork is waiting; parked at it */
};

void
prep_run(struct prep_job *job)
{
	unsigned char *bytes = NULL;
	char hex[SHA256_HEX];

	job->err = 0;
	job->len = 0;
	job->blob_written = job->blob_new = 0;
	job->blob_err[0] = '\0';
	if (blob_read(job->path, &bytes, &job->len) == -1) {
		job->err = errno;
		job->len = 0;
	}
	sha256(bytes != NULL ? bytes : (const unsigned char *)"", job->len,
	    job->sha256);
	if (bytes != NULL && job->state_dir != NULL) {
		sha256_to_hex(job->sha256, hex);
		if (blob_put(job->state_dir, hex, bytes, job->len, BLOB_NOSYNC,
		    &job->blob_new, job->blob_err, sizeof(job->blob_err)) == 0)
			job->blob_written = 1;
	}
	free(bytes);
}

static void *
prep_main(void *arg)
{
	struct prep *pp = arg;

	pthread_mutex_lock(&pp->mu);
	for (;;) {
		struct prep_job *job;

		while (pp->pausing || (pp->head == NULL && !pp->stop)) {
			pp->parked = 1;
			pthread_cond_broadcast(&pp->cv);
			pthread_cond_wait(&pp->cv, &pp->mu);
			pp->parked = 0;
		}
		if ((job = pp->head) == NULL)
			break; /* stopping, nothing left */
		if ((pp->head = job->next) == NULL)
			pp->tail = NULL;
		pthread_mutex_unlock(&pp->mu);
		prep_run(job);
		pthread_mutex_lock(&pp->mu);
		job->done = 1;
		pthread_cond_broadcast(&pp->cv);
	}
	pthread_mutex_unlock(&pp->mu);
	return NULL;
}

/* forksafe: park the thread at its wait and hold it there over a fork */
static void
prep_pause(void *arg)
{
	struct prep *pp = arg;

	pthread_mutex_lock(&pp->mu);
	pp->pausing = 1;
	pthread_cond_broadcast(&pp->cv);
	while (!pp->parked)
		pthread_cond_wait(&pp->cv, &pp->mu);
}

static void
prep_resume(void *arg)
{
	struct prep *pp = arg;

	pp->pausing = 0;
	pthread_cond_broadcast(&pp->cv);
	pthread_mutex_unlock(&pp->mu);
}

struct prep *
prep_new(char *err, size_t errsize)
{
	struct prep *pp = xcalloc(1, sizeof(*pp));
	int rc;

	pthread_mutex_init(&pp->mu, NULL);
	pthread_cond_init(&pp->cv, NULL);
	if ((rc = pthread_create(&pp->thread, NULL, prep_main, pp)) != 0) {
		snprintf(err, errsize, "prep: thread: %s", strerror(rc));
		pthread_cond_destroy(&pp->cv);
		pthread_mutex_destroy(&pp->mu);
		free(pp);
		return NULL;
	}
	forksafe_add(prep_pause, prep_resume, pp);
	return pp;
}

void
prep_free(struct prep *pp)
{
	if (pp == NULL)
		return;
	forksafe_remove(pp);
	pthread_mutex_lock(&pp->mu);
	pp->stop = 1;
	pthread_cond_broadcast(&pp->cv);
	pthread_mutex_unlock(&pp->mu);
	pthread_join(pp->thread, NULL);
	pthread_cond_destroy(&pp->cv);
	pthread_mutex_destroy(&pp->mu);
	free(pp);
}

void
prep_submit(struct prep *pp, struct prep_job *job)
{
	job->next = NULL;
	job->done = 0;
	pthread_mutex_lock(&pp->mu);
	if (pp->tail == NULL)
		pp->head = job;
	else
		pp->tail->next = job;
	pp->tail = job;
	pthread_cond_broadcast(&pp->cv);
	pthread_mutex_unlock(&pp->mu);
}

void
prep_wait(struct prep *pp, struct prep_job *job)
{
	pthread_mutex_lock(&pp->mu);
	while (!job->done)
		pthread_cond_wait(&pp->cv, &pp->mu);
	pthread_mutex_unlock(&pp->mu);
}
