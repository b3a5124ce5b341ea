/*
 * smtp: messages handed to an SMTP server through libcurl.
 *
 * What comes from outside here is the server's replies (kept, cleaned of
 * control bytes, as last_reply for `beianctl outbox`) and the envelope
 * addresses, which are refused unless plain printable ASCII so that no
 * CR/LF can smuggle an SMTP command.  The URL may carry a password: it is
 * handed to libcurl and never logged, returned or put in a reply text;
 * the debug callback that captures replies reads only what the server
 * sent (CURLINFO_HEADER_IN), never our AUTH line.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "lib/xmalloc.h"
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

enum smtp_result
smtp_classify(int curl_code, long smtp_code)
{
	if (curl_code == CURLE_OK)
		return SMTP_SENT;
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
	    (l[3] != '\0' && l[3] != ' '))
		return;
	s->code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	for (i = 0; l[i] && i + 1 < sizeof(s->reply); i++)
		s->reply[i] = (unsigned char)l[i] < 0x20 ||
		    (unsigned char)l[i] == 0x7f ? ' ' : l[i];
	s->reply[i] = '\0';
	if (s->code >= 400 && s->errcode == 0) {
		s->errcode = s->code;
		memcpy(s->errreply, s->reply, sizeof(s->errreply));
	}
}

static int
smtp_debug_cb(CURL *h, curl_infotype type, char *data, size_t n, void *arg)
{
	struct smtp *s = arg;
	size_t i;

	if (type != CURLINFO_HEADER_IN)
		return 0;
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

struct smtp *
smtp_new(const char *url, enum starttls_mode starttls, const char *ca_file,
    uint64_t timeout)
{
	struct smtp *s;
	long usessl;
	int ok = 1;

	if (url == NULL || (strncasecmp(url, "smtp://", 7) != 0 &&
	    strncasecmp(url, "smtps://", 8) != 0))
		return NULL;
	s = xcalloc(1, sizeof(*s));
	for (int i = 0; i < SMTP_SOCKS; i++)
		s->socks[i] = CURL_SOCKET_BAD;
	if ((s->multi = curl_multi_init()) == NULL ||
	    (s->curl = curl_easy_init()) == NULL) {
		if (s->multi != NULL)
			curl_multi_cleanup(s->multi);
		free(s);
		return NULL;
	}
	switch (starttls) {
	case STARTTLS_REQUIRE:
		usessl = CURLUSESSL_ALL;
		break;
	case STARTTLS_NO:
		usessl = CURLUSESSL_NONE;
		break;
	case STARTTLS_TRY:
	default:
		usessl = CURLUSESSL_TRY;
		break;
	}
	if (timeout > 86400)
		timeout = 86400;
#define SET(opt, val) ok &= curl_easy_setopt(s->curl, opt, val) == CURLE_OK
	SET(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#endif
	SET(CURLOPT_USE_SSL, usessl);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_file != NULL && *ca_file != '\0')
		SET(CURLOPT_CAINFO, ca_file);
	if (timeout > 0) {
		SET(CURLOPT_TIMEOUT, (long)timeout);
		SET(CURLOPT_CONNECTTIMEOUT, (long)(timeout < 60 ? timeout : 60));
	}
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_OPENSOCKETFUNCTION, smtp_open_cb);
	SET(CURLOPT_OPENSOCKETDATA, s);
	SET(CURLOPT_CLOSESOCKETFUNCTION, smtp_close_cb);
	SET(CURLOPT_CLOSESOCKETDATA, s);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_READFUNCTION, smtp_read_cb);
	SET(CURLOPT_READDATA, s);
	SET(CURLOPT_ERRORBUFFER, s->errbuf);
	/* the debug callback only reads the server's lines; without it
	 * VERBOSE would print the dialogue, AUTH included, on stderr */
	SET(CURLOPT_DEBUGFUNCTION, smtp_debug_cb);
	SET(CURLOPT_DEBUGDATA, s);
	SET(CURLOPT_VERBOSE, 1L);
#undef SET
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
	long code = 0;

	s->reply[0] = s->errreply[0] = '\0';
	s->errbuf[0] = '\0';
	s->linelen = 0;
	s->code = s->errcode = 0;
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
	if (s->linelen > 0)
		smtp_line_done(s);
	if (s->errcode != 0) {
		s->code = s->errcode;
		memcpy(s->reply, s->errreply, sizeof(s->reply));
	}
	if (s->code == 0 &&
	    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK)
		s->code = code;
	r = smtp_classify(cc, s->code);
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
