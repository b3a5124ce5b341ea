/*
 * config: what the reader and the key table share (private to
 * common/config.c and common/config_keys.c; no other file includes it).
 */
#ifndef BEIAND_CONFIG_INT_H
#define BEIAND_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct config_bureau;
struct config_provider;

enum config_section {
	SECT_NONE,
	SECT_DAEMON,
	SECT_LIMITS,
	SECT_IMAP,
	SECT_SMTP,
	SECT_BUREAU,
	SECT_PROVIDER,
	SECT_WEB,
};

struct config_parser {
	struct config *c;
	const char *file;      /* for messages */
	const char *base;      /* absolute folder for relative paths */
	size_t line;
	enum config_section sect;
	char sectname[64];     /* for messages */
	uint64_t seen;         /* keys (bit = index in config_keys) */
	unsigned fixed_seen;   /* [daemon] .. [smtp] (bit = section) */
	int own_bureaus, own_providers; /* this text replaced the list */
	size_t bureaucap, providercap;
	size_t cur;            /* index of the current bureau/provider */
	char *err;
	size_t errsize;
};

/* ---- config.c: the reader ---------------------------------------------- */

void config_line_error(struct config_parser *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
void config_error_set(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int config_isspace(char ch);
/* Printable ASCII without spaces: safe to echo, and all names are. */
int config_name_valid(const char *s);
/* base and value joined (malloc'd); nothing is resolved on disk. */
char *config_path_join(const char *base, const char *value);
/* *dst freed and replaced by v (owned). */
void config_string_set(char **dst, char *v);
void config_bureau_clear(struct config_bureau *b);
void config_provider_clear(struct config_provider *pr);
/* INI text into p->c: 0, or -1 with the error in p->err. */
int config_apply(struct config_parser *p, const char *text, size_t len);

/* ---- config_keys.c: sections, keys, defaults ---------------------------- */

/* A [section] line (name trimmed): 0, or -1 with the error set. */
int config_section_begin(struct config_parser *p, char *name);
/* A key = value line of the current section: 0, or -1 with the error set. */
int config_key_set(struct config_parser *p, const char *key,
    const char *value);
/* What a whole configuration implies (a bureau's record_to). */
void config_finish(struct config *c);
/* The built-in configuration; relative paths against the current folder. */
struct config *config_defaults(size_t *bureaucap, size_t *providercap,
    char *err, size_t errsize);

#endif
