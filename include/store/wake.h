/*
 * store/wake: the outbox's doorbell — how a process that queued mail
 * wakes the daemon's mailer at once (as Postfix's postdrop and postqueue
 * wake pickup and qmgr through their FIFOs).
 *
 * beiand listens on the FIFO state_dir/outbox.fifo.  Every other writer
 * (beianctl, beiand-web, tools) pokes it after a commit that queued an
 * outbox row or put one back to queued (retry): store.c does so by
 * itself for every connection whose pokes are on (the default), so a
 * new writer needs no code of its own.  A poke carries no data: it only
 * says "look at the outbox"; the outbox rows are the truth.  A poke that
 * is lost (no daemon, a full pipe, a reload in between) costs nothing but
 * the daemon's own periodic look at the outbox, which stays the backstop.
 */
#ifndef BEIAND_STORE_WAKE_H
#define BEIAND_STORE_WAKE_H

#include <stddef.h>

struct store;

/* The FIFO's name in state_dir. */
#define STORE_WAKE_FIFO "outbox.fifo"

/*
 * The listener (beiand): make state_dir/outbox.fifo (mode 0600; a
 * leftover of another kind is replaced) and open it for reading, non-
 * blocking and close-on-exec.  It is opened read-write so that it never
 * reads end-of-file when the last writer goes.  The descriptor to poll,
 * or -1 with err set.
 */
int store_wake_listen(const char *state_dir, char *err, size_t errsize);
/* Read away every poke waiting on fd (the listener's). */
void store_wake_drain(int fd);
/*
 * Any writer: poke the listener of state_dir, without blocking and
 * without SIGPIPE.  0 poked (or one is already waiting), 1 nobody
 * listens (no daemon), -1 with errno on another error.  Callers may
 * ignore the result: the daemon looks at the outbox by itself too.
 */
int store_wake_post(const char *state_dir);
/*
 * Whether commits through st that queue mail poke the listener (on by
 * default; the daemon, the listener itself, turns it off).
 */
void store_wake_set(struct store *st, int on);

#endif
