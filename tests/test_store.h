/*
 * test_store: the fixture the store's unit tests share (tests/test_store*.c),
 * defined in tests/test_store.c.
 *
 * A temporary database under /tmp with two providers (P001, P002) and the
 * bureau of province 11 configured; filings built as structs (no XML);
 * times fixed instants in 2026 so numbers and days are predictable.
 * Password hashing uses the MIN limits (BEIAND_PWHASH_FAST=1).
 */
#ifndef BEIAND_TEST_STORE_H
#define BEIAND_TEST_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/config.h"
#include "common/workflow.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "store/store.h"

#define T0 ((time_t)1795000000) /* 2026-11-18 19:06:40 CST */
#define DAY ((time_t)86400)

struct tctx {
	char dir[64];
	char db[128];
	struct config cfg;
	struct config_provider prov[2];
	struct config_bureau bur;
	char *baddr[2];
	struct store *st;
};

/* Open a fresh store in a new temporary directory; aborts on failure. */
void tctx_open(struct tctx *t);
/* Close it and remove the directory. */
void tctx_close(struct tctx *t);

/* ---- filings as structs ------------------------------------------------- */

void tf_sites(struct filing *f, const char *tag, size_t nsites);
/* A first filing of subject cert with nsites websites named after tag. */
struct filing *tf_first(const char *cert, const char *tag, size_t nsites);
struct filing *tf_other(enum filing_type type, enum filing_mode mode,
    const char *subject, const char *site, const char *password);
void tf_free(struct filing *f);

/* ---- actors ----------------------------------------------------------- */

struct store_actor who_spool(const char *provider, time_t now);
struct store_actor who_op(time_t now);
/* File f by spool from P001; returns the state, id into id. */
enum wf_state file_new(struct store *st, const struct filing *f,
    const struct errlist *perrs, time_t now, char id[STORE_ID_SIZE],
    struct errlist *errs);
/* Move id to `to` as the operator; returns the store's answer. */
int op_move(struct store *st, const char *id, enum wf_state to,
    const char *licence, time_t now, struct errlist *errs);
enum wf_state state_of(struct store *st, const char *id);

/* ---- outbox inspection -------------------------------------------------- */

struct mails {
	size_t n;
	struct {
		char *filing, *to, *tpl, *role, *msgid, *state, *params, *secret;
		int64_t id, event;
	} m[64];
};

/* Every mail not sent, copied into v (mails_free). */
void mails_load(struct store *st, struct mails *v);
void mails_free(struct mails *v);
/* Index of the mail of filing id with template and role, or -1. */
int mail_find(const struct mails *v, const char *id, const char *tpl,
    const char *role);
size_t mails_of(const struct mails *v, const char *id);
/* The password in the approved_owner mail of id: 1 and pw, *mail; 0 none. */
int mail_secret(struct store *st, const char *id, char *pw, size_t size,
    int64_t *mail);
/* Approve a first filing and return its subject number and password. */
void approved_subject(struct store *st, const char *cert, const char *tag,
    char *licence, size_t lsize, char *pw, size_t pwsize);

#endif
