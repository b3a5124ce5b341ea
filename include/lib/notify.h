/*
 * notify: the service manager protocol (sd_notify(3)) for Type=notify.
 *
 * A thin wrapper over libsystemd's sd_notify().  Every call is a no-op
 * when NOTIFY_SOCKET is not set (beiand -f from a shell, tests), and a
 * failure to send is ignored: the service manager's view is advisory,
 * the daemon's work must never depend on it.  The environment is left
 * as it is: the helpers (beiand-worker, beiand-imap) are exec'd with an
 * environment of their own (lib/spawn.h), without NOTIFY_SOCKET.
 */
#ifndef BEIAND_NOTIFY_H
#define BEIAND_NOTIFY_H

#include <stdint.h>

/*
 * READY=1: send once the store is open, the watches are set and the
 * start-up rescan (recover_work) is done; again after a reload.
 */
void notify_ready(void);
/* STATUS=<text>, one line (newlines are replaced by spaces). */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * WATCHDOG=1, at most once per half of WATCHDOG_USEC (sd_watchdog_enabled:
 * honours WATCHDOG_PID); call it on every loop turn.  now_ms is a
 * CLOCK_MONOTONIC time in milliseconds.  No-op without a watchdog.
 */
void notify_watchdog(int64_t now_ms);
/*
 * The longest the loop may sleep before it must call notify_watchdog()
 * again, in ms (half of WATCHDOG_USEC), or -1 when there is no watchdog.
 */
int64_t notify_watchdog_interval_ms(void);
/* STOPPING=1: the drain on SIGTERM begins. */
void notify_stopping(void);
/*
 * RELOADING=1 with MONOTONIC_USEC=<now> (which systemd 253+'s
 * Type=notify-reload requires; 252 ignores it); follow with
 * notify_ready() when the reload is over, whether it succeeded or not.
 */
void notify_reloading(void);

#endif
