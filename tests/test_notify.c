/*
 * notify: what reaches a NOTIFY_SOCKET of our own, the watchdog's rate
 * limit, and silence without the socket.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/notify.h"
#include "unit.h"

static int
listener(char *path, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(path, size, "/tmp/beiand-notify-%d.sock", (int)getpid());
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The next datagram, or "" after 200 ms. */
static void
next_msg(int fd, char *buf, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	buf[0] = '\0';
	if (poll(&p, 1, 200) != 1)
		return;
	if ((n = recv(fd, buf, size - 1, 0)) < 0)
		n = 0;
	buf[n] = '\0';
}

UNIT_TEST(notify_messages)
{
	char path[108], buf[256];
	unsigned long long usec = 0;
	int fd = listener(path, sizeof(path));

	CHECK(fd != -1);
	if (fd == -1)
		return;
	setenv("NOTIFY_SOCKET", path, 1);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");

	notify_ready();
	next_msg(fd, buf, sizeof(buf));
	CHECK_STR(buf, "READY=1");
	notify_status("filings: %d awaiting_verification\nsecond", 3);
	next_msg(fd, buf, sizeof(buf));
	CHECK_STR(buf, "STATUS=filings: 3 awaiting_verification second");
	notify_stopping();
	next_msg(fd, buf, sizeof(buf));
	CHECK_STR(buf, "STOPPING=1");
	notify_reloading();
	next_msg(fd, buf, sizeof(buf));
	CHECK(strncmp(buf, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0);
	CHECK(sscanf(buf + 27, "%llu", &usec) == 1 && usec > 0);

	/* no watchdog configured: no ping, no interval */
	CHECK_INT(notify_watchdog_interval_ms(), -1);
	notify_watchdog(1000);
	next_msg(fd, buf, sizeof(buf));
	CHECK_STR(buf, "");

	/* 1 s period: a ping at once, then not before 500 ms */
	setenv("WATCHDOG_USEC", "1000000", 1);
	CHECK_INT(notify_watchdog_interval_ms(), 500);
	notify_watchdog(10000);
	next_msg(fd, buf, sizeof(buf));
	CHECK_STR(buf, "WATCHDOG=1");
	notify_watchdog(10100);
	next_msg(fd, buf, sizeof(buf));
	CHECK_STR(buf, "");
	notify_watchdog(10500);
	next_msg(fd, buf, sizeof(buf));
	CHECK_STR(buf, "WATCHDOG=1");

	/* WATCHDOG_PID naming another process: not ours to ping */
	setenv("WATCHDOG_PID", "1", 1);
	CHECK_INT(notify_watchdog_interval_ms(), -1);
	unsetenv("WATCHDOG_PID");

	/* without NOTIFY_SOCKET everything is silent */
	unsetenv("NOTIFY_SOCKET");
	notify_ready();
	notify_watchdog(20000);
	next_msg(fd, buf, sizeof(buf));
	CHECK_STR(buf, "");
	CHECK_INT(notify_watchdog_interval_ms(), -1);

	unsetenv("WATCHDOG_USEC");
	close(fd);
	unlink(path);
}
