/*
 * intake_int: what daemon/intake.c (the mailbox, the mails' way through
 * the daemon) and daemon/intake_apply.c (what one parsed mail means:
 * replies, a bureau decision, a withdrawal, a package) share.  Private
 * to those two files.
 */
#ifndef BEIAND_INTAKE_INT_H
#define BEIAND_INTAKE_INT_H

#include <stdint.h>
#include <time.h>

#include "common/workflow.h"
#include "lib/sha256.h"
#include "parsers/errlist.h"
#include "parsers/package.h"
#include "store/store.h"

struct config;

/* What one mail is applied with. */
struct mctx {
	struct store *st;
	const struct config *cf;
	uint32_t uid;           /* its UID, for the log */
	struct upload *u;       /* as the worker read it */
	const struct mail_meta *mm;
	char hex[SHA256_HEX];   /* content key: sha256, or "large:SIZE" */
	char ref[17];           /* Message-ID part of replies: hex digits */
	const char *reply_to;   /* envelope sender, else From */
	struct store_actor who;
	time_t now;
};

/*
 * Each -1 on a store error (store_errmsg()), else 0.  A refusal or help
 * reply goes to the envelope sender: never to automated mail, at most
 * reply_cap a day per address.
 */
int mail_reply(struct mctx *c, enum wf_template tpl, const char *params);
int mail_refuse(struct mctx *c, const char *id, enum wf_state state,
    const struct errlist *el);
int mail_refuse_code(struct mctx *c, const char *id, enum err_code code,
    const char *path);
/* addr is an address of the bureau of province (NULL: of any). */
int mail_bureau_address(const struct config *cf, const char *addr,
    const char *province);
/* The bureau's answer to a review request. */
int mail_apply_bureau(struct mctx *c);
/* The owner withdraws by a follow-up whose first line is "withdraw". */
int mail_apply_withdraw(struct mctx *c);
/* A package from an owner: a new filing, or a follow-up under its tag. */
int mail_apply_package(struct mctx *c);

#endif
