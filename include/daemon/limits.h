/*
 * limits: the limits that hold intake back (DESIGN.md, Hostile senders)
 * as the daemon applies and tells them.  It applies [daemon] min_free to
 * the spool itself: while state_dir has less free space, no upload is
 * claimed (they wait in incoming/, nothing lost); the IMAP fetcher
 * applies min_free, inbox_max and sender_max to the mail it takes
 * (mail/imap_limits.c).  Every limit that holds is logged when it starts
 * and when it ends, kept as a row for `beianctl status` (store_limit_set)
 * and shown in the metrics.
 */
#ifndef BEIAND_LIMITS_H
#define BEIAND_LIMITS_H

#include <stdint.h>
#include <time.h>

struct config;
struct intake_limits;
struct metrics;
struct store;

struct limits;

/* For cf and st (which must outlive it); clears the rows a previous run
 * left.  Never NULL. */
struct limits *limits_new(const struct config *cf, struct store *st);
/* Clears the rows (the daemon stops holding anything back); accepts NULL. */
void limits_free(struct limits *l);

/*
 * 1 while state_dir has less than min_free: the spool claims nothing.
 * Looks at the filesystem at most once a second; logs a change, and a
 * change is published at once.
 */
int limits_paused(struct limits *l, int64_t now_ms);

/*
 * Publish what holds now: the status rows (written when their text
 * changes) and the metrics gauges, from il (the fetcher's side; NULL
 * without mail intake).  m may be NULL.
 */
void limits_publish(struct limits *l, const struct intake_limits *il,
    struct metrics *m);

#endif
