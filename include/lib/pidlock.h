/*
 * pidlock: one process per folder — an flock(2) on a lock file that
 * holds the holder's pid (DESIGN.md, Command line: "One beiand per
 * state_dir").
 *
 * The lock belongs to the open file description: it lives as long as
 * the descriptor and goes with the process, whatever way it ends; a stale
 * file left by a crash locks nothing.  No child keeps it, so that a lock
 * never outlives its daemon in a straggling child: the descriptor is
 * O_CLOEXEC for an exec'd one (the helpers beiand-worker and beiand-imap,
 * whose lib/spawn.c child also closes every descriptor but theirs before
 * the exec), and closed by a pthread_atfork() child handler in any that
 * would only fork.  The pid in the file is only there to be named in a
 * refusal.
 */
#ifndef BEIAND_PIDLOCK_H
#define BEIAND_PIDLOCK_H

#include <sys/types.h>

/*
 * Take the lock on path (created mode 0600 if missing) without waiting
 * and write our pid into it.  Returns the descriptor that holds the lock
 * (keep it open; close it to release), or -1 with errno set: EWOULDBLOCK
 * when another process holds it, *holder then its pid as the file says
 * (0 when unreadable, e.g. not written yet); any other errno when the
 * file cannot be opened or locked.
 */
int pidlock_take(const char *path, pid_t *holder);
/* Release a lock taken by pidlock_take() (closes fd; -1 is nothing). */
void pidlock_release(int fd);

#endif
