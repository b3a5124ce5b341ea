/*
 * test_smtp: the reply classification, what a send says about the
 * channel, and the refusals that happen before any connection.  A real
 * send is tests/it_smtp.sh; TLS against real servers tests/it_tls.sh.
 */
#include <string.h>

#include <curl/curl.h>

#include "common/tls_policy.h"
#include "mail/smtp.h"
#include "unit.h"

UNIT_TEST(smtp_classify)
{
	static const struct {
		int cc;
		long code;
		enum smtp_result want;
	} rows[] = {
		{ CURLE_OK, 250, SMTP_SENT },
		{ CURLE_OK, 0, SMTP_SENT },
		{ CURLE_SEND_ERROR, 550, SMTP_FAIL },	/* RCPT refused */
		{ CURLE_SEND_ERROR, 553, SMTP_FAIL },
		{ CURLE_WEIRD_SERVER_REPLY, 554, SMTP_FAIL }, /* after DATA */
		/* the session refused: the configuration's mistake, the
		 * mail kept (deferred) rather than failed */
		{ CURLE_LOGIN_DENIED, 535, SMTP_DEFER },
		{ CURLE_SEND_ERROR, 530, SMTP_DEFER },	/* STARTTLS first */
		{ CURLE_SEND_ERROR, 534, SMTP_DEFER },
		{ CURLE_SEND_ERROR, 538, SMTP_DEFER },
		{ CURLE_SSL_PINNEDPUBKEYNOTMATCH, 220, SMTP_DEFER },
		{ CURLE_SEND_ERROR, 450, SMTP_DEFER },	/* greylisted */
		{ CURLE_SEND_ERROR, 452, SMTP_DEFER },
		{ CURLE_WEIRD_SERVER_REPLY, 421, SMTP_DEFER },
		{ CURLE_COULDNT_CONNECT, 0, SMTP_DEFER },
		{ CURLE_COULDNT_RESOLVE_HOST, 0, SMTP_DEFER },
		{ CURLE_OPERATION_TIMEDOUT, 250, SMTP_DEFER },
		{ CURLE_PEER_FAILED_VERIFICATION, 220, SMTP_DEFER },
		{ CURLE_USE_SSL_FAILED, 250, SMTP_DEFER },
		{ CURLE_GOT_NOTHING, 0, SMTP_DEFER },
		{ CURLE_SEND_ERROR, 600, SMTP_DEFER },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECKM(smtp_classify(rows[i].cc, rows[i].code) == rows[i].want,
		    "row %zu", i);
	CHECK_STR(smtp_result_name(SMTP_SENT), "sent");
	CHECK_STR(smtp_result_name(SMTP_DEFER), "deferred");
	CHECK_STR(smtp_result_name(SMTP_FAIL), "failed");
}

UNIT_TEST(smtp_channel_judge)
{
	static const struct {
		int cc;
		long code;
		enum smtp_channel want;
	} rows[] = {
		{ CURLE_OK, 250, SMTP_CHANNEL_OK },
		{ CURLE_SEND_ERROR, 550, SMTP_CHANNEL_OK }, /* the mail's */
		{ CURLE_SEND_ERROR, 450, SMTP_CHANNEL_OK },
		{ CURLE_SEND_ERROR, 553, SMTP_CHANNEL_OK },
		{ CURLE_PEER_FAILED_VERIFICATION, 220, SMTP_CHANNEL_REFUSED },
		{ CURLE_SSL_PINNEDPUBKEYNOTMATCH, 220, SMTP_CHANNEL_REFUSED },
		{ CURLE_USE_SSL_FAILED, 250, SMTP_CHANNEL_REFUSED },
		{ CURLE_LOGIN_DENIED, 535, SMTP_CHANNEL_REFUSED },
		{ CURLE_SEND_ERROR, 530, SMTP_CHANNEL_REFUSED },
		{ CURLE_SEND_ERROR, 535, SMTP_CHANNEL_REFUSED },
		{ CURLE_COULDNT_CONNECT, 0, SMTP_CHANNEL_DOWN },
		{ CURLE_COULDNT_RESOLVE_HOST, 0, SMTP_CHANNEL_DOWN },
		{ CURLE_OPERATION_TIMEDOUT, 0, SMTP_CHANNEL_DOWN },
		{ CURLE_SSL_CONNECT_ERROR, 220, SMTP_CHANNEL_DOWN },
		{ CURLE_OPERATION_TIMEDOUT, 250, SMTP_CHANNEL_DOWN },
		{ CURLE_SSL_CONNECT_ERROR, 0, SMTP_CHANNEL_DOWN },
		{ CURLE_WEIRD_SERVER_REPLY, 421, SMTP_CHANNEL_DOWN },
		{ CURLE_GOT_NOTHING, 0, SMTP_CHANNEL_DOWN },
		{ CURLE_ABORTED_BY_CALLBACK, 0, SMTP_CHANNEL_UNKNOWN },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECKM(smtp_channel_judge(rows[i].cc, rows[i].code) ==
		    rows[i].want, "row %zu", i);
}

UNIT_TEST(smtp_new_and_refusals)
{
	struct tls_policy tp;
	struct smtp *s;
	char reply[256], reason[SMTP_REASON_MAX], err[256];

	CHECK(smtp_global_init() == 0);
	CHECK(tls_policy_resolve(&tp, TLS_CHANNEL_SMTP, TLS_ENCRYPT,
	    "127.0.0.1", 0, 1, NULL, NULL, err, sizeof(err)) == 0);
	CHECK(smtp_new("http://example.org/", &tp, NULL, 10) == NULL);
	CHECK(smtp_new("", &tp, NULL, 10) == NULL);
	CHECK(smtp_new(NULL, &tp, NULL, 10) == NULL);
	CHECK(smtp_new("smtp://127.0.0.1:1", NULL, NULL, 10) == NULL);
	smtp_free(NULL);

	/* port 1 on loopback: nothing listens */
	s = smtp_new("smtp://user:hunter2@127.0.0.1:1", &tp, NULL, 5);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	/* envelope injection is refused before connecting */
	CHECK(smtp_send(s, "a@b", "c@d>\r\nRCPT TO:<e@f", "x\r\n", 3, reply,
	    sizeof(reply)) == SMTP_FAIL);
	CHECK(smtp_send(s, "a@b\r\nDATA", "c@d", "x\r\n", 3, reply,
	    sizeof(reply)) == SMTP_FAIL);
	CHECK(smtp_send(s, "a@b", "", "x\r\n", 3, reply, sizeof(reply)) ==
	    SMTP_FAIL);
	/* no server: deferred, the reply is curl's, the password absent */
	CHECK(smtp_send(s, "a@b", "c@d", "x\r\n", 3, reply, sizeof(reply)) ==
	    SMTP_DEFER);
	CHECK(strncmp(reply, "curl: ", 6) == 0);
	CHECK(strstr(reply, "hunter2") == NULL);
	CHECK_INT(smtp_last_code(s), 0);
	/* unreachable: the channel is down, and says why */
	CHECK(smtp_channel_state(s, reason, sizeof(reason)) ==
	    SMTP_CHANNEL_DOWN);
	CHECK(strncmp(reason, "curl: ", 6) == 0);
	CHECK(strstr(reason, "hunter2") == NULL);
	smtp_free(s);
}
