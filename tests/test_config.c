/*
 * test_config: the INI configuration of DESIGN.md.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "parsers/input_limits.h"
#include "unit.h"

#define NAME_P001 "\xe7\xa4\xba\xe4\xbe\x8b\xe7\xbd\x91\xe7\xbb\x9c" \
    "\xe7\xa7\x91\xe6\x8a\x80\xe6\x9c\x89\xe9\x99\x90\xe5\x85\xac\xe5\x8f\xb8"

static struct config *
parse(const char *text, const char *base, char *err, size_t errsize)
{
	err[0] = '\0';
	return config_parse(text, strlen(text), "t.conf", base, err, errsize);
}

static char *
cwd_join(const char *rel)
{
	char *cwd = getcwd(NULL, 0), *s;

	s = xasprintf("%s/%s", cwd, rel);
	free(cwd);
	return s;
}

static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Every field compared; returns the name of the first difference. */
static const char *
config_diff(const struct config *a, const struct config *b)
{
	size_t i, j;

#define S(f) if (!str_eq(a->f, b->f)) return #f
#define N(f) if (a->f != b->f) return #f
	S(spool_dir); S(state_dir); N(workers); N(settle_ms);
	N(upload_timeout); S(metrics_file); N(min_free);
	if (memcmp(&a->limits, &b->limits, sizeof(a->limits)) != 0)
		return "limits";
	S(imap_url); S(imap_address); S(imap_provider); S(imap_done_folder);
	N(imap_poll_interval); S(imap_ca_file); N(imap_reply_cap);
	N(imap_inbox_max); N(imap_sender_max); N(imap_sender_window);
	N(imap_tls); S(imap_tls_pin); S(imap_password_file);
	S(smtp_url); S(smtp_from); S(smtp_ca_file);
	N(smtp_tls); S(smtp_tls_pin); S(smtp_password_file);
	N(smtp_timeout); N(smtp_retry_min); N(smtp_retry_max);
	N(smtp_max_age); N(smtp_recipient_max);
	S(web_listen); S(web_base_url); S(web_tls_cert); S(web_tls_key);
	S(web_trusted_proxy); N(web_session_idle); N(web_request_max);
	N(web_login_fail_max); N(web_login_fail_window);
	N(web_connections_max); N(web_threads); N(web_cache_max);
	N(nbureaus); N(nproviders);
	for (i = 0; i < a->nbureaus; i++) {
		S(bureaus[i].province); S(bureaus[i].record_to);
		N(bureaus[i].naddresses);
		for (j = 0; j < a->bureaus[i].naddresses; j++)
			S(bureaus[i].addresses[j]);
	}
	for (i = 0; i < a->nproviders; i++) {
		S(providers[i].code); S(providers[i].name);
		S(providers[i].email); N(providers[i].nip_ranges);
		if (memcmp(a->providers[i].ip_ranges, b->providers[i].ip_ranges,
		    a->providers[i].nip_ranges *
		    sizeof(*a->providers[i].ip_ranges)) != 0)
			return "ip_ranges";
	}
#undef S
#undef N
	return NULL;
}

static void
check_defaults(const struct config *c, int examples)
{
	struct input_limits lim;
	const struct config_provider *pr;
	const struct config_bureau *b;
	const struct ip_range *r;
	char *spool = cwd_join("spool"), *var = cwd_join("var");

	CHECK_STR(c->spool_dir, spool);
	CHECK_STR(c->state_dir, var);
	CHECK_INT(c->workers, 0);
	CHECK_INT(c->settle_ms, 2000);
	CHECK_INT(c->upload_timeout, 3600);
	CHECK(c->metrics_file == NULL);
	CHECK_INT(c->min_free, 1 << 30);
	input_limits_defaults(&lim);
	CHECK(memcmp(&c->limits, &lim, sizeof(lim)) == 0);
	CHECK_INT(c->limits.archive_max_bytes, 64 << 20);
	CHECK_INT(c->limits.archive_max_entries, 1000);
	CHECK_INT(c->limits.archive_max_unpacked, 256 << 20);
	CHECK_INT(c->limits.entry_max_bytes, 16 << 20);
	CHECK_INT(c->limits.archive_max_ratio, 100);
	CHECK_INT(c->limits.path_max, 255);
	CHECK_INT(c->limits.xml_max_bytes, 1 << 20);
	CHECK_INT(c->limits.photo_max_bytes, 5 << 20);
	CHECK_INT(c->limits.mail_max_bytes, 64 << 20);
	CHECK_STR(c->imap_url, "");
	CHECK_STR(c->imap_address, "");
	CHECK_STR(c->imap_provider, "P001");
	CHECK_STR(c->imap_done_folder, "Processed");
	CHECK_INT(c->imap_poll_interval, 300);
	CHECK(c->imap_ca_file == NULL);
	CHECK_INT(c->imap_reply_cap, 20);
	CHECK_INT(c->imap_inbox_max, 1000);
	CHECK_INT(c->imap_sender_max, 30);
	CHECK_INT(c->imap_sender_window, 3600);
	CHECK_INT(c->imap_tls, TLS_AUTO);
	CHECK_STR(c->imap_tls_pin, "");
	CHECK(c->imap_password_file == NULL);
	CHECK_STR(c->smtp_url, "");
	CHECK_STR(c->smtp_from, "beian@provider.example");
	CHECK_INT(c->smtp_tls, TLS_AUTO);
	CHECK_STR(c->smtp_tls_pin, "");
	CHECK(c->smtp_password_file == NULL);
	CHECK(c->smtp_ca_file == NULL);
	CHECK_INT(c->smtp_timeout, 600);
	CHECK_INT(c->smtp_retry_min, 300);
	CHECK_INT(c->smtp_retry_max, 3600);
	CHECK_INT(c->smtp_max_age, 5 * 86400);
	CHECK_INT(c->smtp_recipient_max, 20);

	if (!examples) {
		/* A file replaces the examples as a whole: none left. */
		CHECK_INT(c->nbureaus, 0);
		CHECK_INT(c->nproviders, 0);
		free(spool);
		free(var);
		return;
	}
	CHECK_INT(c->nbureaus, 1);
	b = config_bureau_find(c, "11");
	CHECK(b != NULL && b == &c->bureaus[0]);
	if (b != NULL) {
		CHECK_INT(b->naddresses, 1);
		if (b->naddresses == 1)
			CHECK_STR(b->addresses[0], "review@bureau.example");
		CHECK_STR(b->record_to, "review@bureau.example");
	}
	CHECK(config_bureau_find(c, "44") == NULL);

	CHECK_INT(c->nproviders, 1);
	pr = config_provider_find(c, "P001");
	CHECK(pr != NULL && pr == &c->providers[0]);
	CHECK(config_provider_find(c, "p001") == NULL);
	if (pr != NULL) {
		CHECK_STR(pr->code, "P001");
		CHECK_STR(pr->name, NAME_P001);
		CHECK_STR(pr->email, "filing@p001.example");
		CHECK_INT(pr->nip_ranges, 2);
		if (pr->nip_ranges == 2) {
			r = &pr->ip_ranges[0];
			CHECK_INT(r->lo.family, 4);
			CHECK(memcmp(r->lo.a, "\xcb\x00\x71\x00", 4) == 0);
			CHECK(memcmp(r->hi.a, "\xcb\x00\x71\xff", 4) == 0);
			r = &pr->ip_ranges[1];
			CHECK_INT(r->lo.family, 6);
			CHECK(memcmp(r->lo.a, "\x20\x01\x0d\xb8\0\0", 6) == 0);
			CHECK(memcmp(r->hi.a, "\x20\x01\x0d\xb8\xff\xff", 6) == 0);
		}
	}
	free(spool);
	free(var);
}

UNIT_TEST(config_defaults)
{
	char err[256];
	struct config *c;

	c = config_parse(NULL, 0, NULL, NULL, err, sizeof(err));
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK(c->path == NULL);
		check_defaults(c, 1);
	}
	config_free(c);

	/* An empty file and one of comments only are the defaults too, but
	 * for the examples: a file serves no provider and no province it
	 * does not name. */
	c = parse("", NULL, err, sizeof(err));
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_STR(c->path, "t.conf");
		check_defaults(c, 0);
	}
	config_free(c);
	c = parse("; nothing\n# here\n\n   ; indented\n", "/x", err,
	    sizeof(err));
	CHECK(c != NULL);
	if (c != NULL)
		check_defaults(c, 0);
	config_free(c);
	config_free(NULL);
}

static const char full_text[] =
    "\xef\xbb\xbf; a full configuration\r\n"
    "[daemon]\r\n"
    "spool_dir      = /srv/spool\n"
    "state_dir      = state     ; relative\n"
    "workers        = 4\n"
    "settle_ms      = 250\n"
    "upload_timeout = 90m\n"
    "metrics_file   = m/beiand.prom\n"
    "min_free       = 0\n"
    "\n"
    "[limits]\n"
    "archive_max_bytes    = 32M\n"
    "archive_max_entries  = 50\n"
    "archive_max_unpacked = 1G\n"
    "entry_max_bytes      = 512k\n"
    "archive_max_ratio    = 20\n"
    "path_max             = 128\n"
    "xml_max_bytes        = 2m\n"
    "photo_max_bytes      = 3M\n"
    "mail_max_bytes       = 10M\n"
    "[imap]\n"
    "url           = imaps://u:p;w#x@mail.example:993/INBOX\n"
    "address       = intake@isp.example\n"
    "provider      = ISP_2\n"
    "done_folder   = Done/Filed\n"
    "poll_interval = 30s\n"
    "tls           = verify\n"
    "ca_file       = ./tls/ca.pem\n"
    "reply_cap     = 0\n"
    "inbox_max     = 50\n"
    "sender_max    = 3\n"
    "sender_window = 10m\n"
    "[smtp]\n"
    "url       = smtp://beian@127.0.0.1:2525\n"
    "from      = beian@isp.example\n"
    "tls       = encrypt\n"
    "tls_pin   = sha256//OiDiMMmcYTSsUbIgc3f1LX65TgT6Gcj4JuZU8OPGAJI=;"
    "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    "password_file = secrets/smtp.pw\n"
    "ca_file   = /etc/ssl/ca.pem\n"
    "timeout   = 45\n"
    "retry_min = 1m\n"
    "retry_max = 2h\n"
    "max_age   = 3d\n"
    "recipient_max = 0\n"
    "[bureau.44]   ; Guangdong\n"
    "addresses = a@gd.example, b@gd.example\n"
    "[bureau.51]\n"
    "addresses = r@sc.example\n"
    "record_to = records@sc.example\n"
    "[provider.ISP_2]\n"
    "name      = \xe4\xbe\x8b\xe5\xad\x90\xe4\xba\x91 # \xe4\xba\x91\n"
    "email     = ops@isp.example\n"
    "ip_ranges = 198.51.100.0/24,192.0.2.7 , 2001:db8:1::/48\n"
    "[ provider.a-b ]\n"
    "ip_ranges =\n";

UNIT_TEST(config_full_file)
{
	char err[256];
	struct config *c;
	const struct config_bureau *b;
	const struct config_provider *pr;

	c = parse(full_text, "/base", err, sizeof(err));
	CHECKM(c != NULL, "%s", err);
	if (c == NULL)
		return;
	CHECK_STR(c->spool_dir, "/srv/spool");
	CHECK_STR(c->state_dir, "/base/state");
	CHECK_INT(c->workers, 4);
	CHECK_INT(c->settle_ms, 250);
	CHECK_INT(c->upload_timeout, 90 * 60);
	CHECK_STR(c->metrics_file, "/base/m/beiand.prom");
	CHECK_INT(c->min_free, 0);
	CHECK_INT(c->limits.archive_max_bytes, 32 << 20);
	CHECK_INT(c->limits.archive_max_entries, 50);
	CHECK_INT(c->limits.archive_max_unpacked, 1ULL << 30);
	CHECK_INT(c->limits.entry_max_bytes, 512 << 10);
	CHECK_INT(c->limits.archive_max_ratio, 20);
	CHECK_INT(c->limits.path_max, 128);
	CHECK_INT(c->limits.xml_max_bytes, 2 << 20);
	CHECK_INT(c->limits.photo_max_bytes, 3 << 20);
	CHECK_INT(c->limits.mail_max_bytes, 10 << 20);
	/* ';' and '#' not after white space are part of the value */
	CHECK_STR(c->imap_url, "imaps://u:p;w#x@mail.example:993/INBOX");
	CHECK_STR(c->imap_address, "intake@isp.example");
	CHECK_STR(c->imap_provider, "ISP_2");
	CHECK_STR(c->imap_done_folder, "Done/Filed");
	CHECK_INT(c->imap_poll_interval, 30);
	CHECK_STR(c->imap_ca_file, "/base/tls/ca.pem");
	CHECK_INT(c->imap_reply_cap, 0);
	CHECK_INT(c->imap_inbox_max, 50);
	CHECK_INT(c->imap_sender_max, 3);
	CHECK_INT(c->imap_sender_window, 600);
	CHECK_INT(c->imap_tls, TLS_VERIFY);
	CHECK(c->imap_password_file == NULL);
	CHECK_STR(c->smtp_url, "smtp://beian@127.0.0.1:2525");
	CHECK_STR(c->smtp_from, "beian@isp.example");
	CHECK_INT(c->smtp_tls, TLS_ENCRYPT);
	CHECK_STR(c->smtp_tls_pin,
	    "sha256//OiDiMMmcYTSsUbIgc3f1LX65TgT6Gcj4JuZU8OPGAJI=;"
	    "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	/* a path, made absolute; never opened by the reader */
	CHECK_STR(c->smtp_password_file, "/base/secrets/smtp.pw");
	CHECK_STR(c->smtp_ca_file, "/etc/ssl/ca.pem");
	CHECK_INT(c->smtp_timeout, 45);
	CHECK_INT(c->smtp_retry_min, 60);
	CHECK_INT(c->smtp_retry_max, 7200);
	CHECK_INT(c->smtp_max_age, 3 * 86400);
	CHECK_INT(c->smtp_recipient_max, 0);

	CHECK_INT(c->nbureaus, 2);
	CHECK(config_bureau_find(c, "11") == NULL);
	if (c->nbureaus == 2) {
		b = &c->bureaus[0];
		CHECK_STR(b->province, "44");
		CHECK_INT(b->naddresses, 2);
		if (b->naddresses == 2) {
			CHECK_STR(b->addresses[0], "a@gd.example");
			CHECK_STR(b->addresses[1], "b@gd.example");
		}
		CHECK_STR(b->record_to, "a@gd.example");
		b = &c->bureaus[1];
		CHECK(config_bureau_find(c, "51") == b);
		CHECK_STR(b->record_to, "records@sc.example");
	}

	CHECK_INT(c->nproviders, 2);
	CHECK(config_provider_find(c, "P001") == NULL);
	pr = config_provider_find(c, "ISP_2");
	CHECK(pr != NULL && pr == &c->providers[0]);
	if (pr != NULL) {
		CHECK_STR(pr->name, "\xe4\xbe\x8b\xe5\xad\x90\xe4\xba\x91");
		CHECK_STR(pr->email, "ops@isp.example");
		CHECK_INT(pr->nip_ranges, 3);
		if (pr->nip_ranges == 3) {
			CHECK(memcmp(pr->ip_ranges[1].lo.a, "\xc0\x00\x02\x07",
			    4) == 0);
			CHECK(memcmp(pr->ip_ranges[1].hi.a, "\xc0\x00\x02\x07",
			    4) == 0);
			CHECK_INT(pr->ip_ranges[2].lo.family, 6);
		}
	}
	pr = config_provider_find(c, "a-b");
	CHECK(pr != NULL);
	if (pr != NULL) {
		CHECK_INT(pr->nip_ranges, 0);
		CHECK_STR(pr->name, "");
	}
	config_free(c);
}

UNIT_TEST(config_errors)
{
	static const struct {
		const char *text;
		const char *err;
	} t[] = {
		{ "[daemon]\n[mail]\n", "t.conf:2: unknown section [mail]" },
		{ "[bureau.99]\n", "t.conf:1: unknown section [bureau.99]: "
		    "\"99\" is not a province code (FORMAT.md 4)" },
		{ "[bureau.110]\n", "t.conf:1: unknown section [bureau.110]: "
		    "\"110\" is not a province code (FORMAT.md 4)" },
		{ "\n[provider.a.b]\n", "t.conf:2: unknown section "
		    "[provider.a.b]: a provider code is 1-32 of A-Z a-z 0-9 "
		    "_ -, not starting with -" },
		{ "[provider.-x]\n", "t.conf:1: unknown section [provider.-x]: "
		    "a provider code is 1-32 of A-Z a-z 0-9 _ -, not starting "
		    "with -" },
		{ "[provider.]\n", "t.conf:1: unknown section [provider.]: a "
		    "provider code is 1-32 of A-Z a-z 0-9 _ -, not starting "
		    "with -" },
		{ "[provider.abcdefghijabcdefghijabcdefghijabc]\n",
		    "t.conf:1: unknown section "
		    "[provider.abcdefghijabcdefghijabcdefghijabc]: a provider "
		    "code is 1-32 of A-Z a-z 0-9 _ -, not starting with -" },
		{ "[daemon]\nspool = x\n",
		    "t.conf:2: unknown key \"spool\" in [daemon]" },
		{ "[smtp]\nprovider = P001\n",
		    "t.conf:2: unknown key \"provider\" in [smtp]" },
		{ "[provider.P1]\naddresses = a@b\n",
		    "t.conf:2: unknown key \"addresses\" in [provider.P1]" },
		{ "[daemon]\nworkers = 2\n; c\nworkers = 3\n",
		    "t.conf:4: duplicate key \"workers\" in [daemon]" },
		{ "[bureau.11]\nrecord_to=\nrecord_to = x@y\n",
		    "t.conf:3: duplicate key \"record_to\" in [bureau.11]" },
		{ "[daemon]\n[limits]\n[daemon]\n",
		    "t.conf:3: duplicate section [daemon]" },
		{ "[provider.P1]\n[provider.P2]\n[provider.P1]\n",
		    "t.conf:3: duplicate section [provider.P1]" },
		{ "[bureau.11]\n[bureau.11]\n",
		    "t.conf:2: duplicate section [bureau.11]" },
		{ "workers = 1\n[daemon]\n",
		    "t.conf:1: key \"workers\" before any section" },
		{ "[daemon]\nworkers\n", "t.conf:2: malformed line" },
		{ "[daemon\n", "t.conf:1: malformed line" },
		{ "[daemon]\n = 3\n", "t.conf:2: malformed line" },
		{ "[]\n", "t.conf:1: malformed section header" },
		{ "[daemon]\nwork ers = 1\n", "t.conf:2: malformed line" },
		{ "[daemon]\nworkers = -1\n", "t.conf:2: bad value for workers: "
		    "\"-1\" (expected a whole number from 0 to 1024)" },
		{ "[daemon]\nworkers = 1025\n", "t.conf:2: bad value for "
		    "workers: \"1025\" (expected a whole number from 0 to "
		    "1024)" },
		{ "[daemon]\nworkers =\n", "t.conf:2: bad value for workers: "
		    "\"\" (expected a whole number from 0 to 1024)" },
		{ "[daemon]\nsettle_ms = 2s\n", "t.conf:2: bad value for "
		    "settle_ms: \"2s\" (expected a whole number of "
		    "milliseconds)" },
		{ "[daemon]\nupload_timeout = 1w\n", "t.conf:2: bad value for "
		    "upload_timeout: \"1w\" (expected a number with an "
		    "optional s, m, h or d suffix, at most 36500d)" },
		{ "[daemon]\nupload_timeout = 0\n", "t.conf:2: bad value for "
		    "upload_timeout: \"0\" (must be at least 1)" },
		{ "[imap]\ninbox_max = 0\n", "t.conf:2: bad value for "
		    "inbox_max: \"0\" (must be at least 1)" },
		{ "[imap]\nsender_max = 0\n", "t.conf:2: bad value for "
		    "sender_max: \"0\" (must be at least 1)" },
		{ "[daemon]\nmin_free = 1T\n", "t.conf:2: bad value for "
		    "min_free: \"1T\" (expected a number with an optional K, "
		    "M or G suffix)" },
		{ "[daemon]\nspool_dir =\n", "t.conf:2: bad value for "
		    "spool_dir: \"\" (a path is needed)" },
		{ "[limits]\nxml_max_bytes = 1T\n", "t.conf:2: bad value for "
		    "xml_max_bytes: \"1T\" (expected a number with an optional "
		    "K, M or G suffix)" },
		{ "[limits]\nxml_max_bytes = 99999999999999999999\n",
		    "t.conf:2: bad value for xml_max_bytes: "
		    "\"99999999999999999999\" (expected a number with an "
		    "optional K, M or G suffix)" },
		{ "[limits]\nentry_max_bytes = 0\n", "t.conf:2: bad value for "
		    "entry_max_bytes: \"0\" (must be at least 1)" },
		{ "[limits]\narchive_max_entries = 1k\n", "t.conf:2: bad value "
		    "for archive_max_entries: \"1k\" (expected a whole "
		    "number)" },
		/* the old key is refused, whatever its value: no silent
		 * mapping (its try verified certificates) */
		{ "[smtp]\nstarttls = try\n", "t.conf:2: starttls is gone: "
		    "set tls = none, may, encrypt or verify instead (see "
		    "beiand.conf(5), \"TLS\")" },
		{ "[smtp]\nstarttls = require\n", "t.conf:2: starttls is gone: "
		    "set tls = none, may, encrypt or verify instead (see "
		    "beiand.conf(5), \"TLS\")" },
		{ "[smtp]\ntls = try\n", "t.conf:2: bad value for tls: "
		    "\"try\" (expected auto, none, may, encrypt or verify)" },
		{ "[imap]\ntls = yes\n", "t.conf:2: bad value for tls: "
		    "\"yes\" (expected auto, none, may, encrypt or verify)" },
		{ "[smtp]\ntls_pin = sha256//abc=\n", "t.conf:2: bad value "
		    "for tls_pin: \"sha256//abc=\" (expected sha256//BASE64 of "
		    "a public key, as beianctl probe prints it; several "
		    "separated by ;)" },
		{ "[imap]\ntls_pin = OiDiMMmcYTSsUbIgc3f1LX65TgT6Gcj4JuZU8OPGAJI=\n",
		    "t.conf:2: bad value for tls_pin: "
		    "\"OiDiMMmcYTSsUbIgc3f1LX65TgT6Gcj4JuZU8OPGAJI=\" (expected "
		    "sha256//BASE64 of a public key, as beianctl probe prints "
		    "it; several separated by ;)" },
		{ "[smtp]\nurl = http://u:secret@h/\n", "t.conf:2: bad value "
		    "for url: expected smtp://... or smtps://..." },
		{ "[imap]\nurl = smtp://h/\n", "t.conf:2: bad value for url: "
		    "expected imap://... or imaps://..." },
		{ "[smtp]\nfrom =\n", "t.conf:2: bad value for from: \"\" (an "
		    "address is needed)" },
		{ "[smtp]\nfrom = Beian <b@x>\n", "t.conf:2: bad value for "
		    "from: \"Beian <b@x>\" (expected one address like "
		    "name@example.org)" },
		{ "[bureau.11]\naddresses = a@b,,c@d\n", "t.conf:2: bad value "
		    "for addresses: \"a@b,,c@d\" (expected comma-separated "
		    "addresses)" },
		{ "[bureau.11]\naddresses = a@b, nobody\n", "t.conf:2: bad "
		    "value for addresses: \"a@b, nobody\" (expected "
		    "comma-separated addresses)" },
		{ "[provider.P1]\nip_ranges = 10.0.0.0/8, 10.0.0.0/33\n",
		    "t.conf:2: bad value for ip_ranges: \"10.0.0.0/33\" is not "
		    "a CIDR range" },
		{ "[provider.P1]\nip_ranges = 10.0.0.0/8,\n", "t.conf:2: bad "
		    "value for ip_ranges: \"10.0.0.0/8,\" (expected "
		    "comma-separated CIDR ranges)" },
		{ "[provider.P1]\nname = \xff\xfe\n",
		    "t.conf:2: not valid UTF-8" },
		{ "[provider.P1]\nname = a\x01z\n",
		    "t.conf:2: control character in line" },
		{ "[imap]\nurl = imap://u:p@h/\nprovider = P009\n",
		    "t.conf: [imap] provider \"P009\" is not a configured "
		    "provider" },
		{ "[imap]\nurl = imap://u:p@h/\n[provider.P002]\n",
		    "t.conf: [imap] provider \"P001\" is not a configured "
		    "provider" },
		{ "[smtp]\nretry_min = 2h\n", "t.conf: [smtp] retry_min "
		    "(7200s) exceeds retry_max (3600s)" },
	};
	char err[512];
	struct config *c;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		strlcpy(err, "untouched", sizeof(err));
		c = config_parse(t[i].text, strlen(t[i].text), "t.conf", "/b",
		    err, sizeof(err));
		CHECKM(c == NULL, "row %zu", i);
		CHECKM(strcmp(err, t[i].err) == 0, "row %zu: got \"%.300s\"", i,
		    err);
		config_free(c);
	}

	/* A NUL byte inside the text */
	c = config_parse("[daemon]\nworkers = 1\0\n", 22, "t.conf", "/b", err,
	    sizeof(err));
	CHECK(c == NULL);
	CHECK_STR(err, "t.conf:2: NUL byte in line");
	config_free(c);

	/* The provider check is made only with an IMAP URL. */
	c = parse("[imap]\nprovider = P009\n", "/b", err, sizeof(err));
	CHECKM(c != NULL, "%s", err);
	config_free(c);
	c = parse("[imap]\nurl = imap://u:p@h/\nprovider = P2\n[provider.P2]\n",
	    "/b", err, sizeof(err));
	CHECKM(c != NULL, "%s", err);
	config_free(c);
}

UNIT_TEST(config_suffixes)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} sizes[] = {
		{ "0", 0, 0 }, { "1", 0, 1 }, { "1K", 0, 1024 },
		{ "1k", 0, 1024 }, { "3M", 0, 3 << 20 }, { "3m", 0, 3 << 20 },
		{ "2G", 0, 2ULL << 30 }, { "2g", 0, 2ULL << 30 },
		{ "8589934591G", 0, 8589934591ULL << 30 },
		{ "8589934592G", -1, 0 },
		{ "9223372036854775807", 0, 9223372036854775807ULL },
		{ "9223372036854775808", -1, 0 },
		{ "18446744073709551616", -1, 0 },
		{ "", -1, 0 }, { "K", -1, 0 }, { "-1", -1, 0 }, { "+1", -1, 0 },
		{ "1 K", -1, 0 }, { " 1", -1, 0 }, { "1KB", -1, 0 },
		{ "1T", -1, 0 }, { "1.5M", -1, 0 }, { "0x10", -1, 0 },
	}, durations[] = {
		{ "0", 0, 0 }, { "45", 0, 45 }, { "45s", 0, 45 },
		{ "5m", 0, 300 }, { "1h", 0, 3600 }, { "5d", 0, 432000 },
		{ "36500d", 0, 36500ULL * 86400 },
		{ "36501d", -1, 0 }, { "3153600000", 0, 3153600000ULL },
		{ "3153600001", -1, 0 }, { "876000h", 0, 876000ULL * 3600 },
		{ "876001h", -1, 0 },
		{ "", -1, 0 }, { "s", -1, 0 }, { "1M", -1, 0 }, { "1H", -1, 0 },
		{ "1w", -1, 0 }, { "-5m", -1, 0 }, { "1ms", -1, 0 },
		{ "1.5h", -1, 0 }, { "99999999999999999999s", -1, 0 },
	};
	uint64_t v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		v = 12345;
		rc = config_parse_size(sizes[i].s, &v);
		CHECKM(rc == sizes[i].rc, "size \"%s\"", sizes[i].s);
		CHECKM(v == (rc == 0 ? sizes[i].v : 12345), "size \"%s\"",
		    sizes[i].s);
	}
	for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		v = 12345;
		rc = config_parse_duration(durations[i].s, &v);
		CHECKM(rc == durations[i].rc, "duration \"%s\"",
		    durations[i].s);
		CHECKM(v == (rc == 0 ? durations[i].v : 12345),
		    "duration \"%s\"", durations[i].s);
	}
}

UNIT_TEST(config_replace_examples)
{
	char err[256];
	struct config *c;

	/* Providers from the file, and no province: the example bureau
	 * is not served by a file that does not name it. */
	c = parse("[provider.P002]\nname = x\n[provider.P003]\n", "/b", err,
	    sizeof(err));
	CHECKM(c != NULL, "%s", err);
	if (c != NULL) {
		CHECK_INT(c->nproviders, 2);
		CHECK(config_provider_find(c, "P001") == NULL);
		CHECK(config_provider_find(c, "P002") != NULL);
		CHECK(config_provider_find(c, "P003") != NULL);
		CHECK_INT(c->nbureaus, 0);
		CHECK(config_bureau_find(c, "11") == NULL);
	}
	config_free(c);

	/* Bureaus from the file, and no provider (the packaged file's
	 * shape: a province, and providers added later). */
	c = parse("[bureau.44]\naddresses = x@y\n", "/b", err, sizeof(err));
	CHECKM(c != NULL, "%s", err);
	if (c != NULL) {
		CHECK_INT(c->nbureaus, 1);
		CHECK(config_bureau_find(c, "11") == NULL);
		CHECK(config_bureau_find(c, "44") != NULL);
		CHECK_INT(c->nproviders, 0);
		CHECK(config_provider_find(c, "P001") == NULL);
	}
	config_free(c);

	/* Naming the example section itself replaces it as a whole. */
	c = parse("[provider.P001]\nemail = new@p.example\n"
	    "[bureau.11]\n", "/b", err, sizeof(err));
	CHECKM(c != NULL, "%s", err);
	if (c != NULL && c->nproviders == 1 && c->nbureaus == 1) {
		CHECK_STR(c->providers[0].email, "new@p.example");
		CHECK_STR(c->providers[0].name, "");
		CHECK_INT(c->providers[0].nip_ranges, 0);
		CHECK_INT(c->bureaus[0].naddresses, 0);
		CHECK_STR(c->bureaus[0].record_to, "");
	} else
		CHECK(0);
	config_free(c);
}

UNIT_TEST(config_relative_paths)
{
	static const struct {
		const char *value, *base, *want;
	} t[] = {
		{ "spool", "/etc/beiand", "/etc/beiand/spool" },
		{ "./spool", "/etc/beiand", "/etc/beiand/spool" },
		{ ".//a/b", "/etc/beiand/", "/etc/beiand/a/b" },
		{ ".", "/etc/beiand", "/etc/beiand" },
		{ "/abs/x", "/etc/beiand", "/abs/x" },
		{ "../x", "/etc/beiand", "/etc/beiand/../x" },
		{ "s", "/", "/s" },
	};
	char err[256], text[256];
	struct config *c;
	char *want;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(text, sizeof(text), "[daemon]\nspool_dir = %s\n"
		    "[smtp]\nca_file = %s\n", t[i].value, t[i].value);
		c = parse(text, t[i].base, err, sizeof(err));
		CHECKM(c != NULL, "row %zu: %s", i, err);
		if (c == NULL)
			continue;
		CHECKM(strcmp(c->spool_dir, t[i].want) == 0, "row %zu: %s", i,
		    c->spool_dir);
		CHECKM(strcmp(c->smtp_ca_file, t[i].want) == 0, "row %zu", i);
		/* keys the file leaves out: against the current folder */
		want = cwd_join("var");
		CHECKM(strcmp(c->state_dir, want) == 0, "row %zu", i);
		free(want);
		config_free(c);
	}

	/* base_dir NULL: the folder of the file */
	c = config_parse("[daemon]\nstate_dir = v\n", 22,
	    "/etc/beiand/beiand.conf", NULL, err, sizeof(err));
	CHECKM(c != NULL, "%s", err);
	if (c != NULL)
		CHECK_STR(c->state_dir, "/etc/beiand/v");
	config_free(c);
	c = config_parse("[daemon]\nstate_dir = v\n", 22, "conf/b.conf",
	    NULL, err, sizeof(err));
	CHECKM(c != NULL, "%s", err);
	if (c != NULL) {
		want = cwd_join("conf/v");
		CHECK_STR(c->state_dir, want);
		free(want);
	}
	config_free(c);
	c = config_parse("[daemon]\nstate_dir = v\n", 22, "b.conf", NULL,
	    err, sizeof(err));
	CHECKM(c != NULL, "%s", err);
	if (c != NULL) {
		want = cwd_join("v");
		CHECK_STR(c->state_dir, want);
		free(want);
	}
	config_free(c);

	/* An empty metrics_file is none. */
	c = parse("[daemon]\nmetrics_file = m.prom\n", "/b", err, sizeof(err));
	CHECK(c != NULL && c->metrics_file != NULL &&
	    strcmp(c->metrics_file, "/b/m.prom") == 0);
	config_free(c);
	c = parse("[daemon]\nmetrics_file =  ; none\n", "/b", err,
	    sizeof(err));
	CHECK(c != NULL && c->metrics_file == NULL);
	config_free(c);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECKM(f != NULL, "%s: %s", path, strerror(errno));
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

UNIT_TEST(config_lookup_order)
{
	char tmpl[] = "/tmp/test_config.XXXXXX", err[512], want[512];
	char *dir, *a, *b, *d, *x;
	const char *search[3];
	struct config *c;

	if ((dir = mkdtemp(tmpl)) == NULL) {
		CHECKM(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	a = xasprintf("%s/a.conf", dir);
	b = xasprintf("%s/b.conf", dir);
	d = xasprintf("%s/sub", dir);
	x = xasprintf("%s/x.conf", dir);
	search[0] = a;
	search[1] = b;
	search[2] = d;

	/* Nothing exists: the built-in defaults. */
	c = config_load_from(NULL, search, 2, err, sizeof(err));
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK(c->path == NULL);
		check_defaults(c, 1);
	}
	config_free(c);

	/* Only the second exists: it is read, paths against its folder. */
	write_file(b, "[daemon]\nworkers = 2\nspool_dir = sp\n");
	c = config_load_from(NULL, search, 2, err, sizeof(err));
	CHECKM(c != NULL, "%s", err);
	if (c != NULL) {
		CHECK_STR(c->path, b);
		CHECK_INT(c->workers, 2);
		snprintf(want, sizeof(want), "%s/sp", dir);
		CHECK_STR(c->spool_dir, want);
	}
	config_free(c);

	/* The first wins once it exists. */
	write_file(a, "[daemon]\nworkers = 1\n");
	c = config_load_from(NULL, search, 2, err, sizeof(err));
	CHECKM(c != NULL, "%s", err);
	if (c != NULL) {
		CHECK_STR(c->path, a);
		CHECK_INT(c->workers, 1);
	}
	config_free(c);

	/* -c wins over the search list. */
	write_file(x, "[daemon]\nworkers = 3\n");
	c = config_load_from(x, search, 2, err, sizeof(err));
	CHECKM(c != NULL, "%s", err);
	if (c != NULL)
		CHECK_INT(c->workers, 3);
	config_free(c);

	/* -c must exist, even when the search list would find a file. */
	unlink(x);
	c = config_load_from(x, search, 2, err, sizeof(err));
	CHECK(c == NULL);
	snprintf(want, sizeof(want), "%s: No such file or directory", x);
	CHECK_STR(err, want);
	config_free(c);

	/* An error in the file found is reported, not skipped. */
	write_file(a, "[daemon]\nworkers = many\n");
	c = config_load_from(NULL, search, 2, err, sizeof(err));
	CHECK(c == NULL);
	snprintf(want, sizeof(want), "%s:2: bad value for workers: \"many\" "
	    "(expected a whole number from 0 to 1024)", a);
	CHECK_STR(err, want);
	config_free(c);

	/* Something there that is not a file is an error too. */
	unlink(a);
	unlink(b);
	CHECK(mkdir(d, 0700) == 0);
	c = config_load_from(NULL, search, 3, err, sizeof(err));
	CHECK(c == NULL);
	snprintf(want, sizeof(want), "%s: not a regular file", d);
	CHECK_STR(err, want);
	config_free(c);

	rmdir(d);
	rmdir(dir);
	free(a);
	free(b);
	free(d);
	free(x);
}

/* The documented example is the built-in configuration, key for key. */
UNIT_TEST(config_example_file)
{
	const char *path = "docs/beiand.conf.example";
	struct config *c, *def;
	unsigned char *text;
	char err[512], *cwd;
	const char *diff;
	size_t len;

	if ((text = unit_read_file(path, &len)) == NULL) {
		CHECKM(0, "%s: cannot read (run from the repository root)",
		    path);
		return;
	}
	cwd = getcwd(NULL, 0);
	c = config_parse((const char *)text, len, path, cwd, err, sizeof(err));
	CHECKM(c != NULL, "%s", err);
	def = config_parse(NULL, 0, NULL, NULL, err, sizeof(err));
	CHECK(def != NULL);
	if (c != NULL && def != NULL) {
		diff = config_diff(c, def);
		CHECKM(diff == NULL, "differs from the built-in in %s", diff);
	}
	config_free(c);
	config_free(def);
	free(cwd);
	free(text);
}

/* [web]: the console's keys, their defaults and what each refuses. */
UNIT_TEST(config_web)
{
	static const struct {
		const char *line;
		int ok;
	} rows[] = {
		{ "listen = 127.0.0.1:8080", 1 },
		{ "listen = [::1]:8443", 1 },
		{ "listen = console.example:443", 1 },
		{ "listen =", 1 },
		{ "listen = 127.0.0.1", 0 },
		{ "listen = ::1:80", 0 },
		{ "listen = 127.0.0.1:0", 0 },
		{ "listen = 127.0.0.1:65536", 0 },
		{ "listen = :80", 0 },
		{ "trusted_proxy = 127.0.0.1", 1 },
		{ "trusted_proxy = ::1", 1 },
		{ "trusted_proxy = 10.0.0.0/8", 0 },
		{ "trusted_proxy = proxy.example", 0 },
		{ "base_url = https://beian.example/console", 1 },
		{ "base_url = ftp://x", 0 },
		{ "base_url = https://x/\"><script>", 0 },
		{ "session_idle = 0", 0 },
		{ "session_idle = 5s", 1 },
		{ "request_max = 100", 0 },
		{ "threads = 0", 0 },
		{ "cache_max = 0", 1 },
		{ "login_fail_max = 0", 0 },
		{ "password_file = x", 0 },
	};
	struct config *c;
	char err[512], text[1024];

	c = config_parse(NULL, 0, NULL, NULL, err, sizeof(err));
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_STR(c->web_listen, "127.0.0.1:8080");
		CHECK_STR(c->web_base_url, "");
		CHECK(c->web_tls_cert == NULL && c->web_tls_key == NULL);
		CHECK_STR(c->web_trusted_proxy, "");
		CHECK_INT(c->web_session_idle, 1800);
		CHECK_INT(c->web_request_max, 12 << 20);
		CHECK_INT(c->web_login_fail_max, 5);
		CHECK_INT(c->web_login_fail_window, 900);
		CHECK_INT(c->web_threads, 4);
	}
	config_free(c);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(text, sizeof(text), "[web]\n%s\n", rows[i].line);
		c = config_parse(text, strlen(text), "t.conf", "/tmp", err,
		    sizeof(err));
		CHECKM((c != NULL) == rows[i].ok, "%s: %.200s", rows[i].line,
		    c ? "accepted" : err);
		config_free(c);
	}
	snprintf(text, sizeof(text), "[web]\ntls_cert = c.pem\n"
	    "tls_key = /etc/k.pem\n");
	c = config_parse(text, strlen(text), "t.conf", "/srv", err,
	    sizeof(err));
	CHECK(c != NULL);
	if (c != NULL) {
		CHECK_STR(c->web_tls_cert, "/srv/c.pem");
		CHECK_STR(c->web_tls_key, "/etc/k.pem");
	}
	config_free(c);
}
