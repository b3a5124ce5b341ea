/*
 * spool: watch the incoming folders, decide when an upload may be
 * claimed, claim it, quarantine what cannot be read safely.
 *
 * Hostile input: names, contents and timing of everything in an incoming
 * folder.  This file reads no content at all (workers do); it only
 * stat(2)s, opens with O_NOFOLLOW for a worker, and rename(2)s within one
 * filesystem.  Names beginning with "." or ending in ".part", ".tmp" or
 * ".filepart" (WinSCP's) are uploads in progress and ignored until
 * renamed.  An upload beiand may not read is left where it is and looked
 * at again with a backoff, never in a tight loop.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "daemon/receipt.h"
#include "daemon/spool.h"
#include "daemon/startcheck.h"
#include "lib/compat.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

#define SPOOL_RESCAN_MS 30000

struct spool {
	const struct config *cf;
	char *root, *work, *quarantine;
	int ifd;
	struct spool_src *srcs;
	size_t nsrcs;
	struct spool_cand **cands;
	size_t ncands, capcands;
	/* hash chains: by (src, name) and by id; nbuckets a power of two */
	struct spool_cand **by_name, **by_id;
	size_t nbuckets;
	uint64_t next_id;
	int need_rescan;
	int64_t last_scan_ms;
	int64_t timeout_check_ms;
	unsigned long claim_seq;
};

static int
ends_with(const char *s, const char *x)
{
	size_t ls = strlen(s), lx = strlen(x);

	return ls >= lx && strcmp(s + ls - lx, x) == 0;
}

/* An upload still being written under a temporary name. */
static int
name_ignored(const char *name)
{
	return name[0] == '.' || ends_with(name, ".part") ||
	    ends_with(name, ".tmp") || ends_with(name, ".filepart");
}

static int
mkdir_mode(const char *path, mode_t mode, uid_t uid, gid_t gid, int chown_it)
{
	if (mkdir(path, mode) == -1 && errno != EEXIST)
		return -1;
	if (chown_it && chown(path, uid, gid) == -1)
		return -1;
	if (chown_it && chmod(path, mode) == -1)
		return -1;
	return 0;
}

static int
mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, mode) == -1 && errno != EEXIST ? -1 : 0;
}

/*
 * DESIGN.md's ownership, when running as root: the provider's account is
 * the user "beiand-<code>" (lower case) when it exists, beiand's own user
 * and group "beiand" when they exist; root otherwise.
 */
static void
owners(const char *code, uid_t *acct_uid, gid_t *acct_gid, uid_t *b_uid,
    gid_t *b_gid)
{
	char name[96];
	struct passwd *pw;
	struct group *gr;
	size_t i;

	*acct_uid = *b_uid = 0;
	*acct_gid = *b_gid = 0;
	snprintf(name, sizeof(name), "beiand-%s", code);
	for (i = 0; name[i]; i++)
		if (name[i] >= 'A' && name[i] <= 'Z')
			name[i] = (char)(name[i] - 'A' + 'a');
	if ((pw = getpwnam(name)) != NULL) {
		*acct_uid = pw->pw_uid;
		*acct_gid = pw->pw_gid;
	}
	if ((pw = getpwnam("beiand")) != NULL)
		*b_uid = pw->pw_uid;
	if ((gr = getgrnam("beiand")) != NULL)
		*b_gid = gr->gr_gid;
}

/* Temporary files of receipts a crash interrupted ("." ... ".tmp"). */
static void
stale_tmp_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] == '.' && ends_with(de->d_name, ".tmp") &&
		    unlinkat(dirfd(d), de->d_name, 0) == 0)
			log_info("spool: removed %s/%s left by a stop", dir,
			    de->d_name);
	closedir(d);
}

/*
 * err: what keeps folder path from being used, told as `beiand -n` tells
 * it (a missing folder is not "Permission denied"), and fix, the way to
 * mend it.  errno is that of the call that failed.
 */
static void
dir_error(char *err, size_t errsize, const char *path, int need,
    const char *fix)
{
	char why[4200];
	int e = errno;

	if (startcheck_dir(path, need, why, sizeof(why)) == -1)
		snprintf(err, errsize, "%s: %s; %s", path, why, fix);
	else
		snprintf(err, errsize, "%s: %s", path, strerror(e));
}

/* The first of a source's folders that cannot be used, in err. */
static void
src_error(const struct spool_src *s, const char *base, char *err,
    size_t errsize)
{
	const char *dirs[3] = { base, s->incoming, s->outgoing };
	char fix[256], why[4200];
	int e = errno;

	if (s->is_bureau)
		snprintf(fix, sizeof(fix), "see beiand -n");
	else
		snprintf(fix, sizeof(fix), "as root: beianctl provider add %s",
		    s->code);
	for (size_t i = 0; i < 3; i++)
		if (startcheck_dir(dirs[i], (i > 0 ? STARTCHECK_READ |
		    STARTCHECK_WRITE : 0) | STARTCHECK_MKDIR_P, why,
		    sizeof(why)) == -1) {
			snprintf(err, errsize, "%s: %s; %s", dirs[i], why, fix);
			return;
		}
	snprintf(err, errsize, "%s: %s", base, strerror(e));
}

static int
src_make(struct spool *sp, struct spool_src *s, char *err, size_t errsize)
{
	char base[4096];
	uid_t au, bu;
	gid_t ag, bg;
	int root = geteuid() == 0;

	snprintf(base, sizeof(base), "%s/%s", sp->root, s->rel);
	s->incoming = xasprintf("%s/incoming", base);
	s->outgoing = xasprintf("%s/outgoing", base);
	s->wd = -1;
	owners(s->code, &au, &ag, &bu, &bg);
	if (mkdir_p(base, 0755) == -1 ||
	    mkdir_mode(base, 0755, 0, 0, root && !s->is_bureau) == -1 ||
	    mkdir_mode(s->incoming, 02770, au, bg, root) == -1 ||
	    mkdir_mode(s->outgoing, 02750, bu, ag, root) == -1) {
		src_error(s, base, err, errsize);
		return -1;
	}
	stale_tmp_remove(s->outgoing);
	return 0;
}

static void
srcs_free(struct spool *sp)
{
	for (size_t i = 0; i < sp->nsrcs; i++) {
		if (sp->srcs[i].wd != -1)
			inotify_rm_watch(sp->ifd, sp->srcs[i].wd);
		free(sp->srcs[i].incoming);
		free(sp->srcs[i].outgoing);
	}
	free(sp->srcs);
	sp->srcs = NULL;
	sp->nsrcs = 0;
}

static void
cands_clear(struct spool *sp)
{
	for (size_t i = 0; i < sp->ncands; i++) {
		free(sp->cands[i]->name);
		free(sp->cands[i]);
	}
	sp->ncands = 0;
	for (size_t i = 0; i < sp->nsrcs; i++)
		sp->srcs[i].ncands = 0;
	if (sp->nbuckets > 0) {
		memset(sp->by_name, 0, sp->nbuckets * sizeof(*sp->by_name));
		memset(sp->by_id, 0, sp->nbuckets * sizeof(*sp->by_id));
	}
}

/* Thousands of uploads may wait at once: lookups must not be linear. */
static size_t
hash_name(size_t src, const char *name)
{
	uint64_t h = 1469598103934665603ULL ^ src;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)h;
}

static size_t
hash_id(uint64_t id)
{
	return (size_t)(id * 11400714819323198485ULL >> 17);
}

static void
hash_insert(struct spool *sp, struct spool_cand *c)
{
	size_t m = sp->nbuckets - 1, bn = hash_name(c->src, c->name) & m,
	    bi = hash_id(c->id) & m;

	c->hnext_name = sp->by_name[bn];
	sp->by_name[bn] = c;
	c->hnext_id = sp->by_id[bi];
	sp->by_id[bi] = c;
}

static void
hash_remove(struct spool *sp, struct spool_cand *c)
{
	size_t m = sp->nbuckets - 1;
	struct spool_cand **pp;

	for (pp = &sp->by_name[hash_name(c->src, c->name) & m]; *pp != NULL;
	    pp = &(*pp)->hnext_name)
		if (*pp == c) {
			*pp = c->hnext_name;
			break;
		}
	for (pp = &sp->by_id[hash_id(c->id) & m]; *pp != NULL;
	    pp = &(*pp)->hnext_id)
		if (*pp == c) {
			*pp = c->hnext_id;
			break;
		}
}

/* Keep at least two buckets per candidate. */
static void
hash_grow(struct spool *sp)
{
	size_t n = sp->nbuckets ? sp->nbuckets : 256;

	if (sp->nbuckets >= 2 * (sp->ncands + 1))
		return;
	while (n < 2 * (sp->ncands + 1))
		n *= 2;
	free(sp->by_name);
	free(sp->by_id);
	sp->by_name = xcalloc(n, sizeof(*sp->by_name));
	sp->by_id = xcalloc(n, sizeof(*sp->by_id));
	sp->nbuckets = n;
	for (size_t i = 0; i < sp->ncands; i++)
		hash_insert(sp, sp->cands[i]);
}

static int
srcs_build(struct spool *sp, const struct config *cf, char *err,
    size_t errsize)
{
	struct stat wst, ist;
	size_t n = cf->nproviders + cf->nbureaus, k = 0;

	sp->srcs = xcalloc(n ? n : 1, sizeof(*sp->srcs));
	for (size_t i = 0; i < cf->nproviders; i++, k++) {
		struct spool_src *s = &sp->srcs[k];
		strlcpy(s->code, cf->providers[i].code, sizeof(s->code));
		snprintf(s->source, sizeof(s->source), "spool:%s", s->code);
		snprintf(s->rel, sizeof(s->rel), "providers/%s", s->code);
	}
	for (size_t i = 0; i < cf->nbureaus; i++, k++) {
		struct spool_src *s = &sp->srcs[k];
		s->is_bureau = 1;
		strlcpy(s->code, cf->bureaus[i].province, sizeof(s->code));
		snprintf(s->source, sizeof(s->source), "bureau:%s", s->code);
		snprintf(s->rel, sizeof(s->rel), "bureau/%s", s->code);
	}
	sp->nsrcs = n;
	if (stat(sp->work, &wst) == -1) {
		snprintf(err, errsize, "%s: %s", sp->work, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct spool_src *s = &sp->srcs[i];

		if (src_make(sp, s, err, errsize) == -1)
			return -1;
		if (stat(s->incoming, &ist) == -1) {
			dir_error(err, errsize, s->incoming, STARTCHECK_READ |
			    STARTCHECK_WRITE, "see beiand -n");
			return -1;
		}
		/* A claim is a rename(2): it must not cross filesystems. */
		if (ist.st_dev != wst.st_dev) {
			snprintf(err, errsize, "%s and %s are on different "
			    "filesystems", s->incoming, sp->work);
			return -1;
		}
		s->wd = inotify_add_watch(sp->ifd, s->incoming, IN_CLOSE_WRITE |
		    IN_MOVED_TO | IN_CREATE | IN_MODIFY | IN_ATTRIB |
		    IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR);
		if (s->wd == -1 && errno == EACCES) {
			/* inotify needs to read the folder */
			dir_error(err, errsize, s->incoming, STARTCHECK_READ |
			    STARTCHECK_WRITE, "see beiand -n");
			return -1;
		}
		if (s->wd == -1) {
			snprintf(err, errsize, "inotify %s: %s", s->incoming,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

struct spool *
spool_open(const struct config *cf, char *err, size_t errsize)
{
	struct spool *sp = xcalloc(1, sizeof(*sp));

	sp->cf = cf;
	sp->root = xstrdup(cf->spool_dir);
	sp->work = xasprintf("%s/work", sp->root);
	sp->quarantine = xasprintf("%s/quarantine", sp->root);
	sp->ifd = -1;
	sp->need_rescan = 1;
	sp->next_id = 1;
	if (mkdir_p(sp->root, 0755) == -1 || mkdir_p(sp->work, 0700) == -1 ||
	    mkdir_p(sp->quarantine, 0750) == -1) {
		dir_error(err, errsize, access(sp->work, F_OK) == 0 ?
		    sp->quarantine : sp->work, STARTCHECK_READ |
		    STARTCHECK_WRITE | STARTCHECK_MKDIR_P, "see beiand -n");
		goto fail;
	}
	stale_tmp_remove(sp->quarantine);
	if ((sp->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		snprintf(err, errsize, "inotify: %s", strerror(errno));
		goto fail;
	}
	if (srcs_build(sp, cf, err, errsize) == -1)
		goto fail;
	return sp;
fail:
	spool_free(sp);
	return NULL;
}

int
spool_reload(struct spool *sp, const struct config *cf, char *err,
    size_t errsize)
{
	srcs_free(sp);
	cands_clear(sp);
	sp->cf = cf;
	sp->need_rescan = 1;
	return srcs_build(sp, cf, err, errsize);
}

void
spool_free(struct spool *sp)
{
	if (sp == NULL)
		return;
	srcs_free(sp);
	cands_clear(sp);
	free(sp->cands);
	free(sp->by_name);
	free(sp->by_id);
	if (sp->ifd != -1)
		close(sp->ifd);
	free(sp->root);
	free(sp->work);
	free(sp->quarantine);
	free(sp);
}

int
spool_fd(const struct spool *sp)
{
	return sp->ifd;
}

const struct spool_src *
spool_src(const struct spool *sp, size_t i)
{
	return i < sp->nsrcs ? &sp->srcs[i] : NULL;
}

size_t
spool_nsrcs(const struct spool *sp)
{
	return sp->nsrcs;
}

const char *
spool_work_dir(const struct spool *sp)
{
	return sp->work;
}

const char *
spool_quarantine_dir(const struct spool *sp)
{
	return sp->quarantine;
}

static struct spool_cand *
cand_lookup(struct spool *sp, size_t src, const char *name)
{
	if (sp->nbuckets == 0)
		return NULL;
	for (struct spool_cand *c = sp->by_name[hash_name(src, name) &
	    (sp->nbuckets - 1)]; c != NULL; c = c->hnext_name)
		if (c->src == src && strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

struct spool_cand *
spool_cand_find(struct spool *sp, uint64_t id)
{
	if (sp->nbuckets == 0)
		return NULL;
	for (struct spool_cand *c = sp->by_id[hash_id(id) &
	    (sp->nbuckets - 1)]; c != NULL; c = c->hnext_id)
		if (c->id == id)
			return c;
	return NULL;
}

void
spool_cand_drop(struct spool *sp, struct spool_cand *c)
{
	size_t i = c->slot;

	if (i >= sp->ncands || sp->cands[i] != c)
		return;
	hash_remove(sp, c);
	sp->srcs[c->src].ncands--;
	sp->cands[i] = sp->cands[--sp->ncands];
	sp->cands[i]->slot = i;
	free(c->name);
	free(c);
}

/* How long ago the file last changed (data, name or mode), by its ctime:
 * a file found by a rescan that has lain untouched need not settle anew.
 * 0 when the clock and the file disagree. */
static int64_t
ctime_age_ms(const struct stat *st)
{
	struct timespec now;
	int64_t age;

	if (clock_gettime(CLOCK_REALTIME, &now) != 0)
		return 0;
	age = ((int64_t)now.tv_sec - (int64_t)st->st_ctim.tv_sec) * 1000 +
	    ((int64_t)now.tv_nsec - (int64_t)st->st_ctim.tv_nsec) / 1000000;
	return age > 0 && age < 86400000 ? age : 0;
}

/* Look at src/name now: add, update or drop its candidate; the
 * candidate, or NULL when there is none. */
static struct spool_cand *
cand_note(struct spool *sp, size_t src, const char *name, int64_t now_ms)
{
	struct spool_cand *c = cand_lookup(sp, src, name);
	char path[4096];
	struct stat st;
	int64_t mt, ct;

	if (name_ignored(name))
		return NULL;
	if (c == NULL && sp->srcs[src].ncands >= SPOOL_CANDS_MAX) {
		sp->srcs[src].left_unseen = 1;
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", sp->srcs[src].incoming, name);
	if (lstat(path, &st) == -1 || S_ISDIR(st.st_mode)) {
		if (c != NULL && !c->checking) {
			spool_cand_drop(sp, c);
			return NULL;
		}
		return c;
	}
	mt = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	ct = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	if (c != NULL && c->ctime_ns != ct) {
		/* Its mode, owner or data changed: one that could not be
		 * read is tried again at once. */
		c->retry_ms = 0;
		c->backoff_ms = 0;
		c->ctime_ns = ct;
	}
	if (c == NULL) {
		xgrow(&sp->cands, &sp->capcands, sp->ncands, sizeof(*sp->cands));
		c = xcalloc(1, sizeof(*c));
		c->id = sp->next_id++;
		c->src = src;
		c->name = xstrdup(name);
		c->first_ms = now_ms;
		c->changed_ms = now_ms - ctime_age_ms(&st);
		c->slot = sp->ncands;
		sp->cands[sp->ncands++] = c;
		sp->srcs[src].ncands++;
		hash_grow(sp);
		if (sp->nbuckets > 0 && cand_lookup(sp, src, name) != c)
			hash_insert(sp, c);
	} else if (c->dev == st.st_dev && c->ino == st.st_ino &&
	    c->size == st.st_size && c->mtime_ns == mt)
		return c;
	else {
		c->changed_ms = now_ms;
		c->incomplete = 0;
		c->renamed = 0; /* written to since: settle as any other */
		c->unreadable = 0; /* a new upload: reported anew */
	}
	c->ctime_ns = ct;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->size = st.st_size;
	c->mtime_ns = mt;
	return c;
}

void
spool_events(struct spool *sp, int64_t now_ms)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(sp->ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				if (!sp->need_rescan)
					log_info("spool: inotify queue "
					    "overflowed: rescanning");
				sp->need_rescan = 1;
				continue;
			}
			if (ev->len == 0)
				continue;
			for (size_t i = 0; i < sp->nsrcs; i++) {
				struct spool_cand *c;

				if (sp->srcs[i].wd != ev->wd)
					continue;
				c = cand_note(sp, i, ev->name, now_ms);
				/* Renamed into place: complete by the upload
				 * protocol (DESIGN.md), no settling needed. */
				if (c != NULL && (ev->mask & IN_MOVED_TO))
					c->renamed = 1;
			}
		}
	}
}

void
spool_scan(struct spool *sp, int64_t now_ms, int force)
{
	int room = 0;

	for (size_t i = 0; i < sp->nsrcs; i++)
		if (sp->srcs[i].left_unseen &&
		    sp->srcs[i].ncands <= SPOOL_CANDS_MAX / 2)
			room = 1;
	if (!force && !sp->need_rescan && !room &&
	    now_ms - sp->last_scan_ms < SPOOL_RESCAN_MS)
		return;
	sp->need_rescan = 0;
	for (size_t i = 0; i < sp->nsrcs; i++)
		sp->srcs[i].left_unseen = 0;
	sp->last_scan_ms = now_ms;
	for (size_t i = 0; i < sp->nsrcs; i++) {
		DIR *d = opendir(sp->srcs[i].incoming);
		struct dirent *de;

		if (d == NULL) {
			log_warn("spool: %s: %s", sp->srcs[i].incoming,
			    strerror(errno));
			continue;
		}
		while ((de = readdir(d)) != NULL)
			cand_note(sp, i, de->d_name, now_ms);
		closedir(d);
	}
	/* Forget candidates whose files went away. */
	for (size_t i = 0; i < sp->ncands;) {
		struct spool_cand *c = sp->cands[i];
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s",
		    sp->srcs[c->src].incoming, c->name);
		if (!c->checking && lstat(path, &st) == -1) {
			spool_cand_drop(sp, c);
			continue;
		}
		i++;
	}
}

void
spool_due(struct spool *sp, int64_t now_ms, size_t max,
    void (*cb)(struct spool *, struct spool_cand *, void *), void *arg)
{
	int64_t settle = (int64_t)sp->cf->settle_ms;

	for (size_t i = 0; i < sp->ncands && max > 0; i++) {
		struct spool_cand *c = sp->cands[i];

		if (c->checking || c->incomplete || now_ms < c->retry_ms ||
		    (!c->renamed && now_ms - c->changed_ms < settle))
			continue;
		/* Confirm with a fresh look: inotify may have missed a write. */
		cand_note(sp, c->src, c->name, now_ms);
		if (i >= sp->ncands || sp->cands[i] != c ||
		    now_ms < c->retry_ms ||
		    (!c->renamed && now_ms - c->changed_ms < settle))
			continue;
		max--;
		cb(sp, c, arg);
	}
}

void
spool_timed_out(struct spool *sp, int64_t now_ms,
    void (*cb)(struct spool *, struct spool_cand *, void *), void *arg)
{
	int64_t limit = (int64_t)sp->cf->upload_timeout * 1000;

	/* upload_timeout counts in seconds: a look twice a second will do,
	 * not one per turn of the loop over every waiting upload */
	if (now_ms < sp->timeout_check_ms)
		return;
	sp->timeout_check_ms = now_ms + 500;

	for (size_t i = 0; i < sp->ncands; i++) {
		struct spool_cand *c = sp->cands[i];

		if (c->incomplete && !c->reported && now_ms - c->first_ms >= limit)
			cb(sp, c, arg);
	}
}

int64_t
spool_next_due(const struct spool *sp, int64_t now_ms)
{
	int64_t best = -1, settle = (int64_t)sp->cf->settle_ms;

	for (size_t i = 0; i < sp->ncands; i++) {
		const struct spool_cand *c = sp->cands[i];
		int64_t d;

		if (c->checking)
			continue;
		if (c->incomplete) {
			if (c->reported)
				continue;
			d = c->first_ms + (int64_t)sp->cf->upload_timeout * 1000 -
			    now_ms;
		} else if (c->renamed)
			d = 0;
		else
			d = c->changed_ms + settle - now_ms;
		if (c->retry_ms - now_ms > d)
			d = c->retry_ms - now_ms; /* unreadable: its backoff */
		if (d < 0)
			d = 0;
		if (best == -1 || d < best)
			best = d;
	}
	return best;
}

int
spool_cand_open(struct spool *sp, struct spool_cand *c)
{
	int dfd, fd;
	struct stat st;

	if ((dfd = open(sp->srcs[c->src].incoming, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	fd = openat(dfd, c->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK);
	close(dfd);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	/* What is checked from here on (wholeness, the claim) is this
	 * inode: the claimed file must be it. */
	c->checked.dev = st.st_dev;
	c->checked.ino = st.st_ino;
	c->has_checked = 1;
	return fd;
}

int
spool_work_open(const struct spool *sp, const char *work,
    const struct spool_ident *checked, struct stat *sb)
{
	char path[4096];
	struct stat st;
	int fd, e;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", sp->work, work) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	/* The check made in incoming/ again, on the file now open: a link
	 * made, or another file renamed in, after it would otherwise be
	 * read (and kept) as the one checked. */
	e = !S_ISREG(st.st_mode) ? EINVAL : st.st_nlink != 1 ? EMLINK :
	    checked != NULL && (st.st_dev != checked->dev ||
	    st.st_ino != checked->ino) ? ESTALE : 0;
	if (e != 0) {
		close(fd);
		errno = e;
		return -1;
	}
	if (sb != NULL)
		*sb = st;
	return fd;
}

int
spool_cand_unreadable(struct spool *sp, struct spool_cand *c, int64_t now_ms)
{
	int first = !c->unreadable;

	(void)sp;
	if (c->backoff_ms == 0)
		c->backoff_ms = SPOOL_UNREADABLE_MIN_MS;
	else if ((c->backoff_ms *= 2) > SPOOL_UNREADABLE_MAX_MS)
		c->backoff_ms = SPOOL_UNREADABLE_MAX_MS;
	c->retry_ms = now_ms + c->backoff_ms;
	c->unreadable = 1;
	return first;
}

int
spool_claim(struct spool *sp, struct spool_cand *c, char *work,
    size_t worksize)
{
	char from[4096], to[4096];
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if ((size_t)snprintf(work, worksize, "%lld.%06ld.%lu~%c~%s~%s",
	    (long long)ts.tv_sec, ts.tv_nsec / 1000, ++sp->claim_seq,
	    sp->srcs[c->src].is_bureau ? 'b' : 'p', sp->srcs[c->src].code,
	    c->name) >= worksize) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(from, sizeof(from), "%s/%s", sp->srcs[c->src].incoming,
	    c->name);
	snprintf(to, sizeof(to), "%s/%s", sp->work, work);
	if (rename(from, to) == -1)
		return -1;
	spool_cand_drop(sp, c);
	return 0;
}

int
spool_work_origin(const struct spool *sp, const char *work, size_t *src,
    const char **upload)
{
	const char *a = strchr(work, '~'), *b, *c;
	char code[64];
	int bureau;

	if (a == NULL || (a[1] != 'p' && a[1] != 'b') || a[2] != '~')
		return -1;
	bureau = a[1] == 'b';
	b = a + 3;
	if ((c = strchr(b, '~')) == NULL || (size_t)(c - b) >= sizeof(code))
		return -1;
	memcpy(code, b, (size_t)(c - b));
	code[c - b] = '\0';
	for (size_t i = 0; i < sp->nsrcs; i++)
		if (sp->srcs[i].is_bureau == bureau &&
		    strcmp(sp->srcs[i].code, code) == 0) {
			*src = i;
			*upload = c + 1;
			return 0;
		}
	return -1;
}

int
spool_quarantine_name(const char *work, char *buf, size_t size)
{
	const char *a = strchr(work, '~'), *b, *c;

	/* "<stamp>~<p|b>~<code>~<name>": all but "~<name>" */
	if (a == NULL || (b = strchr(a + 1, '~')) == NULL ||
	    (c = strchr(b + 1, '~')) == NULL || (size_t)(c - work) >= size ||
	    (size_t)(c - work) > SPOOL_QNAME_MAX) {
		errno = EINVAL;
		return -1;
	}
	memcpy(buf, work, (size_t)(c - work));
	buf[c - work] = '\0';
	return 0;
}

/* name with bytes below 0x20 and 0x7f as \xHH (the .reason is read by
 * people, the name came from outside). */
static void
name_escape(const char *name, char *buf, size_t size)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)name;
	    *p != '\0' && o + 5 < size; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", *p);
		else
			buf[o++] = (char)*p;
	}
	buf[o] = '\0';
}

int
spool_quarantine(struct spool *sp, const char *work, const char *reason)
{
	char from[4096], to[4096], qname[SPOOL_QNAME_MAX + 1], rname[512];
	char *text, upload[1200];
	const char *up;
	size_t src;
	int rc;

	if (spool_quarantine_name(work, qname, sizeof(qname)) == -1 ||
	    spool_work_origin(sp, work, &src, &up) == -1) {
		errno = EINVAL;
		return -1;
	}
	snprintf(from, sizeof(from), "%s/%s", sp->work, work);
	snprintf(to, sizeof(to), "%s/%s", sp->quarantine, qname);
	snprintf(rname, sizeof(rname), "%s.reason", qname);
	/* the name it was uploaded as is kept here, not in the file's own
	 * name: an upload name near NAME_MAX leaves no room for a suffix */
	name_escape(up, upload, sizeof(upload));
	text = xasprintf("upload: %s\nfrom: %s/incoming/\n%s", upload,
	    sp->srcs[src].rel, reason);
	rc = file_write_atomic(sp->quarantine, rname, text, strlen(text), 0640);
	free(text);
	if (rc == -1)
		return -1;
	return rename(from, to);
}
