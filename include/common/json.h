/*
 * json: a small strict JSON reader (RFC 8259) for the mail parameters the
 * store keeps in its outbox rows.
 *
 * beiand reads only JSON it wrote itself, but a damaged or hand-edited
 * database must not crash the mailer: the reader takes a length, never
 * reads past it, bounds the nesting depth (JSON_DEPTH_MAX) and refuses
 * rather than guesses.  Refused: anything after the value but white
 * space, trailing commas, single quotes, comments, leading zeros, a lone
 * "-", ".5", raw control bytes or invalid UTF-8 in strings, unknown
 * escapes, a lone or reversed surrogate, "\u0000" (values are C strings),
 * a key given twice in one object, a number that does not fit a double.
 */
#ifndef BEIAND_JSON_H
#define BEIAND_JSON_H

#include <stddef.h>

#define JSON_DEPTH_MAX 32

enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
};

/*
 * One value.  Strings: str is the decoded UTF-8, NUL-terminated (it holds
 * no NUL), len its length.  Numbers: str is the number's text as written,
 * num its value.  Arrays: v[0..n).  Objects: keys k[0..n) (decoded, no
 * NUL) with values v[0..n), in document order.
 */
struct json {
	enum json_type type;
	char *str;
	size_t len;
	double num;
	struct json *v;
	char **k;
	size_t n;
};

/*
 * Parse text[0..len).  0 and *out (json_free) on success; -1 with a
 * reason and the byte offset in err.  *out is set only on success.
 */
int json_parse(const char *text, size_t len, struct json **out, char *err,
    size_t errsize);
void json_free(struct json *j); /* accepts NULL */

/* The member key of object j; NULL when j is not an object or has none. */
const struct json *json_get(const struct json *j, const char *key);
/* The string member key of object j; NULL when absent or not a string. */
const char *json_get_str(const struct json *j, const char *key);

/* ---- writing -------------------------------------------------------- */

#include <stdio.h>

struct errlist;

/* s as a JSON string literal, quotes included; controls as \u00XX. */
void json_put_string(FILE *fp, const char *s);
/* How many bytes of s stand in a JSON string as they are: up to its end
 * or to the first that json_escape() must write. */
size_t json_plain_span(const char *s);
/* That byte escaped into buf (not terminated); its length: \" \\ and
 * \u00XX for a control; a byte that is not UTF-8 becomes the text \xhh
 * (written \\xhh), as receipts write it. */
size_t json_escape(unsigned char c, char buf[6]);

/*
 * The params of a refusal mail (a malloc'd JSON object): "id", "state"
 * and "upload" when not NULL, then "errors" — every finding with its
 * path, code, severity and message, as the store writes them.
 */
char *json_refusal_params(const char *id, const char *state,
    const char *upload, const struct errlist *el);

#endif
