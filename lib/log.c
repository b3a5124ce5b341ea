/*
 * log: see include/lib/log.h.
 *
 * The text of a line may carry names taken from hostile input (upload
 * names, mail addresses).  It goes to the journal as one MESSAGE= field
 * and to stderr as one line: control bytes are shown as \xHH so that an
 * upload named "x\nfake line" cannot forge a second line or a field.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "lib/log.h"

static int log_verbose;
static const char *log_ident = "beiand";
static enum log_sink log_to = LOG_SINK_STDERR;

/* systemd sets JOURNAL_STREAM=dev:ino of the stream it gave us. */
static int
stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (e == NULL || sscanf(e, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *ident, int foreground, int verbose)
{
	/* beiand never detaches: where its stderr goes is the caller's
	 * choice (a service manager, a supervisor's logger, a file). */
	(void)foreground;
	log_ident = ident;
	log_verbose = verbose;
	log_to = stderr_is_journal() ? LOG_SINK_JOURNAL : LOG_SINK_STDERR;
}

enum log_sink
log_sink(void)
{
	return log_to;
}

int
log_verbosity(void)
{
	return log_verbose;
}

void
log_init_sink(const char *ident, enum log_sink sink, int verbose)
{
	log_ident = ident;
	log_verbose = verbose;
	/* stderr is the daemon's: lines there when the journal is away */
	log_to = sink == LOG_SINK_JOURNAL ? LOG_SINK_JOURNAL : LOG_SINK_STDERR;
}

static const struct {
	const char *key;    /* with its '=' */
	const char *field;
} log_keys[] = {
	{ "filing=", "BEIAND_FILING" },
	{ "provider=", "BEIAND_PROVIDER" },
	{ "sha256=", "BEIAND_SHA256" },
	{ "uid=", "BEIAND_MAIL_UID" },
};
#define NKEYS (sizeof(log_keys) / sizeof(log_keys[0]))

static size_t
value_len(const char *v)
{
	size_t n = strcspn(v, " \t");

	while (n > 0 && strchr(",;:", v[n - 1]) != NULL)
		n--;
	return n;
}

size_t
log_fields_extract(const char *line, char out[LOG_MAX_FIELDS][LOG_FIELD_SIZE])
{
	int seen[NKEYS] = { 0 };
	size_t n = 0, sub;
	int w;

	/* "spool: ..." → BEIAND_SUBSYSTEM=spool */
	sub = strspn(line, "abcdefghijklmnopqrstuvwxyz_");
	if (sub > 0 && line[sub] == ':' && n < LOG_MAX_FIELDS) {
		w = snprintf(out[n], LOG_FIELD_SIZE, "BEIAND_SUBSYSTEM=%.*s",
		    (int)sub, line);
		if (w > 0 && (size_t)w < LOG_FIELD_SIZE)
			n++;
	}
	for (const char *p = line; *p != '\0' && n < LOG_MAX_FIELDS; p++) {
		if (p != line && p[-1] != ' ' && p[-1] != '\t')
			continue;
		for (size_t k = 0; k < NKEYS; k++) {
			size_t kl = strlen(log_keys[k].key), vl;

			if (seen[k] || strncmp(p, log_keys[k].key, kl) != 0)
				continue;
			seen[k] = 1;
			vl = value_len(p + kl);
			if (vl == 0 || (vl == 1 && p[kl] == '-'))
				break;
			w = snprintf(out[n], LOG_FIELD_SIZE, "%s=%.*s",
			    log_keys[k].field, (int)vl, p + kl);
			if (w > 0 && (size_t)w < LOG_FIELD_SIZE)
				n++;
			break;
		}
	}
	return n;
}

static void
mask(char *v, size_t len)
{
	/* "***" then the rest of the value removed. */
	size_t keep = len < 3 ? len : 3;

	memset(v, '*', keep);
	memmove(v + keep, v + len, strlen(v + len) + 1);
}

void
log_redact(char *line)
{
	/* Keys ending so: also review_token=, owner_token=, smtp_password= */
	static const char *const secret_keys[] = {
		"password", "pass", "secret", "token"
	};
	char *p;

	for (p = line; (p = strchr(p, '=')) != NULL; p++)
		for (size_t k = 0; k < sizeof(secret_keys) /
		    sizeof(secret_keys[0]); k++) {
			size_t kl = strlen(secret_keys[k]);

			if ((size_t)(p - line) >= kl &&
			    strncasecmp(p - kl, secret_keys[k], kl) == 0) {
				mask(p + 1, strcspn(p + 1, " \t\",;"));
				break;
			}
		}
	/* scheme://user:password@host */
	for (p = line; (p = strstr(p, "://")) != NULL; p += 3) {
		char *u = p + 3, *end = u + strcspn(u, " \t\"/@");
		char *colon;

		if (*end != '@')
			continue;
		colon = memchr(u, ':', (size_t)(end - u));
		if (colon != NULL && colon + 1 < end)
			mask(colon + 1, (size_t)(end - colon - 1));
	}
}

/* Control bytes as \xHH: one log line stays one line. */
static void
escape_controls(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			if (o + 5 >= size)
				break;
			snprintf(out + o, 5, "\\x%02x", *p);
			o += 4;
		} else {
			if (o + 2 >= size)
				break;
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
}

static int
journal_send(enum log_level lvl, const char *line)
{
	static const char *const prio[] = { "3", "4", "6", "7" };
	char fields[LOG_MAX_FIELDS][LOG_FIELD_SIZE];
	char msg[2200], pri[16], ident[64];
	struct iovec iov[3 + LOG_MAX_FIELDS];
	size_t n = 0, nf;

	snprintf(msg, sizeof(msg), "MESSAGE=%s", line);
	snprintf(pri, sizeof(pri), "PRIORITY=%s", prio[lvl]);
	snprintf(ident, sizeof(ident), "SYSLOG_IDENTIFIER=%s", log_ident);
	iov[n].iov_base = msg;
	iov[n++].iov_len = strlen(msg);
	iov[n].iov_base = pri;
	iov[n++].iov_len = strlen(pri);
	iov[n].iov_base = ident;
	iov[n++].iov_len = strlen(ident);
	nf = log_fields_extract(line, fields);
	for (size_t i = 0; i < nf; i++) {
		iov[n].iov_base = fields[i];
		iov[n++].iov_len = strlen(fields[i]);
	}
	return sd_journal_sendv(iov, (int)n);
}

static void log_vmsg(enum log_level, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static void
log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char raw[2048], line[2048];
	struct timespec ts;
	struct tm tm;
	char when[32];

	if (lvl == LOG_LEVEL_DEBUG && !log_verbose)
		return;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	log_redact(raw);
	escape_controls(raw, line, sizeof(line));
	if (log_to == LOG_SINK_JOURNAL && journal_send(lvl, line) >= 0)
		return;
	/* Not the journal, or journald went away: stderr. */
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s[%d]: %s\n", when, ts.tv_nsec / 1000000,
	    log_ident, (int)getpid(), line);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
