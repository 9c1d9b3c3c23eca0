/*
 * Unit tests for common/suggest: edit distance and "did you mean".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "suggest.h"

static const char *const fields[] = { "name",	       "model",	 "instanceType",
				      "instanceCount", "weight", "serverless",
				      "autoscaling" };

static void test_suggest__distance_counts_edits(void **state)
{
	(void)state;
	assert_int_equal(suggest_distance("kitten", "sitting", 10), 3);
	assert_int_equal(suggest_distance("", "abc", 10), 3);
	assert_int_equal(suggest_distance("same", "same", 10), 0);
	/* capped: far-apart words stop early */
	assert_int_equal(suggest_distance("a", "abcdefgh", 2), 3);
	assert_int_equal(suggest_distance("abcdefgh", "hgfedcba", 2), 3);
}

static void test_suggest__finds_near_miss(void **state)
{
	(void)state;
	assert_string_equal(suggest_closest("instanceTyp", fields, 7),
			    "instanceType");
	assert_string_equal(suggest_closest("instancCount", fields, 7),
			    "instanceCount");
	assert_string_equal(suggest_closest("wieght", fields, 7), "weight");
}

static void test_suggest__case_only_difference_wins(void **state)
{
	(void)state;
	assert_string_equal(suggest_closest("InstanceType", fields, 7),
			    "instanceType");
	assert_string_equal(suggest_closest("SERVERLESS", fields, 7),
			    "serverless");
}

static void test_suggest__nothing_close_gives_null(void **state)
{
	(void)state;
	assert_null(suggest_closest("replicas", fields, 7));
	/* short words need a closer match */
	assert_null(suggest_closest("nm", fields, 7));
	assert_null(suggest_closest("x", fields, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suggest__distance_counts_edits),
		cmocka_unit_test(test_suggest__finds_near_miss),
		cmocka_unit_test(test_suggest__case_only_difference_wins),
		cmocka_unit_test(test_suggest__nothing_close_gives_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
