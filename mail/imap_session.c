/*
 * imap: the fetcher's IMAP session over libetpan — connect
 * (imaps://, or STARTTLS as [imap] tls says; TLS itself is imap_tls.c),
 * log in, ask the capabilities, make done_folder, select, UID SEARCH and
 * UID FETCH; and `beianctl probe imap`, which walks the same way up to a
 * read-only EXAMINE.  Used by imap_fetch.c.
 *
 * Hostile here: everything the IMAP server sends (its certificate chain,
 * capabilities, UIDs, sizes and bytes).  This file never sends the
 * password to a peer the level does not trust: not before the
 * certificate checks of imap_tls.c have passed, not in the clear when
 * TLS is required (tls = encrypt or verify, a tls_pin, or may with a
 * remote host) and the server offers no STARTTLS, not to a server that
 * says LOGINDISABLED.  It never logs a password, and never addresses a
 * message by sequence number: every command that names a message is a
 * UID command.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "common/config.h"
#include "lib/compat.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "mail/cert.h"
#include "mail/imap.h"
#include "mail/imap_int.h"

const char *
imap_strerror(int r)
{
	switch (r) {
	case MAILIMAP_ERROR_STREAM: return "connection lost or timed out";
	case MAILIMAP_ERROR_PARSE: return "unparsable server response";
	case MAILIMAP_ERROR_CONNECTION_REFUSED: return "connection refused";
	case MAILIMAP_ERROR_MEMORY: return "out of memory";
	case MAILIMAP_ERROR_LOGIN: return "login refused";
	case MAILIMAP_ERROR_SELECT: return "SELECT refused";
	case MAILIMAP_ERROR_STARTTLS: return "STARTTLS failed";
	case MAILIMAP_ERROR_SSL: return "TLS handshake failed";
	case MAILIMAP_ERROR_UID_FETCH: return "UID FETCH refused";
	case MAILIMAP_ERROR_UID_SEARCH: return "UID SEARCH refused";
	case MAILIMAP_ERROR_UID_MOVE: return "UID MOVE refused";
	case MAILIMAP_ERROR_UID_COPY: return "UID COPY refused";
	case MAILIMAP_ERROR_UID_STORE: return "UID STORE refused";
	case MAILIMAP_ERROR_CREATE: return "CREATE refused";
	case MAILIMAP_ERROR_LIST: return "LIST refused";
	default: return "IMAP error";
	}
}

/* An error after which the connection cannot be used any more. */
int
imap_conn_lost(int r)
{
	return r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_PARSE ||
	    r == MAILIMAP_ERROR_MEMORY || r == MAILIMAP_ERROR_BAD_STATE ||
	    r == MAILIMAP_ERROR_FATAL;
}

/* ---- one session --------------------------------------------------------- */

void
imap_child_disconnect(struct imap_child *c, int logout)
{
	if (c->imap == NULL)
		return;
	if (logout && c->imap->imap_stream != NULL)
		(void)mailimap_logout(c->imap);
	/* mailimap_free() would say LOGOUT: not to a peer that failed
	 * verification, nor on a connection that is known dead. */
	if (c->imap->imap_stream != NULL) {
		mailstream_close(c->imap->imap_stream);
		c->imap->imap_stream = NULL;
	}
	mailimap_free(c->imap);
	c->imap = NULL;
	c->uidvalidity = 0;
}

static int
imap_child_caps(struct imap_child *c)
{
	struct mailimap_capability_data *cap = NULL;
	int r;

	if ((r = mailimap_capability(c->imap, &cap)) != MAILIMAP_NO_ERROR) {
		log_warn("imap: CAPABILITY: %s", imap_strerror(r));
		return -1;
	}
	mailimap_capability_data_free(cap);
	return 0;
}

/* Create done_folder unless LIST finds it. */
static int
imap_child_folder(struct imap_child *c)
{
	clist *list = NULL;
	int r, found;

	r = mailimap_list(c->imap, "", c->done_folder, &list);
	if (r != MAILIMAP_NO_ERROR) {
		log_warn("imap: LIST %s: %s", c->done_folder, imap_strerror(r));
		return -1;
	}
	found = list != NULL && clist_count(list) > 0;
	if (list != NULL)
		mailimap_list_result_free(list);
	if (found)
		return 0;
	if ((r = mailimap_create(c->imap, c->done_folder)) != MAILIMAP_NO_ERROR) {
		log_warn("imap: CREATE %s: %s", c->done_folder, imap_strerror(r));
		return -1;
	}
	log_info("imap: created folder %s", c->done_folder);
	return 0;
}

static int imap_fail(struct imap_child *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* The attempt failed: why, for the channel's state (refused: the
 * configuration's failure, not the server's reachability).  -1. */
static int
imap_fail(struct imap_child *c, int refused, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->seen.reason, sizeof(c->seen.reason), fmt, ap);
	va_end(ap);
	c->refused = refused;
	if (c->seen.login[0] == '\0')
		snprintf(c->seen.login, sizeof(c->seen.login), "not "
		    "attempted: the password was not sent");
	return -1;
}

/* The server's text of its last tagged answer, cleaned, for a message. */
static const char *
imap_server_text(struct imap_child *c, char *buf, size_t size)
{
	const char *t = c->imap != NULL ? c->imap->imap_response : NULL;
	size_t i;

	if (t == NULL || *t == '\0')
		return "no text";
	for (i = 0; t[i] != '\0' && i + 1 < size && i < 200; i++)
		buf[i] = (unsigned char)t[i] < 0x20 ||
		    (unsigned char)t[i] >= 0x7f ? '?' : t[i];
	buf[i] = '\0';
	return buf;
}

/* STARTTLS on the plain session, then TLS (imap_tls.c) on its socket. */
static int
imap_child_starttls(struct imap_child *c)
{
	mailstream_low *old, *low;
	int r, fd;

	if ((r = mailimap_starttls(c->imap)) != MAILIMAP_NO_ERROR)
		return imap_fail(c, 0, "STARTTLS with %s: %s", c->url.host,
		    imap_strerror(r));
	old = mailstream_get_low(c->imap->imap_stream);
	if ((fd = mailstream_low_get_fd(old)) == -1)
		return imap_fail(c, 0, "STARTTLS with %s: no socket",
		    c->url.host);
	/* on failure the old stream still owns fd: disconnect closes it */
	if (imap_tls_open(c, fd, &low) == -1)
		return -1;
	/* the plain driver's free leaves fd open: it is the TLS one's now */
	mailstream_low_free(old);
	mailstream_set_low(c->imap->imap_stream, low);
	return 0;
}

/* imaps://: TCP, TLS, then the greeting over it. */
static int
imap_child_connect_tls(struct imap_child *c)
{
	mailstream_low *low;
	mailstream *stream;
	int fd;

	if ((fd = imap_tcp_connect(c->url.host, c->url.port,
	    IMAP_NET_TIMEOUT)) == -1)
		return imap_fail(c, 0, "connect to %s port %u: %s", c->url.host,
		    c->url.port, strerror(errno));
	if (imap_tls_open(c, fd, &low) == -1) {
		close(fd);
		return -1;
	}
	if ((stream = mailstream_new(low, 8192)) == NULL) {
		mailstream_low_close(low);
		mailstream_low_free(low);
		return imap_fail(c, 0, "out of memory");
	}
	return mailimap_connect(c->imap, stream);
}

int
imap_child_connect(struct imap_child *c, int probe)
{
	struct mail_probe *seen = &c->seen;
	char text[256];
	int r, authenticated;

	memset(seen, 0, sizeof(*seen));
	seen->tls = c->tls;
	seen->port = c->url.port;
	c->refused = 0;
	if ((c->imap = mailimap_new(0, NULL)) == NULL)
		return imap_fail(c, 0, "out of memory");
	mailimap_set_timeout(c->imap, IMAP_NET_TIMEOUT);
	if (c->url.tls) {
		r = imap_child_connect_tls(c);
		if (r == -1)
			return -1;
	} else
		r = mailimap_socket_connect(c->imap, c->url.host, c->url.port);
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED)
		return imap_fail(c, 0, "connect to %s port %u: %s", c->url.host,
		    c->url.port, imap_strerror(r));
	seen->connected = 1;
	authenticated = r == MAILIMAP_NO_ERROR_AUTHENTICATED;
	if (imap_child_caps(c) == -1)
		return imap_fail(c, 0, "CAPABILITY at %s failed", c->url.host);
	if (!c->url.tls) {
		seen->starttls_offered = mailimap_has_extension(c->imap,
		    "STARTTLS");
		if (c->tls.level != TLS_NONE && seen->starttls_offered) {
			if (imap_child_starttls(c) == -1)
				return -1;
			/* what was said before TLS counts no more */
			if (imap_child_caps(c) == -1)
				return imap_fail(c, 0, "CAPABILITY at %s "
				    "failed", c->url.host);
		} else if (c->tls.need_tls)
			return imap_fail(c, 1, c->tls.level == TLS_MAY ?
			    "%s offers no STARTTLS, and a password goes to a "
			    "remote host only over TLS (it was not sent)%s" :
			    "%s offers no STARTTLS, which [imap] tls = %s "
			    "requires (the password was not sent)", c->url.host,
			    c->tls.level == TLS_MAY ? "" :
			    tls_level_name(c->tls.level));
	}
	if (!seen->encrypted) {
		snprintf(seen->verify, sizeof(seen->verify), "no TLS");
		snprintf(seen->pin_check, sizeof(seen->pin_check), "no TLS");
		if (!probe && !authenticated && c->tls.level != TLS_NONE)
			log_warn("imap: %s offers no STARTTLS: the session "
			    "is not encrypted", c->url.host);
	}
	if (!authenticated) {
		if (!seen->encrypted &&
		    mailimap_has_extension(c->imap, "LOGINDISABLED")) {
			snprintf(seen->login, sizeof(seen->login), "not "
			    "attempted: LOGINDISABLED without TLS");
			return imap_fail(c, 1, "%s refuses LOGIN without TLS "
			    "(LOGINDISABLED)%s", c->url.host,
			    c->tls.level == TLS_NONE ?
			    " and [imap] tls = none" : "");
		}
		if (c->password == NULL) {
			snprintf(seen->login, sizeof(seen->login), "not "
			    "attempted: no password");
			return imap_fail(c, 1, "no password for %s (see [imap] "
			    "password_file)", c->url.user);
		}
		r = mailimap_login(c->imap, c->url.user, c->password);
		if (r != MAILIMAP_NO_ERROR) {
			snprintf(seen->login, sizeof(seen->login), "refused: "
			    "%s", r == MAILIMAP_ERROR_LOGIN ?
			    imap_server_text(c, text, sizeof(text)) :
			    imap_strerror(r));
			return imap_fail(c, r == MAILIMAP_ERROR_LOGIN,
			    "login as %s at %s: %s", c->url.user, c->url.host,
			    r == MAILIMAP_ERROR_LOGIN ? seen->login :
			    imap_strerror(r));
		}
		snprintf(seen->login, sizeof(seen->login), "ok as %s",
		    c->url.user);
		/* The capabilities may change once logged in. */
		if (imap_child_caps(c) == -1)
			return imap_fail(c, 0, "CAPABILITY at %s failed",
			    c->url.host);
	} else
		snprintf(seen->login, sizeof(seen->login), "not needed "
		    "(PREAUTH)");
	c->has_idle = mailimap_has_idle(c->imap);
	c->has_move = mailimap_has_extension(c->imap, "MOVE");
	c->has_uidplus = mailimap_has_uidplus(c->imap);
	if (probe) {
		/* read-only: a probe changes nothing on the server */
		r = mailimap_examine(c->imap, c->url.mailbox);
		if (r != MAILIMAP_NO_ERROR) {
			snprintf(seen->mailbox, sizeof(seen->mailbox), "%s: "
			    "EXAMINE refused: %s", c->url.mailbox,
			    imap_server_text(c, text, sizeof(text)));
			return imap_fail(c, 1, "%s", seen->mailbox);
		}
		snprintf(seen->mailbox, sizeof(seen->mailbox), "%s: %u "
		    "messages, uidvalidity %u", c->url.mailbox,
		    c->imap->imap_selection_info != NULL ?
		    c->imap->imap_selection_info->sel_exists : 0,
		    c->imap->imap_selection_info != NULL ?
		    c->imap->imap_selection_info->sel_uidvalidity : 0);
		seen->usable = 1;
		return 0;
	}
	if (imap_child_folder(c) == -1)
		return imap_fail(c, 0, "making folder %s at %s failed",
		    c->done_folder, c->url.host);
	if ((r = mailimap_select(c->imap, c->url.mailbox)) != MAILIMAP_NO_ERROR)
		return imap_fail(c, r == MAILIMAP_ERROR_SELECT,
		    "SELECT %s: %s", c->url.mailbox, imap_strerror(r));
	if (c->imap->imap_selection_info == NULL ||
	    c->imap->imap_selection_info->sel_uidvalidity == 0)
		return imap_fail(c, 0, "%s gives no UIDVALIDITY",
		    c->url.mailbox);
	c->uidvalidity = c->imap->imap_selection_info->sel_uidvalidity;
	seen->usable = 1;
	return 0;
}

void
imap_child_password_wipe(struct imap_child *c)
{
	if (c->password == NULL)
		return;
	explicit_bzero(c->password, strlen(c->password));
	free(c->password);
	c->password = NULL;
}

int
imap_probe(const struct config *cf, int (*before)(const struct config *,
    char *, size_t), struct mail_probe *out)
{
	struct imap_child c;
	char err[512], sandbox[96];
	int r, abi;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.sock = -1;
	c.dirfd = -1;
	if (tls_policy_config(cf, TLS_CHANNEL_IMAP, &c.tls, err,
	    sizeof(err)) == -1 ||
	    imap_url_parse(cf->imap_url, &c.url, err, sizeof(err)) == -1) {
		snprintf(out->reason, sizeof(out->reason), "%s", err);
		return -1;
	}
	out->tls = c.tls;
	if (imap_password_read(cf, &c.url, &c.password, &c.password_from_file,
	    err, sizeof(err)) == -1) {
		snprintf(out->reason, sizeof(out->reason), "%s", err);
		imap_url_free(&c.url);
		return -1;
	}
	/* the password read: the caller's turn, then the fetcher's sandbox */
	if ((before != NULL && before(cf, err, sizeof(err)) == -1) ||
	    (abi = imap_confine(cf, -1, "beianctl", err, sizeof(err))) == -1) {
		snprintf(out->reason, sizeof(out->reason), "%s", err);
		imap_child_password_wipe(&c);
		imap_url_free(&c.url);
		return -1;
	}
	c.done_folder = cf->imap_done_folder;
	mailstream_network_delay.tv_sec = IMAP_NET_TIMEOUT;
	mailstream_network_delay.tv_usec = 0;
	if (abi == 0)
		snprintf(sandbox, sizeof(sandbox), "seccomp (no Landlock on "
		    "this kernel)");
	else
		snprintf(sandbox, sizeof(sandbox), "seccomp, Landlock ABI %d",
		    abi);
	r = imap_child_connect(&c, 1);
	*out = c.seen;
	snprintf(out->sandbox, sizeof(out->sandbox), "%s", sandbox);
	imap_child_disconnect(&c, r == 0);
	imap_child_password_wipe(&c);
	cert_trust_free(c.trust);
	imap_url_free(&c.url);
	return 0;
}

static int
imap_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* UID SEARCH UID first:last (last 0 = "*"): sorted UIDs in [first, ...]. */
int
imap_child_search(struct imap_child *c, uint32_t first, uint32_t last,
    uint32_t **uids, size_t *nuids)
{
	struct mailimap_search_key *key;
	struct mailimap_set *set;
	clist *res = NULL;
	clistiter *it;
	uint32_t *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	if ((set = mailimap_set_new_interval(first, last)) == NULL)
		return MAILIMAP_ERROR_MEMORY;
	if ((key = mailimap_search_key_new_uid(set)) == NULL) {
		mailimap_set_free(set);
		return MAILIMAP_ERROR_MEMORY;
	}
	r = mailimap_uid_search(c->imap, NULL, key, &res);
	mailimap_search_key_free(key); /* frees set */
	if (r != MAILIMAP_NO_ERROR)
		return r;
	for (it = clist_begin(res); it != NULL; it = clist_next(it)) {
		uint32_t u = *(uint32_t *)clist_content(it);

		/* "n:*" matches the last message even below n. */
		if (u < first || (last != 0 && u > last))
			continue;
		xgrow(&v, &cap, n, sizeof(*v));
		v[n++] = u;
	}
	mailimap_search_result_free(res);
	if (n > 0)
		qsort(v, n, sizeof(*v), imap_u32_cmp);
	*uids = v;
	*nuids = n;
	return MAILIMAP_NO_ERROR;
}

/*
 * UID FETCH uid with the attributes of ft; on success *res holds the
 * response list (NULL-safe free with mailimap_fetch_list_free) and
 * *size / *body / *blen what was found for that UID (*found 0 when the
 * message has gone).
 */
int
imap_child_fetch(struct imap_child *c, uint32_t uid,
    struct mailimap_fetch_type *ft, clist **res, int *found,
    uint32_t *size, const char **body, size_t *blen)
{
	struct mailimap_set *set;
	clistiter *it, *ai;
	int r;

	*found = 0;
	*res = NULL;
	if ((set = mailimap_set_new_single(uid)) == NULL)
		return MAILIMAP_ERROR_MEMORY;
	r = mailimap_uid_fetch(c->imap, set, ft, res);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return r;
	/* Unsolicited FETCH responses for others may come along. */
	for (it = clist_begin(*res); it != NULL; it = clist_next(it)) {
		struct mailimap_msg_att *ma = clist_content(it);
		uint32_t u = 0, sz = 0;
		const char *b = NULL;
		size_t bl = 0;
		int hasbody = 0;

		for (ai = clist_begin(ma->att_list); ai != NULL;
		    ai = clist_next(ai)) {
			struct mailimap_msg_att_item *item = clist_content(ai);
			struct mailimap_msg_att_static *st;

			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			st = item->att_data.att_static;
			switch (st->att_type) {
			case MAILIMAP_MSG_ATT_UID:
				u = st->att_data.att_uid;
				break;
			case MAILIMAP_MSG_ATT_RFC822_SIZE:
				sz = st->att_data.att_rfc822_size;
				break;
			case MAILIMAP_MSG_ATT_BODY_SECTION:
				b = st->att_data.att_body_section->sec_body_part;
				bl = st->att_data.att_body_section->sec_length;
				hasbody = 1;
				break;
			}
		}
		if (u == uid) {
			*found = 1;
			if (size != NULL)
				*size = sz;
			if (body != NULL) {
				*body = hasbody && b != NULL ? b : "";
				*blen = hasbody && b != NULL ? bl : 0;
			}
			break;
		}
	}
	return MAILIMAP_NO_ERROR;
}

struct mailimap_fetch_type *
imap_fetch_type(struct mailimap_fetch_att *att)
{
	struct mailimap_fetch_type *ft;

	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	if (ft == NULL ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid()) != MAILIMAP_NO_ERROR ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, att) !=
	    MAILIMAP_NO_ERROR)
		abort(); /* libetpan's allocation failed */
	return ft;
}

/* ---- the ENVELOPE pre-fetch (DESIGN.md, Hostile senders) --------------- */

static int
imap_uid_index(const uint32_t *uids, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (uids[mid] == uid)
			return (int)mid;
		if (uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The first real address of a From (group markers have no host). */
static void
imap_env_sender(const struct mailimap_envelope *e, char *out, size_t size)
{
	clistiter *it;

	out[0] = '\0';
	if (e == NULL || e->env_from == NULL || e->env_from->frm_list == NULL)
		return;
	for (it = clist_begin(e->env_from->frm_list); it != NULL;
	    it = clist_next(it)) {
		const struct mailimap_address *a = clist_content(it);

		if (a != NULL && a->ad_mailbox_name != NULL &&
		    a->ad_host_name != NULL) {
			imap_sender_key(a->ad_mailbox_name, a->ad_host_name,
			    out, size);
			return;
		}
	}
}

/*
 * UID FETCH of (UID RFC822.SIZE ENVELOPE) for the n sorted uids in one
 * command: what the limits judge a message by before its body is
 * fetched.  env[i] answers uids[i] (found 0: the message has gone).
 * Responses for UIDs not asked for are ignored.
 */
int
imap_child_envelopes(struct imap_child *c, const uint32_t *uids, size_t n,
    struct imap_env *env)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set;
	clist *res = NULL;
	clistiter *it, *ai;
	int r;

	for (size_t i = 0; i < n; i++) {
		memset(&env[i], 0, sizeof(env[i]));
		env[i].uid = uids[i];
	}
	if (n == 0)
		return MAILIMAP_NO_ERROR;
	if ((set = mailimap_set_new_empty()) == NULL)
		return MAILIMAP_ERROR_MEMORY;
	for (size_t i = 0; i < n; i++) {
		if (mailimap_set_add_single(set, uids[i]) !=
		    MAILIMAP_NO_ERROR) {
			mailimap_set_free(set);
			return MAILIMAP_ERROR_MEMORY;
		}
	}
	ft = imap_fetch_type(mailimap_fetch_att_new_rfc822_size());
	if (mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_envelope()) != MAILIMAP_NO_ERROR)
		abort(); /* libetpan's allocation failed */
	r = mailimap_uid_fetch(c->imap, set, ft, &res);
	mailimap_set_free(set);
	mailimap_fetch_type_free(ft);
	if (r != MAILIMAP_NO_ERROR)
		return r;
	for (it = clist_begin(res); it != NULL; it = clist_next(it)) {
		struct mailimap_msg_att *ma = clist_content(it);
		const struct mailimap_envelope *e = NULL;
		uint32_t u = 0, sz = 0;
		int k;

		for (ai = clist_begin(ma->att_list); ai != NULL;
		    ai = clist_next(ai)) {
			struct mailimap_msg_att_item *item = clist_content(ai);
			struct mailimap_msg_att_static *st;

			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			st = item->att_data.att_static;
			if (st->att_type == MAILIMAP_MSG_ATT_UID)
				u = st->att_data.att_uid;
			else if (st->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE)
				sz = st->att_data.att_rfc822_size;
			else if (st->att_type == MAILIMAP_MSG_ATT_ENVELOPE)
				e = st->att_data.att_env;
		}
		if (u == 0 || (k = imap_uid_index(uids, n, u)) == -1 ||
		    env[k].found)
			continue;
		env[k].found = 1;
		env[k].size = sz;
		imap_env_sender(e, env[k].sender, sizeof(env[k].sender));
	}
	mailimap_fetch_list_free(res);
	return MAILIMAP_NO_ERROR;
}
