/*
 * config: the INI configuration of DESIGN.md; see include/common/config.h.
 * This file reads it: lines, sections and keys, paths, files, the search
 * for a file; what each section and key means, the built-in defaults and
 * the spelling of values are config_keys.c.
 *
 * The file is the operator's, not a user's, but it is read strictly all
 * the same: every line either means something or is an error with
 * file:line, so a typo never falls back silently to a default.  Values
 * are echoed in messages only when they are known to be printable UTF-8,
 * and URL values (which may carry an IMAP password) never are.
 *
 * The built-in defaults are themselves an INI text run through the same
 * parser, so the defaults and the file format cannot drift apart.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/config_int.h"
#include "common/tls_policy.h"
#include "lib/utf8.h"
#include "lib/xmalloc.h"
#include "parsers/rules.h"

/* A configuration file is a few kilobytes; anything this big is a mistake. */
#define CONFIG_FILE_MAX		(1024 * 1024)

static void config_file_error(struct config_parser *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

void
config_line_error(struct config_parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errsize, "%s:%zu: %s", p->file, p->line, msg);
}

static void
config_file_error(struct config_parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errsize, "%s: %s", p->file, msg);
}

void
config_error_set(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errsize == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
}

int
config_isspace(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * base and value joined; value absolute is kept, leading "./" dropped.
 * Nothing is resolved on disk: the folders may not exist yet at -n time.
 */
char *
config_path_join(const char *base, const char *value)
{
	size_t blen;

	if (value[0] == '/')
		return xstrdup(value);
	while (value[0] == '.' && value[1] == '/') {
		value += 2;
		while (*value == '/')
			value++;
	}
	if (strcmp(value, ".") == 0 || *value == '\0')
		return xstrdup(base);
	blen = strlen(base);
	if (blen > 0 && base[blen - 1] == '/')
		return xasprintf("%s%s", base, value);
	return xasprintf("%s/%s", base, value);
}

/* The folder of file as an absolute path; NULL with err set on failure. */
static char *
config_file_dir(const char *file, char *err, size_t errsize)
{
	const char *slash;
	char *cwd, *dir, *abs;

	if ((slash = strrchr(file, '/')) == file)
		return xstrdup("/");
	if (slash != NULL && file[0] == '/')
		return xstrndup(file, (size_t)(slash - file));
	if ((cwd = getcwd(NULL, 0)) == NULL) {
		config_error_set(err, errsize, "getcwd: %s", strerror(errno));
		return NULL;
	}
	if (slash == NULL)
		return cwd;
	dir = xstrndup(file, (size_t)(slash - file));
	abs = config_path_join(cwd, dir);
	free(dir);
	free(cwd);
	return abs;
}

void
config_bureau_clear(struct config_bureau *b)
{
	size_t i;

	for (i = 0; i < b->naddresses; i++)
		free(b->addresses[i]);
	free(b->addresses);
	free(b->record_to);
}

void
config_provider_clear(struct config_provider *pr)
{
	free(pr->code);
	free(pr->name);
	free(pr->email);
	free(pr->ip_ranges);
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->path);
	free(c->spool_dir);
	free(c->state_dir);
	free(c->metrics_file);
	free(c->imap_url);
	free(c->imap_address);
	free(c->imap_provider);
	free(c->imap_done_folder);
	free(c->imap_ca_file);
	free(c->imap_tls_pin);
	free(c->imap_password_file);
	free(c->smtp_url);
	free(c->smtp_from);
	free(c->smtp_ca_file);
	free(c->smtp_tls_pin);
	free(c->smtp_password_file);
	free(c->web_listen);
	free(c->web_base_url);
	free(c->web_tls_cert);
	free(c->web_tls_key);
	free(c->web_trusted_proxy);
	for (i = 0; i < c->nbureaus; i++)
		config_bureau_clear(&c->bureaus[i]);
	free(c->bureaus);
	for (i = 0; i < c->nproviders; i++)
		config_provider_clear(&c->providers[i]);
	free(c->providers);
	free(c);
}

const struct config_provider *
config_provider_find(const struct config *c, const char *code)
{
	size_t i;

	for (i = 0; i < c->nproviders; i++)
		if (strcmp(c->providers[i].code, code) == 0)
			return &c->providers[i];
	return NULL;
}

const struct config_bureau *
config_bureau_find(const struct config *c, const char *province)
{
	size_t i;

	for (i = 0; i < c->nbureaus; i++)
		if (strcmp(c->bureaus[i].province, province) == 0)
			return &c->bureaus[i];
	return NULL;
}

void
config_string_set(char **dst, char *v)
{
	free(*dst);
	*dst = v;
}

/* Printable ASCII without spaces: safe to echo, and all names are. */
int
config_name_valid(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 0x7f)
			return 0;
	return 1;
}

/* Trim spaces and tabs in place; returns the new start. */
static char *
config_trim(char *s)
{
	size_t len;

	while (config_isspace(*s))
		s++;
	len = strlen(s);
	while (len > 0 && config_isspace(s[len - 1]))
		s[--len] = '\0';
	return s;
}

static int
config_line(struct config_parser *p, char *s)
{
	char *eq, *key, *value;
	size_t i, len;

	/* A comment starts at ';' or '#' at the start or after white space,
	 * so "a;b" in a URL stays a value. */
	for (i = 0; s[i] != '\0'; i++) {
		if ((s[i] == ';' || s[i] == '#') &&
		    (i == 0 || config_isspace(s[i - 1]))) {
			s[i] = '\0';
			break;
		}
	}
	s = config_trim(s);
	if (*s == '\0')
		return 0;

	len = strlen(s);
	if (!utf8_valid(s, len)) {
		config_line_error(p, "not valid UTF-8");
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			config_line_error(p, "control character in line");
			return -1;
		}
	}

	if (s[0] == '[') {
		if (s[len - 1] != ']') {
			config_line_error(p, "malformed line");
			return -1;
		}
		s[len - 1] = '\0';
		return config_section_begin(p, config_trim(s + 1));
	}

	if ((eq = strchr(s, '=')) == NULL) {
		config_line_error(p, "malformed line");
		return -1;
	}
	*eq = '\0';
	key = config_trim(s);
	value = config_trim(eq + 1);
	if (!config_name_valid(key)) {
		config_line_error(p, "malformed line");
		return -1;
	}
	return config_key_set(p, key, value);
}

int
config_apply(struct config_parser *p, const char *text, size_t len)
{
	const char *s = text, *end = text + len, *nl;
	char *line;
	int rc;

	/* A UTF-8 byte order mark, as some editors write. */
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	p->line = 0;
	p->sect = SECT_NONE;
	while (s < end) {
		size_t n;

		p->line++;
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL)
			nl = end;
		n = (size_t)(nl - s);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (memchr(s, '\0', n) != NULL) {
			config_line_error(p, "NUL byte in line");
			return -1;
		}
		line = xstrndup(s, n);
		rc = config_line(p, line);
		free(line);
		if (rc == -1)
			return -1;
		s = nl < end ? nl + 1 : end;
	}

	/* Checks that need the whole file. */
	if (p->c->imap_url[0] != '\0' &&
	    config_provider_find(p->c, p->c->imap_provider) == NULL) {
		config_file_error(p, "[imap] provider \"%s\" is not a "
		    "configured provider", p->c->imap_provider);
		return -1;
	}
	for (int ch = TLS_CHANNEL_IMAP; ch <= TLS_CHANNEL_SMTP; ch++) {
		const char *url = ch == TLS_CHANNEL_IMAP ? p->c->imap_url :
		    p->c->smtp_url;
		struct tls_policy tp;
		char msg[300];

		if (url[0] != '\0' && tls_policy_config(p->c,
		    (enum tls_channel)ch, &tp, msg, sizeof(msg)) == -1) {
			config_file_error(p, "%s", msg);
			return -1;
		}
	}
	if (p->c->smtp_retry_min > p->c->smtp_retry_max) {
		config_file_error(p, "[smtp] retry_min (%llus) exceeds "
		    "retry_max (%llus)",
		    (unsigned long long)p->c->smtp_retry_min,
		    (unsigned long long)p->c->smtp_retry_max);
		return -1;
	}
	return 0;
}

struct config *
config_parse(const char *text, size_t len, const char *file,
    const char *base_dir, char *err, size_t errsize)
{
	struct config_parser p;
	struct config *c;
	char *base = NULL, *cwd;

	memset(&p, 0, sizeof(p));
	if ((c = config_defaults(&p.bureaucap, &p.providercap, err,
	    errsize)) == NULL)
		return NULL;
	if (text == NULL) {
		config_finish(c);
		return c;
	}
	if (file == NULL)
		file = "(config)";
	if (base_dir != NULL && base_dir[0] == '/')
		base = xstrdup(base_dir);
	else if (base_dir != NULL) {
		if ((cwd = getcwd(NULL, 0)) == NULL) {
			config_error_set(err, errsize, "getcwd: %s",
			    strerror(errno));
			goto fail;
		}
		base = config_path_join(cwd, base_dir);
		free(cwd);
	} else if ((base = config_file_dir(file, err, errsize)) == NULL)
		goto fail;

	p.c = c;
	p.file = file;
	p.base = base;
	p.err = err;
	p.errsize = errsize;
	if (config_apply(&p, text, len) == -1)
		goto fail;
	/* A file replaces the built-in examples as a whole: the providers
	 * and provinces it names, none if it names none (the examples only
	 * serve a run without any file). */
	if (!p.own_providers) {
		for (size_t i = 0; i < c->nproviders; i++)
			config_provider_clear(&c->providers[i]);
		c->nproviders = 0;
	}
	if (!p.own_bureaus) {
		for (size_t i = 0; i < c->nbureaus; i++)
			config_bureau_clear(&c->bureaus[i]);
		c->nbureaus = 0;
	}
	free(base);
	config_finish(c);
	c->path = xstrdup(file);
	return c;
fail:
	free(base);
	config_free(c);
	return NULL;
}

/* Read a whole configuration file; NULL with "file: reason" in err. */
static char *
config_file_read(const char *path, size_t *lenp, char *err, size_t errsize)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		config_error_set(err, errsize, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		config_error_set(err, errsize, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		config_error_set(err, errsize, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size > CONFIG_FILE_MAX) {
		config_error_set(err, errsize, "%s: larger than %d bytes",
		    path, CONFIG_FILE_MAX);
		goto fail;
	}
	buf = xmalloc(CONFIG_FILE_MAX + 1);
	/* Read to EOF rather than trusting st_size: the file may change. */
	for (;;) {
		r = read(fd, buf + len, CONFIG_FILE_MAX + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			config_error_set(err, errsize, "%s: %s", path,
			    strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > CONFIG_FILE_MAX) {
			config_error_set(err, errsize, "%s: larger than %d "
			    "bytes", path, CONFIG_FILE_MAX);
			goto fail;
		}
	}
	close(fd);
	*lenp = len;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

static struct config *
config_load_file(const char *path, char *err, size_t errsize)
{
	struct config *c;
	char *text, *dir, *abs;
	size_t len;

	if ((text = config_file_read(path, &len, err, errsize)) == NULL)
		return NULL;
	c = config_parse(text, len, path, NULL, err, errsize);
	free(text);
	if (c == NULL)
		return NULL;
	/* Keep the absolute name so that a reload after chdir still works. */
	if (path[0] != '/' && (dir = getcwd(NULL, 0)) != NULL) {
		abs = config_path_join(dir, path);
		free(dir);
		config_string_set(&c->path, abs);
	}
	return c;
}

struct config *
config_load_from(const char *path, const char *const *search, size_t nsearch,
    char *err, size_t errsize)
{
	struct stat st;
	size_t i;

	if (path != NULL)
		return config_load_file(path, err, errsize);
	for (i = 0; i < nsearch; i++) {
		/* Only absence moves on: an unreadable file is an error. */
		if (stat(search[i], &st) == -1 &&
		    (errno == ENOENT || errno == ENOTDIR))
			continue;
		return config_load_file(search[i], err, errsize);
	}
	return config_parse(NULL, 0, NULL, NULL, err, errsize);
}

struct config *
config_load(const char *path, char *err, size_t errsize)
{
	static const char *const search[] = {
		"/etc/beiand/beiand.conf",
		"beiand.conf",
	};

	return config_load_from(path, search, sizeof(search) /
	    sizeof(search[0]), err, errsize);
}
