/*
 * test_idscan: tracking ids found on receipts and in .eml names
 * (common/idscan.h): six or seven digits, nothing longer, not inside a
 * longer word; receipts older than `since` left unread; a link under a
 * receipt's name not followed; the highest id per year, with its file.
 */
#include <sys/stat.h>
#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/idscan.h"
#include "unit.h"

static void
put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	CHECKM(fp != NULL, "%s", path);
	if (fp != NULL) {
		fputs(text, fp);
		fclose(fp);
	}
}

UNIT_TEST(idscan_parse_forms)
{
	static const struct {
		const char *s;
		int ok, year;
		long long seq;
	} t[] = {
		{ "BA-2026-000123", 1, 2026, 123 },
		{ "BA-2026-000123.17.received.owner.eml", 1, 2026, 123 },
		{ "BA-2026-1000001\"", 1, 2026, 1000001 },
		{ "BA-2026-12345678", 0, 0, 0 },      /* eight digits */
		{ "BA-2026-12345", 0, 0, 0 },         /* five */
		{ "BA-2026-000000", 0, 0, 0 },        /* no id is 0 */
		{ "BA-0999-000001", 0, 0, 0 },
		{ "BA-20x6-000001", 0, 0, 0 },
		{ "BA_2026-000001", 0, 0, 0 },
		{ "BA-2026-00012", 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int year = 0;
		int64_t seq = 0;
		int r = idscan_parse(t[i].s, strlen(t[i].s), &year, &seq);

		CHECKM(r == t[i].ok, "row %zu: %s", i, t[i].s);
		if (r && t[i].ok)
			CHECKM(year == t[i].year && seq == t[i].seq, "row %zu", i);
	}
}

UNIT_TEST(idscan_receipts_and_mails)
{
	char top[] = "/tmp/beiand-idscan-XXXXXX", p[512], q[512];
	struct idscan_hit *h = NULL;
	struct idscan_stats s;
	struct timeval old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	size_t n = 0;

	CHECK(mkdtemp(top) != NULL);
	snprintf(p, sizeof(p), "%s/spool", top);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/spool/providers", top);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/spool/providers/P001", top);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/spool/providers/P001/outgoing", top);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/spool/bureau", top);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/spool/bureau/11", top);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/spool/bureau/11/outgoing", top);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/mail", top);
	mkdir(p, 0700);

	snprintf(p, sizeof(p), "%s/spool/providers/P001/outgoing/a.zip.receipt.xml",
	    top);
	put(p, "<receipt><item id=\"BA-2026-000007\"/><item id=\"BA-2026-000004\"/>"
	    "<error>XBA-2026-000900 in a word</error></receipt>");
	snprintf(p, sizeof(p), "%s/spool/bureau/11/outgoing/d.xml.receipt.xml",
	    top);
	put(p, "<receipt><item id=\"BA-2025-000031\"/></receipt>");
	/* old: not read */
	snprintf(p, sizeof(p), "%s/spool/providers/P001/outgoing/old.receipt.xml",
	    top);
	put(p, "<receipt><item id=\"BA-2026-000500\"/></receipt>");
	CHECK(utimes(p, old) == 0);
	/* not a receipt's name, and a link: not read */
	snprintf(p, sizeof(p), "%s/spool/providers/P001/outgoing/x.xml", top);
	put(p, "BA-2026-000600");
	snprintf(q, sizeof(q), "%s/secret", top);
	put(q, "BA-2026-000700");
	snprintf(p, sizeof(p), "%s/spool/providers/P001/outgoing/l.receipt.xml",
	    top);
	CHECK(symlink(q, p) == 0);
	/* mails: the name is enough */
	snprintf(p, sizeof(p), "%s/mail/BA-2026-000012.3.received.owner.eml", top);
	put(p, "");
	snprintf(p, sizeof(p), "%s/mail/BA-2026-1000002.3.received.owner.eml",
	    top);
	put(p, "");
	snprintf(p, sizeof(p), "%s/mail/deadbeef.4.help.sender.eml", top);
	put(p, "BA-2026-000800");

	snprintf(p, sizeof(p), "%s/spool", top);
	snprintf(q, sizeof(q), "%s/mail", top);
	CHECK(idscan_run(p, q, 1500000000, &h, &n, &s) == 0);
	CHECK_INT(n, 2);
	for (size_t i = 0; i < n; i++) {
		if (h[i].year == 2026) {
			CHECK_INT(h[i].seq, 1000002);
			CHECK(strstr(h[i].where, "BA-2026-1000002.3") != NULL);
		} else {
			CHECK_INT(h[i].year, 2025);
			CHECK_INT(h[i].seq, 31);
			CHECK(strstr(h[i].where, "d.xml.receipt.xml") != NULL);
		}
	}
	CHECK_INT(s.receipts_read, 2);
	CHECK_INT(s.receipts_skipped, 1);
	CHECK_INT(s.emls, 3);
	free(h);
	/* without the mails: the receipts alone; everything when since is 0 */
	CHECK(idscan_run(p, NULL, 0, &h, &n, &s) == 0);
	for (size_t i = 0; i < n; i++)
		if (h[i].year == 2026)
			CHECK_INT(h[i].seq, 500);
	free(h);
	/* folders that are not there: nothing */
	snprintf(p, sizeof(p), "%s/nothing", top);
	CHECK(idscan_run(p, p, 0, &h, &n, &s) == 0 && n == 0);
	free(h);
	unit_rmtree(top);
}
