/*
 * spool: the upload folders (DESIGN.md, Spool layout).
 *
 * Hostile input: everything in an incoming folder, including its names
 * and its timing (files written slowly, replaced, renamed, linked).  This
 * file never parses content; it decides when a file may be claimed (its
 * name is not a temporary one, it stayed unchanged for settle_ms, and a
 * worker found its archive whole), claims it by rename(2) into work/,
 * and moves what cannot be read safely to quarantine/ with a .reason.
 * inotify is a hint only: folders are rescanned at start, on queue
 * overflow and on a timer.
 */
#ifndef BEIAND_SPOOL_H
#define BEIAND_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct config;
struct spool;

/* One incoming folder: a provider's or a bureau's. */
/*
 * Files of one incoming/ folder followed at once.  More wait unseen
 * (memory does not grow with a backlog, and one provider's cannot crowd
 * out another's); once the folder's followed files are down to half, a
 * rescan picks up the next.  Those come without their rename event: they
 * settle and are checked whole like a plain put, which is always safe.
 */
#define SPOOL_CANDS_MAX 4096

struct spool_src {
	int is_bureau;
	char code[64];      /* provider code or province code */
	char source[80];    /* "spool:P001" / "bureau:11": the repeat key */
	char rel[128];      /* "providers/P001" / "bureau/11", under spool_dir */
	char *incoming, *outgoing;
	int wd;
	/* spool.c's own: files followed, and whether more were left unseen */
	size_t ncands;
	int left_unseen;
};

/* A file's identity, as checked before its claim. */
struct spool_ident {
	dev_t dev;
	ino_t ino;
};

/* A file waiting in an incoming folder. */
struct spool_cand {
	uint64_t id;
	size_t src;
	char *name;
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns;
	int64_t changed_ms;  /* monotonic ms of the last change seen */
	int64_t first_ms;    /* monotonic ms when first seen */
	int checking;        /* a wholeness check is running */
	int64_t checked_ms;  /* changed_ms when that check started */
	int incomplete;      /* found incomplete at its current size */
	int reported;        /* ARCHIVE_TRUNCATED receipt written */
	int renamed;         /* renamed into place, unchanged since: whole by
	                      * the upload protocol, claimed without settling
	                      * or a wholeness check */
	int64_t ctime_ns;    /* its change time: a chmod shows only there */
	/* An upload beiand may not read (its mode leaves beiand out):
	 * spool_cand_unreadable() */
	int64_t retry_ms;    /* not offered by spool_due() before this */
	int64_t backoff_ms;  /* the wait after the last failed open, 0: none */
	int unreadable;      /* reported (log, receipt) since its last upload */
	struct spool_ident checked; /* the inode spool_cand_open() checked */
	int has_checked;
	/* spool.c's own: position and hash chains (by name, by id) */
	size_t slot;
	struct spool_cand *hnext_name, *hnext_id;
};

/*
 * Make the tree under cf->spool_dir (ownership as DESIGN.md says when
 * run as root), check that work/ is on the same filesystem as every
 * incoming folder, and watch the incoming folders.  NULL with err set on
 * failure.
 */
struct spool *spool_open(const struct config *cf, char *err, size_t errsize);
void spool_free(struct spool *sp);
/* Take a new configuration (new provider folders are made and watched). */
int spool_reload(struct spool *sp, const struct config *cf, char *err,
    size_t errsize);

int spool_fd(const struct spool *sp);
const struct spool_src *spool_src(const struct spool *sp, size_t i);
size_t spool_nsrcs(const struct spool *sp);
const char *spool_work_dir(const struct spool *sp);
const char *spool_quarantine_dir(const struct spool *sp);

/* Drain inotify; note changed names. */
void spool_events(struct spool *sp, int64_t now_ms);
/*
 * Rescan the folders when needed: at start, after an inotify overflow,
 * every interval, and when a folder had more files than are followed at
 * once (SPOOL_CANDS_MAX each) and its followed ones are down to half.
 */
void spool_scan(struct spool *sp, int64_t now_ms, int force);

/*
 * Candidates that stayed unchanged for settle_ms and are neither being
 * checked nor known incomplete at their size nor waiting out an
 * unreadable backoff: cb for each (at most max).
 */
void spool_due(struct spool *sp, int64_t now_ms, size_t max,
    void (*cb)(struct spool *, struct spool_cand *, void *), void *arg);
/* Candidates found incomplete for longer than upload_timeout and not yet
 * reported: cb for each. */
void spool_timed_out(struct spool *sp, int64_t now_ms,
    void (*cb)(struct spool *, struct spool_cand *, void *), void *arg);
struct spool_cand *spool_cand_find(struct spool *sp, uint64_t id);
/* Milliseconds until the next candidate becomes due, -1 if none waits. */
int64_t spool_next_due(const struct spool *sp, int64_t now_ms);

/*
 * Open a candidate for reading as hostile: O_NOFOLLOW, a regular file
 * with one link; the inode opened is noted in c->checked.  Returns the
 * fd or -1 (errno; EINVAL for a file that is not a plain regular file).
 */
int spool_cand_open(struct spool *sp, struct spool_cand *c);
/*
 * Open claimed work/<work> for reading as hostile, and check again on
 * the open file what was checked before the claim (a hard link made, or
 * another file renamed in, between that check and the claim's rename):
 * a plain regular file (else EINVAL; a symbolic link ELOOP) with one link
 * (else EMLINK) and, when checked is not NULL, that very inode (else
 * ESTALE).  The fd (its status in *sb when not NULL), or -1 with errno
 * (EMFILE, ENOMEM and the like pass).
 */
int spool_work_open(const struct spool *sp, const char *work,
    const struct spool_ident *checked, struct stat *sb);
/*
 * Claim: rename the candidate into work/ under a unique name that keeps
 * its origin ("<stamp>~<p|b>~<code>~<name>"), written to work (size
 * worksize), and forget it.  -1 when the file went away.
 */
int spool_claim(struct spool *sp, struct spool_cand *c, char *work,
    size_t worksize);
/*
 * A candidate that could not be opened for reading (EACCES: its mode
 * leaves beiand out): not offered by spool_due() again before a backoff,
 * SPOOL_UNREADABLE_MIN_MS at first, doubling up to SPOOL_UNREADABLE_MAX_MS,
 * or sooner when the file changes (a chmod, a chown, a new upload: the
 * backoff starts again).  Returns 1 the first time since the file was
 * uploaded (report it: log, receipt), 0 on a later try.
 */
#define SPOOL_UNREADABLE_MIN_MS 1000
#define SPOOL_UNREADABLE_MAX_MS 300000
int spool_cand_unreadable(struct spool *sp, struct spool_cand *c,
    int64_t now_ms);
/* Forget a candidate (its file vanished or is handled). */
void spool_cand_drop(struct spool *sp, struct spool_cand *c);

/* Split a work name into its origin; -1 when it is not one of ours. */
int spool_work_origin(const struct spool *sp, const char *work, size_t *src,
    const char **upload);

/*
 * The name in quarantine/ of claimed upload work: its claim stamp, kind
 * and code ("<stamp>~<p|b>~<code>"), unique and short whatever the name
 * it was uploaded as (which a name near NAME_MAX would leave no room for
 * ".reason").  -1 when work is not a claim's name.
 */
#define SPOOL_QNAME_MAX 160
int spool_quarantine_name(const char *work, char *buf, size_t size);
/*
 * Move work/<work> to quarantine/ under spool_quarantine_name(), with
 * a .reason file beside it: the name it was uploaded as (bytes below
 * 0x20 as \xHH), its folder, then reason.
 */
int spool_quarantine(struct spool *sp, const char *work, const char *reason);

#endif
