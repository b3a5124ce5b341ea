/*
 * labels: the words people read for the interface names (labels.h).
 */
#include <stdio.h>
#include <string.h>

#include "common/labels.h"

struct label {
	const char *name, *zh, *en;
};

static const struct label types[] = {
	{ "firstFiling", "首次备案", "first filing" },
	{ "addSite", "新增网站", "new website" },
	{ "cancelSite", "注销网站", "website cancellation" },
	{ "cancelAccess", "取消接入", "access cancellation" },
};

static const struct label states[] = {
	{ "received", "已接收", "received" },
	{ "invalid", "未通过检查", "invalid" },
	{ "awaiting_verification", "待核验", "awaiting verification" },
	{ "returned_to_owner", "退回主办者", "returned to the owner" },
	{ "under_review", "审核中", "under review" },
	{ "returned_to_provider", "退回接入商", "returned to the provider" },
	{ "approved", "已通过", "approved" },
	{ "withdrawn", "已撤回", "withdrawn" },
};

static const struct label actors[] = {
	{ "owner", "主办者", "owner" },
	{ "provider", "接入服务商", "access provider" },
	{ "bureau", "通信管理局", "bureau" },
	{ "system", "系统", "system" },
	{ "operator", "运维人员", "operator" },
};

static const struct label channels[] = {
	{ "spool", "上传目录", "spool" },
	{ "mail", "邮件", "mail" },
	{ "cli", "命令行", "command line" },
	{ "web", "控制台", "console" },
};

static const struct label modes[] = {
	{ "self", "自主备案", "self-service" },
	{ "delegated", "代为备案", "delegated" },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct label *
label_find(enum label_set set, const char *name)
{
	const struct label *t = NULL;
	size_t n = 0;

	switch (set) {
	case LABEL_TYPE:
		t = types, n = NELEM(types);
		break;
	case LABEL_STATE:
		t = states, n = NELEM(states);
		break;
	case LABEL_ACTOR:
		t = actors, n = NELEM(actors);
		break;
	case LABEL_CHANNEL:
		t = channels, n = NELEM(channels);
		break;
	case LABEL_MODE:
		t = modes, n = NELEM(modes);
		break;
	}
	for (size_t i = 0; name != NULL && i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

const char *
label_zh(enum label_set set, const char *name)
{
	const struct label *l = label_find(set, name);

	return l != NULL ? l->zh : NULL;
}

const char *
label_en(enum label_set set, const char *name)
{
	const struct label *l = label_find(set, name);

	return l != NULL ? l->en : NULL;
}

char *
label_with_name(enum label_set set, const char *name, int zh, char *buf,
    size_t size)
{
	const struct label *l = label_find(set, name);

	if (l == NULL)
		snprintf(buf, size, "%s", name != NULL ? name : "");
	else if (zh)
		snprintf(buf, size, "%s（%s）", l->zh, l->name);
	else
		snprintf(buf, size, "%s (%s)", l->en, l->name);
	return buf;
}
