/*
 * filing_int: what the filing page (web/filing.c) shares with the forms
 * on it and the actions behind them (web/act.c).
 */
#ifndef BEIAND_WEB_FILING_INT_H
#define BEIAND_WEB_FILING_INT_H

#include <stddef.h>

#include "parsers/package.h"
#include "store/query.h"
#include "web/web_int.h"

#define REMARKS_MAX 48

/* A field the provider may remark on when returning to the owner. */
struct remark_field {
	char path[96];              /* FORMAT.md's path of the field */
	const char *zh, *en;
};

struct filing_view {
	const char *id;
	struct store_filing_detail *d;
	const struct upload *u;     /* the package as the worker read it */
	const struct item *item;    /* its filing, or NULL */
	int unreadable;             /* the worker could not read it */
	struct remark_field remarks[REMARKS_MAX];
	size_t nremarks;
};

int filing_view_load(struct web_req *req, struct filing_view *fv);
void filing_view_free(struct web_req *req, struct filing_view *fv);

/* <dt>zh en</dt><dd>v</dd>, nothing when v is empty. */
void field_row(struct html *h, const char *zh, const char *en, const char *v);
/* A picture linking to itself, or a download link for what is no image. */
void figure(struct html *h, const char *id, const unsigned char *sha,
    const unsigned char *data, size_t size, const char *zh, const char *en,
    const char *name);
/* 1 and *ctype when b starts as a JPEG or PNG does. */
int bytes_image(const unsigned char *b, size_t n, const char **ctype);

/* The forms the role may use on the filing in its state (act.c). */
void filing_actions(struct html *h, const struct web_req *req,
    const struct filing_view *fv);

#endif
