/*
 * worker: the worker process, from fork to exit — its sandbox and
 * limits, then its jobs: read one (a file descriptor over the socket),
 * parse it, write back one frame.  Started by worker_start() (worker.c).
 *
 * Hostile input: the uploads.  A worker keeps nothing it could abuse:
 * every descriptor but its socket (and stderr, for diagnostics) is
 * closed, it runs as an unprivileged user when started as root, with
 * no_new_privs, no core files, no file writes, few descriptors, a bounded
 * address space and a CPU budget per job; it dies with the parent.
 * libxml2's schemas and the public suffix list are loaded in the parent
 * before forking, so the workers share those pages and never open a file.
 * A job message out of step with the protocol ends the worker.
 *
 * Limits (per worker):
 *   RLIMIT_AS     max(1 GiB, 4 × archive_max_unpacked + archive_max_bytes
 *                 + 256 MiB): the upload, its unpacked members, the
 *                 frame and libxml2's trees fit with room to spare at the
 *                 defaults (64 MiB / 256 MiB), a runaway does not.  Not
 *                 set under AddressSanitizer, whose shadow memory needs
 *                 terabytes of address space.
 *   RLIMIT_CPU    soft limit raised before each job to the CPU time used
 *                 so far + WORKER_JOB_CPU seconds: SIGXCPU ends a job
 *                 that spins.
 *   RLIMIT_NOFILE 16; RLIMIT_CORE 0; RLIMIT_FSIZE 0 (SIGXFSZ ignored, so
 *                 a write to a regular file fails instead of killing).
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/check_setup.h"
#include "common/config.h"
#include "lib/caps.h"
#include "lib/compat.h"
#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "parsers/mime.h"
#include "worker/wire.h"
#include "worker/worker.h"
#include "worker/worker_int.h"

#if defined(__SANITIZE_ADDRESS__)
#define WORKER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WORKER_ASAN 1
#endif
#endif
#ifndef WORKER_ASAN
#define WORKER_ASAN 0
#endif

#define WORKER_FD        3          /* the socket, in the worker */
#define WORKER_NOFILE    16
#define WORKER_AS_MIN    (1ULL << 30)
#define WORKER_AS_SLACK  (256ULL << 20)

/* ---- the worker process ------------------------------------------------- */

static void
worker_die(const char *what)
{
	/* stderr is the only descriptor kept for this */
	dprintf(2, "beiand worker[%ld]: %s: %s\n", (long)getpid(), what,
	    strerror(errno));
	_exit(1);
}

static rlim_t
worker_as_limit(const struct input_limits *lim)
{
	uint64_t u = lim->archive_max_unpacked, m;

	if (u > (UINT64_MAX - WORKER_AS_SLACK) / 8 ||
	    lim->archive_max_bytes > UINT64_MAX / 4)
		return RLIM_INFINITY;
	m = 4 * u + lim->archive_max_bytes + WORKER_AS_SLACK;
	if (m < WORKER_AS_MIN)
		m = WORKER_AS_MIN;
	return (rlim_t)m;
}

static void
worker_setrlimit(int res, rlim_t v, const char *what)
{
	struct rlimit rl = { v, v };

	if (setrlimit(res, &rl) != 0)
		worker_die(what);
}

/* Everything between fork and the first job; sock is the child's end. */
static void
worker_sandbox(const struct worker_pool *p, int sock, pid_t parent)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD,
		SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM, SIGXCPU };
	sigset_t none;
	int null;

	/* The parent's handlers and mask (it may block signals for a
	 * signalfd) must not apply here: SIGTERM has to end a worker. */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	signal(SIGXFSZ, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		worker_die("prctl(PR_SET_PDEATHSIG)");
	if (getppid() != parent)
		_exit(0); /* the parent is already gone */

	if (sock != WORKER_FD && dup2(sock, WORKER_FD) == -1)
		worker_die("dup2");
	if ((null = open("/dev/null", O_RDWR)) == -1)
		worker_die("/dev/null");
	if (dup2(null, 0) == -1 || dup2(null, 1) == -1)
		worker_die("dup2");
	if (fcntl(2, F_GETFD) == -1 && dup2(null, 2) == -1)
		worker_die("dup2");
	if (close_range(WORKER_FD + 1, ~0U, 0) != 0) {
		for (int fd = WORKER_FD + 1; fd < 65536; fd++)
			(void)close(fd);
	}

	if (p->drop) {
		if (setgroups(0, NULL) != 0)
			worker_die("setgroups");
		if (setresgid(p->gid, p->gid, p->gid) != 0)
			worker_die("setresgid");
		if (setresuid(p->uid, p->uid, p->uid) != 0)
			worker_die("setresuid");
		if (getuid() != p->uid || geteuid() != p->uid ||
		    getgid() != p->gid || getegid() != p->gid ||
		    (p->uid != 0 && setuid(0) != -1)) {
			errno = EPERM;
			worker_die("dropping privileges did not take");
		}
	}
	/* The daemon's CAP_DAC_READ_SEARCH (its unit) is not for parsers. */
	if (caps_drop_all() != 0)
		worker_die("capset");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		worker_die("prctl(PR_SET_NO_NEW_PRIVS)");
	/* Once more: it may have been reset by the credential change. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		worker_die("prctl(PR_SET_PDEATHSIG)");
	if (getppid() != parent)
		_exit(0);

	worker_setrlimit(RLIMIT_CORE, 0, "setrlimit(RLIMIT_CORE)");
	worker_setrlimit(RLIMIT_FSIZE, 0, "setrlimit(RLIMIT_FSIZE)");
	worker_setrlimit(RLIMIT_NOFILE, WORKER_NOFILE,
	    "setrlimit(RLIMIT_NOFILE)");
	if (!WORKER_ASAN)
		worker_setrlimit(RLIMIT_AS, worker_as_limit(&p->cf->limits),
		    "setrlimit(RLIMIT_AS)");
}

/* The cumulative RLIMIT_CPU, moved so that it allows this job its share. */
static void
worker_cpu_budget(void)
{
	struct rusage ru;
	struct rlimit rl;
	rlim_t used;

	if (getrusage(RUSAGE_SELF, &ru) != 0 || getrlimit(RLIMIT_CPU, &rl) != 0)
		worker_die("getrusage");
	used = (rlim_t)ru.ru_utime.tv_sec + (rlim_t)ru.ru_stime.tv_sec + 1;
	rl.rlim_cur = used + WORKER_JOB_CPU;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
		rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_CPU, &rl) != 0)
		worker_die("setrlimit(RLIMIT_CPU)");
}

/*
 * Read one job: 1 and the job, 0 at end of file (the parent is done
 * with us), -1 on a malformed message.  *fd is -1 when none came.
 */
static int
worker_job_read(unsigned char *kind, char *name, char *provider, int *fd)
{
	unsigned char hdr[JOB_HDR_SIZE];
	char rest[WORKER_NAME_MAX + WORKER_PROV_MAX];
	size_t got = 0, want = sizeof(hdr), nl = 0, pl = 0;
	int in_rest = 0;

	*fd = -1;
	for (;;) {
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int))];
		} cm;
		struct msghdr msg;
		struct iovec iov;
		struct cmsghdr *c;
		ssize_t r;

		if (got == want) {
			if (in_rest)
				break;
			if (hdr[0] != JOB_MAGIC)
				return -1;
			*kind = hdr[1];
			nl = (size_t)hdr[2] | (size_t)hdr[3] << 8;
			pl = (size_t)hdr[4] | (size_t)hdr[5] << 8;
			if (nl > WORKER_NAME_MAX || pl > WORKER_PROV_MAX)
				return -1;
			in_rest = 1;
			got = 0;
			want = nl + pl;
			continue;
		}
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = (in_rest ? (unsigned char *)rest : hdr) + got;
		iov.iov_len = want - got;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		r = recvmsg(WORKER_FD, &msg, MSG_CMSG_CLOEXEC);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			worker_die("recvmsg");
		for (c = CMSG_FIRSTHDR(&msg); c != NULL;
		    c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_RIGHTS &&
			    c->cmsg_len >= CMSG_LEN(sizeof(int))) {
				int f;

				memcpy(&f, CMSG_DATA(c), sizeof(f));
				if (*fd == -1)
					*fd = f;
				else
					close(f);
			}
		}
		if (msg.msg_flags & MSG_CTRUNC)
			return -1;
		if (r == 0)
			return got == 0 && !in_rest ? 0 : -1;
		got += (size_t)r;
	}
	memcpy(name, rest, nl);
	name[nl] = '\0';
	memcpy(provider, rest + nl, pl);
	provider[pl] = '\0';
	if (strlen(name) != nl || strlen(provider) != pl)
		return -1;
	return 1;
}

/* The whole file behind fd: 0, 1 when larger than max, -1 (errno). */
static int
worker_file_read(int fd, uint64_t max, unsigned char **out, size_t *lenp)
{
	struct stat st;
	unsigned char *buf = NULL;
	size_t len = 0, cap;

	if (fstat(fd, &st) != 0)
		return -1;
	if (S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > max)
			return 1;
		cap = (size_t)st.st_size;
		buf = xmalloc(cap + 1);
		/* pread: the offset is shared with the caller's descriptor */
		while (len < cap) {
			ssize_t r = pread(fd, buf + len, cap - len, (off_t)len);

			if (r == -1 && errno == EINTR)
				continue;
			if (r == -1) {
				free(buf);
				return -1;
			}
			if (r == 0)
				break; /* it shrank: take what is there */
			len += (size_t)r;
		}
	} else {
		cap = 65536;
		buf = xmalloc(cap);
		for (;;) {
			ssize_t r;

			if (len == cap) {
				if ((uint64_t)cap > max) {
					free(buf);
					return 1;
				}
				buf = xreallocarray(buf, cap, 2);
				cap *= 2;
			}
			r = read(fd, buf + len, cap - len);
			if (r == -1 && errno == EINTR)
				continue;
			if (r == -1) {
				free(buf);
				return -1;
			}
			if (r == 0)
				break;
			len += (size_t)r;
		}
		if ((uint64_t)len > max) {
			free(buf);
			return 1;
		}
	}
	*out = buf;
	*lenp = len;
	return 0;
}

static void
worker_frame_write(const unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(WORKER_FD, buf, len);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			worker_die("write");
		buf += w;
		len -= (size_t)w;
	}
}

/* ---- WJ_MAIL ------------------------------------------------------------ */

/* A header-derived string for the wire: a copy, control bytes as spaces
 * (the decoder refuses them). */
static char *
worker_mail_str(const char *s)
{
	char *c = xstrdup(s != NULL ? s : "");

	for (unsigned char *p = (unsigned char *)c; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return c;
}

/* One package of a mail's attachments as one ITEM_FILING at "/". */
static struct upload *
worker_mail_files(const struct mime_package *pkg, const struct check_ctx *ctx)
{
	struct upload *u = xcalloc(1, sizeof(*u));
	struct item *it;

	u->errs = errlist_new();
	u->items = xcalloc(1, sizeof(*u->items));
	u->nitems = 1;
	it = &u->items[0];
	it->kind = ITEM_FILING;
	it->path = xstrdup("/");
	it->errs = errlist_new();
	/* views into the mail, which outlives the encoding */
	it->files = xreallocarray(NULL, pkg->nfiles, sizeof(*it->files));
	memcpy(it->files, pkg->files, pkg->nfiles * sizeof(*it->files));
	it->nfiles = pkg->nfiles;
	package_check_files(it->files, it->nfiles, ctx, &it->filing, it->errs);
	package_files_sha256(it->files, it->nfiles, it->sha256);
	return u;
}

/*
 * A mail takes one package: an archive that holds a batch (or anything
 * but one filing package at its root) is refused as a whole.
 */
static void
worker_mail_single(struct upload *u)
{
	if (u->nitems == 1 && u->items[0].kind == ITEM_FILING &&
	    strcmp(u->items[0].path, "/") == 0)
		return;
	if (errlist_nerrors(u->errs) == 0)
		errlist_add(u->errs, ERR_FILING_XML_MISSING, "/",
		    "邮件只能提交一份备案材料，filing.xml 须在压缩包根目录 / "
		    "a mail carries one filing package, with filing.xml at "
		    "the root of the archive");
	upload_items_free(u);
}

static void
worker_mail_run(const struct config *cf, const char *provider, int too_large,
    const unsigned char *buf, size_t len, unsigned char **frame, size_t *flen)
{
	const struct input_limits *lim = &cf->limits;
	struct mail_meta *mm = xcalloc(1, sizeof(*mm));
	struct errlist *errs = errlist_new();
	struct mime_mail *m = NULL;
	struct mime_package pkg;
	struct check_setup cs;
	struct upload *u = NULL;
	char *reason = NULL;

	if (too_large) {
		/* The fetcher leaves these on the server; a file that grew
		 * is refused the same way, unread. */
		errlist_add(errs, ERR_MAIL_TOO_LARGE, "/", NULL);
		goto answer;
	}
	sha256(buf, len, mm->sha256);
	if (mime_parse(buf, len, lim, &m, errs) != 0)
		goto answer;
	free(mm->message_id);
	mm->message_id = worker_mail_str(m->message_id);
	mm->from_addr = worker_mail_str(m->from_addr);
	mm->return_path = worker_mail_str(m->return_path);
	strlcpy(mm->tag_id, m->tag_id, sizeof(mm->tag_id));
	strlcpy(mm->tag_token, m->tag_token, sizeof(mm->tag_token));
	strlcpy(mm->review_token, m->review_token, sizeof(mm->review_token));
	mm->automated = mime_is_automated(m, cf->imap_address[0] ?
	    cf->imap_address : NULL);
	mm->command = (int)mime_first_command(m, &reason);
	mm->reason = worker_mail_str(reason);
	free(reason);
	if (errlist_nerrors(errs) > 0)
		goto answer; /* a limit broken: the attachments are partial */
	if (mime_package_get(m, &pkg, errs) != 0)
		goto answer;
	if (check_setup_init(&cs, cf, *provider ? provider : NULL,
	    time(NULL)) != 0) {
		mime_package_clear(&pkg);
		mime_mail_free(m);
		mail_meta_free(mm);
		errlist_free(errs);
		wire_encode_error("provider not configured", frame, flen);
		return;
	}
	if (pkg.kind == MIME_PKG_ARCHIVE) {
		u = upload_read(pkg.archive->filename, pkg.archive->data,
		    pkg.archive->len, &cs.ctx, UPLOAD_HASH);
		worker_mail_single(u);
	} else if (pkg.kind == MIME_PKG_FILES) {
		u = worker_mail_files(&pkg, &cs.ctx);
	} else if (pkg.decision != NULL) {
		u = upload_read("decision.xml", pkg.decision->data,
		    pkg.decision->len, &cs.ctx, UPLOAD_HASH);
		if (u->nitems != 1 || u->items[0].kind != ITEM_DECISION)
			worker_mail_single(u);
	} else
		mm->no_package = 1;
	check_setup_fini(&cs);
	if (u != NULL) {
		u->mail = mm;
		mm = NULL;
		errlist_splice(errs, u->errs, NULL);
		errlist_free(u->errs);
		u->errs = errs;
		errs = NULL;
		wire_encode_upload(u, frame, flen);
		upload_free(u);
	}
	mime_package_clear(&pkg);
	mime_mail_free(m);
	if (u != NULL)
		return;
	m = NULL;
answer:
	if (mm->message_id == NULL) {
		mm->message_id = xstrdup("");
		mm->from_addr = xstrdup("");
		mm->return_path = xstrdup("");
		mm->reason = xstrdup("");
	}
	mime_mail_free(m);
	u = xcalloc(1, sizeof(*u));
	u->errs = errs;
	u->mail = mm;
	wire_encode_upload(u, frame, flen);
	upload_free(u);
}

static void
worker_job_run(const struct config *cf, unsigned char kind, const char *name,
    const char *provider, int fd, unsigned char **frame, size_t *flen)
{
	const struct input_limits *lim = &cf->limits;
	unsigned char *buf = NULL;
	size_t len = 0;
	int r;

	if (fd == -1 || (kind != WJ_WHOLE && kind != WJ_PARSE &&
	    kind != WJ_MAIL && kind != WJ_VIEW)) {
		wire_encode_error("malformed job", frame, flen);
		return;
	}
	r = worker_file_read(fd, kind == WJ_MAIL ? lim->mail_max_bytes :
	    lim->archive_max_bytes, &buf, &len);
	if (r == -1) {
		char why[160];

		snprintf(why, sizeof(why), "reading the upload: %s",
		    strerror(errno));
		wire_encode_error(why, frame, flen);
		return;
	}
	if (kind == WJ_MAIL) {
		worker_mail_run(cf, provider, r == 1, buf, len, frame, flen);
	} else if (kind == WJ_WHOLE) {
		/* Too large to be accepted in any case: it may be claimed and
		 * refused (ARCHIVE_TOO_LARGE) without waiting for more. */
		wire_encode_whole(r == 1 ? AR_NOT_ARCHIVE :
		    ar_check_whole(buf, len, lim), frame, flen);
	} else if (r == 1) {
		struct upload *u = xcalloc(1, sizeof(*u));

		u->errs = errlist_new();
		errlist_add(u->errs, ERR_ARCHIVE_TOO_LARGE, "/", NULL);
		wire_encode_upload(u, frame, flen);
		upload_free(u);
	} else {
		struct check_setup cs;
		struct upload *u;

		if (check_setup_init(&cs, cf, *provider ? provider : NULL,
		    time(NULL)) != 0) {
			wire_encode_error("provider not configured", frame,
			    flen);
		} else {
			u = upload_read(*name ? name : NULL, buf, len,
			    &cs.ctx, UPLOAD_HASH);
			if (kind == WJ_VIEW)
				wire_encode_upload_all(u, frame, flen);
			else
				wire_encode_upload(u, frame, flen);
			upload_free(u);
			check_setup_fini(&cs);
		}
	}
	free(buf);
}

void __attribute__((noreturn))
worker_main(const struct worker_pool *p, int sock, pid_t parent)
{
	static char name[WORKER_NAME_MAX + 1], provider[WORKER_PROV_MAX + 1];

	worker_sandbox(p, sock, parent);
	for (;;) {
		unsigned char kind = 0, *frame = NULL;
		size_t flen = 0;
		int fd, r;

		r = worker_job_read(&kind, name, provider, &fd);
		if (r == 0)
			_exit(0);
		if (r < 0) {
			/* Out of step with the parent: it will replace us. */
			errno = EPROTO;
			worker_die("malformed job message");
		}
		worker_cpu_budget();
		worker_job_run(p->cf, kind, name, provider, fd, &frame, &flen);
		if (fd != -1)
			close(fd);
		worker_frame_write(frame, flen);
		free(frame);
	}
}
