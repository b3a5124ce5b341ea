/*
 * imap: the fetcher program, beiand-imap — from its exec to its loop
 * (imap_fetch.c): its settings, then its confinement.  Started by
 * imap_fetcher_start() (imap.c), never as root: under root the parent
 * starts it as the user beiand (else nobody) and hands it its inbox
 * folder, which that user owns.
 *
 * Hostile input, once it connects: everything the IMAP server sends,
 * parsed by libetpan and GnuTLS.  Before it connects the fetcher makes
 * itself unable to use much more than its job needs:
 *   - it holds no secret but the IMAP password (a fresh exec: none of
 *     the daemon's memory; its settings are imap_settings.c's fields,
 *     the password among them: the daemon reads [imap] password_file,
 *     the fetcher opens no password file);
 *   - no capability in any set, no_new_privs;
 *   - Landlock (best effort by the kernel's ABI): files only in its
 *     inbox folder (read and list it — inbox_max counts its messages —,
 *     write, create, rename, remove; its free space, for min_free, is an
 *     fstatvfs of the folder's descriptor) and, read-only, the
 *     trust anchors ([imap] ca_file, the system store and p11-kit's
 *     modules), the resolver's files (/etc/resolv.conf, hosts,
 *     nsswitch.conf, gai.conf, host.conf, services, ld.so.cache) and the
 *     system's libraries (the name service and PKCS #11 modules it may
 *     load); from ABI 4, TCP connects only to the server's port and to
 *     53 (DNS over TCP), no TCP bind; from ABI 6, no signal to another
 *     process, no abstract UNIX socket;
 *   - a seccomp filter refusing what a mail client never does: execve,
 *     ptrace and reading or writing another process's memory, fork,
 *     mounting, modules, kexec, bpf, perf, keyrings, namespaces,
 *     io_uring, changing credentials or the clock, sockets other than
 *     UNIX, IPv4, IPv6 and netlink.  A refused call writes
 *     "beiand-imap[PID]: sandbox: refused system call NAME" to stderr
 *     and ends the fetcher with SIGSYS; the daemon starts another after
 *     its backoff and logs that the fetcher stopped.
 * Sanitizer builds may also read /proc: their reports need it.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/config.h"
#include "lib/log.h"
#include "lib/sandbox.h"
#include "lib/xmalloc.h"
#include "mail/imap.h"
#include "mail/imap_int.h"

#define IMAP_SOCK_FD  3
#define IMAP_INBOX_FD 4

/* Read-only for the TLS trust anchors and the name service. */
static const char *const imap_read_paths[] = {
	"/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/etc/pkcs11",
	"/etc/gnutls", "/usr/share/ca-certificates",
	"/usr/local/share/ca-certificates", "/usr/share/pki",
	"/usr/share/p11-kit", "/etc/resolv.conf", "/run/systemd/resolve",
	"/etc/hosts", "/etc/nsswitch.conf", "/etc/gai.conf", "/etc/host.conf",
	"/etc/services", "/etc/ld.so.cache", "/usr/lib", "/lib", "/lib64",
	"/usr/lib64",
};
#define NREAD (sizeof(imap_read_paths) / sizeof(imap_read_paths[0]))

/* Calls a mail client never makes. */
static const char *const imap_refused[] = {
	"execve", "execveat", "fork", "vfork", "ptrace", "process_vm_readv",
	"process_vm_writev", "kcmp", "pidfd_getfd", "kexec_load",
	"kexec_file_load", "init_module", "finit_module", "delete_module",
	"mount", "umount2", "pivot_root", "chroot", "move_mount",
	"fsopen", "fsmount", "open_tree", "swapon", "swapoff", "reboot",
	"bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key",
	"request_key", "unshare", "setns", "open_by_handle_at",
	"name_to_handle_at", "mknod", "mknodat", "personality", "acct",
	"iopl", "ioperm", "quotactl", "syslog", "uselib", "vhangup",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"sethostname", "setdomainname", "lookup_dcookie", "fanotify_init",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	"setuid", "setgid", "setreuid", "setregid", "setresuid",
	"setresgid", "setgroups", "setfsuid", "setfsgid", "capset",
};

static int
imap_trap(scmp_filter_ctx ctx, const char *name, uint32_t action,
    unsigned n, const struct scmp_arg_cmp *args)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return 0; /* not a call of this architecture */
	return seccomp_rule_add_array(ctx, action, nr, n, args) != 0 ? -1 : 0;
}

static int
imap_seccomp(char *err, size_t errsize)
{
	scmp_filter_ctx ctx;
	int bad = 0;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		snprintf(err, errsize, "seccomp_init failed");
		return -1;
	}
	for (size_t i = 0; i < sizeof(imap_refused) / sizeof(imap_refused[0]);
	    i++)
		bad |= imap_trap(ctx, imap_refused[i], SCMP_ACT_TRAP, 0, NULL);
	{
		/* a thread, never a new process */
		struct scmp_arg_cmp proc =
		    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0);
		struct scmp_arg_cmp fam;

		bad |= imap_trap(ctx, "clone", SCMP_ACT_TRAP, 1, &proc);
		/* its flags are out of a filter's reach: libc falls back
		 * to clone() */
		bad |= imap_trap(ctx, "clone3", SCMP_ACT_ERRNO(ENOSYS), 0,
		    NULL);
		/* sockets: AF_UNIX (1), AF_INET (2), AF_INET6 (10),
		 * AF_NETLINK (16) only */
		for (uint64_t af = 0; af < 16; af++) {
			if (af == AF_UNIX || af == AF_INET || af == AF_INET6)
				continue;
			fam = SCMP_A0(SCMP_CMP_EQ, af);
			bad |= imap_trap(ctx, "socket", SCMP_ACT_TRAP, 1,
			    &fam);
		}
		fam = SCMP_A0(SCMP_CMP_GT, AF_NETLINK);
		bad |= imap_trap(ctx, "socket", SCMP_ACT_TRAP, 1, &fam);
	}
	if (bad || seccomp_load(ctx) != 0) {
		seccomp_release(ctx);
		snprintf(err, errsize, "seccomp: %s", bad ? "a rule is refused"
		    : "the filter cannot be loaded");
		return -1;
	}
	seccomp_release(ctx);
	return 0;
}

int
imap_confine(const struct config *cf, int inbox_fd, const char *ident,
    char *err, size_t errsize)
{
	struct sandbox_path paths[NREAD + 3];
	struct imap_url u;
	uint16_t ports[2];
	size_t n = 0;
	int abi;

	if (imap_url_parse(cf->imap_url, &u, err, errsize) == -1)
		return -1;
	ports[0] = u.port;
	ports[1] = 53;
	imap_url_free(&u);

	/* log lines carry local times: the zone read once, now */
	if (getenv("TZ") == NULL && setenv("TZ", ":/etc/localtime", 1) != 0) {
		snprintf(err, errsize, "setenv(TZ): %s", strerror(errno));
		return -1;
	}
	tzset();

	if (sandbox_caps_drop() != 0) {
		snprintf(err, errsize, "a capability is left");
		return -1;
	}
	/* set by its spawn already (lib/spawn.c); beianctl probe sets it */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errsize, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (inbox_fd != -1) {
		paths[n].path = NULL;
		paths[n].fd = inbox_fd;
		paths[n++].access = SANDBOX_FS_READ | SANDBOX_FS_WRITE;
	}
	if (cf->imap_ca_file != NULL && *cf->imap_ca_file != '\0') {
		paths[n].path = cf->imap_ca_file;
		paths[n].fd = -1;
		paths[n++].access = SANDBOX_FS_READ;
	}
	for (size_t i = 0; i < NREAD; i++) {
		paths[n].path = imap_read_paths[i];
		paths[n].fd = -1;
		paths[n++].access = SANDBOX_FS_READ;
	}
#ifdef BEIAND_SANITIZE
	paths[n].path = "/proc";
	paths[n].fd = -1;
	paths[n++].access = SANDBOX_FS_READ;
#endif
	if ((abi = sandbox_landlock(paths, n, 1, ports, 2)) == -1) {
		snprintf(err, errsize, "landlock: %s", strerror(errno));
		return -1;
	}
	sandbox_sigsys_install(ident);
	if (imap_seccomp(err, errsize) == -1)
		return -1;
	return abi;
}

/* Everything between the settings and the first connection. */
static void
imap_sandbox(const struct config *cf)
{
	char err[256];
	int abi;

	if ((abi = imap_confine(cf, IMAP_INBOX_FD, IMAP_PROGRAM, err,
	    sizeof(err))) == -1) {
		log_err("imap: fetcher: %s", err);
		_exit(1);
	}
	log_info("imap: fetcher pid %ld sandboxed (seccomp; Landlock ABI %d%s)",
	    (long)getpid(), abi, abi == 0 ? ": none on this kernel" : "");
}

int
imap_program_main(int argc, char **argv)
{
	struct imap_settings set;
	unsigned char *buf;
	struct stat st;
	ssize_t r;

	if (argc != 1 || fstat(IMAP_SOCK_FD, &st) != 0 ||
	    !S_ISSOCK(st.st_mode) || fstat(IMAP_INBOX_FD, &st) != 0 ||
	    !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: a helper of beiand, started by it (it "
		    "takes its work on descriptors %d and %d)\n",
		    argv[0] != NULL ? argv[0] : IMAP_PROGRAM, IMAP_SOCK_FD,
		    IMAP_INBOX_FD);
		return 2;
	}
	/* the daemon may go at any time: a write to it must not kill */
	signal(SIGPIPE, SIG_IGN);
	buf = xmalloc(IMAP_SETTINGS_MAX);
	do
		r = recv(IMAP_SOCK_FD, buf, IMAP_SETTINGS_MAX, MSG_TRUNC);
	while (r == -1 && errno == EINTR);
	if (r <= 0 || r > IMAP_SETTINGS_MAX ||
	    imap_settings_decode(buf, (size_t)r, &set) == -1) {
		fprintf(stderr, "%s: its settings do not decode (beiand and "
		    "%s of different builds?)\n", IMAP_PROGRAM, IMAP_PROGRAM);
		return 1;
	}
	explicit_bzero(buf, IMAP_SETTINGS_MAX);
	free(buf);
	log_init_sink("beiand", (enum log_sink)set.log_sink, set.log_verbose);
	imap_sandbox(set.cf);
	imap_child_main(&set, IMAP_INBOX_FD, IMAP_SOCK_FD);
}
