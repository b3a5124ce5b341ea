/*
 * test_imap_limits: the fetcher child's limits (mail/imap_limits.c) on
 * their own — From keys, sender_max in its window, inbox_max counted in
 * the inbox folder, min_free, the waiting list and the frames that tell
 * the parent.  It includes the fetcher's private header: these are the
 * child's insides, tested without a server (it_flood.sh runs them
 * against one).
 */
#include <sys/socket.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/imap.h"
#include "mail/imap_int.h"
#include "unit.h"

struct lctx {
	char dir[64];
	int peer;            /* the parent's end */
	struct imap_child c;
};

static void
lctx_open(struct lctx *t, uint64_t inbox_max, uint64_t sender_max,
    uint64_t window)
{
	int sv[2];

	memset(t, 0, sizeof(*t));
	strcpy(t->dir, "/tmp/beiand-limits-XXXXXX");
	if (mkdtemp(t->dir) == NULL ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	t->peer = sv[0];
	t->c.sock = sv[1];
	t->c.dirfd = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	t->c.uidvalidity = 7;
	t->c.inbox_max = inbox_max;
	t->c.sender_max = sender_max;
	t->c.sender_window_ms = (int64_t)window * 1000;
	imap_limits_init(&t->c);
}

static void
lctx_close(struct lctx *t)
{
	imap_limits_free(&t->c);
	close(t->peer);
	close(t->c.sock);
	close(t->c.dirfd);
	unit_rmtree(t->dir);
}

/* The next frame the child sent, "" when none. */
static const char *
frame(struct lctx *t)
{
	static char buf[256];
	ssize_t n = recv(t->peer, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
touch(struct lctx *t, const char *name)
{
	char p[128];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", t->dir, name);
	if ((fp = fopen(p, "w")) != NULL)
		fclose(fp);
}

UNIT_TEST(imap_sender_key)
{
	char k[IMAP_SENDER_MAX], s[8];

	imap_sender_key("Victim", "VICTIM-Corp.CN", k, sizeof(k));
	CHECK_STR(k, "victim@victim-corp.cn");
	imap_sender_key("\xe5\xbc\xa0", "Ex.CN", k, sizeof(k));
	CHECK_STR(k, "\xe5\xbc\xa0@ex.cn"); /* only ASCII is folded */
	imap_sender_key("abcdef", "x.cn", s, sizeof(s));
	CHECK_STR(s, "abcdef@"); /* cut to the size */
	imap_sender_key("", "", k, sizeof(k));
	CHECK_STR(k, "@");
}

UNIT_TEST(imap_limits_sender_max)
{
	struct lctx t;
	struct imap_env e = { 10, 1, 100, "victim@x.cn" };

	lctx_open(&t, 100, 2, 3600);
	CHECK_INT(imap_limits_check(&t.c, "victim@x.cn", 100, 1),
	    IMAP_WAIT_NONE);
	imap_limits_took(&t.c, "victim@x.cn", 1);
	imap_limits_took(&t.c, "victim@x.cn", 0); /* a large one counts too */
	CHECK_INT(imap_limits_check(&t.c, "victim@x.cn", 100, 1),
	    IMAP_WAIT_SENDER);
	CHECK_STR(frame(&t), "throttled 1"); /* told as it changes */
	CHECK_INT(imap_limits_check(&t.c, "victim@x.cn", 100, 0),
	    IMAP_WAIT_SENDER);
	/* another sender is not held back by this one */
	CHECK_INT(imap_limits_check(&t.c, "other@y.cn", 100, 1),
	    IMAP_WAIT_NONE);
	imap_limits_tick(&t.c);
	CHECK_STR(frame(&t), ""); /* told once per change */
	/* followed while it waits; the parent hears it in UID order */
	CHECK_INT(imap_pending_add(&t.c, &e, IMAP_WAIT_SENDER), 0);
	CHECK_STR(frame(&t), "wait 7 10 sender");
	/* its window's end is when it may go on; the wait stops there */
	CHECK(imap_limits_next_ms(&t.c) >= imap_now_ms() + 3599 * 1000);
	imap_pending_update(&t.c, 0, IMAP_WAIT_SENDER);
	CHECK_STR(frame(&t), "");
	imap_pending_update(&t.c, 0, IMAP_WAIT_INBOX);
	CHECK_STR(frame(&t), "wait 7 10 inbox");
	CHECK_STR(imap_pending_sender(&t.c.pending[0]), "victim@x.cn");
	/* the inbox and the disk are looked at again within seconds */
	CHECK(imap_limits_next_ms(&t.c) <= imap_now_ms() + 5000);
	imap_pending_done(&t.c, 0);
	imap_pending_compact(&t.c);
	CHECK_INT(t.c.npending, 0);
	lctx_close(&t);
}

UNIT_TEST(imap_limits_window_ends)
{
	struct lctx t;
	struct imap_env e = { 11, 1, 100, "victim@x.cn" };
	int64_t end;

	lctx_open(&t, 100, 1, 1);
	imap_limits_took(&t.c, "victim@x.cn", 1);
	CHECK_INT(imap_limits_check(&t.c, "victim@x.cn", 100, 1),
	    IMAP_WAIT_SENDER);
	CHECK_INT(imap_pending_add(&t.c, &e, IMAP_WAIT_SENDER), 0);
	imap_limits_tick(&t.c);
	CHECK_STR(frame(&t), "throttled 1");
	CHECK_STR(frame(&t), "wait 7 11 sender");
	/* the state waited for: the deadline the child itself gives */
	end = imap_limits_next_ms(&t.c);
	CHECK(end > 0);
	while (imap_now_ms() < end)
		usleep(20000);
	imap_limits_tick(&t.c);
	CHECK_STR(frame(&t), "throttled 0");
	CHECK_INT(imap_limits_check(&t.c, "victim@x.cn", 100, 1),
	    IMAP_WAIT_NONE);
	lctx_close(&t);
}

UNIT_TEST(imap_limits_inbox_and_disk)
{
	struct lctx t;

	lctx_open(&t, 2, 100, 3600);
	CHECK_INT(t.c.inbox_count, 0);
	/* as the child stores them */
	touch(&t, "7-1.eml");
	touch(&t, ".7-2.eml.tmp"); /* a temp file is no message */
	touch(&t, "other");
	imap_limits_took(&t.c, "a@b.cn", 1);
	CHECK_INT(imap_limits_check(&t.c, "a@b.cn", 10, 1), IMAP_WAIT_NONE);
	touch(&t, "7-3.eml");
	imap_limits_took(&t.c, "a@b.cn", 1);
	CHECK_INT(imap_limits_check(&t.c, "a@b.cn", 10, 1), IMAP_WAIT_INBOX);
	t.c.inbox_stale = 1; /* counted: two messages, the rest is not */
	CHECK_INT(imap_limits_check(&t.c, "a@b.cn", 10, 1), IMAP_WAIT_INBOX);
	CHECK_INT(t.c.inbox_count, 2);
	/* a large one is not stored: the inbox does not hold it back */
	CHECK_INT(imap_limits_check(&t.c, "a@b.cn", 10, 0), IMAP_WAIT_NONE);
	/* the parent commits one and says "done": counted again */
	unlink(strcat(strcpy((char[128]){ 0 }, t.dir), "/7-1.eml"));
	CHECK_INT(imap_limits_check(&t.c, "a@b.cn", 10, 1), IMAP_WAIT_INBOX);
	t.c.inbox_stale = 1;
	CHECK_INT(imap_limits_check(&t.c, "a@b.cn", 10, 1), IMAP_WAIT_NONE);
	/* min_free: nothing that would leave less free */
	t.c.min_free = UINT64_MAX / 2;
	CHECK_INT(imap_limits_check(&t.c, "a@b.cn", 10, 1), IMAP_WAIT_DISK);
	CHECK_INT(imap_limits_check(&t.c, "a@b.cn", 10, 0), IMAP_WAIT_NONE);
	t.c.min_free = 0;
	CHECK_INT(imap_limits_check(&t.c, "a@b.cn", UINT64_MAX / 2, 1),
	    IMAP_WAIT_DISK);
	CHECK_INT(imap_limits_check(&t.c, "a@b.cn", 10, 1), IMAP_WAIT_NONE);
	lctx_close(&t);
}

/* Room goes to the oldest: one waiting for inbox_max or min_free holds
 * back every newer message that would be stored, not one of a throttled
 * sender's that waits for its window. */
UNIT_TEST(imap_limits_room_oldest_first)
{
	struct imap_env e;
	struct lctx t;

	lctx_open(&t, 2, 100, 3600);
	memset(&e, 0, sizeof(e));
	e.found = 1;
	e.size = 10;
	CHECK_INT(imap_pending_room(&t.c), IMAP_WAIT_NONE);
	e.uid = 3;
	strcpy(e.sender, "a@b.cn");
	CHECK(imap_pending_add(&t.c, &e, IMAP_WAIT_SENDER) == 0);
	CHECK_INT(imap_pending_room(&t.c), IMAP_WAIT_NONE);
	e.uid = 4;
	strcpy(e.sender, "c@d.cn");
	CHECK(imap_pending_add(&t.c, &e, IMAP_WAIT_INBOX) == 0);
	e.uid = 5;
	CHECK(imap_pending_add(&t.c, &e, IMAP_WAIT_DISK) == 0);
	CHECK_INT(imap_pending_room(&t.c), IMAP_WAIT_INBOX);
	CHECK_STR(frame(&t), "wait 7 3 sender");
	CHECK_STR(frame(&t), "wait 7 4 inbox");
	CHECK_STR(frame(&t), "wait 7 5 disk");
	/* the inbox one was taken: the disk one holds the rest back */
	imap_pending_done(&t.c, 1);
	CHECK_INT(imap_pending_room(&t.c), IMAP_WAIT_DISK);
	imap_pending_update(&t.c, 2, IMAP_WAIT_SENDER);
	CHECK_INT(imap_pending_room(&t.c), IMAP_WAIT_NONE);
	imap_pending_compact(&t.c);
	CHECK_INT(t.c.npending, 2);
	CHECK_INT(imap_pending_room(&t.c), IMAP_WAIT_NONE);
	lctx_close(&t);
}
