/*
 * chanstate: see include/daemon/chanstate.h.  The reason is beiand's own
 * line about the server (the channel's code has cleaned what it quotes
 * of the server); the log escapes control bytes all the same.
 */
#include <string.h>
#include <time.h>

#include "daemon/chanstate.h"
#include "lib/compat.h"
#include "lib/log.h"

void
chanstate_load(struct chanstate *c, struct store *st, const char *name)
{
	time_t since;
	int failing = 0, refused = 0;

	memset(c, 0, sizeof(*c));
	c->name = name;
	if (store_channel_get(st, name, &failing, &refused, c->reason,
	    sizeof(c->reason), &since) == 0) {
		c->known = 1;
		c->failing = failing;
		c->refused = failing && refused;
	} else
		c->reason[0] = '\0';
}

void
chanstate_note(struct chanstate *c, struct store *st, int failing,
    int refused, const char *reason)
{
	int was;

	if (!failing || reason == NULL)
		reason = "";
	refused = failing && refused;
	if (c->known && failing == c->failing && refused == c->refused &&
	    strcmp(reason, c->reason) == 0)
		return;
	was = c->known && c->failing;
	if (store_channel_set(st, c->name, failing, refused, reason, 0) ==
	    -1) {
		log_err("%s: recording the channel's state: %s", c->name,
		    store_errmsg(st));
		return;
	}
	c->known = 1;
	c->failing = failing;
	c->refused = refused;
	strlcpy(c->reason, reason, sizeof(c->reason));
	if (failing)
		log_err("%s: %s", c->name, reason);
	else if (was)
		log_info("%s: the server works again", c->name);
}
