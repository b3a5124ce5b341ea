/*
 * errlist: the error codes of FORMAT.md §8 and a list of findings.
 *
 * Every check in beiand reports into an errlist instead of stopping, so
 * that all independent errors of one input reach its sender together.
 * A finding is a code, a path (XPath-like for XML, an entry name for
 * archive members, "/" for the archive itself) and a bilingual message
 * "中文 / English".  Code names are the contract words of FORMAT.md.
 */
#ifndef BEIAND_ERRLIST_H
#define BEIAND_ERRLIST_H

#include <stdarg.h>
#include <stddef.h>

#define ERR_CODES(X)                                                           \
	X(ARCHIVE_CORRUPT)                                                     \
	X(ARCHIVE_TRUNCATED)                                                   \
	X(ARCHIVE_FORMAT)                                                      \
	X(ARCHIVE_TOO_LARGE)                                                   \
	X(ARCHIVE_TOO_MANY_ENTRIES)                                            \
	X(ARCHIVE_BOMB)                                                        \
	X(ARCHIVE_UNSAFE_PATH)                                                 \
	X(ARCHIVE_LINK)                                                        \
	X(ARCHIVE_SPECIAL_FILE)                                                \
	X(ARCHIVE_NESTED)                                                      \
	X(ARCHIVE_DUPLICATE_ENTRY)                                             \
	X(FILING_XML_MISSING)                                                  \
	X(MANIFEST_MISMATCH)                                                   \
	X(XML_MALFORMED)                                                       \
	X(XML_DTD_FORBIDDEN)                                                   \
	X(XML_ENCODING)                                                        \
	X(XML_TOO_LARGE)                                                       \
	X(SCHEMA_VIOLATION)                                                    \
	X(TRACKING_ID_UNKNOWN)                                                 \
	X(NOT_YOUR_FILING)                                                     \
	X(WRONG_STATE)                                                         \
	X(PROVINCE_NOT_SERVED)                                                 \
	X(LICENCE_UNKNOWN)                                                     \
	X(LICENCE_FORMAT)                                                      \
	X(LICENCE_CONFLICT)                                                    \
	X(PASSWORD_WRONG)                                                      \
	X(NAME_MISMATCH)                                                       \
	X(NAME_INVALID)                                                        \
	X(CERT_TYPE_MISMATCH)                                                  \
	X(CERT_NUMBER_INVALID)                                                 \
	X(CERT_EXPIRED)                                                        \
	X(ADDRESS_INCOMPLETE)                                                  \
	X(REGION_INVALID)                                                      \
	X(CROSS_PROVINCE)                                                      \
	X(MOBILE_INVALID)                                                      \
	X(PHONE_INVALID)                                                       \
	X(EMAIL_INVALID)                                                       \
	X(ATTACHMENT_REQUIRED)                                                 \
	X(ATTACHMENT_MISSING)                                                  \
	X(ATTACHMENT_UNUSED)                                                   \
	X(SITE_NAME_INVALID)                                                   \
	X(DOMAIN_INVALID)                                                      \
	X(DOMAIN_NOT_REGISTRABLE)                                              \
	X(DOMAIN_CONFLICT)                                                     \
	X(DOMAIN_DUPLICATE)                                                    \
	X(HOMEURL_NOT_IN_DOMAINS)                                              \
	X(PREAPPROVAL_MISSING)                                                 \
	X(IP_INVALID)                                                          \
	X(IP_NOT_PUBLIC)                                                       \
	X(IP_NOT_PROVIDER)                                                     \
	X(SUBJECT_CONFLICT)                                                    \
	X(SUBJECT_ALREADY_FILED)                                               \
	X(LAST_ACCESS)                                                         \
	X(PHOTO_FORMAT)                                                        \
	X(PHOTO_CORRUPT)                                                       \
	X(PHOTO_TOO_LARGE)                                                     \
	X(PHOTO_DIMENSIONS)                                                    \
	X(VERIFICATION_INCOMPLETE)                                             \
	X(TOKEN_INVALID)                                                       \
	X(SENDER_MISMATCH)                                                     \
	X(NO_PACKAGE)                                                          \
	X(MAIL_TOO_LARGE)                                                      \
	X(UPLOAD_UNREADABLE)                                                   \
	X(NOT_PROCESSED)

enum err_code {
#define ERR_ENUM(c) ERR_##c,
	ERR_CODES(ERR_ENUM)
#undef ERR_ENUM
	ERR__COUNT
};

enum err_severity { SEV_ERROR, SEV_WARNING };

struct err_item {
	enum err_code code;
	enum err_severity severity;
	char *path;    /* never NULL */
	char *message; /* "中文 / English", never NULL */
};

struct errlist;

/* The contract name of a code ("CERT_NUMBER_INVALID"). */
const char *err_code_name(enum err_code code);
/* Look a name up; -1 when it is not a code of FORMAT.md. */
int err_code_parse(const char *name, enum err_code *code);
/* The default bilingual message of a code. */
const char *err_code_message(enum err_code code);
/* ATTACHMENT_UNUSED is a warning, every other code an error. */
enum err_severity err_code_severity(enum err_code code);

struct errlist *errlist_new(void);
void errlist_free(struct errlist *el); /* accepts NULL */

/*
 * Add a finding.  path is copied; fmt may be NULL for the code's default
 * message.  A finding identical to one already listed (code, path and
 * message) is not added twice.
 */
void errlist_add(struct errlist *el, enum err_code code, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void errlist_vadd(struct errlist *el, enum err_code code, const char *path,
    const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

/* All findings, errors and warnings, in the order they were added. */
size_t errlist_count(const struct errlist *el);
const struct err_item *errlist_get(const struct errlist *el, size_t i);
/* Findings of severity error only. */
size_t errlist_nerrors(const struct errlist *el);
/* 1 when some finding carries this code. */
int errlist_has(const struct errlist *el, enum err_code code);

/* Move every finding of src to the end of dst, prefixing each path with
 * prefix (may be NULL or ""); src is left empty. */
void errlist_splice(struct errlist *dst, struct errlist *src, const char *prefix);
/* Remove every finding. */
void errlist_clear(struct errlist *el);

#endif
