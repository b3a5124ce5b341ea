/*
 * ctl_user: `beianctl user` — the staff console's accounts (DESIGN.md,
 * Command line and "Staff console"): add, list, disable, enable, passwd.
 *
 * A password comes from --password-file (its first line; "-" reads
 * standard input) or is drawn from the kernel CSPRNG and printed once.
 * It never appears on the command line (where ps would show it), and
 * is wiped from memory once hashed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "common/config.h"
#include "ctl/ctl.h"
#include "lib/xmalloc.h"
#include "store/accounts.h"
#include "store/store.h"

#define GENERATED_LEN 16

/*
 * The password of --password-file path ("-": stdin) into buf: its first
 * line without the line end.  0, or -1 after saying why.
 */
static int
password_read(const char *path, char *buf, size_t size)
{
	FILE *fp;
	size_t n;

	fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	if (fp == NULL) {
		fputs("beianctl: ", stderr);
		ctl_put_escaped(stderr, path);
		fprintf(stderr, ": %s\n", strerror(errno));
		return -1;
	}
	if (fgets(buf, (int)size, fp) == NULL)
		buf[0] = '\0';
	if (fp != stdin)
		fclose(fp);
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && n == size - 1) {
		fprintf(stderr, "beianctl: the password is longer than %d "
		    "bytes\n", STORE_ACCOUNT_PASSWORD_MAX);
		sodium_memzero(buf, size);
		return -1;
	}
	buf[n] = '\0';
	if (n < STORE_ACCOUNT_PASSWORD_MIN) {
		fprintf(stderr, "beianctl: the password must have at least %d "
		    "characters\n", STORE_ACCOUNT_PASSWORD_MIN);
		sodium_memzero(buf, size);
		return -1;
	}
	return 0;
}

/* The password to set: read, or generated (*generated = 1). */
static int
password_get(const char *file, char *buf, size_t size, int *generated)
{
	*generated = file == NULL;
	if (file != NULL)
		return password_read(file, buf, size);
	store_random_token(buf, GENERATED_LEN);
	return 0;
}

/* The role of --role, checked against the configuration. */
static int
role_check(const struct config *cf, const char *s)
{
	struct store_role r;

	if (store_role_parse(s, &r) == -1) {
		fputs("beianctl: a role is operator, provider:CODE or "
		    "bureau:NN, not ", stderr);
		ctl_put_escaped(stderr, s);
		fputc('\n', stderr);
		return -1;
	}
	if (r.kind == STORE_ROLE_PROVIDER &&
	    config_provider_find(cf, r.code) == NULL) {
		fprintf(stderr, "beianctl: no [provider.%s] in the "
		    "configuration\n", r.code);
		return -1;
	}
	if (r.kind == STORE_ROLE_BUREAU && config_bureau_find(cf, r.code) ==
	    NULL) {
		fprintf(stderr, "beianctl: no [bureau.%s] in the "
		    "configuration\n", r.code);
		return -1;
	}
	return 0;
}

static int
name_check(const char *name)
{
	if (store_account_name_valid(name))
		return 0;
	fputs("beianctl: an account name is 1-64 of A-Z a-z 0-9 . _ @ -, "
	    "starting with a letter or digit, not ", stderr);
	ctl_put_escaped(stderr, name);
	fputc('\n', stderr);
	return -1;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: beianctl user add NAME --role operator|provider:CODE|"
	    "bureau:NN [--password-file F]\n"
	    "       beianctl user list [--json]\n"
	    "       beianctl user disable NAME | user enable NAME\n"
	    "       beianctl user passwd NAME [--password-file F]\n");
}

static int
unknown(const char *name)
{
	ctl_put_escaped(stdout, name);
	fputs(": no such account\n", stdout);
	return CTL_UNKNOWN_ID;
}

/* add and passwd share their options */
static int
user_set(int argc, char **argv, const struct config *cf, int add)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "password-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	char pw[STORE_ACCOUNT_PASSWORD_MAX + 2];
	const char *role = NULL, *file = NULL, *name;
	struct store *st;
	int ch, rc, generated;

	optind = 1;
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			role = optarg;
			break;
		case 'p':
			file = optarg;
			break;
		default:
			usage();
			return CTL_USAGE;
		}
	}
	if (argc - optind != 1 || (add && role == NULL) ||
	    (!add && role != NULL)) {
		usage();
		return CTL_USAGE;
	}
	name = argv[optind];
	if (name_check(name) == -1 || (add && role_check(cf, role) == -1))
		return CTL_USAGE;
	if (password_get(file, pw, sizeof(pw), &generated) == -1)
		return CTL_USAGE;
	if ((st = ctl_store_open(cf)) == NULL) {
		sodium_memzero(pw, sizeof(pw));
		return CTL_USAGE;
	}
	rc = add ? store_account_add(st, name, role, pw, 0) :
	    store_account_password(st, name, pw, 0);
	if (rc == -1)
		rc = ctl_store_error(st);
	else if (rc == 1 && add) {
		ctl_put_escaped(stdout, name);
		fputs(": an account of this name exists\n", stdout);
		rc = CTL_REFUSED;
	} else if (rc == 1)
		rc = unknown(name);
	else {
		ctl_put_escaped(stdout, name);
		if (add) {
			fputs(": added as ", stdout);
			ctl_put_escaped(stdout, role);
			fputc('\n', stdout);
		} else
			fputs(": password changed, its sessions ended\n",
			    stdout);
		/* shown once: only its hash is kept */
		if (generated)
			printf("password: %s\n", pw);
		rc = CTL_OK;
	}
	sodium_memzero(pw, sizeof(pw));
	store_close(st);
	return rc;
}

static int
list_cb(const struct store_account *a, void *arg)
{
	int json = *(int *)arg;

	if (json) {
		fputs("{\"name\":", stdout);
		ctl_put_json(stdout, a->name);
		fputs(",\"role\":", stdout);
		ctl_put_json(stdout, a->role);
		printf(",\"disabled\":%s,\"created\":",
		    a->disabled ? "true" : "false");
		ctl_put_json_time(stdout, a->created);
		fputs(",\"last_login\":", stdout);
		ctl_put_json_time(stdout, a->last_login);
		fputs("}\n", stdout);
	} else {
		char at[32] = "-";

		if (a->last_login != 0)
			time_rfc3339_cst(a->last_login, at);
		printf("%-24s %-20s %-8s %s\n", a->name, a->role,
		    a->disabled ? "disabled" : "enabled", at);
	}
	return 0;
}

static int
user_list(int argc, char **argv, const struct config *cf)
{
	struct store *st;
	int json = 0, rc;

	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		json = 1;
	else if (argc != 1) {
		usage();
		return CTL_USAGE;
	}
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	rc = store_account_list(st, list_cb, &json) == -1 ?
	    ctl_store_error(st) : CTL_OK;
	store_close(st);
	return rc;
}

static int
user_able(int argc, char **argv, const struct config *cf, int disabled)
{
	struct store *st;
	int rc;

	if (argc != 2 || argv[1][0] == '-') {
		usage();
		return CTL_USAGE;
	}
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	rc = store_account_set_disabled(st, argv[1], disabled, 0);
	if (rc == -1)
		rc = ctl_store_error(st);
	else if (rc == 1)
		rc = unknown(argv[1]);
	else {
		ctl_put_escaped(stdout, argv[1]);
		fputs(disabled ? ": disabled, its sessions ended\n" :
		    ": enabled\n", stdout);
	}
	store_close(st);
	return rc;
}

int
ctl_user(int argc, char **argv, const struct config *cf)
{
	if (argc < 2) {
		usage();
		return CTL_USAGE;
	}
	if (strcmp(argv[1], "add") == 0)
		return user_set(argc - 1, argv + 1, cf, 1);
	if (strcmp(argv[1], "passwd") == 0)
		return user_set(argc - 1, argv + 1, cf, 0);
	if (strcmp(argv[1], "list") == 0)
		return user_list(argc - 1, argv + 1, cf);
	if (strcmp(argv[1], "disable") == 0)
		return user_able(argc - 1, argv + 1, cf, 1);
	if (strcmp(argv[1], "enable") == 0)
		return user_able(argc - 1, argv + 1, cf, 0);
	usage();
	return CTL_USAGE;
}
