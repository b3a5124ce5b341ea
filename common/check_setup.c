/*
 * check_setup: what the rules need from the configuration.
 */
#include <stdlib.h>
#include <string.h>

#include "common/check_setup.h"
#include "lib/xmalloc.h"

int
check_setup_init(struct check_setup *cs, const struct config *cf,
    const char *provider, time_t now)
{
	const struct config_provider *p = NULL;

	if (provider != NULL && (p = config_provider_find(cf, provider)) == NULL)
		return -1;
	memset(cs, 0, sizeof(*cs));
	cs->provinces = xreallocarray(NULL, cf->nbureaus ? cf->nbureaus : 1,
	    sizeof(*cs->provinces));
	for (size_t i = 0; i < cf->nbureaus; i++)
		cs->provinces[i] = cf->bureaus[i].province;
	cs->ctx.lim = &cf->limits;
	cs->ctx.today = day_cst(now);
	cs->ctx.provinces = cs->provinces;
	/* Serving no province at all would make every filing
	 * PROVINCE_NOT_SERVED; that is what such a deployment means. */
	cs->ctx.nprovinces = cf->nbureaus;
	if (p != NULL) {
		cs->ctx.provider_ranges = p->ip_ranges;
		cs->ctx.nprovider_ranges = p->nip_ranges;
	}
	return 0;
}

void
check_setup_fini(struct check_setup *cs)
{
	free(cs->provinces);
	cs->provinces = NULL;
}
