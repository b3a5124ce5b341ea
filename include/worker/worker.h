/*
 * worker: a pool of parser worker processes.
 *
 * Hostile input is parsed only in a worker, never in the parent: each
 * is a fresh exec of the program beiand-worker (it inherits no memory of
 * the parent, so no password of the configuration), told only what
 * parsing needs (limits, provinces, providers' IP ranges), running as
 * the user beiand-worker (else nobody) when the parent is root, with no
 * capability, no_new_privs, resource limits (address space, CPU time per
 * job, open files), Landlock refusing every file and network access and
 * its own seccomp filter allowing only what parsing needs: a call
 * outside it ends the worker with SIGSYS.  It reads a file the parent
 * hands it over a UNIX socket (SCM_RIGHTS) and writes back one framed
 * result.  The parent decodes that frame as untrusted input: every
 * length is bounded and checked, and a frame that does not decode makes
 * the result WR_PROTOCOL.  A worker that dies (a crash, a limit hit, a
 * refused system call) is replaced; its job comes back as WR_CRASHED
 * with the reason.
 *
 * A program that parses one thing at a time (beianctl, beiand-web)
 * uses the simpler worker/worker_client.h over the same workers.
 */
#ifndef BEIAND_WORKER_H
#define BEIAND_WORKER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "parsers/archive_reader.h"
#include "parsers/package.h"

struct config;
struct worker_pool;

/* Jobs a worker holds at once: it parses the next while the parent is
 * busy with the answers before (worker_pool_idle counts the room). */
#define WORKER_DEPTH 32

enum worker_job_kind {
	WJ_WHOLE, /* ar_check_whole(): may the upload be claimed? */
	WJ_PARSE, /* upload_read(..., UPLOAD_HASH): the items */
	WJ_MAIL,  /* a raw mail (.eml): its package as items, and
	           * upload->mail (DESIGN.md "Owner mail (IMAP)") */
	WJ_VIEW,  /* as WJ_PARSE, with every file's bytes even for one
	           * package kept as uploaded: the console shows them */
	WJ_VERIFY /* a verification record (the first descriptor) and the
	           * files beside it (the others, up to 2: a photo, a scan):
	           * one ITEM_VERIFICATION at the record's name, checked and
	           * hashed as a batch's record is, its files' bytes kept */
};

enum worker_status {
	WR_OK,
	WR_CRASHED,  /* the worker died or exceeded a limit; reason says how */
	WR_PROTOCOL, /* the worker's answer did not decode */
	WR_NOT_STARTED /* queued behind a job that killed its worker: submit
	                * it again, it was never tried */
};

struct worker_result {
	uint64_t job;               /* as returned by worker_submit() */
	enum worker_status status;
	char reason[256];           /* WR_CRASHED / WR_PROTOCOL: what happened */
	enum ar_whole whole;        /* WJ_WHOLE */
	/*
	 * WJ_PARSE, WJ_MAIL: the upload rebuilt from the worker's frame, as
	 * upload_read() would have returned it (items with their findings,
	 * documents, sha256 and files); owned by the caller (upload_free).
	 */
	struct upload *upload;
};

/*
 * Start n workers (n == 0: one per online CPU) with the configuration cf
 * (its limits, provinces and provider ranges; cf must outlive the pool).
 * Returns NULL with a message in err on failure.
 */
struct worker_pool *worker_pool_new(const struct config *cf, int n,
    char *err, size_t errsize);
/* Stop every worker (SIGTERM, then SIGKILL) and free; accepts NULL. */
void worker_pool_free(struct worker_pool *p);

/*
 * Room for more jobs: each worker takes a few in turn (it parses the next
 * while the parent is busy with the answers before), so this counts free
 * places in the workers' queues, not idle workers.
 */
size_t worker_pool_idle(const struct worker_pool *p);

/*
 * Hand fd (an open, readable regular file; the pool sends a duplicate, the
 * caller keeps and closes its own) to the least loaded worker, queued
 * behind the jobs it has (answers come in the order sent).  name is the upload
 * name (decides a bare *.decision.xml); provider is the provider code whose
 * IP ranges apply, or NULL.  Returns 0 and *job, or -1 when no worker has
 * room or sending failed.
 */
int worker_submit(struct worker_pool *p, enum worker_job_kind kind, int fd,
    const char *name, const char *provider, uint64_t *job);

/*
 * worker_submit for WJ_VERIFY: fds[0..n) (n <= 3; the record first), each
 * named names[i] (no '/', not empty).  Same returns.
 */
int worker_submit_files(struct worker_pool *p, enum worker_job_kind kind,
    const int *fds, const char *const *names, size_t n, const char *provider,
    uint64_t *job);

/* The descriptors to watch for readability (one per worker); returns how
 * many were written to fds (at most max). */
size_t worker_pool_fds(const struct worker_pool *p, int *fds, size_t max);

/*
 * Collect finished jobs: reads what is readable on the workers' sockets
 * and reaps dead workers (call on readability and on SIGCHLD; never
 * blocks).  cb is called once per finished job; after it returns,
 * out->upload belongs to the callee.  Dead workers are replaced.
 * Returns the number of results delivered, or -1 when a replacement
 * could not be started.
 */
int worker_pool_collect(struct worker_pool *p,
    void (*cb)(const struct worker_result *res, void *arg), void *arg);

/* The Landlock ABI the workers confine themselves with (0: the kernel
 * has none; their seccomp filter, limits and credentials hold alone). */
int worker_pool_landlock_abi(const struct worker_pool *p);

/* Why the last worker start failed (for a log line after
 * worker_pool_collect() returned -1). */
const char *worker_pool_error(const struct worker_pool *p);

/* Workers replaced since the pool started (beiand_worker_restarts_total). */
uint64_t worker_pool_restarts(const struct worker_pool *p);

/* The pid of worker i (0 .. n-1 of worker_pool_new), or -1 while it is
 * not running (for tests: its /proc). */
pid_t worker_pool_pid(const struct worker_pool *p, size_t i);

/* The pid of the worker that has job, or -1 (for tests: kill it). */
pid_t worker_pool_pid_of_job(const struct worker_pool *p, uint64_t job);

#endif
