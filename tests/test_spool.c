/*
 * spool: a backlog larger than the files followed at once is taken in
 * turns, every file once, without following more than SPOOL_CANDS_MAX.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "daemon/spool.h"
#include "unit.h"

#define BACKLOG (SPOOL_CANDS_MAX + SPOOL_CANDS_MAX / 2 + 7)

struct taken {
	unsigned char *seen;
	size_t n, twice, followed_max;
	const char *incoming;
};

static void
take(struct spool *sp, struct spool_cand *c, void *arg)
{
	struct taken *t = arg;
	char path[4096];
	int i;

	if (sscanf(c->name, "u%d.zip", &i) == 1 && i >= 0 && i < BACKLOG) {
		if (t->seen[i])
			t->twice++;
		t->seen[i] = 1;
		t->n++;
	}
	snprintf(path, sizeof(path), "%s/%s", t->incoming, c->name);
	unlink(path);
	spool_cand_drop(sp, c);
}

UNIT_TEST(spool_backlog)
{
	char dir[] = "/tmp/beiand-spool-XXXXXX", text[512], err[256];
	struct config *cf = NULL;
	struct spool *sp = NULL;
	struct taken t = { 0 };
	int64_t now = 1000000;

	if (mkdtemp(dir) == NULL) {
		unit_fail(__FILE__, __LINE__, "mkdtemp");
		return;
	}
	snprintf(text, sizeof(text), "[daemon]\nspool_dir = %s/spool\n"
	    "state_dir = %s/var\nsettle_ms = 0\n[provider.P001]\n"
	    "name = x\nemail = a@p.example\nip_ranges = 203.0.113.0/24\n",
	    dir, dir);
	if ((cf = config_parse(text, strlen(text), "t.conf", dir, err,
	    sizeof(err))) == NULL || (sp = spool_open(cf, err,
	    sizeof(err))) == NULL) {
		unit_fail(__FILE__, __LINE__, "%s", err);
		goto out;
	}
	for (size_t i = 0; i < spool_nsrcs(sp); i++)
		if (!spool_src(sp, i)->is_bureau)
			t.incoming = spool_src(sp, i)->incoming;
	CHECK(t.incoming != NULL);
	if (t.incoming == NULL)
		goto out;
	t.seen = calloc(BACKLOG, 1);
	for (int i = 0; i < BACKLOG; i++) {
		char path[4096];
		int fd;

		snprintf(path, sizeof(path), "%s/u%d.zip", t.incoming, i);
		if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) != -1)
			close(fd);
	}
	spool_scan(sp, now, 1);
	/* fewer turns than SPOOL_RESCAN_MS: the rescans are those for room */
	for (int turn = 0; turn < 25 && t.n < BACKLOG; turn++) {
		const struct spool_src *src = NULL;

		for (size_t i = 0; i < spool_nsrcs(sp); i++)
			if (spool_src(sp, i)->incoming == t.incoming)
				src = spool_src(sp, i);
		if (src != NULL && src->ncands > t.followed_max)
			t.followed_max = src->ncands;
		now += 1000;
		spool_events(sp, now);
		spool_scan(sp, now, 0);
		/* a few at a time, as workers take them */
		spool_due(sp, now, 700, take, &t);
	}
	CHECK_INT(t.n, BACKLOG);
	CHECK_INT(t.twice, 0);
	CHECKM(t.followed_max == SPOOL_CANDS_MAX, "followed at most %zu",
	    t.followed_max);
out:
	free(t.seen);
	spool_free(sp);
	config_free(cf);
	unit_rmtree(dir);
}
