/*
 * A small read-only XML tree, built with expat, for the query-protocol
 * answers of STS and SNS (and the XML errors of every AWS service).
 * Namespaces are dropped: elements are found by local name. Text is the
 * concatenated character data of an element, whitespace kept.
 *
 * Limits against hostile answers: depth, element count and total size are
 * bounded; DOCTYPE (and with it entity expansion) is refused.
 *
 * Ownership: the document owns every element and string; element
 * pointers are borrowed from it and die with xmldoc_free().
 */
#ifndef SAGESYNC_RECONCILERS_XMLDOC_H
#define SAGESYNC_RECONCILERS_XMLDOC_H

#include <stddef.h>

#include "err.h"

struct xmldoc;

struct xmlnode {
	const char *name; /* local name, without prefix */
	const char *text; /* character data directly inside, "" if none */
	struct xmlnode *parent;
	struct xmlnode *first_child;
	struct xmlnode *next;
};

int xmldoc_parse(struct xmldoc **out, const char *data, size_t len,
		 struct err *e);
const struct xmlnode *xmldoc_root(const struct xmldoc *doc);
void xmldoc_free(struct xmldoc *doc);

/*
 * The first element along `path` below `from`: element names separated by
 * '/', each matched among the children of the previous one, e.g.
 * "GetCallerIdentityResult/Account". NULL when absent.
 */
const struct xmlnode *xmldoc_find(const struct xmlnode *from, const char *path);
/* Text of xmldoc_find(from, path), or NULL. */
const char *xmldoc_text(const struct xmlnode *from, const char *path);
/* The first element named `name` anywhere below `from` (depth first). */
const struct xmlnode *xmldoc_search(const struct xmlnode *from,
				    const char *name);

#endif
