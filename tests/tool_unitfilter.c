/*
 * tool_unitfilter: run a program under a seccomp filter shaped like the
 * shipped unit's where it matters to the helpers' sandbox: everything
 * allowed but capset, which fails with EPERM (systemd's ~@privileged with
 * SystemCallErrorNumber=EPERM).  For tests/it_sandbox.sh.
 *
 *   tool_unitfilter PROGRAM [ARG...]
 */
#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <seccomp.h>

int
main(int argc, char **argv)
{
	scmp_filter_ctx ctx;

	if (argc < 2) {
		fprintf(stderr, "usage: tool_unitfilter PROGRAM [ARG...]\n");
		return 2;
	}
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(capset),
	    0) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    seccomp_load(ctx) != 0) {
		perror("tool_unitfilter: seccomp");
		return 1;
	}
	seccomp_release(ctx);
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
