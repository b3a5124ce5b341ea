/*
 * web: beiand-web's start-up, its threads' connections to the store, and
 * the main thread's loop (signals, the watchdog, idle sessions).
 *
 * beiand-web runs unprivileged with beianctl's configuration and store.
 * It reads [web] and what the workflow needs, never the IMAP or SMTP
 * credentials (those stay beiand's: password_file keys it never opens);
 * it writes only through the store (the workflow's transitions, ingest,
 * accounts and sessions) and moves quarantined files back to the spool
 * as beianctl requeue does.  The TLS key is read before the first
 * request and handed to the HTTP server; the parser worker that checks
 * uploaded photos is started before either.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "common/config.h"
#include "lib/log.h"
#include "lib/version.h"
#include "lib/notify.h"
#include "lib/xmalloc.h"
#include "parsers/filing.h"
#include "parsers/rules.h"
#include "store/accounts.h"
#include "store/store.h"
#include "web/session.h"
#include "web/view.h"
#include "web/web.h"
#include "web/web_int.h"

#define PEM_MAX (1 << 20)
#define PRUNE_EVERY 60

/* ---- the threads' stores ------------------------------------------------------ */

static void
store_key_free(void *p)
{
	store_close(p);
}

struct store *
web_store(struct web *w)
{
	struct store *st = pthread_getspecific(w->store_key);
	char err[512];

	if (st != NULL)
		return st;
	if ((st = store_open(w->db_path, w->cf, err, sizeof(err))) == NULL) {
		log_err("web: store: %s", err);
		return NULL;
	}
	pthread_setspecific(w->store_key, st);
	return st;
}

/* ---- start-up checks ---------------------------------------------------------- */

/* A PEM file into memory: malloc'd and NUL-terminated, or NULL after
 * saying why in err. */
static char *
pem_read(const char *path, char *err, size_t errsize)
{
	struct stat sb;
	char *buf;
	ssize_t n;
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > PEM_MAX) {
		snprintf(err, errsize, "%s: not a regular file of at most 1M",
		    path);
		close(fd);
		return NULL;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size &&
	    (n = read(fd, buf + off, (size_t)sb.st_size - off)) > 0)
		off += (size_t)n;
	close(fd);
	buf[off] = '\0';
	if (off == 0 || strstr(buf, "-----BEGIN ") == NULL) {
		snprintf(err, errsize, "%s: no PEM data", path);
		sodium_memzero(buf, off);
		free(buf);
		return NULL;
	}
	return buf;
}

/* host and port of [web] listen (host without brackets). */
static int
listen_split(const char *where, char *host, size_t hsize, char *port,
    size_t psize)
{
	const char *colon = strrchr(where, ':');
	size_t hl;

	if (colon == NULL)
		return -1;
	hl = (size_t)(colon - where);
	if (where[0] == '[') {
		where++;
		hl -= 2;
	}
	if (hl >= hsize || strlen(colon + 1) >= psize)
		return -1;
	memcpy(host, where, hl);
	host[hl] = '\0';
	snprintf(port, psize, "%s", colon + 1);
	return 0;
}

/* The listening socket: 0 and *fd, *family; -1 with err. */
static int
listen_open(const char *where, int *fdp, int *family, char *err,
    size_t errsize)
{
	struct addrinfo hints, *res = NULL;
	char host[256], port[16];
	int fd, one = 1, rc;

	if (listen_split(where, host, sizeof(host), port, sizeof(port)) ==
	    -1) {
		snprintf(err, errsize, "[web] listen: %s", where);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errsize, "[web] listen %s: %s", where,
		    gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC,
	    res->ai_protocol);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 || bind(fd, res->ai_addr, res->ai_addrlen) ==
	    -1 || listen(fd, 128) == -1) {
		snprintf(err, errsize, "[web] listen %s: %s", where,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		freeaddrinfo(res);
		return -1;
	}
	*fdp = fd;
	*family = res->ai_family;
	freeaddrinfo(res);
	return 0;
}

/* What starting needs, for -n and for the start itself: 0, or -1 with
 * err.  The PEMs are read into *cert and *key (may be NULL: not kept). */
static int
web_check(const struct config *cf, char **cert, char **key, char *err,
    size_t errsize)
{
	struct store *st;
	char *path, *c = NULL, *k = NULL;

	if (cf->web_listen[0] == '\0') {
		snprintf(err, errsize, "[web] listen is empty: the console is "
		    "off");
		return -1;
	}
	if ((cf->web_tls_cert == NULL) != (cf->web_tls_key == NULL)) {
		snprintf(err, errsize, "[web] tls_cert and tls_key go "
		    "together");
		return -1;
	}
	if (cf->web_tls_cert != NULL &&
	    ((c = pem_read(cf->web_tls_cert, err, errsize)) == NULL ||
	    (k = pem_read(cf->web_tls_key, err, errsize)) == NULL)) {
		free(c);
		return -1;
	}
	path = xasprintf("%s/beiand.db", cf->state_dir);
	if (access(cf->state_dir, R_OK | W_OK | X_OK) == -1) {
		snprintf(err, errsize, "%s: %s", cf->state_dir,
		    strerror(errno));
		goto fail;
	}
	if ((st = store_open(path, cf, err, errsize)) == NULL)
		goto fail;
	store_close(st);
	free(path);
	if (cert != NULL) {
		*cert = c;
		*key = k;
	} else {
		free(c);
		if (k != NULL)
			sodium_memzero(k, strlen(k));
		free(k);
	}
	return 0;
fail:
	free(path);
	free(c);
	if (k != NULL)
		sodium_memzero(k, strlen(k));
	free(k);
	return -1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: beiand-web [-c FILE] [-f] [-n] [-V]\n");
	exit(2);
}

/* trusted_proxy as 16 bytes (an IPv4 address as ::ffff:a.b.c.d). */
static int
proxy_parse(const char *s, unsigned char out[16])
{
	unsigned char a[4];

	if (inet_pton(AF_INET6, s, out) == 1)
		return 0;
	if (inet_pton(AF_INET, s, a) != 1)
		return -1;
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, a, 4);
	return 0;
}

static void
loop(struct web *w)
{
	struct store *st = NULL;
	struct timespec ts = { 1, 0 };
	sigset_t mask;
	time_t last_prune = 0;
	char err[512];

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	for (;;) {
		int sig = sigtimedwait(&mask, NULL, &ts);
		time_t now = time(NULL);

		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP)
			log_info("web: SIGHUP: the configuration is read at "
			    "start; restart beiand-web to change it");
		notify_watchdog((int64_t)now * 1000);
		if (now - last_prune < PRUNE_EVERY)
			continue;
		last_prune = now;
		if (st == NULL && (st = store_open(w->db_path, w->cf, err,
		    sizeof(err))) == NULL) {
			log_err("web: store: %s", err);
			continue;
		}
		if (store_sessions_prune(st, now,
		    (time_t)w->cf->web_session_idle) == -1)
			log_err("web: store: %s", store_errmsg(st));
	}
	store_close(st);
}

int
web_main(int argc, char **argv)
{
	struct web w;
	struct config *cf;
	struct MHD_Daemon *d;
	const char *cfpath = NULL;
	char err[1024], *cert = NULL, *key = NULL;
	sigset_t mask;
	int ch, fg = 0, check = 0, verbose = 0, fd = -1, family = AF_INET;

	while ((ch = getopt(argc, argv, "c:fnvV")) != -1) {
		switch (ch) {
		case 'c':
			cfpath = optarg;
			break;
		case 'f':
			fg = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("beiand-web %s\n", beiand_version);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if ((cf = config_load(cfpath, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "beiand-web: libsodium failed to start\n");
		return 1;
	}
	if (check) {
		int rc = web_check(cf, NULL, NULL, err, sizeof(err));

		printf("%s\n", rc == 0 ? "configuration OK" : err);
		config_free(cf);
		return rc == 0 ? 0 : 1;
	}
	log_init("beiand-web", fg, verbose);
	signal(SIGPIPE, SIG_IGN);
	/* the request threads inherit this: only the main thread takes
	 * signals, by sigtimedwait */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0)
		fatal("web: signals: %s", strerror(errno));
	umask(027);

	memset(&w, 0, sizeof(w));
	w.cf = cf;
	w.db_path = xasprintf("%s/beiand.db", cf->state_dir);
	xmldoc_init();
	if (rules_init() != 0)
		fatal("web: rules: no public suffix list");
	/* the worker first: it is forked before any secret is in memory */
	if ((w.view = web_view_new(cf, err, sizeof(err))) == NULL)
		fatal("web: %s", err);
	if (web_check(cf, &cert, &key, err, sizeof(err)) == -1)
		fatal("web: %s", err);
	if (listen_open(cf->web_listen, &fd, &family, err, sizeof(err)) == -1)
		fatal("web: %s", err);
	w.tls = cert != NULL;
	w.secure_cookies = w.tls ||
	    strncmp(cf->web_base_url, "https://", 8) == 0;
	if (cf->web_trusted_proxy[0] != '\0' &&
	    proxy_parse(cf->web_trusted_proxy, w.proxy) == 0)
		w.has_proxy = 1;
	/* "seen" is written at most this often: a page is a read */
	w.touch = (time_t)cf->web_session_idle / 8;
	if (w.touch < 1)
		w.touch = 1;
	if (w.touch > 60)
		w.touch = 60;
	w.throttle = web_throttle_new((unsigned)cf->web_login_fail_max,
	    (time_t)cf->web_login_fail_window, WEB_THROTTLE_ENTRIES);
	if (pthread_key_create(&w.store_key, store_key_free) != 0)
		fatal("web: pthread_key_create");
	if ((d = web_http_start(&w, fd, family, cert, key)) == NULL)
		fatal("web: cannot serve on %s", cf->web_listen);
	log_info("web: started, %s://%s, state %s", w.tls ? "https" : "http",
	    cf->web_listen, cf->state_dir);
	notify_ready();
	loop(&w);
	notify_stopping();
	web_http_stop(d);
	close(fd);
	log_info("web: stopped");
	if (key != NULL)
		sodium_memzero(key, strlen(key));
	free(key);
	free(cert);
	web_throttle_free(w.throttle);
	web_view_free(w.view);
	pthread_key_delete(w.store_key);
	free(w.db_path);
	config_free(cf);
	return 0;
}
