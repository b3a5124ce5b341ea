/*
 * secret: see include/lib/secret.h.
 *
 * The file is the operator's, but what is read from it is a password:
 * it is refused when others could read it too (mode 0600 or 0400 is what
 * systemd's LoadCredential= and a careful operator give), it never
 * reaches a message, and every copy this file makes is wiped.
 */
#include <sys/stat.h>

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
	if ((st.st_mode & 077) != 0) {
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
