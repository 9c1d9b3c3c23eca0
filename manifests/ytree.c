/*
 * YAML to located node tree, with limits (see ytree.h).
 *
 * Built from libyaml's event stream rather than its document loader: the
 * loader expands aliases and has no depth or size bound, and the events
 * let us stop at the first broken limit. Nodes and strings live in an
 * arena freed in one go, which keeps loading 10,000 manifests cheap.
 */
#include "ytree.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "mem.h"

#define ARENA_BLOCK 65536

struct arena_block {
	struct arena_block *next;
	size_t used;
	size_t cap;
	max_align_t data[];
};

struct ytree {
	struct arena_block *blocks;
	struct ynode **docs;
	size_t n_docs;
	size_t cap_docs;
};

/* an open sequence or mapping while its children are being read */
struct frame {
	struct ynode *node;
	struct ynode **kids;
	size_t n;
	size_t cap;
};

static void *arena_alloc(struct ytree *t, size_t size)
{
	struct arena_block *b = t->blocks;
	size_t align = sizeof(max_align_t);
	void *p;

	size = (size + align - 1) / align * align;
	if (!b || b->cap - b->used < size) {
		size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;

		b = mem_alloc(sizeof(*b) + cap);
		b->next = t->blocks;
		b->used = 0;
		b->cap = cap;
		t->blocks = b;
	}
	p = (char *)b->data + b->used;
	b->used += size;
	return p;
}

static struct ynode *node_new(struct ytree *t, enum ynode_type type,
			      const yaml_mark_t *mark)
{
	struct ynode *n = arena_alloc(t, sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->type = type;
	n->line = (int)mark->line + 1;
	n->col = (int)mark->column + 1;
	return n;
}

static int cmp_keys(const void *a, const void *b)
{
	const struct ynode *x = *(struct ynode *const *)a;
	const struct ynode *y = *(struct ynode *const *)b;
	int c;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	c = memcmp(x->value, y->value, x->len);
	if (c)
		return c;
	/* equal keys: order by position so the first one stays first */
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : (x->col > y->col);
}

/* Reports the first repeated key of a mapping; returns -1 if any. */
static int check_duplicates(struct ynode *map, const char *file,
			    struct diag_list *diags)
{
	struct ynode **sorted;
	const struct ynode *dup = NULL, *first = NULL;
	size_t i;

	if (map->n < 2)
		return 0;
	sorted = mem_alloc(map->n * sizeof(*sorted));
	memcpy(sorted, map->keys, map->n * sizeof(*sorted));
	qsort(sorted, map->n, sizeof(*sorted), cmp_keys);
	for (i = 1; i < map->n; i++) {
		const struct ynode *a = sorted[i - 1], *b = sorted[i];

		if (a->len == b->len && !memcmp(a->value, b->value, a->len) &&
		    (!dup || b->line < dup->line ||
		     (b->line == dup->line && b->col < dup->col))) {
			dup = b;
			first = a;
		}
	}
	free(sorted);
	if (!dup)
		return 0;
	diag_add(diags, file, dup->line, dup->col,
		 "duplicate key '%s' in mapping; first given at line %d",
		 dup->value, first->line);
	return -1;
}

static int close_frame(struct ytree *t, struct frame *f, const char *file,
		       struct diag_list *diags)
{
	struct ynode *n = f->node;
	size_t i;

	if (n->type == YNODE_SEQ) {
		n->n = f->n;
		n->items = arena_alloc(t, f->n * sizeof(*n->items) + 1);
		if (f->n)
			memcpy(n->items, f->kids, f->n * sizeof(*n->items));
		return 0;
	}
	n->n = f->n / 2;
	n->keys = arena_alloc(t, n->n * sizeof(*n->keys) + 1);
	n->items = arena_alloc(t, n->n * sizeof(*n->items) + 1);
	for (i = 0; i < n->n; i++) {
		struct ynode *k = f->kids[2 * i];

		if (k->type != YNODE_SCALAR) {
			diag_add(diags, file, k->line, k->col,
				 "mapping keys must be plain strings, found %s",
				 k->type == YNODE_SEQ ? "a sequence" :
							"a mapping");
			return -1;
		}
		n->keys[i] = k;
		n->items[i] = f->kids[2 * i + 1];
	}
	return check_duplicates(n, file, diags);
}

static void frame_push(struct frame *f, struct ynode *kid)
{
	f->kids = mem_grow(f->kids, &f->cap, f->n + 1, sizeof(*f->kids));
	f->kids[f->n++] = kid;
}

static void add_doc(struct ytree *t, struct ynode *root)
{
	if (!root || ynode_is_null(root))
		return;
	t->docs = mem_grow(t->docs, &t->cap_docs, t->n_docs + 1,
			   sizeof(*t->docs));
	t->docs[t->n_docs++] = root;
}

/* Whether line `line` (0-based) of `data` is indented with a tab. */
static bool tab_indented(const char *data, size_t len, size_t line)
{
	size_t i = 0;

	while (line && i < len)
		if (data[i++] == '\n')
			line--;
	for (; i < len && (data[i] == ' ' || data[i] == '\t'); i++)
		if (data[i] == '\t')
			return true;
	return false;
}

static void syntax_error(const yaml_parser_t *p, const char *file,
			 const char *data, size_t len, struct diag_list *diags)
{
	const char *problem = p->problem ? p->problem : "unknown error";

	/* libyaml's words for a tab are cryptic; say what is wrong */
	if (tab_indented(data, len, p->problem_mark.line)) {
		diag_add(diags, file, (int)p->problem_mark.line + 1,
			 (int)p->problem_mark.column + 1,
			 "invalid YAML: tab characters are not allowed for "
			 "indentation; indent with spaces");
		return;
	}

	if (p->context)
		diag_add(diags, file, (int)p->problem_mark.line + 1,
			 (int)p->problem_mark.column + 1,
			 "invalid YAML: %s %s (started at line %d)", problem,
			 p->context, (int)p->context_mark.line + 1);
	else
		diag_add(diags, file, (int)p->problem_mark.line + 1,
			 (int)p->problem_mark.column + 1, "invalid YAML: %s",
			 problem);
}

int ytree_parse(struct ytree **out, const char *file, const char *data,
		size_t len, const struct ytree_limits *lim,
		struct diag_list *diags)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct ytree *t = mem_calloc(1, sizeof(*t));
	struct frame *stack = NULL;
	size_t depth = 0, cap = 0, nodes = 0, docs_seen = 0, i;
	struct ynode *root = NULL;
	int rc = -1, done = 0;

	*out = NULL;
	if (!yaml_parser_initialize(&parser)) {
		fprintf(stderr, "sagesync: fatal: out of memory in YAML\n");
		abort();
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	while (!done) {
		struct ynode *n = NULL;
		const yaml_mark_t *m;

		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(&parser, file, data, len, diags);
			goto out;
		}
		m = &ev.start_mark;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs_seen > lim->max_docs) {
				diag_add(diags, file, (int)m->line + 1,
					 (int)m->column + 1,
					 "more than %zu YAML documents in one "
					 "file; split it into several files",
					 lim->max_docs);
				goto fail_event;
			}
			root = NULL;
			break;
		case YAML_DOCUMENT_END_EVENT:
			add_doc(t, root);
			root = NULL;
			break;
		case YAML_ALIAS_EVENT:
			diag_add(diags, file, (int)m->line + 1,
				 (int)m->column + 1,
				 "YAML aliases are not allowed in manifests "
				 "(found '*%s'); write the value out in full",
				 (const char *)ev.data.alias.anchor);
			goto fail_event;
		case YAML_SCALAR_EVENT:
			/* a key "a\0b" would compare as "a" everywhere a C
			 * string is: a second key "name" past the duplicate
			 * and unknown-field checks (a value with a NUL is the
			 * schema's to refuse, naming its field) */
			if (depth && stack[depth - 1].node->type == YNODE_MAP &&
			    stack[depth - 1].n % 2 == 0 &&
			    memchr(ev.data.scalar.value, '\0',
				   ev.data.scalar.length)) {
				diag_add(diags, file, (int)m->line + 1,
					 (int)m->column + 1,
					 "a YAML key holds a NUL character "
					 "(\\0); no key of a manifest may");
				goto fail_event;
			}
			n = node_new(t, YNODE_SCALAR, m);
			n->len = ev.data.scalar.length;
			n->value = arena_alloc(t, n->len + 1);
			if (n->len)
				memcpy((char *)n->value, ev.data.scalar.value,
				       n->len);
			((char *)n->value)[n->len] = '\0';
			n->quoted = ev.data.scalar.style !=
					    YAML_PLAIN_SCALAR_STYLE ||
				    (ev.data.scalar.tag &&
				     !strcmp((const char *)ev.data.scalar.tag,
					     YAML_STR_TAG));
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth >= lim->max_depth) {
				diag_add(diags, file, (int)m->line + 1,
					 (int)m->column + 1,
					 "YAML nested deeper than %zu levels",
					 lim->max_depth);
				goto fail_event;
			}
			n = node_new(t,
				     ev.type == YAML_SEQUENCE_START_EVENT ?
					     YNODE_SEQ :
					     YNODE_MAP,
				     m);
			stack = mem_grow(stack, &cap, depth + 1,
					 sizeof(*stack));
			memset(&stack[depth], 0, sizeof(stack[depth]));
			stack[depth++].node = n;
			n = NULL; /* attached when it closes */
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			if (close_frame(t, &stack[depth], file, diags) < 0) {
				depth++;
				goto fail_event;
			}
			n = stack[depth].node;
			free(stack[depth].kids);
			break;
		default:
			break;
		}
		if (n) {
			if (++nodes > lim->max_nodes) {
				diag_add(diags, file, n->line, n->col,
					 "more than %zu YAML nodes in one file",
					 lim->max_nodes);
				goto fail_event;
			}
			if (depth)
				frame_push(&stack[depth - 1], n);
			else
				root = n;
		}
		yaml_event_delete(&ev);
	}
	rc = 0;
	*out = t;
	t = NULL;
	goto out;
fail_event:
	yaml_event_delete(&ev);
out:
	for (i = 0; i < depth; i++)
		free(stack[i].kids);
	free(stack);
	yaml_parser_delete(&parser);
	ytree_free(t);
	return rc;
}

size_t ytree_ndocs(const struct ytree *t)
{
	return t->n_docs;
}

const struct ynode *ytree_doc(const struct ytree *t, size_t i)
{
	return i < t->n_docs ? t->docs[i] : NULL;
}

void ytree_free(struct ytree *t)
{
	struct arena_block *b, *next;

	if (!t)
		return;
	for (b = t->blocks; b; b = next) {
		next = b->next;
		free(b);
	}
	free(t->docs);
	free(t);
}

static const struct ynode *lookup(const struct ynode *map, const char *name,
				  bool want_key)
{
	size_t i;

	if (!map || map->type != YNODE_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (!strcmp(map->keys[i]->value, name))
			return want_key ? map->keys[i] : map->items[i];
	return NULL;
}

const struct ynode *ynode_key(const struct ynode *map, const char *name)
{
	return lookup(map, name, true);
}

const struct ynode *ynode_get(const struct ynode *map, const char *name)
{
	return lookup(map, name, false);
}

bool ynode_is_null(const struct ynode *n)
{
	if (n->type != YNODE_SCALAR || n->quoted)
		return false;
	return n->len == 0 || !strcmp(n->value, "~") ||
	       !strcmp(n->value, "null") || !strcmp(n->value, "Null") ||
	       !strcmp(n->value, "NULL");
}

const char *ynode_describe(const struct ynode *n, char *tmp, size_t tmplen)
{
	if (n->type == YNODE_SEQ)
		return "a sequence";
	if (n->type == YNODE_MAP)
		return "a mapping";
	if (ynode_is_null(n))
		return "null";
	if (n->len > 40)
		snprintf(tmp, tmplen, "\"%.37s...\"", n->value);
	else
		snprintf(tmp, tmplen, "\"%s\"", n->value);
	return tmp;
}
