/*
 * worker: the worker program's confinement, applied after its set-up is
 * read and before its first job (worker_child.c calls it), after
 * OpenSSH's sandbox-seccomp-filter.c.
 *
 * Hostile input, from the first job on: uploads, mails, photos.  From
 * then the worker may only use what it holds: its socket (fd 3), the
 * descriptors that jobs bring, stderr for its last words, its memory,
 * clocks.  It refuses to:
 *   - open, stat by path, create or remove any file (Landlock: no path
 *     allowed at all; seccomp: no open/openat/stat/... in its list);
 *   - make a socket, connect, bind, send anywhere but its socket
 *     (seccomp; Landlock refuses TCP bind and connect from ABI 4);
 *   - execute anything, map memory executable, ptrace, signal another
 *     process (seccomp; Landlock scopes signals from ABI 6), fork;
 *   - hold a capability or gain one (all sets emptied, no_new_privs).
 * Every call outside the allow-list below traps: the worker writes
 * "beiand-worker[PID]: sandbox: refused system call NAME" to stderr and
 * dies of SIGSYS (lib/sandbox.c), so the job is handled as a crash: its
 * upload retried once, then quarantined.  A refused call never returns
 * an error the code could step over: in a process parsing hostile bytes
 * an unexpected call means something is wrong.
 *
 * What parsing needs from the file system is loaded before: the time
 * zone, libxml2's schemas (built in), the public suffix list, every
 * iconv converter the parsers may open (kept open: glibc unloads a
 * module with its last converter and could not load it again).
 * libarchive's readers, zlib and liblzma are linked in and read no file;
 * the worker stays in the C locale, which needs none.  After the filter
 * is on, the converters are opened once more as a check: a library that
 * would need a file after all stops the worker at start, not in the
 * middle of a job.
 *
 * Sanitizer builds (BEIAND_SANITIZE, `make asan`) widen the filter by
 * the calls AddressSanitizer's and UBSan's reports make (open among
 * them: there an open is refused by Landlock, with an error) and let
 * the worker read /proc: an exception compiled into those builds only.
 *
 * Limits (per worker):
 *   RLIMIT_AS     max(1 GiB, 4 × archive_max_unpacked + archive_max_bytes
 *                 + 256 MiB): the upload, its unpacked members, the
 *                 frame and libxml2's trees fit with room to spare at the
 *                 defaults (64 MiB / 256 MiB), a runaway does not.  Not
 *                 set under AddressSanitizer, whose shadow memory needs
 *                 terabytes of address space.
 *   RLIMIT_CPU    soft limit raised before each job to the CPU time used
 *                 so far + WORKER_JOB_CPU seconds: SIGXCPU ends a job
 *                 that spins.
 *   RLIMIT_NOFILE 16; RLIMIT_CORE 0.  No RLIMIT_FSIZE: the only
 *                 descriptor it may write besides its socket is stderr
 *                 (its last words, which may be a log file); it can open
 *                 no file, and a job's files come read-only or sealed.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/config.h"
#include "lib/sandbox.h"
#include "parsers/mime.h"
#include "parsers/rules.h"
#include "parsers/filing.h"
#include "worker/worker_int.h"

#if defined(__SANITIZE_ADDRESS__)
#define WORKER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WORKER_ASAN 1
#endif
#endif
#ifndef WORKER_ASAN
#define WORKER_ASAN 0
#endif

#define WORKER_NOFILE    16
#define WORKER_AS_MIN    (1ULL << 30)
#define WORKER_AS_SLACK  (256ULL << 20)
#define WORKER_ICONV_MAX 16

/* Converters kept open for the life of the worker (see above). */
static iconv_t worker_iconv[WORKER_ICONV_MAX];
static const char *worker_iconv_name[WORKER_ICONV_MAX];
static size_t worker_niconv;

static rlim_t
worker_as_limit(const struct input_limits *lim)
{
	uint64_t u = lim->archive_max_unpacked, m;

	if (u > (UINT64_MAX - WORKER_AS_SLACK) / 8 ||
	    lim->archive_max_bytes > UINT64_MAX / 4)
		return RLIM_INFINITY;
	m = 4 * u + lim->archive_max_bytes + WORKER_AS_SLACK;
	if (m < WORKER_AS_MIN)
		m = WORKER_AS_MIN;
	return (rlim_t)m;
}

/* Lower a limit to v (never above the hard limit it was started with). */
static void
worker_setrlimit(int res, rlim_t v, const char *what)
{
	struct rlimit rl;

	if (getrlimit(res, &rl) != 0)
		worker_die(what);
	if (rl.rlim_max != RLIM_INFINITY && (v == RLIM_INFINITY ||
	    v > rl.rlim_max))
		v = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = v;
	if (setrlimit(res, &rl) != 0)
		worker_die(what);
}

/* Everything parsing would otherwise load from a file on first use. */
static void
worker_preload(void)
{
	const char *names[WORKER_ICONV_MAX];
	size_t n = mime_iconv_names(names, WORKER_ICONV_MAX);

	/*
	 * libarchive reads zip times as local time (mktime).  Without TZ,
	 * glibc looks at /etc/localtime again on every call; with TZ set it
	 * reads its zone once, here.
	 */
	if (getenv("TZ") == NULL && setenv("TZ", ":/etc/localtime", 1) != 0)
		worker_die("setenv(TZ)");
	tzset();
	xmldoc_init();
	if (rules_init() != 0) {
		errno = ENOENT;
		worker_die("no public suffix list");
	}
	for (size_t i = 0; i < n; i++) {
		iconv_t cd = iconv_open("UTF-8", names[i]);

		/* One this libc lacks is as absent without the sandbox. */
		if (cd == (iconv_t)-1)
			continue;
		worker_iconv[worker_niconv] = cd;
		worker_iconv_name[worker_niconv++] = names[i];
	}
}

/* Under the filter, the converters the parsers open must still open. */
static void
worker_preload_check(void)
{
	for (size_t i = 0; i < worker_niconv; i++) {
		iconv_t cd = iconv_open("UTF-8", worker_iconv_name[i]);

		if (cd == (iconv_t)-1) {
			char what[96];

			snprintf(what, sizeof(what), "iconv %s under the "
			    "sandbox", worker_iconv_name[i]);
			worker_die(what);
		}
		iconv_close(cd);
	}
}

static void
worker_rule(scmp_filter_ctx ctx, int nr, unsigned n,
    const struct scmp_arg_cmp *args)
{
	if (seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, args) != 0) {
		errno = EINVAL;
		worker_die("seccomp_rule_add");
	}
}

/*
 * The calls parsing needs once the set-up is done.  Everything else
 * traps (lib/sandbox.c: a line on stderr, then SIGSYS).
 */
static void
worker_seccomp(void)
{
	static const int allow[] = {
		/* its descriptors: the socket, a job's files, stderr */
		SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(readv),
		SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(recvmsg),
		SCMP_SYS(sendmsg), SCMP_SYS(close), SCMP_SYS(fstat),
		SCMP_SYS(lseek),
		/* memory */
		SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap),
		SCMP_SYS(madvise),
		/* clocks, its own CPU budget (prlimit64: below) */
		SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
		SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(getrusage),
		/* the end, signals to itself (abort), locks */
		SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn),
		SCMP_SYS(restart_syscall), SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(futex),
		SCMP_SYS(getrandom),
	};
#ifdef BEIAND_SANITIZE
	/* AddressSanitizer's and UBSan's reports: /proc/self/maps (/proc
	 * is readable: the Landlock rule of worker_sandbox_enter), the
	 * executable's name, whether stderr is a terminal.  The worker
	 * ends by _exit(): LeakSanitizer never runs in it. */
	static const int allow_san[] = {
		SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(readlink),
		SCMP_SYS(ioctl),
	};
#endif
	scmp_filter_ctx ctx;
	pid_t self = getpid();

	if ((ctx = seccomp_init(SCMP_ACT_TRAP)) == NULL) {
		errno = ENOMEM;
		worker_die("seccomp_init");
	}
	for (size_t i = 0; i < sizeof(allow) / sizeof(allow[0]); i++)
		worker_rule(ctx, allow[i], 0, NULL);
	{
		/* never executable memory */
		struct scmp_arg_cmp noexec =
		    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
		/* fstat() is fstatat(fd, "", AT_EMPTY_PATH): no path */
		struct scmp_arg_cmp empty =
		    SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH);
		/* its own limits only (RLIMIT_CPU per job) */
		struct scmp_arg_cmp own = SCMP_A0(SCMP_CMP_EQ, 0);
		/* abort() signals itself, no one else */
		struct scmp_arg_cmp tg = SCMP_A0(SCMP_CMP_EQ, (uint64_t)self);

		worker_rule(ctx, SCMP_SYS(mmap), 1, &noexec);
		worker_rule(ctx, SCMP_SYS(mprotect), 1, &noexec);
		worker_rule(ctx, SCMP_SYS(newfstatat), 1, &empty);
		worker_rule(ctx, SCMP_SYS(prlimit64), 1, &own);
		worker_rule(ctx, SCMP_SYS(tgkill), 1, &tg);
	}
#ifdef BEIAND_SANITIZE
	for (size_t i = 0; i < sizeof(allow_san) / sizeof(allow_san[0]); i++)
		worker_rule(ctx, allow_san[i], 0, NULL);
#endif
	if (seccomp_load(ctx) != 0) {
		seccomp_release(ctx);
		errno = EPERM;
		worker_die("seccomp_load");
	}
	seccomp_release(ctx);
}

int
worker_sandbox_enter(const struct config *cf)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT,
		SIGCHLD, SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU };
#ifdef BEIAND_SANITIZE
	/* what the sanitizers read while they report */
	static const struct sandbox_path san_read[] = {
		{ "/proc", -1, SANDBOX_FS_READ },
	};
	const struct sandbox_path *paths = san_read;
	size_t npaths = 1;
#else
	const struct sandbox_path *paths = NULL;
	size_t npaths = 0;
#endif
	int abi;

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	signal(SIGXFSZ, SIG_IGN);

	worker_preload();

	worker_setrlimit(RLIMIT_CORE, 0, "setrlimit(RLIMIT_CORE)");
	worker_setrlimit(RLIMIT_NOFILE, WORKER_NOFILE,
	    "setrlimit(RLIMIT_NOFILE)");
	if (!WORKER_ASAN)
		worker_setrlimit(RLIMIT_AS, worker_as_limit(&cf->limits),
		    "setrlimit(RLIMIT_AS)");

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		worker_die("prctl(PR_SET_NO_NEW_PRIVS)");
	if (sandbox_caps_drop() != 0) {
		errno = EPERM;
		worker_die("a capability is left");
	}
	if ((abi = sandbox_landlock(paths, npaths, 1, NULL, 0)) == -1)
		worker_die("landlock");
	sandbox_sigsys_install(WORKER_PROGRAM);
	worker_seccomp();
	worker_preload_check();
	return abi;
}
