/*
 * Table-driven decoding of YAML nodes into typed structs.
 *
 * Each struct the manifests use is described once by a schema_shape: its
 * size and a table of fields (YAML name, type, offset, whether required,
 * bounds, the rule a string must follow). schema_decode() walks a mapping
 * node against that table, fills the struct, and reports every problem it
 * finds (unknown field with a "did you mean", wrong type, bad enum value,
 * missing required field, out-of-range number, string breaking an AWS
 * constraint) with the node's location and the field's path, e.g.
 *   spec.variants[1].instanceType: "ml.m5.larg" is not a SageMaker
 *   instance type; did you mean "ml.m5.large"?
 * Cross-field rules live in each shape's `check` callback.
 *
 * Ownership: decoded strings and arrays belong to the struct and are
 * freed by schema_release() with the same shape.
 */
#ifndef SAGESYNC_MANIFESTS_SCHEMA_H
#define SAGESYNC_MANIFESTS_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "diag.h"
#include "manifest.h"
#include "ytree.h"

enum schema_type {
	SCHEMA_STR, /* char * */
	SCHEMA_INT, /* struct mf_int */
	SCHEMA_NUM, /* struct mf_num */
	SCHEMA_BOOL, /* struct mf_bool */
	SCHEMA_ENUM, /* an enum whose 0 is UNSET: 1 + index into values */
	SCHEMA_REF, /* struct mf_ref */
	SCHEMA_REF_LIST, /* struct mf_ref_list */
	SCHEMA_STR_LIST, /* struct mf_str_list */
	SCHEMA_MAP, /* struct mf_kv_list: string keys to string values */
	SCHEMA_STRUCT, /* pointer to a struct of `shape` */
	SCHEMA_STRUCT_LIST, /* array of `shape` + size_t count at count_off */
};

/* A string constraint; every part that is set applies. */
struct schema_rule {
	const char *what; /* "a SageMaker model name", for messages */
	const char *expect; /* the expected form, spelt out */
	size_t min_len;
	size_t max_len; /* 0: no limit */
	const char *pattern; /* POSIX ERE, anchored at both ends */
	const char *const *values; /* a closed set, e.g. instance types */
	const size_t *n_values;
	bool (*check)(const char *s); /* for what a pattern cannot say */
};

#define SCHEMA_REQUIRED 0x1u
#define SCHEMA_RANGE 0x2u /* min and max apply */

struct schema_shape;

struct schema_field {
	const char *name;
	enum schema_type type;
	size_t off;
	unsigned flags;
	/* SCHEMA_STRUCT, SCHEMA_STRUCT_LIST */
	const struct schema_shape *shape;
	size_t count_off;
	/* SCHEMA_ENUM: NULL-terminated, in the order of the C enum */
	const char *const *values;
	/* strings, list items, map values */
	const struct schema_rule *rule;
	/* SCHEMA_MAP keys */
	const struct schema_rule *key_rule;
	/* numbers with SCHEMA_RANGE */
	double min;
	double max;
	/* lists and maps; 0: no limit */
	size_t max_items;
	/* the field the docs describe this as, when unusual */
	const char *hint;
};

struct schema_ctx {
	const char *file;
	struct diag_list *diags;
	size_t errors;
	size_t max_errors;
	/* what a "missing field" error of the current mapping points at */
	const struct ynode *owner;
};

typedef void (*schema_check_fn)(struct schema_ctx *c, void *obj,
				const struct ynode *map, const char *path);

struct schema_shape {
	const char *name;
	size_t size;
	const struct schema_field *fields;
	size_t n_fields;
	/* offset of a struct mf_loc to fill with the mapping's position */
	size_t loc_off;
	/* cross-field rules, run after the fields even if some failed */
	schema_check_fn check;
};

#define SCHEMA_NO_LOC ((size_t)-1)

/*
 * Decodes mapping `map` into `obj` (zeroed by the caller) by `sh`.
 * `path` names the mapping in messages ("spec", "spec.variants[0]").
 * `key` is the key naming the mapping (`spec:`), where errors about the
 * whole mapping point; NULL for the mapping itself (a list item, a
 * document). Returns -1 if it reported anything.
 */
int schema_decode(struct schema_ctx *c, const struct schema_shape *sh,
		  const struct ynode *map, void *obj, const char *path,
		  const struct ynode *key);
/* Frees what schema_decode() put into `obj`, not `obj` itself. */
void schema_release(const struct schema_shape *sh, void *obj);

/* Reports a problem at `at` (a node); counts toward max_errors. */
void schema_error(struct schema_ctx *c, const struct ynode *at, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));
void schema_error_at(struct schema_ctx *c, int line, int col, const char *fmt,
		     ...) __attribute__((format(printf, 4, 5)));

/*
 * Checks `s` against `r`; on failure writes why ("is 70 characters; the
 * limit is 55") into `why` and returns false.
 */
bool schema_rule_ok(const struct schema_rule *r, const char *s,
		    struct buf *why);
/* Reports `s` at `at` if it breaks `r`; `path` names the field. */
bool schema_check_rule(struct schema_ctx *c, const struct schema_rule *r,
		       const char *s, const struct ynode *at, const char *path);

/*
 * Whether `map` gives `name` a non-null value. Cross-field checks use it
 * rather than the decoded struct, so that a field that failed to decode
 * (and was reported) does not also count as missing.
 */
bool schema_has(const struct ynode *map, const char *name);
/* The value of `name` in `map` (or the map itself), for locating errors. */
const struct ynode *schema_node(const struct ynode *map, const char *name);
/*
 * The key `name` in `map` (or the owner of the mapping), for errors about
 * a field being there at all ("applies to Rolling only").
 */
const struct ynode *schema_key(const struct schema_ctx *c,
			       const struct ynode *map, const char *name);
/* Where errors about the mapping being decoded point (see `key` above). */
const struct ynode *schema_owner(const struct schema_ctx *c,
				 const struct ynode *map);

#endif
