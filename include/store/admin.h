/*
 * store/admin: beianctl's verbs on the store as a whole — subjects filed
 * before beiand (import), an online backup, a new filing password —
 * and the password check tests and tools use.
 */
#ifndef BEIAND_STORE_ADMIN_H
#define BEIAND_STORE_ADMIN_H

#include <stdint.h>

#include "parsers/errlist.h"
#include "store/store.h"

/* ---- subjects filed before beiand (beianctl import) ------------------ */

/* One CSV row of DESIGN.md's import format. */
struct store_import_row {
	const char *subject_licence, *site_licence;
	const char *sponsor_name, *cert_type, *cert_number;
	const char *domains;     /* space-separated */
	const char *owner_email;
	const char *providers;   /* space-separated provider codes */
};

/*
 * Bring in one approved site (and its subject, the first time).  The
 * numbers are recorded as issued, so the local sequence skips them.
 * Refused (1), nothing changed: LICENCE_FORMAT (not a subject number and
 * a site number of it), LICENCE_CONFLICT (the site exists, or the subject
 * number belongs to another certificate), SUBJECT_ALREADY_FILED (the
 * certificate has another number), DOMAIN_CONFLICT (a domain of another
 * subject's active site).  Paths in errs are the CSV column names.
 * Imported subjects have no password.
 */
int store_subject_import(struct store *st, const struct store_import_row *row,
    struct errlist *errs);

/* ---- beianctl: backup and password reset ---------------------------- */

/*
 * An online copy of the database to path (created mode 0600, written
 * under a temporary name and renamed, journal mode DELETE so that it is
 * one self-contained file) with the SQLite backup API; the daemon may
 * keep writing meanwhile.  0, or -1 (store_errmsg).
 */
int store_backup(struct store *st, const char *path);

/* What a full backup or a restore did. */
struct store_backup_stats {
	size_t blobs_copied;    /* blobs the target lacked, copied */
	size_t blobs_bad;       /* blobs whose bytes do not match their name:
	                         * left out */
	char kept[4400];        /* restore: where the replaced database went
	                         * ("" when there was none) */
};

/*
 * beianctl backup DIR: all a restore needs, into the folder dir (made
 * 0700 if missing): dir/beiand.db (store_backup), dir/store/ (the blobs
 * it lacks, so a second backup into the same folder copies only the new
 * ones) and dir/highwater (raised to the live marks, read after the
 * database was copied, so never below it).  0, or -1 (store_errmsg).
 */
int store_backup_dir(struct store *st, const char *dir,
    struct store_backup_stats *out);
/*
 * beianctl restore: from (a folder made by store_backup_dir, or a
 * database file made by store_backup) into state_dir, while no beiand
 * runs on it (the caller holds state_dir/beiand.lock) and no store is
 * open on it.  The database must pass integrity_check and be beiand's,
 * no newer than this program.  The one it replaces is kept as
 * beiand.db.replaced-YYYYmmddTHHMMSS (with its -wal); the -shm goes.
 * From a folder, its blobs that state_dir lacks are copied (checked
 * against their names) and its high-water marks merged into the live
 * ones: the marks only ever rise.  Opening the store afterwards moves the
 * restored database's sequences past them.  0, or -1 with err set.
 */
int store_restore(const char *state_dir, const char *from,
    struct store_backup_stats *out, char *err, size_t errsize);

/*
 * Issue a new filing password for the subject numbered subject_licence
 * (any accepted spelling of the number): the hash replaces the old one
 * (the failure count is reset), an event (no filing, actor who, reason
 * "password reset 京ICP备…号") and one password_reset outbox row to the
 * owner on record, the clear password only in that row's secret.  The
 * row's Message-ID ID part is "pw" and the first 16 hex digits of the
 * sha256 of the canonical number.  Returns 0 (*mail_id set when not
 * NULL); 1 refused, nothing changed, with LICENCE_UNKNOWN (no such
 * subject, or not a subject number) or EMAIL_INVALID (no owner address
 * on record: the password could reach nobody) added to errs; -1 on error.
 */
int store_password_reset(struct store *st, const char *subject_licence,
    const struct store_actor *who, struct errlist *errs, int64_t *mail_id);

/* 0 when password matches the subject's hash (for tests and tools). */
int store_password_check(struct store *st, const char *subject_licence,
    const char *password);

#endif
