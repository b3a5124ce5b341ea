/*
 * tool_mailer: test driver for tests/it_mail.sh and bench/bench_mail.sh.
 * Makes filings through the store API and runs daemon/mailer.c against
 * an SMTP URL (or .eml files when URL is "").
 *
 *   tool_mailer DIR URL file OWNER [approve]
 *        a delegated first filing by spool from P001 owned by OWNER, with
 *        the four attachments of a review request; "approve" moves it on
 *        to under_review and approved (the password mail).  Prints
 *        "filing ID TOKEN" and, when approved, "password ID PASSWORD".
 *   tool_mailer DIR URL run NOW [MAX]
 *        one mailer_run (NOW 0: now; "+S": now + S seconds); prints
 *        "run handled N sent S deferred D failed F".
 *   tool_mailer DIR URL rows
 *        every outbox row: "row ID STATE ATTEMPTS TEMPLATE ROLE TO MSGID
 *        REPLY…".
 *   tool_mailer DIR URL failed     the rows store_outbox_list shows failed
 *   tool_mailer DIR URL crash ID   mark row ID sending and exit (a crash
 *        between taking the row and finishing it); prints its Message-ID
 *   tool_mailer DIR URL recover    store_outbox_recover; prints the count
 *   tool_mailer DIR URL bulk N OWNER
 *        N loose "help" mails to OWNER (for the bench)
 *
 * The configuration is built here: provider P001 (provider@example.test),
 * bureau 11 (bureau@example.test, record_to records@example.test), from
 * beian@example.test, intake beian-in@example.test; DIR holds beiand.db
 * and the state folder.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/workflow.h"
#include "daemon/mailer.h"
#include "lib/compat.h"
#include "mail/smtp.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "store/attachments.h"
#include "store/filings.h"
#include "store/outbox.h"
#include "store/query.h"
#include "store/store.h"
#include "store/transition.h"

static struct config cfg;
static struct config_provider prov;
static struct config_bureau bur;
static char *baddr[1];

static void
config_build(const char *dir, const char *url)
{
	prov.code = (char *)"P001";
	prov.name = (char *)"示例接入服务商";
	prov.email = (char *)"provider@example.test";
	strlcpy(bur.province, "11", sizeof(bur.province));
	baddr[0] = (char *)"bureau@example.test";
	bur.addresses = baddr;
	bur.naddresses = 1;
	bur.record_to = (char *)"records@example.test";
	cfg.state_dir = (char *)dir;
	cfg.smtp_url = (char *)url;
	cfg.smtp_from = (char *)"beian@example.test";
	cfg.smtp_tls = TLS_AUTO;
	cfg.smtp_timeout = 30;
	cfg.smtp_retry_min = 60;
	cfg.smtp_retry_max = 3600;
	cfg.smtp_max_age = 5 * 86400;
	cfg.imap_address = (char *)"beian-in@example.test";
	cfg.providers = &prov;
	cfg.nproviders = 1;
	cfg.bureaus = &bur;
	cfg.nbureaus = 1;
}

static void
die(struct store *st, const char *what)
{
	fprintf(stderr, "tool_mailer: %s: %s\n", what,
	    st ? store_errmsg(st) : "");
	exit(1);
}

static void
attach_all(struct store *st, const char *id)
{
	static unsigned char zip[2048] = "PK\3\4";
	static const unsigned char xml[] =
	    "<?xml version=\"1.0\"?><verification result=\"pass\"/>";
	static unsigned char jpg[1024] = "\xff\xd8\xff\xe0";
	static const unsigned char pdf[] = "%PDF-1.4 checklist scan";
	const struct {
		const char *kind, *name;
		const unsigned char *data;
		size_t len;
	} a[] = {
		{ "package", "filing.xml", zip, sizeof(zip) },
		{ "verification", "verification.xml", xml, sizeof(xml) - 1 },
		{ "onsite_photo", "现场照片.jpg", jpg, sizeof(jpg) },
		{ "checklist_scan", "checklist.pdf", pdf, sizeof(pdf) - 1 },
	};
	char hex[65];

	/* distinct bytes per filing: blobs are content-addressed */
	snprintf((char *)zip + 4, sizeof(zip) - 4, "%s", id);
	for (size_t i = 0; i < 4; i++) {
		struct store_entry e = { a[i].name, a[i].data, a[i].len, NULL };
		struct store_blob b = { a[i].data, a[i].len, NULL, 0 };

		if (store_attachment_put(st, id, a[i].kind, &b, &e, 1, hex) ==
		    -1)
			die(st, "attachment");
	}
}

static void
move(struct store *st, const char *id, enum wf_state to, const char *reason)
{
	struct store_transition_req req = { 0 };
	struct store_actor w = { 0 };
	struct store_result r = { 0 };
	struct errlist *errs = errlist_new();

	w.kind = WF_ACTOR_OPERATOR;
	w.channel = WF_CHANNEL_CLI;
	w.name = "root";
	w.provider = "P001";
	req.id = id;
	req.to = to;
	req.reason = reason;
	r.errs = errs;
	if (store_transition(st, &req, &w, &r) != 0)
		die(st, "transition");
	errlist_free(errs);
}

static void
cmd_file(struct store *st, const char *owner, int approve, char *id)
{
	struct person principal = { 0 };
	struct sponsor sponsor = { 0 };
	struct website site = { 0 };
	struct filing f = { 0 };
	char dom[96], cert[32], *doms[1] = { dom }, *own = NULL;
	char token[STORE_TOKEN_LEN + 1];
	struct store_package pkg = { &f, "<filing/>", NULL, NULL };
	struct store_actor w = { 0 };
	struct store_result r = { 0 };
	struct errlist *errs = errlist_new();

	/* a fresh certificate and domain per filing */
	snprintf(cert, sizeof(cert), "91%06ld%010lld", (long)getpid() % 1000000,
	    (long long)time(NULL) % 10000000000LL);
	snprintf(dom, sizeof(dom), "s%s.example.cn", cert);
	for (char *p = dom; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	principal.email = (char *)owner;
	sponsor.name = (char *)"北京示例科技有限公司";
	sponsor.nature = (char *)"enterprise";
	sponsor.cert_type = (char *)"uscc";
	sponsor.cert_number = cert;
	sponsor.principal = &principal;
	site.name = (char *)"示例网站";
	site.domains = doms;
	site.ndomains = 1;
	f.type = FILING_FIRST;
	f.mode = FILING_MODE_DELEGATED;
	f.province = (char *)"11";
	f.sponsor = &sponsor;
	f.websites = &site;
	f.nwebsites = 1;
	w.kind = WF_ACTOR_PROVIDER;
	w.channel = WF_CHANNEL_SPOOL;
	w.name = "P001";
	w.provider = "P001";
	w.source = cert;
	r.errs = errs;
	if (store_filing_create(st, &pkg, &w, &r) != 0 ||
	    r.state != WF_AWAITING_VERIFICATION) {
		for (size_t i = 0; i < errlist_count(errs); i++)
			fprintf(stderr, "  %s\n", errlist_get(errs, i)->message);
		die(st, "create");
	}
	errlist_free(errs);
	attach_all(st, r.id);
	if (store_filing_owner(st, r.id, &own, token) != 0)
		die(st, "owner");
	free(own);
	printf("filing %s %s\n", r.id, token);
	strlcpy(id, r.id, STORE_ID_SIZE);
	if (approve) {
		move(st, r.id, WF_UNDER_REVIEW, "张核验");
		move(st, r.id, WF_APPROVED, NULL);
	}
}

static int
print_row(const struct store_mail *m, void *arg)
{
	(void)arg;
	printf("row %lld %s %d %s %s %s %s %s\n", (long long)m->id, m->state,
	    m->attempts, workflow_template_name(m->tpl), m->role,
	    m->to[0] ? m->to : "-", m->message_id,
	    m->last_reply ? m->last_reply : "");
	return 0;
}

int
main(int argc, char **argv)
{
	struct store *st;
	struct mailer *m;
	struct mailer_stats stats;
	char db[4096], err[512];
	time_t now = 0, next = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: tool_mailer DIR URL CMD ARGS...\n");
		return 2;
	}
	setenv("BEIAND_PWHASH_FAST", "1", 1);
	config_build(argv[1], argv[2]);
	snprintf(db, sizeof(db), "%s/beiand.db", argv[1]);
	if ((st = store_open(db, &cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "tool_mailer: %s\n", err);
		return 1;
	}
	if (strcmp(argv[3], "file") == 0 && argc >= 5) {
		char fid[STORE_ID_SIZE];

		cmd_file(st, argv[4], argc >= 6 && !strcmp(argv[5], "approve"),
		    fid);
		/* the approval row's password, before it is sent and wiped */
		{
			int64_t id = 1;
			struct store_mail *r = NULL;

			while (store_outbox_get(st, id++, &r) == 0) {
				if (r->tpl == WF_TPL_APPROVED_OWNER &&
				    r->secret != NULL && r->filing != NULL &&
				    strcmp(r->filing, fid) == 0 &&
				    strcmp(r->state, "queued") == 0)
					printf("password %s %s\n", r->filing,
					    r->secret);
				store_mail_free(r);
				r = NULL;
			}
		}
	} else if (strcmp(argv[3], "run") == 0 && argc >= 5) {
		size_t max = argc >= 6 ? strtoul(argv[5], NULL, 10) : 1000;
		struct mailer_stats more;
		int n, k;

		now = argv[4][0] == '+' ? time(NULL) + atol(argv[4] + 1) :
		    (time_t)atoll(argv[4]);
		if (smtp_global_init() == -1)
			die(NULL, "curl_global_init");
		if ((m = mailer_new(&cfg, st, err, sizeof(err))) == NULL) {
			fprintf(stderr, "tool_mailer: %s\n", err);
			return 1;
		}
		if ((n = mailer_run(m, now, max, &next)) == -1)
			die(st, "mailer_run");
		mailer_stats_get(m, &stats);
		/* SMTP: the thread sends; each wake-up marks what it did */
		while (mailer_busy(m)) {
			struct pollfd pfd = { mailer_fd(m), POLLIN, 0 };

			if (poll(&pfd, 1, -1) == -1)
				die(NULL, "poll");
			if ((k = mailer_run(m, now, max, &next)) == -1)
				die(st, "mailer_run");
			n += k;
			mailer_stats_get(m, &more);
			stats.sent += more.sent;
			stats.deferred += more.deferred;
			stats.failed += more.failed;
		}
		printf("run handled %d sent %zu deferred %zu failed %zu next %lld\n",
		    n, stats.sent, stats.deferred, stats.failed,
		    (long long)next);
		mailer_free(m);
		smtp_global_cleanup();
	} else if (strcmp(argv[3], "rows") == 0) {
		int64_t id = 1;
		struct store_mail *r = NULL;

		while (store_outbox_get(st, id++, &r) == 0) {
			print_row(r, NULL);
			store_mail_free(r);
			r = NULL;
		}
	} else if (strcmp(argv[3], "failed") == 0) {
		if (store_outbox_list(st, 1, print_row, NULL) == -1)
			die(st, "list");
	} else if (strcmp(argv[3], "crash") == 0 && argc >= 5) {
		struct store_mail *r = NULL;

		if (store_outbox_mark_sending(st, atoll(argv[4])) != 0 ||
		    store_outbox_get(st, atoll(argv[4]), &r) != 0)
			die(st, "crash");
		printf("%s\n", r->message_id);
		fflush(stdout);
		_exit(0); /* no cleanup: the row stays in sending */
	} else if (strcmp(argv[3], "recover") == 0) {
		int n = store_outbox_recover(st);

		if (n == -1)
			die(st, "recover");
		printf("recovered %d\n", n);
	} else if (strcmp(argv[3], "bulk") == 0 && argc >= 6) {
		long n = atol(argv[4]);
		struct store_actor w = { 0 };

		w.kind = WF_ACTOR_OWNER;
		w.channel = WF_CHANNEL_MAIL;
		w.name = argv[5];
		w.sender = argv[5];
		if (store_begin(st) == -1)
			die(st, "begin");
		for (long i = 0; i < n; i++) {
			char ref[32];
			int64_t mid;

			snprintf(ref, sizeof(ref), "bench%08ld", i);
			w.source = ref;
			if (store_mail_loose(st, WF_TPL_HELP, ref, NULL, &w,
			    &mid) != 0)
				die(st, "loose");
		}
		if (store_commit(st) == -1)
			die(st, "commit");
	} else {
		fprintf(stderr, "tool_mailer: bad command\n");
		return 2;
	}
	store_close(st);
	return 0;
}
