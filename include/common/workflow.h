/*
 * workflow: the filing states of DESIGN.md and the transitions between
 * them, as data.
 *
 * Pure: no I/O, no state.  The table says, for each allowed change of
 * state, which kinds of actor may make it and which mails (template and
 * recipient role) it queues.  The store applies it: a change that the
 * table does not list, or that this actor may not make, is WRONG_STATE.
 * State, template and role names are the words of DESIGN.md.
 */
#ifndef BEIAND_WORKFLOW_H
#define BEIAND_WORKFLOW_H

#include <stddef.h>

enum wf_state {
	WF_NONE,                  /* no state yet: the "from" of a creation */
	WF_RECEIVED,
	WF_INVALID,
	WF_AWAITING_VERIFICATION,
	WF_RETURNED_TO_OWNER,
	WF_UNDER_REVIEW,
	WF_RETURNED_TO_PROVIDER,
	WF_APPROVED,
	WF_WITHDRAWN
};
#define WF_NSTATES 9

enum wf_actor {
	WF_ACTOR_OWNER,
	WF_ACTOR_PROVIDER,
	WF_ACTOR_BUREAU,
	WF_ACTOR_SYSTEM,
	WF_ACTOR_OPERATOR
};
#define WF_NACTORS 5
#define WF_ACTOR_BIT(a) (1u << (a))

/* web: the staff console (beiand-web), an account acting from a browser */
enum wf_channel { WF_CHANNEL_SPOOL, WF_CHANNEL_MAIL, WF_CHANNEL_CLI,
	WF_CHANNEL_WEB };

enum wf_role {
	WF_ROLE_OWNER,
	WF_ROLE_PROVIDER,
	WF_ROLE_BUREAU,
	WF_ROLE_SENDER,
	/* in the table only: whoever submitted the package (provider for
	 * spool, the envelope sender for mail, nobody for the CLI) */
	WF_ROLE_SUBMITTER
};

enum wf_template {
	WF_TPL_RECEIVED,
	WF_TPL_INVALID,
	WF_TPL_AWAITING_VERIFICATION,
	WF_TPL_RETURNED_TO_OWNER,
	WF_TPL_REVIEW_REQUEST,
	WF_TPL_RETURNED_TO_PROVIDER,
	WF_TPL_APPROVED_OWNER,
	WF_TPL_APPROVED_PROVIDER,
	WF_TPL_APPROVED_BUREAU,
	WF_TPL_WITHDRAWN,
	WF_TPL_HELP,
	/* beianctl password-reset: the new password to the owner on record
	 * (a mail about a subject, no filing, not in the transition table) */
	WF_TPL_PASSWORD_RESET,
	/* a wrong filing password was given: told to the owner on record,
	 * at most once a day per subject (no filing, not in the table) */
	WF_TPL_PASSWORD_FAILED
};
#define WF_NTEMPLATES 13

enum wf_when {
	WF_WHEN_ALWAYS,
	WF_WHEN_DELEGATED /* only for mode="delegated" filings */
};

struct wf_mail {
	enum wf_template tpl;
	enum wf_role role;
	enum wf_when when;
};

#define WF_MAX_MAILS 4

struct wf_transition {
	enum wf_state from, to;
	unsigned actors;       /* WF_ACTOR_BIT()s allowed to make it */
	int resubmit_only;     /* only by a resubmitted package, never by a bare command */
	struct wf_mail mails[WF_MAX_MAILS];
	size_t nmails;
};

/* The whole table (for tests and documentation); *n receives its length. */
const struct wf_transition *workflow_transitions(size_t *n);
/* The row from → to, NULL when the table has none. */
const struct wf_transition *workflow_transition_find(enum wf_state from,
    enum wf_state to);
/* The mails of an invalid resubmission, whose state does not change
 * (from and to are WF_NONE in the row: "the state kept"). */
const struct wf_transition *workflow_attempt_invalid(void);
/*
 * 0 when actor may move a filing from → to by a command (not a
 * resubmission), -1 otherwise (WRONG_STATE).
 */
int workflow_transition_allowed(enum wf_state from, enum wf_state to,
    enum wf_actor actor);
/*
 * Where a valid resubmission by actor moves a filing in state from:
 * 0 and *to set, or -1 when actor may not resubmit from there
 * (WRONG_STATE).  Owners resubmit from returned_to_owner, providers from
 * returned_to_owner and returned_to_provider.
 */
int workflow_resubmit_target(enum wf_state from, enum wf_actor actor,
    enum wf_state *to);
/*
 * The mails t queues for a filing (delegated: its mode) that arrived by
 * channel: conditions applied and WF_ROLE_SUBMITTER resolved.  Writes at
 * most WF_MAX_MAILS entries to out and returns their number.
 */
size_t workflow_mails_select(const struct wf_transition *t, int delegated,
    enum wf_channel channel, struct wf_mail out[WF_MAX_MAILS]);
/* WF_ROLE_PROVIDER for spool, WF_ROLE_SENDER for mail; -1 for the CLI
 * and the console (which submit no packages of their own). */
int workflow_submitter_role(enum wf_channel channel, enum wf_role *role);

/* invalid, approved and withdrawn. */
int workflow_state_terminal(enum wf_state s);
/* A filing that holds its subject and domains: neither terminal nor WF_NONE. */
int workflow_state_open(enum wf_state s);

/* Names as in DESIGN.md; the parsers return -1 for an unknown name.
 * workflow_state_name(WF_NONE) is NULL. */
const char *workflow_state_name(enum wf_state s);
int workflow_state_parse(const char *name, enum wf_state *out);
const char *workflow_actor_name(enum wf_actor a);
int workflow_actor_parse(const char *name, enum wf_actor *out);
const char *workflow_channel_name(enum wf_channel c);
int workflow_channel_parse(const char *name, enum wf_channel *out);
const char *workflow_role_name(enum wf_role r);
const char *workflow_template_name(enum wf_template t);
int workflow_template_parse(const char *name, enum wf_template *out);

#endif
