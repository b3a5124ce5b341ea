/*
 * forksafe: see include/lib/forksafe.h.
 */
#include <pthread.h>
#include <stdlib.h>

#include "lib/forksafe.h"

#define FORKSAFE_MAX 8

static struct parking *entries[FORKSAFE_MAX];
static int nentries;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void forksafe_add(struct parking *pk);
static void forksafe_remove(struct parking *pk);

int
parking_start(struct parking *pk, void *(*fn)(void *), void *arg)
{
	int rc;

	pthread_mutex_init(&pk->mu, NULL);
	pthread_cond_init(&pk->cv, NULL);
	pk->stop = pk->pausing = pk->parked = 0;
	if ((rc = pthread_create(&pk->thread, NULL, fn, arg)) != 0) {
		pthread_cond_destroy(&pk->cv);
		pthread_mutex_destroy(&pk->mu);
		return rc;
	}
	forksafe_add(pk);
	return 0;
}

void
parking_stop(struct parking *pk)
{
	forksafe_remove(pk);
	pthread_mutex_lock(&pk->mu);
	pk->stop = 1;
	pthread_cond_broadcast(&pk->cv);
	pthread_mutex_unlock(&pk->mu);
	if (pk->nudge != NULL)
		pk->nudge(pk->nudge_arg);
	pthread_join(pk->thread, NULL);
	pthread_cond_destroy(&pk->cv);
	pthread_mutex_destroy(&pk->mu);
}

void
parking_wait(struct parking *pk)
{
	pk->parked = 1;
	pthread_cond_broadcast(&pk->cv); /* a fork may wait for it */
	pthread_cond_wait(&pk->cv, &pk->mu);
	pk->parked = 0;
}

static void
before_fork(void)
{
	for (int i = 0; i < nentries; i++) {
		struct parking *pk = entries[i];

		pthread_mutex_lock(&pk->mu);
		pk->pausing = 1;
		pthread_cond_broadcast(&pk->cv);
		if (pk->nudge != NULL)
			pk->nudge(pk->nudge_arg);
		while (!pk->parked)
			pthread_cond_wait(&pk->cv, &pk->mu);
	}
}

static void
after_fork_parent(void)
{
	for (int i = nentries - 1; i >= 0; i--) {
		struct parking *pk = entries[i];

		pk->pausing = 0;
		pthread_cond_broadcast(&pk->cv);
		pthread_mutex_unlock(&pk->mu);
	}
}

static void
forksafe_init(void)
{
	if (pthread_atfork(before_fork, after_fork_parent, NULL) != 0)
		abort();
}

static void
forksafe_add(struct parking *pk)
{
	pthread_once(&once, forksafe_init);
	if (nentries == FORKSAFE_MAX)
		abort(); /* a fixed, small number of threads */
	entries[nentries++] = pk;
}

static void
forksafe_remove(struct parking *pk)
{
	for (int i = 0; i < nentries; i++)
		if (entries[i] == pk) {
			entries[i] = entries[--nentries];
			return;
		}
}
