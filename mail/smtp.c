/*
 * smtp: messages handed to an SMTP server through libcurl.
 *
 * What comes from outside here is the server's replies (kept, cleaned of
 * control bytes, as last_reply for `beianctl outbox`) and the envelope
 * addresses, which are refused unless plain printable ASCII so that no
 * CR/LF can smuggle an SMTP command.  The URL may carry a password: it is
 * handed to libcurl and never logged, returned or put in a reply text;
 * the debug callback that captures replies keeps what the server sent
 * (CURLINFO_HEADER_IN), of our own lines only the command word (never
 * what follows AUTH), and of libcurl's notes only the TLS version.
 *
 * TLS is as the resolved [smtp] tls says (common/tls_policy.h): libcurl's
 * GnuTLS build checks a tls_pin (CURLOPT_PINNEDPUBLICKEY) during the
 * handshake, before AUTH; a certificate it refused is still readable
 * afterwards (CURLINFO_CERTINFO), which is where the public key of the
 * "certificate refused" line comes from.  A refusal that is the
 * configuration's (certificate, STARTTLS, login) defers the mail and
 * says so about the channel, so a mistake loses no mail.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <poll.h>
#include <time.h>

#include <curl/curl.h>

#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "mail/cert.h"
#include "mail/probe.h"
#include "mail/smtp.h"

#define SMTP_LINE_MAX 512
#define SMTP_SOCKS 4

struct smtp {
	CURLM *multi;           /* drives the transfer; keeps the connection */
	CURL *curl;
	int (*between)(void *); /* called between waits: nonzero aborts */
	void *between_arg;
	/* the sockets libcurl has open (two while it tries IPv6 and IPv4
	 * at once), CURL_SOCKET_BAD in a free slot */
	curl_socket_t socks[SMTP_SOCKS];
	struct curl_slist *rcpt;
	/* the message being uploaded */
	const unsigned char *msg;
	size_t len, off;
	/* the server's replies of the current send */
	char line[SMTP_LINE_MAX];
	size_t linelen;
	char reply[SMTP_LINE_MAX];
	long code;
	/* the first 4xx/5xx of the send: after it libcurl says QUIT, and
	 * "221 Bye" must not hide why the mail was refused */
	char errreply[SMTP_LINE_MAX];
	long errcode;
	char errbuf[CURL_ERROR_SIZE];
	struct tls_policy tls;
	/* what the server showed (for the channel's state and the probe) */
	char cmd[8];            /* the verb of our last command */
	int auth_sent;          /* an AUTH command went out */
	int starttls_offered;   /* STARTTLS in an EHLO answer */
	char tlsver[32];        /* libcurl's "SSL connection using TLS1.3 / …" */
	int greeted;            /* a line from the server in this send */
	CURLcode cc;            /* of the last send */
	enum smtp_channel chan;
	char chan_reason[SMTP_REASON_MAX];
};

int
smtp_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
smtp_global_cleanup(void)
{
	curl_global_cleanup();
}

/* Replies that refuse the session, not the mail: authentication needed
 * (530), mechanism too weak (534), credentials wrong (535), encryption
 * needed for this mechanism (538); 530 is also "Must issue a STARTTLS
 * command first". */
static int
smtp_code_refuses_session(long code)
{
	return code == 530 || code == 534 || code == 535 || code == 538;
}

enum smtp_channel
smtp_channel_judge(int curl_code, long smtp_code)
{
	switch (curl_code) {
	case CURLE_OK:
		return SMTP_CHANNEL_OK;
	case CURLE_ABORTED_BY_CALLBACK:
		return SMTP_CHANNEL_UNKNOWN;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_USE_SSL_FAILED:
	case CURLE_LOGIN_DENIED:
		return SMTP_CHANNEL_REFUSED;
	}
	if (smtp_code_refuses_session(smtp_code))
		return SMTP_CHANNEL_REFUSED;
	/* a 4xx or 5xx to the mail: the server works, the mail is its own
	 * matter; anything else that failed (no reply, 421, a broken TLS
	 * handshake after "220 Ready to start TLS", a timeout) is the
	 * server's reachability */
	if (smtp_code >= 400 && smtp_code <= 599 && smtp_code != 421)
		return SMTP_CHANNEL_OK;
	return SMTP_CHANNEL_DOWN;
}

enum smtp_result
smtp_classify(int curl_code, long smtp_code)
{
	if (curl_code == CURLE_OK)
		return SMTP_SENT;
	if (smtp_channel_judge(curl_code, smtp_code) == SMTP_CHANNEL_REFUSED)
		return SMTP_DEFER;
	if (smtp_code >= 500 && smtp_code <= 599)
		return SMTP_FAIL;
	return SMTP_DEFER;
}

const char *
smtp_result_name(enum smtp_result r)
{
	switch (r) {
	case SMTP_SENT:
		return "sent";
	case SMTP_DEFER:
		return "deferred";
	case SMTP_FAIL:
		return "failed";
	}
	return "?";
}

static size_t
smtp_read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct smtp *s = arg;
	size_t room = size * nitems, n = s->len - s->off;

	if (n > room)
		n = room;
	memcpy(buf, s->msg + s->off, n);
	s->off += n;
	return n;
}

/* One complete line from the server: remember the last final reply line
 * ("250 …", not the "250-…" continuations) and the first error reply. */
static void
smtp_line_done(struct smtp *s)
{
	const char *l = s->line;
	size_t i;

	s->line[s->linelen] = '\0';
	s->linelen = 0;
	if (strlen(l) < 3 || l[0] < '1' || l[0] > '5' || l[1] < '0' ||
	    l[1] > '9' || l[2] < '0' || l[2] > '9' ||
	    (l[3] != '\0' && l[3] != ' ' && l[3] != '-'))
		return;
	if (strlen(l) >= 12 && strncmp(l, "250", 3) == 0 &&
	    strncasecmp(l + 4, "STARTTLS", 8) == 0 &&
	    (l[12] == '\0' || l[12] == ' '))
		s->starttls_offered = 1;
	if (l[3] == '\0' || l[3] == ' ')
		s->code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	else
		return; /* a continuation: 250-STARTTLS */
	for (i = 0; l[i] && i + 1 < sizeof(s->reply); i++)
		s->reply[i] = (unsigned char)l[i] < 0x20 ||
		    (unsigned char)l[i] == 0x7f ? ' ' : l[i];
	s->reply[i] = '\0';
	if (s->code >= 400 && s->errcode == 0) {
		s->errcode = s->code;
		memcpy(s->errreply, s->reply, sizeof(s->errreply));
	}
}

/*
 * After a transfer: the reply it ends on is the first error reply when
 * there was one (a later QUIT's 221 must not hide it), else the last
 * final line, else what libcurl saw.
 */
static void
smtp_settle(struct smtp *s)
{
	long code = 0;

	if (s->linelen > 0)
		smtp_line_done(s);
	if (s->errcode != 0) {
		s->code = s->errcode;
		memcpy(s->reply, s->errreply, sizeof(s->reply));
	}
	if (s->code == 0 &&
	    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK)
		s->code = code;
}

/* libcurl's note "SSL connection using TLS1.3 / ECDHE_…": the version. */
static void
smtp_note_tls(struct smtp *s, const char *data, size_t n)
{
	static const char key[] = "SSL connection using ";
	size_t k = sizeof(key) - 1, i;

	if (n <= k || memcmp(data, key, k) != 0)
		return;
	for (i = 0; k + i < n && i + 1 < sizeof(s->tlsver); i++) {
		char ch = data[k + i];

		if (ch == ' ' || ch == '/' || ch == '\r' || ch == '\n' ||
		    (unsigned char)ch < 0x21 || (unsigned char)ch > 0x7e)
			break;
		s->tlsver[i] = ch;
	}
	s->tlsver[i] = '\0';
}

/* Our command's verb only: what follows AUTH is a credential. */
static void
smtp_note_cmd(struct smtp *s, const char *data, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < sizeof(s->cmd); i++) {
		if (data[i] < 'A' || data[i] > 'Z')
			break;
		s->cmd[i] = data[i];
	}
	s->cmd[i] = '\0';
	if (strcmp(s->cmd, "AUTH") == 0)
		s->auth_sent = 1;
}

static int
smtp_debug_cb(CURL *h, curl_infotype type, char *data, size_t n, void *arg)
{
	struct smtp *s = arg;
	size_t i;

	if (type == CURLINFO_TEXT) {
		smtp_note_tls(s, data, n);
		return 0;
	}
	if (type == CURLINFO_HEADER_OUT) {
		smtp_note_cmd(s, data, n);
		return 0;
	}
	if (type != CURLINFO_HEADER_IN)
		return 0;
	s->greeted = 1;
	for (i = 0; i < n; i++) {
		if (data[i] == '\n') {
			smtp_line_done(s);
			continue;
		}
		if (data[i] == '\r')
			continue;
		if (s->linelen + 1 < sizeof(s->line))
			s->line[s->linelen++] = data[i];
	}
	return 0;
}

/* The connection's sockets, kept so that a send given up can end them. */
static curl_socket_t
smtp_open_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct smtp *s = arg;
	curl_socket_t fd;

	(void)purpose;
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd == -1)
		return CURL_SOCKET_BAD;
	for (int i = 0; i < SMTP_SOCKS; i++)
		if (s->socks[i] == CURL_SOCKET_BAD) {
			s->socks[i] = fd;
			break;
		}
	return fd;
}

static int
smtp_close_cb(void *arg, curl_socket_t fd)
{
	struct smtp *s = arg;

	for (int i = 0; i < SMTP_SOCKS; i++)
		if (s->socks[i] == fd)
			s->socks[i] = CURL_SOCKET_BAD;
	return close(fd);
}

/* The options of a handle for s->tls, url and password; 0, or -1. */
static int
smtp_options(struct smtp *s, CURL *h, const char *url, const char *password,
    uint64_t timeout)
{
	const struct tls_policy *t = &s->tls;
	long usessl;
	int ok = 1;

	switch (t->level) {
	case TLS_NONE:
		usessl = CURLUSESSL_NONE;
		break;
	case TLS_MAY:
		/* a password to a remote host only over TLS */
		usessl = t->need_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY;
		break;
	default:
		usessl = CURLUSESSL_ALL;
		break;
	}
	if (timeout > 86400)
		timeout = 86400;
#define SET(opt, val) ok &= curl_easy_setopt(h, opt, val) == CURLE_OK
	SET(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#endif
	SET(CURLOPT_USE_SSL, usessl);
	SET(CURLOPT_SSL_VERIFYPEER, t->check_chain ? 1L : 0L);
	SET(CURLOPT_SSL_VERIFYHOST, t->check_chain ? 2L : 0L);
	if (t->check_chain && t->ca_file != NULL)
		SET(CURLOPT_CAINFO, t->ca_file);
	if (t->pin != NULL)
		SET(CURLOPT_PINNEDPUBLICKEY, t->pin);
	/* the certificate stays readable after a refused handshake */
	SET(CURLOPT_CERTINFO, 1L);
	if (password != NULL)
		SET(CURLOPT_PASSWORD, password);
	if (timeout > 0) {
		SET(CURLOPT_TIMEOUT, (long)timeout);
		SET(CURLOPT_CONNECTTIMEOUT, (long)(timeout < 60 ? timeout : 60));
	}
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_OPENSOCKETFUNCTION, smtp_open_cb);
	SET(CURLOPT_OPENSOCKETDATA, s);
	SET(CURLOPT_CLOSESOCKETFUNCTION, smtp_close_cb);
	SET(CURLOPT_CLOSESOCKETDATA, s);
	SET(CURLOPT_ERRORBUFFER, s->errbuf);
	/* the debug callback keeps only the server's lines, our verbs and
	 * the TLS version; without it VERBOSE would print the dialogue,
	 * AUTH included, on stderr */
	SET(CURLOPT_DEBUGFUNCTION, smtp_debug_cb);
	SET(CURLOPT_DEBUGDATA, s);
	SET(CURLOPT_VERBOSE, 1L);
#undef SET
	return ok ? 0 : -1;
}

/* A struct smtp with its easy handle; NULL for another scheme. */
static struct smtp *
smtp_alloc(const char *url, const struct tls_policy *tls)
{
	struct smtp *s;

	if (url == NULL || tls == NULL || (strncasecmp(url, "smtp://", 7) != 0 &&
	    strncasecmp(url, "smtps://", 8) != 0))
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->tls = *tls;
	for (int i = 0; i < SMTP_SOCKS; i++)
		s->socks[i] = CURL_SOCKET_BAD;
	if ((s->curl = curl_easy_init()) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

struct smtp *
smtp_new(const char *url, const struct tls_policy *tls, const char *password,
    uint64_t timeout)
{
	struct smtp *s;
	int ok = 1;

	if ((s = smtp_alloc(url, tls)) == NULL)
		return NULL;
	if ((s->multi = curl_multi_init()) == NULL ||
	    smtp_options(s, s->curl, url, password, timeout) == -1) {
		smtp_free(s);
		return NULL;
	}
	ok &= curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L) == CURLE_OK;
	ok &= curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, smtp_read_cb) ==
	    CURLE_OK;
	ok &= curl_easy_setopt(s->curl, CURLOPT_READDATA, s) == CURLE_OK;
	if (!ok) {
		smtp_free(s);
		return NULL;
	}
	return s;
}

void
smtp_free(struct smtp *s)
{
	if (s == NULL)
		return;
	if (s->curl != NULL)
		curl_easy_cleanup(s->curl);
	if (s->multi != NULL)
		curl_multi_cleanup(s->multi);
	curl_slist_free_all(s->rcpt);
	free(s);
}

void
smtp_between(struct smtp *s, int (*fn)(void *), void *arg)
{
	s->between = fn;
	s->between_arg = arg;
}

void
smtp_wakeup(struct smtp *s)
{
	curl_multi_wakeup(s->multi);
}

/* One transfer through the multi handle: the easy handle's result, or
 * CURLE_ABORTED_BY_CALLBACK when between() asked to give up.  The waits
 * are at most a second, so between() runs at least that often. */
static CURLcode
smtp_perform(struct smtp *s)
{
	CURLcode cc = CURLE_FAILED_INIT;
	CURLMsg *msg;
	int running, left;

	if (curl_multi_add_handle(s->multi, s->curl) != CURLM_OK)
		return CURLE_OUT_OF_MEMORY;
	for (;;) {
		if (curl_multi_perform(s->multi, &running) != CURLM_OK ||
		    !running)
			break;
		/* a wake-up (smtp_wakeup) asked before the wait ends it */
		if (curl_multi_poll(s->multi, NULL, 0, 1000, NULL) != CURLM_OK)
			break;
		if (s->between != NULL && s->between(s->between_arg) != 0) {
			cc = CURLE_ABORTED_BY_CALLBACK;
			goto out;
		}
	}
	while ((msg = curl_multi_info_read(s->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == s->curl)
			cc = msg->data.result;
out:
	/* Given up: libcurl would say QUIT and wait for the answer (up to
	 * the timeout, from a server that may never give one).  A socket
	 * shut down ends that wait at once. */
	for (int i = 0; cc == CURLE_ABORTED_BY_CALLBACK && i < SMTP_SOCKS; i++)
		if (s->socks[i] != CURL_SOCKET_BAD)
			shutdown(s->socks[i], SHUT_RDWR);
	curl_multi_remove_handle(s->multi, s->curl);
	return cc;
}

long
smtp_last_code(const struct smtp *s)
{
	return s->code;
}

/* The certificate the last handshake of h showed (CURLINFO_CERTINFO, its
 * first "Cert:" PEM): its pin and subject.  0, or -1 when there is none. */
static int
smtp_peer_cert(CURL *h, char pin[TLS_PIN_SIZE], char *subject, size_t size)
{
	struct curl_certinfo *ci = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	int rc = -1;

	if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK ||
	    ci == NULL || ci->num_of_certs < 1)
		return -1;
	for (struct curl_slist *l = ci->certinfo[0]; l != NULL; l = l->next) {
		if (strncmp(l->data, "Cert:", 5) != 0)
			continue;
		if (cert_pem_der(l->data + 5, &der, &len) == -1)
			break;
		rc = cert_pin(der, len, pin);
		if (rc == 0 && subject != NULL &&
		    cert_subject(der, len, subject, size) == -1)
			subject[0] = '\0';
		free(der);
		break;
	}
	return rc;
}

/* s->chan and s->chan_reason for the result cc of a transfer on h. */
static void
smtp_channel_note(struct smtp *s, CURL *h, CURLcode cc)
{
	char pin[TLS_PIN_SIZE] = "";
	const char *why;

	s->chan = smtp_channel_judge(cc, s->code);
	s->chan_reason[0] = '\0';
	switch (s->chan) {
	case SMTP_CHANNEL_OK:
	case SMTP_CHANNEL_UNKNOWN:
		return;
	case SMTP_CHANNEL_DOWN:
		if (s->code == 421 && s->reply[0] != '\0')
			snprintf(s->chan_reason, sizeof(s->chan_reason),
			    "%s closed the session: %.300s", s->tls.host,
			    s->reply);
		else
			snprintf(s->chan_reason, sizeof(s->chan_reason),
			    "curl: %s", s->errbuf[0] ? s->errbuf :
			    curl_easy_strerror(cc));
		return;
	case SMTP_CHANNEL_REFUSED:
		break;
	}
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CACERT_BADFILE:
		why = cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ?
		    "its public key is not the tls_pin" :
		    s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc);
		if (smtp_peer_cert(h, pin, NULL, 0) == -1)
			pin[0] = '\0';
		cert_refusal_format(s->chan_reason, sizeof(s->chan_reason),
		    &s->tls, why, pin);
		return;
	case CURLE_USE_SSL_FAILED:
		if (s->tls.level == TLS_MAY)
			snprintf(s->chan_reason, sizeof(s->chan_reason),
			    "%s offers no STARTTLS, and a password goes to a "
			    "remote host only over TLS (none was sent)",
			    s->tls.host);
		else
			snprintf(s->chan_reason, sizeof(s->chan_reason),
			    "%s offers no STARTTLS, which [smtp] tls = %s "
			    "requires (no credential was sent)", s->tls.host,
			    tls_level_name(s->tls.level));
		return;
	default:
		break;
	}
	if (s->code == 530 && s->tls.level == TLS_NONE)
		snprintf(s->chan_reason, sizeof(s->chan_reason), "%s demands "
		    "TLS and [smtp] tls = none: %.300s", s->tls.host, s->reply);
	else if (cc == CURLE_LOGIN_DENIED || s->code == 535 || s->code == 534 ||
	    s->code == 538)
		snprintf(s->chan_reason, sizeof(s->chan_reason), "login "
		    "refused: %.300s", s->reply[0] ? s->reply :
		    "curl: Login denied");
	else
		snprintf(s->chan_reason, sizeof(s->chan_reason), "session "
		    "refused: %.300s", s->reply[0] ? s->reply :
		    curl_easy_strerror(cc));
}

enum smtp_channel
smtp_channel_state(const struct smtp *s, char *reason, size_t size)
{
	if (reason != NULL && size > 0)
		snprintf(reason, size, "%s", s->chan_reason);
	return s->chan;
}

static int
envelope_addr_ok(const char *a)
{
	if (a == NULL || *a == '\0' || strlen(a) > 254)
		return 0;
	for (; *a; a++)
		if ((unsigned char)*a <= 0x20 || (unsigned char)*a >= 0x7f ||
		    *a == '<' || *a == '>')
			return 0;
	return 1;
}

enum smtp_result
smtp_send(struct smtp *s, const char *mail_from, const char *rcpt,
    const void *msg, size_t len, char *reply, size_t replysize)
{
	char from[300], to[300];
	enum smtp_result r;
	CURLcode cc;

	s->reply[0] = s->errreply[0] = '\0';
	s->errbuf[0] = '\0';
	s->linelen = 0;
	s->code = s->errcode = 0;
	s->greeted = 0;
	s->chan = SMTP_CHANNEL_UNKNOWN;
	s->chan_reason[0] = '\0';
	if (!envelope_addr_ok(mail_from) || !envelope_addr_ok(rcpt)) {
		if (reply != NULL && replysize > 0)
			snprintf(reply, replysize, "beiand: bad envelope address");
		return SMTP_FAIL;
	}
	snprintf(from, sizeof(from), "<%s>", mail_from);
	snprintf(to, sizeof(to), "<%s>", rcpt);
	curl_slist_free_all(s->rcpt);
	s->rcpt = NULL;
	if ((s->rcpt = curl_slist_append(NULL, to)) == NULL ||
	    curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, from) != CURLE_OK ||
	    curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, s->rcpt) != CURLE_OK) {
		if (reply != NULL && replysize > 0)
			snprintf(reply, replysize, "curl: out of memory");
		return SMTP_DEFER;
	}
	s->msg = msg;
	s->len = len;
	s->off = 0;

	cc = smtp_perform(s);
	smtp_settle(s);
	r = smtp_classify(cc, s->code);
	s->cc = cc;
	smtp_channel_note(s, s->curl, cc);
	if (reply != NULL && replysize > 0) {
		if ((cc == CURLE_OK || s->code >= 400) && s->reply[0] != '\0')
			snprintf(reply, replysize, "%s", s->reply);
		else
			snprintf(reply, replysize, "curl: %s", s->errbuf[0] ?
			    s->errbuf : curl_easy_strerror(cc));
	}
	s->msg = NULL;
	return r;
}

/* ---- beianctl probe smtp ------------------------------------------------ */

#define PROBE_WAIT_MS 10000

/* Send line (CRLF added) on a CONNECT_ONLY connection and read the final
 * reply line into reply.  Its code, or 0 when there is none. */
static long
smtp_probe_cmd(struct smtp *s, const char *line, char *reply, size_t size)
{
	char buf[SMTP_LINE_MAX + 2], in[4096];
	size_t len, off = 0, n, got = 0;
	curl_socket_t fd = CURL_SOCKET_BAD;
	CURLcode cc;

	reply[0] = '\0';
	len = (size_t)snprintf(buf, sizeof(buf), "%s\r\n", line);
	if (len >= sizeof(buf) ||
	    curl_easy_getinfo(s->curl, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD)
		return 0;
	while (off < len) {
		struct pollfd pfd = { fd, POLLOUT, 0 };

		cc = curl_easy_send(s->curl, buf + off, len - off, &n);
		if (cc == CURLE_AGAIN) {
			if (poll(&pfd, 1, PROBE_WAIT_MS) <= 0)
				return 0;
			continue;
		}
		if (cc != CURLE_OK)
			return 0;
		off += n;
	}
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		char *nl, *start = in;

		cc = curl_easy_recv(s->curl, in + got, sizeof(in) - 1 - got, &n);
		if (cc == CURLE_AGAIN) {
			if (poll(&pfd, 1, PROBE_WAIT_MS) <= 0)
				return 0;
			continue;
		}
		if (cc != CURLE_OK || n == 0)
			return 0;
		got += n;
		in[got] = '\0';
		/* the last complete line that is a final one ("250 …") */
		while ((nl = strchr(start, '\n')) != NULL) {
			size_t l = (size_t)(nl - start);

			if (l > 0 && start[l - 1] == '\r')
				l--;
			if (l >= 3 && (l == 3 || start[3] == ' ') &&
			    start[0] >= '1' && start[0] <= '5') {
				size_t i;

				for (i = 0; i < l && i + 1 < size; i++)
					reply[i] = (unsigned char)start[i] < 0x20 ||
					    (unsigned char)start[i] == 0x7f ? ' ' :
					    start[i];
				reply[i] = '\0';
				return (start[0] - '0') * 100 +
				    (start[1] - '0') * 10 + (start[2] - '0');
			}
			start = nl + 1;
		}
		if (got == sizeof(in) - 1)
			return 0;
	}
}

int
smtp_probe(const char *url, const struct tls_policy *tls,
    const char *password, const char *from, uint64_t timeout,
    struct mail_probe *out)
{
	char line[SMTP_LINE_MAX], reply[SMTP_LINE_MAX];
	struct smtp *s;
	CURLcode cc;
	long port = 0, code;
	int cert_failed;

	memset(out, 0, sizeof(*out));
	out->tls = *tls;
	if ((s = smtp_alloc(url, tls)) == NULL)
		return -1;
	if (smtp_options(s, s->curl, url, password, timeout) == -1 ||
	    curl_easy_setopt(s->curl, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK) {
		smtp_free(s);
		return -1;
	}
	/* greeting, EHLO, STARTTLS, EHLO, AUTH: what a send does first */
	cc = curl_easy_perform(s->curl);
	smtp_settle(s);
	if (curl_easy_getinfo(s->curl, CURLINFO_PRIMARY_PORT, &port) == CURLE_OK &&
	    port > 0)
		out->port = (unsigned)port;
	smtp_channel_note(s, s->curl, cc);
	out->connected = s->greeted;
	out->starttls_offered = s->starttls_offered;
	strlcpy(out->tls_version, s->tlsver, sizeof(out->tls_version));
	out->encrypted = s->tlsver[0] != '\0';
	cert_failed = cc == CURLE_PEER_FAILED_VERIFICATION ||
	    cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
	if ((out->encrypted || cert_failed) &&
	    smtp_peer_cert(s->curl, out->pin, out->subject,
	    sizeof(out->subject)) == -1)
		out->pin[0] = out->subject[0] = '\0';

	if (!out->encrypted && !cert_failed)
		snprintf(out->verify, sizeof(out->verify), "no TLS");
	else if (!tls->check_chain)
		snprintf(out->verify, sizeof(out->verify), "not checked "
		    "(tls = %s)", tls_level_name(tls->level));
	else if (cc == CURLE_PEER_FAILED_VERIFICATION ||
	    cc == CURLE_SSL_CACERT_BADFILE)
		snprintf(out->verify, sizeof(out->verify), "refused: %s",
		    s->errbuf);
	else
		snprintf(out->verify, sizeof(out->verify), "ok (chain and "
		    "name)");
	if (tls->pin == NULL)
		snprintf(out->pin_check, sizeof(out->pin_check), "no tls_pin");
	else if (out->pin[0] == '\0')
		snprintf(out->pin_check, sizeof(out->pin_check), "not reached");
	else
		snprintf(out->pin_check, sizeof(out->pin_check), "%s",
		    tls_pin_match(tls->pin, out->pin) ? "matches" :
		    "does not match");

	if (!tls->credentials)
		snprintf(out->login, sizeof(out->login), "not attempted: no "
		    "credentials configured");
	else if (cc == CURLE_OK && s->auth_sent)
		snprintf(out->login, sizeof(out->login), "ok");
	else if (cc == CURLE_OK)
		snprintf(out->login, sizeof(out->login), "not attempted: the "
		    "server offers no AUTH");
	else if (s->auth_sent)
		snprintf(out->login, sizeof(out->login), "refused: %.400s",
		    s->reply[0] ? s->reply : curl_easy_strerror(cc));
	else
		snprintf(out->login, sizeof(out->login), "not attempted: no "
		    "credential was sent");

	if (cc != CURLE_OK) {
		snprintf(out->reason, sizeof(out->reason), "%s",
		    s->chan_reason[0] ? s->chan_reason : curl_easy_strerror(cc));
		goto out;
	}
	if (from == NULL || !envelope_addr_ok(from)) {
		snprintf(out->mailbox, sizeof(out->mailbox), "not tried: [smtp] "
		    "from is no plain address");
		snprintf(out->reason, sizeof(out->reason), "%s",
		    out->mailbox);
		goto out;
	}
	snprintf(line, sizeof(line), "MAIL FROM:<%s>", from);
	code = smtp_probe_cmd(s, line, reply, sizeof(reply));
	snprintf(out->mailbox, sizeof(out->mailbox), "%.300s: %.500s", line,
	    code != 0 ? reply : "no answer");
	if (code >= 200 && code <= 299)
		out->usable = 1;
	else if (code == 530 && tls->level == TLS_NONE)
		snprintf(out->reason, sizeof(out->reason), "%.255s demands TLS "
		    "and [smtp] tls = none: %.300s", tls->host, reply);
	else
		snprintf(out->reason, sizeof(out->reason), "the server refused "
		    "MAIL FROM: %.300s", code != 0 ? reply : "no answer");
	(void)smtp_probe_cmd(s, "RSET", reply, sizeof(reply));
	(void)smtp_probe_cmd(s, "QUIT", reply, sizeof(reply));
out:
	smtp_free(s);
	return 0;
}
