/*
 * forksafe: the daemon's threads park while it forks a worker.
 *
 * A child gets a copy of every lock as it was at fork(2); a thread caught
 * inside the allocator (or any library) leaves the child's copy locked
 * for ever.  Each thread module registers here; around every fork, in the
 * forking thread, its pause function waits until the thread is parked at
 * its wait and keeps it there, and its resume function lets it go on in
 * the parent.  The child never uses those threads' state.
 */
#ifndef BEIAND_FORKSAFE_H
#define BEIAND_FORKSAFE_H

/* Called from the thread that creates and frees the threads (the loop's),
 * which is also the only one that forks. */
void forksafe_add(void (*pause)(void *), void (*resume)(void *), void *arg);
void forksafe_remove(void *arg);

#endif
