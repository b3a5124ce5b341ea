/*
 * store/query: a filing read back — `beianctl list` and `show`, the
 * details a mail is composed from (daemon/mailer.c), the owner a mail
 * follow-up must come from (daemon/intake.c), the state an item is judged
 * against (store/ingest.c).  Reads only.
 */
#ifndef BEIAND_STORE_QUERY_H
#define BEIAND_STORE_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/workflow.h"
#include "store/store.h"

struct store_filing_info {
	char *id, *state, *type, *mode, *province, *provider, *owner;
	time_t created, updated;
};

struct store_event {
	int64_t id;
	time_t at;
	char *actor, *actor_kind, *channel;
	char *from, *to;  /* from NULL for the first */
	char *reason, *source;
	char *origin;     /* the console's client address, else NULL */
};

struct store_error_row {
	char *path, *code, *message;
};

struct store_website {
	char *name;
	char *domains;      /* space-separated */
	char *site_licence; /* NULL until approved */
};

struct store_filing_detail {
	struct store_filing_info info;
	char *sponsor_name, *sponsor_nature, *sponsor_cert_type, *sponsor_cert_number;
	char *subject_licence, *site_licence;
	char *xml;
	struct store_website *websites;
	size_t nwebsites;
	struct store_error_row *errors;
	size_t nerrors;
	struct store_event *events;
	size_t nevents;
};

/* cb per filing (state NULL: all), oldest first; non-zero return stops. */
int store_filing_list(struct store *st, const char *state,
    int (*cb)(const struct store_filing_info *, void *), void *arg);
/* One filing: 0 and *out (store_filing_detail_free), 1 unknown id. */
int store_filing_show(struct store *st, const char *id,
    struct store_filing_detail **out);
void store_filing_detail_free(struct store_filing_detail *d);
/* The state of a filing: 0 found, 1 unknown. */
int store_filing_state(struct store *st, const char *id, enum wf_state *state);
/* The owner address and token of a filing (mail follow-ups). */
int store_filing_owner(struct store *st, const char *id, char **owner,
    char token[STORE_TOKEN_LEN + 1]);

#endif
