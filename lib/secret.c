/*
 * secret: see include/lib/secret.h.
 *
 * The file is the operator's, but what is read from it is a password:
 * it is refused when others could read it too (mode 0600 or 0400 is what
 * a careful operator gives), it never reaches a message, and every copy
 * this file makes is wiped.  systemd's LoadCredential= gives the
 * service's user a file of root's through an ACL entry naming that user,
 * which shows as group bits (the ACL mask): such a file is taken when
 * the ACL grants nothing to any group.
 */
#include <sys/stat.h>
#include <sys/xattr.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/secret.h"

static int
secret_fail(char *buf, size_t size, char *err, size_t errsize,
    const char *path, const char *why)
{
	explicit_bzero(buf, size);
	if (err != NULL && errsize > 0)
		snprintf(err, errsize, "%s: %s", path, why);
	return -1;
}

/* POSIX ACL as Linux stores it (system.posix_acl_access): a version
 * word, then entries of tag, permissions and id, little-endian. */
#define ACL_XATTR_VERSION 2
#define ACL_TAG_GROUP_OBJ 0x04
#define ACL_TAG_GROUP     0x08

/*
 * The group bits of fd's mode come from an ACL that grants nothing to a
 * group (a named user, as systemd's credentials have, is the owner's
 * choice).  1 such an ACL, 0 not (no ACL, or one that lets a group in).
 */
static int
secret_acl_groupless(int fd)
{
	unsigned char acl[4 + 8 * 32];
	ssize_t n = fgetxattr(fd, "system.posix_acl_access", acl, sizeof(acl));

	if (n < 4 || (n - 4) % 8 != 0 || acl[0] != ACL_XATTR_VERSION ||
	    acl[1] != 0 || acl[2] != 0 || acl[3] != 0)
		return 0;
	for (ssize_t i = 4; i < n; i += 8) {
		unsigned tag = acl[i] | (unsigned)acl[i + 1] << 8;
		unsigned perm = acl[i + 2] | (unsigned)acl[i + 3] << 8;

		if ((tag == ACL_TAG_GROUP_OBJ || tag == ACL_TAG_GROUP) &&
		    perm != 0)
			return 0;
	}
	return 1;
}

int
secret_file_read(const char *path, char *buf, size_t size, char *err,
    size_t errsize)
{
	struct stat st;
	char why[128];
	size_t len = 0;
	ssize_t r;
	int fd;

	if (size < 2)
		return secret_fail(buf, size, err, errsize, path,
		    "no room for a password");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return secret_fail(buf, size, err, errsize, path,
		    strerror(errno));
	if (fstat(fd, &st) == -1) {
		int e = errno;

		close(fd);
		return secret_fail(buf, size, err, errsize, path,
		    strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return secret_fail(buf, size, err, errsize, path,
		    "not a regular file");
	}
	if ((st.st_mode & 007) != 0 ||
	    ((st.st_mode & 070) != 0 && !secret_acl_groupless(fd))) {
		close(fd);
		snprintf(why, sizeof(why), "mode %04o lets its group or others "
		    "at the password; chmod 600 it",
		    (unsigned)(st.st_mode & 07777));
		return secret_fail(buf, size, err, errsize, path, why);
	}
	/* One byte more than fits: a longer file is refused, not cut. */
	while (len < size) {
		r = read(fd, buf + len, size - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			int e = errno;

			close(fd);
			return secret_fail(buf, size, err, errsize, path,
			    strerror(e));
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len == size) {
		snprintf(why, sizeof(why), "longer than %zu bytes", size - 1);
		return secret_fail(buf, size, err, errsize, path, why);
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len == 0)
		return secret_fail(buf, size, err, errsize, path, "empty");
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)buf[i];

		if (ch < 0x20 || ch == 0x7f)
			return secret_fail(buf, size, err, errsize, path,
			    "a control byte, a NUL or a second line in the "
			    "password");
	}
	buf[len] = '\0';
	explicit_bzero(buf + len + 1, size - len - 1);
	return 0;
}
