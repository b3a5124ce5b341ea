/*
 * metrics: the exposition text, the atomic write, the gauges taken from a
 * real store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/workflow.h"
#include "daemon/metrics.h"
#include "store/channels.h"
#include "store/outbox.h"
#include "store/status.h"
#include "store/store.h"
#include "unit.h"

static char *
metrics_text(const struct metrics *m)
{
	char *s = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&s, &len);

	if (fp == NULL)
		return NULL;
	metrics_format(m, fp);
	fclose(fp);
	return s;
}

/* The value of the sample line that starts with "name " exactly. */
static int
sample(const char *text, const char *name, long long *v)
{
	size_t nl = strlen(name);

	for (const char *p = text; p != NULL && *p; ) {
		if (strncmp(p, name, nl) == 0 && p[nl] == ' ')
			return sscanf(p + nl + 1, "%lld", v) == 1 ? 0 : -1;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return -1;
}

UNIT_TEST(metrics_format_series)
{
	struct metrics *m = metrics_new();
	static const char *const must[] = {
		"# TYPE beiand_filings gauge",
		"# TYPE beiand_ingested_total counter",
		"# TYPE beiand_mails_total gauge",
		"# TYPE beiand_outbox_depth gauge",
		"# TYPE beiand_outbox_oldest_deferred_seconds gauge",
		"# TYPE beiand_imap_last_sync_timestamp_seconds gauge",
		"# TYPE beiand_quarantine_items gauge",
		"# TYPE beiand_worker_restarts_total counter",
		"# HELP beiand_filings ",
	};
	char *t;
	long long v = -1;

	metrics_ingested(m, METRICS_CH_SPOOL, METRICS_RES_ACCEPTED);
	metrics_ingested(m, METRICS_CH_SPOOL, METRICS_RES_ACCEPTED);
	metrics_ingested(m, METRICS_CH_MAIL, METRICS_RES_INVALID);
	metrics_ingested(m, METRICS_NCHANNELS, METRICS_RES_INVALID); /* ignored */
	metrics_imap_synced(m, 1764300000);
	metrics_worker_restarts_set(m, 3);
	metrics_worker_restarts_set(m, 1);  /* a new pool after a reload */
	t = metrics_text(m);
	CHECK(t != NULL);
	if (t == NULL)
		goto out;
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		CHECKM(strstr(t, must[i]) != NULL, "%s", must[i]);
	CHECK(sample(t, "beiand_ingested_total{channel=\"spool\","
	    "result=\"accepted\"}", &v) == 0 && v == 2);
	CHECK(sample(t, "beiand_ingested_total{channel=\"mail\","
	    "result=\"invalid\"}", &v) == 0 && v == 1);
	CHECK(sample(t, "beiand_ingested_total{channel=\"mail\","
	    "result=\"quarantined\"}", &v) == 0 && v == 0);
	CHECK(sample(t, "beiand_imap_last_sync_timestamp_seconds", &v) == 0 &&
	    v == 1764300000);
	CHECK(sample(t, "beiand_worker_restarts_total", &v) == 0 && v == 4);
	/* every state, also at zero, so that series do not come and go */
	for (int s = WF_NONE + 1; s < WF_NSTATES; s++) {
		char name[96];

		snprintf(name, sizeof(name), "beiand_filings{state=\"%s\"}",
		    workflow_state_name((enum wf_state)s));
		CHECKM(sample(t, name, &v) == 0 && v == 0, "%s", name);
	}
out:
	free(t);
	metrics_free(m);
}

#define T_NOW ((time_t)1795000000)

struct mtctx {
	char dir[64], path[128];
	struct config *cf;
	struct store *st;
};

static int
mtctx_open(struct mtctx *t)
{
	char err[512], db[160];
	FILE *fp;

	strcpy(t->dir, "/tmp/beiand-metrics-XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->path, sizeof(t->path), "%s/beiand.conf", t->dir);
	if ((fp = fopen(t->path, "w")) == NULL)
		return -1;
	fputs("[smtp]\nfrom = beian@provider.example\n", fp);
	fclose(fp);
	if ((t->cf = config_load(t->path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "config: %s\n", err);
		return -1;
	}
	snprintf(db, sizeof(db), "%s/beiand.db", t->dir);
	if ((t->st = store_open(db, t->cf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store: %s\n", err);
		return -1;
	}
	return 0;
}

static void
mtctx_close(struct mtctx *t)
{
	char cmd[128];

	store_close(t->st);
	config_free(t->cf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", t->dir);
}

UNIT_TEST(metrics_refresh_from_store)
{
	struct mtctx t = { 0 };
	struct store_actor w = { 0 };
	struct metrics *m = metrics_new();
	time_t now = time(NULL);
	int64_t id = 0, id2 = 0;
	long long v = -1;
	char *text = NULL, status[256];

	if (mtctx_open(&t) == -1) {
		CHECK(!"store");
		metrics_free(m);
		return;
	}
	w.kind = WF_ACTOR_OWNER;
	w.channel = WF_CHANNEL_MAIL;
	w.name = w.sender = "asker@example.org";
	w.source = "<m1@example.org>";
	CHECK(store_mail_loose(t.st, WF_TPL_HELP, "deadbeef0001", NULL, &w,
	    &id) == 0);
	CHECK(store_mail_loose(t.st, WF_TPL_HELP, "deadbeef0002", NULL, &w,
	    &id2) == 0);
	CHECK(store_outbox_mark_sending(t.st, id) == 0);
	CHECK(store_outbox_mark_deferred(t.st, id, now + 300, "451 later") == 0);
	CHECK(store_quarantine_add(t.st, "q1", "providers/P001/incoming/x.zip",
	    "unreadable", now) == 0);
	CHECK(metrics_refresh(m, t.st, now + 100) == 0);
	text = metrics_text(m);
	CHECK(text != NULL);
	if (text != NULL) {
		CHECK(sample(text, "beiand_mails_total{state=\"deferred\"}",
		    &v) == 0 && v == 1);
		CHECK(sample(text, "beiand_outbox_depth", &v) == 0 && v == 2);
		CHECK(sample(text, "beiand_mails_total{state=\"queued\"}",
		    &v) == 0 && v == 1);
		CHECK(sample(text, "beiand_outbox_oldest_deferred_seconds",
		    &v) == 0 && v >= 95 && v <= 105);
		CHECK(sample(text, "beiand_quarantine_items", &v) == 0 &&
		    v == 1);
	}
	metrics_status(m, status, sizeof(status));
	CHECK_STR(status, "filings: none; outbox 2; quarantine 1");
	/* a refused channel fixed: the deferred mail is due at once, once */
	CHECK_INT(store_channel_deferred_due(t.st, now), 1);
	CHECK_INT(store_channel_deferred_due(t.st, now), 0);
	free(text);
	metrics_free(m);
	mtctx_close(&t);
}

/*
 * The mail channels: recorded in the store on each change (one write, one
 * "changed"), read back by another connection, and shown as
 * beiand_channel_up for the channels in use only.
 */
UNIT_TEST(metrics_channel_up)
{
	struct mtctx t = { 0 };
	struct metrics *m = metrics_new();
	struct store *other;
	char err[256], reason[STORE_CHANNEL_REASON_MAX], db[160];
	char *text = NULL;
	time_t since = 0;
	long long v = -1;
	int failing = -1, refused = -1;

	if (mtctx_open(&t) == -1) {
		CHECK(!"store");
		metrics_free(m);
		return;
	}
	CHECK_INT(store_channel_get(t.st, "smtp", &failing, NULL, reason,
	    sizeof(reason), &since), 1);
	metrics_channels_set(m, 0, 1);
	CHECK(metrics_refresh(m, t.st, T_NOW) == 0);
	text = metrics_text(m);
	/* not tried yet: up; imap not in use: no series */
	CHECK(text != NULL && sample(text, "beiand_channel_up{channel=\"smtp\"}",
	    &v) == 0 && v == 1);
	CHECK(text != NULL && strstr(text, "channel=\"imap\"") == NULL);
	free(text);

	CHECK_INT(store_channel_set(t.st, "smtp", 1, 1, "certificate of h "
	    "refused (x)", T_NOW), 1);
	CHECK_INT(store_channel_set(t.st, "smtp", 1, 1, "certificate of h "
	    "refused (x)", T_NOW + 5), 0);  /* no news */
	/* a new reason: recorded, since kept */
	CHECK_INT(store_channel_set(t.st, "smtp", 1, 1, "login refused: 535",
	    T_NOW + 10), 1);
	snprintf(db, sizeof(db), "%s/beiand.db", t.dir);
	other = store_open(db, t.cf, err, sizeof(err));
	CHECK(other != NULL);
	if (other != NULL) {
		CHECK_INT(store_channel_get(other, "smtp", &failing, &refused,
		    reason, sizeof(reason), &since), 0);
		CHECK_INT(failing, 1);
		CHECK_INT(refused, 1);
		CHECK_STR(reason, "login refused: 535");
		CHECK_INT(since, T_NOW);
		store_close(other);
	}
	metrics_channels_set(m, 1, 1);
	CHECK(metrics_refresh(m, t.st, T_NOW) == 0);
	text = metrics_text(m);
	CHECK(text != NULL && sample(text, "beiand_channel_up{channel=\"smtp\"}",
	    &v) == 0 && v == 0);
	CHECK(text != NULL && sample(text, "beiand_channel_up{channel=\"imap\"}",
	    &v) == 0 && v == 1);
	free(text);
	/* unreachable now: another failure, since kept */
	CHECK_INT(store_channel_set(t.st, "smtp", 1, 0, "login refused: 535",
	    T_NOW + 15), 1);
	CHECK_INT(store_channel_get(t.st, "smtp", &failing, &refused, reason,
	    sizeof(reason), &since), 0);
	CHECK_INT(refused, 0);
	CHECK_INT(since, T_NOW);
	/* ok again: since moves, the reason goes */
	CHECK_INT(store_channel_set(t.st, "smtp", 0, 1, "ignored", T_NOW + 20),
	    1);
	CHECK_INT(store_channel_get(t.st, "smtp", &failing, &refused, reason,
	    sizeof(reason), &since), 0);
	CHECK_INT(failing, 0);
	CHECK_INT(refused, 0);
	CHECK_STR(reason, "");
	CHECK_INT(since, T_NOW + 20);
	CHECK_INT(store_channel_set(t.st, "smtp", 0, 0, NULL, T_NOW + 30), 0);
	CHECK(metrics_refresh(m, t.st, T_NOW) == 0);
	text = metrics_text(m);
	CHECK(text != NULL && sample(text, "beiand_channel_up{channel=\"smtp\"}",
	    &v) == 0 && v == 1);
	free(text);
	metrics_free(m);
	mtctx_close(&t);
}

UNIT_TEST(metrics_write_atomic)
{
	char dir[] = "/tmp/beiand-mwrite-XXXXXX", path[128], cmd[128];
	struct metrics *m = metrics_new();
	struct stat st;
	unsigned char *got;
	size_t len = 0, n = 0;
	DIR *d;
	struct dirent *de;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/beiand.prom", dir);
	metrics_ingested(m, METRICS_CH_SPOOL, METRICS_RES_REPEATED);
	CHECK(metrics_write(m, path) == 0);
	CHECK(metrics_write(m, path) == 0);   /* over an existing file */
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644);
	got = unit_read_file(path, &len);
	CHECK(got != NULL && len > 0 && got[len - 1] == '\n');
	CHECK(got != NULL && strstr((char *)got, "result=\"repeated\"} 1\n"));
	free(got);
	/* no temporary file left beside it */
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' || strstr(de->d_name, ".tmp"))
				n++;
		closedir(d);
	}
	CHECK_INT(n, 1);
	/* a folder that does not exist: -1, nothing written */
	snprintf(path, sizeof(path), "%s/nope/beiand.prom", dir);
	CHECK(metrics_write(m, path) == -1);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	metrics_free(m);
}

UNIT_TEST(metrics_status_counts)
{
	struct metrics *m = metrics_new();
	char small[8], buf[256];

	metrics_status(m, buf, sizeof(buf));
	CHECK_STR(buf, "filings: none; outbox 0; quarantine 0");
	metrics_status(m, small, sizeof(small));
	CHECK(strlen(small) == sizeof(small) - 1);
	metrics_free(m);
}
