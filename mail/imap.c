/*
 * imap: the owner-mail fetcher; see include/imap.h for the protocol.
 *
 * Hostile here: everything the IMAP server sends (sizes, UIDs, header
 * and message bytes), the configured URL, and each side's frames to the
 * other.  This file never sends the password before a TLS certificate
 * it started checking has passed (a failed verification is an error,
 * retried, never ignored), never logs a password or a mail body, never
 * fetches a message over [limits] mail_max_bytes into memory on purpose
 * (a server that lies about RFC822.SIZE is caught after the fetch), never
 * writes outside inbox_dir or under a name it did not build from two
 * numbers, and never addresses a message by sequence number: every
 * command that names a message is a UID command.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "lib/compat.h"
#include "common/config.h"
#include "mail/imap.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

#define IMAP_NET_TIMEOUT   60          /* seconds per network read */
#define IMAP_IDLE_RENEW    (20 * 60)   /* below the 29 min of RFC 2177 */
#define IMAP_RESUME_WAIT   300         /* seconds for the parent's answer */
#define IMAP_BACKOFF_MAX   300
#define IMAP_GOOD_SESSION  30          /* seconds: then backoff restarts */
#define IMAP_DONE_MAX      65536       /* queued "done" (a lost one is asked again) */
#define IMAP_LINE_MAX      128
#define IMAP_CHAIN_MAX     16

/* ---- frames, both directions ----------------------------------------- */

/* Decimal, no sign, no leading zeros beyond "0", at most max. */
static int
imap_num_parse(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static int
imap_u32_parse(const char *s, int zero_ok, uint32_t *out)
{
	uint64_t v;

	if (imap_num_parse(s, UINT32_MAX, &v) == -1 || (v == 0 && !zero_ok))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/*
 * Split the first line of a frame (up to '\n' or len) into at most
 * maxtok space-separated tokens, copied into line.  Returns the number
 * of tokens, -1 for an empty token, a control byte, or too long a line.
 * *rest points after the '\n' (or to the end).
 */
static int
imap_frame_split(const char *buf, size_t len, char line[IMAP_LINE_MAX],
    char **tok, int maxtok, const char **rest)
{
	const char *nl = memchr(buf, '\n', len);
	size_t ll = nl != NULL ? (size_t)(nl - buf) : len;
	int n = 0;
	char *p;

	if (ll == 0 || ll >= IMAP_LINE_MAX)
		return -1;
	for (size_t i = 0; i < ll; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] >= 0x7f)
			return -1;
	memcpy(line, buf, ll);
	line[ll] = '\0';
	*rest = nl != NULL ? nl + 1 : buf + len;
	for (p = line;;) {
		char *sp = strchr(p, ' ');

		if (sp != NULL)
			*sp = '\0';
		if (*p == '\0' || n == maxtok)
			return -1;
		tok[n++] = p;
		if (sp == NULL)
			break;
		p = sp + 1;
	}
	return n;
}

int
imap_event_decode(const char *buf, size_t len, struct imap_event *ev)
{
	char line[IMAP_LINE_MAX], *t[5];
	const char *rest;
	struct imap_event e;
	uint64_t size;
	int n;

	if (len > IMAP_FRAME_MAX)
		return -1;
	if ((n = imap_frame_split(buf, len, line, t, 5, &rest)) == -1)
		return -1;
	memset(&e, 0, sizeof(e));
	if (strcmp(t[0], "large") != 0 && rest != buf + len)
		return -1; /* only "large" carries bytes after the line */
	if (strcmp(t[0], "uidvalidity") == 0 && n == 3) {
		e.kind = IMAP_EV_UIDVALIDITY;
		if (imap_u32_parse(t[1], 1, &e.old_uidvalidity) == -1 ||
		    imap_u32_parse(t[2], 0, &e.uidvalidity) == -1)
			return -1;
	} else if (strcmp(t[0], "new") == 0 && n == 4) {
		e.kind = IMAP_EV_NEW;
		if (imap_u32_parse(t[1], 0, &e.uidvalidity) == -1 ||
		    imap_u32_parse(t[2], 0, &e.uid) == -1)
			return -1;
		/* The name is rebuilt, never taken from the child. */
		snprintf(e.file, sizeof(e.file), "%" PRIu32 "-%" PRIu32 ".eml",
		    e.uidvalidity, e.uid);
		if (strcmp(t[3], e.file) != 0)
			return -1;
	} else if (strcmp(t[0], "large") == 0 && n == 4) {
		e.kind = IMAP_EV_LARGE;
		if (imap_u32_parse(t[1], 0, &e.uidvalidity) == -1 ||
		    imap_u32_parse(t[2], 0, &e.uid) == -1 ||
		    imap_num_parse(t[3], UINT64_MAX, &size) == -1)
			return -1;
		e.size = size;
		e.header = rest;
		e.header_len = (size_t)(buf + len - rest);
		if (e.header_len > IMAP_HEADER_MAX)
			return -1;
	} else if ((strcmp(t[0], "old") == 0 || strcmp(t[0], "moved") == 0) &&
	    n == 3) {
		e.kind = t[0][0] == 'o' ? IMAP_EV_OLD : IMAP_EV_MOVED;
		if (imap_u32_parse(t[1], 0, &e.uidvalidity) == -1 ||
		    imap_u32_parse(t[2], 0, &e.uid) == -1)
			return -1;
	} else if (strcmp(t[0], "synced") == 0 && n == 3) {
		e.kind = IMAP_EV_SYNCED;
		if (imap_u32_parse(t[1], 0, &e.uidvalidity) == -1 ||
		    imap_u32_parse(t[2], 1, &e.uid) == -1)
			return -1;
	} else
		return -1;
	*ev = e;
	return 0;
}

/* ---- URL --------------------------------------------------------------- */

static int
imap_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..len); NULL on a bad escape or a control byte. */
static char *
imap_pct_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int h, l;

			if (len - i < 3)
				goto bad;
			if ((h = imap_hex(s[i + 1])) == -1 ||
			    (l = imap_hex(s[i + 2])) == -1)
				goto bad;
			c = (unsigned char)(h << 4 | l);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			goto bad;
		*o++ = (char)c;
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

void
imap_url_free(struct imap_url *u)
{
	if (u == NULL)
		return;
	free(u->user);
	if (u->pass != NULL) {
		explicit_bzero(u->pass, strlen(u->pass));
		free(u->pass);
	}
	free(u->host);
	free(u->mailbox);
	memset(u, 0, sizeof(*u));
}

int
imap_url_parse(const char *url, struct imap_url *out, char *err,
    size_t errsize)
{
	struct imap_url u;
	const char *p, *auth, *slash, *at, *colon, *hp, *hend, *port = NULL;
	size_t alen;
	uint64_t pv;

	memset(&u, 0, sizeof(u));
	if (strncasecmp(url, "imaps://", 8) == 0) {
		u.tls = 1;
		p = url + 8;
	} else if (strncasecmp(url, "imap://", 7) == 0)
		p = url + 7;
	else {
		snprintf(err, errsize, "imap url: not imap:// or imaps://");
		return -1;
	}
	if (strpbrk(p, "?#") != NULL) {
		snprintf(err, errsize, "imap url: no query or fragment allowed");
		return -1;
	}
	auth = p;
	slash = strchr(auth, '/');
	alen = slash != NULL ? (size_t)(slash - auth) : strlen(auth);
	at = NULL;
	for (size_t i = 0; i < alen; i++)
		if (auth[i] == '@')
			at = auth + i;
	if (at == NULL) {
		snprintf(err, errsize, "imap url: no user:password@");
		return -1;
	}
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (colon == NULL || colon == auth) {
		snprintf(err, errsize, "imap url: no user:password@");
		return -1;
	}
	if (memchr(auth, ';', (size_t)(colon - auth)) != NULL) {
		snprintf(err, errsize, "imap url: ;AUTH= is not supported");
		return -1;
	}
	if ((u.user = imap_pct_decode(auth, (size_t)(colon - auth))) == NULL ||
	    *u.user == '\0') {
		snprintf(err, errsize, "imap url: bad user name");
		goto fail;
	}
	if ((u.pass = imap_pct_decode(colon + 1,
	    (size_t)(at - colon - 1))) == NULL) {
		snprintf(err, errsize, "imap url: bad percent-encoding in the password");
		goto fail;
	}
	hp = at + 1;
	hend = auth + alen;
	if (hp < hend && *hp == '[') {
		const char *rb = memchr(hp, ']', (size_t)(hend - hp));
		unsigned char a6[16];
		char tmp[INET6_ADDRSTRLEN + 1];

		if (rb == NULL || (size_t)(rb - hp - 1) >= sizeof(tmp)) {
			snprintf(err, errsize, "imap url: bad IPv6 address");
			goto fail;
		}
		memcpy(tmp, hp + 1, (size_t)(rb - hp - 1));
		tmp[rb - hp - 1] = '\0';
		if (inet_pton(AF_INET6, tmp, a6) != 1) {
			snprintf(err, errsize, "imap url: bad IPv6 address");
			goto fail;
		}
		u.host = xstrdup(tmp);
		if (rb + 1 < hend) {
			if (rb[1] != ':') {
				snprintf(err, errsize, "imap url: bad host");
				goto fail;
			}
			port = rb + 2;
		}
	} else {
		const char *c = memchr(hp, ':', (size_t)(hend - hp));
		const char *e = c != NULL ? c : hend;

		if (e == hp) {
			snprintf(err, errsize, "imap url: no host");
			goto fail;
		}
		for (const char *q = hp; q < e; q++)
			if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
			    (*q >= '0' && *q <= '9') || *q == '-' || *q == '.' ||
			    *q == '_')) {
				snprintf(err, errsize, "imap url: bad host name");
				goto fail;
			}
		u.host = xstrndup(hp, (size_t)(e - hp));
		if (c != NULL)
			port = c + 1;
	}
	u.port = u.tls ? 993 : 143;
	if (port != NULL) {
		char tmp[8];

		if ((size_t)(hend - port) >= sizeof(tmp) || hend == port) {
			snprintf(err, errsize, "imap url: bad port");
			goto fail;
		}
		memcpy(tmp, port, (size_t)(hend - port));
		tmp[hend - port] = '\0';
		if (imap_num_parse(tmp, 65535, &pv) == -1 || pv == 0) {
			snprintf(err, errsize, "imap url: bad port");
			goto fail;
		}
		u.port = (uint16_t)pv;
	}
	if (slash == NULL || slash[1] == '\0')
		u.mailbox = xstrdup("INBOX");
	else if (strchr(slash + 1, ';') != NULL ||
	    (u.mailbox = imap_pct_decode(slash + 1, strlen(slash + 1))) == NULL) {
		snprintf(err, errsize, "imap url: bad mailbox name");
		goto fail;
	}
	*out = u;
	return 0;
fail:
	imap_url_free(&u);
	return -1;
}

/* ---- the parent's side ------------------------------------------------- */

struct imap_fetcher {
	pid_t pid;
	int fd;
	char buf[IMAP_FRAME_MAX + 1];
};

static void imap_child_main(const struct config *cf, const char *inbox_dir,
    int sock, pid_t parent) __attribute__((noreturn));

struct imap_fetcher *
imap_fetcher_start(const struct config *cf, const char *inbox_dir,
    char *err, size_t errsize)
{
	struct imap_fetcher *f;
	struct imap_url u;
	int sv[2];
	pid_t pid, parent = getpid();

	if (cf->imap_url == NULL || *cf->imap_url == '\0') {
		snprintf(err, errsize, "imap: no [imap] url");
		return NULL;
	}
	if (imap_url_parse(cf->imap_url, &u, err, errsize) == -1)
		return NULL;
	imap_url_free(&u);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errsize, "imap: socketpair: %s", strerror(errno));
		return NULL;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errsize, "imap: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	if (pid == 0) {
		close(sv[0]);
		imap_child_main(cf, inbox_dir, sv[1], parent);
	}
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1) {
		snprintf(err, errsize, "imap: fcntl: %s", strerror(errno));
		close(sv[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return NULL;
	}
	f = xcalloc(1, sizeof(*f));
	f->pid = pid;
	f->fd = sv[0];
	return f;
}

int
imap_fetcher_fd(const struct imap_fetcher *f)
{
	return f->fd;
}

pid_t
imap_fetcher_pid(const struct imap_fetcher *f)
{
	return f->pid;
}

int
imap_fetcher_read(struct imap_fetcher *f, struct imap_event *ev)
{
	ssize_t n;

	if (f->fd == -1)
		return -1;
	do
		n = recv(f->fd, f->buf, sizeof(f->buf), MSG_DONTWAIT | MSG_TRUNC);
	while (n == -1 && errno == EINTR);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n == -1) {
		log_warn("imap: fetcher socket: %s", strerror(errno));
		return -1;
	}
	if (n == 0)
		return -1; /* the child is gone */
	if ((size_t)n > IMAP_FRAME_MAX ||
	    imap_event_decode(f->buf, (size_t)n, ev) == -1) {
		log_warn("imap: fetcher sent a frame that does not decode "
		    "(%zd bytes)", n);
		return -1;
	}
	return 1;
}

static int
imap_fetcher_send(struct imap_fetcher *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
imap_fetcher_send(struct imap_fetcher *f, const char *fmt, ...)
{
	char buf[IMAP_LINE_MAX];
	va_list ap;
	int n;

	if (f->fd == -1)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	if (send(f->fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
		return -1;
	return 0;
}

int
imap_fetcher_resume(struct imap_fetcher *f, uint32_t uidvalidity,
    uint32_t last_uid)
{
	return imap_fetcher_send(f, "resume %" PRIu32 " %" PRIu32,
	    uidvalidity, last_uid);
}

int
imap_fetcher_done(struct imap_fetcher *f, uint32_t uidvalidity, uint32_t uid)
{
	return imap_fetcher_send(f, "done %" PRIu32 " %" PRIu32,
	    uidvalidity, uid);
}

void
imap_fetcher_stop(struct imap_fetcher *f)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	if (f == NULL)
		return;
	if (f->fd != -1) {
		(void)imap_fetcher_send(f, "stop");
		close(f->fd);
		f->fd = -1;
	}
	for (i = 0; i < 300; i++) {
		pid_t r = waitpid(f->pid, NULL, WNOHANG);

		if (r == f->pid || (r == -1 && errno == ECHILD))
			break;
		nanosleep(&ts, NULL);
	}
	if (i == 300) {
		kill(f->pid, SIGKILL);
		while (waitpid(f->pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	free(f);
}

/* ---- the child --------------------------------------------------------- */

struct imap_done {
	uint32_t uidvalidity, uid;
};

struct imap_child {
	int sock;
	int dirfd;
	struct imap_url url;
	char *done_folder;
	char *ca_file;          /* NULL: the system store */
	uint64_t poll_interval; /* seconds, >= 1 */
	uint64_t max_bytes;
	mailimap *imap;
	int has_idle, has_move, has_uidplus;
	uint32_t uidvalidity;   /* of the session; 0 outside one */
	uint32_t prev_uidvalidity;
	uint32_t cursor;        /* highest UID reported under prev_uidvalidity */
	int resumed;
	uint32_t resume_last;
	int stopping;
	struct imap_done *done;
	size_t ndone, capdone;
	uint64_t rng;
};

static const char *
imap_strerror(int r)
{
	switch (r) {
	case MAILIMAP_ERROR_STREAM: return "connection lost or timed out";
	case MAILIMAP_ERROR_PARSE: return "unparsable server response";
	case MAILIMAP_ERROR_CONNECTION_REFUSED: return "connection refused";
	case MAILIMAP_ERROR_MEMORY: return "out of memory";
	case MAILIMAP_ERROR_LOGIN: return "login refused";
	case MAILIMAP_ERROR_SELECT: return "SELECT refused";
	case MAILIMAP_ERROR_STARTTLS: return "STARTTLS failed";
	case MAILIMAP_ERROR_SSL: return "TLS handshake failed";
	case MAILIMAP_ERROR_UID_FETCH: return "UID FETCH refused";
	case MAILIMAP_ERROR_UID_SEARCH: return "UID SEARCH refused";
	case MAILIMAP_ERROR_UID_MOVE: return "UID MOVE refused";
	case MAILIMAP_ERROR_UID_COPY: return "UID COPY refused";
	case MAILIMAP_ERROR_UID_STORE: return "UID STORE refused";
	case MAILIMAP_ERROR_CREATE: return "CREATE refused";
	case MAILIMAP_ERROR_LIST: return "LIST refused";
	default: return "IMAP error";
	}
}

/* An error after which the connection cannot be used any more. */
static int
imap_conn_lost(int r)
{
	return r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_PARSE ||
	    r == MAILIMAP_ERROR_MEMORY || r == MAILIMAP_ERROR_BAD_STATE ||
	    r == MAILIMAP_ERROR_FATAL;
}

static uint64_t
imap_child_rand(struct imap_child *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

static int64_t
imap_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
imap_child_send(struct imap_child *c, const char *buf, size_t len)
{
	if (c->stopping)
		return;
	while (send(c->sock, buf, len, MSG_NOSIGNAL) == -1) {
		if (errno == EINTR)
			continue;
		c->stopping = 1; /* the parent is gone */
		return;
	}
}

static void
imap_child_sendf(struct imap_child *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
imap_child_sendf(struct imap_child *c, const char *fmt, ...)
{
	char buf[IMAP_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		abort(); /* our own numbers always fit */
	imap_child_send(c, buf, (size_t)n);
}

/* One frame from the parent, decoded as untrusted. */
static void
imap_child_frame(struct imap_child *c, const char *buf, size_t len)
{
	char line[IMAP_LINE_MAX], *t[3];
	const char *rest;
	uint32_t a, b;
	int n;

	n = imap_frame_split(buf, len, line, t, 3, &rest);
	if (n == 1 && strcmp(t[0], "stop") == 0 && rest == buf + len) {
		c->stopping = 1;
		return;
	}
	if (n != 3 || rest != buf + len ||
	    imap_u32_parse(t[1], 0, &a) == -1 ||
	    imap_u32_parse(t[2], 1, &b) == -1)
		goto bad;
	if (strcmp(t[0], "resume") == 0) {
		if (a == c->uidvalidity && !c->resumed) {
			c->resumed = 1;
			c->resume_last = b;
		}
		return;
	}
	if (strcmp(t[0], "done") == 0 && b != 0) {
		if (c->ndone >= IMAP_DONE_MAX) {
			log_warn("imap: too many moves queued, uid=%" PRIu32
			    " waits for the next session", b);
			return;
		}
		xgrow(&c->done, &c->capdone, c->ndone, sizeof(*c->done));
		c->done[c->ndone].uidvalidity = a;
		c->done[c->ndone].uid = b;
		c->ndone++;
		return;
	}
bad:
	log_warn("imap: ignored a frame from the parent that does not decode");
}

/*
 * Read the parent's frames, waiting up to timeout_ms (-1: until one
 * comes) for the first.
 */
static void
imap_child_frames(struct imap_child *c, int timeout_ms)
{
	char buf[IMAP_FRAME_MAX + 1];
	struct pollfd pfd = { c->sock, POLLIN, 0 };
	ssize_t n;

	if (c->stopping)
		return;
	if (timeout_ms != 0 && poll(&pfd, 1, timeout_ms) <= 0)
		return;
	for (;;) {
		n = recv(c->sock, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			c->stopping = 1;
			return;
		}
		if ((size_t)n > IMAP_FRAME_MAX) {
			log_warn("imap: ignored an oversized frame from the parent");
			continue;
		}
		imap_child_frame(c, buf, (size_t)n);
		if (c->stopping)
			return;
	}
}

/* Sleep ms, serving the parent's frames; returns early on "stop". */
static void
imap_child_sleep(struct imap_child *c, int64_t ms)
{
	int64_t end = imap_now_ms() + ms, left;

	while (!c->stopping && (left = end - imap_now_ms()) > 0)
		imap_child_frames(c, left > INT_MAX ? INT_MAX : (int)left);
}

/* ---- TLS --------------------------------------------------------------- */

static void
imap_tls_callback(struct mailstream_ssl_context *ctx, void *arg)
{
	struct imap_child *c = arg;
	unsigned char a[16];

	/* SNI takes names only, never address literals. */
	if (inet_pton(AF_INET, c->url.host, a) != 1 &&
	    inet_pton(AF_INET6, c->url.host, a) != 1)
		(void)mailstream_ssl_set_server_name(ctx, c->url.host);
}

/*
 * Verify the server's certificate chain against the trust anchors and
 * the host name of the URL.  libetpan checks nothing itself: this runs
 * right after the handshake, before any credential is sent.
 */
static int
imap_tls_verify(struct imap_child *c, char *err, size_t errsize)
{
	gnutls_x509_crt_t crt[IMAP_CHAIN_MAX];
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_typed_vdata_st vd[2];
	gnutls_datum_t out = { NULL, 0 };
	unsigned char addr[16];
	unsigned int status = 0, ncrt = 0;
	carray *chain;
	int r, rc = -1;

	chain = mailstream_get_certificate_chain(c->imap->imap_stream);
	if (chain == NULL || carray_count(chain) == 0) {
		snprintf(err, errsize, "no server certificate");
		goto out;
	}
	for (unsigned int i = 0; i < carray_count(chain) && i < IMAP_CHAIN_MAX;
	    i++) {
		MMAPString *s = carray_get(chain, i);
		gnutls_datum_t d = { (unsigned char *)s->str,
		    (unsigned int)s->len };

		if (s->len > UINT_MAX || gnutls_x509_crt_init(&crt[ncrt]) < 0) {
			snprintf(err, errsize, "certificate not readable");
			goto out;
		}
		ncrt++;
		if (gnutls_x509_crt_import(crt[ncrt - 1], &d,
		    GNUTLS_X509_FMT_DER) < 0) {
			snprintf(err, errsize, "certificate %u does not parse", i);
			goto out;
		}
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		snprintf(err, errsize, "gnutls trust list");
		goto out;
	}
	if (c->ca_file != NULL)
		r = gnutls_x509_trust_list_add_trust_file(tl, c->ca_file, NULL,
		    GNUTLS_X509_FMT_PEM, 0, 0);
	else
		r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (r <= 0) {
		snprintf(err, errsize, "no trust anchors in %s",
		    c->ca_file != NULL ? c->ca_file : "the system store");
		goto out;
	}
	memset(vd, 0, sizeof(vd));
	if (inet_pton(AF_INET, c->url.host, addr) == 1) {
		vd[0].type = GNUTLS_DT_IP_ADDRESS;
		vd[0].data = addr;
		vd[0].size = 4;
	} else if (inet_pton(AF_INET6, c->url.host, addr) == 1) {
		vd[0].type = GNUTLS_DT_IP_ADDRESS;
		vd[0].data = addr;
		vd[0].size = 16;
	} else {
		vd[0].type = GNUTLS_DT_DNS_HOSTNAME;
		vd[0].data = (unsigned char *)c->url.host;
	}
	vd[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	r = gnutls_x509_trust_list_verify_crt2(tl, crt, ncrt, vd, 2, 0,
	    &status, NULL);
	if (r < 0) {
		snprintf(err, errsize, "verification failed: %s",
		    gnutls_strerror(r));
		goto out;
	}
	if (status != 0) {
		if (gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &out, 0) == 0) {
			size_t l;

			snprintf(err, errsize, "%s", (const char *)out.data);
			l = strlen(err);
			while (l > 0 && err[l - 1] == ' ')
				err[--l] = '\0';
		} else
			snprintf(err, errsize, "not trusted (status %#x)", status);
		gnutls_free(out.data);
		goto out;
	}
	rc = 0;
out:
	for (unsigned int i = 0; i < ncrt; i++)
		gnutls_x509_crt_deinit(crt[i]);
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	if (chain != NULL)
		mailstream_certificate_chain_free(chain);
	return rc;
}

/* ---- one session --------------------------------------------------------- */

static void
imap_child_disconnect(struct imap_child *c, int logout)
{
	if (c->imap == NULL)
		return;
	if (logout && c->imap->imap_stream != NULL)
		(void)mailimap_logout(c->imap);
	/* mailimap_free() would say LOGOUT: not to a peer that failed
	 * verification, nor on a connection that is known dead. */
	if (c->imap->imap_stream != NULL) {
		mailstream_close(c->imap->imap_stream);
		c->imap->imap_stream = NULL;
	}
	mailimap_free(c->imap);
	c->imap = NULL;
	c->uidvalidity = 0;
}

static int
imap_child_caps(struct imap_child *c)
{
	struct mailimap_capability_data *cap = NULL;
	int r;

	if ((r = mailimap_capability(c->imap, &cap)) != MAILIMAP_NO_ERROR) {
		log_warn("imap: CAPABILITY: %s", imap_strerror(r));
		return -1;
	}
	mailimap_capability_data_free(cap);
	return 0;
}

/* Create done_folder unless LIST finds it. */
static int
imap_child_folder(struct imap_child *c)
{
	clist *list = NULL;
	int r, found;

	r = mailimap_list(c->imap, "", c->done_folder, &list);
	if (r != MAILIMAP_NO_ERROR) {
		log_warn("imap: LIST %s: %s", c->done_folder, imap_strerror(r));
		return -1;
	}
	found = list != NULL && clist_count(list) > 0;
	if (list != NULL)
		mailimap_list_result_free(list);
	if (found)
		return 0;
	if ((r = mailimap_create(c->imap, c->done_folder)) != MAILIMAP_NO_ERROR) {
		log_warn("imap: CREATE %s: %s", c->done_folder, imap_strerror(r));
		return -1;
	}
	log_info("imap: created folder %s", c->done_folder);
	return 0;
}

/* Connect, secure, log in, select.  0 with c->uidvalidity set. */
static int
imap_child_connect(struct imap_child *c)
{
	char err[256];
	int r, authenticated;

	if ((c->imap = mailimap_new(0, NULL)) == NULL)
		return -1;
	mailimap_set_timeout(c->imap, IMAP_NET_TIMEOUT);
	if (c->url.tls)
		r = mailimap_ssl_connect_with_callback(c->imap, c->url.host,
		    c->url.port, imap_tls_callback, c);
	else
		r = mailimap_socket_connect(c->imap, c->url.host, c->url.port);
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		log_warn("imap: connect to %s port %u: %s", c->url.host,
		    c->url.port, imap_strerror(r));
		return -1;
	}
	authenticated = r == MAILIMAP_NO_ERROR_AUTHENTICATED;
	if (c->url.tls && imap_tls_verify(c, err, sizeof(err)) == -1) {
		log_err("imap: certificate of %s refused: %s", c->url.host, err);
		return -1;
	}
	if (imap_child_caps(c) == -1)
		return -1;
	if (!c->url.tls) {
		if (mailimap_has_extension(c->imap, "STARTTLS")) {
			r = mailimap_socket_starttls_with_callback(c->imap,
			    imap_tls_callback, c);
			if (r != MAILIMAP_NO_ERROR) {
				log_warn("imap: STARTTLS with %s: %s",
				    c->url.host, imap_strerror(r));
				return -1;
			}
			if (imap_tls_verify(c, err, sizeof(err)) == -1) {
				log_err("imap: certificate of %s refused: %s",
				    c->url.host, err);
				return -1;
			}
			if (imap_child_caps(c) == -1)
				return -1;
		} else
			log_warn("imap: %s offers no STARTTLS: the session is "
			    "not encrypted", c->url.host);
	}
	if (!authenticated) {
		r = mailimap_login(c->imap, c->url.user, c->url.pass);
		if (r != MAILIMAP_NO_ERROR) {
			log_err("imap: login as %s at %s: %s", c->url.user,
			    c->url.host, imap_strerror(r));
			return -1;
		}
		/* The capabilities may change once logged in. */
		if (imap_child_caps(c) == -1)
			return -1;
	}
	c->has_idle = mailimap_has_idle(c->imap);
	c->has_move = mailimap_has_extension(c->imap, "MOVE");
	c->has_uidplus = mailimap_has_uidplus(c->imap);
	if (imap_child_folder(c) == -1)
		return -1;
	if ((r = mailimap_select(c->imap, c->url.mailbox)) != MAILIMAP_NO_ERROR) {
		log_err("imap: SELECT %s: %s", c->url.mailbox, imap_strerror(r));
		return -1;
	}
	if (c->imap->imap_selection_info == NULL ||
	    c->imap->imap_selection_info->sel_uidvalidity == 0) {
		log_err("imap: %s gives no UIDVALIDITY", c->url.mailbox);
		return -1;
	}
	c->uidvalidity = c->imap->imap_selection_info->sel_uidvalidity;
	return 0;
}

static int
imap_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* UID SEARCH UID first:last (last 0 = "*"): sorted UIDs in [first, ...]. */
static int
imap_child_search(struct imap_child *c, uint32_t first, uint32_t last,
    uint32_t **uids, size_t *nuids)
{
	struct mailimap_search_key *key;
	struct mailimap_set *set;
	clist *res = NULL;
	clistiter *it;
	uint32_t *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	if ((set = mailimap_set_new_interval(first, last)) == NULL)
		return MAILIMAP_ERROR_MEMORY;
	if ((key = mailimap_search_key_new_uid(set)) == NULL) {
		mailimap_set_free(set);
		return MAILIMAP_ERROR_MEMORY;
	}
	r = mailimap_uid_search(c->imap, NULL, key, &res);
	mailimap_search_key_free(key); /* frees set */
	if (r != MAILIMAP_NO_ERROR)
		return r;
	for (it = clist_begin(res); it != NULL; it = clist_next(it)) {
		uint32_t u = *(uint32_t *)clist_content(it);

		/* "n:*" matches the last message even below n. */
		if (u < first || (last != 0 && u > last))
			continue;
		xgrow(&v, &cap, n, sizeof(*v));
		v[n++] = u;
	}
	mailimap_search_result_free(res);
	if (n > 0)
		qsort(v, n, sizeof(*v), imap_u32_cmp);
	*uids = v;
	*nuids = n;
	return MAILIMAP_NO_ERROR;
}

/*
 * UID FETCH uid with the attributes of ft; on success *res holds the
 * response list (NULL-safe free with mailimap_fetch_list_free) and
 * *size / *body / *blen what was found for that UID (*found 0 when the
 * message has gone).
 */
static int
imap_child_fetch(struct imap_child *c, uint32_t uid,
    struct mailimap_fetch_type *ft, clist **res, int *found,
    uint32_t *size, const char **body, size_t *blen)
{
	struct mailimap_set *set;
	clistiter *it, *ai;
	int r;

	*found = 0;
	*res = NULL;
	if ((set = mailimap_set_new_single(uid)) == NULL)
		return MAILIMAP_ERROR_MEMORY;
	r = mailimap_uid_fetch(c->imap, set, ft, res);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return r;
	/* Unsolicited FETCH responses for others may come along. */
	for (it = clist_begin(*res); it != NULL; it = clist_next(it)) {
		struct mailimap_msg_att *ma = clist_content(it);
		uint32_t u = 0, sz = 0;
		const char *b = NULL;
		size_t bl = 0;
		int hasbody = 0;

		for (ai = clist_begin(ma->att_list); ai != NULL;
		    ai = clist_next(ai)) {
			struct mailimap_msg_att_item *item = clist_content(ai);
			struct mailimap_msg_att_static *st;

			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			st = item->att_data.att_static;
			switch (st->att_type) {
			case MAILIMAP_MSG_ATT_UID:
				u = st->att_data.att_uid;
				break;
			case MAILIMAP_MSG_ATT_RFC822_SIZE:
				sz = st->att_data.att_rfc822_size;
				break;
			case MAILIMAP_MSG_ATT_BODY_SECTION:
				b = st->att_data.att_body_section->sec_body_part;
				bl = st->att_data.att_body_section->sec_length;
				hasbody = 1;
				break;
			}
		}
		if (u == uid) {
			*found = 1;
			if (size != NULL)
				*size = sz;
			if (body != NULL) {
				*body = hasbody && b != NULL ? b : "";
				*blen = hasbody && b != NULL ? bl : 0;
			}
			break;
		}
	}
	return MAILIMAP_NO_ERROR;
}

static struct mailimap_fetch_type *
imap_fetch_type(struct mailimap_fetch_att *att)
{
	struct mailimap_fetch_type *ft;

	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	if (ft == NULL ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid()) != MAILIMAP_NO_ERROR ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, att) !=
	    MAILIMAP_NO_ERROR)
		abort(); /* libetpan's allocation failed */
	return ft;
}

/* Report a message over mail_max_bytes with its identifying header fields. */
static int
imap_child_large(struct imap_child *c, uint32_t uid, uint64_t size)
{
	static const char *const fields[] = { "FROM", "RETURN-PATH",
		"MESSAGE-ID", "SUBJECT", "AUTO-SUBMITTED", "PRECEDENCE",
		"LIST-ID" };
	struct mailimap_fetch_type *ft;
	clist *hl, *res = NULL;
	char *frame;
	const char *h = "";
	size_t hlen = 0, n;
	int r, found, len;

	if ((hl = clist_new()) == NULL)
		abort();
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (clist_append(hl, xstrdup(fields[i])) != 0)
			abort();
	ft = imap_fetch_type(mailimap_fetch_att_new_body_peek_section(
	    mailimap_section_new_header_fields(mailimap_header_list_new(hl))));
	r = imap_child_fetch(c, uid, ft, &res, &found, NULL, &h, &hlen);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR) {
		if (res != NULL)
			mailimap_fetch_list_free(res);
		log_warn("imap: uid=%" PRIu32 " header fetch: %s", uid,
		    imap_strerror(r));
		return r;
	}
	if (!found)
		h = "", hlen = 0;
	if (hlen > IMAP_HEADER_MAX) {
		/* Whole lines only: cut after the last one that fits. */
		const char *nl = NULL;

		for (size_t i = 0; i < IMAP_HEADER_MAX; i++)
			if (h[i] == '\n')
				nl = h + i;
		hlen = nl != NULL ? (size_t)(nl - h) + 1 : 0;
	}
	frame = xmalloc(IMAP_LINE_MAX + hlen);
	len = snprintf(frame, IMAP_LINE_MAX, "large %" PRIu32 " %" PRIu32
	    " %" PRIu64 "\n", c->uidvalidity, uid, size);
	if (len < 0 || len >= IMAP_LINE_MAX)
		abort();
	n = (size_t)len;
	memcpy(frame + n, h, hlen);
	imap_child_send(c, frame, n + hlen);
	free(frame);
	if (res != NULL)
		mailimap_fetch_list_free(res);
	log_info("imap: uid=%" PRIu32 " size=%" PRIu64 " over mail_max_bytes "
	    "(%" PRIu64 "): left in %s", uid, size, c->max_bytes,
	    c->url.mailbox);
	return MAILIMAP_NO_ERROR;
}

/* Write data as inbox_dir/name: temp name O_EXCL, fsync, rename, fsync dir. */
static int
imap_child_store(struct imap_child *c, const char *name, const char *data,
    size_t len)
{
	char tmp[64];
	size_t off = 0;
	int fd;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	/* A leftover of a child killed while writing. */
	if (unlinkat(c->dirfd, tmp, 0) == -1 && errno != ENOENT)
		goto fail;
	fd = openat(c->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		goto fail;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			goto fail_unlink;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1) {
		close(fd);
		goto fail_unlink;
	}
	if (close(fd) == -1)
		goto fail_unlink;
	if (renameat(c->dirfd, tmp, c->dirfd, name) == -1)
		goto fail_unlink;
	if (fsync(c->dirfd) == -1)
		goto fail;
	return 0;
fail_unlink:
	{
		int e = errno;

		(void)unlinkat(c->dirfd, tmp, 0);
		errno = e;
	}
fail:
	log_err("imap: storing %s: %s", name, strerror(errno));
	return -1;
}

/*
 * Take one new message: report it again if it is already stored, report
 * it as too large, or fetch, store and report it.  Returns a MAILIMAP
 * code; a local write error is MAILIMAP_ERROR_FATAL (retried later).
 */
static int
imap_child_take(struct imap_child *c, uint32_t uid)
{
	struct mailimap_fetch_type *ft;
	struct stat st;
	clist *res = NULL;
	char name[32];
	const char *body;
	size_t blen;
	uint32_t size;
	int r, found;

	snprintf(name, sizeof(name), "%" PRIu32 "-%" PRIu32 ".eml",
	    c->uidvalidity, uid);
	if (fstatat(c->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode)) {
			log_err("imap: %s exists and is not a regular file",
			    name);
			return MAILIMAP_ERROR_FATAL;
		}
		log_info("imap: uid=%" PRIu32 " size=%lld already stored as %s",
		    uid, (long long)st.st_size, name);
		imap_child_sendf(c, "new %" PRIu32 " %" PRIu32 " %s",
		    c->uidvalidity, uid, name);
		return MAILIMAP_NO_ERROR;
	}

	ft = imap_fetch_type(mailimap_fetch_att_new_rfc822_size());
	r = imap_child_fetch(c, uid, ft, &res, &found, &size, NULL, NULL);
	mailimap_fetch_type_free(ft);
	if (res != NULL)
		mailimap_fetch_list_free(res);
	if (r != MAILIMAP_NO_ERROR) {
		log_warn("imap: uid=%" PRIu32 " size fetch: %s", uid,
		    imap_strerror(r));
		return r;
	}
	if (!found) {
		log_info("imap: uid=%" PRIu32 " gone before it was fetched", uid);
		return MAILIMAP_NO_ERROR;
	}
	if (size > c->max_bytes)
		return imap_child_large(c, uid, size);

	ft = imap_fetch_type(mailimap_fetch_att_new_body_peek_section(
	    mailimap_section_new(NULL)));
	r = imap_child_fetch(c, uid, ft, &res, &found, NULL, &body, &blen);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR) {
		log_warn("imap: uid=%" PRIu32 " fetch: %s", uid,
		    imap_strerror(r));
		goto out;
	}
	if (!found) {
		log_info("imap: uid=%" PRIu32 " gone before it was fetched", uid);
		goto out;
	}
	if (blen > c->max_bytes) {
		/* The server understated RFC822.SIZE. */
		mailimap_fetch_list_free(res);
		res = NULL;
		r = imap_child_large(c, uid, blen);
		goto out;
	}
	if (imap_child_store(c, name, body, blen) == -1) {
		r = MAILIMAP_ERROR_FATAL;
		goto out;
	}
	log_info("imap: uid=%" PRIu32 " size=%zu stored as %s", uid, blen, name);
	imap_child_sendf(c, "new %" PRIu32 " %" PRIu32 " %s", c->uidvalidity,
	    uid, name);
out:
	if (res != NULL)
		mailimap_fetch_list_free(res);
	return r;
}

/* Move uid to done_folder.  A refusal is logged: "old" asks again later. */
static int
imap_child_move(struct imap_child *c, uint32_t uid)
{
	struct mailimap_set *set;
	struct mailimap_flag_list *fl;
	struct mailimap_store_att_flags *sa;
	int r;

	if ((set = mailimap_set_new_single(uid)) == NULL)
		return MAILIMAP_ERROR_MEMORY;
	if (c->has_move)
		r = mailimap_uid_move(c->imap, set, c->done_folder);
	else {
		r = mailimap_uid_copy(c->imap, set, c->done_folder);
		if (r == MAILIMAP_NO_ERROR) {
			if ((fl = mailimap_flag_list_new_empty()) == NULL ||
			    mailimap_flag_list_add(fl,
			    mailimap_flag_new_deleted()) != MAILIMAP_NO_ERROR ||
			    (sa = mailimap_store_att_flags_new_add_flags_silent(
			    fl)) == NULL)
				abort();
			r = mailimap_uid_store(c->imap, set, sa);
			mailimap_store_att_flags_free(sa);
		}
		if (r == MAILIMAP_NO_ERROR) {
			/* Without UIDPLUS, EXPUNGE also takes what others
			 * marked \Deleted: only an intake mailbox is used. */
			r = c->has_uidplus ? mailimap_uid_expunge(c->imap, set) :
			    mailimap_expunge(c->imap);
		}
	}
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		log_warn("imap: uid=%" PRIu32 " move to %s: %s", uid,
		    c->done_folder, imap_strerror(r));
		return imap_conn_lost(r) ? r : MAILIMAP_NO_ERROR;
	}
	log_info("imap: uid=%" PRIu32 " moved to %s", uid, c->done_folder);
	imap_child_sendf(c, "moved %" PRIu32 " %" PRIu32, c->uidvalidity, uid);
	return MAILIMAP_NO_ERROR;
}

/* Act on the queued "done" frames of this UIDVALIDITY. */
static int
imap_child_moves(struct imap_child *c)
{
	int r;

	while (c->ndone > 0 && !c->stopping) {
		struct imap_done d = c->done[0];

		memmove(c->done, c->done + 1, (c->ndone - 1) * sizeof(*c->done));
		c->ndone--;
		if (d.uidvalidity != c->uidvalidity) {
			log_info("imap: done for uid=%" PRIu32 " of uidvalidity "
			    "%" PRIu32 " ignored (now %" PRIu32 ")", d.uid,
			    d.uidvalidity, c->uidvalidity);
			continue;
		}
		if ((r = imap_child_move(c, d.uid)) != MAILIMAP_NO_ERROR)
			return r;
	}
	return MAILIMAP_NO_ERROR;
}

/* Report every UID above the cursor. */
static int
imap_child_scan(struct imap_child *c)
{
	uint32_t *uids = NULL;
	size_t n = 0;
	int r;

	if (c->cursor == UINT32_MAX)
		return MAILIMAP_NO_ERROR;
	r = imap_child_search(c, c->cursor + 1, 0, &uids, &n);
	if (r != MAILIMAP_NO_ERROR) {
		log_warn("imap: UID SEARCH: %s", imap_strerror(r));
		return r;
	}
	for (size_t i = 0; i < n && !c->stopping; i++) {
		if ((r = imap_child_take(c, uids[i])) != MAILIMAP_NO_ERROR)
			break;
		c->cursor = uids[i];
		/* Moves are cheap and free the parent's memory: do them
		 * between messages. */
		imap_child_frames(c, 0);
		if ((r = imap_child_moves(c)) != MAILIMAP_NO_ERROR)
			break;
	}
	free(uids);
	if (r == MAILIMAP_NO_ERROR && !c->stopping)
		imap_child_sendf(c, "synced %" PRIu32 " %" PRIu32,
		    c->uidvalidity, c->cursor);
	return r;
}

/*
 * Wait for news: IDLE (renewed) when offered, else a plain wait, both
 * cut short by the parent's frames and ended by poll_interval.
 */
static int
imap_child_wait(struct imap_child *c)
{
	int64_t now = imap_now_ms(), end;
	uint64_t pi = c->poll_interval;
	int r;

	if (pi > IMAP_IDLE_RENEW)
		pi = IMAP_IDLE_RENEW;
	end = now + (int64_t)pi * 1000;
	if (!c->has_idle) {
		while (!c->stopping && c->ndone == 0 &&
		    (now = imap_now_ms()) < end)
			imap_child_frames(c, (int)(end - now));
		if (c->stopping || c->ndone > 0)
			return MAILIMAP_NO_ERROR;
		/* Some servers report new mail only on a command. */
		r = mailimap_noop(c->imap);
		return imap_conn_lost(r) ? r : MAILIMAP_NO_ERROR;
	}
	if ((r = mailimap_idle(c->imap)) != MAILIMAP_NO_ERROR) {
		log_warn("imap: IDLE: %s", imap_strerror(r));
		return r;
	}
	/* Data libetpan already read into its buffer would never wake poll. */
	while (c->imap->imap_stream->read_buffer_len == 0 && !c->stopping &&
	    c->ndone == 0 && (now = imap_now_ms()) < end) {
		struct pollfd pfd[2] = {
			{ c->sock, POLLIN, 0 },
			{ mailimap_idle_get_fd(c->imap), POLLIN, 0 },
		};

		if (poll(pfd, 2, (int)(end - now)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents != 0)
			imap_child_frames(c, 0);
		if (pfd[1].revents != 0)
			break;
	}
	if ((r = mailimap_idle_done(c->imap)) != MAILIMAP_NO_ERROR) {
		log_warn("imap: IDLE DONE: %s", imap_strerror(r));
		return imap_conn_lost(r) ? r : MAILIMAP_NO_ERROR;
	}
	return MAILIMAP_NO_ERROR;
}

/* One connection, from connect to drop or stop.  Its length in seconds. */
static int64_t
imap_child_session(struct imap_child *c)
{
	int64_t start = imap_now_ms(), end;
	uint32_t *uids = NULL;
	size_t n = 0;
	int r;

	if (imap_child_connect(c) == -1)
		goto out;
	c->resumed = 0;
	imap_child_sendf(c, "uidvalidity %" PRIu32 " %" PRIu32,
	    c->prev_uidvalidity, c->uidvalidity);
	if (c->prev_uidvalidity != 0 && c->prev_uidvalidity != c->uidvalidity)
		log_warn("imap: UIDVALIDITY of %s changed from %" PRIu32
		    " to %" PRIu32, c->url.mailbox, c->prev_uidvalidity,
		    c->uidvalidity);
	end = imap_now_ms() + IMAP_RESUME_WAIT * 1000;
	while (!c->resumed && !c->stopping && imap_now_ms() < end)
		imap_child_frames(c, (int)(end - imap_now_ms()));
	if (!c->resumed) {
		if (!c->stopping)
			log_warn("imap: no answer from the parent to uidvalidity");
		goto out;
	}
	/* Within one child, what it reported stays with the parent. */
	if (c->uidvalidity != c->prev_uidvalidity || c->cursor < c->resume_last)
		c->cursor = c->resume_last;
	c->prev_uidvalidity = c->uidvalidity;
	log_info("imap: connected to %s, mailbox=%s uidvalidity=%" PRIu32
	    " last_uid=%" PRIu32 " idle=%s move=%s", c->url.host,
	    c->url.mailbox, c->uidvalidity, c->resume_last,
	    c->has_idle ? "yes" : "no", c->has_move ? "yes" : "no");

	/* Committed ones a crash kept from moving: the parent says "done". */
	if (c->resume_last > 0) {
		r = imap_child_search(c, 1, c->resume_last, &uids, &n);
		if (r != MAILIMAP_NO_ERROR) {
			log_warn("imap: UID SEARCH: %s", imap_strerror(r));
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			imap_child_sendf(c, "old %" PRIu32 " %" PRIu32,
			    c->uidvalidity, uids[i]);
		free(uids);
	}
	while (!c->stopping) {
		if ((r = imap_child_moves(c)) != MAILIMAP_NO_ERROR)
			break;
		if ((r = imap_child_scan(c)) != MAILIMAP_NO_ERROR)
			break;
		if (c->stopping)
			break;
		if ((r = imap_child_wait(c)) != MAILIMAP_NO_ERROR)
			break;
	}
out:
	imap_child_disconnect(c, c->stopping);
	return (imap_now_ms() - start) / 1000;
}

/* Between fork and the first connection. */
static void
imap_child_setup(pid_t parent)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD,
		SIGUSR1, SIGUSR2, SIGALRM };
	sigset_t none;

	/* The parent's handlers and mask (a signalfd) must not apply. */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		_exit(0);
	/*
	 * The parent's descriptors stay open: the logger caches its own
	 * (journal, syslog) and would write into whatever a closed number
	 * came to mean.  This process touches none of the others.
	 */
}

static void
imap_child_main(const struct config *cf, const char *inbox_dir, int sock,
    pid_t parent)
{
	struct imap_child c;
	char err[256];
	int64_t backoff = 0, lived, delay;
	struct timespec ts;

	imap_child_setup(parent);
	memset(&c, 0, sizeof(c));
	c.sock = sock;
	if (imap_url_parse(cf->imap_url, &c.url, err, sizeof(err)) == -1) {
		log_err("%s", err);
		_exit(1);
	}
	c.done_folder = xstrdup(*cf->imap_done_folder != '\0' ?
	    cf->imap_done_folder : "Processed");
	c.ca_file = cf->imap_ca_file != NULL && *cf->imap_ca_file != '\0' ?
	    xstrdup(cf->imap_ca_file) : NULL;
	c.poll_interval = cf->imap_poll_interval > 0 ? cf->imap_poll_interval : 1;
	c.max_bytes = cf->limits.mail_max_bytes;
	c.dirfd = open(inbox_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c.dirfd == -1) {
		log_err("imap: inbox %s: %s", inbox_dir, strerror(errno));
		_exit(1);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	c.rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
	    ((uint64_t)getpid() << 40) ^ 0x9e3779b97f4a7c15ULL;
	mailstream_network_delay.tv_sec = IMAP_NET_TIMEOUT;
	mailstream_network_delay.tv_usec = 0;

	while (!c.stopping) {
		lived = imap_child_session(&c);
		if (c.stopping)
			break;
		if (lived >= IMAP_GOOD_SESSION || backoff == 0)
			backoff = 1;
		else if ((backoff *= 2) > IMAP_BACKOFF_MAX)
			backoff = IMAP_BACKOFF_MAX;
		/* Jitter: between half and all of the backoff. */
		delay = backoff * 500 +
		    (int64_t)(imap_child_rand(&c) % (uint64_t)(backoff * 500 + 1));
		log_info("imap: reconnecting to %s in %lld ms", c.url.host,
		    (long long)delay);
		imap_child_sleep(&c, delay);
	}
	log_info("imap: fetcher stopped");
	_exit(0);
}
