/*
 * prep: an upload's hash and its blob written ahead, on the thread and
 * here alike; links and FIFOs refused without blocking.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/prep.h"
#include "lib/sha256.h"
#include "store/blob.h"
#include "unit.h"

static int
readable(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

UNIT_TEST(prep_hash_and_blob)
{
	char top[] = "/tmp/beiand-prep.XXXXXX", file[300], link[300],
	    fifo[300], hex[SHA256_HEX], path[600], err[256];
	static const char body[] = "PK\x03\x04 an upload's bytes";
	unsigned char want[SHA256_LEN], *back = NULL;
	struct prep_job a = { 0 }, b = { 0 }, c = { 0 }, f = { 0 };
	struct prep *pp;
	size_t n = 0;
	int fd;

	CHECK(mkdtemp(top) != NULL);
	snprintf(file, sizeof(file), "%s/u.zip", top);
	snprintf(link, sizeof(link), "%s/l.zip", top);
	snprintf(fifo, sizeof(fifo), "%s/f.zip", top);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd != -1 && write(fd, body, sizeof(body) - 1) ==
	    (ssize_t)sizeof(body) - 1);
	close(fd);
	CHECK(symlink(file, link) == 0);
	CHECK(mkfifo(fifo, 0600) == 0);
	sha256(body, sizeof(body) - 1, want);
	sha256_to_hex(want, hex);

	pp = prep_new(err, sizeof(err));
	CHECK(pp != NULL);
	if (pp == NULL)
		return;
	/* on the thread: hashed, blob written */
	snprintf(a.path, sizeof(a.path), "%s", file);
	a.state_dir = top;
	prep_submit(pp, &a);
	/* a link and a FIFO: refused, nothing written, no hang */
	snprintf(c.path, sizeof(c.path), "%s", link);
	c.state_dir = top;
	prep_submit(pp, &c);
	snprintf(f.path, sizeof(f.path), "%s", fifo);
	f.state_dir = top;
	prep_submit(pp, &f);
	prep_wait(pp, &a);
	prep_wait(pp, &c);
	prep_wait(pp, &f);
	CHECK_INT(a.err, 0);
	CHECK_INT(a.len, sizeof(body) - 1);
	CHECK(memcmp(a.sha256, want, sizeof(want)) == 0);
	CHECK(a.blob_written && a.blob_new);
	CHECK(blob_path(top, hex, path, sizeof(path)) == 0);
	CHECK(blob_read(path, &back, &n) == 0 && n == sizeof(body) - 1 &&
	    memcmp(back, body, n) == 0);
	free(back);
	CHECK_INT(c.err, ELOOP);
	CHECK(!c.blob_written);
	CHECK_INT(f.err, EINVAL);
	CHECK(!f.blob_written);
	prep_free(pp);

	/* here, the same answer; the blob is there already */
	snprintf(b.path, sizeof(b.path), "%s", file);
	b.state_dir = top;
	prep_run(&b);
	CHECK_INT(b.err, 0);
	CHECK(memcmp(b.sha256, want, sizeof(want)) == 0);
	CHECK(b.blob_written && !b.blob_new);
	/* no state_dir: hashed only */
	memset(&b, 0, sizeof(b));
	snprintf(b.path, sizeof(b.path), "%s", file);
	prep_run(&b);
	CHECK(b.err == 0 && !b.blob_written);
	CHECK(memcmp(b.sha256, want, sizeof(want)) == 0);
	unit_rmtree(top);
}

/* Write dir/name with body and stamp job for it as the daemon does when
 * it hands the file over; the descriptor stays open for writing. */
static int
stamped_file(const char *dir, const char *name, const char *body,
    struct prep_job *job)
{
	struct stat sb;
	int fd;

	memset(job, 0, sizeof(*job));
	snprintf(job->path, sizeof(job->path), "%s/%s", dir, name);
	job->state_dir = dir;
	fd = open(job->path, O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK(fd != -1 && write(fd, body, strlen(body)) ==
	    (ssize_t)strlen(body));
	CHECK(fstat(fd, &sb) == 0);
	job->stamped = 1;
	job->ctime = sb.st_ctim;
	job->size = (long long)sb.st_size;
	return fd;
}

/* A stamped job: the file as stamped is read and kept; a file written
 * after its stamp (the same bytes again) is changed, and no blob is
 * written of it; so is one whose size differs. */
UNIT_TEST(prep_changed_since_stamp)
{
	char top[] = "/tmp/beiand-prep.XXXXXX", hex[SHA256_HEX], path[600];
	static const char other[] = "PK\x03\x04 another upload";
	unsigned char d[SHA256_LEN];
	struct prep_job a, b;
	int fd;

	CHECK(mkdtemp(top) != NULL);
	fd = stamped_file(top, "u.zip", "PK\x03\x04 an upload's bytes", &a);
	close(fd);
	prep_run(&a);
	CHECK(a.err == 0 && !a.changed && a.blob_written);

	fd = stamped_file(top, "v.zip", other, &b);
	/* past a coarse clock's tick (kernels before fine-grained change
	 * times give a write in the same tick the same time) */
	nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
	CHECK(pwrite(fd, other, 4, 0) == 4);
	close(fd);
	prep_run(&b);
	CHECK(b.err == 0 && b.changed && !b.blob_written);
	sha256(other, sizeof(other) - 1, d);
	sha256_to_hex(d, hex);
	CHECK(blob_path(top, hex, path, sizeof(path)) == 0);
	CHECK(access(path, F_OK) == -1);

	fd = stamped_file(top, "w.zip", "PK\x03\x04 a third", &b);
	close(fd);
	b.size++;
	prep_run(&b);
	CHECK(b.err == 0 && b.changed);
	unit_rmtree(top);
}

/* Fork child: allocate a spread of sizes and leave; 0 when it did, 1
 * when it hung for 60 s (then killed: a deadlock, not a slow machine). */
static int
fork_and_allocate(void)
{
	pid_t pid = fork(), w = 0;

	if (pid == 0) {
		for (size_t n = 16; n < 300000; n = n * 5 / 4 + 1)
			free(malloc(n));
		_exit(0);
	}
	if (pid < 0)
		return 1;
	for (int t = 0; t < 6000 && w == 0; t++) {
		w = waitpid(pid, NULL, WNOHANG);
		if (w == 0)
			usleep(10000);
	}
	if (w != 0)
		return 0;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 1;
}

/*
 * Forks while the thread starts and while it has jobs queued (a worker
 * started beside a new thread, or replaced while uploads are read): the
 * fork waits for the thread to park, the thread goes on after it (every
 * job finishes), and each child can allocate and leave.  (A thread caught
 * inside the allocator at a fork hung a worker under ASan in it_crash;
 * that race is too rare to show here on demand.)
 */
UNIT_TEST(prep_fork_while_busy)
{
	char top[] = "/tmp/beiand-prepfork.XXXXXX", file[300], err[256];
	static unsigned char big[7159];
	struct prep_job jobs[64];
	struct prep *pp;
	int fd, hung = 0;

	CHECK(mkdtemp(top) != NULL);
	snprintf(file, sizeof(file), "%s/u.zip", top);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd != -1 && write(fd, big, sizeof(big)) == (ssize_t)sizeof(big));
	close(fd);
	for (int round = 0; round < 100 && !hung; round++) {
		pp = prep_new(err, sizeof(err));
		CHECK(pp != NULL);
		if (pp == NULL)
			return;
		hung |= fork_and_allocate();
		memset(jobs, 0, sizeof(jobs));
		for (int i = 0; i < 64; i++) {
			snprintf(jobs[i].path, sizeof(jobs[i].path), "%s", file);
			prep_submit(pp, &jobs[i]);
		}
		hung |= fork_and_allocate();
		for (int i = 0; i < 64; i++)
			prep_wait(pp, &jobs[i]);
		prep_free(pp);
	}
	CHECK(!hung);
	unit_rmtree(top);
}

static int gate[2] = { -1, -1 };
static int called;

/* A call that holds the thread until the gate opens. */
static void
held_call(void *arg)
{
	char c;

	(void)arg;
	if (read(gate[0], &c, 1) != 1)
		return;
	called++;
}

/*
 * Calls run on the thread and say so through prep_fd(); an upload job the
 * thread has not started is taken and done by the caller instead of
 * waited for.
 */
UNIT_TEST(prep_calls_and_take)
{
	char top[] = "/tmp/beiand-preptake.XXXXXX", file[300], err[256];
	unsigned char want[SHA256_LEN];
	struct prep_job call = { 0 }, up = { 0 };
	struct prep *pp;
	int fd;

	CHECK(mkdtemp(top) != NULL);
	snprintf(file, sizeof(file), "%s/u.zip", top);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd != -1 && write(fd, "abc", 3) == 3);
	close(fd);
	sha256("abc", 3, want);
	CHECK(pipe(gate) == 0);
	pp = prep_new(err, sizeof(err));
	CHECK(pp != NULL);
	if (pp == NULL)
		return;
	call.call = held_call;
	prep_submit(pp, &call);
	snprintf(up.path, sizeof(up.path), "%s", file);
	prep_submit(pp, &up);
	/* the thread is held in the call: the upload is taken here */
	CHECK_INT(prep_take(pp, &up), 1);
	CHECK(up.done && up.err == 0 && up.len == 3);
	CHECK(memcmp(up.sha256, want, sizeof(want)) == 0);
	CHECK(!prep_done(pp, &call));
	CHECK(!readable(prep_fd(pp)));
	CHECK(write(gate[1], "x", 1) == 1);
	prep_wait(pp, &call);
	CHECK_INT(called, 1);
	CHECK(prep_done(pp, &call));
	CHECK(readable(prep_fd(pp)));
	prep_woken(pp);
	CHECK(!readable(prep_fd(pp)));
	prep_free(pp);
	close(gate[0]);
	close(gate[1]);
	unit_rmtree(top);
}
