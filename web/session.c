/*
 * session: login throttling, token comparison and cookies (session.h).
 *
 * Hostile input: the keys (an account name someone typed, a client
 * address) are only compared; the table never grows past its bound.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/compat.h"
#include "lib/xmalloc.h"
#include "web/session.h"

#define KEY_MAX 96

struct tentry {
	char key[KEY_MAX];
	time_t first;   /* when the window of these failures began */
	unsigned count;
};

struct web_throttle {
	pthread_mutex_t mu;
	unsigned max;
	time_t window;
	struct tentry *e;
	size_t n, cap;
};

struct web_throttle *
web_throttle_new(unsigned max, time_t window, size_t entries)
{
	struct web_throttle *t = xcalloc(1, sizeof(*t));

	pthread_mutex_init(&t->mu, NULL);
	t->max = max > 0 ? max : 1;
	t->window = window > 0 ? window : 1;
	t->cap = entries > 0 ? entries : 1;
	t->e = xcalloc(t->cap, sizeof(*t->e));
	return t;
}

void
web_throttle_free(struct web_throttle *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->mu);
	free(t->e);
	free(t);
}

static struct tentry *
tfind(struct web_throttle *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->e[i].key, key) == 0)
			return &t->e[i];
	return NULL;
}

int
web_throttle_check(struct web_throttle *t, const char *key, time_t now,
    time_t *wait)
{
	struct tentry *e;
	int rc = 0;

	pthread_mutex_lock(&t->mu);
	if ((e = tfind(t, key)) != NULL && now - e->first < t->window &&
	    e->count >= t->max) {
		*wait = e->first + t->window - now;
		rc = 1;
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

void
web_throttle_fail(struct web_throttle *t, const char *key, time_t now)
{
	struct tentry *e;

	pthread_mutex_lock(&t->mu);
	if ((e = tfind(t, key)) == NULL) {
		if (t->n < t->cap)
			e = &t->e[t->n++];
		else {
			/* full: the entry whose window began first goes (an
			 * expired one, as a rule) */
			e = &t->e[0];
			for (size_t i = 1; i < t->n; i++)
				if (t->e[i].first < e->first)
					e = &t->e[i];
		}
		memset(e, 0, sizeof(*e));
		strlcpy(e->key, key, sizeof(e->key));
		e->first = now;
	}
	if (now - e->first >= t->window) {
		e->first = now;
		e->count = 0;
	}
	e->count++;
	pthread_mutex_unlock(&t->mu);
}

void
web_throttle_clear(struct web_throttle *t, const char *key)
{
	struct tentry *e;

	pthread_mutex_lock(&t->mu);
	if ((e = tfind(t, key)) != NULL) {
		*e = t->e[t->n - 1];
		t->n--;
	}
	pthread_mutex_unlock(&t->mu);
}

void
web_throttle_addr_key(const char *addr, char *buf, size_t size)
{
	unsigned char a[16];
	char out[INET6_ADDRSTRLEN];

	if (strchr(addr, ':') != NULL && inet_pton(AF_INET6, addr, a) == 1) {
		memset(a + 8, 0, 8);
		if (inet_ntop(AF_INET6, a, out, sizeof(out)) != NULL) {
			snprintf(buf, size, "a:%s/64", out);
			return;
		}
	}
	snprintf(buf, size, "a:%s", addr);
}

int
web_token_eq(const char *sent, const char *want)
{
	size_t ls, lw;

	if (sent == NULL || want == NULL)
		return 0;
	ls = strlen(sent);
	lw = strlen(want);
	return ls == lw && lw > 0 && sodium_memcmp(sent, want, lw) == 0;
}

void
web_token_new(char buf[65])
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char r[32];

	randombytes_buf(r, sizeof(r));
	for (size_t i = 0; i < sizeof(r); i++) {
		buf[2 * i] = hexd[r[i] >> 4];
		buf[2 * i + 1] = hexd[r[i] & 15];
	}
	buf[64] = '\0';
	sodium_memzero(r, sizeof(r));
}

char *
web_cookie(const char *name, const char *value, const char *path,
    int secure, long max_age)
{
	char age[40] = "";

	if (max_age >= 0)
		snprintf(age, sizeof(age), "; Max-Age=%ld", max_age);
	return xasprintf("%s=%s; Path=%s; HttpOnly; SameSite=Strict%s%s", name,
	    value, path, secure ? "; Secure" : "", age);
}
