/*
 * xmldoc_int: what parsers/xmldoc.c (reading a document: size, encoding,
 * DOCTYPE, well-formedness, schema) shares with the walks that build the
 * structs of filing.h from its tree, parsers/xml_filing.c and
 * parsers/xml_records.c.  Private to the XML parser: only the .c files of
 * parsers/ include it; everyone else uses parsers/filing.h.
 *
 * A tree handed to the walks came through xmldoc_read(): it is within
 * the limits, UTF-8, without DOCTYPE or entities and well-formed, but may
 * still break the schema (those findings are already in errs), so the
 * walks trust nothing of its shape.
 */
#ifndef BEIAND_XMLDOC_INT_H
#define BEIAND_XMLDOC_INT_H

#include <stddef.h>

#include <libxml/tree.h>

#include "parsers/errlist.h"
#include "parsers/input_limits.h"

/* Repeated elements kept per list; the schemas allow far fewer, except
 * manifest items, which are not capped. */
#define XMLDOC_LIST_MAX 100

enum xmldoc_kind {
	XMLDOC_FILING,
	XMLDOC_VERIFICATION,
	XMLDOC_DECISION,
	XMLDOC_MANIFEST,
	XMLDOC_WITHDRAWAL,
	XMLDOC_HANDBACK,
	XMLDOC__COUNT
};

/*
 * Size, encoding, well-formedness, DOCTYPE, root element and schema of
 * buf[0..len) as a document of kind (lim NULL: the defaults).  Returns
 * the tree, the caller's to xmlFreeDoc (schema findings may be in errs),
 * or NULL with the reason in errs.
 */
xmlDocPtr xmldoc_read(const void *buf, size_t len,
    const struct input_limits *lim, enum xmldoc_kind kind,
    struct errlist *errs);

/* 1 when n is an element of namespace ns called name (any name: NULL). */
int xmldoc_el(const xmlNode *n, const char *ns, const char *name);
/* The trimmed text of an element: its text children joined; malloc'd,
 * never NULL. */
char *xmldoc_text(const xmlNode *n);
/* The trimmed value of an attribute without namespace, malloc'd, or NULL
 * when there is none. */
char *xmldoc_attr(const xmlNode *n, const char *name);
/* *dst = the text of n, unless *dst is set already: the first occurrence
 * wins; later ones are schema findings. */
void xmldoc_set_text(char **dst, const xmlNode *n);
/* A SCHEMA_VIOLATION at path when an element what is missing though
 * needed, or present though not allowed; why says for what
 * ("for type=\"addSite\""). */
void xmldoc_need(struct errlist *errs, const char *path, int present,
    int needed, const char *what, const char *why);

#endif
