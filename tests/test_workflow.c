/*
 * test_workflow: the transition table against DESIGN.md (States, Outputs).
 */
#include <string.h>

#include "common/workflow.h"
#include "unit.h"

/* DESIGN.md's diagram, written out independently of the table. */
static const struct {
	enum wf_state from, to;
	int resubmit_only;
} design[] = {
	{ WF_RECEIVED, WF_INVALID, 0 },
	{ WF_RECEIVED, WF_AWAITING_VERIFICATION, 0 },
	{ WF_AWAITING_VERIFICATION, WF_RETURNED_TO_OWNER, 0 },
	{ WF_RETURNED_TO_OWNER, WF_AWAITING_VERIFICATION, 1 },
	{ WF_AWAITING_VERIFICATION, WF_UNDER_REVIEW, 0 },
	{ WF_UNDER_REVIEW, WF_RETURNED_TO_PROVIDER, 0 },
	{ WF_RETURNED_TO_PROVIDER, WF_UNDER_REVIEW, 1 },
	{ WF_RETURNED_TO_PROVIDER, WF_RETURNED_TO_OWNER, 0 },
	{ WF_UNDER_REVIEW, WF_APPROVED, 0 },
	{ WF_RECEIVED, WF_WITHDRAWN, 0 },
	{ WF_AWAITING_VERIFICATION, WF_WITHDRAWN, 0 },
	{ WF_RETURNED_TO_OWNER, WF_WITHDRAWN, 0 },
	{ WF_UNDER_REVIEW, WF_WITHDRAWN, 0 },
	{ WF_RETURNED_TO_PROVIDER, WF_WITHDRAWN, 0 },
};

#define NDESIGN (sizeof(design) / sizeof(design[0]))

static int
in_design(enum wf_state from, enum wf_state to)
{
	for (size_t i = 0; i < NDESIGN; i++)
		if (design[i].from == from && design[i].to == to)
			return 1;
	return 0;
}

UNIT_TEST(workflow_table_matches_design)
{
	size_t n;
	const struct wf_transition *t = workflow_transitions(&n);

	CHECK_INT(n, NDESIGN);
	for (size_t i = 0; i < n; i++) {
		CHECKM(in_design(t[i].from, t[i].to), "row %zu %s->%s", i,
		    workflow_state_name(t[i].from), workflow_state_name(t[i].to));
		for (size_t k = i + 1; k < n; k++)
			CHECKM(t[i].from != t[k].from || t[i].to != t[k].to,
			    "duplicate row %zu", k);
	}
	for (size_t i = 0; i < NDESIGN; i++) {
		const struct wf_transition *r =
		    workflow_transition_find(design[i].from, design[i].to);

		CHECKM(r != NULL, "design row %zu", i);
		if (r != NULL)
			CHECK_INT(r->resubmit_only, design[i].resubmit_only);
	}
	/* terminal states have no way out; every other one can be withdrawn */
	for (int s = WF_RECEIVED; s < WF_NSTATES; s++) {
		int out = 0;

		for (size_t i = 0; i < n; i++)
			out += t[i].from == (enum wf_state)s;
		if (workflow_state_terminal((enum wf_state)s))
			CHECKM(out == 0, "%s", workflow_state_name((enum wf_state)s));
		else
			CHECKM(workflow_transition_find((enum wf_state)s,
			    WF_WITHDRAWN) != NULL, "%s",
			    workflow_state_name((enum wf_state)s));
	}
}

UNIT_TEST(workflow_actors)
{
	static const struct {
		enum wf_state from, to;
		enum wf_actor actor;
		int ok;
	} rows[] = {
		{ WF_RECEIVED, WF_INVALID, WF_ACTOR_SYSTEM, 1 },
		{ WF_RECEIVED, WF_INVALID, WF_ACTOR_PROVIDER, 0 },
		{ WF_RECEIVED, WF_AWAITING_VERIFICATION, WF_ACTOR_SYSTEM, 1 },
		{ WF_AWAITING_VERIFICATION, WF_UNDER_REVIEW, WF_ACTOR_PROVIDER, 1 },
		{ WF_AWAITING_VERIFICATION, WF_UNDER_REVIEW, WF_ACTOR_OWNER, 0 },
		{ WF_AWAITING_VERIFICATION, WF_UNDER_REVIEW, WF_ACTOR_BUREAU, 0 },
		{ WF_AWAITING_VERIFICATION, WF_RETURNED_TO_OWNER, WF_ACTOR_PROVIDER, 1 },
		{ WF_AWAITING_VERIFICATION, WF_RETURNED_TO_OWNER, WF_ACTOR_OPERATOR, 1 },
		{ WF_UNDER_REVIEW, WF_APPROVED, WF_ACTOR_BUREAU, 1 },
		{ WF_UNDER_REVIEW, WF_APPROVED, WF_ACTOR_OPERATOR, 1 },
		{ WF_UNDER_REVIEW, WF_APPROVED, WF_ACTOR_PROVIDER, 0 },
		{ WF_UNDER_REVIEW, WF_RETURNED_TO_PROVIDER, WF_ACTOR_BUREAU, 1 },
		{ WF_UNDER_REVIEW, WF_RETURNED_TO_PROVIDER, WF_ACTOR_OWNER, 0 },
		{ WF_RETURNED_TO_PROVIDER, WF_RETURNED_TO_OWNER, WF_ACTOR_PROVIDER, 1 },
		{ WF_RETURNED_TO_PROVIDER, WF_RETURNED_TO_OWNER, WF_ACTOR_BUREAU, 0 },
		/* resubmissions are not commands */
		{ WF_RETURNED_TO_OWNER, WF_AWAITING_VERIFICATION, WF_ACTOR_OWNER, 0 },
		{ WF_RETURNED_TO_PROVIDER, WF_UNDER_REVIEW, WF_ACTOR_PROVIDER, 0 },
		{ WF_UNDER_REVIEW, WF_WITHDRAWN, WF_ACTOR_OWNER, 1 },
		{ WF_UNDER_REVIEW, WF_WITHDRAWN, WF_ACTOR_BUREAU, 0 },
		{ WF_APPROVED, WF_WITHDRAWN, WF_ACTOR_OPERATOR, 0 },
		{ WF_INVALID, WF_AWAITING_VERIFICATION, WF_ACTOR_SYSTEM, 0 },
		{ WF_WITHDRAWN, WF_RECEIVED, WF_ACTOR_OPERATOR, 0 },
		{ WF_APPROVED, WF_UNDER_REVIEW, WF_ACTOR_BUREAU, 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECKM((workflow_transition_allowed(rows[i].from, rows[i].to,
		    rows[i].actor) == 0) == rows[i].ok, "row %zu", i);
}

UNIT_TEST(workflow_resubmit)
{
	static const struct {
		enum wf_state from;
		enum wf_actor actor;
		int ok;
		enum wf_state to;
	} rows[] = {
		{ WF_RETURNED_TO_OWNER, WF_ACTOR_OWNER, 1, WF_AWAITING_VERIFICATION },
		{ WF_RETURNED_TO_OWNER, WF_ACTOR_PROVIDER, 1, WF_AWAITING_VERIFICATION },
		{ WF_RETURNED_TO_PROVIDER, WF_ACTOR_PROVIDER, 1, WF_UNDER_REVIEW },
		{ WF_RETURNED_TO_PROVIDER, WF_ACTOR_OWNER, 0, WF_NONE },
		{ WF_RETURNED_TO_PROVIDER, WF_ACTOR_BUREAU, 0, WF_NONE },
		{ WF_AWAITING_VERIFICATION, WF_ACTOR_OWNER, 0, WF_NONE },
		{ WF_AWAITING_VERIFICATION, WF_ACTOR_PROVIDER, 0, WF_NONE },
		{ WF_UNDER_REVIEW, WF_ACTOR_PROVIDER, 0, WF_NONE },
		{ WF_APPROVED, WF_ACTOR_PROVIDER, 0, WF_NONE },
		{ WF_INVALID, WF_ACTOR_OWNER, 0, WF_NONE },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum wf_state to = WF_NONE;
		int rc = workflow_resubmit_target(rows[i].from, rows[i].actor, &to);

		CHECKM((rc == 0) == rows[i].ok, "row %zu", i);
		if (rows[i].ok)
			CHECKM(to == rows[i].to, "row %zu", i);
	}
}

static int
has_mail(const struct wf_mail *m, size_t n, enum wf_template t, enum wf_role r)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].tpl == t && m[i].role == r)
			return 1;
	return 0;
}

UNIT_TEST(workflow_mails)
{
	struct wf_mail m[WF_MAX_MAILS];
	const struct wf_transition *t;
	size_t n;

	t = workflow_transition_find(WF_RECEIVED, WF_AWAITING_VERIFICATION);
	n = workflow_mails_select(t, 0, WF_CHANNEL_MAIL, m);
	CHECK_INT(n, 2);
	CHECK(has_mail(m, n, WF_TPL_RECEIVED, WF_ROLE_OWNER));
	CHECK(has_mail(m, n, WF_TPL_AWAITING_VERIFICATION, WF_ROLE_PROVIDER));
	n = workflow_mails_select(t, 1, WF_CHANNEL_SPOOL, m);
	CHECK_INT(n, 3);
	CHECK(has_mail(m, n, WF_TPL_RECEIVED, WF_ROLE_PROVIDER));

	t = workflow_transition_find(WF_RECEIVED, WF_INVALID);
	n = workflow_mails_select(t, 0, WF_CHANNEL_SPOOL, m);
	CHECK_INT(n, 1);
	CHECK(has_mail(m, n, WF_TPL_INVALID, WF_ROLE_PROVIDER));
	n = workflow_mails_select(t, 0, WF_CHANNEL_MAIL, m);
	CHECK_INT(n, 1);
	CHECK(has_mail(m, n, WF_TPL_INVALID, WF_ROLE_SENDER));
	CHECK_INT(workflow_mails_select(t, 0, WF_CHANNEL_CLI, m), 0);

	t = workflow_transition_find(WF_UNDER_REVIEW, WF_APPROVED);
	n = workflow_mails_select(t, 0, WF_CHANNEL_MAIL, m);
	CHECK_INT(n, 3);
	CHECK(has_mail(m, n, WF_TPL_APPROVED_OWNER, WF_ROLE_OWNER));
	CHECK(has_mail(m, n, WF_TPL_APPROVED_PROVIDER, WF_ROLE_PROVIDER));
	CHECK(has_mail(m, n, WF_TPL_APPROVED_BUREAU, WF_ROLE_BUREAU));

	t = workflow_transition_find(WF_AWAITING_VERIFICATION, WF_UNDER_REVIEW);
	n = workflow_mails_select(t, 0, WF_CHANNEL_SPOOL, m);
	CHECK_INT(n, 1);
	CHECK(has_mail(m, n, WF_TPL_REVIEW_REQUEST, WF_ROLE_BUREAU));

	/* withdrawn: the bureau hears of it only from under_review */
	for (int s = WF_RECEIVED; s < WF_NSTATES; s++) {
		t = workflow_transition_find((enum wf_state)s, WF_WITHDRAWN);
		if (t == NULL)
			continue;
		n = workflow_mails_select(t, 0, WF_CHANNEL_CLI, m);
		CHECK(has_mail(m, n, WF_TPL_WITHDRAWN, WF_ROLE_OWNER));
		CHECK(has_mail(m, n, WF_TPL_WITHDRAWN, WF_ROLE_PROVIDER));
		CHECKM(has_mail(m, n, WF_TPL_WITHDRAWN, WF_ROLE_BUREAU) ==
		    (s == WF_UNDER_REVIEW), "%s",
		    workflow_state_name((enum wf_state)s));
	}

	n = workflow_mails_select(workflow_attempt_invalid(), 0,
	    WF_CHANNEL_MAIL, m);
	CHECK_INT(n, 1);
	CHECK(has_mail(m, n, WF_TPL_INVALID, WF_ROLE_SENDER));
}

UNIT_TEST(workflow_names)
{
	static const char *const states[] = {
		"received", "invalid", "awaiting_verification",
		"returned_to_owner", "under_review", "returned_to_provider",
		"approved", "withdrawn"
	};
	static const char *const tpls[] = {
		"received", "invalid", "awaiting_verification",
		"returned_to_owner", "review_request", "returned_to_provider",
		"approved_owner", "approved_provider", "approved_bureau",
		"withdrawn", "help"
	};
	enum wf_state s;
	enum wf_template t;
	enum wf_actor a;
	enum wf_channel c;

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		CHECKM(workflow_state_parse(states[i], &s) == 0, "%s", states[i]);
		CHECK_STR(workflow_state_name(s), states[i]);
	}
	for (size_t i = 0; i < sizeof(tpls) / sizeof(tpls[0]); i++) {
		CHECKM(workflow_template_parse(tpls[i], &t) == 0, "%s", tpls[i]);
		CHECK_STR(workflow_template_name(t), tpls[i]);
	}
	CHECK(workflow_state_parse("Approved", &s) == -1);
	CHECK(workflow_state_parse(NULL, &s) == -1);
	CHECK(workflow_state_name(WF_NONE) == NULL);
	CHECK(workflow_actor_parse("operator", &a) == 0 && a == WF_ACTOR_OPERATOR);
	CHECK(workflow_actor_parse("root", &a) == -1);
	CHECK(workflow_channel_parse("mail", &c) == 0 && c == WF_CHANNEL_MAIL);
	CHECK_STR(workflow_role_name(WF_ROLE_SENDER), "sender");
	CHECK(workflow_state_open(WF_UNDER_REVIEW));
	CHECK(!workflow_state_open(WF_APPROVED));
	CHECK(!workflow_state_open(WF_NONE));
	CHECK(workflow_state_terminal(WF_INVALID));
	CHECK(!workflow_state_terminal(WF_RETURNED_TO_OWNER));
}
