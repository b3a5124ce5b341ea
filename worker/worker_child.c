/*
 * worker: the worker program, beiand-worker — from its exec to its exit:
 * its set-up, its sandbox (worker_sandbox.c), then its jobs: read one
 * (file descriptors over the socket), parse, write back one frame.
 * Started by worker_spawn() (worker_setup.c) for a pool (worker.c) or a
 * client (worker_client.c).
 *
 * Hostile input: the uploads, mails and photos of its jobs.  It holds
 * nothing worth stealing (a fresh exec: none of its parent's memory; its
 * set-up has no password, no path) and can do nothing with the rest of
 * the system (worker_sandbox.c).  A job message out of step with the
 * protocol ends the worker.
 *
 * BEIAND_WORKER_SELFTEST=open|socket|execve (in the environment of the
 * program that starts workers, which hands this one variable on) makes
 * the worker try that call — open("/etc/passwd"), socket(AF_INET),
 * execve("/bin/true") — at the start of every job, after its sandbox is
 * on: the tests' proof that each is refused and that the job then goes
 * the way of a crashed worker's.  It is read before the sandbox, does
 * nothing else, and each call is harmless should it ever succeed (then
 * the job fails with a line saying so).  Sanitizer builds also know
 * "overflow": a heap overflow whose report must come out on stderr.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/check_setup.h"
#include "common/config.h"
#include "lib/compat.h"
#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "parsers/mime.h"
#include "worker/wire.h"
#include "worker/worker.h"
#include "worker/worker_int.h"

#define WORKER_FD        3          /* the socket, in the worker */

/* ---- the worker process ------------------------------------------------- */

void
worker_die(const char *what)
{
	/* stderr is the only descriptor kept for this */
	dprintf(2, "%s[%ld]: %s: %s\n", WORKER_PROGRAM, (long)getpid(), what,
	    strerror(errno));
	_exit(1);
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

/* One job as it came over the socket. */
struct worker_job {
	unsigned char kind;
	int fd[WORKER_FILES_MAX];
	size_t nfds;
	char name[WORKER_NAME_MAX + 1]; /* WJ_VERIFY: NUL-separated names */
	size_t nl;
	char provider[WORKER_PROV_MAX + 1];
};

static void
worker_job_close(struct worker_job *j)
{
	for (size_t i = 0; i < j->nfds; i++)
		close(j->fd[i]);
	j->nfds = 0;
}

/*
 * Read one job: 1 and the job, 0 at end of file (the parent is done
 * with us), -1 on a malformed message.  Descriptors beyond the ones
 * announced are closed; fewer than announced is malformed.
 */
static int
worker_job_read(struct worker_job *j)
{
	unsigned char hdr[JOB_HDR_SIZE];
	char rest[WORKER_NAME_MAX + WORKER_PROV_MAX];
	size_t got = 0, want = sizeof(hdr), pl = 0, nfds = 0;
	int in_rest = 0;

	j->nfds = 0;
	for (;;) {
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int) * WORKER_FILES_MAX)];
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
			j->kind = hdr[1];
			nfds = hdr[2];
			j->nl = (size_t)hdr[3] | (size_t)hdr[4] << 8;
			pl = (size_t)hdr[5] | (size_t)hdr[6] << 8;
			if (j->nl > WORKER_NAME_MAX || pl > WORKER_PROV_MAX ||
			    nfds == 0 || nfds > WORKER_FILES_MAX)
				return -1;
			in_rest = 1;
			got = 0;
			want = j->nl + pl;
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
			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_RIGHTS)
				continue;
			for (size_t k = 0; CMSG_LEN(sizeof(int) * (k + 1)) <=
			    c->cmsg_len; k++) {
				int f;

				memcpy(&f, CMSG_DATA(c) + k * sizeof(int),
				    sizeof(f));
				if (j->nfds < WORKER_FILES_MAX)
					j->fd[j->nfds++] = f;
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
	memcpy(j->name, rest, j->nl);
	j->name[j->nl] = '\0';
	memcpy(j->provider, rest + j->nl, pl);
	j->provider[pl] = '\0';
	if (strlen(j->provider) != pl || j->nfds != nfds ||
	    (j->kind != WJ_VERIFY && strlen(j->name) != j->nl))
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

/* ---- WJ_VERIFY ---------------------------------------------------------- */

/*
 * A verification record and the files beside it, as `beianctl verify`
 * and the console bring them: one ITEM_VERIFICATION named after the
 * record, checked with no provider's ranges, its identity the record and
 * the files beside it (package.c's item_hash: the record among them and
 * once more).
 */
static void
worker_verify_run(const struct config *cf, const struct worker_job *j,
    unsigned char **frame, size_t *flen)
{
	unsigned char *data[WORKER_FILES_MAX] = { NULL };
	struct pkg_file files[WORKER_FILES_MAX], all[WORKER_FILES_MAX + 1];
	const char *name = j->name;
	struct check_setup cs;
	struct upload *u;
	struct item *it;
	size_t n = j->nfds;

	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		int r;

		if (name > j->name + j->nl || *name == '\0' ||
		    strchr(name, '/') != NULL) {
			wire_encode_error("malformed job", frame, flen);
			goto out;
		}
		r = worker_file_read(j->fd[i], cf->limits.archive_max_bytes,
		    &data[i], &len);
		if (r != 0) {
			char why[160];

			snprintf(why, sizeof(why), "reading %s: %s", i == 0 ?
			    "the record" : "a file beside it", r == 1 ?
			    "over archive_max_bytes" : strerror(errno));
			wire_encode_error(why, frame, flen);
			goto out;
		}
		files[i].name = name;
		files[i].data = data[i];
		files[i].size = len;
		files[i].sha256 = NULL;
		name += strlen(name) + 1;
	}
	if (name != j->name + j->nl + 1) {
		wire_encode_error("malformed job", frame, flen);
		goto out;
	}
	if (check_setup_init(&cs, cf, NULL, time(NULL)) != 0)
		abort(); /* no provider: cannot fail */
	u = xcalloc(1, sizeof(*u));
	u->errs = errlist_new();
	u->items = xcalloc(1, sizeof(*u->items));
	u->nitems = 1;
	it = &u->items[0];
	it->kind = ITEM_VERIFICATION;
	it->path = xstrdup(files[0].name);
	it->errs = errlist_new();
	/* views into data[], which outlives the encoding */
	it->files = xreallocarray(NULL, n, sizeof(*it->files));
	memcpy(it->files, files, n * sizeof(*files));
	it->nfiles = n;
	if (verification_parse(files[0].data, files[0].size, &cf->limits,
	    &it->verification, it->errs) == 0)
		verification_check(it->verification, files, n, &cs.ctx,
		    it->errs);
	memcpy(all, files, n * sizeof(*files));
	all[n] = files[0];
	package_files_sha256(all, n + 1, it->sha256);
	check_setup_fini(&cs);
	wire_encode_upload(u, frame, flen);
	upload_free(u);
out:
	for (size_t i = 0; i < n; i++)
		free(data[i]);
}

/* ---- the jobs ----------------------------------------------------------- */

static void
worker_job_run(const struct config *cf, const struct worker_job *j,
    unsigned char **frame, size_t *flen)
{
	const struct input_limits *lim = &cf->limits;
	unsigned char *buf = NULL;
	size_t len = 0;
	int r, fd = j->fd[0];

	if (j->kind == WJ_VERIFY) {
		worker_verify_run(cf, j, frame, flen);
		return;
	}
	if (j->nfds != 1 || (j->kind != WJ_WHOLE && j->kind != WJ_PARSE &&
	    j->kind != WJ_MAIL && j->kind != WJ_VIEW)) {
		wire_encode_error("malformed job", frame, flen);
		return;
	}
	r = worker_file_read(fd, j->kind == WJ_MAIL ? lim->mail_max_bytes :
	    lim->archive_max_bytes, &buf, &len);
	if (r == -1) {
		char why[160];

		snprintf(why, sizeof(why), "reading the upload: %s",
		    strerror(errno));
		wire_encode_error(why, frame, flen);
		return;
	}
	if (j->kind == WJ_MAIL) {
		worker_mail_run(cf, j->provider, r == 1, buf, len, frame,
		    flen);
	} else if (j->kind == WJ_WHOLE) {
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

		if (check_setup_init(&cs, cf, *j->provider ? j->provider :
		    NULL, time(NULL)) != 0) {
			wire_encode_error("provider not configured", frame,
			    flen);
		} else {
			u = upload_read(*j->name ? j->name : NULL, buf, len,
			    &cs.ctx, UPLOAD_HASH);
			if (j->kind == WJ_VIEW)
				wire_encode_upload_all(u, frame, flen);
			else
				wire_encode_upload(u, frame, flen);
			upload_free(u);
			check_setup_fini(&cs);
		}
	}
	free(buf);
}

/*
 * BEIAND_WORKER_SELFTEST (see the top of this file): the call is refused
 * by the sandbox and the worker dies of SIGSYS; should it not be, the
 * job fails with a reason that says so.
 */
static int
worker_selftest(const char *call, unsigned char **frame, size_t *flen)
{
	char why[128];

	if (call == NULL)
		return 0;
	errno = 0;
	if (strcmp(call, "open") == 0) {
		int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);

		if (fd != -1) {
			close(fd);
			errno = 0;
		}
	} else if (strcmp(call, "socket") == 0) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (s != -1) {
			close(s);
			errno = 0;
		}
#ifdef BEIAND_SANITIZE
	} else if (strcmp(call, "overflow") == 0) {
		/* a sanitizer build's report must get out of the sandbox */
		static char *volatile keep;
		volatile size_t n = 9;

		keep = malloc(8);
		memset(keep, 1, n);
		free(keep);
#endif
	} else if (strcmp(call, "execve") == 0) {
		char *argv[] = { (char *)"true", NULL }, *envp[] = { NULL };

		execve("/bin/true", argv, envp);
	} else
		return 0;
	/* Still here: the filter let it through (a sanitizer build lets
	 * open through, for Landlock to refuse), or the sandbox is gone. */
	if (errno == EACCES || errno == EPERM)
		snprintf(why, sizeof(why), "sandbox self-test: %s refused "
		    "with an error (%s), not by the filter", call,
		    strerror(errno));
	else
		snprintf(why, sizeof(why), "sandbox self-test: %s was not "
		    "refused", call);
	wire_encode_error(why, frame, flen);
	return 1;
}

/* The set-up: a 4-byte length and the message (worker_setup.c). */
static struct config *
worker_setup_read(void)
{
	unsigned char hdr[4], *buf;
	size_t got = 0, len;
	struct config *cf;

	while (got < sizeof(hdr)) {
		ssize_t r = read(WORKER_FD, hdr + got, sizeof(hdr) - got);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			errno = r == 0 ? EPIPE : errno;
			worker_die("reading the set-up");
		}
		got += (size_t)r;
	}
	len = (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16 |
	    (size_t)hdr[3] << 24;
	if (len > WORKER_SETUP_MAX) {
		errno = EMSGSIZE;
		worker_die("reading the set-up");
	}
	buf = xmalloc(len ? len : 1);
	for (got = 0; got < len;) {
		ssize_t r = read(WORKER_FD, buf + got, len - got);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			errno = r == 0 ? EPIPE : errno;
			worker_die("reading the set-up");
		}
		got += (size_t)r;
	}
	if ((cf = worker_setup_decode(buf, len)) == NULL) {
		errno = EPROTO;
		worker_die("the set-up does not decode (beiand and "
		    WORKER_PROGRAM " of different builds?)");
	}
	free(buf);
	return cf;
}

int
worker_program_main(int argc, char **argv)
{
	unsigned char ready[WORKER_READY_SIZE];
	const char *env;
	char *selftest = NULL;
	struct config *cf;
	struct stat st;
	int abi;

	if (argc != 1 || fstat(WORKER_FD, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "%s: a helper of beiand, beianctl and "
		    "beiand-web, started by them (it takes its work on "
		    "descriptor %d)\n", argv[0] != NULL ? argv[0] :
		    WORKER_PROGRAM, WORKER_FD);
		return 2;
	}
	if ((env = getenv("BEIAND_WORKER_SELFTEST")) != NULL && *env != '\0')
		selftest = xstrdup(env);
	cf = worker_setup_read();
	abi = worker_sandbox_enter(cf);

	memcpy(ready, WORKER_READY, WORKER_READY_SIZE - 1);
	ready[WORKER_READY_SIZE - 1] = (unsigned char)(abi > 0 && abi < 256 ?
	    abi : 0);
	worker_frame_write(ready, sizeof(ready));
	for (;;) {
		static struct worker_job j;
		unsigned char *frame = NULL;
		size_t flen = 0;
		int r;

		r = worker_job_read(&j);
		if (r == 0)
			_exit(0);
		if (r < 0) {
			/* Out of step with the parent: it will replace us. */
			errno = EPROTO;
			worker_die("malformed job message");
		}
		worker_cpu_budget();
		if (!worker_selftest(selftest, &frame, &flen))
			worker_job_run(cf, &j, &frame, &flen);
		worker_job_close(&j);
		worker_frame_write(frame, flen);
		free(frame);
	}
}
