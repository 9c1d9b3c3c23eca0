/*
 * Unit tests for manifests/diag: formatting and stable sorting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"

static void test_diag__sorts_by_file_line_column(void **state)
{
	struct diag_list l = DIAG_LIST_INIT;

	(void)state;
	diag_add(&l, "b.yaml", 1, 1, "b1");
	diag_add(&l, "a.yaml", 9, 2, "a9");
	diag_add(&l, "a.yaml", 2, 7, "a2-7");
	diag_add(&l, "a.yaml", 2, 3, "a2-3");
	diag_sort(&l);
	assert_string_equal(l.items[0].msg, "a2-3");
	assert_string_equal(l.items[1].msg, "a2-7");
	assert_string_equal(l.items[2].msg, "a9");
	assert_string_equal(l.items[3].msg, "b1");
	diag_release(&l);
}

static void test_diag__same_position_keeps_discovery_order(void **state)
{
	struct diag_list l = DIAG_LIST_INIT;
	char msg[16];
	int i;

	(void)state;
	for (i = 0; i < 50; i++)
		diag_add(&l, "x.yaml", 3, 4, "m%02d", i);
	diag_sort(&l);
	for (i = 0; i < 50; i++) {
		snprintf(msg, sizeof(msg), "m%02d", i);
		assert_string_equal(l.items[i].msg, msg);
	}
	diag_release(&l);
}

static void test_diag__prints_compiler_style_lines(void **state)
{
	struct diag_list l = DIAG_LIST_INIT;
	char out[256] = "";
	FILE *fp = fmemopen(out, sizeof(out), "w");

	(void)state;
	diag_add(&l, "deploy/prod.yaml", 12, 5, "spec.variants: %s", "bad");
	diag_add(&l, "deploy/huge.yaml", 0, 0, "too big");
	diag_print(&l, fp);
	fclose(fp);
	assert_string_equal(out,
			    "deploy/prod.yaml:12:5: error: spec.variants: bad\n"
			    "deploy/huge.yaml: error: too big\n");
	diag_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diag__sorts_by_file_line_column),
		cmocka_unit_test(
			test_diag__same_position_keeps_discovery_order),
		cmocka_unit_test(test_diag__prints_compiler_style_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
