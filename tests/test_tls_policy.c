/*
 * tls_policy: how [imap]/[smtp] tls resolves (DESIGN.md "TLS"), as a
 * table; what counts as loopback; the URL split; the tls_pin syntax; and
 * the configuration checks that use them.
 */
#include <stdio.h>
#include <string.h>

#include "common/config.h"
#include "common/tls_policy.h"
#include "unit.h"

#define PIN_A "sha256//OiDiMMmcYTSsUbIgc3f1LX65TgT6Gcj4JuZU8OPGAJI="
#define PIN_B "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

UNIT_TEST(tls_policy_resolve_table)
{
	static const struct {
		enum tls_level conf;
		const char *host;
		int implicit, creds;
		const char *pin;
		/* want: -1 an error, else the level and flags */
		int ok;
		enum tls_level level;
		int need_tls, check_chain;
	} rows[] = {
		/* auto: loopback may, whatever the credentials */
		{ TLS_AUTO, "127.0.0.1", 0, 0, NULL, 1, TLS_MAY, 0, 0 },
		{ TLS_AUTO, "127.0.0.1", 0, 1, NULL, 1, TLS_MAY, 0, 0 },
		{ TLS_AUTO, "127.1.2.3", 0, 1, NULL, 1, TLS_MAY, 0, 0 },
		{ TLS_AUTO, "::1", 0, 1, NULL, 1, TLS_MAY, 0, 0 },
		{ TLS_AUTO, "localhost", 0, 1, NULL, 1, TLS_MAY, 0, 0 },
		/* auto, remote: verify with a password, may without */
		{ TLS_AUTO, "mail.example.net", 0, 1, NULL, 1, TLS_VERIFY, 1,
		    1 },
		{ TLS_AUTO, "mail.example.net", 0, 0, NULL, 1, TLS_MAY, 0, 0 },
		{ TLS_AUTO, "192.0.2.7", 0, 1, NULL, 1, TLS_VERIFY, 1, 1 },
		/* implicit TLS: at least encrypt */
		{ TLS_AUTO, "127.0.0.1", 1, 1, NULL, 1, TLS_ENCRYPT, 1, 0 },
		{ TLS_AUTO, "mail.example.net", 1, 0, NULL, 1, TLS_ENCRYPT, 1,
		    0 },
		{ TLS_AUTO, "mail.example.net", 1, 1, NULL, 1, TLS_VERIFY, 1,
		    1 },
		{ TLS_MAY, "127.0.0.1", 1, 0, NULL, 1, TLS_ENCRYPT, 1, 0 },
		/* a pin: encrypt, the pin being the check */
		{ TLS_AUTO, "mail.example.net", 0, 1, PIN_A, 1, TLS_ENCRYPT, 1,
		    0 },
		{ TLS_AUTO, "127.0.0.1", 0, 0, PIN_A, 1, TLS_ENCRYPT, 1, 0 },
		{ TLS_MAY, "127.0.0.1", 0, 0, PIN_A, 1, TLS_ENCRYPT, 1, 0 },
		{ TLS_VERIFY, "mail.example.net", 0, 1, PIN_A, 1, TLS_VERIFY, 1,
		    1 },
		{ TLS_AUTO, "127.0.0.1", 0, 0, "", 1, TLS_MAY, 0, 0 },
		/* explicit levels are kept */
		{ TLS_NONE, "mail.example.net", 0, 1, NULL, 1, TLS_NONE, 0, 0 },
		{ TLS_NONE, "127.0.0.1", 0, 1, NULL, 1, TLS_NONE, 0, 0 },
		{ TLS_ENCRYPT, "127.0.0.1", 0, 0, NULL, 1, TLS_ENCRYPT, 1, 0 },
		{ TLS_VERIFY, "127.0.0.1", 0, 0, NULL, 1, TLS_VERIFY, 1, 1 },
		/* may to a remote host: the password only over TLS */
		{ TLS_MAY, "mail.example.net", 0, 1, NULL, 1, TLS_MAY, 1, 0 },
		{ TLS_MAY, "mail.example.net", 0, 0, NULL, 1, TLS_MAY, 0, 0 },
		{ TLS_MAY, "127.0.0.1", 0, 1, NULL, 1, TLS_MAY, 0, 0 },
		/* contradictions */
		{ TLS_NONE, "127.0.0.1", 1, 0, NULL, 0, 0, 0, 0 },
		{ TLS_NONE, "127.0.0.1", 0, 0, PIN_A, 0, 0, 0, 0 },
	};
	struct tls_policy p;
	char err[256];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int r = tls_policy_resolve(&p, TLS_CHANNEL_SMTP, rows[i].conf,
		    rows[i].host, rows[i].implicit, rows[i].creds, rows[i].pin,
		    NULL, err, sizeof(err));

		CHECKM((r == 0) == rows[i].ok, "row %zu: %s", i, err);
		if (r != 0 || !rows[i].ok)
			continue;
		CHECKM(p.level == rows[i].level, "row %zu: level %s", i,
		    tls_level_name(p.level));
		CHECKM(p.need_tls == rows[i].need_tls, "row %zu: need_tls", i);
		CHECKM(p.check_chain == rows[i].check_chain, "row %zu: chain",
		    i);
		CHECKM(p.configured == rows[i].conf, "row %zu", i);
		CHECKM(strcmp(p.host, rows[i].host) == 0, "row %zu", i);
		CHECKM((p.pin != NULL) == (rows[i].pin != NULL &&
		    *rows[i].pin != '\0'), "row %zu: pin", i);
	}
	CHECK(tls_policy_resolve(&p, TLS_CHANNEL_IMAP, TLS_NONE, "h", 1, 1,
	    NULL, NULL, err, sizeof(err)) == -1);
	CHECK_STR(err, "[imap] tls = none contradicts imaps://, which is TLS "
	    "from the first byte");
}

UNIT_TEST(tls_policy_words)
{
	enum tls_level l;
	static const char *const names[] = { "auto", "none", "may",
		"encrypt", "verify" };

	for (size_t i = 0; i < 5; i++) {
		CHECK(tls_level_parse(names[i], &l) == 0);
		CHECK_STR(tls_level_name(l), names[i]);
	}
	/* the old starttls words are no levels */
	CHECK(tls_level_parse("try", &l) == -1);
	CHECK(tls_level_parse("require", &l) == -1);
	CHECK(tls_level_parse("no", &l) == -1);
	CHECK(tls_level_parse("", &l) == -1);
	CHECK(tls_level_parse("Verify", &l) == -1);
}

UNIT_TEST(tls_host_loopback)
{
	static const struct {
		const char *host;
		int want;
	} rows[] = {
		{ "127.0.0.1", 1 }, { "127.255.255.254", 1 }, { "::1", 1 },
		{ "::ffff:127.0.0.1", 1 }, { "localhost", 1 },
		{ "LOCALHOST", 1 }, { "localhost.", 1 },
		{ "128.0.0.1", 0 }, { "10.0.0.1", 0 }, { "::2", 0 },
		{ "::ffff:10.0.0.1", 0 }, { "localhost.example", 0 },
		{ "mylocalhost", 0 }, { "127.0.0.1.example", 0 }, { "", 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECKM(tls_host_loopback(rows[i].host) == rows[i].want,
		    "row %zu %s", i, rows[i].host);
}

UNIT_TEST(tls_url_split)
{
	static const struct {
		const char *url;
		int ok, implicit, user, pass;
		const char *host;
	} rows[] = {
		{ "smtp://127.0.0.1:25", 1, 0, 0, 0, "127.0.0.1" },
		{ "smtps://mail.example.net", 1, 1, 0, 0, "mail.example.net" },
		{ "SMTP://u:p@h:587/ehlo.example", 1, 0, 1, 1, "h" },
		{ "smtp://u@h", 1, 0, 1, 0, "h" },
		{ "imap://intake:se;cr#et@127.0.0.1:143/INBOX", 1, 0, 1, 1,
		    "127.0.0.1" },
		{ "imaps://u:p@w@[2001:db8::1]:993/X", 1, 1, 1, 1,
		    "2001:db8::1" },
		{ "imap://:p@h/", 1, 0, 0, 1, "h" },
		{ "http://h/", 0, 0, 0, 0, NULL },
		{ "smtp://", 0, 0, 0, 0, NULL },
		{ "smtp://u:p@/", 0, 0, 0, 0, NULL },
		{ "smtp://[::1", 0, 0, 0, 0, NULL },
	};
	struct tls_url u;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int r = tls_url_split(rows[i].url, &u);

		CHECKM((r == 0) == rows[i].ok, "row %zu", i);
		if (r != 0)
			continue;
		CHECKM(u.implicit == rows[i].implicit, "row %zu", i);
		CHECKM(u.has_user == rows[i].user, "row %zu", i);
		CHECKM(u.has_password == rows[i].pass, "row %zu", i);
		CHECKM(strcmp(u.host, rows[i].host) == 0, "row %zu: %s", i,
		    u.host);
	}
}

UNIT_TEST(tls_pin_syntax)
{
	static const struct {
		const char *pins;
		int valid;
	} rows[] = {
		{ PIN_A, 1 },
		{ PIN_A ";" PIN_B, 1 },
		{ "", 0 },
		{ "sha256//", 0 },
		{ "OiDiMMmcYTSsUbIgc3f1LX65TgT6Gcj4JuZU8OPGAJI=", 0 },
		{ "sha1//OiDiMMmcYTSsUbIgc3f1LX65TgT6Gcj4JuZU8OPGAJI=", 0 },
		/* 44 characters, but not 32 bytes' worth: the last one before
		 * '=' carries only 4 bits */
		{ "sha256//OiDiMMmcYTSsUbIgc3f1LX65TgT6Gcj4JuZU8OPGAJJ=", 0 },
		{ "sha256//OiDiMMmcYTSsUbIgc3f1LX65TgT6Gcj4JuZU8OPGAJI", 0 },
		{ "sha256//OiDiMMmcYTSsUbIgc3f1LX65TgT6Gcj4JuZU8OPGAJI==", 0 },
		{ "sha256//OiDiMMmcYTSsUbIgc3f1LX65TgT6Gcj4JuZU8OPG JI=", 0 },
		{ PIN_A ";", 0 },
		{ PIN_A "; " PIN_B, 0 },
		{ PIN_A ";" PIN_A ";" PIN_A ";" PIN_A ";" PIN_A ";" PIN_A ";"
		    PIN_A ";" PIN_A, 1 },
		{ PIN_A ";" PIN_A ";" PIN_A ";" PIN_A ";" PIN_A ";" PIN_A ";"
		    PIN_A ";" PIN_A ";" PIN_A, 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECKM(tls_pin_valid(rows[i].pins) == rows[i].valid, "row %zu",
		    i);
	CHECK(tls_pin_match(PIN_A ";" PIN_B, PIN_B));
	CHECK(tls_pin_match(PIN_A, PIN_A));
	CHECK(!tls_pin_match(PIN_A, PIN_B));
	CHECK(!tls_pin_match(PIN_A, ""));
	CHECK(!tls_pin_match(NULL, PIN_A));
	CHECK(!tls_pin_match(PIN_A ";" PIN_B, "sha256//"));
}

/* The configuration checks: url, password and level together. */
UNIT_TEST(tls_policy_config_checks)
{
	static const struct {
		const char *text;
		const char *err;     /* NULL: loads */
	} rows[] = {
		{ "[smtp]\nurl = smtp://127.0.0.1:25\n", NULL },
		{ "[smtp]\nurl = smtp://u:p@127.0.0.1\n", NULL },
		{ "[smtp]\nurl = smtp://u@127.0.0.1\npassword_file = pw\n",
		    NULL },
		{ "[smtp]\nurl = smtp://u@127.0.0.1\n", "t.conf: [smtp] url has "
		    "a user but no password (smtp://USER:PASSWORD@host, or "
		    "password_file)" },
		{ "[smtp]\nurl = smtp://127.0.0.1\npassword_file = pw\n",
		    "t.conf: [smtp] password_file needs the user name in the url "
		    "(smtp://USER@host)" },
		{ "[smtp]\nurl = smtp://u:p@127.0.0.1\npassword_file = pw\n",
		    "t.conf: [smtp] password_file is set and the url carries a "
		    "password too: keep one" },
		{ "[smtp]\nurl = smtps://h\ntls = none\n", "t.conf: [smtp] tls = "
		    "none contradicts smtps://, which is TLS from the first "
		    "byte" },
		{ "[smtp]\nurl = smtp://h\ntls = none\ntls_pin = " PIN_A "\n",
		    "t.conf: [smtp] tls = none contradicts tls_pin, which needs "
		    "TLS" },
		/* without a url nothing is checked */
		{ "[smtp]\ntls = none\ntls_pin = " PIN_A "\n", NULL },
		{ "[imap]\nurl = imap://u:p@127.0.0.1/INBOX\n", NULL },
		{ "[imap]\nurl = imap://u@127.0.0.1/INBOX\npassword_file = pw\n",
		    NULL },
		{ "[imap]\nurl = imap://u@127.0.0.1/INBOX\n", "t.conf: [imap] "
		    "url needs a user and a password (imap://USER:PASSWORD@host, "
		    "or imap://USER@host with password_file)" },
		{ "[imap]\nurl = imaps://u:p@h/\ntls = none\n", "t.conf: [imap] "
		    "tls = none contradicts imaps://, which is TLS from the first "
		    "byte" },
	};
	char err[512];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct config *c = config_parse(rows[i].text,
		    strlen(rows[i].text), "t.conf", "/b", err, sizeof(err));

		if (rows[i].err == NULL)
			CHECKM(c != NULL, "row %zu: %.300s", i, err);
		else {
			CHECKM(c == NULL, "row %zu", i);
			CHECKM(c != NULL || strcmp(err, rows[i].err) == 0,
			    "row %zu: got \"%.300s\"", i, err);
		}
		config_free(c);
	}
}
