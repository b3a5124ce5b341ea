/*
 * worker_client: hostile bytes parsed in a sandboxed worker, one job at
 * a time, for a program that is not an event loop (beianctl check,
 * submit and verify; beiand-web's uploads).
 *
 * A client is one beiand-worker process (worker/worker.h tells what it
 * is and what it may not do), started by worker_client_new() and
 * replaced when it dies.  Each call hands it one job and waits for the
 * answer, which is decoded as hostile (worker/wire.h) before it is
 * returned.  Typical use, for bytes a user uploaded:
 *
 *	struct worker_client *wc;
 *	struct worker_result res;
 *
 *	if ((wc = worker_client_new(cf, err, sizeof(err))) == NULL)
 *		... err says why (no beiand-worker, no user to run it as) ...
 *	if (worker_client_run_mem(wc, WJ_PARSE, buf, len, "upload.zip",
 *	    NULL, &res) == -1)
 *		... worker_client_error(wc) says why ...
 *	else if (res.status != WR_OK)
 *		... the worker died on it (res.reason): treat the bytes as
 *		    unreadable, never parse them in this process ...
 *	else
 *		... res.upload: items and findings; upload_free() it ...
 *	worker_client_free(wc);
 *
 * A photo and scan for a verification go with their record:
 * worker_client_verify().  Every function is for one thread at a time
 * per client; a client may serve any number of jobs.
 */
#ifndef BEIAND_WORKER_CLIENT_H
#define BEIAND_WORKER_CLIENT_H

#include <stddef.h>

#include "parsers/filing_check.h"
#include "worker/worker.h"

struct config;
struct worker_client;

/*
 * Start a worker for cf (its limits, provinces and providers' IP
 * ranges; cf must outlive the client).  NULL with the reason in err.
 */
struct worker_client *worker_client_new(const struct config *cf, char *err,
    size_t errsize);
/* Stop the worker and free; accepts NULL. */
void worker_client_free(struct worker_client *c);

/*
 * Run one job of kind (WJ_PARSE, WJ_WHOLE, WJ_MAIL) on fd, a readable
 * file the caller keeps (the worker reads its own duplicate from offset
 * 0), named name (decides a bare *.decision.xml; may be NULL) for
 * provider (whose IP ranges apply; NULL for none).  Waits for the
 * answer: 0 and *res (res->status WR_OK with res->upload or res->whole
 * as worker_result says; or WR_CRASHED / WR_PROTOCOL with res->reason,
 * the next job then going to a new worker).  -1 when the job could not
 * be run at all (no worker could be started, an unknown provider):
 * worker_client_error() says why.  res->upload belongs to the caller.
 */
int worker_client_run(struct worker_client *c, enum worker_job_kind kind,
    int fd, const char *name, const char *provider,
    struct worker_result *res);
/* worker_client_run() on buf[0..len), copied into a sealed memfd: what
 * the worker reads is exactly what the caller holds. */
int worker_client_run_mem(struct worker_client *c, enum worker_job_kind kind,
    const void *buf, size_t len, const char *name, const char *provider,
    struct worker_result *res);
/*
 * WJ_VERIFY: files[0] a verification record, files[1..n) (n <= 3) the
 * files beside it (names without '/'), as memfds.  On WR_OK,
 * res->upload holds one ITEM_VERIFICATION item named files[0].name with
 * its findings, its parsed record (NULL when it did not parse), its
 * sha256 and its files (their bytes in the frame).
 */
int worker_client_verify(struct worker_client *c,
    const struct pkg_file *files, size_t n, struct worker_result *res);

/* Why the last call returned -1 (or why its worker died). */
const char *worker_client_error(const struct worker_client *c);

/* The pid of the worker now serving c, or -1 (for tests). */
pid_t worker_client_pid(const struct worker_client *c);

#endif
