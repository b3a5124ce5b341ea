/*
 * ctl: beianctl's verbs (DESIGN.md, Command line).
 *
 * Each verb is a function taking the arguments after its name (argv[0]
 * is the verb) and the loaded configuration, returning one of the exit
 * statuses below.
 */
#ifndef BEIAND_CTL_H
#define BEIAND_CTL_H

#include <stdio.h>
#include <time.h>

struct config;
struct errlist;
struct store;
struct store_actor;

/* Exit statuses of every verb. */
#define CTL_OK 0        /* done */
#define CTL_REFUSED 1   /* invalid or refused */
#define CTL_USAGE 2     /* usage, configuration or I/O error */
#define CTL_UNKNOWN_ID 3 /* an ID given on the command line is unknown */

int ctl_main(int argc, char **argv);

int ctl_check(int argc, char **argv, const struct config *cf);
int ctl_submit(int argc, char **argv, const struct config *cf);

/* ctl_query.c: read-only views of the store */
int ctl_status(int argc, char **argv, const struct config *cf);
int ctl_list(int argc, char **argv, const struct config *cf);
int ctl_show(int argc, char **argv, const struct config *cf);
int ctl_outbox(int argc, char **argv, const struct config *cf);
int ctl_quarantine(int argc, char **argv, const struct config *cf);

/* ctl_act.c: decisions */
int ctl_verify(int argc, char **argv, const struct config *cf);
int ctl_review(int argc, char **argv, const struct config *cf);
int ctl_handback(int argc, char **argv, const struct config *cf);
int ctl_withdraw(int argc, char **argv, const struct config *cf);
/* ctl_maint.c: maintenance */
int ctl_retry(int argc, char **argv, const struct config *cf);
int ctl_requeue(int argc, char **argv, const struct config *cf);
int ctl_import(int argc, char **argv, const struct config *cf);
int ctl_password_reset(int argc, char **argv, const struct config *cf);
/* ctl_backup.c: backup and restore */
int ctl_backup(int argc, char **argv, const struct config *cf);
int ctl_restore(int argc, char **argv, const struct config *cf);

/* ctl_owner.c: run as root, act as the owner of state_dir */
/*
 * When beianctl runs as root and verb touches state (every verb but
 * check, probe and provider): take the uid, primary group and
 * supplementary groups of the owner of cf->state_dir (of the folder
 * above it when it does not exist yet), for good.  Nothing when not root
 * or when root owns it.  0, or -1 after printing why (exit CTL_USAGE).
 */
int ctl_become_owner(const struct config *cf, const char *verb);
/*
 * The same for any verb (probe, once its password file is read): 0 (also
 * when not root, or when root owns state_dir), or -1 and err.
 */
int ctl_act_as_owner(const struct config *cf, char *err, size_t errsize);
/* The user acted as ("beiand", or "uid N"), NULL when none was taken. */
const char *ctl_owner_name(void);
/* "beianctl: PATH: reason" on stderr; for EACCES after the switch, which
 * user could not reach the file. */
void ctl_put_file_error(const char *path, int err);
/* ctl_provider.c: a provider's account and folders (as root) */
int ctl_provider(int argc, char **argv, const struct config *cf);
/* ctl_probe.c: a connection to the mail server as the daemon makes it */
int ctl_probe(int argc, char **argv, const struct config *cf);
/* ctl_user.c: the staff console's accounts */
int ctl_user(int argc, char **argv, const struct config *cf);

/* Output helpers shared by the verbs. */
struct errlist;
/* Findings as `check` prints them: "PATH: CODE: message", warnings on
 * stderr. */
void ctl_put_findings(const struct errlist *el);
/* Print s with bytes below 0x20 and 0x7f as \xHH. */
void ctl_put_escaped(FILE *fp, const char *s);
/* Print s as a JSON string literal (quotes included); NULL as null. */
void ctl_put_json(FILE *fp, const char *s);
/* Print t as a JSON string in RFC 3339 with +08:00; 0 as null. */
void ctl_put_json_time(FILE *fp, time_t t);
/* Read a whole file; NULL with errno set on failure.  *len gets its size.
 * Refuses files larger than max (errno EFBIG) without reading them. */
unsigned char *ctl_read_file(const char *path, size_t max, size_t *len);
/* ctl_read_file(), and on failure "beianctl: PATH: reason" on stderr. */
unsigned char *ctl_read_or_complain(const char *path, size_t max,
    size_t *len);

/* Store helpers shared by the verbs. */
/*
 * Open <state_dir>/beiand.db with cf (for recipients and attachments).
 * On failure prints "beianctl: reason" and returns NULL (exit CTL_USAGE).
 */
struct store *ctl_store_open(const struct config *cf);
/*
 * who as the operator at the command line: kind operator, channel cli,
 * name SUDO_USER or the login name (kept in a static buffer), source
 * "cli".
 */
void ctl_operator(struct store_actor *who);
/* What the store did to keep ids and numbers from being issued twice
 * (store_note_next), one "beianctl: highwater: …" line each on stderr. */
void ctl_put_notes(struct store *st);
/* The operator's name alone (as ctl_operator sets it). */
const char *ctl_operator_name(void);
/* Print the errors of el as "ID: CODE: message" lines on stdout (warnings
 * on stderr); returns the number of errors. */
size_t ctl_put_refusals(const char *id, const struct errlist *el);
/* Print "beianctl: store: <store_errmsg>" on stderr; returns CTL_USAGE. */
int ctl_store_error(struct store *st);

#endif
