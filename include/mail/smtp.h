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

#include "common/tls_policy.h"

struct mail_probe;

#define SMTP_REASON_MAX 1024 /* smtp_channel_state()'s reason, NUL included */

enum smtp_result {
	SMTP_SENT,	/* the server took it (2xx after DATA) */
	SMTP_DEFER,	/* 4xx, no connection, TLS trouble, timeout, or a
			 * refusal of the session (login, TLS): retry */
	SMTP_FAIL	/* 5xx to the mail: fails at once */
};

/* What a send says about the channel as a whole ([smtp] in `beianctl
 * status`), apart from the one mail. */
enum smtp_channel {
	SMTP_CHANNEL_OK,	/* the server took the session (even when it
				 * refused the mail) */
	SMTP_CHANNEL_DOWN,	/* unreachable: no connection, no answer,
				 * a TLS handshake that broke, 421 */
	SMTP_CHANNEL_REFUSED,	/* the configuration's failure: certificate
				 * refused, STARTTLS needed and not offered,
				 * login refused, TLS demanded (530) */
	SMTP_CHANNEL_UNKNOWN	/* given up before it said (stopping) */
};

struct smtp;

/* Call once at start-up, before any thread: curl_global_init.
 * Returns 0, or -1. */
int smtp_global_init(void);
void smtp_global_cleanup(void);

/*
 * A transport for url: smtp://[user[:pass]@]host[:port][/ehlo-name] or
 * smtps://…, with TLS as tls says (tls_policy_config() of [smtp]; copied):
 *   none     no STARTTLS;
 *   may      STARTTLS when offered, certificate unchecked; required
 *            when tls->need_tls (a password to a remote host);
 *   encrypt  STARTTLS required (smtps: TLS anyway), certificate unchecked;
 *   verify   required, chain (tls->ca_file or the system store) and host
 *            name checked;
 *   a pin    (tls->pin) checked by libcurl during the handshake, before
 *            AUTH.
 * A user in the URL makes libcurl AUTH; password, when not NULL (read
 * from password_file by the caller), is the password (copied into
 * libcurl; the caller wipes its own copy).  timeout (seconds, 0 =
 * libcurl's default) bounds each send.  The url is copied and never
 * logged or returned (it may hold a password).  NULL when libcurl cannot
 * make a handle or the scheme is not smtp/smtps.
 */
struct smtp *smtp_new(const char *url, const struct tls_policy *tls,
    const char *password, uint64_t timeout);
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
 * What the last send said about the channel; reason (when not NULL)
 * receives why it is DOWN or REFUSED ("" for OK), e.g. "certificate of
 * mail.example.net refused (…); its public key: sha256//…; to trust
 * this key: [smtp] tls_pin = sha256//…" — the public key read from the
 * certificate the refused handshake showed (CURLINFO_CERTINFO), so a
 * refused certificate needs no second connection.
 */
enum smtp_channel smtp_channel_state(const struct smtp *s, char *reason,
    size_t size);

/*
 * The rules, pure: a libcurl result (CURLcode as int) and the last SMTP
 * code.  smtp_classify: OK → SENT; a refusal of the session (see
 * smtp_channel_judge) → DEFER, so that a mistake in the configuration
 * loses no mail; another 5xx → FAIL; anything else (4xx, no reply,
 * connection, TLS, timeout) → DEFER.  smtp_channel_judge: OK, or a
 * reply that is not about the session → OK; a refused certificate or
 * pin, STARTTLS not offered when required, login refused, 530/534/535/538
 * → REFUSED; 421, no reply, connection or TLS handshake trouble, a
 * timeout → DOWN; given up by smtp_between() → UNKNOWN.
 */
enum smtp_result smtp_classify(int curl_code, long smtp_code);
enum smtp_channel smtp_channel_judge(int curl_code, long smtp_code);

/*
 * `beianctl probe smtp`: connect to url as smtp_new() would (same
 * options, same TLS), EHLO, STARTTLS, AUTH, then "MAIL FROM:<from>",
 * RSET and QUIT — no mail is sent.  Fills *out (see mail/probe.h);
 * out->usable says whether the daemon could send through this server.
 * 0, or -1 when libcurl cannot make a handle.
 */
int smtp_probe(const char *url, const struct tls_policy *tls,
    const char *password, const char *from, uint64_t timeout,
    struct mail_probe *out);

/* "sent", "deferred", "failed" */
const char *smtp_result_name(enum smtp_result r);

#endif
