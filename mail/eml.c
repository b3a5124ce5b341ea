/*
 * eml: messages written as files, atomically and never overwritten.
 *
 * The name comes from the Message-ID, which beiand makes itself, but it
 * is still reduced to a safe alphabet: no '/', no leading '.', nothing a
 * shell or a directory listing would trip on.  The file appears whole or
 * not at all (temporary name, fsync, rename); an existing file is never
 * replaced, so a crash-and-resend is recognised instead of hidden.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/eml.h"

#define EML_NAME_MAX 200

int
eml_name(const char *message_id, char *buf, size_t size)
{
	const char *s = message_id, *e;
	size_t n, i;

	if (s == NULL)
		return -1;
	if (*s == '<')
		s++;
	if ((e = strrchr(s, '@')) == NULL && (e = strchr(s, '>')) == NULL)
		e = s + strlen(s);
	n = (size_t)(e - s);
	if (n == 0)
		return -1;
	if (n > EML_NAME_MAX)
		n = EML_NAME_MAX;
	if (size <= n)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '+' ||
		    c == '_' || (c == '.' && i > 0))
			buf[i] = (char)c;
		else
			buf[i] = '_';
	}
	buf[n] = '\0';
	return 0;
}

/* 1 when the regular file at path holds exactly msg, 0 when it differs,
 * -1 on error. */
static int
same_bytes(const char *path, const void *msg, size_t len)
{
	unsigned char chunk[8192];
	const unsigned char *m = msg;
	struct stat st;
	size_t off = 0;
	ssize_t r;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto out;
	if (!S_ISREG(st.st_mode) || (uintmax_t)st.st_size != (uintmax_t)len) {
		rc = 0;
		goto out;
	}
	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (r == 0)
			break;
		if ((size_t)r > len - off || memcmp(chunk, m + off, (size_t)r)) {
			rc = 0;
			goto out;
		}
		off += (size_t)r;
	}
	rc = off == len;
out:
	close(fd);
	return rc;
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
fsync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Put tmp in place as final unless final exists: 0, or -1 (errno). */
static int
link_noreplace(const char *tmp, const char *final)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* a filesystem without RENAME_NOREPLACE: link is just as strict */
	if (link(tmp, final) == -1)
		return -1;
	unlink(tmp);
	return 0;
}

int
eml_write(const char *dir, const char *message_id, const void *msg,
    size_t len, char *path, size_t pathsize)
{
	return eml_write_flags(dir, message_id, msg, len, path, pathsize, 0);
}

int
eml_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd == -1)
		return -1;
	rc = syncfs(fd);
	close(fd);
	return rc;
}

int
eml_write_flags(const char *dir, const char *message_id, const void *msg,
    size_t len, char *path, size_t pathsize, int flags)
{
	int nosync = (flags & EML_NOSYNC) != 0;

	char name[EML_NAME_MAX + 1], final[4096], tmp[4096];
	uint32_t rnd;
	int fd = -1, n, attempt, same, saved;

	if (eml_name(message_id, name, sizeof(name)) == -1) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(final, sizeof(final), "%s/%s.eml", dir, name);
	if (n < 0 || (size_t)n >= sizeof(final)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (path != NULL && pathsize > 0)
		snprintf(path, pathsize, "%s", final);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return -1;

	if ((same = same_bytes(final, msg, len)) == 1)
		return 1;
	if (same == 0) {
		errno = EEXIST;
		return -1;
	}
	if (errno != ENOENT)
		return -1;

	for (attempt = 0; attempt < 16; attempt++) {
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint32_t)getpid() ^ (uint32_t)attempt;
		n = snprintf(tmp, sizeof(tmp), "%s/.%s.%08x.tmp", dir, name,
		    (unsigned)rnd);
		if (n < 0 || (size_t)n >= sizeof(tmp)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1)
		return -1;
	if (write_all(fd, msg, len) == -1 || (!nosync && fsync(fd) == -1))
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (link_noreplace(tmp, final) == -1) {
		saved = errno;
		unlink(tmp);
		/* someone wrote it meanwhile: same rules as above */
		if (saved == EEXIST && same_bytes(final, msg, len) == 1)
			return 1;
		errno = saved;
		return -1;
	}
	if (!nosync && fsync_dir(dir) == -1)
		return -1;
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}
