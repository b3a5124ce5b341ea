/*
 * smtp: the outbox's SMTP transport, over libcurl.
 *
 * One struct smtp holds one libcurl easy handle, driven through a multi
 * handle, for the life of the mailer, so consecutive mails reuse the open
 * connection (and its TLS session), and a send can be given up from
 * another thread (smtp_between(), smtp_wakeup()).  Each smtp_send is one
 * message to one recipient: the outbox has one row per recipient.  The
 * message is sent as given (libcurl adds the dot-stuffing and the final
 * ".").
 */
#ifndef BEIAND_SMTP_H
#define BEIAND_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"	/* enum starttls_mode */

enum smtp_result {
	SMTP_SENT,	/* the server took it (2xx after DATA) */
	SMTP_DEFER,	/* 4xx, no connection, TLS trouble, timeout: retry */
	SMTP_FAIL	/* 5xx: fails at once */
};

struct smtp;

/* Call once at start-up, before any thread: curl_global_init.
 * Returns 0, or -1. */
int smtp_global_init(void);
void smtp_global_cleanup(void);

/*
 * A transport for url: smtp://[user:pass@]host[:port][/ehlo-name] or
 * smtps://…; userinfo in the URL makes libcurl AUTH with it.  starttls
 * applies to smtp:// (try: use it when offered; require: refuse to send
 * without it; no: never).  ca_file NULL: the system trust store; the peer
 * certificate and host name are always verified.  timeout (seconds, 0 =
 * libcurl's default) bounds each send.  The url is copied and never
 * logged or returned (it may hold a password).  NULL when libcurl cannot
 * make a handle or the scheme is not smtp/smtps.
 */
struct smtp *smtp_new(const char *url, enum starttls_mode starttls,
    const char *ca_file, uint64_t timeout);
void smtp_free(struct smtp *s); /* accepts NULL; closes the connection */

/*
 * Send msg[0..len) from mail_from to rcpt (bare addresses; refused with
 * SMTP_FAIL when they hold anything but printable ASCII).  reply (when
 * not NULL) always receives the last server reply line ("250 2.0.0 Ok:
 * queued as 4XYZ", "550 5.1.1 <x@y>: Recipient address rejected …") or,
 * without one, "curl: <error>"; it never holds credentials.
 */
enum smtp_result smtp_send(struct smtp *s, const char *mail_from,
    const char *rcpt, const void *msg, size_t len, char *reply,
    size_t replysize);

/*
 * fn(arg), when set, runs on the sending thread between the waits of a
 * send, at least once a second; a nonzero return gives the send up
 * (SMTP_DEFER, "curl: …aborted…").  smtp_wakeup(), from any thread, ends
 * the current wait at once so that fn runs.
 */
void smtp_between(struct smtp *s, int (*fn)(void *), void *arg);
void smtp_wakeup(struct smtp *s);

/* The SMTP code of the last reply of the last send (0: none). */
long smtp_last_code(const struct smtp *s);

/*
 * The rule, pure: a libcurl result (CURLcode as int) and the last SMTP
 * code to a result.  OK → SENT; a 5xx code → FAIL; anything else (4xx,
 * no reply, connection, TLS, timeout) → DEFER.
 */
enum smtp_result smtp_classify(int curl_code, long smtp_code);

/* "sent", "deferred", "failed" */
const char *smtp_result_name(enum smtp_result r);

#endif
