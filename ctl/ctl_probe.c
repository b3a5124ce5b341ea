/*
 * ctl_probe: `beianctl probe imap|smtp` — one connection to the mail
 * server made as the daemon makes it (same TLS level, same checks, the
 * password read the same way), and what it saw: the TLS version, the
 * certificate's subject and public-key pin, the verification, the login
 * (IMAP LOGIN and a read-only EXAMINE; SMTP EHLO/AUTH and a MAIL FROM
 * that is reset before any mail).  Exit 0 when the daemon could use the
 * server, 1 when not (unreachable included), 2 on a usage or
 * configuration error.
 *
 * Run as root, it reads the password file as root, then acts as the
 * owner of state_dir (the daemon's user) before it connects; an IMAP
 * probe also takes the fetcher's sandbox first (imap_confine()): the
 * server's replies are parsed by libetpan under the same confinement as
 * in beiand-imap.
 *
 * What is printed comes from the server (its certificate's subject, its
 * replies): it goes through ctl_put_escaped().  The password never is.
 */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/tls_policy.h"
#include "ctl/ctl.h"
#include "lib/secret.h"
#include "mail/imap.h"
#include "mail/probe.h"
#include "mail/smtp.h"

#define PROBE_SMTP_TIMEOUT 60 /* seconds, at most [smtp] timeout */

static void
line(const char *key, const char *value)
{
	printf("%-13s ", key);
	ctl_put_escaped(stdout, value != NULL && *value != '\0' ? value : "-");
	fputc('\n', stdout);
}

static char probe_user[64];     /* who talks to the server */

/*
 * Once the password is read: act as the owner of state_dir when root,
 * and note the user's name while /etc/passwd can still be read (the
 * IMAP probe's sandbox comes next).
 */
static int
probe_become(const struct config *cf, char *err, size_t errsize)
{
	struct passwd *pw;

	if (ctl_act_as_owner(cf, err, errsize) == -1)
		return -1;
	if ((pw = getpwuid(geteuid())) != NULL)
		snprintf(probe_user, sizeof(probe_user), "%s", pw->pw_name);
	else
		snprintf(probe_user, sizeof(probe_user), "uid %lu",
		    (unsigned long)geteuid());
	return 0;
}

static void
probe_print(const char *name, const struct mail_probe *p)
{
	const struct tls_policy *t = &p->tls;
	char buf[512];

	snprintf(buf, sizeof(buf), "%s port %u (%s)", t->host, p->port,
	    t->loopback ? "loopback" : "remote");
	line(name, buf);
	if (t->configured == TLS_AUTO)
		snprintf(buf, sizeof(buf), "%s (tls = auto)",
		    tls_level_name(t->level));
	else
		snprintf(buf, sizeof(buf), "%s", tls_level_name(t->level));
	if (t->implicit)
		strncat(buf, ", TLS from the first byte", sizeof(buf) -
		    strlen(buf) - 1);
	line("level:", buf);
	line("connected:", p->connected ? "yes" : "no");
	if (!t->implicit && p->connected)
		line("starttls:", p->starttls_offered ? "offered" :
		    "not offered");
	line("tls:", p->encrypted ? p->tls_version : "none");
	line("certificate:", p->subject);
	line("public key:", p->pin);
	line("verification:", p->verify);
	line("tls_pin:", p->pin_check);
	if (p->sandbox[0] != '\0')
		line("sandbox:", p->sandbox);
	line("user:", probe_user);
	line("login:", p->login);
	line(strcmp(name, "imap:") == 0 ? "mailbox:" : "sender:", p->mailbox);
	if (p->usable)
		line("result:", "usable");
	else {
		printf("%-13s not usable: ", "result:");
		ctl_put_escaped(stdout, p->reason[0] != '\0' ? p->reason :
		    "unknown");
		fputc('\n', stdout);
	}
}

static int
probe_smtp(const struct config *cf, struct mail_probe *p)
{
	struct tls_policy tp;
	char err[512], pw[SECRET_MAX];
	uint64_t timeout = cf->smtp_timeout;
	int haspw = 0, rc;

	if (tls_policy_config(cf, TLS_CHANNEL_SMTP, &tp, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "beianctl: probe: %s\n", err);
		return -1;
	}
	if (cf->smtp_password_file != NULL) {
		if (secret_file_read(cf->smtp_password_file, pw, sizeof(pw),
		    err, sizeof(err)) == -1) {
			fprintf(stderr, "beianctl: probe: [smtp] password_file "
			    "%s\n", err);
			return -1;
		}
		haspw = 1;
	}
	/* the password read: the server is talked to as the daemon's user */
	if (probe_become(cf, err, sizeof(err)) == -1) {
		explicit_bzero(pw, sizeof(pw));
		fprintf(stderr, "beianctl: probe: %s\n", err);
		return -1;
	}
	if (timeout == 0 || timeout > PROBE_SMTP_TIMEOUT)
		timeout = PROBE_SMTP_TIMEOUT;
	if (smtp_global_init() == -1) {
		explicit_bzero(pw, sizeof(pw));
		fprintf(stderr, "beianctl: probe: libcurl cannot start\n");
		return -1;
	}
	rc = smtp_probe(cf->smtp_url, &tp, haspw ? pw : NULL, cf->smtp_from,
	    timeout, p);
	explicit_bzero(pw, sizeof(pw));
	if (rc == -1)
		fprintf(stderr, "beianctl: probe: libcurl cannot make a "
		    "handle\n");
	return rc;
}

int
ctl_probe(int argc, char **argv, const struct config *cf)
{
	struct mail_probe p;
	int imap;

	if (argc != 2 || (strcmp(argv[1], "imap") != 0 &&
	    strcmp(argv[1], "smtp") != 0)) {
		fprintf(stderr, "usage: beianctl probe imap|smtp\n");
		return CTL_USAGE;
	}
	imap = strcmp(argv[1], "imap") == 0;
	if ((imap ? cf->imap_url : cf->smtp_url)[0] == '\0') {
		fprintf(stderr, "beianctl: probe: [%s] url is empty%s\n",
		    argv[1], imap ? ": no mail intake" :
		    ": mails are written as .eml files in state_dir/mail");
		return CTL_USAGE;
	}
	if (imap) {
		if (imap_probe(cf, probe_become, &p) == -1) {
			fprintf(stderr, "beianctl: probe: ");
			ctl_put_escaped(stderr, p.reason);
			fputc('\n', stderr);
			fflush(NULL);
			_exit(CTL_USAGE); /* maybe confined: as below */
		}
	} else if (probe_smtp(cf, &p) == -1)
		return CTL_USAGE;
	probe_print(imap ? "imap:" : "smtp:", &p);
	if (imap) {
		/* confined as the fetcher, it ends as the fetcher does: by
		 * _exit, nothing left to run (LeakSanitizer's tracer, in
		 * sanitizer builds, would be a refused fork and ptrace) */
		fflush(NULL);
		_exit(p.usable ? CTL_OK : CTL_REFUSED);
	}
	return p.usable ? CTL_OK : CTL_REFUSED;
}
