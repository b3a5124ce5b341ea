/*
 * log: the daemon's log lines.
 *
 * "subsystem: message key=value ..." lines.  Where they go (log_init):
 *   - the journal, with structured fields, when stderr is the journal
 *     (JOURNAL_STREAM names stderr's device:inode, as systemd sets it for
 *     a service);
 *   - plain "HH:MM:SS.mmm ident[pid]: line" on stderr otherwise (the
 *     programs never detach: a supervisor, a logger or a redirection
 *     takes stderr where it should go; nothing depends on a syslog
 *     daemon being there).
 *
 * Journal fields are taken from the line's own key=value words, so the
 * call sites need nothing special: filing= → BEIAND_FILING=,
 * provider= → BEIAND_PROVIDER=, sha256= → BEIAND_SHA256=,
 * uid= → BEIAND_MAIL_UID=, and the leading "subsystem:" →
 * BEIAND_SUBSYSTEM=.  A value runs to the next blank, without trailing
 * ",;:"; "-" means none.  MESSAGE=, PRIORITY= and SYSLOG_IDENTIFIER= are
 * always set.
 *
 * Never pass a password, a token or a mail body.  As a last defence the
 * value after "password=", "pass=", "secret=" or "token=" (also ending a
 * longer key: review_token=), and the password of a
 * "scheme://user:password@" URL, are masked as "***" in every sink;
 * control bytes are shown as \xHH so one call stays one line.
 */
#ifndef BEIAND_LOG_H
#define BEIAND_LOG_H

#include <stddef.h>

enum log_level { LOG_LEVEL_ERR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Lines to the journal when stderr is the journal, else on stderr.
 * foreground is accepted for the callers' -f and changes nothing. */
void log_init(const char *ident, int foreground, int verbose);
void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Start-up failure of the environment: log and exit(1). */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define log_err(...) log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* ---- exposed for tests -------------------------------------------- */

/* Where lines go after log_init(). */
enum log_sink { LOG_SINK_STDERR, LOG_SINK_JOURNAL };
enum log_sink log_sink(void);
/* verbose as given to log_init(). */
int log_verbosity(void);
/*
 * log_init() for a helper program the daemon started (beiand-imap): its
 * lines go where the daemon's go (sink: the daemon's log_sink()); stderr
 * is the daemon's.
 */
void log_init_sink(const char *ident, enum log_sink sink, int verbose);

#define LOG_MAX_FIELDS 5
#define LOG_FIELD_SIZE 160
/*
 * The journal fields of one line: up to LOG_MAX_FIELDS "NAME=value"
 * strings written into out[i]; a field that does not fit, or that came
 * before (the first filing= wins), is left out.  Returns their number.
 */
size_t log_fields_extract(const char *line,
    char out[LOG_MAX_FIELDS][LOG_FIELD_SIZE]);
/* Mask secrets in line in place (see above). */
void log_redact(char *line);

#endif
