/*
 * tool_imap: the driver of tests/it_imap.sh; it plays the daemon's part
 * of the protocol in include/mail/imap.h.
 *
 *   tool_imap URL INBOX_DIR STATE_FILE MAX_BYTES POLL_SECONDS
 *
 * It starts the fetcher (done_folder Processed) and answers it the way
 * the daemon must: "resume" from STATE_FILE ("V LAST [LARGE-UID...]",
 * rewritten atomically: the commit), and for each "new" reads the file,
 * commits (advances LAST), removes the file, then answers "done".  Lines
 * on stdout:
 *   got ID V UID        a "new" arrived (ID: the message's X-Test-Id)
 *   commit ID V UID     its result is committed
 *   large V UID SIZE FROM
 *   old V UID done|keep
 *   moved V UID / synced V UID / uidvalidity OLD NEW / fetcher gone
 *   failing R REASON    a connection attempt failed (R 1: refused for
 *                       the configuration's reason)
 * TOOL_IMAP_TLS=LEVEL sets [imap] tls (default auto), TOOL_IMAP_CA its
 * ca_file, TOOL_IMAP_PIN its tls_pin.
 * TOOL_IMAP_STALL=ID hangs after "got ID" (killed before the commit);
 * TOOL_IMAP_STALL_DONE=ID hangs after "commit ID" (before "done").
 * SIGTERM stops the fetcher and exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>

#include "common/config.h"
#include "lib/log.h"
#include "mail/imap.h"

#define NLARGE_MAX 64

static volatile sig_atomic_t quit;
static uint32_t st_v, st_last, st_large[NLARGE_MAX];
static size_t st_nlarge;
static const char *state_file;

static void
on_term(int sig)
{
	quit = 1;
}

static void
state_load(void)
{
	FILE *fp = fopen(state_file, "r");
	unsigned long a, b, l;

	st_v = st_last = 0;
	st_nlarge = 0;
	if (fp == NULL)
		return;
	if (fscanf(fp, "%lu %lu", &a, &b) == 2) {
		st_v = (uint32_t)a;
		st_last = (uint32_t)b;
		while (st_nlarge < NLARGE_MAX && fscanf(fp, "%lu", &l) == 1)
			st_large[st_nlarge++] = (uint32_t)l;
	}
	fclose(fp);
}

static void
state_save(void)
{
	char tmp[4096];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", state_file);
	if ((fp = fopen(tmp, "w")) == NULL) {
		perror(tmp);
		exit(1);
	}
	fprintf(fp, "%" PRIu32 " %" PRIu32, st_v, st_last);
	for (size_t i = 0; i < st_nlarge; i++)
		fprintf(fp, " %" PRIu32, st_large[i]);
	fprintf(fp, "\n");
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0 || fclose(fp) != 0 ||
	    rename(tmp, state_file) != 0) {
		perror(state_file);
		exit(1);
	}
}

static int
is_large(uint32_t uid)
{
	for (size_t i = 0; i < st_nlarge; i++)
		if (st_large[i] == uid)
			return 1;
	return 0;
}

/* The value of header name in buf (to the end of its line), or "-". */
static void
header_value(const char *buf, size_t len, const char *name, char *out,
    size_t outsz)
{
	size_t nl = strlen(name);

	snprintf(out, outsz, "-");
	for (size_t i = 0; i + nl < len; i++) {
		if ((i == 0 || buf[i - 1] == '\n') &&
		    strncasecmp(buf + i, name, nl) == 0 && buf[i + nl] == ':') {
			size_t s = i + nl + 1, e;

			while (s < len && buf[s] == ' ')
				s++;
			for (e = s; e < len && buf[e] != '\r' && buf[e] != '\n'; e++)
				;
			if (e - s >= outsz)
				e = s + outsz - 1;
			memcpy(out, buf + s, e - s);
			out[e - s] = '\0';
			return;
		}
	}
}

static void
stall(void)
{
	for (;;)
		pause();
}

/* The daemon's start-up duty: drop files of committed messages. */
static void
inbox_clean(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		unsigned long v, u;
		char tail[8];

		if (sscanf(de->d_name, "%lu-%lu%7s", &v, &u, tail) == 3 &&
		    strcmp(tail, ".eml") == 0 && v == st_v && u <= st_last) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
			printf("cleaned %s\n", de->d_name);
		}
	}
	closedir(d);
}

static void
on_new(struct imap_fetcher *f, const struct imap_event *ev, const char *dir)
{
	char path[4096], id[128], buf[65536];
	const char *stall_id = getenv("TOOL_IMAP_STALL");
	const char *stall_done = getenv("TOOL_IMAP_STALL_DONE");
	ssize_t n;
	int fd;

	if (ev->uidvalidity != st_v || ev->uid <= st_last) {
		printf("ignored %" PRIu32 " %" PRIu32 "\n", ev->uidvalidity,
		    ev->uid);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, ev->file);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW)) == -1) {
		printf("missing %s\n", ev->file);
		exit(1);
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		exit(1);
	header_value(buf, (size_t)n, "X-Test-Id", id, sizeof(id));
	printf("got %s %" PRIu32 " %" PRIu32 "\n", id, ev->uidvalidity, ev->uid);
	if (stall_id != NULL && strcmp(stall_id, id) == 0)
		stall();
	/* Sequential processing: contiguous by construction. */
	st_last = ev->uid;
	state_save();
	printf("commit %s %" PRIu32 " %" PRIu32 "\n", id, ev->uidvalidity,
	    ev->uid);
	unlink(path);
	if (stall_done != NULL && strcmp(stall_done, id) == 0)
		stall();
	if (imap_fetcher_done(f, ev->uidvalidity, ev->uid) == -1)
		printf("done not sent %" PRIu32 "\n", ev->uid);
}

static int
handle(struct imap_fetcher *f, const struct imap_event *ev, const char *dir)
{
	char from[256], hdr[IMAP_HEADER_MAX + 1];

	switch (ev->kind) {
	case IMAP_EV_UIDVALIDITY:
		printf("uidvalidity %" PRIu32 " %" PRIu32 "\n",
		    ev->old_uidvalidity, ev->uidvalidity);
		if (ev->uidvalidity != st_v) {
			/* A new mailbox: everything in it is new. */
			st_v = ev->uidvalidity;
			st_last = 0;
			st_nlarge = 0;
			state_save();
		}
		return imap_fetcher_resume(f, st_v, st_last);
	case IMAP_EV_NEW:
		on_new(f, ev, dir);
		return 0;
	case IMAP_EV_LARGE:
		memcpy(hdr, ev->header, ev->header_len);
		hdr[ev->header_len] = '\0';
		header_value(hdr, ev->header_len, "From", from, sizeof(from));
		printf("large %" PRIu32 " %" PRIu32 " %" PRIu64 " %s\n",
		    ev->uidvalidity, ev->uid, ev->size, from);
		if (ev->uidvalidity == st_v && ev->uid > st_last) {
			if (st_nlarge < NLARGE_MAX)
				st_large[st_nlarge++] = ev->uid;
			st_last = ev->uid;
			state_save();
		}
		return 0;
	case IMAP_EV_OLD:
		if (ev->uidvalidity == st_v && ev->uid <= st_last &&
		    !is_large(ev->uid)) {
			printf("old %" PRIu32 " %" PRIu32 " done\n",
			    ev->uidvalidity, ev->uid);
			return imap_fetcher_done(f, ev->uidvalidity, ev->uid);
		}
		printf("old %" PRIu32 " %" PRIu32 " keep\n", ev->uidvalidity,
		    ev->uid);
		return 0;
	case IMAP_EV_MOVED:
		printf("moved %" PRIu32 " %" PRIu32 "\n", ev->uidvalidity,
		    ev->uid);
		return 0;
	case IMAP_EV_SYNCED:
		printf("synced %" PRIu32 " %" PRIu32 "\n", ev->uidvalidity,
		    ev->uid);
		return 0;
	case IMAP_EV_WAIT:
		/* the limits are set so high here that nothing waits */
		printf("wait %" PRIu32 " %" PRIu32 " %s\n", ev->uidvalidity,
		    ev->uid, imap_wait_name(ev->reason));
		return 0;
	case IMAP_EV_THROTTLED:
		printf("throttled %" PRIu32 "\n", ev->count);
		return 0;
	case IMAP_EV_FAILING:
		printf("failing %d %.*s\n", ev->refused, (int)ev->why_len,
		    ev->why);
		return 0;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct config cf;
	struct imap_fetcher *f = NULL;
	struct imap_event ev;
	char err[512];
	int refused;
	uint64_t v;

	if (argc != 6) {
		fprintf(stderr, "usage: tool_imap URL INBOX_DIR STATE_FILE "
		    "MAX_BYTES POLL_SECONDS\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	log_init("tool_imap", 1, 0);
	state_file = argv[3];
	state_load();
	inbox_clean(argv[2]);
	memset(&cf, 0, sizeof(cf));
	cf.imap_url = argv[1];
	cf.imap_done_folder = (char *)"Processed";
	cf.imap_ca_file = getenv("TOOL_IMAP_CA");
	if (cf.imap_ca_file != NULL && *cf.imap_ca_file == '\0')
		cf.imap_ca_file = NULL; /* the system store */
	cf.imap_tls_pin = getenv("TOOL_IMAP_PIN");
	if (getenv("TOOL_IMAP_TLS") != NULL &&
	    tls_level_parse(getenv("TOOL_IMAP_TLS"), &cf.imap_tls) == -1) {
		fprintf(stderr, "tool_imap: TOOL_IMAP_TLS: no such level\n");
		return 2;
	}
	cf.imap_poll_interval = strtoull(argv[5], NULL, 10);
	v = strtoull(argv[4], NULL, 10);
	cf.limits.mail_max_bytes = v;
	/* no limit of DESIGN.md's Hostile senders in the way */
	cf.imap_inbox_max = 100000;
	cf.imap_sender_max = 100000;
	cf.imap_sender_window = 3600;
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);

	while (!quit) {
		struct pollfd pfd;
		int r;

		if (f == NULL &&
		    (f = imap_fetcher_start(&cf, argv[2], &refused, err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "tool_imap: %s\n", err);
			return 1;
		}
		pfd.fd = imap_fetcher_fd(f);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 200) == -1 && errno != EINTR)
			return 1;
		while ((r = imap_fetcher_read(f, &ev)) == 1)
			if (handle(f, &ev, argv[2]) == -1)
				printf("send failed\n");
		if (r == -1) {
			printf("fetcher gone\n");
			imap_fetcher_stop(f);
			f = NULL;
			sleep(1);
		}
	}
	imap_fetcher_stop(f);
	return 0;
}
