/*
 * tool_smtpsend: test driver for tests/it_smtp.sh.  Composes one beiand
 * mail per recipient with mail_compose and sends them all through one
 * struct smtp (one libcurl handle, so one connection where the server
 * allows), writing each message to OUTDIR/N.eml and the lines
 * "N RCPT RESULT CODE REPLY" and "channel N ok|down|refused|unknown
 * REASON" per send on stdout.
 *
 *   tool_smtpsend URL none|may|encrypt|verify|auto OUTDIR RCPT...
 *
 * (the [smtp] tls level, resolved for URL as the daemon resolves it)
 *
 * The first message is a review_request with a Chinese-named attachment,
 * the others are "received" mails threaded under it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tls_policy.h"
#include "mail/eml.h"
#include "mail/mail.h"
#include "mail/smtp.h"

int
main(int argc, char **argv)
{
	static unsigned char blob[3000];
	struct mail_param params[] = {
		{ "tracking_id", "BA-2026-000123" },
		{ "filing_type", "firstFiling" },
		{ "sponsor_name", "示例网络科技有限公司" },
		{ "provider_name", "示例接入服务商" },
	};
	struct mail_attachment att = { "备案材料-示例.zip", "application/zip",
		blob, sizeof(blob) };
	enum tls_level mode;
	struct tls_policy tp;
	struct tls_url tu;
	enum smtp_result r;
	struct mail_spec sp;
	struct smtp *s;
	char *msg, err[256], reply[512], mid[128], path[256];
	size_t len, i;
	int n;

	if (argc < 5) {
		fprintf(stderr, "usage: tool_smtpsend URL "
		    "none|may|encrypt|verify|auto OUTDIR RCPT...\n");
		return 2;
	}
	if (tls_level_parse(argv[2], &mode) == -1 ||
	    tls_url_split(argv[1], &tu) == -1 ||
	    tls_policy_resolve(&tp, TLS_CHANNEL_SMTP, mode, tu.host,
	    tu.implicit, tu.has_password, NULL, NULL, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "tool_smtpsend: bad level or URL\n");
		return 2;
	}
	for (i = 0; i < sizeof(blob); i++)
		blob[i] = (unsigned char)(i * 131 + 7);
	if (smtp_global_init() == -1 ||
	    (s = smtp_new(argv[1], &tp, NULL, 20)) == NULL) {
		fprintf(stderr, "tool_smtpsend: smtp_new failed\n");
		return 2;
	}
	for (n = 4; n < argc; n++) {
		memset(&sp, 0, sizeof(sp));
		snprintf(mid, sizeof(mid),
		    "<BA-2026-000123.%d.%s.owner@provider.example>", n - 3,
		    n == 4 ? "review_request" : "received");
		sp.tpl = n == 4 ? "review_request" : "received";
		sp.from = "beian@provider.example";
		sp.to = argv[n];
		sp.reply_to = "intake@provider.example";
		sp.message_id = mid;
		if (n > 4) {
			sp.in_reply_to = "<BA-2026-000123.1.review_request."
			    "owner@provider.example>";
			sp.references = sp.in_reply_to;
		}
		sp.date = 1772517900;
		sp.tag = "[BA-2026-000123 k3J9xQ2m]";
		sp.review_token = n == 4 ? "Tk9qLmZ3" : NULL;
		sp.params = params;
		sp.nparams = sizeof(params) / sizeof(params[0]);
		if (n == 4) {
			sp.attachments = &att;
			sp.nattachments = 1;
		}
		if (mail_compose(&sp, &msg, &len, err, sizeof(err)) == -1) {
			fprintf(stderr, "tool_smtpsend: %s\n", err);
			return 2;
		}
		snprintf(path, sizeof(path), "%s/%d.eml", argv[3], n - 3);
		{
			FILE *f = fopen(path, "wb");

			if (f == NULL || fwrite(msg, 1, len, f) != len ||
			    fclose(f) != 0) {
				perror(path);
				return 2;
			}
		}
		r = smtp_send(s, sp.from, argv[n], msg, len, reply,
		    sizeof(reply));
		printf("%d %s %s %ld %s\n", n - 3, argv[n],
		    smtp_result_name(r), smtp_last_code(s), reply);
		{
			static const char *const chan[] = { "ok", "down",
			    "refused", "unknown" };
			char why[SMTP_REASON_MAX];
			enum smtp_channel c = smtp_channel_state(s, why,
			    sizeof(why));

			printf("channel %d %s %s\n", n - 3, chan[c], why);
		}
		fflush(stdout);
		free(msg);
	}
	smtp_free(s);
	smtp_global_cleanup();
	return 0;
}
