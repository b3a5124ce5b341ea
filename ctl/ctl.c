/*
 * ctl: beianctl's entry point, verb dispatch and output helpers.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/json.h"
#include "ctl/ctl.h"
#include "lib/compat.h"
#include "lib/version.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "store/highwater.h"
#include "store/store.h"

static const struct {
	const char *name;
	int (*fn)(int, char **, const struct config *);
} verbs[] = {
	{ "check", ctl_check },
	{ "submit", ctl_submit },
	{ "status", ctl_status },
	{ "list", ctl_list },
	{ "show", ctl_show },
	{ "verify", ctl_verify },
	{ "review", ctl_review },
	{ "handback", ctl_handback },
	{ "withdraw", ctl_withdraw },
	{ "outbox", ctl_outbox },
	{ "retry", ctl_retry },
	{ "quarantine", ctl_quarantine },
	{ "requeue", ctl_requeue },
	{ "import", ctl_import },
	{ "password-reset", ctl_password_reset },
	{ "backup", ctl_backup },
	{ "restore", ctl_restore },
	{ "provider", ctl_provider },
	{ "probe", ctl_probe },
	{ "user", ctl_user },
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: beianctl [-c FILE] VERB ...   (beianctl -V: the version)\n"
	    "  check [--provider CODE] [--json] PACKAGE...\n"
	    "  submit [--provider CODE] PACKAGE\n"
	    "  status [--json]\n"
	    "  list [--state S] [--json]\n"
	    "  show ID [--json]\n"
	    "  verify ID --record FILE\n"
	    "  verify ID --pass --photo JPG --scan JPG [--verifier NAME]\n"
	    "  verify ID --return \"PATH=CODE:text\"... [--verifier NAME]\n"
	    "  review ID --approve [--licence NUMBER] | --reject \"CODE:text\" "
	    "[--reviewer NAME]\n"
	    "  handback ID [\"PATH=CODE:text\"...]\n"
	    "  withdraw ID\n"
	    "  outbox [--failed] [--json]\n"
	    "  retry MAILID\n"
	    "  quarantine [--json]\n"
	    "  requeue ITEM\n"
	    "  import FILE\n"
	    "  password-reset SUBJECT_LICENCE\n"
	    "  backup FILE|DIR\n"
	    "  restore DIR|FILE\n"
	    "  probe imap|smtp\n"
	    "  provider add|remove [--root DIR] CODE   (as root)\n"
	    "  user add NAME --role operator|provider:CODE|bureau:NN "
	    "[--password-file F]\n"
	    "  user list [--json] | user disable NAME | user enable NAME\n"
	    "  user passwd NAME [--password-file F]\n"
	    "exit status: 0 done, 1 refused, 2 usage or I/O error, "
	    "3 unknown ID\n");
}

int
ctl_main(int argc, char **argv)
{
	const char *cfpath = NULL;
	struct config *cf;
	char err[512];
	int i = 1, rc;

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			cfpath = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-V") == 0) {
			printf("beianctl %s\n", beiand_version);
			return CTL_OK;
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage();
			return CTL_OK;
		} else {
			usage();
			return CTL_USAGE;
		}
	}
	if (i >= argc) {
		usage();
		return CTL_USAGE;
	}
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		if (strcmp(argv[i], verbs[v].name) != 0)
			continue;
		/* root's verbs say so before reading a config they may not */
		if (verbs[v].fn == ctl_provider && geteuid() != 0)
			return ctl_provider(argc - i, argv + i, NULL);
		if ((cf = config_load(cfpath, err, sizeof(err))) == NULL) {
			fprintf(stderr, "beianctl: %s\n", err);
			return CTL_USAGE;
		}
		/* the configuration read (as root, if so): now the owner of
		 * state_dir, before anything under it is touched */
		if (ctl_become_owner(cf, verbs[v].name) == -1) {
			config_free(cf);
			return CTL_USAGE;
		}
		rc = verbs[v].fn(argc - i, argv + i, cf);
		config_free(cf);
		return rc;
	}
	fprintf(stderr, "beianctl: unknown verb: %s\n", argv[i]);
	usage();
	return CTL_USAGE;
}

void
ctl_put_escaped(FILE *fp, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else
			putc(*p, fp);
	}
}

void
ctl_put_json(FILE *fp, const char *s)
{
	if (s == NULL)
		fputs("null", fp);
	else
		json_put_string(fp, s);
}

unsigned char *
ctl_read_file(const char *path, size_t max, size_t *len)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t off = 0;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto fail;
		}
		off += (size_t)n;
	}
	buf[off] = '\0';
	close(fd);
	*len = off;
	return buf;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}

/* Read path; on failure print why and return NULL. */
unsigned char *
ctl_read_or_complain(const char *path, size_t max, size_t *len)
{
	unsigned char *b;

	if ((b = ctl_read_file(path, max, len)) == NULL)
		ctl_put_file_error(path, errno);
	return b;
}

void
ctl_put_json_time(FILE *fp, time_t t)
{
	char buf[32];

	if (t == 0) {
		fputs("null", fp);
		return;
	}
	time_rfc3339_cst(t, buf);
	ctl_put_json(fp, buf);
}

struct store *
ctl_store_open(const struct config *cf)
{
	struct store *st;
	char *path, err[512];

	path = xasprintf("%s/beiand.db", cf->state_dir);
	if (mkdir(cf->state_dir, 0700) == -1 && errno != EEXIST) {
		fprintf(stderr, "beianctl: %s: %s\n", cf->state_dir,
		    strerror(errno));
		free(path);
		return NULL;
	}
	if ((st = store_open(path, cf, err, sizeof(err))) == NULL) {
		fputs("beianctl: ", stderr);
		ctl_put_escaped(stderr, err);
		fputc('\n', stderr);
	}
	free(path);
	ctl_put_notes(st);
	return st;
}

void
ctl_put_notes(struct store *st)
{
	const char *n;

	while ((n = store_note_next(st)) != NULL) {
		fputs("beianctl: ", stderr);
		ctl_put_escaped(stderr, n);
		fputc('\n', stderr);
	}
}

const char *
ctl_operator_name(void)
{
	static char name[256];
	const char *s;
	struct passwd *pw;

	if (name[0] != '\0')
		return name;
	/* sudo says who is behind root; else the account running us */
	if ((s = getenv("SUDO_USER")) != NULL && s[0] != '\0')
		strlcpy(name, s, sizeof(name));
	else if ((pw = getpwuid(getuid())) != NULL && pw->pw_name != NULL)
		strlcpy(name, pw->pw_name, sizeof(name));
	else
		snprintf(name, sizeof(name), "uid %lu", (unsigned long)getuid());
	return name;
}

void
ctl_operator(struct store_actor *who)
{
	memset(who, 0, sizeof(*who));
	who->kind = WF_ACTOR_OPERATOR;
	who->channel = WF_CHANNEL_CLI;
	who->name = ctl_operator_name();
	who->source = "cli";
}

size_t
ctl_put_refusals(const char *id, const struct errlist *el)
{
	size_t n = 0;

	for (size_t i = 0; i < errlist_count(el); i++) {
		const struct err_item *e = errlist_get(el, i);
		FILE *fp = e->severity == SEV_WARNING ? stderr : stdout;

		if (e->severity != SEV_WARNING)
			n++;
		ctl_put_escaped(fp, id);
		fprintf(fp, ": %s: ", err_code_name(e->code));
		ctl_put_escaped(fp, e->message);
		fputc('\n', fp);
	}
	return n;
}

int
ctl_store_error(struct store *st)
{
	fputs("beianctl: store: ", stderr);
	ctl_put_escaped(stderr, store_errmsg(st));
	fputc('\n', stderr);
	return CTL_USAGE;
}
