/*
 * test_store_admin: beianctl import of subjects filed before beiand.
 */
#include <stdlib.h>

#include "common/workflow.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "parsers/filing.h"
#include "store/admin.h"
#include "store/store.h"
#include "test_store.h"
#include "unit.h"

UNIT_TEST(store_import_subjects)
{
	struct tctx t;
	struct store_import_row row = {
		"京ICP备2026000002号", "京ICP备2026000002号-3", "旧单位",
		"uscc", "CERTI1", "old.example.cn legacy.example.cn",
		"boss@old.example.cn", "P001 P002"
	};
	struct errlist *e = errlist_new();
	struct filing *f;
	char id[STORE_ID_SIZE], lic[64], pw[32];

	tctx_open(&t);
	CHECK(store_subject_import(t.st, &row, e) == 0);
	CHECK(store_subject_import(t.st, &row, e) == 1);
	CHECK(errlist_has(e, ERR_LICENCE_CONFLICT));
	/* imported: no password, but cancelAccess by one of two providers works */
	CHECK(store_password_check(t.st, "京ICP备2026000002号", "x") == -1);
	f = tf_other(FILING_CANCEL_ACCESS, FILING_MODE_DELEGATED,
	    "京ICP备2026000002号", "京ICP备2026000002号-3", NULL);
	CHECK_INT(file_new(t.st, f, NULL, T0, id, NULL), WF_AWAITING_VERIFICATION);
	CHECK(op_move(t.st, id, WF_UNDER_REVIEW, NULL, T0, NULL) == 0);
	CHECK(op_move(t.st, id, WF_APPROVED, NULL, T0, NULL) == 0);
	tf_free(f);
	/* its domains belong to it */
	f = tf_first("CERTI2", "legacy", 1);
	free(f->websites[0].domains[0]);
	f->websites[0].domains[0] = xstrdup("legacy.example.cn");
	errlist_clear(e);
	CHECK_INT(file_new(t.st, f, NULL, T0, id, e), WF_INVALID);
	CHECK(errlist_has(e, ERR_DOMAIN_CONFLICT));
	tf_free(f);
	/* the local sequence skips the imported number */
	approved_subject(t.st, "CERTI3", "i3", lic, sizeof(lic), pw, sizeof(pw));
	CHECK_STR(lic, "京ICP备2026000001号");
	approved_subject(t.st, "CERTI4", "i4", lic, sizeof(lic), pw, sizeof(pw));
	CHECK_STR(lic, "京ICP备2026000003号");
	/* a second site of the same subject; a bad row */
	row.site_licence = "京ICP备2026000002号-1";
	row.domains = "second.example.cn";
	errlist_clear(e);
	CHECK(store_subject_import(t.st, &row, e) == 0);
	row.site_licence = "京ICP备2026000009号-1";
	CHECK(store_subject_import(t.st, &row, e) == 1);
	CHECK(errlist_has(e, ERR_LICENCE_FORMAT));
	errlist_free(e);
	tctx_close(&t);
}
