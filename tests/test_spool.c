/*
 * spool: a backlog larger than the files followed at once is taken in
 * turns, every file once, without following more than SPOOL_CANDS_MAX.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* ---- temporary names, and an upload beiand may not read ------------------ */

struct names {
	char seen[8][64];
	size_t n;
};

static void
note_name(struct spool *sp, struct spool_cand *c, void *arg)
{
	struct names *nm = arg;

	(void)sp;
	if (nm->n < 8)
		snprintf(nm->seen[nm->n++], sizeof(nm->seen[0]), "%s", c->name);
}

static int
names_have(const struct names *nm, const char *name)
{
	for (size_t i = 0; i < nm->n; i++)
		if (strcmp(nm->seen[i], name) == 0)
			return 1;
	return 0;
}

static struct spool *
spool_scratch(char *dir, struct config **cfp, const char **incoming)
{
	char text[512], err[256];
	struct spool *sp;

	*cfp = NULL;
	*incoming = NULL;
	if (mkdtemp(dir) == NULL)
		return NULL;
	snprintf(text, sizeof(text), "[daemon]\nspool_dir = %s/spool\n"
	    "state_dir = %s/var\nsettle_ms = 0\n[provider.P001]\n"
	    "name = x\nemail = a@p.example\nip_ranges = 203.0.113.0/24\n",
	    dir, dir);
	if ((*cfp = config_parse(text, strlen(text), "t.conf", dir, err,
	    sizeof(err))) == NULL || (sp = spool_open(*cfp, err,
	    sizeof(err))) == NULL) {
		unit_fail(__FILE__, __LINE__, "%s", err);
		return NULL;
	}
	for (size_t i = 0; i < spool_nsrcs(sp); i++)
		if (!spool_src(sp, i)->is_bureau)
			*incoming = spool_src(sp, i)->incoming;
	return sp;
}

static void
touch_file(const char *dir, const char *name)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) != -1)
		close(fd);
}

UNIT_TEST(spool_temporary_names)
{
	static const char *const temp[] = {
		".x.zip", "x.zip.part", "x.zip.tmp", "x.zip.filepart",
	};
	char dir[] = "/tmp/beiand-spool-XXXXXX";
	const char *incoming;
	struct config *cf;
	struct spool *sp = spool_scratch(dir, &cf, &incoming);
	struct names nm = { 0 };

	if (sp == NULL || incoming == NULL)
		goto out;
	for (size_t i = 0; i < sizeof(temp) / sizeof(temp[0]); i++)
		touch_file(incoming, temp[i]);
	touch_file(incoming, "done.zip");
	spool_scan(sp, 1000, 1);
	spool_due(sp, 100000, 8, note_name, &nm);
	CHECK(names_have(&nm, "done.zip"));
	for (size_t i = 0; i < sizeof(temp) / sizeof(temp[0]); i++)
		CHECKM(!names_have(&nm, temp[i]), "%s offered", temp[i]);
	CHECK_INT(nm.n, 1);
out:
	spool_free(sp);
	config_free(cf);
	unit_rmtree(dir);
}

/* One that cannot be read waits out a doubling backoff, and a change of
 * its mode (seen through inotify) ends the wait at once. */
UNIT_TEST(spool_unreadable_backoff)
{
	char dir[] = "/tmp/beiand-spool-XXXXXX", path[4096];
	const char *incoming;
	struct config *cf;
	struct spool *sp = spool_scratch(dir, &cf, &incoming);
	struct names nm = { 0 };
	struct spool_cand *c;
	int64_t now = 1000;

	if (sp == NULL || incoming == NULL)
		goto out;
	touch_file(incoming, "locked.zip");
	spool_scan(sp, now, 1);
	spool_due(sp, now, 8, note_name, &nm);
	CHECK_INT(nm.n, 1);
	c = NULL;
	for (uint64_t id = 1; id < 8 && c == NULL; id++)
		c = spool_cand_find(sp, id);
	CHECK(c != NULL);
	if (c == NULL)
		goto out;
	/* the first failure is reported, later ones not */
	CHECK_INT(spool_cand_unreadable(sp, c, now), 1);
	CHECK_INT(spool_next_due(sp, now), SPOOL_UNREADABLE_MIN_MS);
	nm.n = 0;
	spool_due(sp, now + SPOOL_UNREADABLE_MIN_MS - 1, 8, note_name, &nm);
	CHECK_INT(nm.n, 0);
	now += SPOOL_UNREADABLE_MIN_MS;
	spool_due(sp, now, 8, note_name, &nm);
	CHECK_INT(nm.n, 1);
	CHECK_INT(spool_cand_unreadable(sp, c, now), 0);
	CHECK_INT(spool_next_due(sp, now), 2 * SPOOL_UNREADABLE_MIN_MS);
	for (int i = 0; i < 20; i++)
		spool_cand_unreadable(sp, c, now);
	CHECK_INT(spool_next_due(sp, now), SPOOL_UNREADABLE_MAX_MS);
	/* chmod: tried again at once; not reported again (same upload) */
	snprintf(path, sizeof(path), "%s/locked.zip", incoming);
	CHECK(chmod(path, 0640) == 0);
	spool_events(sp, now + 1);
	CHECK_INT(spool_next_due(sp, now + 1), 0);
	nm.n = 0;
	spool_due(sp, now + 1, 8, note_name, &nm);
	CHECK_INT(nm.n, 1);
	CHECK_INT(spool_cand_unreadable(sp, c, now + 1), 0);
	CHECK_INT(spool_next_due(sp, now + 1), SPOOL_UNREADABLE_MIN_MS);
out:
	spool_free(sp);
	config_free(cf);
	unit_rmtree(dir);
}
