/*
 * worker: what the pool and the worker process share (private to
 * worker/worker.c and worker/worker_child.c; no other file includes it):
 * the job message and the pool a worker is forked from.
 */
#ifndef BEIAND_WORKER_INT_H
#define BEIAND_WORKER_INT_H

#include <stdint.h>
#include <sys/types.h>

#define WORKER_JOB_CPU   30         /* seconds of CPU per job */
#define WORKER_NAME_MAX  4096
#define WORKER_PROV_MAX  255

/* Job message, parent to worker: this header, the name, the provider;
 * the file descriptor rides on the first byte. */
#define JOB_MAGIC        0x4a /* 'J' */
#define JOB_HDR_SIZE     6

struct config;
struct worker;

struct worker_pool {
	const struct config *cf;
	struct worker *w;
	size_t n;
	uint64_t next_job;
	uint64_t restarts;
	uint64_t frame_max;
	uint64_t *unstarted; /* jobs queued behind one that killed its worker */
	size_t nunstarted, capunstarted;
	int drop;           /* drop to uid/gid in the worker */
	uid_t uid;
	gid_t gid;
};

/*
 * The worker process (worker_child.c), in the child right after fork():
 * sock is its end of the socket; it dies when parent does.  Never
 * returns.
 */
void worker_main(const struct worker_pool *p, int sock, pid_t parent)
    __attribute__((noreturn));

#endif
