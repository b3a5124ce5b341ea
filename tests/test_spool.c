/*
 * spool: a backlog larger than the files followed at once is taken in
 * turns, every file once, without following more than SPOOL_CANDS_MAX;
 * a claimed file is checked again when it is opened in work/; quarantine
 * names fit.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
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

struct opened {
	struct spool_cand *c;
	int fd;
};

static void
open_one(struct spool *sp, struct spool_cand *c, void *arg)
{
	struct opened *o = arg;

	if (o->c == NULL) {
		o->c = c;
		o->fd = spool_cand_open(sp, c);
	}
}

static void
put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd != -1) {
		if (write(fd, text, strlen(text)) < 0)
			unit_fail(__FILE__, __LINE__, "write %s", path);
		close(fd);
	}
}

/* What was checked in incoming/ is checked again on the file opened in
 * work/: a hard link made after the check, or another file renamed in
 * between the check and the claim's rename, is refused there. */
UNIT_TEST(spool_claim_checked_again)
{
	char dir[] = "/tmp/beiand-spool-XXXXXX", text[512], err[256];
	char path[4096], other[4096], lnk[4096], work[768], qn[256];
	struct config *cf = NULL;
	struct spool *sp = NULL;
	struct opened o = { NULL, -1 };
	struct spool_ident ck;
	const char *incoming = NULL;
	struct stat sb;
	int fd;

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
			incoming = spool_src(sp, i)->incoming;
	snprintf(path, sizeof(path), "%s/u.zip", incoming);
	snprintf(other, sizeof(other), "%s/.other.part", incoming);
	put(path, "the checked upload");
	put(other, "another file");

	/* 1: the name replaced after the check, before the claim */
	spool_scan(sp, 1000000, 1);
	spool_due(sp, 1000000, 1, open_one, &o);
	CHECK(o.c != NULL && o.fd != -1);
	if (o.c == NULL)
		goto out;
	close(o.fd);
	CHECK(o.c->has_checked);
	ck = o.c->checked;
	CHECK(rename(other, path) == 0);
	CHECK(spool_claim(sp, o.c, work, sizeof(work)) == 0);
	errno = 0;
	CHECK(spool_work_open(sp, work, &ck, NULL) == -1 && errno == ESTALE);
	/* unknown identity (a claim found at the start): a plain file passes */
	fd = spool_work_open(sp, work, NULL, &sb);
	CHECK(fd != -1 && sb.st_nlink == 1);
	if (fd != -1)
		close(fd);

	/* 2: a hard link made after the claim, before the open */
	snprintf(lnk, sizeof(lnk), "%s/outside", dir);
	snprintf(path, sizeof(path), "%s/%s", spool_work_dir(sp), work);
	CHECK(stat(path, &sb) == 0);
	ck.dev = sb.st_dev;
	ck.ino = sb.st_ino;
	CHECK(link(path, lnk) == 0);
	errno = 0;
	CHECK(spool_work_open(sp, work, &ck, NULL) == -1 && errno == EMLINK);
	errno = 0;
	CHECK(spool_work_open(sp, work, NULL, NULL) == -1 && errno == EMLINK);
	unlink(lnk);
	CHECK(symlink(path, lnk) == 0);
	CHECK(rename(lnk, path) == 0); /* work/<work> now a symbolic link */
	errno = 0;
	CHECK(spool_work_open(sp, work, NULL, NULL) == -1 && errno == ELOOP);

	/* quarantine names fit whatever the upload name; the name is kept
	 * in the .reason */
	CHECK(spool_quarantine_name("1796663591.064247.13~p~P001~x.zip", qn,
	    sizeof(qn)) == 0);
	CHECK_STR(qn, "1796663591.064247.13~p~P001");
	CHECK(spool_quarantine_name("no-tilde", qn, sizeof(qn)) == -1);
out:
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
