/*
 * test_store_wake: the outbox's doorbell (store/wake.h).  A commit that
 * queues mail, or a retry, pokes state_dir/outbox.fifo; a commit that
 * queues none, a rolled-back group and a connection with pokes off do
 * not; a poke with nobody listening is harmless (no SIGPIPE, no error);
 * the listener replaces a file that took the FIFO's name.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/workflow.h"
#include "store/outbox.h"
#include "store/store.h"
#include "store/wake.h"
#include "test_store.h"
#include "unit.h"

/* 1 when a poke waits on fd (then read away), 0 when none. */
static int
poked(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, 0);

	store_wake_drain(fd);
	return r == 1 && (p.revents & POLLIN);
}

static int64_t
loose_mail(struct tctx *t)
{
	struct store_actor w = who_spool("P001", T0);
	int64_t id = 0;

	w.channel = WF_CHANNEL_MAIL;
	w.kind = WF_ACTOR_OWNER;
	w.sender = "asker@example.org";
	CHECK(store_mail_loose(t->st, WF_TPL_HELP, "deadbeef0123", NULL, &w,
	    &id) == 0);
	return id;
}

UNIT_TEST(store_wake_pokes_after_commits_that_queue_mail)
{
	struct tctx t;
	char err[256], path[256];
	int fd, fd2;
	int64_t id;

	tctx_open(&t);
	/* nobody listens yet: nothing happens, nothing fails */
	CHECK_INT(store_wake_post(t.dir), 1);
	loose_mail(&t);

	fd = store_wake_listen(t.dir, err, sizeof(err));
	CHECK(fd != -1);
	CHECK(!poked(fd));
	/* a mail queued in its own transaction */
	id = loose_mail(&t);
	CHECK(poked(fd));
	/* a commit that queues no mail */
	CHECK(store_outbox_mark_sending(t.st, id) == 0);
	CHECK(store_outbox_mark_failed(t.st, id, "550 no") == 0);
	CHECK(!poked(fd));
	/* retry: back to queued, due now */
	CHECK(store_outbox_retry(t.st, id) == 0);
	CHECK(poked(fd));
	CHECK(store_outbox_retry(t.st, id) == 1); /* refused: no poke */
	CHECK(!poked(fd));
	/* a group: one poke at its commit, none when rolled back */
	CHECK(store_begin(t.st) == 0);
	loose_mail(&t);
	loose_mail(&t);
	CHECK(!poked(fd));
	CHECK(store_commit(t.st) == 0);
	CHECK(poked(fd));
	CHECK(store_begin(t.st) == 0);
	loose_mail(&t);
	CHECK(store_rollback(t.st) == 0);
	CHECK(!poked(fd));
	/* the daemon's own connection pokes nobody */
	store_wake_set(t.st, 0);
	loose_mail(&t);
	CHECK(!poked(fd));
	store_wake_set(t.st, 1);
	/* many pokes unread: the pipe fills, the writer never blocks */
	for (int i = 0; i < 70000; i++)
		if (store_wake_post(t.dir) != 0) {
			CHECK(!"a poke on a full pipe failed");
			break;
		}
	CHECK(poked(fd));
	CHECK(!poked(fd));

	/* the listener gone: no SIGPIPE, just "nobody listens" */
	close(fd);
	CHECK_INT(store_wake_post(t.dir), 1);
	loose_mail(&t);

	/* a plain file under the FIFO's name: never written to by a poke,
	 * replaced by the listener */
	snprintf(path, sizeof(path), "%s/%s", t.dir, STORE_WAKE_FIFO);
	CHECK(unlink(path) == 0);
	fd2 = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd2 != -1);
	close(fd2);
	CHECK_INT(store_wake_post(t.dir), -1);
	{
		struct stat sb;

		CHECK(stat(path, &sb) == 0 && sb.st_size == 0);
	}
	fd = store_wake_listen(t.dir, err, sizeof(err));
	CHECK(fd != -1);
	{
		struct stat sb;

		CHECK(lstat(path, &sb) == 0 && S_ISFIFO(sb.st_mode));
		CHECK((sb.st_mode & 07777) == 0600);
	}
	loose_mail(&t);
	CHECK(poked(fd));
	close(fd);
	tctx_close(&t);
}
