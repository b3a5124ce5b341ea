/*
 * test_sandbox: the pieces of the helpers' confinement, each in a child
 * process of its own (a sandbox applies to the process that sets it):
 * Landlock refuses a file, a trapped call prints its name and ends the
 * process with SIGSYS, capabilities are gone; the set-up messages
 * (lib/tlv.c, the worker's set-up, the fetcher's settings) round-trip
 * and refuse what does not decode; the worker client parses a package
 * and a verification record with its photo and scan in a sandboxed
 * worker, with the same answer as this process gets.
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "common/check_setup.h"
#include "common/config.h"
#include "lib/sandbox.h"
#include "lib/spawn.h"
#include "lib/tlv.h"
#include "lib/xmalloc.h"
#include "mail/imap_int.h"
#include "parsers/package.h"
#include "worker/worker_client.h"
#include "worker/worker_int.h"
#include "unit.h"

/* Run fn in a child; its exit status (or signal) in *status, what it
 * wrote to stderr in err. */
static void
in_child(void (*fn)(void), int *status, char *err, size_t errsize)
{
	int p[2];
	pid_t pid;
	ssize_t n;
	size_t got = 0;

	*status = -1;
	err[0] = '\0';
	if (pipe(p) != 0)
		return;
	if ((pid = fork()) == 0) {
		dup2(p[1], 2);
		close(p[0]);
		fn();
		_exit(0);
	}
	close(p[1]);
	while (got + 1 < errsize &&
	    (n = read(p[0], err + got, errsize - 1 - got)) > 0)
		got += (size_t)n;
	err[got] = '\0';
	close(p[0]);
	if (pid > 0)
		waitpid(pid, status, 0);
}

static void
child_landlock(void)
{
	int fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		_exit(10);
	if (sandbox_landlock(NULL, 0, 1, NULL, 0) <= 0)
		_exit(11); /* no Landlock here: the caller skips */
	fd = open("/etc/hostname", O_RDONLY);
	_exit(fd == -1 && errno == EACCES ? 0 : 12);
}

static void
child_landlock_paths(void)
{
	struct sandbox_path allow = { "/etc/hostname", -1, SANDBOX_FS_READ };
	int fd, other;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		_exit(10);
	if (sandbox_landlock(&allow, 1, 1, NULL, 0) <= 0)
		_exit(11);
	fd = open("/etc/hostname", O_RDONLY);
	other = open("/etc/passwd", O_RDONLY);
	_exit(fd != -1 && other == -1 ? 0 : 12);
}

UNIT_TEST(sandbox_landlock)
{
	char err[512];
	int st;

	if (sandbox_landlock_abi() == 0) {
		printf("sandbox_landlock: no Landlock on this kernel, skipped\n");
		return;
	}
	in_child(child_landlock, &st, err, sizeof(err));
	CHECKM(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x %.300s",
	    st, err);
	in_child(child_landlock_paths, &st, err, sizeof(err));
	CHECKM(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x %.300s",
	    st, err);
}

static void
child_trap(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (ctx == NULL || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_TRAP, SCMP_SYS(getppid), 0) != 0)
		_exit(10);
	sandbox_sigsys_install("test-sandbox");
	if (seccomp_load(ctx) != 0)
		_exit(11);
	(void)getppid();
	_exit(12); /* not reached: the call ends the process */
}

UNIT_TEST(sandbox_sigsys)
{
	char err[512];
	int st;

	in_child(child_trap, &st, err, sizeof(err));
	CHECKM(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "status %#x", st);
	CHECKM(strstr(err, "test-sandbox[") != NULL &&
	    strstr(err, "]: sandbox: refused system call getppid\n") != NULL,
	    "%.300s", err);
}

static void
child_caps(void)
{
	_exit(sandbox_caps_drop() == 0 ? 0 : 1);
}

UNIT_TEST(sandbox_caps)
{
	char err[256];
	int st;

	/* as root: every capability there is, and none after */
	in_child(child_caps, &st, err, sizeof(err));
	CHECKM(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
}

UNIT_TEST(sandbox_spawn_env)
{
	static const char *const names[] = { "BEIAND_TEST_KEEP",
		"BEIAND_TEST_UNSET", NULL };
	char **env;
	char path[4096];

	setenv("BEIAND_TEST_KEEP", "1", 1);
	unsetenv("BEIAND_TEST_UNSET");
	env = spawn_env(names);
	CHECK(env[0] != NULL && strcmp(env[0], "BEIAND_TEST_KEEP=1") == 0);
	CHECK(env[0] != NULL && env[1] == NULL);
	spawn_env_free(env);
	unsetenv("BEIAND_TEST_KEEP");
	/* the unit binary lives beside the helpers (build/) */
	CHECK(spawn_find(WORKER_PROGRAM, path, sizeof(path)) == 0);
	CHECK(spawn_find("no-such-helper", path, sizeof(path)) == -1);
}

UNIT_TEST(sandbox_tlv)
{
	struct tlv_out o = { 0 };
	struct tlv_in in;
	const unsigned char *v;
	const char *tag;
	uint64_t x;
	size_t n;

	tlv_put_str(&o, "a", "hello");
	tlv_put_u64(&o, "bb", 0x0102030405060708ULL);
	tlv_put_str(&o, "none", NULL);
	tlv_put(&o, "empty", "", 0);
	in.p = o.buf;
	in.left = o.len;
	CHECK(tlv_next(&in, &tag, &v, &n) == 1 && strcmp(tag, "a") == 0 &&
	    n == 5 && memcmp(v, "hello", 5) == 0);
	CHECK(tlv_next(&in, &tag, &v, &n) == 1 && strcmp(tag, "bb") == 0 &&
	    tlv_u64(v, n, &x) == 0 && x == 0x0102030405060708ULL);
	CHECK(tlv_next(&in, &tag, &v, &n) == 1 && strcmp(tag, "empty") == 0 &&
	    n == 0);
	CHECK(tlv_next(&in, &tag, &v, &n) == 0);
	/* every cut short of a whole record is refused */
	for (size_t cut = 1; cut < o.len; cut++) {
		int r;

		in.p = o.buf;
		in.left = cut;
		while ((r = tlv_next(&in, &tag, &v, &n)) == 1)
			;
		/* whole records end at 11 ("a", 5 bytes) and 26 ("bb") */
		CHECKM(r == -1 || cut == 11 || cut == 26, "cut %zu: %d", cut,
		    r);
	}
	CHECK(tlv_str((const unsigned char *)"a\0b", 3) == NULL);
	tlv_out_free(&o);
}

static struct config *
test_config(void)
{
	static const char text[] =
	    "[imap]\n"
	    "url = imap://intake:pw%2Fsecret@127.0.0.1:1143/INBOX\n"
	    "address = intake@example.test\n"
	    "provider = P001\n"
	    "ca_file = /etc/ssl/certs/ca-certificates.crt\n"
	    "tls = encrypt\n"
	    "tls_pin = sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	    "inbox_max = 77\n"
	    "sender_max = 5\n"
	    "sender_window = 2h\n"
	    "[daemon]\n"
	    "min_free = 3M\n"
	    "[smtp]\n"
	    "url = smtp://u:smtp-secret@127.0.0.1:25\n"
	    "[limits]\n"
	    "photo_max_bytes = 3M\n"
	    "[bureau.11]\naddresses = b@example.test\n"
	    "[bureau.44]\naddresses = c@example.test\n"
	    "[provider.P001]\nname = a\nemail = p@example.test\n"
	    "ip_ranges = 203.0.113.0/24, 2001:db8::/32\n"
	    "[provider.P002]\nname = b\nemail = q@example.test\n"
	    "ip_ranges = 198.51.100.0/24\n";
	char err[256];
	struct config *cf = config_parse(text, sizeof(text) - 1, "t.conf",
	    "/tmp", err, sizeof(err));

	if (cf == NULL)
		unit_fail(__FILE__, __LINE__, "config: %s", err);
	return cf;
}

static int
contains(const unsigned char *b, size_t n, const char *s)
{
	return memmem(b, n, s, strlen(s)) != NULL;
}

UNIT_TEST(sandbox_worker_setup)
{
	struct config *cf = test_config(), *w;
	unsigned char *buf;
	size_t len;

	if (cf == NULL)
		return;
	worker_setup_encode(cf, &buf, &len);
	/* no password, no URL, nothing of [smtp] */
	CHECK(!contains(buf, len, "secret") && !contains(buf, len, "imap:") &&
	    !contains(buf, len, "smtp"));
	CHECK_INT(len - 4, (size_t)buf[0] | (size_t)buf[1] << 8 |
	    (size_t)buf[2] << 16 | (size_t)buf[3] << 24);
	w = worker_setup_decode(buf + 4, len - 4);
	CHECK(w != NULL);
	if (w != NULL) {
		CHECK(memcmp(&w->limits, &cf->limits, sizeof(w->limits)) == 0);
		CHECK_STR(w->imap_address, "intake@example.test");
		CHECK(w->imap_url == NULL && w->smtp_url == NULL &&
		    w->state_dir == NULL);
		CHECK_INT(w->nbureaus, 2);
		CHECK(w->nbureaus == 2 &&
		    strcmp(w->bureaus[1].province, "44") == 0);
		CHECK_INT(w->nproviders, 2);
		CHECK(w->nproviders == 2 && w->providers[0].nip_ranges == 2 &&
		    memcmp(w->providers[0].ip_ranges, cf->providers[0].ip_ranges,
		    2 * sizeof(struct ip_range)) == 0 &&
		    strcmp(w->providers[1].code, "P002") == 0);
		config_free(w);
	}
	/* a broken byte anywhere is refused or decodes to something sound
	 * (never a crash); a cut one is refused */
	for (size_t i = 4; i < len; i++) {
		buf[i] ^= 0xff;
		config_free(worker_setup_decode(buf + 4, len - 4));
		buf[i] ^= 0xff;
	}
	for (size_t cut = 0; cut < len - 4; cut += 7) {
		w = worker_setup_decode(buf + 4, cut);
		CHECKM(w == NULL || cut > 200, "cut %zu", cut);
		config_free(w);
	}
	free(buf);
	config_free(cf);
}

UNIT_TEST(sandbox_imap_settings)
{
	struct config *cf = test_config(), *f;
	struct imap_settings set;
	unsigned char *buf;
	size_t len;
	char *pub;

	if (cf == NULL)
		return;
	/* the URL goes without its password, which has a row of its own */
	pub = imap_url_public(cf->imap_url);
	CHECK_STR(pub, "imap://intake@127.0.0.1:1143/INBOX");
	free(pub);
	pub = imap_url_public("imaps://u%3Ax@[::1]:993/a:b@c");
	CHECK_STR(pub, "imaps://u%3Ax@[::1]:993/a:b@c");
	free(pub);
	pub = imap_url_public("imap://u:p@w@h/INBOX");
	CHECK_STR(pub, "imap://u@h/INBOX");
	free(pub);
	imap_settings_encode(cf, "pw/secret", 1, &buf, &len);
	CHECK(contains(buf, len, "pw/secret") &&
	    !contains(buf, len, "pw%2Fsecret") &&
	    !contains(buf, len, "smtp-secret") && !contains(buf, len, "smtp"));
	CHECK(imap_settings_decode(buf, len, &set) == 0);
	if ((f = set.cf) != NULL) {
		CHECK_STR(f->imap_url, "imap://intake@127.0.0.1:1143/INBOX");
		CHECK_STR(set.password, "pw/secret");
		CHECK_INT(set.password_from_file, 1);
		CHECK_STR(f->imap_done_folder, cf->imap_done_folder);
		CHECK_STR(f->imap_ca_file, "/etc/ssl/certs/ca-certificates.crt");
		CHECK_STR(f->imap_tls_pin, cf->imap_tls_pin);
		CHECK_INT(f->imap_tls, cf->imap_tls);
		CHECK_INT(f->imap_poll_interval, cf->imap_poll_interval);
		CHECK_INT(f->imap_inbox_max, cf->imap_inbox_max);
		CHECK_INT(f->imap_sender_max, cf->imap_sender_max);
		CHECK_INT(f->imap_sender_window, cf->imap_sender_window);
		CHECK_INT(f->min_free, cf->min_free);
		CHECK_INT(f->limits.mail_max_bytes, cf->limits.mail_max_bytes);
		/* nothing else of the configuration */
		CHECK(f->smtp_url == NULL && f->nproviders == 0 &&
		    f->imap_password_file == NULL && f->state_dir == NULL &&
		    f->imap_address == NULL);
		imap_settings_free(&set);
	}
	buf[len - 1] ^= 0x55;
	len -= 3;
	CHECK(imap_settings_decode(buf, len, &set) == -1);
	explicit_bzero(buf, len);
	free(buf);
	config_free(cf);
}

static unsigned char *
fixture(const char *rel, size_t *len)
{
	char path[1024];
	unsigned char *b;

	snprintf(path, sizeof(path), "%s/%s", unit_fixtures(), rel);
	if ((b = unit_read_file(path, len)) == NULL)
		unit_fail(__FILE__, __LINE__, "%s: %s", path, strerror(errno));
	return b;
}

UNIT_TEST(sandbox_worker_client)
{
	struct config *cf = test_config();
	struct worker_client *wc;
	struct worker_result res;
	unsigned char *zip, *rec, *photo, *scan;
	size_t zlen, rlen, plen, slen;
	char err[512];

	if (cf == NULL)
		return;
	zip = fixture("archive/valid.zip", &zlen);
	rec = unit_read_file("examples/BA-2026-000123.verification.xml", &rlen);
	photo = unit_read_file("examples/photos/onsite.jpg", &plen);
	scan = unit_read_file("examples/photos/checklist.jpg", &slen);
	if ((wc = worker_client_new(cf, err, sizeof(err))) == NULL) {
		unit_fail(__FILE__, __LINE__, "client: %s", err);
		goto out;
	}
	CHECK(worker_client_pid(wc) > 0);
	if (zip != NULL) {
		CHECK(worker_client_run_mem(wc, WJ_PARSE, zip, zlen, "valid.zip",
		    "P001", &res) == 0);
		CHECKM(res.status == WR_OK && res.upload != NULL &&
		    res.upload->nitems == 1 &&
		    res.upload->items[0].kind == ITEM_FILING &&
		    errlist_nerrors(res.upload->items[0].errs) == 0, "%s",
		    res.reason);
		upload_free(res.upload);
		/* an unknown provider never reaches a worker */
		CHECK(worker_client_run_mem(wc, WJ_PARSE, zip, zlen,
		    "valid.zip", "P999", &res) == -1);
	}
	if (rec != NULL && photo != NULL && scan != NULL) {
		struct pkg_file f[3] = {
			{ "rec.verification.xml", rec, rlen, NULL },
			{ "onsite.jpg", photo, plen, NULL },
			{ "checklist.jpg", scan, slen, NULL },
		};
		struct pkg_file all[4];
		unsigned char want[32];
		const struct item *it;

		memcpy(all, f, sizeof(f));
		all[3] = f[0];
		package_files_sha256(all, 4, want);
		CHECK(worker_client_verify(wc, f, 3, &res) == 0);
		CHECKM(res.status == WR_OK && res.upload != NULL &&
		    res.upload->nitems == 1, "%s", res.reason);
		if (res.status == WR_OK && res.upload != NULL &&
		    res.upload->nitems == 1) {
			it = &res.upload->items[0];
			CHECK_INT(it->kind, ITEM_VERIFICATION);
			CHECK_STR(it->path, "rec.verification.xml");
			CHECK(it->verification != NULL &&
			    strcmp(it->verification->filing,
			    "BA-2026-000123") == 0);
			CHECK(memcmp(it->sha256, want, 32) == 0);
			CHECK_INT(it->nfiles, 3);
			CHECK(it->nfiles == 3 && it->files[1].size == plen &&
			    memcmp(it->files[1].data, photo, plen) == 0);
		}
		upload_free(res.upload);
	}
out:
	worker_client_free(wc);
	free(zip);
	free(rec);
	free(photo);
	free(scan);
	config_free(cf);
}
