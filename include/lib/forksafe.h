/*
 * forksafe: the daemon's threads park while it forks.
 *
 * The helper programs are started by lib/spawn.c's _Fork(), which runs no
 * fork handler: its child makes nothing but system calls until the exec,
 * so no lock of another thread's matters there.  The parking is for a
 * plain fork(2), and it is how the threads wait for their work.
 *
 * A child gets a copy of every lock as it was at fork(2); a thread caught
 * inside the allocator (or any library) leaves the child's copy locked
 * for ever.  A thread module keeps its lock and condition in a struct
 * parking and waits for work with parking_wait(); once it is registered,
 * every fork (from the thread that creates and frees the threads, the
 * loop's) first sets it pausing, waits until it is parked at its wait and
 * holds its lock over the fork, and lets it go on in the parent.  The
 * child never uses those threads' state.
 */
#ifndef BEIAND_FORKSAFE_H
#define BEIAND_FORKSAFE_H

#include <pthread.h>

struct parking {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* the thread's work, a fork, the end */
	int stop;               /* the thread finishes its work and ends */
	int pausing;            /* a fork waits for the thread to park */
	int parked;             /* the thread is at its wait */
	/* set before parking_start() by a thread that may be waiting
	 * elsewhere (in a library's poll): makes it come and look at
	 * pausing and stop */
	void (*nudge)(void *);
	void *nudge_arg;
};

/* Start fn(arg) on a new thread, parked over every fork from now on.
 * 0, or an errno (nothing started). */
int parking_start(struct parking *pk, void *(*fn)(void *), void *arg);
/* Set pk->stop, wake the thread and wait for its end. */
void parking_stop(struct parking *pk);
/* In the thread, with pk->mu held, in place of pthread_cond_wait(): the
 * thread's loop waits while pk->pausing or it has nothing to do. */
void parking_wait(struct parking *pk);

#endif
