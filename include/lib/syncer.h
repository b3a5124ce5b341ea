/*
 * syncer: durability off the event loop.
 *
 * One thread makes whatever was written before a request durable, with
 * one syncfs(2) per filesystem the daemon writes to (the spool's and the
 * state directory's), while the loop goes on.  Requests are numbered:
 * syncer_request() returns a tag, and everything written before that call
 * is on disk once syncer_durable() has reached the tag.  Requests that
 * arrive while a sync runs are answered together by the next one, so a
 * burst of them costs one sync.  The thread touches no daemon state: it
 * only calls syncfs(2) on descriptors it was given and counts.
 */
#ifndef BEIAND_SYNCER_H
#define BEIAND_SYNCER_H

#include <stddef.h>
#include <stdint.h>

struct syncer;

/* dirs: folders on each filesystem to sync (one per filesystem is kept).
 * NULL with err set on failure. */
struct syncer *syncer_new(const char *const *dirs, int ndirs, char *err,
    size_t errsize);
void syncer_free(struct syncer *sy);                    /* accepts NULL */

/* The tag that is durable once everything written so far is. */
uint64_t syncer_request(struct syncer *sy);
/* The last tag made durable (read it after syncer_fd() polled readable). */
uint64_t syncer_durable(struct syncer *sy);
/* Block until tag is durable: 0, or -1 with errno when a sync failed
 * meanwhile (the thread keeps trying; the caller decides). */
int syncer_wait(struct syncer *sy, uint64_t tag);
/* Readable when a sync completed (read by syncer_durable()). */
int syncer_fd(const struct syncer *sy);
/* The errno of the last failed sync, 0 once one succeeded again: a failed
 * sync is retried every second and makes nothing durable meanwhile. */
int syncer_error(struct syncer *sy);

#endif
