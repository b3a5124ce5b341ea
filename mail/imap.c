/*
 * imap: the owner-mail fetcher; see include/mail/imap.h for the protocol.
 * This file is the parent's side: the frames both ways, the [imap] url,
 * and the fetcher process (start, read, send, stop).  The fetcher is a
 * program of its own, beiand-imap (imap_sandbox.c: its settings, from
 * imap_settings.c, and its sandbox), running imap_fetch.c (its loop)
 * over imap_session.c (the IMAP session).
 *
 * Hostile here: the configured URL and the child's frames (a child talks
 * to the server and may have been subverted).  Frames are decoded as
 * untrusted, a file name is rebuilt from two numbers, never taken from
 * the child, and a URL error never repeats the password.
 */
#include <arpa/inet.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/tls_policy.h"
#include "lib/log.h"
#include "lib/secret.h"
#include "lib/spawn.h"
#include "lib/xmalloc.h"
#include "mail/imap.h"
#include "mail/imap_int.h"

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

int
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
int
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

static const char *const imap_wait_names[IMAP_NWAIT] = {
	[IMAP_WAIT_NONE] = "",
	[IMAP_WAIT_SENDER] = "sender",
	[IMAP_WAIT_INBOX] = "inbox",
	[IMAP_WAIT_DISK] = "disk",
};

const char *
imap_wait_name(enum imap_wait_reason r)
{
	return (unsigned)r < IMAP_NWAIT ? imap_wait_names[r] : "";
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
	if (strcmp(t[0], "failing") == 0 && n == 2) {
		e.kind = IMAP_EV_FAILING;
		if (strcmp(t[1], "0") != 0 && strcmp(t[1], "1") != 0)
			return -1;
		e.refused = t[1][0] == '1';
		e.why = rest;
		e.why_len = (size_t)(buf + len - rest);
		if (rest == buf + len || e.why_len > IMAP_REASON_MAX)
			return -1;
		for (size_t i = 0; i < e.why_len; i++)
			if ((unsigned char)rest[i] < 0x20 ||
			    (unsigned char)rest[i] > 0x7e)
				return -1;
		*ev = e;
		return 0;
	}
	if (strcmp(t[0], "large") != 0 && rest != buf + len)
		return -1; /* only "large" and "failing" carry bytes after
			    * the line */
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
	} else if (strcmp(t[0], "wait") == 0 && n == 4) {
		e.kind = IMAP_EV_WAIT;
		if (imap_u32_parse(t[1], 0, &e.uidvalidity) == -1 ||
		    imap_u32_parse(t[2], 0, &e.uid) == -1)
			return -1;
		for (int r = IMAP_WAIT_SENDER; r < IMAP_NWAIT; r++)
			if (strcmp(t[3], imap_wait_names[r]) == 0)
				e.reason = (enum imap_wait_reason)r;
		if (e.reason == IMAP_WAIT_NONE)
			return -1;
	} else if (strcmp(t[0], "throttled") == 0 && n == 2) {
		e.kind = IMAP_EV_THROTTLED;
		if (imap_u32_parse(t[1], 1, &e.count) == -1)
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
	const char *p, *auth, *slash, *at, *colon, *uend, *hp, *hend;
	const char *port = NULL;
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
		snprintf(err, errsize, "imap url: no user@");
		return -1;
	}
	/* user, or user:password (without one, password_file has it) */
	colon = memchr(auth, ':', (size_t)(at - auth));
	uend = colon != NULL ? colon : at;
	if (uend == auth) {
		snprintf(err, errsize, "imap url: no user@");
		return -1;
	}
	if (memchr(auth, ';', (size_t)(uend - auth)) != NULL) {
		snprintf(err, errsize, "imap url: ;AUTH= is not supported");
		return -1;
	}
	if ((u.user = imap_pct_decode(auth, (size_t)(uend - auth))) == NULL ||
	    *u.user == '\0') {
		snprintf(err, errsize, "imap url: bad user name");
		goto fail;
	}
	if (colon != NULL && (u.pass = imap_pct_decode(colon + 1,
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

/* The user the fetcher runs as when the daemon is root: the daemon's own
 * service user, else nobody; never root. */
#define IMAP_USER     "beiand"
#define IMAP_FALLBACK "nobody"

/* The environment the fetcher may see: nothing of the parent's but these. */
static const char *const imap_env_names[] = {
	"TZ",
#ifdef BEIAND_SANITIZE
	"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
#endif
	NULL
};

int
imap_password_read(const struct config *cf, const struct imap_url *u,
    char **out, int *from_file, char *err, size_t errsize)
{
	char buf[SECRET_MAX], why[512];

	if (u->pass != NULL) {
		*out = xstrdup(u->pass);
		*from_file = 0;
		return 0;
	}
	if (cf->imap_password_file == NULL) {
		snprintf(err, errsize, "[imap] has no password: neither in the "
		    "url nor in password_file");
		return -1;
	}
	if (secret_file_read(cf->imap_password_file, buf, sizeof(buf), why,
	    sizeof(why)) == -1) {
		snprintf(err, errsize, "[imap] password_file %s", why);
		return -1;
	}
	*out = xstrdup(buf);
	*from_file = 1;
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static void
imap_password_free(char *pw)
{
	if (pw == NULL)
		return;
	explicit_bzero(pw, strlen(pw));
	free(pw);
}

struct imap_fetcher *
imap_fetcher_start(const struct config *cf, const char *inbox_dir,
    int *refused, char *err, size_t errsize)
{
	struct imap_fetcher *f;
	struct imap_url u;
	struct tls_policy tls;
	struct spawn s;
	char path[4096];
	char *argv[] = { (char *)IMAP_PROGRAM, NULL };
	char *password = NULL;
	unsigned char *set = NULL;
	size_t setlen = 0;
	int sv[2] = { -1, -1 }, dirfd = -1, from_file = 0;
	pid_t pid = -1;

	/* what the configuration gets wrong: the channel's state says so */
	*refused = 1;
	if (cf->imap_url == NULL || *cf->imap_url == '\0') {
		snprintf(err, errsize, "no [imap] url");
		return NULL;
	}
	if (tls_policy_config(cf, TLS_CHANNEL_IMAP, &tls, err, errsize) == -1)
		return NULL;
	if (imap_url_parse(cf->imap_url, &u, err, errsize) == -1)
		return NULL;
	/* The password, read now (a password_file afresh for every
	 * fetcher): the fetcher gets it as a setting, never the file. */
	if (imap_password_read(cf, &u, &password, &from_file, err,
	    errsize) == -1) {
		imap_url_free(&u);
		return NULL;
	}
	imap_url_free(&u);
	*refused = 0;
	if (spawn_find(IMAP_PROGRAM, path, sizeof(path)) != 0) {
		snprintf(err, errsize, "no program %s (last tried %s)",
		    IMAP_PROGRAM, path);
		goto fail;
	}
	memset(&s, 0, sizeof(s));
	if (geteuid() == 0) {
		const struct passwd *pw;

		if ((pw = getpwnam(IMAP_USER)) == NULL &&
		    (pw = getpwnam(IMAP_FALLBACK)) == NULL) {
			snprintf(err, errsize, "no user %s or %s to run the "
			    "fetcher as", IMAP_USER, IMAP_FALLBACK);
			goto fail;
		}
		s.drop = 1;
		s.uid = pw->pw_uid;
		s.gid = pw->pw_gid;
	}
	/* Its folder, handed over open: the fetcher needs no path to it
	 * (state_dir may be closed to its user), and owns it. */
	if ((dirfd = open(inbox_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 ||
	    (s.drop && (fchown(dirfd, s.uid, s.gid) == -1 ||
	    fchmod(dirfd, 0700) == -1))) {
		snprintf(err, errsize, "inbox %s: %s", inbox_dir,
		    strerror(errno));
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errsize, "socketpair: %s", strerror(errno));
		goto fail;
	}
	/* An exec: none of the daemon's memory (the SMTP password, the
	 * store's), descriptors (the lock, the database: lib/spawn.c closes
	 * all but these two) or capabilities (the ambient set is cleared, so
	 * the unit's CAP_DAC_READ_SEARCH ends at the exec). */
	s.path = path;
	s.argv = argv;
	s.envp = spawn_env(imap_env_names);
	s.fds[0] = sv[1];
	s.fds[1] = dirfd;
	s.nfds = 2;
	s.deathsig = SIGTERM;
	pid = spawn_start(&s);
	spawn_env_free((char **)s.envp);
	close(sv[1]);
	sv[1] = -1;
	close(dirfd);
	dirfd = -1;
	if (pid == -1) {
		snprintf(err, errsize, "cannot run %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	/* Its settings, the IMAP password among them, as its first frame. */
	imap_settings_encode(cf, password, from_file, &set, &setlen);
	imap_password_free(password);
	password = NULL;
	if (setlen > IMAP_SETTINGS_MAX ||
	    send(sv[0], set, setlen, MSG_NOSIGNAL) != (ssize_t)setlen) {
		snprintf(err, errsize, "sending the fetcher its settings: %s",
		    setlen > IMAP_SETTINGS_MAX ? "too long" : strerror(errno));
		goto fail;
	}
	explicit_bzero(set, setlen);
	free(set);
	set = NULL;
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1) {
		snprintf(err, errsize, "fcntl: %s", strerror(errno));
		goto fail;
	}
	f = xcalloc(1, sizeof(*f));
	f->pid = pid;
	f->fd = sv[0];
	return f;
fail:
	imap_password_free(password);
	if (set != NULL) {
		explicit_bzero(set, setlen);
		free(set);
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	if (dirfd != -1)
		close(dirfd);
	return NULL;
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
