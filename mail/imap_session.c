/*
 * imap: the fetcher child's IMAP session over libetpan — connect
 * (imaps://, or STARTTLS when offered), check the certificate, log in,
 * ask the capabilities, make done_folder, select, UID SEARCH and UID
 * FETCH.  Used by imap_fetch.c.
 *
 * Hostile here: everything the IMAP server sends (its certificate chain,
 * capabilities, UIDs, sizes and bytes).  This file never sends the
 * password before a TLS certificate it started checking has passed (a
 * failed verification is an error, retried, never ignored), never logs
 * a password, and never addresses a message by sequence number: every
 * command that names a message is a UID command.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "mail/imap.h"
#include "mail/imap_int.h"

#define IMAP_CHAIN_MAX     16

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

/* ---- TLS --------------------------------------------------------------- */

static void
imap_tls_callback(struct mailstream_ssl_context *ctx, void *arg)
{
	struct imap_child *c = arg;
	unsigned char a[16];

	/* SNI takes names only, never address literals. */
	if (inet_pton(AF_INET, c->url.host, a) != 1 &&
	    inet_pton(AF_INET6, c->url.host, a) != 1)
		(void)mailstream_ssl_set_server_name(ctx, c->url.host);
}

/*
 * Verify the server's certificate chain against the trust anchors and
 * the host name of the URL.  libetpan checks nothing itself: this runs
 * right after the handshake, before any credential is sent.
 */
static int
imap_tls_verify(struct imap_child *c, char *err, size_t errsize)
{
	gnutls_x509_crt_t crt[IMAP_CHAIN_MAX];
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_typed_vdata_st vd[2];
	gnutls_datum_t out = { NULL, 0 };
	unsigned char addr[16];
	unsigned int status = 0, ncrt = 0;
	carray *chain;
	int r, rc = -1;

	chain = mailstream_get_certificate_chain(c->imap->imap_stream);
	if (chain == NULL || carray_count(chain) == 0) {
		snprintf(err, errsize, "no server certificate");
		goto out;
	}
	for (unsigned int i = 0; i < carray_count(chain) && i < IMAP_CHAIN_MAX;
	    i++) {
		MMAPString *s = carray_get(chain, i);
		gnutls_datum_t d = { (unsigned char *)s->str,
		    (unsigned int)s->len };

		if (s->len > UINT_MAX || gnutls_x509_crt_init(&crt[ncrt]) < 0) {
			snprintf(err, errsize, "certificate not readable");
			goto out;
		}
		ncrt++;
		if (gnutls_x509_crt_import(crt[ncrt - 1], &d,
		    GNUTLS_X509_FMT_DER) < 0) {
			snprintf(err, errsize, "certificate %u does not parse", i);
			goto out;
		}
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		snprintf(err, errsize, "gnutls trust list");
		goto out;
	}
	if (c->ca_file != NULL)
		r = gnutls_x509_trust_list_add_trust_file(tl, c->ca_file, NULL,
		    GNUTLS_X509_FMT_PEM, 0, 0);
	else
		r = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (r <= 0) {
		snprintf(err, errsize, "no trust anchors in %s",
		    c->ca_file != NULL ? c->ca_file : "the system store");
		goto out;
	}
	memset(vd, 0, sizeof(vd));
	if (inet_pton(AF_INET, c->url.host, addr) == 1) {
		vd[0].type = GNUTLS_DT_IP_ADDRESS;
		vd[0].data = addr;
		vd[0].size = 4;
	} else if (inet_pton(AF_INET6, c->url.host, addr) == 1) {
		vd[0].type = GNUTLS_DT_IP_ADDRESS;
		vd[0].data = addr;
		vd[0].size = 16;
	} else {
		vd[0].type = GNUTLS_DT_DNS_HOSTNAME;
		vd[0].data = (unsigned char *)c->url.host;
	}
	vd[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vd[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	r = gnutls_x509_trust_list_verify_crt2(tl, crt, ncrt, vd, 2, 0,
	    &status, NULL);
	if (r < 0) {
		snprintf(err, errsize, "verification failed: %s",
		    gnutls_strerror(r));
		goto out;
	}
	if (status != 0) {
		if (gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &out, 0) == 0) {
			size_t l;

			snprintf(err, errsize, "%s", (const char *)out.data);
			l = strlen(err);
			while (l > 0 && err[l - 1] == ' ')
				err[--l] = '\0';
		} else
			snprintf(err, errsize, "not trusted (status %#x)", status);
		gnutls_free(out.data);
		goto out;
	}
	rc = 0;
out:
	for (unsigned int i = 0; i < ncrt; i++)
		gnutls_x509_crt_deinit(crt[i]);
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	if (chain != NULL)
		mailstream_certificate_chain_free(chain);
	return rc;
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

/* Connect, secure, log in, select.  0 with c->uidvalidity set. */
int
imap_child_connect(struct imap_child *c)
{
	char err[256];
	int r, authenticated;

	if ((c->imap = mailimap_new(0, NULL)) == NULL)
		return -1;
	mailimap_set_timeout(c->imap, IMAP_NET_TIMEOUT);
	if (c->url.tls)
		r = mailimap_ssl_connect_with_callback(c->imap, c->url.host,
		    c->url.port, imap_tls_callback, c);
	else
		r = mailimap_socket_connect(c->imap, c->url.host, c->url.port);
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		log_warn("imap: connect to %s port %u: %s", c->url.host,
		    c->url.port, imap_strerror(r));
		return -1;
	}
	authenticated = r == MAILIMAP_NO_ERROR_AUTHENTICATED;
	if (c->url.tls && imap_tls_verify(c, err, sizeof(err)) == -1) {
		log_err("imap: certificate of %s refused: %s", c->url.host, err);
		return -1;
	}
	if (imap_child_caps(c) == -1)
		return -1;
	if (!c->url.tls) {
		if (mailimap_has_extension(c->imap, "STARTTLS")) {
			r = mailimap_socket_starttls_with_callback(c->imap,
			    imap_tls_callback, c);
			if (r != MAILIMAP_NO_ERROR) {
				log_warn("imap: STARTTLS with %s: %s",
				    c->url.host, imap_strerror(r));
				return -1;
			}
			if (imap_tls_verify(c, err, sizeof(err)) == -1) {
				log_err("imap: certificate of %s refused: %s",
				    c->url.host, err);
				return -1;
			}
			if (imap_child_caps(c) == -1)
				return -1;
		} else
			log_warn("imap: %s offers no STARTTLS: the session is "
			    "not encrypted", c->url.host);
	}
	if (!authenticated) {
		r = mailimap_login(c->imap, c->url.user, c->url.pass);
		if (r != MAILIMAP_NO_ERROR) {
			log_err("imap: login as %s at %s: %s", c->url.user,
			    c->url.host, imap_strerror(r));
			return -1;
		}
		/* The capabilities may change once logged in. */
		if (imap_child_caps(c) == -1)
			return -1;
	}
	c->has_idle = mailimap_has_idle(c->imap);
	c->has_move = mailimap_has_extension(c->imap, "MOVE");
	c->has_uidplus = mailimap_has_uidplus(c->imap);
	if (imap_child_folder(c) == -1)
		return -1;
	if ((r = mailimap_select(c->imap, c->url.mailbox)) != MAILIMAP_NO_ERROR) {
		log_err("imap: SELECT %s: %s", c->url.mailbox, imap_strerror(r));
		return -1;
	}
	if (c->imap->imap_selection_info == NULL ||
	    c->imap->imap_selection_info->sel_uidvalidity == 0) {
		log_err("imap: %s gives no UIDVALIDITY", c->url.mailbox);
		return -1;
	}
	c->uidvalidity = c->imap->imap_selection_info->sel_uidvalidity;
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
