/*
 * caps: see include/lib/caps.h.  The raw system calls, so that no
 * library (libcap) is needed for the one thing done here.
 */
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "lib/caps.h"

int
caps_drop_all(void)
{
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	/* ambient first: they would otherwise survive an execve */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		return -1;
	memset(&h, 0, sizeof(h));
	memset(d, 0, sizeof(d));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	h.pid = 0;
	return (int)syscall(SYS_capset, &h, d);
}
