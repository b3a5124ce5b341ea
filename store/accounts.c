/*
 * accounts: the staff console's accounts and server-side sessions.
 *
 * What is hostile here: the name and password a login form sends, and
 * the session id a browser's cookie carries.  Names are bound, never
 * built into SQL; a session id that is not 64 hex digits is no session
 * (not looked up); passwords are only ever hashed or verified, never
 * stored or returned; the session id is kept only as its SHA-256.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "lib/compat.h"
#include "lib/sha256.h"
#include "lib/xmalloc.h"
#include "store/accounts.h"
#include "store/store.h"
#include "store/store_priv.h"

/* ---- roles ------------------------------------------------------------- */

int
store_role_parse(const char *s, struct store_role *r)
{
	const char *code;
	size_t n;

	memset(r, 0, sizeof(*r));
	if (s == NULL)
		return -1;
	if (strcmp(s, "operator") == 0) {
		r->kind = STORE_ROLE_OPERATOR;
		return 0;
	}
	if (strncmp(s, "provider:", 9) == 0) {
		code = s + 9;
		n = strlen(code);
		if (n == 0 || n > STORE_ROLE_CODE_MAX || code[0] == '-')
			return -1;
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)code[i]) &&
			    code[i] != '_' && code[i] != '-')
				return -1;
		r->kind = STORE_ROLE_PROVIDER;
		memcpy(r->code, code, n + 1);
		return 0;
	}
	if (strncmp(s, "bureau:", 7) == 0) {
		code = s + 7;
		if (strlen(code) != 2 || !isdigit((unsigned char)code[0]) ||
		    !isdigit((unsigned char)code[1]))
			return -1;
		r->kind = STORE_ROLE_BUREAU;
		memcpy(r->code, code, 3);
		return 0;
	}
	return -1;
}

void
store_role_format(const struct store_role *r, char *buf, size_t size)
{
	switch (r->kind) {
	case STORE_ROLE_OPERATOR:
		snprintf(buf, size, "operator");
		return;
	case STORE_ROLE_PROVIDER:
		snprintf(buf, size, "provider:%s", r->code);
		return;
	case STORE_ROLE_BUREAU:
		snprintf(buf, size, "bureau:%s", r->code);
		return;
	}
	snprintf(buf, size, "?");
}

/* ---- accounts ------------------------------------------------------------ */

int
store_account_name_valid(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	if (n == 0 || n > STORE_ACCOUNT_NAME_MAX ||
	    !isalnum((unsigned char)name[0]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!(c < 0x80 && (isalnum(c) || c == '.' || c == '_' ||
		    c == '@' || c == '-')))
			return 0;
	}
	return 1;
}

void
store_account_free(struct store_account *a)
{
	if (a == NULL)
		return;
	free(a->name);
	free(a->role);
	free(a);
}

static int
pw_hash(struct store *st, const char *password, char hash[crypto_pwhash_STRBYTES])
{
	if (crypto_pwhash_str_alg(hash, password, strlen(password),
	    st->opslimit, st->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return seterr(st, "account: out of memory hashing a password");
	return 0;
}

int
store_account_add(struct store *st, const char *name, const char *role,
    const char *password, time_t now)
{
	char hash[crypto_pwhash_STRBYTES];
	int64_t n;
	int rc;

	now = now_or(now);
	/* hashed before the transaction: it takes a while, and no lock is
	 * held meanwhile */
	if (pw_hash(st, password, hash) == -1)
		return -1;
	if ((rc = op_begin(st)) == -1)
		goto out;
	/* 1 (found) is the answer "taken" */
	rc = one_int(st, &n, "SELECT 1 FROM accounts WHERE name = ?", "s",
	    name);
	if (rc == 0)
		rc = run(st, "INSERT INTO accounts(name, role, password_hash,"
		    " created, updated) VALUES(?, ?, ?, ?, ?)", "sssII", name,
		    role, hash, (int64_t)now, (int64_t)now) == -1 ? -1 : 0;
	rc = op_finish(st, rc);
out:
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

int
store_account_password(struct store *st, const char *name,
    const char *password, time_t now)
{
	char hash[crypto_pwhash_STRBYTES];
	int rc;

	now = now_or(now);
	if (pw_hash(st, password, hash) == -1)
		return -1;
	if ((rc = op_begin(st)) == -1)
		goto out;
	rc = run(st, "UPDATE accounts SET password_hash = ?, updated = ?"
	    " WHERE name = ?", "sIs", hash, (int64_t)now, name);
	if (rc > 0)
		rc = run(st, "DELETE FROM sessions WHERE account = ?", "s",
		    name) == -1 ? -1 : 0;
	else if (rc == 0)
		rc = 1;
	rc = op_finish(st, rc);
out:
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

int
store_account_set_disabled(struct store *st, const char *name, int disabled,
    time_t now)
{
	int rc;

	now = now_or(now);
	if (op_begin(st) == -1)
		return -1;
	rc = run(st, "UPDATE accounts SET disabled = ?, updated = ?"
	    " WHERE name = ?", "iIs", disabled ? 1 : 0, (int64_t)now, name);
	if (rc > 0)
		rc = disabled ? (run(st, "DELETE FROM sessions WHERE"
		    " account = ?", "s", name) == -1 ? -1 : 0) : 0;
	else if (rc == 0)
		rc = 1;
	return op_finish(st, rc);
}

#define ACCOUNT_COLUMNS "name, role, disabled, created, updated, last_login"

static struct store_account *
account_row(sqlite3_stmt *s, int col)
{
	struct store_account *a = xcalloc(1, sizeof(*a));

	a->name = col_dup(s, col);
	a->role = col_dup(s, col + 1);
	a->disabled = sqlite3_column_int(s, col + 2);
	a->created = (time_t)sqlite3_column_int64(s, col + 3);
	a->updated = (time_t)sqlite3_column_int64(s, col + 4);
	a->last_login = (time_t)sqlite3_column_int64(s, col + 5);
	return a;
}

int
store_account_get(struct store *st, const char *name,
    struct store_account **out)
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE name = ?",
	    "s", name);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = account_row(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : dberr(st, "account");
}

int
store_account_list(struct store *st,
    int (*cb)(const struct store_account *, void *), void *arg)
{
	sqlite3_stmt *s;
	int rc;

	s = query(st, "SELECT " ACCOUNT_COLUMNS " FROM accounts ORDER BY name",
	    "");
	if (s == NULL)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_account *a = account_row(s, 0);
		int stop = cb(a, arg);

		store_account_free(a);
		if (stop) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : dberr(st, "accounts");
}

/* A hash of nothing anyone knows, checked for unknown names so that they
 * cost what a known one does. */
static int
decoy_verify(struct store *st, const char *password)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static char decoy[crypto_pwhash_STRBYTES];
	static unsigned long long ops;
	static size_t mem;
	char r[33], mine[crypto_pwhash_STRBYTES];
	int rc = 0;

	/* one per process (the console's threads share it), made once */
	pthread_mutex_lock(&lock);
	if (decoy[0] == '\0' || ops != st->opslimit || mem != st->memlimit) {
		store_random_token(r, sizeof(r) - 1);
		if (pw_hash(st, r, decoy) == -1) {
			decoy[0] = '\0';
			rc = -1;
		}
		ops = st->opslimit;
		mem = st->memlimit;
	}
	memcpy(mine, decoy, sizeof(mine));
	pthread_mutex_unlock(&lock);
	/* the answer is always no; only the time it takes matters */
	if (rc == 0 && crypto_pwhash_str_verify(mine, password,
	    strlen(password)) == 0)
		rc = 0;
	return rc;
}

int
store_account_login(struct store *st, const char *name, const char *password,
    time_t now, struct store_account **out)
{
	struct store_account *a = NULL;
	sqlite3_stmt *s;
	char *hash = NULL;
	int rc, ok;

	now = now_or(now);
	if (strlen(password) > STORE_ACCOUNT_PASSWORD_MAX)
		return 1;
	s = query(st, "SELECT " ACCOUNT_COLUMNS ", password_hash FROM accounts"
	    " WHERE name = ?", "s", name);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		a = account_row(s, 0);
		hash = col_dup(s, 6);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dberr(st, "login");
	if (a == NULL || hash == NULL) {
		store_account_free(a);
		free(hash);
		return decoy_verify(st, password) == -1 ? -1 : 1;
	}
	ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0 &&
	    !a->disabled;
	free(hash);
	if (!ok) {
		store_account_free(a);
		return 1;
	}
	if (run(st, "UPDATE accounts SET last_login = ? WHERE name = ?", "Is",
	    (int64_t)now, a->name) == -1) {
		store_account_free(a);
		return -1;
	}
	a->last_login = now;
	*out = a;
	return 0;
}

/* ---- sessions ------------------------------------------------------------ */

void
store_session_clear(struct store_session *s)
{
	store_account_free(s->account);
	sodium_memzero(s, sizeof(*s));
}

static int
session_id_valid(const char *id)
{
	if (id == NULL || strlen(id) != STORE_SESSION_ID_LEN)
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

static void
random_hex(char *out, size_t nbytes)
{
	unsigned char r[64];

	randombytes_buf(r, nbytes);
	hex(r, nbytes, out);
	sodium_memzero(r, sizeof(r));
}

int
store_session_new(struct store *st, const char *account, const char *origin,
    time_t now, time_t idle, char id[STORE_SESSION_ID_LEN + 1],
    char csrf[STORE_CSRF_LEN + 1])
{
	char idh[SHA256_HEX], tok[STORE_CSRF_LEN + 1];
	char sid[STORE_SESSION_ID_LEN + 1];
	int64_t n;
	int rc;

	now = now_or(now);
	random_hex(sid, STORE_SESSION_ID_LEN / 2);
	random_hex(tok, STORE_CSRF_LEN / 2);
	sha256_hex(sid, strlen(sid), idh);
	if (op_begin(st) == -1)
		return -1;
	rc = one_int(st, &n, "SELECT 1 FROM accounts WHERE name = ?"
	    " AND disabled = 0", "s", account);
	if (rc == 0)
		rc = 1;
	else if (rc == 1) {
		rc = -1;
		if (run(st, "DELETE FROM sessions WHERE account = ? AND"
		    " seen < ?", "sI", account, (int64_t)(now - idle)) != -1 &&
		    /* a bounded number per account: the oldest make room */
		    run(st, "DELETE FROM sessions WHERE account = ?1 AND"
		    " id_hash NOT IN (SELECT id_hash FROM sessions WHERE"
		    " account = ?1 ORDER BY seen DESC, created DESC LIMIT ?2)",
		    "si", account, STORE_SESSIONS_MAX - 1) != -1 &&
		    run(st, "INSERT INTO sessions(id_hash, account, csrf,"
		    " origin, created, seen) VALUES(?, ?, ?, ?, ?, ?)",
		    "ssssII", idh, account, tok, origin, (int64_t)now,
		    (int64_t)now) != -1)
			rc = 0;
	}
	if ((rc = op_finish(st, rc)) == 0) {
		memcpy(id, sid, sizeof(sid));
		memcpy(csrf, tok, sizeof(tok));
	}
	sodium_memzero(sid, sizeof(sid));
	sodium_memzero(tok, sizeof(tok));
	return rc;
}

int
store_session_get(struct store *st, const char *id, time_t now, time_t idle,
    time_t touch, struct store_session *out)
{
	char idh[SHA256_HEX];
	sqlite3_stmt *s;
	struct store_account *a = NULL;
	time_t created = 0, seen = 0;
	char *csrf = NULL;
	int rc;

	now = now_or(now);
	memset(out, 0, sizeof(*out));
	if (!session_id_valid(id))
		return 1;
	sha256_hex(id, strlen(id), idh);
	s = query(st, "SELECT a.name, a.role, a.disabled, a.created,"
	    " a.updated, a.last_login, s.csrf, s.created, s.seen"
	    " FROM sessions s JOIN accounts a ON a.name = s.account"
	    " WHERE s.id_hash = ?", "s", idh);
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		a = account_row(s, 0);
		csrf = col_dup(s, 6);
		created = (time_t)sqlite3_column_int64(s, 7);
		seen = (time_t)sqlite3_column_int64(s, 8);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW) {
		return rc == SQLITE_DONE ? 1 : dberr(st, "session");
	}
	if (a->disabled || now - seen >= idle || csrf == NULL ||
	    strlen(csrf) != STORE_CSRF_LEN) {
		store_account_free(a);
		free(csrf);
		/* idle: it ends now, whoever holds its id */
		return run(st, "DELETE FROM sessions WHERE id_hash = ?", "s",
		    idh) == -1 ? -1 : 1;
	}
	if (now - seen >= touch) {
		if (run(st, "UPDATE sessions SET seen = ? WHERE id_hash = ?",
		    "Is", (int64_t)now, idh) == -1) {
			store_account_free(a);
			free(csrf);
			return -1;
		}
		seen = now;
	}
	out->account = a;
	memcpy(out->csrf, csrf, STORE_CSRF_LEN + 1);
	out->created = created;
	out->seen = seen;
	sodium_memzero(csrf, STORE_CSRF_LEN);
	free(csrf);
	return 0;
}

int
store_session_end(struct store *st, const char *id)
{
	char idh[SHA256_HEX];

	if (!session_id_valid(id))
		return 0;
	sha256_hex(id, strlen(id), idh);
	return run(st, "DELETE FROM sessions WHERE id_hash = ?", "s", idh) ==
	    -1 ? -1 : 0;
}

int
store_sessions_prune(struct store *st, time_t now, time_t idle)
{
	now = now_or(now);
	return run(st, "DELETE FROM sessions WHERE seen <= ?", "I",
	    (int64_t)(now - idle));
}
