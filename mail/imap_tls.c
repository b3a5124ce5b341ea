/*
 * imap: TLS for the fetcher's IMAP session — a GnuTLS session of its own
 * under libetpan (a mailstream_low driver), for imaps:// and after
 * STARTTLS.  libetpan's own TLS checks no certificate and tells nothing
 * of the session; this one is checked here, as [imap] tls says, before
 * a byte of IMAP crosses it, and shows its version for `beianctl probe`.
 *
 * Hostile here: the server's handshake and certificates.  GnuTLS parses
 * them; a certificate whose public key is not the tls_pin, or (verify)
 * whose chain or name does not check out, ends the connection before
 * anything is sent on it, the password least of all.  Reads and writes
 * are bounded by IMAP_NET_TIMEOUT.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <libetpan/libetpan.h>

#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "mail/cert.h"
#include "mail/imap_int.h"

#define IMAP_CHAIN_MAX 16

struct imap_tls {
	int fd;
	gnutls_session_t session;
	gnutls_certificate_credentials_t cred;
	struct imap_child *child; /* to clear its tlsconn when freed */
};

static ssize_t
imap_tls_read(mailstream_low *low, void *buf, size_t count)
{
	struct imap_tls *t = low->data;
	ssize_t r;

	do
		r = gnutls_record_recv(t->session, buf, count);
	while (r == GNUTLS_E_INTERRUPTED || r == GNUTLS_E_AGAIN);
	return r < 0 ? -1 : r;
}

static ssize_t
imap_tls_write(mailstream_low *low, const void *buf, size_t count)
{
	struct imap_tls *t = low->data;
	ssize_t r;

	/* The socket is blocking with SO_SNDTIMEO: AGAIN is the timeout. */
	do
		r = gnutls_record_send(t->session, buf, count);
	while (r == GNUTLS_E_INTERRUPTED);
	return r < 0 ? -1 : r;
}

static int
imap_tls_close(mailstream_low *low)
{
	struct imap_tls *t = low->data;

	if (t->fd != -1) {
		(void)gnutls_bye(t->session, GNUTLS_SHUT_WR);
		close(t->fd);
		t->fd = -1;
	}
	return 0;
}

static int
imap_tls_get_fd(mailstream_low *low)
{
	struct imap_tls *t = low->data;

	return t->fd;
}

static void
imap_tls_free_data(struct imap_tls *t)
{
	if (t == NULL)
		return;
	if (t->child != NULL && t->child->tlsconn == t)
		t->child->tlsconn = NULL;
	gnutls_deinit(t->session);
	gnutls_certificate_free_credentials(t->cred);
	free(t);
}

static void
imap_tls_free(mailstream_low *low)
{
	imap_tls_free_data(low->data);
	low->data = NULL;
	free(low);
}

static mailstream_low_driver imap_tls_driver = {
	.mailstream_read = imap_tls_read,
	.mailstream_write = imap_tls_write,
	.mailstream_close = imap_tls_close,
	.mailstream_get_fd = imap_tls_get_fd,
	.mailstream_free = imap_tls_free,
};

int
imap_tls_pending(const struct imap_child *c)
{
	return c->tlsconn != NULL &&
	    gnutls_record_check_pending(c->tlsconn->session) > 0;
}

int
imap_tcp_connect(const char *host, uint16_t port, int timeout)
{
	struct addrinfo hints, *res = NULL, *ai;
	char serv[8];
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(serv, sizeof(serv), "%u", (unsigned)port);
	if (getaddrinfo(host, serv, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd pfd;
		int e = 0;
		socklen_t el = sizeof(e);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, timeout * 1000) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 &&
			    e == 0)
				break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd != -1 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) ==
	    -1) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The certificate checks of c->tls on the session's chain; 0 accepted,
 * -1 refused with c->seen.reason. */
static int
imap_tls_check(struct imap_child *c, const gnutls_datum_t *peers,
    unsigned int npeers)
{
	struct cert_der chain[IMAP_CHAIN_MAX];
	struct mail_probe *seen = &c->seen;
	const char *why = NULL;
	char err[512];
	size_t n = 0;

	if (c->tls.pin != NULL) {
		if (seen->pin[0] != '\0' && tls_pin_match(c->tls.pin, seen->pin))
			snprintf(seen->pin_check, sizeof(seen->pin_check),
			    "matches");
		else {
			snprintf(seen->pin_check, sizeof(seen->pin_check),
			    "does not match");
			why = "its public key is not the tls_pin";
		}
	} else
		snprintf(seen->pin_check, sizeof(seen->pin_check), "no tls_pin");
	if (!c->tls.check_chain)
		snprintf(seen->verify, sizeof(seen->verify), "not checked "
		    "(tls = %s)", tls_level_name(c->tls.level));
	else {
		if (c->trust == NULL &&
		    (c->trust = cert_trust_load(c->tls.ca_file, err,
		    sizeof(err))) == NULL) {
			snprintf(seen->verify, sizeof(seen->verify), "refused: "
			    "%s", err);
			if (why == NULL)
				why = seen->verify + 9;
		} else {
			for (unsigned int i = 0; i < npeers &&
			    n < IMAP_CHAIN_MAX; i++, n++) {
				chain[n].data = peers[i].data;
				chain[n].len = peers[i].size;
			}
			if (cert_chain_verify(c->trust, chain, n, c->tls.host, err,
			    sizeof(err)) == 0)
				snprintf(seen->verify, sizeof(seen->verify),
				    "ok (chain and name)");
			else {
				snprintf(seen->verify, sizeof(seen->verify),
				    "refused: %s", err);
				if (why == NULL)
					why = seen->verify + 9;
			}
		}
	}
	if (why == NULL)
		return 0;
	cert_refusal_format(seen->reason, sizeof(seen->reason), &c->tls, why,
	    seen->pin);
	c->refused = 1;
	return -1;
}

int
imap_tls_open(struct imap_child *c, int fd, mailstream_low **lowp)
{
	struct mail_probe *seen = &c->seen;
	struct imap_tls *t = xcalloc(1, sizeof(*t));
	struct timeval tv = { IMAP_NET_TIMEOUT, 0 };
	const gnutls_datum_t *peers;
	unsigned char a[16];
	unsigned int npeers = 0;
	mailstream_low *low;
	int r;

	t->fd = fd;
	t->child = c;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    gnutls_certificate_allocate_credentials(&t->cred) < 0) {
		snprintf(seen->reason, sizeof(seen->reason), "TLS set-up: %s",
		    strerror(errno));
		free(t);
		return -1;
	}
	if (gnutls_init(&t->session, GNUTLS_CLIENT) < 0) {
		snprintf(seen->reason, sizeof(seen->reason), "TLS set-up failed");
		gnutls_certificate_free_credentials(t->cred);
		free(t);
		return -1;
	}
	if (gnutls_set_default_priority(t->session) < 0 ||
	    gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE,
	    t->cred) < 0)
		goto setup;
	/* SNI takes names only, never address literals. */
	if (inet_pton(AF_INET, c->tls.host, a) != 1 &&
	    inet_pton(AF_INET6, c->tls.host, a) != 1 &&
	    gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, c->tls.host,
	    strlen(c->tls.host)) < 0)
		goto setup;
	gnutls_transport_set_int(t->session, fd);
	gnutls_handshake_set_timeout(t->session, IMAP_NET_TIMEOUT * 1000);
	gnutls_record_set_timeout(t->session, IMAP_NET_TIMEOUT * 1000);
	do
		r = gnutls_handshake(t->session);
	while (r < 0 && gnutls_error_is_fatal(r) == 0);
	if (r < 0) {
		snprintf(seen->reason, sizeof(seen->reason), "TLS handshake "
		    "with %s failed: %s", c->tls.host, gnutls_strerror(r));
		goto fail;
	}
	seen->encrypted = 1;
	strlcpy(seen->tls_version, gnutls_protocol_get_name(
	    gnutls_protocol_get_version(t->session)) != NULL ?
	    gnutls_protocol_get_name(gnutls_protocol_get_version(t->session)) :
	    "?", sizeof(seen->tls_version));
	peers = gnutls_certificate_get_peers(t->session, &npeers);
	if (peers == NULL || npeers == 0) {
		snprintf(seen->reason, sizeof(seen->reason), "%s showed no "
		    "certificate", c->tls.host);
		c->refused = 1;
		goto fail;
	}
	if (cert_pin(peers[0].data, peers[0].size, seen->pin) == -1)
		seen->pin[0] = '\0';
	if (cert_subject(peers[0].data, peers[0].size, seen->subject,
	    sizeof(seen->subject)) == -1)
		seen->subject[0] = '\0';
	if (imap_tls_check(c, peers, npeers) == -1)
		goto fail;
	if ((low = mailstream_low_new(t, &imap_tls_driver)) == NULL) {
		snprintf(seen->reason, sizeof(seen->reason), "out of memory");
		goto fail;
	}
	c->tlsconn = t;
	*lowp = low;
	return 0;
setup:
	snprintf(seen->reason, sizeof(seen->reason), "TLS set-up failed");
fail:
	snprintf(seen->login, sizeof(seen->login), "not attempted: the "
	    "password was not sent");
	/* nothing more on this connection: no close_notify either */
	t->fd = -1;
	t->child = NULL;
	imap_tls_free_data(t);
	return -1;
}
