/*
 * store/highwater: what left the system is never issued again — not
 * after a crash, not by a database restored from a backup (FORMAT.md §4:
 * "never reused"; "never reused" wins over "gap-free").
 *
 * Tracking ids and filing numbers are told to people (receipts, mails,
 * the bureau) once their commit is durable.  A database restored from a
 * backup forgets those issued after the backup, and its sequences would
 * issue them again.  So a small text file outside the database,
 * state_dir/highwater, keeps the high-water marks: per year the last
 * tracking id; per province and year the last local subject serial and
 * the serials a bureau decision carried above it; the number of site
 * numbers addSite approvals issued.  A transaction that issues above a
 * mark raises it durably (temporary file, fdatasync, rename, and the
 * folder's fsync or the daemon's syncfs before anything is told) before
 * its COMMIT, so it is never below what was told; after every COMMIT the
 * mark records what is known committed (store/highwater.c says how that
 * tells a crash, which leaves no gap, from a restore).  Restoring
 * beiand.db does not touch the file.
 *
 * store_open() compares the file with the database and moves every
 * sequence of a database that forgot what was committed past the mark,
 * in one transaction, with a note for each (store_note_next: the daemon
 * logs them, beianctl prints them).
 * Site numbers are per subject and the file keeps only their count: when
 * the database knows fewer than were issued, each subject's next site
 * number skips that many.
 *
 * Ids also appear on receipts and in .eml files; store_tracking_floor()
 * moves the sequence past what a scan of those found (common/idscan.h),
 * for a state_dir whose file was lost with the database.
 */
#ifndef BEIAND_STORE_HIGHWATER_H
#define BEIAND_STORE_HIGHWATER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store/store.h"

#define STORE_HIGHWATER_FILE "highwater"

/* The next note of what the store did to keep ids and numbers from being
 * issued twice (at open, or by store_tracking_floor), oldest first; NULL
 * when none is left.  Valid until the store is closed. */
const char *store_note_next(struct store *st);
/*
 * Tracking ids of year up to seq were issued (found on a receipt or in a
 * mail: where, for the note): the sequence goes on after seq.  0 nothing
 * to do, 1 moved (with a note), -1 error.
 */
int store_tracking_floor(struct store *st, int year, int64_t seq,
    const char *where);
/* The time the newest filing was made; 0 when there is none. */
int store_filings_newest(struct store *st, time_t *t);
/*
 * Merge the mark file of the folder from_dir (a backup's, or state_dir
 * itself) into state_dir's: each value the higher of the two; with
 * confirm, every mark then counts as committed, so that the next open
 * makes a database below it go on past it (a restore).  Written durably.
 * A missing file is nothing to merge.  0, or -1 with err set.
 */
int store_highwater_merge(const char *state_dir, const char *from_dir,
    int confirm, char *err, size_t errsize);

#endif
