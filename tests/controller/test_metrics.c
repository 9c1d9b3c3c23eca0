/*
 * Unit tests for controller/metrics: the Prometheus text format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static void test_metrics__counters_with_labels(void **state)
{
	struct metrics *m;
	struct buf out = BUF_INIT;
	const char *ok[] = { "result", "success", NULL };
	const char *bad[] = { "result", "failed", NULL };

	(void)state;
	metrics_new(&m);
	metrics_declare(m, "sagesync_reconcile_total", METRICS_COUNTER,
			"Reconciles by result.");
	metrics_add(m, "sagesync_reconcile_total", ok, 1);
	metrics_add(m, "sagesync_reconcile_total", ok, 1);
	metrics_add(m, "sagesync_reconcile_total", bad, 1);
	assert_true(metrics_get(m, "sagesync_reconcile_total", ok) == 2);
	metrics_render(m, &out);
	assert_string_equal(out.ptr,
			    "# HELP sagesync_reconcile_total Reconciles by "
			    "result.\n"
			    "# TYPE sagesync_reconcile_total counter\n"
			    "sagesync_reconcile_total{result=\"success\"} 2\n"
			    "sagesync_reconcile_total{result=\"failed\"} 1\n");
	buf_release(&out);
	metrics_free(m);
}

static void test_metrics__label_values_are_escaped(void **state)
{
	struct metrics *m;
	struct buf out = BUF_INIT;
	const char *odd[] = { "revision", "a\"b\\c\nd", NULL };

	(void)state;
	metrics_new(&m);
	metrics_declare(m, "sagesync_info", METRICS_GAUGE, "Info.");
	metrics_set(m, "sagesync_info", odd, 1);
	metrics_set(m, "sagesync_info", odd, 1);
	metrics_render(m, &out);
	assert_non_null(strstr(out.ptr, "sagesync_info{revision=\"a\\\"b\\\\c"
					"\\nd\"} 1\n"));
	buf_release(&out);
	metrics_free(m);
}

static void test_metrics__histogram_buckets_are_cumulative(void **state)
{
	static const double bounds[] = { 0.1, 1, 10 };
	struct metrics *m;
	struct buf out = BUF_INIT;

	(void)state;
	metrics_new(&m);
	metrics_declare_histogram(m, "sagesync_reconcile_seconds",
				  "Reconcile durations.", bounds, 3);
	metrics_observe(m, "sagesync_reconcile_seconds", NULL, 0.05);
	metrics_observe(m, "sagesync_reconcile_seconds", NULL, 0.5);
	metrics_observe(m, "sagesync_reconcile_seconds", NULL, 1);
	metrics_observe(m, "sagesync_reconcile_seconds", NULL, 99);
	metrics_render(m, &out);
	assert_string_equal(out.ptr,
			    "# HELP sagesync_reconcile_seconds Reconcile "
			    "durations.\n"
			    "# TYPE sagesync_reconcile_seconds histogram\n"
			    "sagesync_reconcile_seconds_bucket{le=\"0.1\"} "
			    "1\n"
			    "sagesync_reconcile_seconds_bucket{le=\"1\"} 3\n"
			    "sagesync_reconcile_seconds_bucket{le=\"10\"} 3\n"
			    "sagesync_reconcile_seconds_bucket{le=\"+Inf\"} 4\n"
			    "sagesync_reconcile_seconds_sum 100.55\n"
			    "sagesync_reconcile_seconds_count 4\n");
	buf_release(&out);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics__counters_with_labels),
		cmocka_unit_test(test_metrics__label_values_are_escaped),
		cmocka_unit_test(
			test_metrics__histogram_buckets_are_cumulative),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
