/*
 * xmldoc: read the XML documents of FORMAT.md, for the walks that build
 * the structs of filing.h (xml_filing.c, xml_records.c), with the
 * helpers those walks share.
 *
 * Every byte handed to this file comes from outside: an uploaded package,
 * a mail attachment, a provider's batch.  The document is checked before
 * libxml2 sees it: its size (XML_TOO_LARGE), its encoding (UTF-8, or a
 * declared GB2312/GBK/GB18030/CP936 converted here with iconv; anything
 * else is XML_ENCODING).  libxml2 then parses from memory with network
 * access off and no entity substitution, DTD loading, XInclude or "huge"
 * mode.  A DOCTYPE stops the parser at its name, before any internal
 * subset is read (XML_DTD_FORBIDDEN): entity declarations are never
 * parsed, so nothing is ever expanded and no file is ever opened.  The
 * tree is validated against the XSD compiled into the binary and then
 * walked by hand; unknown or misplaced elements are ignored by the walk
 * (the schema reports them), so rule checks can run beside schema
 * findings.  Repeated elements are extracted up to XMLDOC_LIST_MAX.
 *
 * Process state: xmldoc_init() initialises libxml2, installs an external
 * entity loader that refuses everything, and compiles the schemas once
 * into a static cache (the only mutable globals here; they are written
 * once and only read afterwards).  Everything else is per call.
 */
#include <iconv.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "lib/utf8.h"
#include "lib/xmalloc.h"
#include "parsers/filing.h"
#include "parsers/xmldoc_int.h"

extern const unsigned char xsd_filing[], xsd_verification[], xsd_decision[];
extern const unsigned char xsd_manifest[], xsd_withdrawal[], xsd_handback[];
extern const size_t xsd_filing_len, xsd_verification_len, xsd_decision_len;
extern const size_t xsd_manifest_len, xsd_withdrawal_len, xsd_handback_len;

/* Findings of one document beyond this are summed up in one line: a
 * hostile document must not grow the error list without bound. */
#define XMLDOC_MAX_FINDINGS 50
/* Longest libxml2 message text kept in a finding. */
#define XMLDOC_MSG_MAX 300

#define XMLDOC_PARSE_OPTIONS                                                   \
	(XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_IGNORE_ENC |          \
	    XML_PARSE_COMPACT)

static const struct xmldoc_def {
	const char *root, *ns;
	const unsigned char *xsd;
	const size_t *xsd_len;
} xmldoc_defs[XMLDOC__COUNT] = {
	{ "filing", "urn:beiand:filing:1", xsd_filing, &xsd_filing_len },
	{ "verification", "urn:beiand:verification:1", xsd_verification,
	    &xsd_verification_len },
	{ "decision", "urn:beiand:decision:1", xsd_decision,
	    &xsd_decision_len },
	{ "batch", "urn:beiand:batch:1", xsd_manifest, &xsd_manifest_len },
	{ "withdrawal", "urn:beiand:withdrawal:1", xsd_withdrawal,
	    &xsd_withdrawal_len },
	{ "handback", "urn:beiand:handback:1", xsd_handback,
	    &xsd_handback_len },
};

/* Elements that FORMAT.md paths always index ("/filing/website[1]"). */
static const char *const xmldoc_repeatable[] = {
	"website", "domain", "homeUrl", "language", "preApproval", "access",
	"ip", "ipRange", "attachment", "issue", "item",
};

/* Every element name of the schemas, to tell a misplaced or missing
 * element from an unknown one. */
static const char *const xmldoc_known[] = {
	"province", "subjectLicence", "siteLicence", "password", "sponsor",
	"website", "name", "nature", "certType", "certNumber", "certAddress",
	"region", "address", "investor", "attachment", "principal",
	"certValidTo", "mobile", "officePhone", "email", "domain", "homeUrl",
	"serviceContent", "language", "preApproval", "manager", "access",
	"method", "serverLocation", "ip", "ipRange", "verifier", "verifiedAt",
	"checks", "photo", "checklistScan", "remarks", "issue", "reviewer",
	"reviewedAt", "licence", "reason", "item",
};

/* Written once by xmldoc_init(), read-only afterwards. */
static int xmldoc_ready;
static xmlSchemaPtr xmldoc_schemas[XMLDOC__COUNT];

/* State of one parse, reached from libxml2 callbacks. */
struct xmldoc_run {
	struct errlist *errs;
	const char *ns;   /* of the document kind */
	int doctype;      /* a DOCTYPE was met: the parser was stopped */
	int malformed;    /* a well-formedness error was recorded */
	char malformed_msg[XMLDOC_MSG_MAX + 64];
	size_t nfindings; /* schema findings reported */
	int truncated;    /* the "more findings" line was added */
};

/* ---- small helpers ---------------------------------------------------- */

static int
xmldoc_is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Copy s[0..len) without leading and trailing XML whitespace. */
static char *
xmldoc_trimdup(const char *s, size_t len)
{
	while (len > 0 && xmldoc_is_ws((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && xmldoc_is_ws((unsigned char)s[len - 1]))
		len--;
	return xstrndup(s, len);
}

/*
 * Copy a libxml2 message for a finding: namespace names in braces
 * ("{urn:beiand:filing:1}website") dropped, control characters and
 * newlines made spaces, at most XMLDOC_MSG_MAX bytes cut on a UTF-8
 * boundary.  The message may quote hostile values; they are valid UTF-8
 * because the document was.
 */
static void
xmldoc_msg_clean(const char *in, char *out, size_t outsize)
{
	size_t o = 0, i = 0, j, max;

	max = outsize - 4; /* room for "..." and NUL */
	if (max > XMLDOC_MSG_MAX)
		max = XMLDOC_MSG_MAX;
	if (in == NULL)
		in = "";
	while (in[i] != '\0') {
		if (in[i] == '{') {
			for (j = i + 1; in[j] != '\0' && in[j] != '}' &&
			    in[j] != ' ' && in[j] != '\'' && in[j] != ',' &&
			    j - i < 200; j++)
				;
			if (in[j] == '}' && j > i + 1) {
				i = j + 1;
				continue;
			}
		}
		if (o >= max) {
			/* drop a sequence cut in two */
			if (((unsigned char)in[i] & 0xC0) == 0x80) {
				while (o > 0 &&
				    ((unsigned char)out[o - 1] & 0xC0) == 0x80)
					o--;
				if (o > 0)
					o--;
			}
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		out[o++] = ((unsigned char)in[i] < 0x20) ? ' ' : in[i];
		i++;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

/* A growable string for paths. */
struct xmldoc_str {
	char *s;
	size_t len, cap;
};

static void
xmldoc_str_add(struct xmldoc_str *b, const char *s)
{
	size_t n = strlen(s);

	if (n > SIZE_MAX - b->len - 1)
		abort();
	xgrow(&b->s, &b->cap, b->len + n, 1);
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

static int
xmldoc_name_in(const xmlChar *name, const char *const *tab, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp((const char *)name, tab[i]) == 0)
			return 1;
	return 0;
}

static int
xmldoc_repeatable_name(const xmlChar *name)
{
	return xmldoc_name_in(name, xmldoc_repeatable,
	    sizeof(xmldoc_repeatable) / sizeof(xmldoc_repeatable[0]));
}

static int
xmldoc_same_el(const xmlNode *a, const xmlNode *b)
{
	if (a->type != XML_ELEMENT_NODE || b->type != XML_ELEMENT_NODE)
		return 0;
	if (strcmp((const char *)a->name, (const char *)b->name) != 0)
		return 0;
	if (a->ns == NULL || b->ns == NULL)
		return a->ns == b->ns;
	return strcmp((const char *)a->ns->href, (const char *)b->ns->href) == 0;
}

static void
xmldoc_path_el(struct xmldoc_str *b, const xmlNode *n, int depth)
{
	const xmlNode *s;
	size_t pos = 1;
	char idx[32];

	/* libxml2 caps depth at 256 without XML_PARSE_HUGE */
	if (n->parent != NULL && n->parent->type == XML_ELEMENT_NODE &&
	    depth < 512)
		xmldoc_path_el(b, n->parent, depth + 1);
	xmldoc_str_add(b, "/");
	xmldoc_str_add(b, (const char *)n->name);
	if (xmldoc_repeatable_name(n->name)) {
		for (s = n->prev; s != NULL; s = s->prev)
			if (xmldoc_same_el(s, n))
				pos++;
		snprintf(idx, sizeof(idx), "[%zu]", pos);
		xmldoc_str_add(b, idx);
	}
}

/*
 * The FORMAT.md path of a node.  Attribute findings name the attribute:
 * from the node when libxml2 hands an attribute, else from the message
 * ("attribute 'type'").  Returns a malloc'd string.
 */
static char *
xmldoc_node_path(const xmlNode *n, const char *msg)
{
	struct xmldoc_str b = { NULL, 0, 0 };
	const char *a, *e;
	char *name;

	if (n == NULL || (n->type != XML_ELEMENT_NODE &&
	    n->type != XML_ATTRIBUTE_NODE))
		return xstrdup("/");
	if (n->type == XML_ATTRIBUTE_NODE) {
		if (n->parent != NULL && n->parent->type == XML_ELEMENT_NODE)
			xmldoc_path_el(&b, n->parent, 0);
		xmldoc_str_add(&b, "/@");
		xmldoc_str_add(&b, (const char *)n->name);
		return b.s;
	}
	xmldoc_path_el(&b, n, 0);
	if (msg != NULL && (a = strstr(msg, "attribute '")) != NULL) {
		a += strlen("attribute '");
		if ((e = strchr(a, '\'')) != NULL && e > a && e - a < 200) {
			name = xstrndup(a, (size_t)(e - a));
			xmldoc_str_add(&b, "/@");
			xmldoc_str_add(&b, name);
			free(name);
		}
	}
	return b.s;
}

/* ---- libxml2 callbacks ------------------------------------------------ */

static xmlParserInputPtr
xmldoc_no_entity(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	/* Nothing outside the buffer is ever read. */
	return NULL;
}

static void
xmldoc_quiet(void *ctx, xmlErrorPtr err)
{
}

/*
 * SAX internalSubset: called at "<!DOCTYPE name ...", before any internal
 * subset or external ID is looked at.  Stop right there.
 */
static void
xmldoc_sax_doctype(void *ctx, const xmlChar *name, const xmlChar *eid,
    const xmlChar *sid)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct xmldoc_run *run = ctxt->_private;

	run->doctype = 1;
	xmlStopParser(ctxt);
}

static void
xmldoc_parse_error(void *ctx, xmlErrorPtr err)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct xmldoc_run *run = ctxt->_private;
	char msg[XMLDOC_MSG_MAX + 8];

	if (run == NULL || run->malformed || err == NULL ||
	    err->level < XML_ERR_ERROR)
		return;
	xmldoc_msg_clean(err->message, msg, sizeof(msg));
	snprintf(run->malformed_msg, sizeof(run->malformed_msg),
	    "line %d: %s", err->line, msg);
	run->malformed = 1;
}

/* 1 when some element child of parent is named name[0..len). */
static int
xmldoc_has_child(const xmlNode *parent, const char *name, size_t len)
{
	const xmlNode *c;

	for (c = parent->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strlen((const char *)c->name) == len &&
		    memcmp(c->name, name, len) == 0)
			return 1;
	return 0;
}

/*
 * libxml2 reports a missing element at the next sibling that follows it
 * ("Element 'nature': This element is not expected. Expected is ( name
 * )").  When the unexpected element is one of ours, not a repeat of a
 * sibling, and none of the expected ones is there at all, the finding is
 * really "missing ( name )" and belongs to the parent: return 1.
 */
static int
xmldoc_is_missing(const struct xmldoc_run *run, const xmlNode *n,
    const char *msg)
{
	const char *e, *end, *t, *q;
	const xmlNode *s;

	if (n == NULL || n->type != XML_ELEMENT_NODE || n->parent == NULL ||
	    n->parent->type != XML_ELEMENT_NODE || msg == NULL ||
	    strstr(msg, "This element is not expected.") == NULL ||
	    (e = strstr(msg, "Expected is")) == NULL ||
	    (e = strchr(e, '(')) == NULL || (end = strchr(e, ')')) == NULL)
		return 0;
	if (n->ns == NULL || strcmp((const char *)n->ns->href, run->ns) != 0 ||
	    !xmldoc_name_in(n->name, xmldoc_known,
	    sizeof(xmldoc_known) / sizeof(xmldoc_known[0])))
		return 0;
	for (s = n->prev; s != NULL; s = s->prev)
		if (xmldoc_same_el(s, n))
			return 0;
	/* "( {urn:...}name, {urn:...}other )" */
	for (t = e + 1; t < end; t = q + 1) {
		while (t < end && (*t == ' ' || *t == ','))
			t++;
		if (t >= end)
			break;
		if (*t == '{' && (q = memchr(t, '}', (size_t)(end - t))) != NULL)
			t = q + 1;
		for (q = t; q < end && *q != ',' && *q != ' '; q++)
			;
		if (q > t && xmldoc_has_child(n->parent, t, (size_t)(q - t)))
			return 0;
	}
	return 1;
}

static void
xmldoc_schema_error(void *ctx, xmlErrorPtr err)
{
	struct xmldoc_run *run = ctx;
	char msg[XMLDOC_MSG_MAX + 8];
	const xmlNode *node;
	char *path;

	if (err == NULL || err->level < XML_ERR_ERROR)
		return;
	if (run->nfindings >= XMLDOC_MAX_FINDINGS) {
		if (!run->truncated)
			errlist_add(run->errs, ERR_SCHEMA_VIOLATION, "/",
			    "不符合格式定义，其余错误从略 / schema: further "
			    "violations not listed");
		run->truncated = 1;
		return;
	}
	run->nfindings++;
	node = err->node;
	xmldoc_msg_clean(err->message, msg, sizeof(msg));
	if (xmldoc_is_missing(run, node, err->message)) {
		path = xmldoc_node_path(node->parent, NULL);
		errlist_add(run->errs, ERR_SCHEMA_VIOLATION, path,
		    "不符合格式定义：缺少元素 / schema: a required element is "
		    "missing: %s", msg);
	} else {
		path = xmldoc_node_path(node, err->message);
		errlist_add(run->errs, ERR_SCHEMA_VIOLATION, path,
		    "不符合格式定义 / schema: %s", msg);
	}
	free(path);
}

/* ---- set-up ------------------------------------------------------------ */

void
xmldoc_init(void)
{
	xmlSchemaParserCtxtPtr pctxt;
	int k;

	if (xmldoc_ready)
		return;
	xmlInitParser();
	xmlSetExternalEntityLoader(xmldoc_no_entity);
	for (k = 0; k < XMLDOC__COUNT; k++) {
		if (*xmldoc_defs[k].xsd_len > INT_MAX)
			abort();
		pctxt = xmlSchemaNewMemParserCtxt(
		    (const char *)xmldoc_defs[k].xsd,
		    (int)*xmldoc_defs[k].xsd_len);
		if (pctxt == NULL)
			abort();
		xmlSchemaSetParserStructuredErrors(pctxt, xmldoc_quiet, NULL);
		xmldoc_schemas[k] = xmlSchemaParse(pctxt);
		xmlSchemaFreeParserCtxt(pctxt);
		/* the schemas are part of the build: a broken one is a bug */
		if (xmldoc_schemas[k] == NULL)
			abort();
	}
	xmldoc_ready = 1;
}

/* ---- encoding ---------------------------------------------------------- */

/* Offset of the first byte that is not well-formed UTF-8, or len. */
static size_t
xmldoc_utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if ((n = utf8_seq(s + i, len - i, &cp)) == 0)
			return i;
		i += n;
	}
	return len;
}

/*
 * Find the encoding pseudo-attribute of an XML declaration at the start of
 * s.  Returns 1 and its bounds when there is one, 0 when there is none,
 * -1 when its value is not an EncName (XML 1.0 [81]).
 */
static int
xmldoc_decl_encoding(const char *s, size_t len, const char **vp, size_t *vlen)
{
	size_t i, k, end, ns, nl, v;
	char q, c;

	if (len < 6 || memcmp(s, "<?xml", 5) != 0 ||
	    !xmldoc_is_ws((unsigned char)s[5]))
		return 0;
	end = len < 1024 ? len : 1024;
	i = 5;
	for (;;) {
		while (i < end && xmldoc_is_ws((unsigned char)s[i]))
			i++;
		if (i >= end || s[i] == '?')
			return 0;
		ns = i;
		while (i < end && s[i] != '=' && !xmldoc_is_ws((unsigned char)s[i])
		    && s[i] != '?')
			i++;
		nl = i - ns;
		while (i < end && xmldoc_is_ws((unsigned char)s[i]))
			i++;
		if (i >= end || s[i] != '=')
			return 0; /* malformed: libxml2 will say so */
		i++;
		while (i < end && xmldoc_is_ws((unsigned char)s[i]))
			i++;
		if (i >= end || (s[i] != '"' && s[i] != '\''))
			return 0;
		q = s[i++];
		v = i;
		while (i < end && s[i] != q)
			i++;
		if (i >= end)
			return 0;
		if (nl == 8 && memcmp(s + ns, "encoding", 8) == 0) {
			*vp = s + v;
			*vlen = i - v;
			if (*vlen == 0 || *vlen > 40)
				return -1;
			for (k = 0; k < *vlen; k++) {
				c = s[v + k];
				if (!((c >= 'A' && c <= 'Z') ||
				    (c >= 'a' && c <= 'z') || (k > 0 &&
				    ((c >= '0' && c <= '9') || c == '.' ||
				    c == '_' || c == '-'))))
					return -1;
			}
			return 1;
		}
		i++;
	}
}

static int
xmldoc_enc_is(const char *v, size_t vlen, const char *name)
{
	return strlen(name) == vlen && strncasecmp(v, name, vlen) == 0;
}

/* GB18030 (a superset of GB2312 and GBK) to UTF-8; NULL on bad bytes. */
static char *
xmldoc_from_gb18030(const char *in, size_t len, size_t *outlen, size_t *bad)
{
	iconv_t cd;
	char *out, *ip, *op;
	size_t cap, il, ol;

	/* a GB18030 sequence of n bytes is at most 1.5 n bytes of UTF-8 */
	if (len > (SIZE_MAX - 8) / 2)
		return NULL;
	cap = len * 2 + 8;
	if ((cd = iconv_open("UTF-8", "GB18030")) == (iconv_t)-1)
		return NULL;
	out = xmalloc(cap);
	ip = (char *)(uintptr_t)in;
	il = len;
	op = out;
	ol = cap;
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 ||
	    iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1) {
		*bad = (size_t)(ip - in);
		iconv_close(cd);
		free(out);
		return NULL;
	}
	iconv_close(cd);
	*outlen = cap - ol;
	return out;
}

/* ---- reading ------------------------------------------------------------ */

/*
 * Size, encoding, well-formedness, DOCTYPE, root element and schema.
 * Returns the tree (schema findings may be in errs) or NULL with the
 * reason in errs.
 */
xmlDocPtr
xmldoc_read(const void *buf, size_t len, const struct input_limits *lim,
    enum xmldoc_kind kind, struct errlist *errs)
{
	const struct xmldoc_def *def = &xmldoc_defs[kind];
	struct input_limits dl;
	struct xmldoc_run run;
	const unsigned char *u = buf;
	const char *p = buf, *ev = NULL;
	char *conv = NULL;
	size_t n = len, evlen = 0, bad, clen;
	xmlParserCtxtPtr ctxt = NULL;
	xmlSchemaValidCtxtPtr vctxt;
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	int r;

	xmldoc_init();
	if (lim == NULL) {
		input_limits_defaults(&dl);
		lim = &dl;
	}
	if ((uint64_t)len > lim->xml_max_bytes || len > INT_MAX) {
		errlist_add(errs, ERR_XML_TOO_LARGE, "/",
		    "XML 文件过大 / the XML document is too large: %zu bytes, "
		    "at most %llu", len,
		    (unsigned long long)lim->xml_max_bytes);
		return NULL;
	}
	if (buf == NULL || len == 0) {
		errlist_add(errs, ERR_XML_MALFORMED, "/",
		    "XML 格式错误 / malformed XML: the document is empty");
		return NULL;
	}

	/* Encoding, by byte order mark, NUL bytes, then the declaration. */
	if (n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
		p += 3;
		n -= 3;
	} else if ((n >= 2 && ((u[0] == 0xFE && u[1] == 0xFF) ||
	    (u[0] == 0xFF && u[1] == 0xFE))) ||
	    memchr(u, 0, n < 4 ? n : 4) != NULL) {
		errlist_add(errs, ERR_XML_ENCODING, "/",
		    "不支持的编码 / unsupported encoding: UTF-16 or UTF-32; "
		    "use UTF-8 or GB18030");
		return NULL;
	}
	r = xmldoc_decl_encoding(p, n, &ev, &evlen);
	if (r < 0) {
		errlist_add(errs, ERR_XML_ENCODING, "/",
		    "不支持的编码 / unsupported encoding: invalid encoding name");
		return NULL;
	}
	if (r == 0 || xmldoc_enc_is(ev, evlen, "UTF-8")) {
		if ((bad = xmldoc_utf8_check((const unsigned char *)p, n)) != n) {
			errlist_add(errs, ERR_XML_ENCODING, "/",
			    "无效的 UTF-8 字节 / invalid UTF-8 at byte %zu",
			    bad + (size_t)(p - (const char *)buf));
			return NULL;
		}
	} else if (xmldoc_enc_is(ev, evlen, "GB18030") ||
	    xmldoc_enc_is(ev, evlen, "GBK") ||
	    xmldoc_enc_is(ev, evlen, "GB2312") ||
	    xmldoc_enc_is(ev, evlen, "CP936")) {
		bad = 0;
		if ((conv = xmldoc_from_gb18030(p, n, &clen, &bad)) == NULL) {
			errlist_add(errs, ERR_XML_ENCODING, "/",
			    "无效的 GB18030 字节 / invalid %.*s bytes at byte %zu",
			    (int)evlen, ev, bad + (size_t)(p - (const char *)buf));
			return NULL;
		}
		if (clen > INT_MAX) {
			free(conv);
			errlist_add(errs, ERR_XML_TOO_LARGE, "/", NULL);
			return NULL;
		}
		p = conv;
		n = clen;
	} else {
		errlist_add(errs, ERR_XML_ENCODING, "/",
		    "不支持的编码 / unsupported encoding %.*s: use UTF-8 or "
		    "GB18030", (int)evlen, ev);
		return NULL;
	}

	if (n == 0) { /* a byte order mark alone */
		errlist_add(errs, ERR_XML_MALFORMED, "/",
		    "XML 格式错误 / malformed XML: the document is empty");
		free(conv);
		return NULL;
	}

	/* Parse: the bytes are UTF-8 now, whatever the declaration says. */
	memset(&run, 0, sizeof(run));
	run.errs = errs;
	run.ns = def->ns;
	if ((ctxt = xmlCreateMemoryParserCtxt(p, (int)n)) == NULL)
		abort(); /* only on memory exhaustion */
	ctxt->_private = &run;
	ctxt->sax->internalSubset = xmldoc_sax_doctype;
	ctxt->sax->serror = xmldoc_parse_error;
	ctxt->sax->initialized = XML_SAX2_MAGIC;
	xmlCtxtUseOptions(ctxt, XMLDOC_PARSE_OPTIONS);
	xmlParseDocument(ctxt);
	doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	if (run.doctype || (doc != NULL && (doc->intSubset != NULL ||
	    doc->extSubset != NULL))) {
		errlist_add(errs, ERR_XML_DTD_FORBIDDEN, "/", NULL);
		goto fail;
	}
	if (!ctxt->wellFormed || !ctxt->nsWellFormed || doc == NULL ||
	    run.malformed) {
		errlist_add(errs, ERR_XML_MALFORMED, "/",
		    "XML 格式错误 / malformed XML: %s",
		    run.malformed ? run.malformed_msg : "not well-formed");
		goto fail;
	}
	xmlFreeParserCtxt(ctxt);
	ctxt = NULL;
	free(conv);
	conv = NULL;

	root = xmlDocGetRootElement(doc);
	if (root == NULL || strcmp((const char *)root->name, def->root) != 0 ||
	    root->ns == NULL ||
	    strcmp((const char *)root->ns->href, def->ns) != 0) {
		errlist_add(errs, ERR_SCHEMA_VIOLATION, "/",
		    "不符合格式定义：根元素应为 <%s xmlns=\"%s\"> / schema: the "
		    "root element must be <%s xmlns=\"%s\">", def->root,
		    def->ns, def->root, def->ns);
		goto fail;
	}

	if ((vctxt = xmlSchemaNewValidCtxt(xmldoc_schemas[kind])) == NULL)
		abort();
	xmlSchemaSetValidStructuredErrors(vctxt, xmldoc_schema_error, &run);
	r = xmlSchemaValidateDoc(vctxt, doc);
	xmlSchemaFreeValidCtxt(vctxt);
	if (r != 0 && run.nfindings == 0)
		errlist_add(errs, ERR_SCHEMA_VIOLATION, "/", NULL);
	return doc;

 fail:
	if (ctxt != NULL)
		xmlFreeParserCtxt(ctxt);
	xmlFreeDoc(doc);
	free(conv);
	return NULL;
}

/* ---- tree walking ------------------------------------------------------- */

int
xmldoc_el(const xmlNode *n, const char *ns, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    strcmp((const char *)n->ns->href, ns) == 0 &&
	    (name == NULL || strcmp((const char *)n->name, name) == 0);
}

/* The trimmed text of an element: its text children joined. */
char *
xmldoc_text(const xmlNode *n)
{
	const xmlNode *c;
	struct xmldoc_str b = { NULL, 0, 0 };
	char *r;

	c = n->children;
	if (c == NULL)
		return xstrdup("");
	if (c->next == NULL && (c->type == XML_TEXT_NODE ||
	    c->type == XML_CDATA_SECTION_NODE) && c->content != NULL)
		return xmldoc_trimdup((const char *)c->content,
		    strlen((const char *)c->content));
	xmldoc_str_add(&b, "");
	for (; c != NULL; c = c->next)
		if ((c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE) && c->content != NULL)
			xmldoc_str_add(&b, (const char *)c->content);
	r = xmldoc_trimdup(b.s, b.len);
	free(b.s);
	return r;
}

/* The trimmed value of an attribute without namespace, or NULL. */
char *
xmldoc_attr(const xmlNode *n, const char *name)
{
	const xmlAttr *a;
	const xmlNode *c;
	struct xmldoc_str b = { NULL, 0, 0 };
	char *r;

	for (a = n->properties; a != NULL; a = a->next) {
		if (a->ns != NULL || strcmp((const char *)a->name, name) != 0)
			continue;
		c = a->children;
		if (c == NULL)
			return xstrdup("");
		if (c->next == NULL && c->content != NULL)
			return xmldoc_trimdup((const char *)c->content,
			    strlen((const char *)c->content));
		xmldoc_str_add(&b, "");
		for (; c != NULL; c = c->next)
			if (c->content != NULL)
				xmldoc_str_add(&b, (const char *)c->content);
		r = xmldoc_trimdup(b.s, b.len);
		free(b.s);
		return r;
	}
	return NULL;
}

/* The first occurrence wins; later ones are schema findings. */
void
xmldoc_set_text(char **dst, const xmlNode *n)
{
	if (*dst == NULL)
		*dst = xmldoc_text(n);
}

void
xmldoc_need(struct errlist *errs, const char *path, int present, int needed,
    const char *what, const char *why)
{
	if (needed && !present)
		errlist_add(errs, ERR_SCHEMA_VIOLATION, path,
		    "不符合格式定义：缺少 <%s> / schema: <%s> is required %s",
		    what, what, why);
	else if (!needed && present)
		errlist_add(errs, ERR_SCHEMA_VIOLATION, path,
		    "不符合格式定义：不允许 <%s> / schema: <%s> is not allowed "
		    "%s", what, what, why);
}
