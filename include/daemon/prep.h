/*
 * prep: the parent's own reading of claimed uploads, on a thread.
 *
 * Between an upload's parse and its group commit the parent needs the
 * upload's SHA-256 (its identity in the store and its receipt) and, for a
 * single package kept as uploaded, its blob in the store.  A thread does
 * both as results come back, so the loop only waits for a job its group
 * needs and that is not done yet.  It also runs other file work handed to
 * it as a call (a group's receipts, the removal of its claimed files),
 * and says when such a call is done through prep_fd().  The thread
 * touches nothing but the jobs it is given; prep_run() does an upload's
 * work on the calling thread.
 */
#ifndef BEIAND_PREP_H
#define BEIAND_PREP_H

#include <stddef.h>
#include <time.h>

#include "lib/sha256.h"

struct prep;

struct prep_job {
	struct prep_job *next;      /* prep.c's own */
	/* in: a call, or (call NULL) an upload's hash and blob */
	void (*call)(void *arg);
	void *arg;
	char path[4200];            /* the claimed file */
	const char *state_dir;      /* write its blob there (not synced), or
	                             * NULL for none */
	/* with stamped: the file's change time and size when it was handed
	 * to a parser; a file that differs once read was written meanwhile */
	int stamped;
	struct timespec ctime;
	long long size;
	/* out, once done */
	unsigned char sha256[SHA256_LEN];
	size_t len;
	int err;                    /* errno reading the file, else 0 */
	int changed;                /* stamped, and written since (no blob) */
	int blob_written;           /* the blob is in the store */
	int blob_new;               /* ... and was not there before */
	char blob_err[512];         /* why it could not be written, or "" */
	int done;
};

struct prep *prep_new(char *err, size_t errsize);
/* Finish every job submitted, then stop.  Accepts NULL. */
void prep_free(struct prep *pp);
/* Hand job over until prep_wait() says it is done. */
void prep_submit(struct prep *pp, struct prep_job *job);
/* Wait until job is done (it is the caller's again). */
void prep_wait(struct prep *pp, struct prep_job *job);
/* job (an upload's) done: here when the thread has not started it yet,
 * else waited for.  1 when it was done here. */
int prep_take(struct prep *pp, struct prep_job *job);
/* Whether job is done, without waiting. */
int prep_done(struct prep *pp, const struct prep_job *job);
/* Readable when a call finished; prep_woken() reads it. */
int prep_fd(const struct prep *pp);
void prep_woken(struct prep *pp);
/* Do job here and now. */
void prep_run(struct prep_job *job);

#endif
