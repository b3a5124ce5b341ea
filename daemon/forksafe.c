/*
 * forksafe: see include/forksafe.h.
 */
#include <pthread.h>
#include <stdlib.h>

#include "forksafe.h"

#define FORKSAFE_MAX 8

static struct {
	void (*pause)(void *);
	void (*resume)(void *);
	void *arg;
} entries[FORKSAFE_MAX];
static int nentries;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
before_fork(void)
{
	for (int i = 0; i < nentries; i++)
		entries[i].pause(entries[i].arg);
}

static void
after_fork_parent(void)
{
	for (int i = nentries - 1; i >= 0; i--)
		entries[i].resume(entries[i].arg);
}

static void
forksafe_init(void)
{
	if (pthread_atfork(before_fork, after_fork_parent, NULL) != 0)
		abort();
}

void
forksafe_add(void (*pause)(void *), void (*resume)(void *), void *arg)
{
	pthread_once(&once, forksafe_init);
	if (nentries == FORKSAFE_MAX)
		abort(); /* a fixed, small number of threads */
	entries[nentries].pause = pause;
	entries[nentries].resume = resume;
	entries[nentries].arg = arg;
	nentries++;
}

void
forksafe_remove(void *arg)
{
	for (int i = 0; i < nentries; i++)
		if (entries[i].arg == arg) {
			entries[i] = entries[--nentries];
			return;
		}
}
