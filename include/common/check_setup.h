/*
 * check_setup: a struct check_ctx made from the configuration.
 */
#ifndef BEIAND_CHECK_SETUP_H
#define BEIAND_CHECK_SETUP_H

#include <time.h>

#include "common/config.h"
#include "parsers/filing_check.h"

struct check_setup {
	struct check_ctx ctx;
	const char **provinces; /* owned: the served province codes */
};

/*
 * Fill cs for checks made at instant now on behalf of provider (a code of
 * cf, or NULL: no IP_NOT_PROVIDER).  Returns -1 when provider is not
 * configured.  cs points into cf: cf must outlive it.
 */
int check_setup_init(struct check_setup *cs, const struct config *cf,
    const char *provider, time_t now);
void check_setup_fini(struct check_setup *cs);

#endif
