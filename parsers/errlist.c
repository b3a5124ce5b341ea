/*
 * errlist: codes, default messages and the list of findings.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "parsers/input_limits.h"

struct errlist {
	struct err_item *items;
	size_t n, cap;
};

static const struct {
	const char *name;
	const char *message;
} err_table[ERR__COUNT] = {
#define M(c, m) [ERR_##c] = { #c, m }
	M(ARCHIVE_CORRUPT, "压缩包已损坏 / the archive is damaged"),
	M(ARCHIVE_TRUNCATED, "压缩包不完整 / the archive ends early"),
	M(ARCHIVE_FORMAT, "不是支持的压缩包格式 / not a supported archive (zip, tar, tar.gz, tar.xz)"),
	M(ARCHIVE_TOO_LARGE, "压缩包或文件过大 / the archive or an entry is too large"),
	M(ARCHIVE_TOO_MANY_ENTRIES, "压缩包内文件过多 / too many entries in the archive"),
	M(ARCHIVE_BOMB, "解压后过大 / unpacks to too much data"),
	M(ARCHIVE_UNSAFE_PATH, "不安全的文件路径 / unsafe entry path"),
	M(ARCHIVE_LINK, "不允许链接 / links are not allowed"),
	M(ARCHIVE_SPECIAL_FILE, "不允许特殊文件 / special files are not allowed"),
	M(ARCHIVE_NESTED, "不允许嵌套压缩包 / an archive inside the archive"),
	M(ARCHIVE_DUPLICATE_ENTRY, "文件重复 / the same entry twice"),
	M(FILING_XML_MISSING, "缺少 filing.xml / filing.xml is missing"),
	M(MANIFEST_MISMATCH, "清单与内容不符 / the manifest does not match the batch"),
	M(XML_MALFORMED, "XML 格式错误 / malformed XML"),
	M(XML_DTD_FORBIDDEN, "不允许 DOCTYPE / DOCTYPE is not allowed"),
	M(XML_ENCODING, "不支持的编码或无效字节 / unsupported encoding or invalid bytes"),
	M(XML_TOO_LARGE, "XML 文件过大 / the XML document is too large"),
	M(SCHEMA_VIOLATION, "不符合格式定义 / does not follow the schema"),
	M(TRACKING_ID_UNKNOWN, "未知的备案流水号 / unknown tracking id"),
	M(NOT_YOUR_FILING, "不是本接入商的备案 / the filing belongs to another provider"),
	M(WRONG_STATE, "当前状态不允许此操作 / not allowed in the filing's current state"),
	M(PROVINCE_NOT_SERVED, "不受理该省份 / this province is not served here"),
	M(LICENCE_UNKNOWN, "未知的备案号 / unknown filing number"),
	M(LICENCE_FORMAT, "备案号格式错误 / malformed filing number"),
	M(LICENCE_CONFLICT, "备案号已被使用 / the filing number is already in use"),
	M(PASSWORD_WRONG, "备案密码错误 / wrong filing password"),
	M(NAME_MISMATCH, "名称不一致 / the names do not match"),
	M(NAME_INVALID, "姓名无效 / invalid name"),
	M(CERT_TYPE_MISMATCH, "证件类型与性质不符 / certificate type does not fit the nature"),
	M(CERT_NUMBER_INVALID, "证件号码无效 / invalid certificate number"),
	M(CERT_EXPIRED, "证件有效期不足 90 天 / the certificate expires within 90 days"),
	M(ADDRESS_INCOMPLETE, "地址不完整 / the address is incomplete"),
	M(REGION_INVALID, "行政区划代码无效 / invalid region code"),
	M(CROSS_PROVINCE, "主办单位不在该省 / the sponsor is registered in another province"),
	M(MOBILE_INVALID, "手机号码无效 / invalid mobile number"),
	M(PHONE_INVALID, "电话号码无效 / invalid telephone number"),
	M(EMAIL_INVALID, "电子邮件地址无效 / invalid email address"),
	M(ATTACHMENT_REQUIRED, "缺少必需的附件 / a required attachment is absent"),
	M(ATTACHMENT_MISSING, "附件文件不存在 / the named file is not in the package"),
	M(ATTACHMENT_UNUSED, "未被 filing.xml 引用 / not named by filing.xml"),
	M(SITE_NAME_INVALID, "网站名称不符合要求 / the site name is not acceptable"),
	M(DOMAIN_INVALID, "域名无效 / invalid domain name"),
	M(DOMAIN_NOT_REGISTRABLE, "不是可注册域名 / not a registrable domain"),
	M(DOMAIN_CONFLICT, "域名已有其他备案 / the domain is filed or being filed elsewhere"),
	M(DOMAIN_DUPLICATE, "域名重复 / the domain appears twice"),
	M(HOMEURL_NOT_IN_DOMAINS, "首页地址不在网站域名内 / the home URL is not under the site's domains"),
	M(PREAPPROVAL_MISSING, "缺少前置审批 / the required pre-approval is missing"),
	M(IP_INVALID, "IP 地址无效 / invalid IP address"),
	M(IP_NOT_PUBLIC, "不是公网 IP 地址 / not a public IP address"),
	M(IP_NOT_PROVIDER, "IP 地址不属于本接入商 / the address is not in the provider's ranges"),
	M(SUBJECT_CONFLICT, "该主体已有进行中的备案 / the subject has another filing in progress"),
	M(SUBJECT_ALREADY_FILED, "该主体已有备案号 / the subject already has a filing number"),
	M(LAST_ACCESS, "这是网站的最后一个接入 / this is the site's last access"),
	M(PHOTO_FORMAT, "不是 JPEG 或 PNG 图片 / not a JPEG or PNG image"),
	M(PHOTO_CORRUPT, "图片已损坏 / the image is damaged"),
	M(PHOTO_TOO_LARGE, "图片文件过大 / the image file is too large"),
	M(PHOTO_DIMENSIONS, "图片尺寸不符合要求 / the image size is out of bounds"),
	M(VERIFICATION_INCOMPLETE, "核验单不完整 / the verification record is incomplete"),
	M(TOKEN_INVALID, "令牌无效 / invalid or used token"),
	M(SENDER_MISMATCH, "发件人不是备案所有人 / the sender is not the filing's owner"),
	M(NO_PACKAGE, "邮件中没有备案材料 / the mail carries no package"),
	M(MAIL_TOO_LARGE, "邮件过大 / the mail is too large"),
	M(UPLOAD_UNREADABLE, "beiand 无法读取上传的文件 / beiand cannot read "
	    "the uploaded file"),
	M(NOT_PROCESSED, "未能处理，已隔离待运维人员处理 / could not be "
	    "processed; quarantined for the operator"),
#undef M
};

const char *
err_code_name(enum err_code code)
{
	if ((unsigned)code >= ERR__COUNT)
		return "UNKNOWN";
	return err_table[code].name;
}

int
err_code_parse(const char *name, enum err_code *code)
{
	for (int i = 0; i < ERR__COUNT; i++)
		if (strcmp(err_table[i].name, name) == 0) {
			*code = (enum err_code)i;
			return 0;
		}
	return -1;
}

const char *
err_code_message(enum err_code code)
{
	if ((unsigned)code >= ERR__COUNT)
		return "";
	return err_table[code].message;
}

enum err_severity
err_code_severity(enum err_code code)
{
	return code == ERR_ATTACHMENT_UNUSED ? SEV_WARNING : SEV_ERROR;
}

struct errlist *
errlist_new(void)
{
	return xcalloc(1, sizeof(struct errlist));
}

void
errlist_clear(struct errlist *el)
{
	for (size_t i = 0; i < el->n; i++) {
		free(el->items[i].path);
		free(el->items[i].message);
	}
	el->n = 0;
}

void
errlist_free(struct errlist *el)
{
	if (el == NULL)
		return;
	errlist_clear(el);
	free(el->items);
	free(el);
}

static void
errlist_push(struct errlist *el, enum err_code code, char *path, char *msg)
{
	for (size_t i = 0; i < el->n; i++) {
		struct err_item *it = &el->items[i];
		if (it->code == code && strcmp(it->path, path) == 0 &&
		    strcmp(it->message, msg) == 0) {
			free(path);
			free(msg);
			return;
		}
	}
	xgrow(&el->items, &el->cap, el->n, sizeof(*el->items));
	el->items[el->n].code = code;
	el->items[el->n].severity = err_code_severity(code);
	el->items[el->n].path = path;
	el->items[el->n].message = msg;
	el->n++;
}

void
errlist_vadd(struct errlist *el, enum err_code code, const char *path,
    const char *fmt, va_list ap)
{
	char *msg;

	msg = fmt ? xvasprintf(fmt, ap) : xstrdup(err_code_message(code));
	errlist_push(el, code, xstrdup(path ? path : "/"), msg);
}

void
errlist_add(struct errlist *el, enum err_code code, const char *path,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errlist_vadd(el, code, path, fmt, ap);
	va_end(ap);
}

size_t
errlist_count(const struct errlist *el)
{
	return el->n;
}

const struct err_item *
errlist_get(const struct errlist *el, size_t i)
{
	return i < el->n ? &el->items[i] : NULL;
}

size_t
errlist_nerrors(const struct errlist *el)
{
	size_t n = 0;

	for (size_t i = 0; i < el->n; i++)
		if (el->items[i].severity == SEV_ERROR)
			n++;
	return n;
}

int
errlist_has(const struct errlist *el, enum err_code code)
{
	for (size_t i = 0; i < el->n; i++)
		if (el->items[i].code == code)
			return 1;
	return 0;
}

void
errlist_splice(struct errlist *dst, struct errlist *src, const char *prefix)
{
	for (size_t i = 0; i < src->n; i++) {
		struct err_item *it = &src->items[i];
		char *path = it->path;

		if (prefix != NULL && *prefix != '\0') {
			path = xasprintf("%s%s", prefix, it->path);
			free(it->path);
		}
		errlist_push(dst, it->code, path, it->message);
	}
	src->n = 0;
}

void
input_limits_defaults(struct input_limits *lim)
{
	lim->archive_max_bytes = 64ULL << 20;
	lim->archive_max_entries = 1000;
	lim->archive_max_unpacked = 256ULL << 20;
	lim->entry_max_bytes = 16ULL << 20;
	lim->archive_max_ratio = 100;
	lim->path_max = 255;
	lim->xml_max_bytes = 1ULL << 20;
	lim->photo_max_bytes = 5ULL << 20;
	lim->mail_max_bytes = 64ULL << 20;
}
