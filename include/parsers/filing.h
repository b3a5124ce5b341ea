/*
 * filing: the documents of FORMAT.md as plain C structs, parsed from XML.
 *
 * Hostile input: every document arrives from outside.  Parsing is from
 * memory with libxml2, network access and entity loading off; any DOCTYPE
 * is refused (XML_DTD_FORBIDDEN); GB2312/GBK/GB18030 declarations are
 * converted to UTF-8 first, anything else but UTF-8 is XML_ENCODING.  Each
 * document is validated against its XSD (embedded in the binary); schema
 * violations are reported with FORMAT.md paths ("/filing/website[2]/domain[1]")
 * and extraction still fills what it can, so rule checks can run beside
 * them.  All strings are UTF-8 and owned by the struct; absent elements
 * are NULL.  Leading and trailing XML whitespace of text values is trimmed.
 */
#ifndef BEIAND_FILING_H
#define BEIAND_FILING_H

#include <stddef.h>

#include "parsers/errlist.h"
#include "parsers/input_limits.h"

enum filing_type {
	FILING_TYPE_UNKNOWN,
	FILING_FIRST,        /* firstFiling */
	FILING_ADD_SITE,     /* addSite */
	FILING_CANCEL_SITE,  /* cancelSite */
	FILING_CANCEL_ACCESS /* cancelAccess */
};
enum filing_mode { FILING_MODE_UNKNOWN, FILING_MODE_SELF, FILING_MODE_DELEGATED };

struct attachment {
	char *kind; /* sponsorCert, certFront, certBack */
	char *file;
};

struct person {
	char *name, *cert_type, *cert_number, *cert_valid_to;
	char *mobile, *office_phone, *email;
	struct attachment *attachments;
	size_t nattachments;
};

struct sponsor {
	char *name, *nature, *cert_type, *cert_number, *cert_address;
	char *region, *address, *investor;
	struct attachment *attachments;
	size_t nattachments;
	struct person *principal; /* NULL when absent */
};

struct preapproval {
	char *type, *number, *file;
};

/* One <ip> or <ipRange>, in document order.  index is the 1-based
 * position among siblings of the same element name (for paths). */
struct access_ip {
	int is_range;
	size_t index;
	char *ip;         /* <ip> */
	char *start, *end; /* <ipRange> */
};

struct access {
	char *method, *server_location;
	struct access_ip *ips;
	size_t nips;
};

struct website {
	char *name;
	char **domains;
	size_t ndomains;
	char **home_urls;
	size_t nhome_urls;
	char *service_content;
	char **languages;
	size_t nlanguages;
	struct preapproval *preapprovals;
	size_t npreapprovals;
	struct person *manager; /* NULL when absent */
	struct access *accesses;
	size_t naccesses;
};

struct filing {
	char *id; /* filing/@id: a resubmission */
	enum filing_type type;
	enum filing_mode mode;
	char *province, *subject_licence, *site_licence, *password;
	struct sponsor *sponsor; /* NULL when absent */
	struct website *websites;
	size_t nwebsites;
};

/* FORMAT.md §6 and §5 handback issues. */
struct issue {
	char *path, *code, *text;
};

struct verification {
	char *filing, *result; /* "pass" | "return" */
	char *verifier, *verified_at;
	/* the seven checks in the order of FORMAT.md §6; -1 absent, 0 false, 1 true */
	int checks[7];
	char *photo_file, *scan_file;
	struct issue *issues;
	size_t nissues;
};

struct decision {
	char *filing, *result, *token; /* result "approve" | "reject" */
	char *reviewer, *reviewed_at, *licence;
	char *reason_code, *reason_text;
};

struct manifest_item {
	char *path, *sha256;
};
struct manifest {
	char *id;
	struct manifest_item *items;
	size_t nitems;
};

struct withdrawal {
	char *filing, *reason;
};

struct handback {
	char *filing;
	struct issue *issues;
	size_t nissues;
};

enum filing_type filing_type_parse(const char *s);
const char *filing_type_name(enum filing_type t);
const char *filing_mode_name(enum filing_mode m);

/*
 * Each parser reads buf[0..len).  It returns 0 and sets *out when the
 * document was well-formed XML of the right root element (schema findings
 * may still be in errs); -1 when nothing could be extracted (XML_TOO_LARGE,
 * XML_ENCODING, XML_DTD_FORBIDDEN, XML_MALFORMED, or a wrong root element
 * as SCHEMA_VIOLATION).  Findings are added to errs with document paths.
 */
int filing_parse(const void *buf, size_t len, const struct input_limits *lim,
    struct filing **out, struct errlist *errs);
int verification_parse(const void *buf, size_t len,
    const struct input_limits *lim, struct verification **out,
    struct errlist *errs);
int decision_parse(const void *buf, size_t len, const struct input_limits *lim,
    struct decision **out, struct errlist *errs);
int manifest_parse(const void *buf, size_t len, const struct input_limits *lim,
    struct manifest **out, struct errlist *errs);
int withdrawal_parse(const void *buf, size_t len,
    const struct input_limits *lim, struct withdrawal **out,
    struct errlist *errs);
int handback_parse(const void *buf, size_t len, const struct input_limits *lim,
    struct handback **out, struct errlist *errs);

void filing_free(struct filing *f); /* each accepts NULL */
void verification_free(struct verification *v);
void decision_free(struct decision *d);
void manifest_free(struct manifest *m);
void withdrawal_free(struct withdrawal *w);
void handback_free(struct handback *h);

/*
 * Serialise a filing back to canonical UTF-8 XML (namespace
 * urn:beiand:filing:1, the order of FORMAT.md), omitting <password>.
 * Returns a malloc'd NUL-terminated string.  Used to store what was
 * accepted without the password.
 */
char *filing_to_xml(const struct filing *f, size_t *lenp);
/*
 * A verification record as FORMAT.md §6 writes it: the attributes and
 * elements v has (checks[i] == -1 and NULL fields are left out; remarks
 * only when v->nissues > 0), markup characters escaped.  The strings
 * must be UTF-8 (the caller checks what a person typed).  Returns a
 * malloc'd NUL-terminated string.  beianctl verify and the console make
 * their records with it, then parse them back like any other.
 */
char *verification_to_xml(const struct verification *v, size_t *lenp);

/* Set up libxml2 once per process (before any sandboxing); idempotent. */
void xmldoc_init(void);

#endif
