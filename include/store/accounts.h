/*
 * store/accounts: the staff console's accounts and sessions (DESIGN.md,
 * "Staff console").  Accounts are made by `beianctl user`; beiand-web
 * logs them in and keeps their sessions here, server-side.
 *
 * Passwords are hashed with Argon2id as the filing passwords are
 * (crypto_pwhash_str, store.h).  A session is known by a random 256-bit
 * id that only its browser holds: the store keeps the id's SHA-256, so
 * neither a copy of the database nor a backup opens a session.  Each
 * session has its own random CSRF token for the forms it is shown.
 * Return values and transactions as in store/store.h.
 */
#ifndef BEIAND_STORE_ACCOUNTS_H
#define BEIAND_STORE_ACCOUNTS_H

#include <stddef.h>
#include <time.h>

#include "store/store.h"

/* ---- roles ------------------------------------------------------------- */

enum store_role_kind {
	STORE_ROLE_OPERATOR,
	STORE_ROLE_PROVIDER, /* provider:CODE */
	STORE_ROLE_BUREAU    /* bureau:NN */
};

#define STORE_ROLE_CODE_MAX 32

struct store_role {
	enum store_role_kind kind;
	char code[STORE_ROLE_CODE_MAX + 1]; /* provider code or province; "" for operator */
};

/*
 * "operator", "provider:CODE" (1-32 of A-Z a-z 0-9 _ -, not starting
 * with -) or "bureau:NN" (two digits).  0, or -1 when s is none of
 * these.  Whether the provider or province is configured is the
 * caller's to check.
 */
int store_role_parse(const char *s, struct store_role *r);
/* The role back as text ("provider:P001"); buf of at least 48 bytes. */
void store_role_format(const struct store_role *r, char *buf, size_t size);

/* ---- accounts ------------------------------------------------------------ */

#define STORE_ACCOUNT_NAME_MAX 64
#define STORE_ACCOUNT_PASSWORD_MIN 8
#define STORE_ACCOUNT_PASSWORD_MAX 1024

/* 1-64 of A-Z a-z 0-9 . _ @ -, starting with a letter or digit: a name
 * that prints, logs and sits in an HTML page as it is. */
int store_account_name_valid(const char *name);

struct store_account {
	char *name, *role;
	int disabled;
	time_t created, updated, last_login; /* last_login 0: never */
};
void store_account_free(struct store_account *a); /* accepts NULL */

/*
 * A new account with role (store_role_parse()'s words) and password
 * (hashed here).  0; 1 when the name is taken (nothing changed); -1.
 */
int store_account_add(struct store *st, const char *name, const char *role,
    const char *password, time_t now);
/* A new password; ends the account's sessions.  0, 1 no such account. */
int store_account_password(struct store *st, const char *name,
    const char *password, time_t now);
/* Disable (ending its sessions) or enable.  0, 1 no such account. */
int store_account_set_disabled(struct store *st, const char *name,
    int disabled, time_t now);
/* One account: 0 and *out (store_account_free), 1 none. */
int store_account_get(struct store *st, const char *name,
    struct store_account **out);
/* cb per account by name; non-zero return stops. */
int store_account_list(struct store *st,
    int (*cb)(const struct store_account *, void *), void *arg);
/*
 * Check a login: 0 and *out when name is an enabled account whose
 * password this is (last_login set to now); 1 when not — unknown, disabled
 * or wrong, which the answer does not tell (an unknown name costs the
 * same hash as a known one).  -1 on error.
 */
int store_account_login(struct store *st, const char *name,
    const char *password, time_t now, struct store_account **out);

/* ---- sessions ------------------------------------------------------------ */

#define STORE_SESSION_ID_LEN 64  /* hex digits of 32 random bytes */
#define STORE_CSRF_LEN 64

struct store_session {
	struct store_account *account; /* owned: store_session_clear */
	char csrf[STORE_CSRF_LEN + 1];
	time_t created, seen;
};
void store_session_clear(struct store_session *s);

/*
 * A session for account (which must exist and be enabled: else 1) from
 * origin (the client address, may be NULL): id and csrf receive fresh
 * random tokens.  Sessions of the account idle for more than idle
 * seconds, and those beyond the newest STORE_SESSIONS_MAX, are ended
 * on the way.  0, 1, or -1.
 */
#define STORE_SESSIONS_MAX 16
int store_session_new(struct store *st, const char *account,
    const char *origin, time_t now, time_t idle,
    char id[STORE_SESSION_ID_LEN + 1], char csrf[STORE_CSRF_LEN + 1]);
/*
 * The session of id: 0 and *out when it exists, was seen less than idle
 * seconds ago and its account is enabled; it counts as seen now (written
 * at most once per touch seconds, to spare the database a write on every
 * page).  1 when not (an idle one is ended).  -1 on error.
 */
int store_session_get(struct store *st, const char *id, time_t now,
    time_t idle, time_t touch, struct store_session *out);
/* End a session (logout); 0 whether or not it existed. */
int store_session_end(struct store *st, const char *id);
/* End every session idle for more than idle seconds; their number or -1. */
int store_sessions_prune(struct store *st, time_t now, time_t idle);

#endif
