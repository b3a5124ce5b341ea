/*
 * worker: how a parent starts one worker program — the set-up it sends
 * (encoded here, decoded in the worker), the user it runs as, and the
 * start itself (a fresh exec of beiand-worker, lib/spawn.c), up to the
 * worker's word that its sandbox is on.  Used by the pool (worker.c)
 * and the client (worker_client.c); the worker's side is
 * worker_child.c and worker_sandbox.c.
 *
 * What crosses: only what parsing needs.  The set-up carries [limits],
 * the served provinces, the providers' codes and IP ranges and the
 * [imap] address; never a password, a URL, a path or the store.  The
 * environment the worker gets is empty but for TZ (zip times are local
 * times), the test hook BEIAND_WORKER_SELFTEST (beiand(8)) and, in
 * sanitizer builds, the sanitizers' options.  Its descriptors are its socket and stderr.
 *
 * Hostile here: nothing the parent reads but the ready message (four
 * fixed bytes) and the worker's exit status.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "lib/spawn.h"
#include "lib/tlv.h"
#include "lib/xmalloc.h"
#include "parsers/rules.h"
#include "worker/worker_int.h"

#define WORKER_SETUP_VERSION 1
#define WORKER_USER      "beiand-worker"
#define WORKER_FALLBACK  "nobody"
#define WORKER_READY_MS  60000 /* a sanitizer build starts slowly */

/* The environment a worker may see: nothing of the parent's but these. */
static const char *const worker_env_names[] = {
	"BEIAND_WORKER_SELFTEST", "TZ",
#ifdef BEIAND_SANITIZE
	"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
#endif
	NULL
};

/* ---- the set-up --------------------------------------------------------- */

static const struct {
	const char *tag;
	size_t off;
} worker_limits[] = {
#define L(f) { "limits." #f, offsetof(struct input_limits, f) }
	L(archive_max_bytes), L(archive_max_entries), L(archive_max_unpacked),
	L(entry_max_bytes), L(archive_max_ratio), L(path_max),
	L(xml_max_bytes), L(photo_max_bytes), L(mail_max_bytes),
#undef L
};
#define NLIMITS (sizeof(worker_limits) / sizeof(worker_limits[0]))

void
worker_setup_encode(const struct config *cf, unsigned char **out,
    size_t *len)
{
	struct tlv_out o = { 0 };
	unsigned char *b;

	tlv_put_u64(&o, "version", WORKER_SETUP_VERSION);
	for (size_t i = 0; i < NLIMITS; i++)
		tlv_put_u64(&o, worker_limits[i].tag, *(const uint64_t *)
		    (const void *)((const char *)&cf->limits +
		    worker_limits[i].off));
	tlv_put_str(&o, "imap_address", cf->imap_address);
	for (size_t i = 0; i < cf->nbureaus; i++)
		tlv_put_str(&o, "province", cf->bureaus[i].province);
	for (size_t i = 0; i < cf->nproviders; i++) {
		const struct config_provider *p = &cf->providers[i];

		tlv_put_str(&o, "provider", p->code);
		for (size_t k = 0; k < p->nip_ranges; k++)
			tlv_put(&o, "ip_range", &p->ip_ranges[k],
			    sizeof(p->ip_ranges[k]));
	}
	b = xmalloc(4 + o.len);
	b[0] = (unsigned char)o.len;
	b[1] = (unsigned char)(o.len >> 8);
	b[2] = (unsigned char)(o.len >> 16);
	b[3] = (unsigned char)(o.len >> 24);
	memcpy(b + 4, o.buf, o.len);
	*len = 4 + o.len;
	*out = b;
	tlv_out_free(&o);
}

static int
worker_ipaddr_ok(const struct ipaddr *a)
{
	if (a->family == 4) {
		for (int i = 4; i < 16; i++)
			if (a->a[i] != 0)
				return 0;
		return 1;
	}
	return a->family == 6;
}

struct config *
worker_setup_decode(const unsigned char *buf, size_t len)
{
	struct config *cf = xcalloc(1, sizeof(*cf));
	struct tlv_in in = { buf, len };
	struct config_provider *prov = NULL;
	size_t capb = 0, capp = 0, capr = 0;
	const unsigned char *v;
	const char *tag;
	uint64_t x, version = 0;
	size_t n;
	int r, have[NLIMITS] = { 0 };

	while ((r = tlv_next(&in, &tag, &v, &n)) == 1) {
		if (strcmp(tag, "version") == 0) {
			if (tlv_u64(v, n, &version) != 0)
				goto bad;
		} else if (strncmp(tag, "limits.", 7) == 0) {
			size_t i;

			for (i = 0; i < NLIMITS; i++)
				if (strcmp(tag, worker_limits[i].tag) == 0)
					break;
			if (i == NLIMITS || have[i] || tlv_u64(v, n, &x) != 0)
				goto bad;
			*(uint64_t *)(void *)((char *)&cf->limits +
			    worker_limits[i].off) = x;
			have[i] = 1;
		} else if (strcmp(tag, "imap_address") == 0) {
			if (cf->imap_address != NULL ||
			    (cf->imap_address = tlv_str(v, n)) == NULL)
				goto bad;
		} else if (strcmp(tag, "province") == 0) {
			struct config_bureau *b;

			if (n != 2 || v[0] < '0' || v[0] > '9' || v[1] < '0' ||
			    v[1] > '9')
				goto bad;
			xgrow(&cf->bureaus, &capb, cf->nbureaus,
			    sizeof(*cf->bureaus));
			b = &cf->bureaus[cf->nbureaus++];
			memset(b, 0, sizeof(*b));
			memcpy(b->province, v, 2);
			b->province[2] = '\0';
		} else if (strcmp(tag, "provider") == 0) {
			xgrow(&cf->providers, &capp, cf->nproviders,
			    sizeof(*cf->providers));
			prov = &cf->providers[cf->nproviders++];
			memset(prov, 0, sizeof(*prov));
			capr = 0;
			if (n == 0 || (prov->code = tlv_str(v, n)) == NULL)
				goto bad;
		} else if (strcmp(tag, "ip_range") == 0) {
			struct ip_range ra;

			if (prov == NULL || n != sizeof(ra))
				goto bad;
			memcpy(&ra, v, sizeof(ra));
			if (!worker_ipaddr_ok(&ra.lo) ||
			    !worker_ipaddr_ok(&ra.hi) ||
			    ra.lo.family != ra.hi.family)
				goto bad;
			xgrow(&prov->ip_ranges, &capr, prov->nip_ranges,
			    sizeof(*prov->ip_ranges));
			prov->ip_ranges[prov->nip_ranges++] = ra;
		} else
			goto bad;
	}
	if (r != 0 || version != WORKER_SETUP_VERSION ||
	    cf->imap_address == NULL)
		goto bad;
	for (size_t i = 0; i < NLIMITS; i++)
		if (!have[i])
			goto bad;
	return cf;
bad:
	config_free(cf);
	return NULL;
}

/* ---- starting one --------------------------------------------------------- */

int
worker_user(uid_t *uid, gid_t *gid, char *err, size_t errsize)
{
	const struct passwd *pw;

	if ((pw = getpwnam(WORKER_USER)) == NULL &&
	    (pw = getpwnam(WORKER_FALLBACK)) == NULL) {
		snprintf(err, errsize, "worker: no user %s or %s to run "
		    "workers as", WORKER_USER, WORKER_FALLBACK);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

void
worker_reason_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "worker exited %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		const char *abbrev = sigabbrev_np(sig);

		if (sig == SIGXCPU)
			snprintf(buf, size, "CPU time limit (%d s per job)",
			    WORKER_JOB_CPU);
		else if (sig == SIGSYS)
			snprintf(buf, size, "worker killed by signal %d (SIGSYS: "
			    "a system call its sandbox refuses)", sig);
		else if (sig == SIGABRT)
			snprintf(buf, size, "worker aborted (out of memory? "
			    "address space limit)");
		else if (sig == SIGSEGV || sig == SIGBUS)
			snprintf(buf, size, "worker killed by signal %d (SIG%s; "
			    "address space limit?)", sig, abbrev ? abbrev : "?");
		else
			snprintf(buf, size, "worker killed by signal %d (SIG%s)",
			    sig, abbrev ? abbrev : "?");
	} else
		snprintf(buf, size, "worker stopped (status %#x)", status);
}

/* The worker is gone before it was ready: reap it and say why. */
static void
worker_spawn_lost(pid_t pid, const char *what, char *err, size_t errsize)
{
	char why[160];
	int status = 0;

	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	worker_reason_status(status, why, sizeof(why));
	snprintf(err, errsize, "worker: %s did not start: %s (%s)",
	    WORKER_PROGRAM, what, why);
}

pid_t
worker_spawn(const unsigned char *setup, size_t setup_len, int drop,
    uid_t uid, gid_t gid, int *fd, int *abi, char *err, size_t errsize)
{
	char path[4096], ready[WORKER_READY_SIZE];
	char *argv[] = { (char *)WORKER_PROGRAM, NULL };
	struct spawn s;
	size_t off = 0, got = 0;
	int sv[2];
	pid_t pid;

	if (spawn_find(WORKER_PROGRAM, path, sizeof(path)) != 0) {
		snprintf(err, errsize, "worker: no program %s (last tried "
		    "%s)", WORKER_PROGRAM, path);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errsize, "worker: socketpair: %s",
		    strerror(errno));
		return -1;
	}
	memset(&s, 0, sizeof(s));
	s.path = path;
	s.argv = argv;
	s.envp = spawn_env(worker_env_names);
	s.fds[0] = sv[1];
	s.nfds = 1;
	s.drop = drop;
	s.uid = uid;
	s.gid = gid;
	s.deathsig = SIGKILL;
	pid = spawn_start(&s);
	spawn_env_free((char **)s.envp);
	close(sv[1]);
	if (pid == -1) {
		snprintf(err, errsize, "worker: cannot run %s: %s", path,
		    strerror(errno));
		close(sv[0]);
		return -1;
	}
	while (off < setup_len) {
		ssize_t w = send(sv[0], setup + off, setup_len - off,
		    MSG_NOSIGNAL);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			worker_spawn_lost(pid, "sending its set-up", err,
			    errsize);
			close(sv[0]);
			return -1;
		}
		off += (size_t)w;
	}
	while (got < sizeof(ready)) {
		struct pollfd pfd = { sv[0], POLLIN, 0 };
		ssize_t r;
		int pr = poll(&pfd, 1, WORKER_READY_MS);

		if (pr == -1 && errno == EINTR)
			continue;
		if (pr <= 0)
			break;
		r = read(sv[0], ready + got, sizeof(ready) - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got < sizeof(ready) ||
	    memcmp(ready, WORKER_READY, WORKER_READY_SIZE - 1) != 0) {
		worker_spawn_lost(pid, "no ready message", err, errsize);
		close(sv[0]);
		return -1;
	}
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1) {
		snprintf(err, errsize, "worker: fcntl: %s", strerror(errno));
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		close(sv[0]);
		return -1;
	}
	*fd = sv[0];
	*abi = (unsigned char)ready[WORKER_READY_SIZE - 1];
	return pid;
}
