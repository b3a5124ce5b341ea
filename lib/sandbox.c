/*
 * sandbox: see include/lib/sandbox.h.
 *
 * What is hostile here: nothing yet — this file runs before the first
 * hostile byte is read, and makes the process unable to use what it
 * refuses afterwards.  It never widens anything: a step the kernel
 * cannot take (no Landlock, an old ABI) leaves the others in place and
 * is reported by the caller, never silently replaced by less.
 *
 * Landlock is reached by raw system calls with the structures of the
 * kernel's ABI written out here: the distribution's <linux/landlock.h>
 * may be older than the running kernel (Debian 12's describes ABI 2).
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/capability.h>
#include <seccomp.h>

#include "lib/sandbox.h"

/* ---- capabilities ------------------------------------------------------ */

static int
caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	return (int)syscall(SYS_capget, &h, d);
}

/* Any capability left (the inheritable set too when inh). */
static int
caps_any(int inh)
{
	struct __user_cap_data_struct d[2];

	if (caps_get(d) != 0)
		return 1;
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted ||
		    (inh && d[i].inheritable))
			return 1;
	for (int cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);

		if (r == -1)
			break; /* past the last capability (or no ambient set) */
		if (r == 1)
			return 1;
	}
	return 0;
}

int
sandbox_caps_drop(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	/* An ambient capability would be handed on to whatever runs next. */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	/* The bounding set needs CAP_SETPCAP to shrink: while it is there. */
	for (int cap = 0; cap < 64; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

		if (r == -1)
			break;
		if (r == 1)
			(void)prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	}
	if (!caps_any(1))
		return 0;
	/*
	 * A service manager's filter may refuse capset (systemd's
	 * ~@privileged).  What is left then is the inheritable set a unit's
	 * AmbientCapabilities= implies, which gives nothing on its own: no
	 * ambient set, and no_new_privs makes file capabilities void.
	 */
	memset(d, 0, sizeof(d));
	(void)syscall(SYS_capset, &h, d);
	return caps_any(0) ? -1 : 0;
}

/* ---- Landlock ---------------------------------------------------------- */

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT     2

#define LL_FS_EXECUTE     (1ULL << 0)
#define LL_FS_WRITE_FILE  (1ULL << 1)
#define LL_FS_READ_FILE   (1ULL << 2)
#define LL_FS_READ_DIR    (1ULL << 3)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_REG    (1ULL << 8)
#define LL_FS_REFER       (1ULL << 13) /* ABI 2 */
#define LL_FS_TRUNCATE    (1ULL << 14) /* ABI 3 */
#define LL_FS_IOCTL_DEV   (1ULL << 15) /* ABI 5 */
#define LL_NET_BIND_TCP    (1ULL << 0) /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL        (1ULL << 1)

/* The rights that apply to a file that is not a folder. */
#define LL_FS_FILE (LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | \
	LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;             /* ABI 6 */
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

int
sandbox_landlock_abi(void)
{
	long r = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LL_CREATE_RULESET_VERSION);

	return r > 0 ? (int)r : 0;
}

static uint64_t
ll_fs_all(int abi)
{
	uint64_t a = (1ULL << 13) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */

	if (abi >= 2)
		a |= LL_FS_REFER;
	if (abi >= 3)
		a |= LL_FS_TRUNCATE;
	if (abi >= 5)
		a |= LL_FS_IOCTL_DEV;
	return a;
}

static int
ll_path_rule(int ruleset, int abi, const struct sandbox_path *p)
{
	struct ll_path_beneath_attr pb;
	struct stat st;
	uint64_t allow = 0;
	int fd = p->fd, r, e;

	if (p->path != NULL &&
	    (fd = open(p->path, O_PATH | O_CLOEXEC)) == -1)
		return errno == ENOENT || errno == ENOTDIR || errno == EACCES ?
		    0 : -1;
	if (fstat(fd, &st) != 0) {
		e = errno;
		if (p->path != NULL)
			close(fd);
		errno = e;
		return -1;
	}
	if (p->access & SANDBOX_FS_READ)
		allow |= LL_FS_READ_FILE | LL_FS_READ_DIR;
	if (p->access & SANDBOX_FS_WRITE)
		allow |= LL_FS_WRITE_FILE | LL_FS_MAKE_REG | LL_FS_REMOVE_FILE |
		    LL_FS_TRUNCATE;
	allow &= ll_fs_all(abi);
	if (!S_ISDIR(st.st_mode))
		allow &= LL_FS_FILE;
	pb.allowed_access = allow;
	pb.parent_fd = fd;
	r = allow == 0 ? 0 : (int)syscall(SYS_landlock_add_rule, ruleset,
	    LL_RULE_PATH_BENEATH, &pb, 0);
	e = errno;
	if (p->path != NULL)
		close(fd);
	errno = e;
	return r;
}

int
sandbox_landlock(const struct sandbox_path *paths, size_t npaths, int net,
    const uint16_t *ports, size_t nports)
{
	struct ll_ruleset_attr attr;
	size_t size;
	int abi = sandbox_landlock_abi(), rs, e;

	if (abi == 0)
		return 0;
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = ll_fs_all(abi);
	size = sizeof(attr.handled_access_fs);
	if (abi >= 4) {
		if (net)
			attr.handled_access_net = LL_NET_BIND_TCP |
			    LL_NET_CONNECT_TCP;
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	if ((rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0)) ==
	    -1)
		return -1;
	for (size_t i = 0; i < npaths; i++)
		if (ll_path_rule(rs, abi, &paths[i]) != 0)
			goto fail;
	for (size_t i = 0; abi >= 4 && net && i < nports; i++) {
		struct ll_net_port_attr np = { LL_NET_CONNECT_TCP, ports[i] };

		if (syscall(SYS_landlock_add_rule, rs, LL_RULE_NET_PORT, &np,
		    0) != 0)
			goto fail;
	}
	if (syscall(SYS_landlock_restrict_self, rs, 0) != 0)
		goto fail;
	close(rs);
	return abi;
fail:
	e = errno;
	close(rs);
	errno = e;
	return -1;
}

/* ---- refused calls ------------------------------------------------------- */

#define SIGSYS_NAMES 512

static const char *sigsys_ident = "beiand";
static char *sigsys_names[SIGSYS_NAMES];

static size_t
sigsys_put(char *buf, size_t o, size_t size, const char *s)
{
	while (*s != '\0' && o + 1 < size)
		buf[o++] = *s++;
	return o;
}

static size_t
sigsys_num(char *buf, size_t o, size_t size, long v)
{
	char tmp[24];
	size_t n = 0;
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0 && n < sizeof(tmp));
	if (v < 0 && o + 1 < size)
		buf[o++] = '-';
	while (n > 0 && o + 1 < size)
		buf[o++] = tmp[--n];
	return o;
}

/* Async-signal-safe: write(2) and the call that ends the process. */
static void
sigsys_handler(int sig, siginfo_t *si, void *uc)
{
	char line[200];
	size_t o = 0;
	int nr = si->si_syscall;

	(void)sig;
	(void)uc;
	o = sigsys_put(line, o, sizeof(line), sigsys_ident);
	o = sigsys_put(line, o, sizeof(line), "[");
	o = sigsys_num(line, o, sizeof(line), (long)syscall(SYS_getpid));
	o = sigsys_put(line, o, sizeof(line), "]: sandbox: refused system "
	    "call ");
	if (nr >= 0 && nr < SIGSYS_NAMES && sigsys_names[nr] != NULL)
		o = sigsys_put(line, o, sizeof(line), sigsys_names[nr]);
	else {
		o = sigsys_put(line, o, sizeof(line), "#");
		o = sigsys_num(line, o, sizeof(line), nr);
	}
	o = sigsys_put(line, o, sizeof(line), "\n");
	(void)!write(2, line, o);
	/*
	 * SA_RESETHAND made SIGSYS's action the default again; it is blocked
	 * while this runs and is delivered, ending the process, as soon as
	 * the handler returns.
	 */
	(void)syscall(SYS_tgkill, (pid_t)syscall(SYS_getpid),
	    (pid_t)syscall(SYS_gettid), SIGSYS);
}

void
sandbox_sigsys_install(const char *ident)
{
	struct sigaction sa;

	sigsys_ident = ident;
	for (int nr = 0; nr < SIGSYS_NAMES; nr++)
		if (sigsys_names[nr] == NULL)
			/* kept for the life of the process */
			sigsys_names[nr] = seccomp_syscall_resolve_num_arch(
			    SCMP_ARCH_NATIVE, nr);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGSYS, &sa, NULL);
}
