/*
 * pidlock: an flock(2) on a lock file naming its holder's pid.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/pidlock.h"

#define HELD_MAX 4      /* a reload holds the old and the new one */

/* The descriptors holding a lock, closed in every forked child.  Taken
 * and released on one thread; the child handler only reads. */
static int held[HELD_MAX] = { -1, -1, -1, -1 };
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void
held_close_in_child(void)
{
	for (int i = 0; i < HELD_MAX; i++)
		if (held[i] != -1)
			close(held[i]);
}

static void
atfork_setup(void)
{
	pthread_atfork(NULL, NULL, held_close_in_child);
}

/* The pid written in the file open on fd, 0 when there is none. */
static pid_t
pid_read(int fd)
{
	char buf[32];
	ssize_t n;
	long v;
	char *end;

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') ||
	    v <= 0 || v > 0x7fffffffL)
		return 0;
	return (pid_t)v;
}

int
pidlock_take(const char *path, pid_t *holder)
{
	char buf[32];
	int fd, n, saved;

	*holder = 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		saved = errno;
		if (saved == EWOULDBLOCK)
			*holder = pid_read(fd);
		close(fd);
		errno = saved;
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	errno = 0;
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n) {
		saved = errno != 0 ? errno : EIO;
		close(fd);
		errno = saved;
		return -1;
	}
	pthread_once(&atfork_once, atfork_setup);
	for (int i = 0; i < HELD_MAX; i++)
		if (held[i] == -1) {
			held[i] = fd;
			break;
		}
	return fd;
}

void
pidlock_release(int fd)
{
	if (fd == -1)
		return;
	for (int i = 0; i < HELD_MAX; i++)
		if (held[i] == fd)
			held[i] = -1;
	close(fd);
}
