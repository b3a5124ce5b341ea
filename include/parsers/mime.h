/*
 * mime: one raw RFC 5322 message in, what beiand needs of it out.
 *
 * Pure: bytes in, a struct and a list of findings out; no I/O, no
 * logging.  The IMAP fetcher hands every mail of the intake mailbox here
 * (DESIGN.md "Owner mail (IMAP)", "Decisions"), so the whole input is
 * hostile.  Header words (RFC 2047), parameters (RFC 2231 and the common
 * RFC 2047-in-quotes of Outlook), charsets (GB2312/GBK/CP936 read as
 * GB18030, UTF-8, Big5, ISO-8859-1) and transfer encodings are decoded
 * here; nothing the mail says is ever used as a path.
 *
 * Every string of struct mime_mail is valid UTF-8, NUL-terminated and
 * owned by the mail; header-derived strings carry no control bytes.
 */
#ifndef BEIAND_MIME_H
#define BEIAND_MIME_H

#include <stddef.h>

#include "parsers/errlist.h"
#include "parsers/filing_check.h"
#include "parsers/input_limits.h"
#include "parsers/tracking_id.h"

#define MIME_MAX_DEPTH 16 /* nested multiparts */

struct mime_attachment {
	/* Decoded UTF-8, reduced to its last component; "attachment-N"
	 * (N counting attachments from 1) when the mail gave none, or one
	 * that is "", ".", "..", holds a control byte or is over path_max. */
	char *filename;
	char *content_type;  /* "application/zip", lower case */
	unsigned char *data; /* transfer-decoded; NUL-terminated beyond len */
	size_t len;
};

struct mime_mail {
	/* NULL when the header is absent. */
	char *message_id;    /* without the angle brackets */
	char *from_addr;     /* addr-spec of the first From mailbox, domain lower-cased */
	char *from_display;  /* its display name, RFC 2047 decoded */
	char *reply_to_addr; /* first Reply-To mailbox, as from_addr */
	char *subject;       /* RFC 2047 decoded */
	char *return_path;   /* "" for "<>" (a null return path) */
	char *auto_submitted, *precedence, *list_id; /* trimmed header values */
	int is_dsn;          /* top-level Content-Type multipart/report */
	int has_loop_header; /* X-Beiand-Loop present */

	/* The first text/plain part that is not an attachment, converted to
	 * UTF-8 with line ends as "\n"; "" when there is none (never NULL). */
	char *text;

	/* Every attachment: a part with a filename, or with disposition
	 * "attachment", or any other non-text, non-multipart part.  A
	 * message/rfc822 part is one attachment ("attachment-N.eml" when
	 * unnamed) and is not descended into: beiand never takes a package
	 * out of a forwarded mail. */
	struct mime_attachment *attachments;
	size_t nattachments;

	/* Subject tags; "" when absent.  tag_id is taken from "[ID]" or
	 * "[ID TOKEN]", ID a tracking id (parsers/tracking_id.h: six digits,
	 * or seven after a year's first million); tag_token only when TOKEN is
	 * 8 characters of the password alphabet (a mangled token leaves it ""
	 * so that the follow-up is refused with TOKEN_INVALID, not taken for
	 * a new filing).  review_token from "[review:TOKEN]", 16 characters. */
	char tag_id[TRACKING_ID_SIZE];
	char tag_token[16];
	char review_token[32];
};

/*
 * Parse buf[0..len).  Returns 0 and sets *out (free with mime_mail_free)
 * when there is a mail to answer, even one whose contents break a limit:
 * such findings go to errs and then the attachment list is incomplete and
 * must not be used as a package (check errlist_nerrors()).  They are
 * ARCHIVE_TOO_MANY_ENTRIES ("/", over archive_max_entries attachments),
 * ARCHIVE_TOO_LARGE (the attachment's name, one decoded part over
 * archive_max_bytes), ARCHIVE_BOMB ("/", all decoded parts over
 * archive_max_unpacked, or multiparts nested deeper than MIME_MAX_DEPTH).
 * Returns -1, *out untouched, with one finding in errs, when nothing is
 * usable: MAIL_TOO_LARGE ("/", len over mail_max_bytes) or NO_PACKAGE
 * ("/", the input is no message: empty, or no header field first).
 * A broken charset, encoding or structure never fails the mail: what can
 * be read is read, invalid bytes become U+FFFD.
 */
int mime_parse(const void *buf, size_t len, const struct input_limits *lim,
    struct mime_mail **out, struct errlist *errs);
void mime_mail_free(struct mime_mail *m); /* accepts NULL */

/*
 * 1 when nothing may be sent in answer to m (DESIGN.md): Auto-Submitted
 * other than "no", a DSN (multipart/report), a null return path,
 * Precedence bulk, junk or list, a List-Id, From equal to own_address
 * (may be NULL), or the X-Beiand-Loop header.  Else 0.
 */
int mime_is_automated(const struct mime_mail *m, const char *own_address);

/* 1 when two addr-specs are the same mailbox: compared ASCII
 * case-insensitively, local part included.  NULL equals nothing. */
int mime_addr_equal(const char *a, const char *b);

enum mime_command { MIME_CMD_NONE, MIME_CMD_WITHDRAW, MIME_CMD_APPROVE, MIME_CMD_REJECT };

/*
 * The command of the first non-empty, unquoted line of m->text (a line
 * whose first non-blank character is '>' is a quote), trimmed, compared
 * ASCII case-insensitively: "withdraw", "approve", or "reject" followed
 * by ':' or the full-width '：' and a reason.  For MIME_CMD_REJECT,
 * *reason (when reason is not NULL) receives the trimmed rest of the line,
 * malloc'd, possibly "" (the caller refuses an empty reason); "REJECT"
 * alone counts as a reject with an empty reason.  Any other first line:
 * MIME_CMD_NONE.
 */
enum mime_command mime_first_command(const struct mime_mail *m, char **reason);

enum mime_pkg_kind { MIME_PKG_NONE, MIME_PKG_ARCHIVE, MIME_PKG_FILES };

struct mime_package {
	enum mime_pkg_kind kind;
	/* MIME_PKG_ARCHIVE: the first attachment that is an archive by
	 * content (ar_sniff); its bytes go to ar_read. */
	const struct mime_attachment *archive;
	/* MIME_PKG_FILES: an attachment is named filing.xml and none is an
	 * archive: every attachment, as a view into the mail (files is
	 * malloc'd, the names and data are the mail's). */
	struct pkg_file *files;
	size_t nfiles;
	/* Independently of kind: an attachment named decision.xml or
	 * *.decision.xml (the first), or NULL. */
	const struct mime_attachment *decision;
};

/*
 * Find the package m carries.  Returns 0 and fills *pkg (release with
 * mime_package_clear; valid while m lives), kind MIME_PKG_NONE when
 * there is none.  Returns -1, *pkg untouched, when a file set holds two
 * attachments of one name (ARCHIVE_DUPLICATE_ENTRY at that name).
 */
int mime_package_get(const struct mime_mail *m, struct mime_package *pkg,
    struct errlist *errs);
void mime_package_clear(struct mime_package *pkg);

/*
 * Decode bytes in a MIME charset to UTF-8 (malloc'd, NUL-terminated).
 * GB2312, GBK, CP936 and x-gbk are read as GB18030.  charset NULL
 * (undeclared, like raw 8-bit header bytes): valid UTF-8 is kept, else
 * the bytes are read as GB18030.  A declared charset beiand does not know
 * is read as UTF-8.  Invalid sequences become U+FFFD (one per byte) and
 * NUL bytes are dropped.  Never fails.
 * Exposed for the tests and for other mail-facing code.
 */
char *mime_charset_decode(const char *charset, const void *in, size_t len);

/* RFC 2047 decode an unstructured header value (a subject) to UTF-8,
 * control bytes replaced by spaces.  malloc'd, never NULL. */
char *mime_header_decode(const char *value);

/*
 * The iconv names of every charset the parsers convert to UTF-8 (mail
 * headers and bodies, archive member names, XML documents), each once,
 * into names[0..max): their number.  A sandboxed process opens each
 * converter before its filter and keeps it open, so that glibc's
 * modules stay loaded (it unloads one at the last iconv_close, and could
 * not open it again).
 */
size_t mime_iconv_names(const char **names, size_t max);

#endif
