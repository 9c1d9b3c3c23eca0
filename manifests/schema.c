/*
 * Table-driven decoder (see schema.h). One pass over each mapping: every
 * key is looked up in the shape's field table, decoded by type and
 * checked; then required fields and the shape's own rules are checked.
 */
#include "schema.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "suggest.h"

#define TMP 64

/* ---- errors ---------------------------------------------------------- */

static void vreport(struct schema_ctx *c, int line, int col, const char *fmt,
		    va_list ap) __attribute__((format(printf, 4, 0)));

static void vreport(struct schema_ctx *c, int line, int col, const char *fmt,
		    va_list ap)
{
	struct buf msg = BUF_INIT;

	c->errors++;
	if (c->errors == c->max_errors + 1)
		diag_add(c->diags, c->file, line, col,
			 "too many errors in this file; stopping after %zu",
			 c->max_errors);
	if (c->errors > c->max_errors)
		return;
	buf_vprintf(&msg, fmt, ap);
	diag_add(c->diags, c->file, line, col, "%s", msg.ptr);
	buf_release(&msg);
}

void schema_error(struct schema_ctx *c, const struct ynode *at, const char *fmt,
		  ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, at->line, at->col, fmt, ap);
	va_end(ap);
}

void schema_error_at(struct schema_ctx *c, int line, int col, const char *fmt,
		     ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, line, col, fmt, ap);
	va_end(ap);
}

bool schema_has(const struct ynode *map, const char *name)
{
	const struct ynode *n = ynode_get(map, name);

	return n && !ynode_is_null(n);
}

const struct ynode *schema_node(const struct ynode *map, const char *name)
{
	const struct ynode *n = ynode_get(map, name);

	return n ? n : map;
}

const struct ynode *schema_owner(const struct schema_ctx *c,
				 const struct ynode *map)
{
	return c->owner ? c->owner : map;
}

const struct ynode *schema_key(const struct schema_ctx *c,
			       const struct ynode *map, const char *name)
{
	const struct ynode *k = ynode_key(map, name);

	return k ? k : schema_owner(c, map);
}

/* ---- string rules ---------------------------------------------------- */

/*
 * Compiled patterns, shared by all threads: a rule's pattern is compiled
 * on first use and kept for the life of the process.
 */
struct compiled {
	const char *pattern;
	regex_t re;
};

static pthread_mutex_t re_lock = PTHREAD_MUTEX_INITIALIZER;
static struct compiled *re_cache;
static size_t re_n, re_cap;

static const regex_t *pattern_get(const char *pattern)
{
	const regex_t *re = NULL;
	struct buf anchored = BUF_INIT;
	size_t i;

	pthread_mutex_lock(&re_lock);
	for (i = 0; i < re_n; i++)
		if (re_cache[i].pattern == pattern) {
			re = &re_cache[i].re;
			goto out;
		}
	/* the cache only grows; its entries never move once handed out */
	if (re_n == re_cap) {
		if (re_cap) {
			/* a fixed-size table is enough for the rules we have */
			fprintf(stderr, "sagesync: fatal: too many patterns\n");
			abort();
		}
		re_cap = 64;
		re_cache = mem_calloc(re_cap, sizeof(*re_cache));
	}
	buf_printf(&anchored, "^(%s)$", pattern);
	if (regcomp(&re_cache[re_n].re, anchored.ptr,
		    REG_EXTENDED | REG_NOSUB)) {
		fprintf(stderr, "sagesync: fatal: bad pattern '%s'\n", pattern);
		abort();
	}
	re_cache[re_n].pattern = pattern;
	re = &re_cache[re_n++].re;
out:
	pthread_mutex_unlock(&re_lock);
	buf_release(&anchored);
	return re;
}

bool schema_rule_ok(const struct schema_rule *r, const char *s, struct buf *why)
{
	size_t len = strlen(s);

	if (len == 0 && r->min_len) {
		buf_puts(why, "is empty");
		return false;
	}
	if (r->values) {
		size_t i;

		for (i = 0; i < *r->n_values; i++)
			if (!strcmp(s, r->values[i]))
				return true;
		buf_printf(why, "is not %s", r->what);
		{
			const char *near =
				suggest_closest(s, r->values, *r->n_values);

			if (near)
				buf_printf(why, "; did you mean \"%s\"?", near);
		}
		return false;
	}
	if ((r->pattern && regexec(pattern_get(r->pattern), s, 0, NULL, 0)) ||
	    (r->check && !r->check(s))) {
		buf_printf(why, "is not %s", r->what);
		if (r->expect)
			buf_printf(why, " (%s)", r->expect);
		return false;
	}
	/* after the pattern: "is not an ARN" says more than "too short" */
	if (len < r->min_len) {
		buf_printf(why, "is %zu characters; the minimum is %zu", len,
			   r->min_len);
		return false;
	}
	if (r->max_len && len > r->max_len) {
		buf_printf(why, "is %zu characters; the limit is %zu", len,
			   r->max_len);
		return false;
	}
	return true;
}

bool schema_check_rule(struct schema_ctx *c, const struct schema_rule *r,
		       const char *s, const struct ynode *at, const char *path)
{
	struct buf why = BUF_INIT;
	char tmp[TMP];
	bool ok = schema_rule_ok(r, s, &why);

	if (!ok)
		schema_error(c, at, "%s: %s %s", path,
			     ynode_describe(at, tmp, sizeof(tmp)), why.ptr);
	buf_release(&why);
	return ok;
}

/* ---- scalars --------------------------------------------------------- */

static const char *type_word(enum schema_type t)
{
	switch (t) {
	case SCHEMA_INT:
		return "an integer";
	case SCHEMA_NUM:
		return "a number";
	case SCHEMA_BOOL:
		return "true or false";
	case SCHEMA_STR_LIST:
	case SCHEMA_REF_LIST:
		return "a list of strings";
	case SCHEMA_MAP:
		return "a mapping of strings to strings";
	case SCHEMA_STRUCT:
		return "a mapping";
	case SCHEMA_STRUCT_LIST:
		return "a list of mappings";
	default:
		return "a string";
	}
}

static bool wrong_type(struct schema_ctx *c, const struct ynode *n,
		       const char *path, const char *want)
{
	char tmp[TMP];
	const char *hint = "";

	/* "5" and 'true' are strings in YAML: say why they do not count */
	if (n->type == YNODE_SCALAR && n->quoted && strcmp(want, "a string") &&
	    n->len && strspn(n->value, "0123456789+-.eE") == n->len)
		hint = " (quoted, so a string; remove the quotes)";
	else if (n->type == YNODE_SCALAR && n->quoted &&
		 (!strcmp(n->value, "true") || !strcmp(n->value, "false")))
		hint = " (quoted, so a string; remove the quotes)";
	schema_error(c, n, "%s: expected %s, found %s%s", path, want,
		     ynode_describe(n, tmp, sizeof(tmp)), hint);
	return false;
}

/* A string scalar; numbers and booleans written plain are fine too. */
static bool get_string(struct schema_ctx *c, const struct ynode *n,
		       const char *path, char **out)
{
	if (n->type != YNODE_SCALAR)
		return wrong_type(c, n, path, "a string");
	if (strlen(n->value) != n->len) {
		schema_error(c, n, "%s: contains a NUL character", path);
		return false;
	}
	*out = mem_strndup(n->value, n->len);
	return true;
}

/* plain digits with an optional sign: no hex, octal, _ or exponents */
static bool is_decimal(const struct ynode *n)
{
	const char *p = n->value;

	if (n->type != YNODE_SCALAR || n->quoted || !n->len)
		return false;
	if (*p == '-' || *p == '+')
		p++;
	return *p && strspn(p, "0123456789") == strlen(p);
}

static bool parse_long(const struct ynode *n, long *out)
{
	char *end;

	if (!is_decimal(n))
		return false;
	errno = 0;
	*out = strtol(n->value, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool parse_double(const struct ynode *n, double *out)
{
	const char *p = n->value;
	char *end;

	if (n->type != YNODE_SCALAR || n->quoted || !n->len)
		return false;
	/* decimal notation only: strtod also takes hex, inf and nan */
	if (strspn(p, "0123456789+-.eE") != n->len)
		return false;
	errno = 0;
	*out = strtod(p, &end);
	return errno == 0 && *end == '\0' && isfinite(*out);
}

static bool in_range(struct schema_ctx *c, const struct schema_field *f,
		     const struct ynode *n, const char *path, double v)
{
	if (!(f->flags & SCHEMA_RANGE) || (v >= f->min && v <= f->max))
		return true;
	if (isinf(f->max))
		schema_error(c, n, "%s: expected %s of at least %g, found %s",
			     path, type_word(f->type), f->min, n->value);
	else
		schema_error(c, n, "%s: expected %s from %g to %g, found %s",
			     path, type_word(f->type), f->min, f->max,
			     n->value);
	return false;
}

static void decode_enum(struct schema_ctx *c, const struct schema_field *f,
			const struct ynode *n, const char *path, int *out)
{
	struct buf list = BUF_INIT;
	const char *near;
	char tmp[TMP];
	size_t i, count = 0;

	if (n->type == YNODE_SCALAR)
		for (i = 0; f->values[i]; i++)
			if (!strcmp(n->value, f->values[i])) {
				*out = (int)i + 1;
				return;
			}
	for (i = 0; f->values[i]; i++) {
		buf_printf(&list, "%s%s", i ? ", " : "", f->values[i]);
		count++;
	}
	near = n->type == YNODE_SCALAR ?
		       suggest_closest(n->value, f->values, count) :
		       NULL;
	if (near)
		schema_error(c, n,
			     "%s: expected one of %s; found %s; did you mean "
			     "\"%s\"?",
			     path, list.ptr,
			     ynode_describe(n, tmp, sizeof(tmp)), near);
	else
		schema_error(c, n, "%s: expected one of %s; found %s", path,
			     list.ptr, ynode_describe(n, tmp, sizeof(tmp)));
	buf_release(&list);
}

/* ---- fields ---------------------------------------------------------- */

static void sub_path(struct buf *b, const char *path, const char *name)
{
	buf_clear(b);
	if (*path)
		buf_printf(b, "%s.%s", path, name);
	else
		buf_puts(b, name);
}

static bool too_many(struct schema_ctx *c, const struct schema_field *f,
		     const struct ynode *n, const char *path)
{
	if (!f->max_items || n->n <= f->max_items)
		return false;
	schema_error(c, n, "%s: has %zu entries; the limit is %zu", path, n->n,
		     f->max_items);
	return true;
}

static void set_loc(struct schema_ctx *c, struct mf_loc *loc,
		    const struct ynode *n)
{
	loc->file = c->file;
	loc->line = n->line;
	loc->col = n->col;
}

/* A list or map field's node: the right kind, within its size limit. */
static bool container_ok(struct schema_ctx *c, const struct schema_field *f,
			 const struct ynode *n, const char *path,
			 enum ynode_type want)
{
	if (n->type != want)
		return wrong_type(c, n, path, type_word(f->type));
	return !too_many(c, f, n, path);
}

/* SCHEMA_STR_LIST and SCHEMA_REF_LIST: a sequence of strings. */
static void decode_strings(struct schema_ctx *c, const struct schema_field *f,
			   const struct ynode *n, const char *path, void *p)
{
	struct mf_str_list *strs = p;
	struct mf_ref_list *refs = p;
	bool is_ref = f->type == SCHEMA_REF_LIST;
	struct buf item = BUF_INIT;
	size_t i;

	if (!container_ok(c, f, n, path, YNODE_SEQ))
		return;
	if (is_ref)
		refs->items = mem_calloc(n->n, sizeof(*refs->items));
	else
		strs->items = mem_calloc(n->n, sizeof(*strs->items));
	for (i = 0; i < n->n; i++) {
		char *s = NULL;

		buf_clear(&item);
		buf_printf(&item, "%s[%zu]", path, i);
		if (!get_string(c, n->items[i], item.ptr, &s))
			continue;
		if (f->rule &&
		    !schema_check_rule(c, f->rule, s, n->items[i], item.ptr)) {
			free(s);
			continue;
		}
		if (is_ref) {
			refs->items[refs->n].name = s;
			set_loc(c, &refs->items[refs->n++].loc, n->items[i]);
		} else {
			strs->items[strs->n++] = s;
		}
	}
	buf_release(&item);
}

static void decode_map(struct schema_ctx *c, const struct schema_field *f,
		       const struct ynode *n, const char *path,
		       struct mf_kv_list *out)
{
	struct buf item = BUF_INIT;
	size_t i;

	if (!container_ok(c, f, n, path, YNODE_MAP))
		return;
	out->items = mem_calloc(n->n, sizeof(*out->items));
	for (i = 0; i < n->n; i++) {
		struct mf_kv *kv = &out->items[out->n];
		const struct ynode *k = n->keys[i], *v = n->items[i];

		sub_path(&item, path, k->value);
		if (f->key_rule &&
		    !schema_check_rule(c, f->key_rule, k->value, k, item.ptr))
			continue;
		if (ynode_is_null(v)) {
			/* `KEY:` alone: the empty string, as AWS has it */
			kv->value = mem_strdup("");
		} else if (!get_string(c, v, item.ptr, &kv->value)) {
			continue;
		} else if (f->rule && !schema_check_rule(c, f->rule, kv->value,
							 v, item.ptr)) {
			free(kv->value);
			continue;
		}
		kv->key = mem_strdup(k->value);
		out->n++;
	}
	buf_release(&item);
}

static void decode_struct_list(struct schema_ctx *c,
			       const struct schema_field *f,
			       const struct ynode *n, const char *path,
			       void *obj)
{
	struct buf item = BUF_INIT;
	char **arr = (char **)((char *)obj + f->off);
	size_t *count = (size_t *)((char *)obj + f->count_off);
	size_t i;

	if (!container_ok(c, f, n, path, YNODE_SEQ))
		return;
	*arr = mem_calloc(n->n, f->shape->size);
	*count = n->n;
	for (i = 0; i < n->n; i++) {
		buf_clear(&item);
		buf_printf(&item, "%s[%zu]", path, i);
		schema_decode(c, f->shape, n->items[i],
			      *arr + i * f->shape->size, item.ptr, NULL);
	}
	buf_release(&item);
}

static void decode_field(struct schema_ctx *c, const struct schema_field *f,
			 const struct ynode *key, const struct ynode *n,
			 const char *path, void *obj)
{
	void *p = (char *)obj + f->off;

	switch (f->type) {
	case SCHEMA_STR: {
		char *s = NULL;

		if (!get_string(c, n, path, &s))
			return;
		if (f->rule && !schema_check_rule(c, f->rule, s, n, path)) {
			free(s);
			return;
		}
		*(char **)p = s;
		return;
	}
	case SCHEMA_REF: {
		struct mf_ref *r = p;

		if (!get_string(c, n, path, &r->name))
			return;
		set_loc(c, &r->loc, n);
		return;
	}
	case SCHEMA_INT: {
		struct mf_int *v = p;

		if (!parse_long(n, &v->v)) {
			if (is_decimal(n) && (f->flags & SCHEMA_RANGE))
				in_range(c, f, n, path,
					 n->value[0] == '-' ? -INFINITY :
							      INFINITY);
			else
				wrong_type(c, n, path, "an integer");
			return;
		}
		v->set = in_range(c, f, n, path, (double)v->v);
		return;
	}
	case SCHEMA_NUM: {
		struct mf_num *v = p;

		if (!parse_double(n, &v->v)) {
			wrong_type(c, n, path, "a number");
			return;
		}
		v->set = in_range(c, f, n, path, v->v);
		return;
	}
	case SCHEMA_BOOL: {
		struct mf_bool *v = p;
		const char *s = n->value;

		if (n->type != YNODE_SCALAR || n->quoted ||
		    (strcmp(s, "true") && strcmp(s, "True") &&
		     strcmp(s, "TRUE") && strcmp(s, "false") &&
		     strcmp(s, "False") && strcmp(s, "FALSE"))) {
			wrong_type(c, n, path, "true or false");
			return;
		}
		v->v = s[0] == 't' || s[0] == 'T';
		v->set = true;
		return;
	}
	case SCHEMA_ENUM:
		decode_enum(c, f, n, path, p);
		return;
	case SCHEMA_STR_LIST:
	case SCHEMA_REF_LIST:
		decode_strings(c, f, n, path, p);
		return;
	case SCHEMA_MAP:
		decode_map(c, f, n, path, p);
		return;
	case SCHEMA_STRUCT: {
		void *sub;

		if (n->type != YNODE_MAP) {
			wrong_type(c, n, path, "a mapping");
			return;
		}
		sub = mem_calloc(1, f->shape->size);
		*(void **)p = sub;
		schema_decode(c, f->shape, n, sub, path, key);
		return;
	}
	case SCHEMA_STRUCT_LIST:
		decode_struct_list(c, f, n, path, obj);
		return;
	}
}

static bool field_empty(const struct schema_field *f, const void *obj)
{
	const void *p = (const char *)obj + f->off;

	switch (f->type) {
	case SCHEMA_STR:
	case SCHEMA_STRUCT:
		return !*(void *const *)p;
	case SCHEMA_REF:
		return !((const struct mf_ref *)p)->name;
	case SCHEMA_INT:
		return !((const struct mf_int *)p)->set;
	case SCHEMA_NUM:
		return !((const struct mf_num *)p)->set;
	case SCHEMA_BOOL:
		return !((const struct mf_bool *)p)->set;
	case SCHEMA_ENUM:
		return !*(const int *)p;
	case SCHEMA_STR_LIST:
		return !((const struct mf_str_list *)p)->n;
	case SCHEMA_REF_LIST:
		return !((const struct mf_ref_list *)p)->n;
	case SCHEMA_MAP:
		return !((const struct mf_kv_list *)p)->n;
	case SCHEMA_STRUCT_LIST:
		return !*(const size_t *)((const char *)obj + f->count_off);
	}
	return true;
}

static const struct schema_field *find_field(const struct schema_shape *sh,
					     const char *name)
{
	size_t i;

	for (i = 0; i < sh->n_fields; i++)
		if (!strcmp(sh->fields[i].name, name))
			return &sh->fields[i];
	return NULL;
}

static void unknown_field(struct schema_ctx *c, const struct schema_shape *sh,
			  const struct ynode *key, const char *path)
{
	const char **names = mem_alloc(sh->n_fields * sizeof(*names));
	struct buf list = BUF_INIT;
	const char *near;
	size_t i;

	for (i = 0; i < sh->n_fields; i++) {
		names[i] = sh->fields[i].name;
		buf_printf(&list, "%s%s", i ? ", " : "", names[i]);
	}
	near = suggest_closest(key->value, names, sh->n_fields);
	if (near)
		schema_error(c, key,
			     "%s: unknown field '%s'; did you mean '%s'?",
			     *path ? path : "document", key->value, near);
	else
		schema_error(c, key,
			     "%s: unknown field '%s'; expected one of: %s",
			     *path ? path : "document", key->value, list.ptr);
	buf_release(&list);
	free(names);
}

int schema_decode(struct schema_ctx *c, const struct schema_shape *sh,
		  const struct ynode *map, void *obj, const char *path,
		  const struct ynode *key)
{
	const struct ynode *outer = c->owner;
	struct buf fpath = BUF_INIT;
	size_t before = c->errors, i;

	if (map->type != YNODE_MAP) {
		wrong_type(c, map, *path ? path : "document", "a mapping");
		return -1;
	}
	if (sh->loc_off != SCHEMA_NO_LOC)
		set_loc(c, (struct mf_loc *)((char *)obj + sh->loc_off), map);
	for (i = 0; i < map->n; i++) {
		const struct ynode *k = map->keys[i], *v = map->items[i];
		const struct schema_field *f = find_field(sh, k->value);

		if (!f) {
			unknown_field(c, sh, k, path);
			continue;
		}
		/* an explicit null is the same as leaving the field out */
		if (ynode_is_null(v))
			continue;
		sub_path(&fpath, path, f->name);
		decode_field(c, f, k, v, fpath.ptr, obj);
	}
	/* set after the fields: decoding them sets it for nested mappings */
	c->owner = key;
	for (i = 0; i < sh->n_fields; i++) {
		const struct schema_field *f = &sh->fields[i];

		const struct ynode *v = ynode_get(map, f->name);

		if (!(f->flags & SCHEMA_REQUIRED) || !field_empty(f, obj))
			continue;
		if (!v || ynode_is_null(v))
			schema_error(c, schema_owner(c, map),
				     "%s: missing required field '%s'",
				     *path ? path : "document", f->name);
		else if (v->type != YNODE_SCALAR && v->n == 0)
			schema_error(c, v,
				     "%s%s%s: must have at least one entry",
				     path, *path ? "." : "", f->name);
		/* otherwise it failed to decode, and that was reported */
	}
	/* run even after errors, so that one run reports everything */
	if (sh->check)
		sh->check(c, obj, map, path);
	c->owner = outer;
	buf_release(&fpath);
	return c->errors == before ? 0 : -1;
}

/* ---- release --------------------------------------------------------- */

static void release_str_list(struct mf_str_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
}

static void release_kv_list(struct mf_kv_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
}

void schema_release(const struct schema_shape *sh, void *obj)
{
	size_t i, j;

	if (!obj)
		return;
	for (i = 0; i < sh->n_fields; i++) {
		const struct schema_field *f = &sh->fields[i];
		void *p = (char *)obj + f->off;

		switch (f->type) {
		case SCHEMA_STR:
			free(*(char **)p);
			break;
		case SCHEMA_REF:
			free(((struct mf_ref *)p)->name);
			break;
		case SCHEMA_REF_LIST: {
			struct mf_ref_list *l = p;

			for (j = 0; j < l->n; j++)
				free(l->items[j].name);
			free(l->items);
			break;
		}
		case SCHEMA_STR_LIST:
			release_str_list(p);
			break;
		case SCHEMA_MAP:
			release_kv_list(p);
			break;
		case SCHEMA_STRUCT:
			schema_release(f->shape, *(void **)p);
			free(*(void **)p);
			break;
		case SCHEMA_STRUCT_LIST: {
			char *arr = *(char **)p;
			size_t n = *(size_t *)((char *)obj + f->count_off);

			for (j = 0; j < n; j++)
				schema_release(f->shape,
					       arr + j * f->shape->size);
			free(arr);
			break;
		}
		default:
			break;
		}
	}
}
