/*
 * idscan: the highest tracking id of each year found where ids leave
 * beiand on disk — the receipts in spool_dir/<kind>/<code>/outgoing/
 * (*.receipt.xml) and the names of the .eml files in state_dir/mail/
 * ("BA-2026-000123.17.received.owner.eml") — so that a database
 * restored from a backup can go on after them (store/highwater.h).
 *
 * The cost is bounded: receipts are read only when changed at or after
 * `since` (the caller passes a day before the newest filing its database
 * knows: older receipts name ids that database knows), each at most
 * IDSCAN_RECEIPT_MAX bytes; of the .eml files only the names are read.
 * Ids have 6 digits, or 7 in a year that used up a million.
 */
#ifndef BEIAND_IDSCAN_H
#define BEIAND_IDSCAN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define IDSCAN_RECEIPT_MAX ((size_t)16 << 20)

struct idscan_hit {
	int year;
	int64_t seq;
	char where[512];        /* the file it was found in */
};

struct idscan_stats {
	size_t receipts_read, receipts_skipped, emls;
};

/*
 * Scan; *hits (malloc'd, one per year, highest seq) and *nhits.  Folders
 * that do not exist are nothing to scan; a file that cannot be read is
 * skipped.  Either folder may be NULL.  0, or -1 (out of memory is fatal
 * elsewhere: only a folder that cannot be listed, errno set).
 */
int idscan_run(const char *spool_dir, const char *mail_dir, time_t since,
    struct idscan_hit **hits, size_t *nhits, struct idscan_stats *stats);
/* The tracking id at s ("BA-YYYY-NNNNNN[N]" followed by a non-digit or
 * the end): 1 with *year, *seq; 0 when s does not start with one. */
int idscan_parse(const char *s, size_t len, int *year, int64_t *seq);

#endif
