/*
 * ctl_maint: the maintenance verbs of beianctl — retry, requeue, import,
 * password-reset (DESIGN.md, Command line); backup and restore are in
 * ctl_backup.c.  Each change is one store transaction with actor kind
 * operator and channel cli.
 *
 * Hostile input: an import CSV may come from outside; the CSV parser
 * keeps every field within the file it read.  requeue renames only
 * within spool_dir and refuses sources with ".." or a leading '/'.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "ctl/ctl.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "parsers/rules.h"
#include "store/admin.h"
#include "store/outbox.h"
#include "store/status.h"
#include "store/store.h"

#define IMPORT_MAX_BYTES ((size_t)256 << 20)
#define IMPORT_COLUMNS 8

/* ---- retry ------------------------------------------------------------------- */

int
ctl_retry(int argc, char **argv, const struct config *cf)
{
	struct store_mail *m = NULL;
	struct store *st;
	char *end;
	long long v;
	int rc;

	if (argc != 2 || argv[1][0] < '0' || argv[1][0] > '9') {
		fprintf(stderr, "usage: beianctl retry MAILID\n");
		return CTL_USAGE;
	}
	errno = 0;
	v = strtoll(argv[1], &end, 10);
	if (*end != '\0' || errno != 0 || v <= 0) {
		fprintf(stderr, "usage: beianctl retry MAILID\n");
		return CTL_USAGE;
	}
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	if ((rc = store_outbox_get(st, (int64_t)v, &m)) == -1) {
		rc = ctl_store_error(st);
		goto out;
	}
	if (rc == 1) {
		printf("%lld: TRACKING_ID_UNKNOWN: no such mail\n", v);
		rc = CTL_UNKNOWN_ID;
		goto out;
	}
	if ((rc = store_outbox_retry(st, (int64_t)v)) == -1)
		rc = ctl_store_error(st);
	else if (rc == 1) {
		printf("%lld: WRONG_STATE: ", v);
		if (m->to == NULL || m->to[0] == '\0')
			fputs("no address for this recipient\n", stdout);
		else {
			fputs("the mail is ", stdout);
			ctl_put_escaped(stdout, m->state ? m->state : "?");
			fputs(", not failed or deferred\n", stdout);
		}
		rc = CTL_REFUSED;
	} else {
		printf("%lld: queued\n", v);
		rc = CTL_OK;
	}
out:
	store_mail_free(m);
	store_close(st);
	return rc;
}

/* ---- requeue ---------------------------------------------------------------- */

int
ctl_requeue(int argc, char **argv, const struct config *cf)
{
	struct store *st;
	char *source = NULL;
	int rc;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: beianctl requeue ITEM\n");
		return CTL_USAGE;
	}
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	rc = store_quarantine_requeue(st, cf->spool_dir, argv[1], &source);
	if (rc == 1) {
		ctl_put_escaped(stdout, argv[1]);
		fputs(": TRACKING_ID_UNKNOWN: no such quarantined item\n",
		    stdout);
		rc = CTL_UNKNOWN_ID;
	} else if (rc == -1) {
		fputs("beianctl: ", stderr);
		ctl_put_escaped(stderr, store_errmsg(st));
		fputc('\n', stderr);
		rc = CTL_USAGE;
	} else {
		ctl_put_escaped(stdout, argv[1]);
		fputs(": requeued to ", stdout);
		ctl_put_escaped(stdout, source);
		fputc('\n', stdout);
		rc = CTL_OK;
	}
	free(source);
	store_close(st);
	return rc;
}

/* ---- import ------------------------------------------------------------------ */

struct csv {
	const char *p, *end;
	size_t line;        /* the line p is on (1-based) */
};

struct csv_row {
	char **f;
	size_t n, cap;
	size_t line;        /* where the row starts */
};

static void
csv_row_clear(struct csv_row *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->f[i]);
	r->n = 0;
}

/*
 * One record of RFC 4180 (LF or CRLF line ends; a quoted field may hold
 * commas, quotes doubled and line breaks).  Returns 1 with a row, 0 at
 * the end, -1 on a malformed quote (the rest of the line is skipped).
 */
static int
csv_next(struct csv *c, struct csv_row *r)
{
	csv_row_clear(r);
	if (c->p >= c->end)
		return 0;
	r->line = c->line;
	for (;;) {
		char *v = xmalloc((size_t)(c->end - c->p) + 1);
		size_t n = 0;
		int bad = 0;

		if (c->p < c->end && *c->p == '"') {
			c->p++;
			for (;;) {
				if (c->p >= c->end) {
					bad = 1;
					break;
				}
				if (*c->p == '"') {
					if (c->p + 1 < c->end && c->p[1] == '"') {
						v[n++] = '"';
						c->p += 2;
						continue;
					}
					c->p++;
					break;
				}
				if (*c->p == '\n')
					c->line++;
				v[n++] = *c->p++;
			}
			if (!bad && c->p < c->end && *c->p != ',' &&
			    *c->p != '\n' && !(*c->p == '\r' &&
			    c->p + 1 < c->end && c->p[1] == '\n'))
				bad = 1;
		} else {
			while (c->p < c->end && *c->p != ',' && *c->p != '\n') {
				if (*c->p == '"')
					bad = 1;
				v[n++] = *c->p++;
			}
			if (n > 0 && v[n - 1] == '\r' &&
			    (c->p >= c->end || *c->p == '\n'))
				n--;
		}
		v[n] = '\0';
		xgrow(&r->f, &r->cap, r->n, sizeof(*r->f));
		r->f[r->n++] = v;
		if (bad) {
			/* skip to the end of this line */
			while (c->p < c->end && *c->p != '\n')
				c->p++;
			if (c->p < c->end) {
				c->p++;
				c->line++;
			}
			return -1;
		}
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p == '\n') {
			c->p++;
			c->line++;
		}
		return 1;
	}
}

/* 1 when s is well-formed UTF-8 (no overlongs, no surrogates). */
static void
row_refused(size_t line, enum err_code code, const char *msg)
{
	printf("%zu: %s: ", line, err_code_name(code));
	ctl_put_escaped(stdout, msg);
	fputc('\n', stdout);
}

int
ctl_import(int argc, char **argv, const struct config *cf)
{
	static const char *const header[IMPORT_COLUMNS] = {
		"subject_licence", "site_licence", "sponsor_name", "cert_type",
		"cert_number", "domains", "owner_email", "providers"
	};
	struct csv c;
	struct csv_row r = { 0 };
	struct store *st = NULL;
	struct errlist *errs;
	unsigned char *buf;
	size_t len, rows = 0, good = 0;
	int rc = CTL_OK, k;

	if (argc != 2 || (argv[1][0] == '-' && argv[1][1] != '\0')) {
		fprintf(stderr, "usage: beianctl import FILE\n");
		return CTL_USAGE;
	}
	if ((buf = ctl_read_or_complain(argv[1], IMPORT_MAX_BYTES,
	    &len)) == NULL)
		return CTL_USAGE;
	if (memchr(buf, '\0', len) != NULL) {
		fputs("beianctl: ", stderr);
		ctl_put_escaped(stderr, argv[1]);
		fputs(": not a text file\n", stderr);
		free(buf);
		return CTL_USAGE;
	}
	c.p = (const char *)buf;
	c.end = c.p + len;
	c.line = 1;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		c.p += 3;
	if (csv_next(&c, &r) != 1 || r.n != IMPORT_COLUMNS)
		goto bad_header;
	for (size_t i = 0; i < IMPORT_COLUMNS; i++)
		if (strcmp(r.f[i], header[i]) != 0)
			goto bad_header;
	if ((st = ctl_store_open(cf)) == NULL) {
		rc = CTL_USAGE;
		goto out;
	}
	if (store_begin(st) == -1) {
		rc = ctl_store_error(st);
		goto out;
	}
	errs = errlist_new();
	while ((k = csv_next(&c, &r)) != 0) {
		struct store_import_row row;
		int ok = 1;

		if (k == 1 && r.n == 1 && r.f[0][0] == '\0')
			continue; /* an empty line */
		rows++;
		if (k == -1) {
			row_refused(r.line, ERR_SCHEMA_VIOLATION,
			    "引号不匹配 / malformed quotes");
			rc = CTL_REFUSED;
			continue;
		}
		if (r.n != IMPORT_COLUMNS) {
			char m[96];

			snprintf(m, sizeof(m), "应为 %d 列 / expected %d fields,"
			    " found %zu", IMPORT_COLUMNS, IMPORT_COLUMNS, r.n);
			row_refused(r.line, ERR_SCHEMA_VIOLATION, m);
			rc = CTL_REFUSED;
			continue;
		}
		for (size_t i = 0; i < r.n; i++)
			if (!utf8_valid(r.f[i], strlen(r.f[i])))
				ok = 0;
		if (!ok) {
			row_refused(r.line, ERR_XML_ENCODING,
			    "不是 UTF-8 / not UTF-8");
			rc = CTL_REFUSED;
			continue;
		}
		row.subject_licence = r.f[0];
		row.site_licence = r.f[1];
		row.sponsor_name = r.f[2];
		row.cert_type = r.f[3];
		row.cert_number = r.f[4];
		row.domains = r.f[5];
		row.owner_email = r.f[6];
		row.providers = r.f[7];
		errlist_clear(errs);
		k = store_subject_import(st, &row, errs);
		if (k == -1) {
			rc = ctl_store_error(st);
			store_rollback(st);
			errlist_free(errs);
			good = 0;
			goto out;
		}
		if (k == 1) {
			for (size_t i = 0; i < errlist_count(errs); i++) {
				const struct err_item *e = errlist_get(errs, i);

				printf("%zu: %s: ", r.line, err_code_name(e->code));
				ctl_put_escaped(stdout, e->path);
				fputs(": ", stdout);
				ctl_put_escaped(stdout, e->message);
				fputc('\n', stdout);
			}
			rc = CTL_REFUSED;
		} else
			good++;
	}
	errlist_free(errs);
	if (store_commit(st) == -1) {
		rc = ctl_store_error(st);
		good = 0;
	}
	printf("imported %zu of %zu rows\n", good, rows);
	goto out;
bad_header:
	fputs("beianctl: ", stderr);
	ctl_put_escaped(stderr, argv[1]);
	fputs(": the first line must be the header ", stderr);
	for (size_t i = 0; i < IMPORT_COLUMNS; i++)
		fprintf(stderr, "%s%s", i ? "," : "", header[i]);
	fputc('\n', stderr);
	rc = CTL_USAGE;
out:
	csv_row_clear(&r);
	free(r.f);
	store_close(st);
	free(buf);
	return rc;
}

/* ---- password-reset ----------------------------------------------------- */

int
ctl_password_reset(int argc, char **argv, const struct config *cf)
{
	struct store_actor who;
	struct store_mail *m = NULL;
	struct errlist *errs;
	struct store *st;
	int64_t mail_id = 0;
	int rc;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: beianctl password-reset "
		    "SUBJECT_LICENCE\n");
		return CTL_USAGE;
	}
	if ((st = ctl_store_open(cf)) == NULL)
		return CTL_USAGE;
	ctl_operator(&who);
	errs = errlist_new();
	rc = store_password_reset(st, argv[1], &who, errs, &mail_id);
	if (rc == -1)
		rc = ctl_store_error(st);
	else if (rc == 1) {
		ctl_put_refusals(argv[1], errs);
		rc = errlist_has(errs, ERR_LICENCE_UNKNOWN) ? CTL_UNKNOWN_ID :
		    CTL_REFUSED;
	} else {
		ctl_put_escaped(stdout, argv[1]);
		printf(": password reset; mail %" PRId64 " queued", mail_id);
		if (store_outbox_get(st, mail_id, &m) == 0 && m->to != NULL) {
			fputs(" to ", stdout);
			ctl_put_escaped(stdout, m->to);
		}
		fputc('\n', stdout);
		store_mail_free(m);
		rc = CTL_OK;
	}
	errlist_free(errs);
	store_close(st);
	return rc;
}
