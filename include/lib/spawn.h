/*
 * spawn: start a helper program (beiand-worker, beiand-imap) by a fresh
 * exec, so that it inherits nothing of its parent's memory (the
 * configuration's passwords, the database's pages) and only the
 * descriptors it is given.
 *
 * Between fork and exec the child only makes system calls (no library
 * state of the parent's threads is touched): it moves the given
 * descriptors to 3, 4, ..., points 0 and 1 at /dev/null, keeps 2 (the
 * parent's stderr: where a helper writes why it died) and closes every
 * other; unblocks and resets every signal; under root drops to the given
 * user (no supplementary groups, the bounding set emptied first); clears
 * the ambient capabilities (so that none survives the exec); sets
 * no_new_privs and the parent-death signal; then execs the program with
 * the environment given, nothing else.
 */
#ifndef BEIAND_SPAWN_H
#define BEIAND_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#define SPAWN_FDS_MAX 4

struct spawn {
	const char *path;         /* the program (spawn_find) */
	char *const *argv;
	char *const *envp;        /* the whole environment of the program */
	int fds[SPAWN_FDS_MAX];   /* become 3, 4, ... in the program */
	size_t nfds;
	int drop;                 /* switch to uid/gid (only as root) */
	uid_t uid;
	gid_t gid;
	int deathsig;             /* sent to it when the parent dies */
};

/*
 * The path of helper program name in buf: $BEIAND_LIBEXEC/name when that
 * variable is set (tests whose drivers live elsewhere), else the folder
 * of this process's own executable when name is there (a build tree:
 * build/beiand runs build/beiand-worker), else the LIBEXECDIR this was
 * built with.  0, or -1 when none is an executable file (buf names the
 * last tried).
 */
int spawn_find(const char *name, char *buf, size_t size);

/*
 * Start s.  Returns the child's pid once the exec has happened, or -1
 * with errno (the fork, or the exec itself, failed).  The caller keeps
 * its own copies of s->fds.
 */
pid_t spawn_start(const struct spawn *s);

/*
 * An environment of only the variables of names[] (NULL-terminated) that
 * are set in this process: a malloc'd vector for struct spawn's envp;
 * free with spawn_env_free.
 */
char **spawn_env(const char *const *names);
void spawn_env_free(char **env);

#endif
