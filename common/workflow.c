/*
 * workflow: the transition table of DESIGN.md (States, Outputs).
 *
 * Pure data and lookups.  Everything a transition does besides changing
 * the state (numbers, tokens, the rows it writes) is the store's.
 */
#include <stddef.h>
#include <string.h>

#include "common/workflow.h"

#define OWNER WF_ACTOR_BIT(WF_ACTOR_OWNER)
#define PROVIDER WF_ACTOR_BIT(WF_ACTOR_PROVIDER)
#define BUREAU WF_ACTOR_BIT(WF_ACTOR_BUREAU)
#define SYSTEM WF_ACTOR_BIT(WF_ACTOR_SYSTEM)
#define OPERATOR WF_ACTOR_BIT(WF_ACTOR_OPERATOR)

#define MAIL(t, r) { WF_TPL_##t, WF_ROLE_##r, WF_WHEN_ALWAYS }
#define MAIL_DELEGATED(t, r) { WF_TPL_##t, WF_ROLE_##r, WF_WHEN_DELEGATED }

/*
 * The operator (beianctl on the host) may do what the provider or the
 * bureau may; the system makes only the automatic moves after validation.
 * Withdrawal rows are spelled out per state so that the bureau hears of
 * it only when the filing was under review.
 */
static const struct wf_transition table[] = {
	{ WF_RECEIVED, WF_INVALID, SYSTEM, 0,
	    { MAIL(INVALID, SUBMITTER) }, 1 },
	{ WF_RECEIVED, WF_AWAITING_VERIFICATION, SYSTEM, 0,
	    { MAIL(RECEIVED, OWNER), MAIL_DELEGATED(RECEIVED, PROVIDER),
	      MAIL(AWAITING_VERIFICATION, PROVIDER) }, 3 },
	{ WF_AWAITING_VERIFICATION, WF_RETURNED_TO_OWNER, PROVIDER | OPERATOR, 0,
	    { MAIL(RETURNED_TO_OWNER, OWNER) }, 1 },
	{ WF_RETURNED_TO_OWNER, WF_AWAITING_VERIFICATION,
	    OWNER | PROVIDER | OPERATOR, 1,
	    { MAIL(RECEIVED, OWNER), MAIL_DELEGATED(RECEIVED, PROVIDER),
	      MAIL(AWAITING_VERIFICATION, PROVIDER) }, 3 },
	{ WF_AWAITING_VERIFICATION, WF_UNDER_REVIEW, PROVIDER | OPERATOR, 0,
	    { MAIL(REVIEW_REQUEST, BUREAU) }, 1 },
	{ WF_UNDER_REVIEW, WF_RETURNED_TO_PROVIDER, BUREAU | OPERATOR, 0,
	    { MAIL(RETURNED_TO_PROVIDER, PROVIDER) }, 1 },
	{ WF_RETURNED_TO_PROVIDER, WF_UNDER_REVIEW, PROVIDER | OPERATOR, 1,
	    { MAIL(REVIEW_REQUEST, BUREAU) }, 1 },
	{ WF_RETURNED_TO_PROVIDER, WF_RETURNED_TO_OWNER, PROVIDER | OPERATOR, 0,
	    { MAIL(RETURNED_TO_OWNER, OWNER) }, 1 },
	{ WF_UNDER_REVIEW, WF_APPROVED, BUREAU | OPERATOR, 0,
	    { MAIL(APPROVED_OWNER, OWNER), MAIL(APPROVED_PROVIDER, PROVIDER),
	      MAIL(APPROVED_BUREAU, BUREAU) }, 3 },
	{ WF_RECEIVED, WF_WITHDRAWN, OWNER | PROVIDER | OPERATOR, 0,
	    { MAIL(WITHDRAWN, OWNER), MAIL(WITHDRAWN, PROVIDER) }, 2 },
	{ WF_AWAITING_VERIFICATION, WF_WITHDRAWN, OWNER | PROVIDER | OPERATOR, 0,
	    { MAIL(WITHDRAWN, OWNER), MAIL(WITHDRAWN, PROVIDER) }, 2 },
	{ WF_RETURNED_TO_OWNER, WF_WITHDRAWN, OWNER | PROVIDER | OPERATOR, 0,
	    { MAIL(WITHDRAWN, OWNER), MAIL(WITHDRAWN, PROVIDER) }, 2 },
	{ WF_UNDER_REVIEW, WF_WITHDRAWN, OWNER | PROVIDER | OPERATOR, 0,
	    { MAIL(WITHDRAWN, OWNER), MAIL(WITHDRAWN, PROVIDER),
	      MAIL(WITHDRAWN, BUREAU) }, 3 },
	{ WF_RETURNED_TO_PROVIDER, WF_WITHDRAWN, OWNER | PROVIDER | OPERATOR, 0,
	    { MAIL(WITHDRAWN, OWNER), MAIL(WITHDRAWN, PROVIDER) }, 2 },
};

static const char *const state_names[WF_NSTATES] = {
	[WF_NONE] = NULL,
	[WF_RECEIVED] = "received",
	[WF_INVALID] = "invalid",
	[WF_AWAITING_VERIFICATION] = "awaiting_verification",
	[WF_RETURNED_TO_OWNER] = "returned_to_owner",
	[WF_UNDER_REVIEW] = "under_review",
	[WF_RETURNED_TO_PROVIDER] = "returned_to_provider",
	[WF_APPROVED] = "approved",
	[WF_WITHDRAWN] = "withdrawn",
};

static const char *const actor_names[WF_NACTORS] = {
	"owner", "provider", "bureau", "system", "operator"
};

static const char *const channel_names[] = { "spool", "mail", "cli", "web" };

static const char *const role_names[] = {
	"owner", "provider", "bureau", "sender", "submitter"
};

static const char *const template_names[WF_NTEMPLATES] = {
	[WF_TPL_RECEIVED] = "received",
	[WF_TPL_INVALID] = "invalid",
	[WF_TPL_AWAITING_VERIFICATION] = "awaiting_verification",
	[WF_TPL_RETURNED_TO_OWNER] = "returned_to_owner",
	[WF_TPL_REVIEW_REQUEST] = "review_request",
	[WF_TPL_RETURNED_TO_PROVIDER] = "returned_to_provider",
	[WF_TPL_APPROVED_OWNER] = "approved_owner",
	[WF_TPL_APPROVED_PROVIDER] = "approved_provider",
	[WF_TPL_APPROVED_BUREAU] = "approved_bureau",
	[WF_TPL_WITHDRAWN] = "withdrawn",
	[WF_TPL_HELP] = "help",
	[WF_TPL_PASSWORD_RESET] = "password_reset",
	[WF_TPL_PASSWORD_FAILED] = "password_failed",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const struct wf_transition *
workflow_transitions(size_t *n)
{
	*n = NELEM(table);
	return table;
}

/* An invalid resubmission: the state is kept and the submitter hears why. */
static const struct wf_transition attempt_invalid = {
	WF_NONE, WF_NONE, OWNER | PROVIDER | OPERATOR, 1,
	{ MAIL(INVALID, SUBMITTER) }, 1
};

const struct wf_transition *
workflow_attempt_invalid(void)
{
	return &attempt_invalid;
}

const struct wf_transition *
workflow_transition_find(enum wf_state from, enum wf_state to)
{
	for (size_t i = 0; i < NELEM(table); i++)
		if (table[i].from == from && table[i].to == to)
			return &table[i];
	return NULL;
}

int
workflow_transition_allowed(enum wf_state from, enum wf_state to,
    enum wf_actor actor)
{
	const struct wf_transition *t = workflow_transition_find(from, to);

	if (t == NULL || t->resubmit_only ||
	    (unsigned)actor >= WF_NACTORS || !(t->actors & WF_ACTOR_BIT(actor)))
		return -1;
	return 0;
}

int
workflow_resubmit_target(enum wf_state from, enum wf_actor actor,
    enum wf_state *to)
{
	/* the rows marked resubmit_only are exactly the resubmissions */
	for (size_t i = 0; i < NELEM(table); i++) {
		if (table[i].from != from || !table[i].resubmit_only)
			continue;
		if ((unsigned)actor >= WF_NACTORS ||
		    !(table[i].actors & WF_ACTOR_BIT(actor)))
			return -1;
		*to = table[i].to;
		return 0;
	}
	return -1;
}

int
workflow_submitter_role(enum wf_channel channel, enum wf_role *role)
{
	switch (channel) {
	case WF_CHANNEL_SPOOL:
		*role = WF_ROLE_PROVIDER;
		return 0;
	case WF_CHANNEL_MAIL:
		*role = WF_ROLE_SENDER;
		return 0;
	case WF_CHANNEL_CLI:
	case WF_CHANNEL_WEB:
		break;
	}
	return -1;
}

size_t
workflow_mails_select(const struct wf_transition *t, int delegated,
    enum wf_channel channel, struct wf_mail out[WF_MAX_MAILS])
{
	size_t n = 0;

	for (size_t i = 0; i < t->nmails && i < WF_MAX_MAILS; i++) {
		struct wf_mail m = t->mails[i];

		if (m.when == WF_WHEN_DELEGATED && !delegated)
			continue;
		if (m.role == WF_ROLE_SUBMITTER &&
		    workflow_submitter_role(channel, &m.role) == -1)
			continue;
		out[n++] = m;
	}
	return n;
}

int
workflow_state_terminal(enum wf_state s)
{
	return s == WF_INVALID || s == WF_APPROVED || s == WF_WITHDRAWN;
}

int
workflow_state_open(enum wf_state s)
{
	return s != WF_NONE && (unsigned)s < WF_NSTATES &&
	    !workflow_state_terminal(s);
}

static int
name_parse(const char *const *names, size_t n, const char *name, int *out)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (names[i] != NULL && strcmp(names[i], name) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	return -1;
}

const char *
workflow_state_name(enum wf_state s)
{
	return (unsigned)s < WF_NSTATES ? state_names[s] : NULL;
}

int
workflow_state_parse(const char *name, enum wf_state *out)
{
	int i;

	if (name_parse(state_names, NELEM(state_names), name, &i) == -1)
		return -1;
	*out = (enum wf_state)i;
	return 0;
}

const char *
workflow_actor_name(enum wf_actor a)
{
	return (unsigned)a < NELEM(actor_names) ? actor_names[a] : NULL;
}

int
workflow_actor_parse(const char *name, enum wf_actor *out)
{
	int i;

	if (name_parse(actor_names, NELEM(actor_names), name, &i) == -1)
		return -1;
	*out = (enum wf_actor)i;
	return 0;
}

const char *
workflow_channel_name(enum wf_channel c)
{
	return (unsigned)c < NELEM(channel_names) ? channel_names[c] : NULL;
}

int
workflow_channel_parse(const char *name, enum wf_channel *out)
{
	int i;

	if (name_parse(channel_names, NELEM(channel_names), name, &i) == -1)
		return -1;
	*out = (enum wf_channel)i;
	return 0;
}

const char *
workflow_role_name(enum wf_role r)
{
	return (unsigned)r < NELEM(role_names) ? role_names[r] : NULL;
}

const char *
workflow_template_name(enum wf_template t)
{
	return (unsigned)t < NELEM(template_names) ? template_names[t] : NULL;
}

int
workflow_template_parse(const char *name, enum wf_template *out)
{
	int i;

	if (name_parse(template_names, NELEM(template_names), name, &i) == -1)
		return -1;
	*out = (enum wf_template)i;
	return 0;
}
