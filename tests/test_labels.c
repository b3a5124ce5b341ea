/*
 * test_labels: every interface name has its label (common/labels.c), and
 * the two ways the console and the mails write them.
 */
#include <string.h>

#include "common/labels.h"
#include "common/workflow.h"
#include "parsers/filing.h"
#include "unit.h"

UNIT_TEST(labels_cover_the_names)
{
	char buf[128];

	for (int s = WF_RECEIVED; s < WF_NSTATES; s++) {
		const char *n = workflow_state_name((enum wf_state)s);

		CHECKM(label_zh(LABEL_STATE, n) != NULL, "state %s", n);
		CHECKM(label_en(LABEL_STATE, n) != NULL, "state %s", n);
	}
	for (int t = FILING_FIRST; t <= FILING_CANCEL_ACCESS; t++) {
		const char *n = filing_type_name((enum filing_type)t);

		CHECKM(label_zh(LABEL_TYPE, n) != NULL, "type %s", n);
	}
	for (int a = 0; a < WF_NACTORS; a++)
		CHECK(label_zh(LABEL_ACTOR,
		    workflow_actor_name((enum wf_actor)a)) != NULL);
	for (int c = WF_CHANNEL_SPOOL; c <= WF_CHANNEL_WEB; c++)
		CHECK(label_zh(LABEL_CHANNEL,
		    workflow_channel_name((enum wf_channel)c)) != NULL);
	CHECK_STR(label_zh(LABEL_TYPE, "firstFiling"), "首次备案");
	CHECK_STR(label_zh(LABEL_TYPE, "addSite"), "新增网站");
	CHECK_STR(label_zh(LABEL_TYPE, "cancelSite"), "注销网站");
	CHECK_STR(label_zh(LABEL_TYPE, "cancelAccess"), "取消接入");
	CHECK_STR(label_zh(LABEL_STATE, "awaiting_verification"), "待核验");
	CHECK_STR(label_zh(LABEL_STATE, "under_review"), "审核中");
	CHECK(label_zh(LABEL_STATE, "nonsense") == NULL);
	CHECK(label_zh(LABEL_STATE, NULL) == NULL);
	CHECK_STR(label_with_name(LABEL_TYPE, "firstFiling", 1, buf,
	    sizeof(buf)), "首次备案（firstFiling）");
	CHECK_STR(label_with_name(LABEL_TYPE, "firstFiling", 0, buf,
	    sizeof(buf)), "first filing (firstFiling)");
	CHECK_STR(label_with_name(LABEL_STATE, "bogus", 1, buf, sizeof(buf)),
	    "bogus");
}
