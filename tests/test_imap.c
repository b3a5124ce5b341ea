/*
 * test_imap: the pure parts of mail/imap.c, the [imap] url and the
 * child's frames as the parent decodes them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/imap.h"
#include "unit.h"

static const struct {
	const char *url;
	int ok, tls;
	const char *user, *pass, *host;
	unsigned port;
	const char *mailbox;
} url_cases[] = {
	{ "imap://intake:secret@127.0.0.1:2143/INBOX", 1, 0, "intake",
	    "secret", "127.0.0.1", 2143, "INBOX" },
	{ "imaps://u:p@mail.example.test", 1, 1, "u", "p",
	    "mail.example.test", 993, "INBOX" },
	{ "IMAP://u:p@h/", 1, 0, "u", "p", "h", 143, "INBOX" },
	{ "imap://a%40b.example:p%3Aw%2Fd%25@h:1/Intake%20box", 1, 0,
	    "a@b.example", "p:w/d%", "h", 1, "Intake box" },
	{ "imap://u:@[2001:db8::1]:144/X", 1, 0, "u", "", "2001:db8::1",
	    144, "X" },
	{ "imap://u:p@w@h/X", 1, 0, "u", "p@w", "h", 143, "X" },
	{ "pop3://u:p@h/", 0, 0, 0, 0, 0, 0, 0 },
	{ "imap://h/INBOX", 0, 0, 0, 0, 0, 0, 0 },          /* no user */
	/* no password: [imap] password_file has it */
	{ "imap://u@h/INBOX", 1, 0, "u", NULL, "h", 143, "INBOX" },
	{ "imap://:p@h/INBOX", 0, 0, 0, 0, 0, 0, 0 },
	{ "imap://u:p@h:0/", 0, 0, 0, 0, 0, 0, 0 },
	{ "imap://u:p@h:65536/", 0, 0, 0, 0, 0, 0, 0 },
	{ "imap://u:p@h:12a/", 0, 0, 0, 0, 0, 0, 0 },
	{ "imap://u:p@/INBOX", 0, 0, 0, 0, 0, 0, 0 },
	{ "imap://u:p@h%41/", 0, 0, 0, 0, 0, 0, 0 },
	{ "imap://u:p@[zz::1]/", 0, 0, 0, 0, 0, 0, 0 },
	{ "imap://u:p%0a@h/", 0, 0, 0, 0, 0, 0, 0 },        /* control byte */
	{ "imap://u:p%4@h/", 0, 0, 0, 0, 0, 0, 0 },
	{ "imap://u:p%@h/", 0, 0, 0, 0, 0, 0, 0 },
	{ "imap://u:p@h/INBOX;UIDVALIDITY=5", 0, 0, 0, 0, 0, 0, 0 },
	{ "imap://u:p@h/INBOX?x", 0, 0, 0, 0, 0, 0, 0 },
	{ "imap://u;AUTH=*:p@h/", 0, 0, 0, 0, 0, 0, 0 },
};

UNIT_TEST(imap_url_parse)
{
	for (size_t i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		struct imap_url u;
		char err[256] = "";
		int r = imap_url_parse(url_cases[i].url, &u, err, sizeof(err));

		CHECKM((r == 0) == url_cases[i].ok, "row %zu %s: %s", i,
		    url_cases[i].url, err);
		if (r != 0) {
			CHECKM(*err != '\0', "row %zu: no message", i);
			continue;
		}
		if (!url_cases[i].ok) {
			imap_url_free(&u);
			continue;
		}
		CHECKM(u.tls == url_cases[i].tls, "row %zu", i);
		CHECK_STR(u.user, url_cases[i].user);
		if (url_cases[i].pass == NULL)
			CHECKM(u.pass == NULL, "row %zu", i);
		else
			CHECK_STR(u.pass, url_cases[i].pass);
		CHECK_STR(u.host, url_cases[i].host);
		CHECK_INT(u.port, url_cases[i].port);
		CHECK_STR(u.mailbox, url_cases[i].mailbox);
		imap_url_free(&u);
	}
}

UNIT_TEST(imap_url_parse_secret)
{
	static const char *const bad[] = {
		"imap://u:hunter2@h:99999/", "imap://u:hunter2@h/A;B",
		"imap://u:hunter2%zz@h/", "imap://u:hunter2@[::zz]/",
	};
	struct imap_url u;
	char err[256];

	/* The password never appears in a message. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(imap_url_parse(bad[i], &u, err, sizeof(err)), -1);
		CHECKM(strstr(err, "hunter2") == NULL, "%s: %s", bad[i], err);
	}
}

static const struct {
	const char *frame;
	int ok;
	enum imap_event_kind kind;
	uint32_t old, v, uid;
	uint64_t size;
	const char *file_or_header;
} ev_cases[] = {
	{ "uidvalidity 0 17", 1, IMAP_EV_UIDVALIDITY, 0, 17, 0, 0, NULL },
	{ "uidvalidity 12 4294967295", 1, IMAP_EV_UIDVALIDITY, 12,
	    4294967295u, 0, 0, NULL },
	{ "new 17 3 17-3.eml", 1, IMAP_EV_NEW, 0, 17, 3, 0, "17-3.eml" },
	{ "large 17 4 70000000\nFrom: a@b\r\n", 1, IMAP_EV_LARGE, 0, 17, 4,
	    70000000, "From: a@b\r\n" },
	{ "large 17 4 5\n", 1, IMAP_EV_LARGE, 0, 17, 4, 5, "" },
	{ "old 17 2", 1, IMAP_EV_OLD, 0, 17, 2, 0, NULL },
	{ "moved 17 2", 1, IMAP_EV_MOVED, 0, 17, 2, 0, NULL },
	{ "synced 17 0", 1, IMAP_EV_SYNCED, 0, 17, 0, 0, NULL },
	{ "wait 17 5 sender", 1, IMAP_EV_WAIT, 0, 17, 5, 0, "sender" },
	{ "wait 17 5 inbox", 1, IMAP_EV_WAIT, 0, 17, 5, 0, "inbox" },
	{ "wait 17 5 disk", 1, IMAP_EV_WAIT, 0, 17, 5, 0, "disk" },
	{ "throttled 0", 1, IMAP_EV_THROTTLED, 0, 0, 0, 0, "0" },
	{ "throttled 4294967295", 1, IMAP_EV_THROTTLED, 0, 0, 0, 0,
	    "4294967295" },
	{ "wait 17 5", 0, 0, 0, 0, 0, 0, NULL },
	{ "wait 17 5 ", 0, 0, 0, 0, 0, 0, NULL },
	{ "wait 17 5 Sender", 0, 0, 0, 0, 0, 0, NULL },
	{ "wait 17 5 none", 0, 0, 0, 0, 0, 0, NULL },
	{ "wait 17 0 sender", 0, 0, 0, 0, 0, 0, NULL },     /* UID 0 */
	{ "wait 17 5 sender\nx", 0, 0, 0, 0, 0, 0, NULL },
	{ "throttled -1", 0, 0, 0, 0, 0, 0, NULL },
	{ "throttled 4294967296", 0, 0, 0, 0, 0, 0, NULL },
	{ "throttled", 0, 0, 0, 0, 0, 0, NULL },
	{ "new 17 3 ../etc/passwd", 0, 0, 0, 0, 0, 0, NULL },
	{ "new 17 3 17-4.eml", 0, 0, 0, 0, 0, 0, NULL },
	{ "new 17 0 17-0.eml", 0, 0, 0, 0, 0, 0, NULL },   /* UID 0 */
	{ "uidvalidity 0 0", 0, 0, 0, 0, 0, 0, NULL },
	{ "uidvalidity 0 4294967296", 0, 0, 0, 0, 0, 0, NULL },
	{ "old 17 02", 0, 0, 0, 0, 0, 0, NULL },
	{ "old 17 +2", 0, 0, 0, 0, 0, 0, NULL },
	{ "old 17  2", 0, 0, 0, 0, 0, 0, NULL },
	{ "old 17 2 ", 0, 0, 0, 0, 0, 0, NULL },
	{ "old 17 2 9", 0, 0, 0, 0, 0, 0, NULL },
	{ "old 17", 0, 0, 0, 0, 0, 0, NULL },
	{ "old 17 2\nextra", 0, 0, 0, 0, 0, 0, NULL },
	{ "OLD 17 2", 0, 0, 0, 0, 0, 0, NULL },
	{ "done 17 2", 0, 0, 0, 0, 0, 0, NULL },
	{ "large 17 4 18446744073709551616\n", 0, 0, 0, 0, 0, 0, NULL },
	{ "", 0, 0, 0, 0, 0, 0, NULL },
	{ "synced 17 1\t", 0, 0, 0, 0, 0, 0, NULL },
};

UNIT_TEST(imap_event_decode)
{
	for (size_t i = 0; i < sizeof(ev_cases) / sizeof(ev_cases[0]); i++) {
		struct imap_event ev;
		const char *f = ev_cases[i].frame;
		int r = imap_event_decode(f, strlen(f), &ev);

		CHECKM((r == 0) == ev_cases[i].ok, "row %zu \"%s\"", i, f);
		if (r != 0 || !ev_cases[i].ok)
			continue;
		CHECKM(ev.kind == ev_cases[i].kind, "row %zu", i);
		CHECK_INT(ev.old_uidvalidity, ev_cases[i].old);
		CHECK_INT(ev.uidvalidity, ev_cases[i].v);
		CHECK_INT(ev.uid, ev_cases[i].uid);
		CHECK_INT(ev.size, ev_cases[i].size);
		if (ev.kind == IMAP_EV_NEW)
			CHECK_STR(ev.file, ev_cases[i].file_or_header);
		if (ev.kind == IMAP_EV_WAIT)
			CHECK_STR(imap_wait_name(ev.reason),
			    ev_cases[i].file_or_header);
		if (ev.kind == IMAP_EV_THROTTLED)
			CHECK_INT(ev.count,
			    strtoul(ev_cases[i].file_or_header, NULL, 10));
		if (ev.kind == IMAP_EV_LARGE) {
			CHECK_INT(ev.header_len,
			    strlen(ev_cases[i].file_or_header));
			CHECKM(memcmp(ev.header, ev_cases[i].file_or_header,
			    ev.header_len) == 0, "row %zu", i);
		}
	}
}

UNIT_TEST(imap_event_decode_limits)
{
	static char big[IMAP_FRAME_MAX + 2];
	struct imap_event ev;
	size_t n;

	/* A header block one byte over IMAP_HEADER_MAX is refused. */
	n = (size_t)snprintf(big, sizeof(big), "large 1 2 3\n");
	memset(big + n, 'x', IMAP_HEADER_MAX);
	CHECK_INT(imap_event_decode(big, n + IMAP_HEADER_MAX, &ev), 0);
	CHECK_INT(ev.header_len, IMAP_HEADER_MAX);
	big[n + IMAP_HEADER_MAX] = 'x';
	CHECK_INT(imap_event_decode(big, n + IMAP_HEADER_MAX + 1, &ev), -1);
	/* A control byte in the line. */
	CHECK_INT(imap_event_decode("old 1\0 2", 8, &ev), -1);
	CHECK_INT(imap_event_decode(big, IMAP_FRAME_MAX + 1, &ev), -1);
}

/* "failing R\nREASON": R 0 or 1, REASON printable ASCII, bounded, never
 * empty. */
UNIT_TEST(imap_event_decode_failing)
{
	static char big[IMAP_REASON_MAX + 16];
	struct imap_event ev;
	const char *f = "failing 1\ncertificate of 127.0.0.1 refused (x)";
	size_t n;

	CHECK_INT(imap_event_decode(f, strlen(f), &ev), 0);
	CHECK(ev.kind == IMAP_EV_FAILING);
	CHECK_INT(ev.refused, 1);
	CHECK_INT(ev.why_len, strlen(f) - 10);
	CHECK(memcmp(ev.why, "certificate of", 14) == 0);
	CHECK_INT(imap_event_decode("failing 0\nconnect: refused", 26, &ev), 0);
	CHECK_INT(ev.refused, 0);
	CHECK_INT(imap_event_decode("failing 0", 9, &ev), -1);
	CHECK_INT(imap_event_decode("failing 1\n", 10, &ev), -1);
	CHECK_INT(imap_event_decode("failing\nwhy", 11, &ev), -1);
	CHECK_INT(imap_event_decode("failing 2\nwhy", 13, &ev), -1);
	CHECK_INT(imap_event_decode("failing 1 x\nwhy", 15, &ev), -1);
	CHECK_INT(imap_event_decode("failing 1\nbad\nline", 18, &ev), -1);
	CHECK_INT(imap_event_decode("failing 1\nbad\x1b[31m", 18, &ev), -1);
	CHECK_INT(imap_event_decode("failing 1\n\xe8\xaf\x81", 13, &ev), -1);
	/* other frames still carry nothing after their line */
	CHECK_INT(imap_event_decode("synced 1 2\nx", 12, &ev), -1);
	n = (size_t)snprintf(big, sizeof(big), "failing 0\n");
	memset(big + n, 'r', IMAP_REASON_MAX);
	CHECK_INT(imap_event_decode(big, n + IMAP_REASON_MAX, &ev), 0);
	big[n + IMAP_REASON_MAX] = 'r';
	CHECK_INT(imap_event_decode(big, n + IMAP_REASON_MAX + 1, &ev), -1);
}
