/*
 * log: journal fields taken from a line's key=value words, and the
 * masking of secrets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "unit.h"

UNIT_TEST(log_fields_table)
{
	static const struct {
		const char *line;
		const char *want;   /* fields joined by '|' */
	} rows[] = {
		{ "spool: upload=a.zip item=/ filing=BA-2026-000123 state=received",
		  "BEIAND_SUBSYSTEM=spool|BEIAND_FILING=BA-2026-000123" },
		{ "imap: uid=4711 provider=P001 sha256=ab12cd, stored",
		  "BEIAND_SUBSYSTEM=imap|BEIAND_MAIL_UID=4711|"
		  "BEIAND_PROVIDER=P001|BEIAND_SHA256=ab12cd" },
		{ "spool: item=x filing=- state=-", "BEIAND_SUBSYSTEM=spool" },
		{ "no subsystem here filing=BA-2026-000001:",
		  "BEIAND_FILING=BA-2026-000001" },
		/* only whole words: xfiling= is not filing= */
		{ "mailer: xfiling=BA-1 myuid=3", "BEIAND_SUBSYSTEM=mailer" },
		/* the first one wins */
		{ "a: filing=BA-2026-000001 filing=BA-2026-000002",
		  "BEIAND_SUBSYSTEM=a|BEIAND_FILING=BA-2026-000001" },
		{ "Capital: filing=", "" },
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char f[LOG_MAX_FIELDS][LOG_FIELD_SIZE], got[1024] = "";
		size_t n = log_fields_extract(rows[i].line, f);

		for (size_t k = 0; k < n; k++) {
			if (k > 0)
				strcat(got, "|");
			strcat(got, f[k]);
		}
		CHECKM(strcmp(got, rows[i].want) == 0, "row %zu: got \"%s\"",
		    i, got);
	}
}

UNIT_TEST(log_fields_too_long)
{
	char line[400], f[LOG_MAX_FIELDS][LOG_FIELD_SIZE];

	memset(line, 'a', sizeof(line));
	memcpy(line, "x: sha256=", 10);
	line[sizeof(line) - 1] = '\0';
	/* a value that does not fit is left out, never cut */
	CHECK_INT(log_fields_extract(line, f), 1);
	CHECK_STR(f[0], "BEIAND_SUBSYSTEM=x");
}

UNIT_TEST(log_redact_table)
{
	static const struct {
		const char *in, *want;
	} rows[] = {
		{ "mailer: sent password=Secr3tPass to x",
		  "mailer: sent password=*** to x" },
		{ "store: review_token=abcdef0123456789 used",
		  "store: review_token=*** used" },
		{ "imap: url imaps://intake:hunter22@mail.example/INBOX",
		  "imap: url imaps://intake:***@mail.example/INBOX" },
		{ "imap: url imaps://mail.example/INBOX",
		  "imap: url imaps://mail.example/INBOX" },
		{ "smtp: \"token=xy\" Token=AB;", "smtp: \"token=**\" Token=**;" },
		{ "nothing secret filing=BA-2026-000001",
		  "nothing secret filing=BA-2026-000001" },
		{ "password=", "password=" },
		{ "a=1 SMTP_PASSWORD=xyz owner_token=t0k b=2",
		  "a=1 SMTP_PASSWORD=*** owner_token=*** b=2" },
		{ "password=imaps://u:pw@h x", "password=*** x" },
		{ "urls imaps://u:pw1@h1/ and smtp://v:pw2@h2",
		  "urls imaps://u:***@h1/ and smtp://v:***@h2" },
		{ "=token= pass", "=token= pass" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char buf[256];

		snprintf(buf, sizeof(buf), "%s", rows[i].in);
		log_redact(buf);
		CHECKM(strcmp(buf, rows[i].want) == 0, "row %zu: got \"%s\"",
		    i, buf);
	}
}

UNIT_TEST(log_sink_choice)
{
	struct stat st;
	char js[64];

	CHECK(fstat(STDERR_FILENO, &st) == 0);
	/* systemd's JOURNAL_STREAM names stderr: the journal */
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	log_init("beiand-test", 1, 0);
	CHECK_INT(log_sink(), LOG_SINK_JOURNAL);
	/* inherited from a parent whose stderr was the journal: not ours */
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", js, 1);
	log_init("beiand-test", 1, 0);
	CHECK_INT(log_sink(), LOG_SINK_STDERR);
	setenv("JOURNAL_STREAM", "garbage", 1);
	log_init("beiand-test", 1, 0);
	CHECK_INT(log_sink(), LOG_SINK_STDERR);
	unsetenv("JOURNAL_STREAM");
	log_init("beiand", 1, 0);
	CHECK_INT(log_sink(), LOG_SINK_STDERR);
	/* without -f too: beiand never detaches, and nothing goes to a
	 * syslog daemon that may not be there */
	log_init("beiand", 0, 0);
	CHECK_INT(log_sink(), LOG_SINK_STDERR);
	setenv("JOURNAL_STREAM", "garbage", 1);
	log_init("beiand", 0, 0);
	CHECK_INT(log_sink(), LOG_SINK_STDERR);
	unsetenv("JOURNAL_STREAM");
}
