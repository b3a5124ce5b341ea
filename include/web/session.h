/*
 * session: what guards the console's doors besides the store's sessions
 * (store/accounts.h) — login throttling, the CSRF comparison, cookies.
 *
 * Throttling is kept in beiand-web's memory (one process serves the
 * console): per account and per client address (an IPv6 address counts
 * by its /64, which one client usually holds whole), login_fail_max
 * failures within login_fail_window refuse further attempts until the
 * window of the first of them has passed; a success clears the
 * account's count.  The table is bounded: when full, the entry whose
 * window began first makes room.
 */
#ifndef BEIAND_WEB_SESSION_H
#define BEIAND_WEB_SESSION_H

#include <stddef.h>
#include <time.h>

struct web_throttle;

#define WEB_THROTTLE_ENTRIES 4096

struct web_throttle *web_throttle_new(unsigned max, time_t window,
    size_t entries);
void web_throttle_free(struct web_throttle *t); /* accepts NULL */
/*
 * May key try now?  0 yes; 1 no, with *wait the seconds until it may.
 * Thread-safe, as are the others.
 */
int web_throttle_check(struct web_throttle *t, const char *key, time_t now,
    time_t *wait);
/* A failed attempt of key. */
void web_throttle_fail(struct web_throttle *t, const char *key, time_t now);
/* key's failures forgotten (a successful login). */
void web_throttle_clear(struct web_throttle *t, const char *key);

/* The throttle key of a client address: "a:" and the address, an IPv6
 * one cut to its /64. */
void web_throttle_addr_key(const char *addr, char *buf, size_t size);

/*
 * Compare a token a form sent with the one it must be, in time that does
 * not depend on where they differ: 1 when equal and non-empty.
 */
int web_token_eq(const char *sent, const char *want);

/* A fresh random token (64 hex digits) for the login form's double
 * submit. */
void web_token_new(char buf[65]);

/*
 * A Set-Cookie value: name=value; Path=path; HttpOnly; SameSite=Strict,
 * with Secure when secure, Max-Age=max_age when max_age >= 0 (0 ends
 * it).  Returns a malloc'd string.
 */
char *web_cookie(const char *name, const char *value, const char *path,
    int secure, long max_age);

#endif
