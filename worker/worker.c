/*
 * worker: the pool of parser worker processes, in the parent.  It starts
 * the workers (each a fresh exec of beiand-worker: worker_setup.c), hands
 * them jobs, reads their answers and replaces the dead; the worker
 * program itself is worker_child.c and worker_sandbox.c.
 *
 * Hostile input here: the workers' answers.  The parent never parses an
 * upload: it passes the file descriptor (SCM_RIGHTS) and decodes the
 * answer with wire_decode(), which bounds every length.  A worker that
 * sends more than a frame may hold, sends while idle, or sends something
 * that does not decode is killed and replaced, and its job is answered
 * WR_PROTOCOL.  A worker that dies — a crash, a limit hit, a system call
 * its sandbox refuses (SIGSYS) — is replaced and its job answered
 * WR_CRASHED with the cause.
 *
 * Each worker holds up to WORKER_DEPTH jobs, sent in turn over its socket
 * and answered in that order, so that it parses the next upload while
 * the parent is busy committing the answers before.  The jobs queued
 * behind one that killed its worker never started: they are answered
 * WR_NOT_STARTED, for the caller to send again without counting an
 * attempt against them.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "lib/xmalloc.h"
#include "worker/wire.h"
#include "worker/worker.h"
#include "worker/worker_int.h"

struct worker {
	pid_t pid;          /* -1: not running (start failed) */
	int fd;             /* parent's end of the socket; kept across restarts */
	/* its jobs in the order sent: the first is the one it works on */
	size_t njobs;
	uint64_t job[WORKER_DEPTH];
	enum worker_job_kind kind[WORKER_DEPTH];
	/* the answer being read */
	unsigned char hdr[WIRE_HEADER_SIZE];
	size_t hdrlen;
	unsigned char *buf;
	size_t have, total;
};

struct worker_pool {
	const struct config *cf;
	struct worker *w;
	size_t n;
	uint64_t next_job;
	uint64_t restarts;
	uint64_t frame_max;
	uint64_t *unstarted; /* jobs queued behind one that killed its worker */
	size_t nunstarted, capunstarted;
	unsigned char *setup; /* what every worker is told (worker_setup.c) */
	size_t setup_len;
	int drop;           /* run workers as uid/gid (the parent is root) */
	uid_t uid;
	gid_t gid;
	char err[512];      /* why the last start failed */
	int landlock_abi;   /* what the last worker started confined itself with */
};

/* ---- the parent --------------------------------------------------------- */

/* Start the worker of slot w.  Its socket takes the slot's old descriptor
 * number when it has one, so that a poll set stays valid. */
static int
worker_start(struct worker_pool *p, struct worker *w)
{
	pid_t pid;
	int fd;

	pid = worker_spawn(p->setup, p->setup_len, p->drop, p->uid, p->gid,
	    &fd, &p->landlock_abi, p->err, sizeof(p->err));
	if (pid == -1)
		return -1;
	if (w->fd >= 0) {
		if (dup3(fd, w->fd, O_CLOEXEC) == -1) {
			snprintf(p->err, sizeof(p->err), "worker: dup3: %s",
			    strerror(errno));
			close(fd);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		close(fd);
	} else
		w->fd = fd;
	w->pid = pid;
	w->njobs = 0;
	w->hdrlen = 0;
	free(w->buf);
	w->buf = NULL;
	w->have = w->total = 0;
	return 0;
}

struct worker_pool *
worker_pool_new(const struct config *cf, int n, char *err, size_t errsize)
{
	struct worker_pool *p;

	if (n <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);

		n = c > 0 && c < 1024 ? (int)c : 1;
	}
	p = xcalloc(1, sizeof(*p));
	p->cf = cf;
	p->n = (size_t)n;
	p->next_job = 1;
	p->frame_max = wire_frame_max(&cf->limits);
	worker_setup_encode(cf, &p->setup, &p->setup_len);
	if (geteuid() == 0) {
		if (worker_user(&p->uid, &p->gid, err, errsize) != 0) {
			free(p->setup);
			free(p);
			return NULL;
		}
		p->drop = 1;
	}
	p->w = xcalloc(p->n, sizeof(*p->w));
	for (size_t i = 0; i < p->n; i++) {
		p->w[i].fd = -1;
		p->w[i].pid = -1;
	}
	for (size_t i = 0; i < p->n; i++) {
		if (worker_start(p, &p->w[i]) != 0) {
			snprintf(err, errsize, "%s", p->err);
			worker_pool_free(p);
			return NULL;
		}
	}
	return p;
}

void
worker_pool_free(struct worker_pool *p)
{
	int left;

	if (p == NULL)
		return;
	/* End of file on its socket ends an idle worker; SIGTERM a busy one. */
	for (size_t i = 0; i < p->n; i++) {
		if (p->w[i].fd >= 0)
			close(p->w[i].fd);
		if (p->w[i].pid > 0)
			kill(p->w[i].pid, SIGTERM);
	}
	for (int tries = 0; tries < 100; tries++) {
		left = 0;
		for (size_t i = 0; i < p->n; i++) {
			if (p->w[i].pid <= 0)
				continue;
			if (waitpid(p->w[i].pid, NULL, WNOHANG) == 0)
				left++;
			else
				p->w[i].pid = -1;
		}
		if (left == 0)
			break;
		usleep(5000);
	}
	for (size_t i = 0; i < p->n; i++) {
		if (p->w[i].pid > 0) {
			kill(p->w[i].pid, SIGKILL);
			waitpid(p->w[i].pid, NULL, 0);
		}
		free(p->w[i].buf);
	}
	free(p->w);
	free(p->unstarted);
	free(p->setup);
	free(p);
}

size_t
worker_pool_idle(const struct worker_pool *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->w[i].pid > 0)
			n += WORKER_DEPTH - p->w[i].njobs;
	return n;
}

size_t
worker_pool_fds(const struct worker_pool *p, int *fds, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n && n < max; i++)
		if (p->w[i].fd >= 0)
			fds[n++] = p->w[i].fd;
	return n;
}

int
worker_pool_landlock_abi(const struct worker_pool *p)
{
	return p->landlock_abi;
}

const char *
worker_pool_error(const struct worker_pool *p)
{
	return p->err;
}

uint64_t
worker_pool_restarts(const struct worker_pool *p)
{
	return p->restarts;
}

pid_t
worker_pool_pid(const struct worker_pool *p, size_t i)
{
	return i < p->n && p->w[i].pid > 0 ? p->w[i].pid : -1;
}

pid_t
worker_pool_pid_of_job(const struct worker_pool *p, uint64_t job)
{
	for (size_t i = 0; i < p->n; i++)
		for (size_t k = 0; p->w[i].pid > 0 && k < p->w[i].njobs; k++)
			if (p->w[i].job[k] == job)
				return p->w[i].pid;
	return -1;
}

static int
worker_send(struct worker *w, unsigned char kind, const int *fds, size_t nfds,
    const char *name, size_t nl, const char *provider)
{
	unsigned char msg[JOB_HDR_SIZE + WORKER_NAME_MAX + WORKER_PROV_MAX];
	size_t pl = strlen(provider), len;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * WORKER_FILES_MAX)];
	} cm;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;
	ssize_t r;

	msg[0] = JOB_MAGIC;
	msg[1] = kind;
	msg[2] = (unsigned char)nfds;
	msg[3] = (unsigned char)nl;
	msg[4] = (unsigned char)(nl >> 8);
	msg[5] = (unsigned char)pl;
	msg[6] = (unsigned char)(pl >> 8);
	memcpy(msg + JOB_HDR_SIZE, name, nl);
	memcpy(msg + JOB_HDR_SIZE + nl, provider, pl);
	len = JOB_HDR_SIZE + nl + pl;

	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = msg;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	do
		r = sendmsg(w->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (r == -1 && errno == EINTR);
	if (r == (ssize_t)len)
		return 0;
	if (r > 0) {
		/* Half a job: the worker is out of step; replace it. */
		kill(w->pid, SIGKILL);
	}
	return -1;
}

static int
worker_kind_valid(enum worker_job_kind kind)
{
	return kind == WJ_WHOLE || kind == WJ_PARSE || kind == WJ_MAIL ||
	    kind == WJ_VIEW || kind == WJ_VERIFY;
}

/* Send a job of nfds descriptors, their names in name[0..nl). */
static int
worker_submit_msg(struct worker_pool *p, enum worker_job_kind kind,
    const int *fds, size_t nfds, const char *name, size_t nl,
    const char *provider, uint64_t *job)
{
	struct worker *least = NULL;

	if (provider == NULL)
		provider = "";
	if (nl > WORKER_NAME_MAX || strlen(provider) > WORKER_PROV_MAX ||
	    !worker_kind_valid(kind) || nfds == 0 ||
	    nfds > (kind == WJ_VERIFY ? WORKER_FILES_MAX : 1))
		return -1;
	if (*provider != '\0' && config_provider_find(p->cf, provider) == NULL)
		return -1;
	/* The least loaded live worker; should sending to it fail (it is
	 * dying: collect will replace it), any other with room. */
	for (size_t i = 0; i < p->n; i++)
		if (p->w[i].pid > 0 && p->w[i].njobs < WORKER_DEPTH &&
		    (least == NULL || p->w[i].njobs < least->njobs))
			least = &p->w[i];
	for (size_t i = 0; least != NULL && i <= p->n; i++) {
		struct worker *w = i == 0 ? least : &p->w[i - 1];

		if ((i > 0 && w == least) || w->pid <= 0 ||
		    w->njobs >= WORKER_DEPTH ||
		    worker_send(w, (unsigned char)kind, fds, nfds, name, nl,
		    provider) != 0)
			continue;
		w->job[w->njobs] = p->next_job++;
		w->kind[w->njobs] = kind;
		*job = w->job[w->njobs++];
		return 0;
	}
	return -1;
}

int
worker_submit(struct worker_pool *p, enum worker_job_kind kind, int fd,
    const char *name, const char *provider, uint64_t *job)
{
	if (name == NULL)
		name = "";
	if (kind == WJ_VERIFY)
		return worker_submit_files(p, kind, &fd, &name, 1, provider,
		    job);
	return worker_submit_msg(p, kind, &fd, 1, name, strlen(name),
	    provider, job);
}

int
worker_submit_files(struct worker_pool *p, enum worker_job_kind kind,
    const int *fds, const char *const *names, size_t n, const char *provider,
    uint64_t *job)
{
	char buf[WORKER_NAME_MAX];
	size_t nl = 0;

	if (kind != WJ_VERIFY || n == 0 || n > WORKER_FILES_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);

		if (l == 0 || l + 1 > sizeof(buf) - nl)
			return -1;
		memcpy(buf + nl, names[i], l + 1);
		nl += l + 1;
	}
	/* NUL-separated: the last one's NUL is not sent */
	return worker_submit_msg(p, kind, fds, n, buf, nl - 1, provider, job);
}

/* Reap w (blocking when force: after SIGKILL).  1 when reaped. */
static int
worker_reap(struct worker *w, int force, int *status)
{
	pid_t r;

	do
		r = waitpid(w->pid, status, force ? 0 : WNOHANG);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return 0;
	if (r == -1)
		*status = 0; /* someone else reaped it: say "exited 0" */
	return 1;
}

/*
 * The worker in slot w is gone (reaped): start another in its place and
 * report the job it was working on, if any, with reason; the jobs queued
 * behind it never started and come back as WR_NOT_STARTED from
 * worker_pool_collect().  Returns -1 when no replacement could be started.
 */
static int
worker_replace(struct worker_pool *p, struct worker *w,
    enum worker_status st, const char *reason, struct worker_result *res,
    int *have)
{
	*have = 0;
	if (w->njobs > 0) {
		memset(res, 0, sizeof(*res));
		res->job = w->job[0];
		res->status = st;
		snprintf(res->reason, sizeof(res->reason), "%s", reason);
		*have = 1;
	}
	for (size_t k = 1; k < w->njobs; k++) {
		xgrow(&p->unstarted, &p->capunstarted, p->nunstarted,
		    sizeof(*p->unstarted));
		p->unstarted[p->nunstarted++] = w->job[k];
	}
	w->njobs = 0;
	w->pid = -1;
	free(w->buf);
	w->buf = NULL;
	w->hdrlen = w->have = w->total = 0;
	p->restarts++;
	return worker_start(p, w);
}

/* Kill a worker that broke the protocol, then replace it. */
static int
worker_kill(struct worker_pool *p, struct worker *w, const char *why,
    struct worker_result *res, int *have)
{
	int status;

	kill(w->pid, SIGKILL);
	worker_reap(w, 1, &status);
	return worker_replace(p, w, WR_PROTOCOL, why, res, have);
}

/* A whole frame is in w->buf: decode it into res. */
static void
worker_frame_done(struct worker_pool *p, struct worker *w,
    struct worker_result *res, char *why, size_t whysize)
{
	struct wire_answer a;
	char err[200];

	memset(res, 0, sizeof(*res));
	res->job = w->job[0];
	why[0] = '\0';
	if (wire_decode(&w->buf, w->total, &p->cf->limits, &a, err,
	    sizeof(err)) != 0) {
		snprintf(why, whysize, "worker answer does not decode: %s",
		    err);
		return;
	}
	if (a.kind == WIRE_ERROR) {
		res->status = WR_CRASHED;
		snprintf(res->reason, sizeof(res->reason), "worker: %s",
		    a.reason);
	} else if (a.kind == WIRE_WHOLE && w->kind[0] == WJ_WHOLE) {
		res->status = WR_OK;
		res->whole = a.whole;
	} else if (a.kind == WIRE_UPLOAD && (w->kind[0] == WJ_PARSE ||
	    w->kind[0] == WJ_VIEW || w->kind[0] == WJ_VERIFY) &&
	    a.upload->mail == NULL) {
		res->status = WR_OK;
		res->upload = a.upload;
	} else if (a.kind == WIRE_UPLOAD && w->kind[0] == WJ_MAIL &&
	    a.upload->mail != NULL) {
		res->status = WR_OK;
		res->upload = a.upload;
	} else {
		upload_free(a.upload);
		snprintf(why, whysize, "worker answered another kind of job");
		return;
	}
	free(w->buf);
	w->buf = NULL;
	w->hdrlen = w->have = w->total = 0;
	w->njobs--;
	memmove(w->job, w->job + 1, w->njobs * sizeof(*w->job));
	memmove(w->kind, w->kind + 1, w->njobs * sizeof(*w->kind));
}

/*
 * Read what w has sent.  Returns 1 with res filled when a job ended (a
 * frame, or the worker's death while busy), 0 when nothing ended, -1
 * when a replacement could not be started (res may still be filled:
 * *have says).
 */
static int
worker_poll(struct worker_pool *p, struct worker *w, struct worker_result *res,
    int *have)
{
	char why[256];
	int status, eof = 0;

	*have = 0;
	if (w->pid <= 0) {
		/* A slot whose restart failed earlier: try again. */
		p->restarts--;
		return worker_replace(p, w, WR_CRASHED, "", res, have);
	}
	for (;;) {
		ssize_t r;

		if (w->njobs == 0) {
			unsigned char c;

			r = recv(w->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
			if (r > 0)
				return worker_kill(p, w, "worker sent data "
				    "while idle", res, have);
		} else if (w->hdrlen < WIRE_HEADER_SIZE) {
			r = read(w->fd, w->hdr + w->hdrlen,
			    WIRE_HEADER_SIZE - w->hdrlen);
			if (r > 0) {
				w->hdrlen += (size_t)r;
				if (w->hdrlen < WIRE_HEADER_SIZE)
					continue;
				if (wire_header_parse(w->hdr, p->frame_max,
				    &w->total) != 0)
					return worker_kill(p, w, "worker sent "
					    "a bad or oversized frame header",
					    res, have);
				if ((w->buf = malloc(w->total)) == NULL)
					return worker_kill(p, w, "no memory "
					    "for the worker's answer", res,
					    have);
				memcpy(w->buf, w->hdr, WIRE_HEADER_SIZE);
				w->have = WIRE_HEADER_SIZE;
			}
		} else {
			r = 0;
			if (w->have < w->total)
				r = read(w->fd, w->buf + w->have,
				    w->total - w->have);
			if (r > 0)
				w->have += (size_t)r;
		}
		if (w->njobs > 0 && w->hdrlen == WIRE_HEADER_SIZE &&
		    w->have == w->total) {
			worker_frame_done(p, w, res, why, sizeof(why));
			if (why[0] != '\0')
				return worker_kill(p, w, why, res, have);
			*have = 1;
			return 0;
		}
		if (r > 0)
			continue;
		if (r == 0) {
			eof = 1;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		eof = 1; /* ECONNRESET and the like: it is gone */
		break;
	}
	/* A worker that dies closes its socket: only then is there a
	 * child to reap (no waitpid per turn while all is well). */
	if (!eof)
		return 0;
	if (!worker_reap(w, 0, &status)) {
		/* Its socket closed: it is exiting.  Give it a moment to
		 * become a zombie, so the cause is its own, then insist. */
		for (int i = 0; i < 50; i++) {
			usleep(1000);
			if (worker_reap(w, 0, &status))
				break;
			if (i == 49) {
				kill(w->pid, SIGKILL);
				worker_reap(w, 1, &status);
			}
		}
	}
	worker_reason_status(status, why, sizeof(why));
	return worker_replace(p, w, WR_CRASHED, why, res, have);
}

int
worker_pool_collect(struct worker_pool *p,
    void (*cb)(const struct worker_result *res, void *arg), void *arg)
{
	int delivered = 0, failed = 0;

	for (size_t i = 0; i < p->n; i++) {
		struct worker_result res;
		int have, r;

		/* every answer it has sent, not one per turn */
		do {
			r = worker_poll(p, &p->w[i], &res, &have);
			if (r < 0)
				failed = 1;
			if (have) {
				/* The slot is consistent again: cb may
				 * submit. */
				cb(&res, arg);
				delivered++;
			}
		} while (have && r == 0 && p->w[i].pid > 0);
	}
	while (p->nunstarted > 0) {
		struct worker_result res;

		memset(&res, 0, sizeof(res));
		res.job = p->unstarted[--p->nunstarted];
		res.status = WR_NOT_STARTED;
		snprintf(res.reason, sizeof(res.reason), "its worker died "
		    "before it started");
		cb(&res, arg);
		delivered++;
	}
	return failed ? -1 : delivered;
}
