/*
 * sandbox: the confinement the helper programs put themselves in before
 * they touch hostile bytes (beiand-worker: uploads and mails; beiand-imap:
 * an IMAP server's replies), after OpenSSH's privilege separation.
 *
 * The pieces, in the order a helper applies them (each program decides
 * its own rules: worker/worker_child.c, mail/imap_fetch.c):
 *   - capabilities: none left in any set (sandbox_caps_drop);
 *   - Landlock (kernel 5.13+), best effort by the ABI the kernel answers:
 *     file-system accesses limited to the paths given (none at all for a
 *     parser), TCP connects to the ports given (ABI 4+), signals and
 *     abstract UNIX sockets kept inside the process (ABI 6+);
 *   - a seccomp-bpf filter built with libseccomp by the program, whose
 *     refused calls are SCMP_ACT_TRAP: sandbox_sigsys_install() makes a
 *     refused call print "IDENT[PID]: sandbox: refused system call NAME"
 *     on stderr and end the process with SIGSYS, which its parent reports.
 *
 * Every function here is for a single-threaded process (Landlock and
 * seccomp apply to the calling thread and what it starts afterwards).
 */
#ifndef BEIAND_SANDBOX_H
#define BEIAND_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

/*
 * Empty every capability set: ambient, bounding (where CAP_SETPCAP
 * allows: with no_new_privs set nothing can be gained from it anyway),
 * effective, permitted, inheritable.  0 when none is left in the
 * effective, permitted and ambient sets (the inheritable set alone, when
 * a service manager's filter refuses capset, gives nothing: without
 * ambient or file capabilities it never reaches the permitted set);
 * -1 otherwise.
 */
int sandbox_caps_drop(void);

/* Landlock's ABI version on this kernel; 0 when it has none (or a
 * seccomp filter of the service manager refuses to say). */
int sandbox_landlock_abi(void);

/* What a path rule allows (beneath it, for a folder). */
#define SANDBOX_FS_READ  0x1 /* read files, list folders */
#define SANDBOX_FS_WRITE 0x2 /* write, create, truncate and remove files */

struct sandbox_path {
	const char *path; /* opened here (O_PATH); one that is absent is skipped */
	int fd;           /* or an open descriptor of it (path NULL) */
	unsigned access;  /* SANDBOX_FS_* */
};

/*
 * Restrict this process with Landlock: every file-system access the ABI
 * knows is refused but those of paths[] (none: no file at all); when net,
 * every TCP bind and connect is refused but connects to ports[] (ABI 4+);
 * signals to processes outside this one and abstract UNIX sockets are
 * refused (ABI 6+).  no_new_privs must be set.  Returns the ABI used (0:
 * the kernel has no Landlock, nothing was done) or -1 with errno.
 */
int sandbox_landlock(const struct sandbox_path *paths, size_t npaths,
    int net, const uint16_t *ports, size_t nports);

/*
 * Install the SIGSYS handler that reports a call refused by a filter
 * whose action is SCMP_ACT_TRAP and ends the process with SIGSYS.  ident
 * (kept, not copied) names the program in the line.  Call before the
 * filter is loaded (it resolves system call names while it still may).
 */
void sandbox_sigsys_install(const char *ident);

#endif
