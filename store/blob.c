/*
 * blob: see include/store/blob.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "store/blob.h"

/* Temporary names differ between threads and between calls. */
static unsigned long blob_seq;

int
blob_path(const char *state_dir, const char *sha256_hex, char *buf,
    size_t size)
{
	int n;

	if (state_dir == NULL || strlen(sha256_hex) != 64 ||
	    strspn(sha256_hex, "0123456789abcdef") != 64)
		return -1;
	n = snprintf(buf, size, "%s/store/%.2s/%s", state_dir, sha256_hex,
	    sha256_hex);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int
mkdir_0700(const char *path)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static int
fail(char *err, size_t errsize, const char *what)
{
	int e = errno;

	snprintf(err, errsize, "%s: %s", what, strerror(e));
	errno = e;
	return -1;
}

int
blob_put(const char *state_dir, const void *bytes, size_t len, int flags,
    unsigned char sha256_out[SHA256_LEN], int *created, char *err,
    size_t errsize)
{
	char path[4096], dir[4096], tmp[4200], sha256_hex[SHA256_HEX];
	const unsigned char *p = bytes;
	unsigned char d[SHA256_LEN];
	struct stat sb;
	int fd, n;

	if (created != NULL)
		*created = 0;
	/* The name is the hash of these very bytes, taken here: never a
	 * name someone else computed (a worker's answer is hostile).  So
	 * every blob is stored under its own hash, and one that is there
	 * with the same size need not be written again. */
	sha256(len > 0 ? bytes : "", len, d);
	if (sha256_out != NULL)
		memcpy(sha256_out, d, SHA256_LEN);
	sha256_to_hex(d, sha256_hex);
	if (blob_path(state_dir, sha256_hex, path, sizeof(path)) == -1) {
		errno = ENAMETOOLONG;
		return fail(err, errsize, "attachments: no state_dir, or a bad "
		    "name");
	}
	if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (uint64_t)sb.st_size == (uint64_t)len)
		return 0;
	n = snprintf(dir, sizeof(dir), "%s/store/%.2s", state_dir, sha256_hex);
	if (n < 0 || (size_t)n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return fail(err, errsize, "attachments");
	}
	n = snprintf(tmp, sizeof(tmp), "%s.%ld.%lu.tmp", path, (long)getpid(),
	    __atomic_add_fetch(&blob_seq, 1, __ATOMIC_RELAXED));
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return fail(err, errsize, "attachments");
	}
	/* The folders and a stale temporary file are dealt with when the
	 * first try says so, not looked for every time. */
	for (int tries = 0;; tries++) {
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (fd != -1 || tries == 2)
			break;
		if (errno == ENOENT) {
			char top[4200];

			snprintf(top, sizeof(top), "%s/store", state_dir);
			if (mkdir_0700(top) == -1 || mkdir_0700(dir) == -1)
				return fail(err, errsize, dir);
		} else if (errno == EEXIST)
			unlink(tmp);
		else
			break;
	}
	if (fd == -1)
		return fail(err, errsize, tmp);
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			fail(err, errsize, tmp);
			close(fd);
			unlink(tmp);
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	if ((!(flags & BLOB_NOSYNC) && fsync(fd) == -1) || close(fd) == -1) {
		fail(err, errsize, tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) == -1) {
		fail(err, errsize, path);
		unlink(tmp);
		return -1;
	}
	if (created != NULL)
		*created = 1;
	if (!(flags & BLOB_NOSYNC) &&
	    (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

int
blob_read(const char *path, unsigned char **out, size_t *len)
{
	return blob_read_stat(path, out, len, NULL);
}

int
blob_read_stat(const char *path, unsigned char **out, size_t *len,
    struct stat *after)
{
	unsigned char *b = NULL;
	struct stat sb;
	size_t off = 0;
	ssize_t r;
	int fd, e;

	/* O_NONBLOCK: a FIFO must not hang the caller in open(2) */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) ==
	    -1)
		return -1;
	if (fstat(fd, &sb) == -1)
		goto bad;
	if (!S_ISREG(sb.st_mode) || (uintmax_t)sb.st_size >= SIZE_MAX) {
		errno = EINVAL;
		goto bad;
	}
	b = xmalloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size) {
		r = read(fd, b + off, (size_t)sb.st_size - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO; /* shrank underneath us */
			goto bad;
		}
		off += (size_t)r;
	}
	if (after != NULL && fstat(fd, after) == -1)
		goto bad;
	close(fd);
	b[off] = 0;
	*out = b;
	*len = off;
	return 0;
bad:
	e = errno;
	free(b);
	close(fd);
	errno = e;
	return -1;
}
