/*
 * YAML documents as a small tree of located nodes, built with libyaml.
 *
 * This is the only module that sees libyaml: everything above it works on
 * `struct ynode`. Parsing is bounded against hostile input: documents per
 * file, nesting depth and node count are limited, and YAML aliases are
 * refused (an alias can multiply a small file into a huge tree, the
 * "billion laughs" attack), so memory stays proportional to the file.
 * Mapping keys must be scalars and unique within their mapping.
 *
 * Ownership: a ytree owns all its nodes and strings; a node pointer is
 * borrowed from its tree and dies with ytree_free().
 */
#ifndef SAGESYNC_MANIFESTS_YTREE_H
#define SAGESYNC_MANIFESTS_YTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

enum ynode_type {
	YNODE_SCALAR,
	YNODE_SEQ,
	YNODE_MAP,
};

struct ynode {
	enum ynode_type type;
	int line; /* 1-based */
	int col; /* 1-based */
	/* scalar: the text, NUL-terminated, `len` bytes */
	const char *value;
	size_t len;
	/* scalar written quoted, as a block, or tagged !!str: never a number */
	bool quoted;
	/* sequence: `n` items; mapping: `n` pairs, keys[i] -> items[i] */
	struct ynode **items;
	struct ynode **keys;
	size_t n;
};

struct ytree_limits {
	size_t max_docs; /* documents per file */
	size_t max_depth; /* nesting of sequences and mappings */
	size_t max_nodes; /* nodes per file */
};

#define YTREE_LIMITS_INIT        \
	{                        \
		1000, 32, 200000 \
	}

struct ytree;

/*
 * Parses `len` bytes of `data`, naming `file` in diagnostics. On a syntax
 * error or a broken limit, adds one diagnostic and returns -1 with *out
 * NULL: a file is parsed whole or not at all. Empty documents are dropped.
 */
int ytree_parse(struct ytree **out, const char *file, const char *data,
		size_t len, const struct ytree_limits *lim,
		struct diag_list *diags);
size_t ytree_ndocs(const struct ytree *t);
const struct ynode *ytree_doc(const struct ytree *t, size_t i);
void ytree_free(struct ytree *t);

/* The value of key `name` in mapping `map`, or NULL. */
const struct ynode *ynode_get(const struct ynode *map, const char *name);
/* The key node of `name` in `map`, or NULL (for locating errors). */
const struct ynode *ynode_key(const struct ynode *map, const char *name);
/* A plain scalar spelling null: "", "~", "null", "Null", "NULL". */
bool ynode_is_null(const struct ynode *n);
/* "a mapping", "a sequence", "null", or the scalar quoted, for messages. */
const char *ynode_describe(const struct ynode *n, char *tmp, size_t tmplen);

#endif
