/*
 * Unit tests for manifests/schema: decoding each field type, the errors
 * it reports, and the rules strings are checked against.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema.h"

enum color { COLOR_UNSET, COLOR_RED, COLOR_GREEN };

struct inner {
	struct mf_loc loc;
	char *id;
};

struct thing {
	char *name;
	struct mf_int count;
	struct mf_num ratio;
	struct mf_bool on;
	enum color color;
	struct mf_ref ref;
	struct mf_str_list words;
	struct mf_kv_list env;
	struct inner *one;
	struct inner *many;
	size_t n_many;
};

static const char *const colors[] = { "Red", "Green", NULL };

static const struct schema_rule id_rule = {
	.what = "a valid id",
	.expect = "lower-case letters",
	.min_len = 1,
	.max_len = 8,
	.pattern = "[a-z]+",
};

static const struct schema_field inner_fields[] = {
	{ .name = "id",
	  .type = SCHEMA_STR,
	  .off = offsetof(struct inner, id),
	  .flags = SCHEMA_REQUIRED,
	  .rule = &id_rule },
};
static const struct schema_shape inner_shape = {
	"inner", sizeof(struct inner),	      inner_fields,
	1,	 offsetof(struct inner, loc), NULL
};

static const struct schema_field thing_fields[] = {
	{ .name = "name",
	  .type = SCHEMA_STR,
	  .off = offsetof(struct thing, name),
	  .flags = SCHEMA_REQUIRED },
	{ .name = "count",
	  .type = SCHEMA_INT,
	  .off = offsetof(struct thing, count),
	  .flags = SCHEMA_RANGE,
	  .min = 1,
	  .max = 10 },
	{ .name = "ratio",
	  .type = SCHEMA_NUM,
	  .off = offsetof(struct thing, ratio),
	  .flags = SCHEMA_RANGE,
	  .min = 0,
	  .max = 1 },
	{ .name = "on", .type = SCHEMA_BOOL, .off = offsetof(struct thing, on) },
	{ .name = "color",
	  .type = SCHEMA_ENUM,
	  .off = offsetof(struct thing, color),
	  .values = colors },
	{ .name = "ref",
	  .type = SCHEMA_REF,
	  .off = offsetof(struct thing, ref) },
	{ .name = "words",
	  .type = SCHEMA_STR_LIST,
	  .off = offsetof(struct thing, words),
	  .max_items = 3,
	  .rule = &id_rule },
	{ .name = "env",
	  .type = SCHEMA_MAP,
	  .off = offsetof(struct thing, env),
	  .key_rule = &id_rule },
	{ .name = "one",
	  .type = SCHEMA_STRUCT,
	  .off = offsetof(struct thing, one),
	  .shape = &inner_shape },
	{ .name = "many",
	  .type = SCHEMA_STRUCT_LIST,
	  .off = offsetof(struct thing, many),
	  .count_off = offsetof(struct thing, n_many),
	  .shape = &inner_shape },
};
static const struct schema_shape thing_shape = {
	"thing", sizeof(struct thing), thing_fields, 10, SCHEMA_NO_LOC, NULL
};

struct run {
	struct diag_list diags;
	struct ytree *tree;
	struct thing thing;
	int rc;
};

static void decode(struct run *r, const char *text)
{
	static const struct ytree_limits lim = YTREE_LIMITS_INIT;
	struct schema_ctx c = { "t.yaml", &r->diags, 0, 100, NULL };

	memset(r, 0, sizeof(*r));
	assert_int_equal(ytree_parse(&r->tree, "t.yaml", text, strlen(text),
				     &lim, &r->diags),
			 0);
	r->rc = schema_decode(&c, &thing_shape, ytree_doc(r->tree, 0),
			      &r->thing, "spec", NULL);
}

static void done(struct run *r)
{
	schema_release(&thing_shape, &r->thing);
	ytree_free(r->tree);
	diag_release(&r->diags);
}

/* Asserts exactly one error, at line:col, containing `words`. */
static void one_error(const char *text, int line, int col, const char *words)
{
	struct run r;

	decode(&r, text);
	assert_int_equal(r.rc, -1);
	if (r.diags.n != 1) {
		diag_print(&r.diags, stderr);
		fail_msg("%zu errors for: %s", r.diags.n, text);
	}
	if (!strstr(r.diags.items[0].msg, words))
		fail_msg("\"%s\" lacks \"%s\"", r.diags.items[0].msg, words);
	assert_int_equal(r.diags.items[0].line, line);
	assert_int_equal(r.diags.items[0].col, col);
	done(&r);
}

static void test_schema__decodes_every_type(void **state)
{
	struct run r;

	(void)state;
	decode(&r, "name: x\ncount: 7\nratio: 0.25\non: true\ncolor: Green\n"
		   "ref: other\nwords: [ab, cd]\nenv: {path: '/bin', n: 3}\n"
		   "one: {id: abc}\nmany:\n  - id: a\n  - id: b\n");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.thing.name, "x");
	assert_true(r.thing.count.set);
	assert_int_equal(r.thing.count.v, 7);
	assert_true(r.thing.ratio.set);
	assert_true(r.thing.ratio.v == 0.25);
	assert_true(r.thing.on.set && r.thing.on.v);
	assert_int_equal(r.thing.color, COLOR_GREEN);
	assert_string_equal(r.thing.ref.name, "other");
	assert_int_equal(r.thing.ref.loc.line, 6);
	assert_int_equal(r.thing.ref.loc.col, 6);
	assert_string_equal(r.thing.ref.loc.file, "t.yaml");
	assert_int_equal(r.thing.words.n, 2);
	assert_string_equal(r.thing.words.items[1], "cd");
	assert_int_equal(r.thing.env.n, 2);
	assert_string_equal(r.thing.env.items[1].key, "n");
	assert_string_equal(r.thing.env.items[1].value, "3");
	assert_string_equal(r.thing.one->id, "abc");
	assert_int_equal(r.thing.n_many, 2);
	assert_string_equal(r.thing.many[1].id, "b");
	assert_int_equal(r.thing.many[1].loc.line, 12);
	assert_int_equal(r.thing.many[1].loc.col, 5);
	done(&r);
}

static void test_schema__absent_and_null_are_unset(void **state)
{
	struct run r;

	(void)state;
	decode(&r, "name: x\ncount: ~\nratio:\n");
	assert_int_equal(r.rc, 0);
	assert_false(r.thing.count.set);
	assert_false(r.thing.ratio.set);
	assert_false(r.thing.on.set);
	assert_int_equal(r.thing.color, COLOR_UNSET);
	assert_null(r.thing.one);
	done(&r);
}

static void test_schema__integers_are_plain_decimal(void **state)
{
	(void)state;
	one_error("name: x\ncount: '5'\n", 2, 8,
		  "spec.count: expected an integer, found \"5\"");
	one_error("name: x\ncount: 0x5\n", 2, 8, "expected an integer");
	one_error("name: x\ncount: 1_0\n", 2, 8, "expected an integer");
	one_error("name: x\ncount: 2.5\n", 2, 8, "expected an integer");
	one_error("name: x\ncount: 99999999999999999999999\n", 2, 8,
		  "expected an integer");
	one_error("name: x\ncount: [1]\n", 2, 8,
		  "expected an integer, found a sequence");
}

static void test_schema__ranges_are_enforced(void **state)
{
	(void)state;
	one_error("name: x\ncount: 11\n", 2, 8,
		  "spec.count: expected an integer from 1 to 10, found 11");
	one_error("name: x\ncount: 0\n", 2, 8, "from 1 to 10, found 0");
	one_error("name: x\nratio: 1.5\n", 2, 8,
		  "spec.ratio: expected a number from 0 to 1, found 1.5");
	one_error("name: x\nratio: .inf\n", 2, 8, "expected a number");
	one_error("name: x\nratio: nan\n", 2, 8, "expected a number");
}

static void test_schema__booleans_are_true_or_false(void **state)
{
	(void)state;
	one_error("name: x\non: yes\n", 2, 5,
		  "spec.on: expected true or false, found \"yes\"");
	one_error("name: x\non: 'true'\n", 2, 5, "expected true or false");
}

static void test_schema__enums_are_case_sensitive(void **state)
{
	(void)state;
	one_error("name: x\ncolor: red\n", 2, 8,
		  "spec.color: expected one of Red, Green; found \"red\"; did "
		  "you mean \"Red\"?");
	one_error("name: x\ncolor: Blue\n", 2, 8,
		  "expected one of Red, Green; found \"Blue\"");
}

static void test_schema__unknown_field_suggests(void **state)
{
	(void)state;
	one_error("name: x\ncuont: 1\n", 2, 1,
		  "spec: unknown field 'cuont'; did you mean 'count'?");
	one_error("name: x\nreplicas: 1\n", 2, 1,
		  "unknown field 'replicas'; expected one of: name, count, "
		  "ratio");
}

static void test_schema__missing_required_field(void **state)
{
	(void)state;
	one_error("count: 1\n", 1, 1, "spec: missing required field 'name'");
	/* a nested mapping's missing field points at its key */
	one_error("name: x\none: {}\n", 2, 1,
		  "spec.one: missing required field 'id'");
	one_error("name: x\nmany: [{id: a}, {}]\n", 2, 17,
		  "spec.many[1]: missing required field 'id'");
}

static void test_schema__string_rules_apply(void **state)
{
	(void)state;
	one_error("name: x\none: {id: ABC}\n", 2, 11,
		  "spec.one.id: \"ABC\" is not a valid id (lower-case "
		  "letters)");
	one_error("name: x\none: {id: abcdefghi}\n", 2, 11,
		  "is 9 characters; the limit is 8");
	one_error("name: x\nwords: [ab, Cd]\n", 2, 13,
		  "spec.words[1]: \"Cd\" is not a valid id");
	one_error("name: x\nenv: {BAD: 1}\n", 2, 7,
		  "spec.env.BAD: \"BAD\" is not a valid id");
}

static void test_schema__list_limits(void **state)
{
	(void)state;
	one_error("name: x\nwords: [a, b, c, d]\n", 2, 8,
		  "spec.words: has 4 entries; the limit is 3");
	one_error("name: x\nwords: a\n", 2, 8,
		  "spec.words: expected a list of strings, found \"a\"");
	one_error("name: x\nmany: {id: a}\n", 2, 7,
		  "spec.many: expected a list of mappings, found a mapping");
}

static void test_schema__nul_in_string_is_refused(void **state)
{
	(void)state;
	one_error("name: \"a\\0b\"\n", 1, 7, "spec.name: contains a NUL");
}

static void test_schema__all_errors_reported_in_one_pass(void **state)
{
	struct run r;

	(void)state;
	decode(&r, "count: x\nratio: y\non: z\ncolor: w\nbogus: 1\n");
	assert_int_equal(r.rc, -1);
	/* four bad values, one unknown field, one missing name */
	assert_int_equal(r.diags.n, 6);
	done(&r);
}

static void test_schema__error_cap_stops_the_flood(void **state)
{
	static const struct ytree_limits lim = YTREE_LIMITS_INIT;
	struct diag_list d = DIAG_LIST_INIT;
	struct schema_ctx c = { "t.yaml", &d, 0, 3, NULL };
	struct ytree *t = NULL;
	struct thing th = { 0 };
	const char *text = "a: 1\nb: 1\nc: 1\nd: 1\ne: 1\nf: 1\nname: x\n";

	(void)state;
	assert_int_equal(
		ytree_parse(&t, "t.yaml", text, strlen(text), &lim, &d), 0);
	assert_int_equal(schema_decode(&c, &thing_shape, ytree_doc(t, 0), &th,
				       "spec", NULL),
			 -1);
	assert_int_equal(d.n, 4);
	assert_non_null(strstr(d.items[3].msg, "too many errors"));
	schema_release(&thing_shape, &th);
	ytree_free(t);
	diag_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schema__decodes_every_type),
		cmocka_unit_test(test_schema__absent_and_null_are_unset),
		cmocka_unit_test(test_schema__integers_are_plain_decimal),
		cmocka_unit_test(test_schema__ranges_are_enforced),
		cmocka_unit_test(test_schema__booleans_are_true_or_false),
		cmocka_unit_test(test_schema__enums_are_case_sensitive),
		cmocka_unit_test(test_schema__unknown_field_suggests),
		cmocka_unit_test(test_schema__missing_required_field),
		cmocka_unit_test(test_schema__string_rules_apply),
		cmocka_unit_test(test_schema__list_limits),
		cmocka_unit_test(test_schema__nul_in_string_is_refused),
		cmocka_unit_test(test_schema__all_errors_reported_in_one_pass),
		cmocka_unit_test(test_schema__error_cap_stops_the_flood),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
