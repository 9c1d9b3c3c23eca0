/*
 * XML answer to element tree, with limits (see xmldoc.h).
 *
 * Expat runs without namespace processing: a prefix is cut off the tag
 * name by hand, so an undeclared prefix in an answer does not fail the
 * parse, and the default namespace (xmlns="...") is just an attribute we
 * never read. Attributes are dropped; no AWS answer we read carries data
 * in them.
 *
 * A DOCTYPE stops the parser before its internal subset is read, so no
 * entity is ever declared and the only entities left are the five
 * predefined ones and character references, none of which can grow the
 * text beyond the size of the input.
 */
#include "xmldoc.h"

#include <expat.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"

#define MAX_BYTES (4u * 1024 * 1024)
#define MAX_DEPTH 64
#define MAX_ELEMS 100000

/* a node with the storage behind its strings */
struct elem {
	struct xmlnode node;
	char *text;
	char name[];
};

struct xmldoc {
	struct elem **elems; /* every element, in document order */
	size_t n;
	size_t cap;
};

/* an element whose end tag has not been seen yet */
struct frame {
	struct elem *el;
	struct xmlnode *last_child;
	struct buf text;
};

struct parse {
	XML_Parser p;
	struct xmldoc *doc;
	struct frame stack[MAX_DEPTH];
	int depth;
	/*
	 * Set when a handler stopped the parser. Expat may still deliver a
	 * callback or two after a stop (the end of an empty element), so
	 * from then on every handler returns at once.
	 */
	const char *why;
};

static void stop(struct parse *ps, const char *why)
{
	if (!ps->why)
		ps->why = why;
	XML_StopParser(ps->p, XML_FALSE);
}

static const char *local_name(const char *name)
{
	const char *colon = strrchr(name, ':');

	return colon ? colon + 1 : name;
}

static void XMLCALL on_start(void *payload, const XML_Char *name,
			     const XML_Char **attrs)
{
	struct parse *ps = payload;
	struct xmldoc *doc = ps->doc;
	const char *local = local_name(name);
	size_t len = strlen(local);
	struct elem *el;
	struct frame *f;

	(void)attrs;
	if (ps->why)
		return;
	if (ps->depth >= MAX_DEPTH) {
		stop(ps, "elements nested deeper than 64 levels");
		return;
	}
	if (doc->n >= MAX_ELEMS) {
		stop(ps, "more than 100000 elements");
		return;
	}
	el = mem_calloc(1, sizeof(*el) + len + 1);
	memcpy(el->name, local, len + 1);
	el->node.name = el->name;
	doc->elems = mem_grow(doc->elems, &doc->cap, doc->n + 1,
			      sizeof(*doc->elems));
	doc->elems[doc->n++] = el;

	if (ps->depth > 0) {
		struct frame *up = &ps->stack[ps->depth - 1];

		el->node.parent = &up->el->node;
		if (up->last_child)
			up->last_child->next = &el->node;
		else
			up->el->node.first_child = &el->node;
		up->last_child = &el->node;
	}
	f = &ps->stack[ps->depth++];
	f->el = el;
	f->last_child = NULL;
	memset(&f->text, 0, sizeof(f->text));
}

static void XMLCALL on_end(void *payload, const XML_Char *name)
{
	struct parse *ps = payload;
	struct frame *f;

	(void)name;
	if (ps->why || ps->depth == 0)
		return;
	f = &ps->stack[--ps->depth];
	f->el->text = buf_detach(&f->text);
	f->el->node.text = f->el->text;
}

static void XMLCALL on_chars(void *payload, const XML_Char *s, int len)
{
	struct parse *ps = payload;

	/* character data only ever comes inside the root element */
	if (!ps->why && ps->depth > 0 && len > 0)
		buf_put(&ps->stack[ps->depth - 1].text, s, (size_t)len);
}

static void XMLCALL on_doctype(void *payload, const XML_Char *name,
			       const XML_Char *sysid, const XML_Char *pubid,
			       int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	stop(payload, "DOCTYPE is not allowed");
}

static void XMLCALL on_entity(void *payload, const XML_Char *name, int is_param,
			      const XML_Char *value, int value_len,
			      const XML_Char *base, const XML_Char *sysid,
			      const XML_Char *pubid, const XML_Char *notation)
{
	(void)name;
	(void)is_param;
	(void)value;
	(void)value_len;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	stop(payload, "entity declarations are not allowed");
}

/* never reached while DOCTYPE is refused; here so nothing is ever fetched */
static int XMLCALL on_external_entity(XML_Parser p, const XML_Char *context,
				      const XML_Char *base,
				      const XML_Char *sysid,
				      const XML_Char *pubid)
{
	(void)p;
	(void)context;
	(void)base;
	(void)sysid;
	(void)pubid;
	return XML_STATUS_ERROR;
}

/* expat allocates through our wrappers: out of memory aborts there too */
static const XML_Memory_Handling_Suite mem_suite = { mem_alloc, mem_realloc,
						     free };

int xmldoc_parse(struct xmldoc **out, const char *data, size_t len,
		 struct err *e)
{
	struct parse ps;
	struct xmldoc *doc = NULL;
	int rc = 0;
	int i;

	*out = NULL;
	memset(&ps, 0, sizeof(ps));
	if (len > MAX_BYTES) {
		rc = err_set(e, ERR_INVALID,
			     "invalid XML: %zu bytes is larger than 4 MiB",
			     len);
		goto out;
	}
	ps.p = XML_ParserCreate_MM(NULL, &mem_suite, NULL);
	if (!ps.p) {
		rc = err_set(e, ERR_GENERIC, "cannot create an XML parser");
		goto out;
	}
	doc = mem_calloc(1, sizeof(*doc));
	ps.doc = doc;
	XML_SetUserData(ps.p, &ps);
	XML_SetElementHandler(ps.p, on_start, on_end);
	XML_SetCharacterDataHandler(ps.p, on_chars);
	XML_SetStartDoctypeDeclHandler(ps.p, on_doctype);
	XML_SetEntityDeclHandler(ps.p, on_entity);
	XML_SetExternalEntityRefHandler(ps.p, on_external_entity);
	XML_SetParamEntityParsing(ps.p, XML_PARAM_ENTITY_PARSING_NEVER);

	if (XML_Parse(ps.p, data ? data : "", (int)len, XML_TRUE) !=
	    XML_STATUS_OK) {
		const char *why = ps.why;

		if (!why)
			why = XML_ErrorString(XML_GetErrorCode(ps.p));
		rc = err_set(e, ERR_INVALID, "invalid XML at line %lu: %s",
			     (unsigned long)XML_GetCurrentLineNumber(ps.p),
			     why ? why : "unknown error");
		goto out;
	}
	*out = doc;
	doc = NULL;

out:
	/* frames still open when the parser stopped own their text */
	for (i = 0; i < ps.depth; i++)
		buf_release(&ps.stack[i].text);
	if (ps.p)
		XML_ParserFree(ps.p);
	xmldoc_free(doc);
	return rc;
}

const struct xmlnode *xmldoc_root(const struct xmldoc *doc)
{
	if (!doc || doc->n == 0)
		return NULL;
	return &doc->elems[0]->node;
}

void xmldoc_free(struct xmldoc *doc)
{
	size_t i;

	if (!doc)
		return;
	for (i = 0; i < doc->n; i++) {
		free(doc->elems[i]->text);
		free(doc->elems[i]);
	}
	free(doc->elems);
	free(doc);
}

static const struct xmlnode *child_named(const struct xmlnode *from,
					 const char *name, size_t len)
{
	const struct xmlnode *c;

	for (c = from->first_child; c; c = c->next)
		if (strlen(c->name) == len && !memcmp(c->name, name, len))
			return c;
	return NULL;
}

/* empty segments ("a//b", a leading or trailing '/') are skipped */
const struct xmlnode *xmldoc_find(const struct xmlnode *from, const char *path)
{
	const char *seg = path;

	if (!from || !path)
		return NULL;
	while (from && *seg) {
		const char *slash = strchr(seg, '/');
		size_t len = slash ? (size_t)(slash - seg) : strlen(seg);

		if (len > 0)
			from = child_named(from, seg, len);
		seg += len;
		if (*seg == '/')
			seg++;
	}
	return from;
}

const char *xmldoc_text(const struct xmlnode *from, const char *path)
{
	const struct xmlnode *n = xmldoc_find(from, path);

	return n ? n->text : NULL;
}

/* pre-order walk that never climbs above `from` */
const struct xmlnode *xmldoc_search(const struct xmlnode *from,
				    const char *name)
{
	const struct xmlnode *n;

	if (!from || !name)
		return NULL;
	n = from->first_child;
	while (n) {
		if (!strcmp(n->name, name))
			return n;
		if (n->first_child) {
			n = n->first_child;
			continue;
		}
		while (n != from && !n->next)
			n = n->parent;
		if (n == from)
			break;
		n = n->next;
	}
	return NULL;
}
