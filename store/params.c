/*
 * params: the JSON writer of an outbox row's parameters (store_mail's
 * params), which the mailer fills its templates from.  Values go through
 * jb_string(), which escapes them; jb_puts() appends text as it is: JSON
 * already (a number, members written here) or, for websites_store(), a
 * plain list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "lib/xmalloc.h"
#include "parsers/errlist.h"
#include "store/store_priv.h"

/* ---- JSON (mail parameters) ------------------------------------------- */

static void
jb_putn(struct jbuf *j, const char *p, size_t n)
{
	if (j->cap - j->len <= n) {
		size_t need;

		if (n > SIZE_MAX / 2 - j->len)
			abort();
		need = j->len + n + 1;
		j->cap = need > 2 * j->cap ? need : 2 * j->cap;
		j->s = xreallocarray(j->s, j->cap, 1);
	}
	memcpy(j->s + j->len, p, n);
	j->len += n;
	j->s[j->len] = '\0';
}

void
jb_puts(struct jbuf *j, const char *p)
{
	jb_putn(j, p, strlen(p));
}

/* A comma unless this value opens its object or array. */
void
jb_sep(struct jbuf *j)
{
	if (j->len > 0 && j->s[j->len - 1] != '{' && j->s[j->len - 1] != '[' &&
	    j->s[j->len - 1] != ':')
		jb_putn(j, ",", 1);
}

void
jb_string(struct jbuf *j, const char *v)
{
	char e[6];
	size_t n;

	jb_sep(j);
	if (v == NULL) {
		jb_puts(j, "null");
		return;
	}
	jb_putn(j, "\"", 1);
	for (;;) {
		n = json_plain_span(v);
		jb_putn(j, v, n);
		if (v[n] == '\0')
			break;
		jb_putn(j, e, json_escape((unsigned char)v[n], e));
		v += n + 1;
	}
	jb_putn(j, "\"", 1);
}

void
jb_key(struct jbuf *j, const char *k)
{
	jb_string(j, k);
	jb_putn(j, ":", 1);
}

void
jb_kv(struct jbuf *j, const char *k, const char *v)
{
	jb_key(j, k);
	jb_string(j, v);
}

void
jb_open(struct jbuf *j, char c)
{
	jb_sep(j);
	jb_putn(j, &c, 1);
}

void
jb_close(struct jbuf *j, char c)
{
	jb_putn(j, &c, 1);
}

/* "errors":[{path,code,message}...] from findings of severity error. */
void
jb_errors(struct jbuf *j, const char *key, const struct errlist *a,
    const struct errlist *b)
{
	const struct errlist *lists[2] = { a, b };

	jb_key(j, key);
	jb_open(j, '[');
	for (size_t l = 0; l < 2; l++) {
		if (lists[l] == NULL)
			continue;
		for (size_t i = 0; i < errlist_count(lists[l]); i++) {
			const struct err_item *e = errlist_get(lists[l], i);

			jb_open(j, '{');
			jb_kv(j, "path", e->path);
			jb_kv(j, "code", err_code_name(e->code));
			jb_kv(j, "severity",
			    e->severity == SEV_WARNING ? "warning" : "error");
			jb_kv(j, "message", e->message);
			jb_close(j, '}');
		}
	}
	jb_close(j, ']');
}
