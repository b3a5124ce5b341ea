/*
 * log: the daemon's log lines.
 *
 * "subsystem: message key=value ..." lines; on stderr with -f, to the
 * journal otherwise (where BEIAND_* fields are added by the caller's
 * key=value pairs).  Never pass a password, a token or a mail body.
 */
#ifndef BEIAND_LOG_H
#define BEIAND_LOG_H

enum log_level { LOG_LEVEL_ERR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* foreground: lines on stderr; else the journal when available. */
void log_init(const char *ident, int foreground, int verbose);
void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Start-up failure of the environment: log and exit(1). */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define log_err(...) log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
