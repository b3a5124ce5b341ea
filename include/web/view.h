/*
 * view: the console's way to hostile bytes — uploaded photos and scans,
 * and the stored packages whose photos a page shows — through the
 * sandboxed parser worker, never parsed in beiand-web itself.
 *
 * Today this is a pool of one forked worker (worker/worker.h) used by one
 * request at a time; view.c's view_worker_run() is the single place that
 * talks to it.
 */
#ifndef BEIAND_WEB_VIEW_H
#define BEIAND_WEB_VIEW_H

#include <stddef.h>

#include "parsers/package.h"

struct config;
struct web_view;

/* Start the worker; NULL with err on failure.  cf outlives the view. */
struct web_view *web_view_new(const struct config *cf, char *err,
    size_t errsize);
void web_view_free(struct web_view *v); /* accepts NULL */

/*
 * The stored package blob_path (a file of the attachment store) as the
 * worker reads it, every file's bytes included, from the cache when it
 * was read lately (by its digest blob_hex).  0 and *out, which stays
 * valid until web_view_release(v, *out); -1 with err.
 */
int web_view_package(struct web_view *v, const char *blob_hex,
    const char *blob_path, const struct upload **out, char *err,
    size_t errsize);
void web_view_release(struct web_view *v, const struct upload *u);

/*
 * A verification made in the console, checked as a provider's batch is:
 * the record and the files it names (files[0] the record) packed into
 * one archive and read by the worker with provider's configuration (its
 * photo checks, limits and all).  0 and *out (upload_free): one item,
 * or the upload's refusals; -1 with err when the worker failed.
 */
int web_photo_check(struct web_view *v, const char *provider,
    const struct pkg_file *files, size_t nfiles, struct upload **out,
    char *err, size_t errsize);

#endif
