/*
 * store/wake: the outbox's doorbell, a FIFO in state_dir (store/wake.h).
 *
 * What is hostile here: nothing a stranger sends; but the FIFO lives in
 * state_dir, and whatever is found under its name is checked before it
 * is used: the listener replaces anything but a FIFO, a writer pokes
 * only a FIFO (O_NOFOLLOW, then fstat), never writing into a file that
 * took its place.  What is read from it is discarded unread.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_priv.h"
#include "store/wake.h"

static int
wake_path(const char *state_dir, char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "%s/%s", state_dir, STORE_WAKE_FIFO) >=
	    size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
store_wake_listen(const char *state_dir, char *err, size_t errsize)
{
	char path[4096];
	struct stat sb;
	int fd;

	if (wake_path(state_dir, path, sizeof(path)) == -1) {
		snprintf(err, errsize, "%s: %s", state_dir, strerror(errno));
		return -1;
	}
	if (lstat(path, &sb) == 0 && !S_ISFIFO(sb.st_mode) &&
	    unlink(path) == -1) {
		snprintf(err, errsize, "%s: not a FIFO, cannot replace it: %s",
		    path, strerror(errno));
		return -1;
	}
	if (mkfifo(path, 0600) == -1 && errno != EEXIST) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISFIFO(sb.st_mode)) {
		snprintf(err, errsize, "%s: not a FIFO", path);
		close(fd);
		return -1;
	}
	return fd;
}

void
store_wake_drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int
store_wake_post(const char *state_dir)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t pipe_set, old, pending;
	char path[4096];
	struct stat sb;
	int fd, rc = 0, saved = 0, was_pending;
	ssize_t n;

	if (state_dir == NULL)
		return 1;
	if (wake_path(state_dir, path, sizeof(path)) == -1)
		return -1;
	/* no reader: ENXIO; no FIFO yet: the daemon never ran here */
	fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return errno == ENXIO || errno == ENOENT ? 1 : -1;
	if (fstat(fd, &sb) == -1 || !S_ISFIFO(sb.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	/* The reader may go between the open and the write: EPIPE then,
	 * and a SIGPIPE that must not end the writer.  Blocked here; one
	 * raised by this write is taken back. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	n = write(fd, "w", 1);
	if (n == -1) {
		saved = errno;
		if (saved == EPIPE && !was_pending)
			sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(fd);
	if (n == -1) {
		if (saved == EAGAIN)
			rc = 0; /* full: pokes are waiting already */
		else if (saved == EPIPE)
			rc = 1;
		else {
			errno = saved;
			rc = -1;
		}
	}
	return rc;
}

void
store_wake_set(struct store *st, int on)
{
	st->wake_off = !on;
}

/* After a commit through st: poke when it queued mail.  Called by
 * store.c. */
void
wake_after_commit(struct store *st)
{
	if (!st->outbox_touched)
		return;
	st->outbox_touched = 0;
	if (!st->wake_off)
		(void)store_wake_post(st->state_dir);
}
