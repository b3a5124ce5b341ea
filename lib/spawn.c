/*
 * spawn: see include/lib/spawn.h.
 *
 * The child of _Fork() (no atfork handlers: the daemon's other threads
 * are not parked, and nothing of theirs is used; lib/pidlock.c's lock
 * goes with the close_range below, and is O_CLOEXEC besides) makes raw
 * system calls only until the exec: the library's set*id() would signal
 * threads that do not exist in the child.  A failed exec writes its errno down a
 * close-on-exec pipe, so the parent knows the program runs before it
 * talks to it.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/spawn.h"
#include "lib/xmalloc.h"

#ifndef BEIAND_LIBEXECDIR
#define BEIAND_LIBEXECDIR "/usr/local/libexec/beiand"
#endif

#define SPAWN_FD_HIGH 64 /* above every descriptor the child keeps */

extern char **environ;

static int
spawn_try(const char *dir, const char *name, char *buf, size_t size)
{
	struct stat st;
	int n = snprintf(buf, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size)
		return -1;
	return stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(buf, X_OK) == 0 ? 0 : -1;
}

int
spawn_find(const char *name, char *buf, size_t size)
{
	const char *env = getenv("BEIAND_LIBEXEC");
	char self[4096];
	ssize_t n;

	if (env != NULL && *env != '\0')
		return spawn_try(env, name, buf, size);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if (spawn_try(*self ? self : "/", name, buf, size) == 0)
				return 0;
		}
	}
	return spawn_try(BEIAND_LIBEXECDIR, name, buf, size);
}

char **
spawn_env(const char *const *names)
{
	char **env;
	size_t n = 0, k = 0;

	while (names[n] != NULL)
		n++;
	env = xcalloc(n + 1, sizeof(*env));
	for (size_t i = 0; i < n; i++) {
		const char *v = getenv(names[i]);

		if (v != NULL)
			env[k++] = xasprintf("%s=%s", names[i], v);
	}
	return env;
}

void
spawn_env_free(char **env)
{
	if (env == NULL)
		return;
	for (char **e = env; *e != NULL; e++)
		free(*e);
	free(env);
}

/* In the child: report errno down the pipe and end. */
static void __attribute__((noreturn))
spawn_child_fail(int pipefd)
{
	int e = errno;

	(void)!write(pipefd, &e, sizeof(e));
	_exit(127);
}

static void __attribute__((noreturn))
spawn_child(const struct spawn *s, int pipefd, pid_t parent)
{
	sigset_t all;
	int high[SPAWN_FDS_MAX], null;

	sigemptyset(&all);
	(void)sigprocmask(SIG_SETMASK, &all, NULL);
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		(void)sigaction(sig, &sa, NULL);
	}
	/* The pipe and the given descriptors above the ones to be made. */
	if (pipefd < SPAWN_FD_HIGH) {
		int p = fcntl(pipefd, F_DUPFD_CLOEXEC, SPAWN_FD_HIGH);

		if (p == -1)
			spawn_child_fail(pipefd);
		pipefd = p;
	}
	for (size_t i = 0; i < s->nfds; i++)
		if ((high[i] = fcntl(s->fds[i], F_DUPFD_CLOEXEC,
		    SPAWN_FD_HIGH)) == -1)
			spawn_child_fail(pipefd);
	if ((null = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(null, 0) == -1 || dup2(null, 1) == -1)
		spawn_child_fail(pipefd);
	if (fcntl(2, F_GETFD) == -1 && dup2(null, 2) == -1)
		spawn_child_fail(pipefd);
	for (size_t i = 0; i < s->nfds; i++)
		if (dup2(high[i], 3 + (int)i) == -1) /* clears close-on-exec */
			spawn_child_fail(pipefd);
	/* Everything else but the pipe (at SPAWN_FD_HIGH or above). */
	if (syscall(SYS_close_range, 3 + s->nfds, (unsigned)pipefd - 1, 0) != 0 ||
	    syscall(SYS_close_range, (unsigned)pipefd + 1, ~0U, 0) != 0)
		spawn_child_fail(pipefd);

	if (s->drop) {
		uid_t r, e, sv;

		/* While CAP_SETPCAP is there: nothing to pass on. */
		for (int cap = 0; cap < 64; cap++)
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 &&
			    errno == EINVAL)
				break;
		if (syscall(SYS_setgroups, 0, NULL) != 0 ||
		    syscall(SYS_setresgid, s->gid, s->gid, s->gid) != 0 ||
		    syscall(SYS_setresuid, s->uid, s->uid, s->uid) != 0)
			spawn_child_fail(pipefd);
		if (syscall(SYS_getresuid, &r, &e, &sv) != 0 || r != s->uid ||
		    e != s->uid || sv != s->uid ||
		    (s->uid != 0 && syscall(SYS_setresuid, 0, 0, 0) == 0)) {
			errno = EPERM;
			spawn_child_fail(pipefd);
		}
	}
	/* An ambient capability (AmbientCapabilities= of a unit) would
	 * survive the exec: none may. */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		spawn_child_fail(pipefd);
	/* After the credential change, which clears it; kept by the exec. */
	if (s->deathsig != 0 &&
	    prctl(PR_SET_PDEATHSIG, s->deathsig, 0, 0, 0) != 0)
		spawn_child_fail(pipefd);
	if (getppid() != parent)
		_exit(0); /* the parent is already gone */
	execve(s->path, s->argv, s->envp);
	spawn_child_fail(pipefd);
}

pid_t
spawn_start(const struct spawn *s)
{
	pid_t pid, parent = getpid();
	int p[2], e = 0;
	ssize_t n;

	if (s->nfds > SPAWN_FDS_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	if ((pid = _Fork()) == -1) {
		e = errno;
		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		spawn_child(s, p[1], parent);
	}
	close(p[1]);
	do
		n = read(p[0], &e, sizeof(e));
	while (n == -1 && errno == EINTR);
	close(p[0]);
	if (n == 0)
		return pid; /* the pipe closed at the exec */
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	errno = n == (ssize_t)sizeof(e) && e != 0 ? e : EIO;
	return -1;
}
