/*
 * intake_apply: what one parsed mail means (DESIGN.md "Owner mail
 * (IMAP)", "Decisions"), applied inside the daemon's group: a bureau
 * decision, an owner's withdrawal or package, and the refusals and help
 * replies — always to the envelope sender, never to automated mail, at
 * most [imap] reply_cap a day per address.  Hostile input: everything
 * the worker read from the mail (struct mail_meta, the items); nothing
 * of it is used but as a value for the store.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/json.h"
#include "daemon/intake_int.h"
#include "lib/compat.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "parsers/mime.h"
#include "store/ingest.h"
#include "store/intake_mail.h"
#include "store/outbox.h"
#include "store/query.h"
#include "store/transition.h"

/*
 * A refusal or help reply to the envelope sender: never to automated
 * mail, at most reply_cap a day per address.  -1 on a store error.
 */
int
mail_reply(struct mctx *c, enum wf_template tpl, const char *params,
    const char *filing)
{
	struct store_actor who = c->who;
	int64_t id;
	int rc;

	if (c->mm->automated || c->reply_to[0] == '\0') {
		log_info("intake: uid=%" PRIu32 ": automated mail, no %s reply",
		    c->uid, workflow_template_name(tpl));
		return 0;
	}
	rc = store_reply_take(c->st, c->reply_to, c->now,
	    (unsigned long)c->cf->imap_reply_cap);
	if (rc == -1)
		return -1;
	if (rc == 1) {
		log_warn("intake: uid=%" PRIu32 ": reply_cap reached for the "
		    "sender, no %s reply", c->uid,
		    workflow_template_name(tpl));
		return 0;
	}
	who.sender = c->reply_to;
	who.no_sender_mail = 0;
	if (filing != NULL && filing[0] != '\0')
		return store_mail_reply(c->st, tpl, filing, params, &who, &id);
	return store_mail_loose(c->st, tpl, c->ref, params, &who, &id);
}

int
mail_refuse_about(struct mctx *c, const char *id, enum wf_state state,
    const struct errlist *el, const char *filing)
{
	char *params = json_refusal_params(id, state == WF_NONE ? NULL :
	    workflow_state_name(state), NULL, el);
	int rc;

	log_info("intake: uid=%" PRIu32 " filing=%s refused: %s", c->uid,
	    id && *id ? id : "-", errlist_count(el) ?
	    err_code_name(errlist_get(el, 0)->code) : "-");
	rc = mail_reply(c, WF_TPL_INVALID, params, filing);
	free(params);
	return rc;
}

int
mail_refuse(struct mctx *c, const char *id, enum wf_state state,
    const struct errlist *el)
{
	return mail_refuse_about(c, id, state, el, NULL);
}

int
mail_refuse_code(struct mctx *c, const char *id, enum err_code code,
    const char *path)
{
	struct errlist *el = errlist_new();
	int rc;

	errlist_add(el, code, path, NULL);
	rc = mail_refuse(c, id, WF_NONE, el);
	errlist_free(el);
	return rc;
}

int
mail_bureau_address(const struct config *cf, const char *addr,
    const char *province)
{
	for (size_t i = 0; i < cf->nbureaus; i++) {
		const struct config_bureau *b = &cf->bureaus[i];

		if (province != NULL && strcmp(b->province, province) != 0)
			continue;
		for (size_t k = 0; k < b->naddresses; k++)
			if (mime_addr_equal(addr, b->addresses[k]))
				return 1;
	}
	return 0;
}

/* The bureau's answer to a review request. */
int
mail_apply_bureau(struct mctx *c)
{
	const struct mail_meta *mm = c->mm;
	struct upload *u = c->u;
	struct store_filing_detail *fd = NULL;
	struct ingest_outcome o = { 0 };
	const char *id = mm->tag_id;
	int rc = 0;

	c->who.kind = WF_ACTOR_BUREAU;
	c->who.provider = NULL;
	if (u->nitems == 1 && u->items[0].kind == ITEM_DECISION &&
	    u->items[0].decision != NULL && u->items[0].decision->filing)
		id = u->items[0].decision->filing;
	/* The sender must be an address of the filing's province. */
	if (id[0] != '\0' && (rc = store_filing_show(c->st, id, &fd)) == -1)
		return -1;
	if (id[0] == '\0' || rc == 1) {
		rc = mail_refuse_code(c, NULL, ERR_TRACKING_ID_UNKNOWN, "/");
		goto out;
	}
	if (!mail_bureau_address(c->cf, mm->from_addr, fd->info.province)) {
		rc = mail_refuse_code(c, id, ERR_SENDER_MISMATCH, "/");
		goto out;
	}
	o.errs = errlist_new();
	if (u->nitems == 1 && u->items[0].kind == ITEM_DECISION) {
		struct item *it = &u->items[0];

		/* The subject's token stands in for one the file lacks. */
		if (it->decision != NULL && it->decision->token == NULL &&
		    mm->review_token[0] != '\0')
			it->decision->token = xstrdup(mm->review_token);
		if (ingest_mail_item(c->st, c->cf, it, &c->who, NULL,
		    NULL, &o) == -1) {
			rc = -1;
			goto out;
		}
	} else if (mm->command == MIME_CMD_APPROVE ||
	    mm->command == MIME_CMD_REJECT) {
		struct store_transition_req req = { 0 };
		struct store_result res = { .errs = o.errs };
		struct store_issue issue = { "/", "", mm->reason };

		if (mm->command == MIME_CMD_REJECT && mm->reason[0] == '\0') {
			errlist_add(o.errs, ERR_SCHEMA_VIOLATION, "/",
			    "驳回须写明理由（REJECT: 理由）/ a rejection needs "
			    "a reason (REJECT: reason)");
			goto refused;
		}
		req.id = id;
		req.review_token = mm->review_token;
		req.reason = mm->command == MIME_CMD_REJECT ? mm->reason :
		    mm->from_addr;
		if (mm->command == MIME_CMD_APPROVE)
			req.to = WF_APPROVED;
		else {
			req.to = WF_RETURNED_TO_PROVIDER;
			req.issues = &issue;
			req.nissues = 1;
		}
		if ((rc = store_transition(c->st, &req, &c->who, &res)) ==
		    -1)
			goto out;
		strlcpy(o.id, id, sizeof(o.id));
		o.state = res.state;
		rc = 0;
	} else {
		log_info("intake: uid=%" PRIu32 " bureau mail with no "
		    "decision: nothing to do", c->uid);
		goto out;
	}
refused:
	if (errlist_nerrors(o.errs) > 0)
		rc = mail_refuse(c, id, o.state, o.errs);
	else
		log_info("intake: uid=%" PRIu32 " filing=%s bureau decision: "
		    "%s", c->uid, id, workflow_state_name(o.state));
out:
	errlist_free(o.errs);
	store_filing_detail_free(fd);
	return rc;
}

/* The owner withdraws by a follow-up whose first line is "withdraw". */
int
mail_apply_withdraw(struct mctx *c)
{
	const struct mail_meta *mm = c->mm;
	struct store_transition_req req = { 0 };
	struct store_result res = { 0 };
	char token[STORE_TOKEN_LEN + 1];
	char *owner = NULL;
	int rc;

	if (mm->tag_id[0] == '\0')
		return mail_refuse_code(c, NULL, ERR_TRACKING_ID_UNKNOWN, "/");
	if ((rc = store_filing_owner(c->st, mm->tag_id, &owner, token)) ==
	    -1)
		return -1;
	if (rc == 1)
		return mail_refuse_code(c, NULL, ERR_TRACKING_ID_UNKNOWN, "/");
	res.errs = errlist_new();
	/* From, not only the envelope sender, must be the owner. */
	if (!mime_addr_equal(mm->from_addr, owner)) {
		errlist_add(res.errs, ERR_SENDER_MISMATCH, "/", NULL);
		rc = 1;
	} else {
		req.id = mm->tag_id;
		req.to = WF_WITHDRAWN;
		req.reason = "withdraw";
		req.owner_token = mm->tag_token;
		if ((rc = store_transition(c->st, &req, &c->who, &res)) ==
		    -1)
			goto out;
	}
	if (errlist_nerrors(res.errs) > 0)
		rc = mail_refuse(c, mm->tag_id, res.state, res.errs);
	else
		log_info("intake: uid=%" PRIu32 " filing=%s withdrawn by mail",
		    c->uid, mm->tag_id);
out:
	free(owner);
	errlist_free(res.errs);
	return rc;
}

/* A package from an owner: a new filing, or a follow-up under its tag. */
int
mail_apply_package(struct mctx *c)
{
	const struct mail_meta *mm = c->mm;
	struct item *it = &c->u->items[0];
	struct ingest_outcome o = { 0 };
	int rc;

	/* Filings by mail are the owner's own (DESIGN.md). */
	if (it->filing != NULL)
		it->filing->mode = FILING_MODE_SELF;
	o.errs = errlist_new();
	rc = ingest_mail_item(c->st, c->cf, it, &c->who, mm->tag_id,
	    mm->tag_token, &o);
	if (rc == 0) {
		log_info("intake: uid=%" PRIu32 " filing=%s state=%s "
		    "errors=%zu", c->uid, o.id[0] ? o.id : "-",
		    o.state != WF_NONE ? workflow_state_name(o.state) : "-",
		    errlist_nerrors(o.errs));
		if (errlist_nerrors(o.errs) > 0)
			/* a package without a tag made a filing (invalid):
			 * the refusal is about it */
			rc = mail_refuse_about(c, o.id, o.state, o.errs,
			    mm->tag_id[0] == '\0' ? o.id : NULL);
	}
	errlist_free(o.errs);
	return rc;
}

