/*
 * mail: compose the outgoing mails of DESIGN.md "Outputs (mails)".
 *
 * Pure: a spec in, the bytes of one RFC 5322 message out.  No store, no
 * configuration, no clock, no randomness: composing the same spec twice
 * gives the same bytes, so a resend after a crash is byte-identical (the
 * .eml transport relies on it).  The texts are the bilingual templates of
 * daemon/templates/NAME.txt, compiled in; their language is described at the
 * top of mail/mail_compose.c.
 *
 * Parameter names the templates use (values are UTF-8 text; a value may
 * span lines; an absent optional value hides its section):
 *   tracking_id      BA-2026-000123 (absent for a mail about no filing)
 *   state            the filing's state word (withdrawn: the state it left)
 *   filing_type      firstFiling | addSite | cancelSite | cancelAccess
 *   filing_type_zh   首次备案（firstFiling）: the label (common/labels.h)
 *   filing_type_en   first filing (firstFiling)
 *   state_zh, state_en  the state's label the same way (withdrawn)
 *   sponsor_name     the sponsor (主办者)
 *   sites            website names, one per line or comma separated
 *   domains          domains, space or comma separated
 *   subject_licence  京ICP备2026000123号
 *   site_licences    京ICP备2026000123号-1 …, one per line
 *   password         the filing password: approved_owner of a first filing
 *                    only; no other template shows it
 *   provider_name    the access provider's name
 *   reason           a free-text reason (bureau rejection, return, refusal)
 *   withdrawn_by     who withdrew (owner / provider / operator and name)
 *   verifier         provider staff who verified or returned
 *   reviewer         bureau staff who decided
 *   upload           the name of the upload or mail a refusal is about
 *   intake_address   the [imap] address (help, received)
 *   at               when something happened, "2026-03-03 14:05:00 +08:00"
 *                    (password_failed: the wrong password's arrival)
 * Built in, from the spec: tag, review_token.
 */
#ifndef BEIAND_MAIL_H
#define BEIAND_MAIL_H

#include <stddef.h>
#include <time.h>

struct mail_param {
	const char *key;   /* [a-z0-9_]+ */
	const char *value; /* UTF-8; NULL or "" counts as absent */
};

/* One finding of an invalid or returned package, as the store keeps it. */
struct mail_finding {
	const char *path;    /* "/filing/sponsor/name", an entry name, "/" */
	const char *code;    /* "CERT_NUMBER_INVALID" */
	const char *message; /* "中文 / English" */
};

struct mail_attachment {
	const char *filename;     /* UTF-8, may be Chinese; RFC 2231 encoded */
	const char *content_type; /* "application/zip"; NULL: octet-stream */
	const unsigned char *data;
	size_t len;
};

/*
 * Everything one mail needs.  All strings are borrowed.  Header fields
 * (from, to, reply_to, message_id, in_reply_to, references, tag,
 * review_token) are refused when they hold CR, LF or any other control
 * byte: nothing a sender put in a package can add a header.
 */
struct mail_spec {
	const char *tpl;          /* "received", …, "help" (DESIGN.md names) */
	const char *from;         /* [smtp] from: bare addr-spec */
	const char *to;           /* one recipient: bare addr-spec */
	const char *reply_to;     /* NULL: no Reply-To */
	const char *message_id;   /* "<BA-2026-000123.17.received.owner@dom>" */
	const char *in_reply_to;  /* NULL: none; one "<…>" */
	const char *references;   /* NULL: none; "<…>" ids separated by spaces */
	time_t date;              /* shown in +0800 */
	const char *tag;          /* "[BA-2026-000123 k3J9xQ2m]", "[BA-…]" or NULL */
	const char *review_token; /* review_request: subject gets "[review:TOKEN]" */
	const struct mail_param *params;
	size_t nparams;
	const struct mail_finding *findings;
	size_t nfindings;
	const struct mail_attachment *attachments;
	size_t nattachments;
};

/* The X-Beiand-Loop header every mail carries; its value is spec->from.
 * Intake treats any mail bearing this header as automated (no reply). */
#define MAIL_LOOP_HEADER "X-Beiand-Loop"

/* 1 when a template of that name is compiled in. */
int mail_template_exists(const char *tpl);

/*
 * Render the template of spec->tpl: *subject is the full subject line
 * text (tag first, then the template's subject, then "[review:TOKEN]"
 * when review_token is set), *body the body with LF line ends, both
 * malloc'd UTF-8.  A placeholder with no value is left as "{{name}}" so a
 * test can see it.  Returns 0, or -1 (unknown template; err says so).
 */
int mail_render(const struct mail_spec *spec, char **subject, char **body,
    char *err, size_t errsize);

/*
 * Compose the whole message: headers, text part, attachments; CRLF line
 * ends, every line at most 76 characters plus CRLF except a References
 * id longer than that.  *out (malloc'd, NUL-terminated, *outlen bytes
 * without the NUL) is set only on success.  Returns 0, or -1 with a
 * reason in err: unknown template, a missing or malformed address or
 * Message-ID, a control byte in a header field, a bad content type.
 */
int mail_compose(const struct mail_spec *spec, char **out, size_t *outlen,
    char *err, size_t errsize);

/* "Tue, 03 Mar 2026 14:05:00 +0800" into buf (>= 32 bytes); 0, or -1. */
int mail_date_format(time_t t, char *buf, size_t size);

/* 1 when s is a bare addr-spec beiand will put in a header or envelope:
 * printable ASCII, one '@', no specials, at most 254 bytes. */
int mail_addr_valid(const char *s);

/* 1 when s is one msg-id "<left@right>" of printable ASCII. */
int mail_msgid_valid(const char *s);

#endif
