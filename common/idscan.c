/*
 * idscan: tracking ids found on receipts and in .eml names
 * (include/common/idscan.h).
 *
 * What is hostile here: the spool's outgoing/ folders are shared with
 * the providers' accounts (a provider cannot write there, but the
 * folder is theirs to read); a name under them is never followed if it
 * is a link (O_NOFOLLOW, then fstat: a regular file), a file is read at
 * most IDSCAN_RECEIPT_MAX bytes, and only text that has exactly the
 * shape of a tracking id counts.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/idscan.h"
#include "lib/xmalloc.h"

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int
idscan_parse(const char *s, size_t len, int *year, int64_t *seq)
{
	size_t n = 0;
	int64_t v = 0;
	int y = 0;

	if (len < 14 || memcmp(s, "BA-", 3) != 0 || s[7] != '-')
		return 0;
	for (size_t i = 3; i < 7; i++) {
		if (!is_digit(s[i]))
			return 0;
		y = y * 10 + (s[i] - '0');
	}
	while (8 + n < len && n < 8 && is_digit(s[8 + n])) {
		v = v * 10 + (s[8 + n] - '0');
		n++;
	}
	if (n != 6 && n != 7)
		return 0;
	if (y < 1000 || v == 0)
		return 0;
	*year = y;
	*seq = v;
	return 1;
}

static void
hit_add(struct idscan_hit **hits, size_t *n, size_t *cap, int year,
    int64_t seq, const char *where)
{
	for (size_t i = 0; i < *n; i++)
		if ((*hits)[i].year == year) {
			if ((*hits)[i].seq < seq) {
				(*hits)[i].seq = seq;
				snprintf((*hits)[i].where, sizeof((*hits)[i].where),
				    "%s", where);
			}
			return;
		}
	xgrow(hits, cap, *n, sizeof(**hits));
	(*hits)[*n].year = year;
	(*hits)[*n].seq = seq;
	snprintf((*hits)[*n].where, sizeof((*hits)[*n].where), "%s", where);
	(*n)++;
}

/* Every id in buf[0..len). */
static void
scan_text(const char *buf, size_t len, const char *where,
    struct idscan_hit **hits, size_t *n, size_t *cap)
{
	const char *p = buf, *end = buf + len;
	int year;
	int64_t seq;

	while ((p = memmem(p, (size_t)(end - p), "BA-", 3)) != NULL) {
		/* not the tail of a longer word ("XBA-…") */
		if ((p == buf || !(is_digit(p[-1]) || (p[-1] >= 'A' &&
		    p[-1] <= 'Z') || (p[-1] >= 'a' && p[-1] <= 'z'))) &&
		    idscan_parse(p, (size_t)(end - p), &year, &seq))
			hit_add(hits, n, cap, year, seq, where);
		p += 3;
	}
}

/* One receipt, when changed at or after since. */
static void
scan_receipt(int dfd, const char *name, const char *path, time_t since,
    struct idscan_hit **hits, size_t *n, size_t *cap, struct idscan_stats *s)
{
	struct stat sb;
	char *buf;
	size_t len = 0, max;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_mtime < since) {
		s->receipts_skipped++;
		close(fd);
		return;
	}
	max = (uint64_t)sb.st_size < IDSCAN_RECEIPT_MAX ? (size_t)sb.st_size :
	    IDSCAN_RECEIPT_MAX;
	buf = xmalloc(max + 1);
	while (len < max) {
		ssize_t r = read(fd, buf + len, max - len);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	s->receipts_read++;
	scan_text(buf, len, path, hits, n, cap);
	free(buf);
}

static int
has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* spool_dir/<kind>/<code>/outgoing/ for every kind and code. */
static int
scan_spool(const char *spool_dir, time_t since, struct idscan_hit **hits,
    size_t *n, size_t *cap, struct idscan_stats *s)
{
	DIR *top, *kind, *out;
	struct dirent *a, *b, *c;
	char path[4096];

	if ((top = opendir(spool_dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((a = readdir(top)) != NULL) {
		if (a->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", spool_dir, a->d_name);
		if ((kind = opendir(path)) == NULL)
			continue;
		while ((b = readdir(kind)) != NULL) {
			int dfd;

			if (b->d_name[0] == '.')
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s/outgoing",
			    spool_dir, a->d_name, b->d_name) >= sizeof(path))
				continue;
			dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			    O_CLOEXEC);
			if (dfd == -1 || (out = fdopendir(dfd)) == NULL) {
				if (dfd != -1)
					close(dfd);
				continue;
			}
			while ((c = readdir(out)) != NULL) {
				char where[4096];

				if (c->d_name[0] == '.' ||
				    !has_suffix(c->d_name, ".receipt.xml"))
					continue;
				if ((size_t)snprintf(where, sizeof(where), "%s/%s",
				    path, c->d_name) >= sizeof(where))
					continue;
				scan_receipt(dirfd(out), c->d_name, where, since,
				    hits, n, cap, s);
			}
			closedir(out);
		}
		closedir(kind);
	}
	closedir(top);
	return 0;
}

static int
scan_mail(const char *mail_dir, struct idscan_hit **hits, size_t *n,
    size_t *cap, struct idscan_stats *s)
{
	struct dirent *de;
	char where[4096];
	DIR *d;
	int year;
	int64_t seq;

	if ((d = opendir(mail_dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (!has_suffix(de->d_name, ".eml"))
			continue;
		s->emls++;
		/* "BA-2026-000123.17.received.owner.eml": the id, then '.' */
		if (idscan_parse(de->d_name, len, &year, &seq) &&
		    (de->d_name[14] == '.' || de->d_name[15] == '.') &&
		    (size_t)snprintf(where, sizeof(where), "%s/%s", mail_dir,
		    de->d_name) < sizeof(where))
			hit_add(hits, n, cap, year, seq, where);
	}
	closedir(d);
	return 0;
}

int
idscan_run(const char *spool_dir, const char *mail_dir, time_t since,
    struct idscan_hit **hits, size_t *nhits, struct idscan_stats *stats)
{
	struct idscan_hit *h = NULL;
	size_t n = 0, cap = 0;
	int saved;

	memset(stats, 0, sizeof(*stats));
	if ((spool_dir != NULL && scan_spool(spool_dir, since, &h, &n, &cap,
	    stats) == -1) || (mail_dir != NULL && scan_mail(mail_dir, &h, &n,
	    &cap, stats) == -1)) {
		saved = errno;
		free(h);
		errno = saved;
		return -1;
	}
	*hits = h;
	*nhits = n;
	return 0;
}
