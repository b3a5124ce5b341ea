/*
 * notify: see include/lib/notify.h.
 *
 * The text we send is ours (counts, states); nothing from an upload or a
 * mail goes into it, so a STATUS line cannot carry a secret.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "lib/notify.h"

static int64_t notify_last_ping_ms = -1;

static int
notify_enabled(void)
{
	const char *s = getenv("NOTIFY_SOCKET");

	return s != NULL && *s != '\0';
}

static void
notify_send(const char *text)
{
	if (!notify_enabled())
		return;
	(void)sd_notify(0, text);
}

void
notify_ready(void)
{
	notify_send("READY=1");
}

void
notify_status(const char *fmt, ...)
{
	char buf[512], line[sizeof(buf) + 8];
	va_list ap;

	if (!notify_enabled())
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);  /* a status may be cut short */
	va_end(ap);
	/* One assignment per line in the protocol: keep it on one. */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	snprintf(line, sizeof(line), "STATUS=%s", buf);
	notify_send(line);
}

int64_t
notify_watchdog_interval_ms(void)
{
	uint64_t usec = 0;

	if (!notify_enabled() || sd_watchdog_enabled(0, &usec) <= 0 ||
	    usec == 0)
		return -1;
	/* Half the period, at least 1 ms so that a caller's poll never spins. */
	return usec / 2000 > 0 ? (int64_t)(usec / 2000) : 1;
}

void
notify_watchdog(int64_t now_ms)
{
	int64_t half = notify_watchdog_interval_ms();

	if (half < 0)
		return;
	if (notify_last_ping_ms >= 0 && now_ms - notify_last_ping_ms < half)
		return;
	notify_last_ping_ms = now_ms;
	notify_send("WATCHDOG=1");
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1");
}

void
notify_reloading(void)
{
	struct timespec ts;
	char buf[96];

	if (!notify_enabled())
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(buf, sizeof(buf), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
	notify_send(buf);
}
