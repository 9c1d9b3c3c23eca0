/*
 * Unit tests for manifests/ytree: the located YAML tree and its limits
 * against hostile input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "buf.h"
#include "ytree.h"

static const struct ytree_limits limits = YTREE_LIMITS_INIT;

static struct ytree *parse_ok(const char *text)
{
	struct diag_list d = DIAG_LIST_INIT;
	struct ytree *t = NULL;

	if (ytree_parse(&t, "t.yaml", text, strlen(text), &limits, &d) < 0) {
		diag_print(&d, stderr);
		fail_msg("unexpected parse failure");
	}
	assert_int_equal(d.n, 0);
	return t;
}

/* Parses text that must fail; returns the single diagnostic's message. */
static void parse_fail(const char *text, size_t len,
		       const struct ytree_limits *lim, int line, int col,
		       const char *words)
{
	struct diag_list d = DIAG_LIST_INIT;
	struct ytree *t = NULL;

	assert_int_equal(ytree_parse(&t, "t.yaml", text, len, lim, &d), -1);
	assert_null(t);
	assert_int_equal(d.n, 1);
	if (strstr(d.items[0].msg, words) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", d.items[0].msg, words);
	if (line)
		assert_int_equal(d.items[0].line, line);
	if (col)
		assert_int_equal(d.items[0].col, col);
	diag_release(&d);
}

static void test_ytree__nodes_carry_one_based_positions(void **state)
{
	struct ytree *t = parse_ok("# comment\nkind: Model\nspec:\n  "
				   "list:\n    - a\n    - 'b'\n");
	const struct ynode *doc, *spec, *list;

	(void)state;
	assert_int_equal(ytree_ndocs(t), 1);
	doc = ytree_doc(t, 0);
	assert_int_equal(doc->type, YNODE_MAP);
	assert_int_equal(doc->line, 2);
	assert_int_equal(doc->col, 1);
	assert_string_equal(ynode_get(doc, "kind")->value, "Model");
	assert_int_equal(ynode_get(doc, "kind")->col, 7);
	spec = ynode_get(doc, "spec");
	list = ynode_get(spec, "list");
	assert_int_equal(list->type, YNODE_SEQ);
	assert_int_equal(list->n, 2);
	assert_int_equal(list->items[1]->line, 6);
	assert_int_equal(list->items[1]->col, 7);
	assert_false(list->items[0]->quoted);
	assert_true(list->items[1]->quoted);
	assert_int_equal(ynode_key(spec, "list")->line, 4);
	assert_null(ynode_get(doc, "missing"));
	ytree_free(t);
}

static void test_ytree__empty_documents_are_dropped(void **state)
{
	struct ytree *t = parse_ok("---\n---\na: 1\n---\n# only a comment\n"
				   "---\n~\n---\nb: 2\n");

	(void)state;
	assert_int_equal(ytree_ndocs(t), 2);
	assert_string_equal(ynode_get(ytree_doc(t, 1), "b")->value, "2");
	assert_null(ytree_doc(t, 2));
	ytree_free(t);
	t = parse_ok("");
	assert_int_equal(ytree_ndocs(t), 0);
	ytree_free(t);
}

static void test_ytree__null_and_str_tag(void **state)
{
	struct ytree *t = parse_ok("a:\nb: ~\nc: null\nd: ''\ne: !!str 5\n");
	const struct ynode *doc = ytree_doc(t, 0);

	(void)state;
	assert_true(ynode_is_null(ynode_get(doc, "a")));
	assert_true(ynode_is_null(ynode_get(doc, "b")));
	assert_true(ynode_is_null(ynode_get(doc, "c")));
	/* a quoted empty string is a string, not null */
	assert_false(ynode_is_null(ynode_get(doc, "d")));
	assert_true(ynode_get(doc, "e")->quoted);
	ytree_free(t);
}

static void test_ytree__syntax_error_is_located(void **state)
{
	const char *text = "a: 1\nb: [1, 2\nc: 3\n";

	(void)state;
	parse_fail(text, strlen(text), &limits, 0, 0, "invalid YAML");
	text = "a: 1\n  b: 2\n";
	parse_fail(text, strlen(text), &limits, 2, 4, "invalid YAML");
}

static void test_ytree__aliases_are_refused(void **state)
{
	const char *text = "base: &b {x: 1}\nother: *b\n";

	(void)state;
	parse_fail(text, strlen(text), &limits, 2, 8,
		   "aliases are not allowed");
}

/* a key "name\0x" would be "name" to every C string comparison; a
 * value with a NUL parses, for the schema to refuse by its field's name */
static void test_ytree__nul_in_a_key_is_refused(void **state)
{
	static const struct ytree_limits lim = YTREE_LIMITS_INIT;
	const char *key = "name: a\n\"name\\0x\": b\n";
	const char *nested = "spec:\n  - {\"a\\0\": 1}\n";
	const char *value = "name: \"a\\0b\"\n";
	struct diag_list d = DIAG_LIST_INIT;
	struct ytree *t = NULL;

	(void)state;
	parse_fail(key, strlen(key), &limits, 2, 1, "NUL character");
	parse_fail(nested, strlen(nested), &limits, 2, 6, "NUL character");
	assert_int_equal(
		ytree_parse(&t, "t.yaml", value, strlen(value), &lim, &d), 0);
	ytree_free(t);
	diag_release(&d);
}

/* The classic exponential alias bomb must fail at once, in small memory. */
static void test_ytree__billion_laughs_fails_fast(void **state)
{
	struct buf b = BUF_INIT;
	clock_t start = clock();
	int i;

	(void)state;
	buf_puts(&b, "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
	for (i = 1; i < 10; i++)
		buf_printf(&b, "a%d: &a%d [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d]\n", i,
			   i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	parse_fail(b.ptr, b.len, &limits, 2, 0, "aliases are not allowed");
	assert_true((double)(clock() - start) / CLOCKS_PER_SEC < 1.0);
	buf_release(&b);
}

static void test_ytree__depth_is_bounded(void **state)
{
	struct ytree_limits lim = limits;
	struct buf b = BUF_INIT;
	int i;

	(void)state;
	for (i = 0; i < 100000; i++)
		buf_putc(&b, '[');
	parse_fail(b.ptr, b.len, &lim, 1, 33, "nested deeper than 32");
	buf_release(&b);
}

static void test_ytree__document_count_is_bounded(void **state)
{
	struct ytree_limits lim = limits;
	struct buf b = BUF_INIT;
	int i;

	(void)state;
	lim.max_docs = 5;
	for (i = 0; i < 6; i++)
		buf_puts(&b, "---\na: 1\n");
	parse_fail(b.ptr, b.len, &lim, 11, 1, "more than 5 YAML documents");
	buf_release(&b);
}

static void test_ytree__node_count_is_bounded(void **state)
{
	struct ytree_limits lim = limits;
	struct buf b = BUF_INIT;
	int i;

	(void)state;
	lim.max_nodes = 1000;
	buf_puts(&b, "[");
	for (i = 0; i < 2000; i++)
		buf_puts(&b, "1,");
	buf_puts(&b, "1]");
	parse_fail(b.ptr, b.len, &lim, 1, 0, "more than 1000 YAML nodes");
	buf_release(&b);
}

static void test_ytree__duplicate_key_names_first(void **state)
{
	const char *text = "a: 1\nb: 2\na: 3\n";

	(void)state;
	parse_fail(text, strlen(text), &limits, 3, 1,
		   "duplicate key 'a' in mapping; first given at line 1");
}

static void test_ytree__non_scalar_key_is_refused(void **state)
{
	const char *text = "? [a, b]\n: 1\n";

	(void)state;
	parse_fail(text, strlen(text), &limits, 1, 3,
		   "mapping keys must be plain strings");
}

static void test_ytree__invalid_utf8_is_refused(void **state)
{
	const char text[] = "a: \xff\xfe\n";

	(void)state;
	parse_fail(text, sizeof(text) - 1, &limits, 0, 0, "invalid YAML");
}

static void test_ytree__describe_names_the_found_value(void **state)
{
	struct ytree *t = parse_ok("a: [1]\nb: {c: 1}\nc: word\nd:\n");
	const struct ynode *doc = ytree_doc(t, 0);
	char tmp[64];

	(void)state;
	assert_string_equal(ynode_describe(ynode_get(doc, "a"), tmp, 64),
			    "a sequence");
	assert_string_equal(ynode_describe(ynode_get(doc, "b"), tmp, 64),
			    "a mapping");
	assert_string_equal(ynode_describe(ynode_get(doc, "c"), tmp, 64),
			    "\"word\"");
	assert_string_equal(ynode_describe(ynode_get(doc, "d"), tmp, 64),
			    "null");
	ytree_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ytree__nodes_carry_one_based_positions),
		cmocka_unit_test(test_ytree__empty_documents_are_dropped),
		cmocka_unit_test(test_ytree__null_and_str_tag),
		cmocka_unit_test(test_ytree__syntax_error_is_located),
		cmocka_unit_test(test_ytree__aliases_are_refused),
		cmocka_unit_test(test_ytree__nul_in_a_key_is_refused),
		cmocka_unit_test(test_ytree__billion_laughs_fails_fast),
		cmocka_unit_test(test_ytree__depth_is_bounded),
		cmocka_unit_test(test_ytree__document_count_is_bounded),
		cmocka_unit_test(test_ytree__node_count_is_bounded),
		cmocka_unit_test(test_ytree__duplicate_key_names_first),
		cmocka_unit_test(test_ytree__non_scalar_key_is_refused),
		cmocka_unit_test(test_ytree__invalid_utf8_is_refused),
		cmocka_unit_test(test_ytree__describe_names_the_found_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
