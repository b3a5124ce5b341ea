/*
 * admin: beianctl's verbs on the store as a whole — import of subjects
 * filed before beiand, an online backup, a new filing password — and the
 * password check for tests and tools.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "common/workflow.h"
#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "parsers/licence.h"
#include "store/admin.h"
#include "store/store.h"
#include "store/store_priv.h"

int
store_password_check(struct store *st, const char *subject_licence,
    const char *password)
{
	sqlite3_stmt *s;
	int rc = -1;

	s = query(st, "SELECT password_hash FROM subjects WHERE licence = ?",
	    "s", subject_licence);
	if (s == NULL)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW && col_str(s, 0) != NULL &&
	    password != NULL)
		rc = crypto_pwhash_str_verify(col_str(s, 0), password,
		    strlen(password)) == 0 ? 0 : -1;
	sqlite3_reset(s);
	return rc;
}

/* ---- import ------------------------------------------------------------------- */

static int
import_body(struct store *st, const struct store_import_row *row,
    struct errlist *errs)
{
	char subj[STORE_LICENCE_SIZE], site[STORE_LICENCE_SIZE];
	char sbuf[STORE_LICENCE_SIZE];
	struct licence sl, tl, part;
	sqlite3_stmt *s;
	char *cert = NULL, *list, *p, *tok, *save = NULL;
	time_t now = time(NULL);
	int rc, exists = 0, refused = 0;

	if (licence_canon(row->subject_licence, &sl, subj, sizeof(subj)) == -1 ||
	    sl.site != 0) {
		add(errs, ERR_LICENCE_FORMAT, "subject_licence");
		return 1;
	}
	if (licence_canon(row->site_licence, &tl, site, sizeof(site)) == -1 ||
	    tl.site == 0) {
		add(errs, ERR_LICENCE_FORMAT, "site_licence");
		return 1;
	}
	licence_subject(&tl, &part);
	if (licence_format(&part, sbuf, sizeof(sbuf)) < 0 || !streq(sbuf, subj)) {
		add(errs, ERR_LICENCE_FORMAT, "site_licence");
		return 1;
	}
	if (row->cert_number == NULL || row->cert_number[0] == '\0') {
		add(errs, ERR_CERT_NUMBER_INVALID, "cert_number");
		return 1;
	}
	if ((s = query(st, "SELECT cert_number FROM subjects WHERE licence = ?",
	    "s", subj)) == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		exists = 1;
		cert = col_dup(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dberr(st, "import");
	if (exists && !streq(cert, row->cert_number)) {
		add(errs, ERR_LICENCE_CONFLICT, "subject_licence");
		refused = 1;
	}
	free(cert);
	if (!exists) {
		rc = one_int(st, NULL, "SELECT 1 FROM subjects WHERE cert_number = ?",
		    "s", row->cert_number);
		if (rc == -1)
			return -1;
		if (rc == 1) {
			add(errs, ERR_SUBJECT_ALREADY_FILED, "cert_number");
			refused = 1;
		}
	}
	rc = one_int(st, NULL, "SELECT 1 FROM sites WHERE licence = ? OR"
	    " (subject = ? AND n = ?)", "ssi", site, subj, tl.site);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		add(errs, ERR_LICENCE_CONFLICT, "site_licence");
		refused = 1;
	}
	list = xstrdup(row->domains ? row->domains : "");
	for (p = list; (tok = strtok_r(p, " \t", &save)) != NULL; p = NULL) {
		char *d = domain_norm(tok);

		rc = one_int(st, NULL, "SELECT 1 FROM site_domains sd"
		    " JOIN sites s ON s.licence = sd.site"
		    " JOIN subjects j ON j.licence = s.subject"
		    " WHERE sd.domain = ? AND s.state = 'active'"
		    " AND j.cert_number <> ?", "ss", d, row->cert_number);
		free(d);
		if (rc == -1) {
			free(list);
			return -1;
		}
		if (rc == 1) {
			add(errs, ERR_DOMAIN_CONFLICT, "domains");
			refused = 1;
		}
	}
	free(list);
	if (refused)
		return 1;

	if (!exists && (run(st, "INSERT INTO subjects(licence, province,"
	    " cert_number, name, cert_type, owner_email, created)"
	    " VALUES(?, ?, ?, ?, ?, ?, ?)", "ssssssI", subj, sl.province,
	    row->cert_number, row->sponsor_name, row->cert_type,
	    row->owner_email, (int64_t)now) == -1 ||
	    run(st, "INSERT OR IGNORE INTO issued_numbers(province, year, serial,"
	    " old_form, licence, origin, at) VALUES(?, ?, ?, ?, ?, 'import', ?)",
	    "siIisI", sl.province, sl.year, (int64_t)sl.serial, sl.old_form,
	    subj, (int64_t)now) == -1))
		return -1;
	if (run(st, "INSERT INTO sites(licence, subject, n, state, created,"
	    " updated) VALUES(?, ?, ?, 'active', ?, ?)", "ssiII", site, subj,
	    tl.site, (int64_t)now, (int64_t)now) == -1 ||
	    run(st, "UPDATE subjects SET site_count = max(site_count, ?)"
	    " WHERE licence = ?", "is", tl.site, subj) == -1)
		return -1;
	list = xstrdup(row->domains ? row->domains : "");
	save = NULL;
	rc = 0;
	for (p = list; rc == 0 && (tok = strtok_r(p, " \t", &save)) != NULL;
	    p = NULL) {
		char *d = domain_norm(tok);

		rc = run(st, "INSERT OR IGNORE INTO site_domains(site, domain)"
		    " VALUES(?, ?)", "ss", site, d) == -1 ? -1 : 0;
		free(d);
	}
	free(list);
	list = xstrdup(row->providers ? row->providers : "");
	save = NULL;
	for (p = list; rc == 0 && (tok = strtok_r(p, " \t", &save)) != NULL;
	    p = NULL)
		rc = run(st, "INSERT OR IGNORE INTO site_access(site, provider)"
		    " VALUES(?, ?)", "ss", site, tok) == -1 ? -1 : 0;
	free(list);
	return rc;
}

int
store_subject_import(struct store *st, const struct store_import_row *row,
    struct errlist *errs)
{
	struct errlist *mine = errlist_new();
	int rc;

	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, import_body(st, row, mine));
	if (rc >= 0 && errs != NULL)
		errlist_splice(errs, mine, NULL);
	errlist_free(mine);
	return rc;
}

/* ---- beianctl: backup and password reset ------------------------------------ */

int
store_backup(struct store *st, const char *path)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	char *tmp;
	int fd, rc;

	tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	unlink(tmp);
	/* our own 0600 file first: SQLite would create it 0644 minus umask */
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		seterr(st, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	close(fd);
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		seterr(st, "%s: %s", tmp, dst ? sqlite3_errmsg(dst) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(dst, BUSY_TIMEOUT_MS);
	if ((b = sqlite3_backup_init(dst, "main", st->db, "main")) == NULL) {
		seterr(st, "backup: %s", sqlite3_errmsg(dst));
		goto fail;
	}
	/* all pages in one step: the copy is one consistent snapshot; a
	 * writer holding the lock makes it wait and try again */
	do {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(50);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		seterr(st, "backup: %s", sqlite3_errstr(rc));
		goto fail;
	}
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL,
	    NULL) != SQLITE_OK) {
		seterr(st, "backup: %s", sqlite3_errmsg(dst));
		goto fail;
	}
	if (sqlite3_close(dst) != SQLITE_OK) {
		dst = NULL;
		seterr(st, "backup: close failed");
		goto fail;
	}
	dst = NULL;
	/* the data is synced by SQLite's commit; make the name durable too */
	if ((fd = open(tmp, O_RDONLY | O_CLOEXEC)) != -1) {
		fsync(fd);
		close(fd);
	}
	if (rename(tmp, path) == -1) {
		seterr(st, "%s: %s", path, strerror(errno));
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	if (dst != NULL)
		sqlite3_close(dst);
	unlink(tmp);
	free(tmp);
	return -1;
}

static int
pwreset_body(struct store *st, const char *subj, const struct store_actor *who,
    time_t now, struct errlist *errs, int64_t *mail_id)
{
	char password[STORE_PASSWORD_LEN + 1], ref[20], reason[128];
	char hash[crypto_pwhash_STRBYTES];
	unsigned char d[SHA256_LEN];
	char dh[65];
	struct jbuf j = { 0 };
	sqlite3_stmt *s;
	char *owner = NULL, *name = NULL;
	int64_t ev;
	int rc;

	if ((s = query(st, "SELECT owner_email, name FROM subjects"
	    " WHERE licence = ?", "s", subj)) == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		owner = col_dup(s, 0);
		name = col_dup(s, 1);
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE) {
		add(errs, ERR_LICENCE_UNKNOWN, "/");
		return 1;
	}
	if (rc != SQLITE_ROW)
		return dberr(st, "password reset");
	rc = 1;
	if (owner == NULL || owner[0] == '\0') {
		errlist_add(errs, ERR_EMAIL_INVALID, "owner_email",
		    "没有登记的负责人邮箱 / no owner address on record");
		goto out;
	}

	store_random_token(password, STORE_PASSWORD_LEN);
	rc = -1;
	if (crypto_pwhash_str_alg(hash, password, STORE_PASSWORD_LEN,
	    st->opslimit, st->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		seterr(st, "password hash: out of memory");
		goto out;
	}
	if (run(st, "UPDATE subjects SET password_hash = ?, pw_fail_day = NULL,"
	    " pw_fail_count = 0 WHERE licence = ?", "ss", hash, subj) != 1)
		goto out;
	snprintf(reason, sizeof(reason), "password reset %s", subj);
	if (event_add(st, NULL, who, who->kind, WF_NONE, WF_NONE, reason, now,
	    &ev) == -1)
		goto out;
	sha256(subj, strlen(subj), d);
	hex(d, sizeof(d), dh);
	snprintf(ref, sizeof(ref), "pw%.16s", dh);
	jb_open(&j, '{');
	jb_kv(&j, "template", workflow_template_name(WF_TPL_PASSWORD_RESET));
	jb_kv(&j, "role", workflow_role_name(WF_ROLE_OWNER));
	jb_kv(&j, "subject_licence", subj);
	jb_kv(&j, "sponsor_name", name);
	jb_kv(&j, "actor_kind", workflow_actor_name(who->kind));
	jb_kv(&j, "actor", who->name);
	jb_close(&j, '}');
	if (outbox_add(st, NULL, ref, ev, WF_TPL_PASSWORD_RESET, WF_ROLE_OWNER,
	    owner, j.s, password, now) == -1)
		goto out;
	*mail_id = sqlite3_last_insert_rowid(st->db);
	rc = 0;
out:
	sodium_memzero(password, sizeof(password));
	sodium_memzero(hash, sizeof(hash));
	free(j.s);
	free(owner);
	free(name);
	return rc;
}

int
store_password_reset(struct store *st, const char *subject_licence,
    const struct store_actor *who, struct errlist *errs, int64_t *mail_id)
{
	char subj[STORE_LICENCE_SIZE];
	struct errlist *mine;
	struct licence l;
	int64_t id = 0;
	int rc;

	if (licence_canon(subject_licence, &l, subj, sizeof(subj)) == -1 ||
	    l.site != 0) {
		if (errs != NULL)
			add(errs, ERR_LICENCE_UNKNOWN, "/");
		return 1;
	}
	mine = errlist_new();
	if ((rc = op_begin(st)) == 0)
		rc = op_finish(st, pwreset_body(st, subj, who, now_or(who->now),
		    mine, &id));
	if (rc >= 0 && errs != NULL)
		errlist_splice(errs, mine, NULL);
	errlist_free(mine);
	if (rc == 0 && mail_id != NULL)
		*mail_id = id;
	return rc;
}
