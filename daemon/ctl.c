/*
 * ctl: beianctl's entry point, verb dispatch and output helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "xmalloc.h"

static const struct {
	const char *name;
	int (*fn)(int, char **, const struct config *);
} verbs[] = {
	{ "check", ctl_check },
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: beianctl [-c FILE] VERB ...\n"
	    "  check [--provider CODE] [--json] PACKAGE...\n");
}

int
ctl_main(int argc, char **argv)
{
	const char *cfpath = NULL;
	struct config *cf;
	char err[512];
	int i = 1, rc;

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			cfpath = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage();
			return CTL_OK;
		} else {
			usage();
			return CTL_USAGE;
		}
	}
	if (i >= argc) {
		usage();
		return CTL_USAGE;
	}
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		if (strcmp(argv[i], verbs[v].name) != 0)
			continue;
		if ((cf = config_load(cfpath, err, sizeof(err))) == NULL) {
			fprintf(stderr, "beianctl: %s\n", err);
			return CTL_USAGE;
		}
		rc = verbs[v].fn(argc - i, argv + i, cf);
		config_free(cf);
		return rc;
	}
	fprintf(stderr, "beianctl: unknown verb: %s\n", argv[i]);
	usage();
	return CTL_USAGE;
}

void
ctl_put_escaped(FILE *fp, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else
			putc(*p, fp);
	}
}

void
ctl_put_json(FILE *fp, const char *s)
{
	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	putc('"', fp);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(fp, "\\u%04x", *p);
			else
				putc(*p, fp);
		}
	}
	putc('"', fp);
}

unsigned char *
ctl_read_file(const char *path, size_t max, size_t *len)
{
	unsigned char *buf = NULL;
	struct stat st;
	size_t off = 0;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			goto fail;
		}
		off += (size_t)n;
	}
	buf[off] = '\0';
	close(fd);
	*len = off;
	return buf;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}
