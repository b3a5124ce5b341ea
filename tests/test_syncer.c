/*
 * syncer: tags handed out in order, a wait that returns once its tag is
 * durable, the wake-up descriptor, one sync per filesystem, and a stop
 * that finishes what was asked.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/syncer.h"
#include "unit.h"

static int
readable(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

UNIT_TEST(syncer_tags_and_wakeup)
{
	char top[] = "/tmp/beiand-syncer.XXXXXX", a[300], b[300], err[256];
	const char *dirs[2];
	struct syncer *sy;
	uint64_t t1, t2, t3;

	CHECK(mkdtemp(top) != NULL);
	snprintf(a, sizeof(a), "%s/a", top);
	snprintf(b, sizeof(b), "%s/b", top);
	CHECK(mkdir(a, 0700) == 0 && mkdir(b, 0700) == 0);
	dirs[0] = a;
	dirs[1] = "/nonexistent/beiand";
	err[0] = '\0';
	CHECK(syncer_new(dirs, 2, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "/nonexistent/beiand") != NULL);

	dirs[1] = b; /* the same filesystem: synced once */
	sy = syncer_new(dirs, 2, err, sizeof(err));
	CHECK(sy != NULL);
	if (sy == NULL)
		return;
	CHECK_INT(syncer_durable(sy), 0);
	CHECK_INT(syncer_wait(sy, 0), 0); /* nothing asked: at once */
	t1 = syncer_request(sy);
	t2 = syncer_request(sy);
	t3 = syncer_request(sy);
	CHECK(t1 < t2 && t2 < t3);
	CHECK_INT(syncer_wait(sy, t3), 0);
	CHECK(readable(syncer_fd(sy)));
	CHECK(syncer_durable(sy) >= t3);
	/* the wake-up is read with the durable tag */
	CHECK(!readable(syncer_fd(sy)));
	CHECK_INT(syncer_error(sy), 0);
	/* stopped with a request pending: it is made durable first */
	syncer_request(sy);
	syncer_free(sy);
	unit_rmtree(top);
}
