/*
 * secret: a password file is read whole, its line end dropped, and
 * refused (with a message that holds none of it) when others may read
 * it, when it is empty, too long, or holds control bytes.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/xattr.h>

#include "lib/secret.h"
#include "unit.h"

static void
put(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd != -1);
	if (fd == -1)
		return;
	CHECK(write(fd, data, len) == (ssize_t)len);
	close(fd);
	CHECK(chmod(path, mode) == 0);
}

UNIT_TEST(secret_file_read)
{
	static const struct {
		const char *data;
		size_t len;
		mode_t mode;
		const char *want;   /* the password, or NULL: refused */
		const char *why;    /* in the message */
	} rows[] = {
		{ "hunter2\n", 8, 0600, "hunter2", NULL },
		{ "hunter2", 7, 0400, "hunter2", NULL },
		{ "hunter2\r\n", 9, 0600, "hunter2", NULL },
		{ "p@ss word;#", 11, 0600, "p@ss word;#", NULL },
		{ "hunter2\n", 8, 0640, NULL, "mode 0640" },
		{ "hunter2\n", 8, 0604, NULL, "mode 0604" },
		{ "hunter2\n", 8, 0620, NULL, "mode 0620" },
		{ "", 0, 0600, NULL, "empty" },
		{ "\n", 1, 0600, NULL, "empty" },
		{ "hunter2\nsecond\n", 15, 0600, NULL, "second line" },
		{ "hun\0ter2", 8, 0600, NULL, "NUL" },
		{ "hunter2\n\n", 9, 0600, NULL, "second line" },
	};
	char dir[] = "/tmp/beiand-secret.XXXXXX", path[128], buf[SECRET_MAX];
	char err[256], big[SECRET_MAX + 1];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/pw", dir);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int r;

		put(path, rows[i].data, rows[i].len, rows[i].mode);
		err[0] = '\0';
		r = secret_file_read(path, buf, sizeof(buf), err, sizeof(err));
		if (rows[i].want != NULL) {
			CHECKM(r == 0, "row %zu: %s", i, err);
			CHECKM(r != 0 || strcmp(buf, rows[i].want) == 0,
			    "row %zu", i);
			continue;
		}
		CHECKM(r == -1, "row %zu", i);
		CHECKM(strstr(err, rows[i].why) != NULL, "row %zu: %s", i, err);
		CHECKM(strncmp(err, path, strlen(path)) == 0, "row %zu", i);
		/* the message never holds the password */
		CHECKM(strstr(err, "hunter") == NULL, "row %zu: %s", i, err);
		CHECKM(buf[0] == '\0', "row %zu: buffer not wiped", i);
	}
	/* longer than fits: refused, not cut */
	memset(big, 'x', sizeof(big));
	put(path, big, SECRET_MAX, 0600);
	CHECK(secret_file_read(path, buf, sizeof(buf), err, sizeof(err)) ==
	    -1);
	CHECK(strstr(err, "longer than") != NULL);
	put(path, big, SECRET_MAX - 1, 0600);
	CHECK(secret_file_read(path, buf, sizeof(buf), err, sizeof(err)) == 0);
	CHECK_INT(strlen(buf), SECRET_MAX - 1);
	/* systemd's credentials: root's file, 0400, and an ACL entry for the
	 * service's user (the mask shows as group bits): taken; an ACL
	 * entry for a group: refused */
	put(path, "hunter2\n", 8, 0600);
	{
		static const unsigned char user_acl[] = {
			2, 0, 0, 0,
			0x01, 0, 4, 0, 0xff, 0xff, 0xff, 0xff, /* user:: r */
			0x02, 0, 4, 0, 0xfe, 0xff, 0, 0,       /* user:65534 r */
			0x04, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, /* group:: - */
			0x10, 0, 4, 0, 0xff, 0xff, 0xff, 0xff, /* mask r */
			0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, /* other - */
		};
		static const unsigned char group_acl[] = {
			2, 0, 0, 0,
			0x01, 0, 4, 0, 0xff, 0xff, 0xff, 0xff, /* user:: r */
			0x04, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, /* group:: - */
			0x08, 0, 4, 0, 0xfe, 0xff, 0, 0,       /* group:65534 r */
			0x10, 0, 4, 0, 0xff, 0xff, 0xff, 0xff, /* mask r */
			0x20, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, /* other - */
		};
		struct stat st;

		if (setxattr(path, "system.posix_acl_access", user_acl,
		    sizeof(user_acl), 0) == 0) {
			CHECK(stat(path, &st) == 0 && (st.st_mode & 070) == 040);
			CHECKM(secret_file_read(path, buf, sizeof(buf), err,
			    sizeof(err)) == 0, "%s", err);
			CHECK(setxattr(path, "system.posix_acl_access",
			    group_acl, sizeof(group_acl), 0) == 0);
			CHECK(secret_file_read(path, buf, sizeof(buf), err,
			    sizeof(err)) == -1);
			CHECKM(strstr(err, "mode 0440 lets its group") != NULL,
			    "%s", err);
		} else
			printf("  (no ACLs on %s: skipped)\n", dir);
	}
	/* not a regular file; missing */
	CHECK(secret_file_read(dir, buf, sizeof(buf), err, sizeof(err)) == -1);
	unlink(path);
	CHECK(secret_file_read(path, buf, sizeof(buf), err, sizeof(err)) == -1);
	CHECK(strstr(err, "No such file") != NULL);
	rmdir(dir);
}
