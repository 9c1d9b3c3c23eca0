/*
 * Unit tests for common/err: setting, layered prefixes, truncation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"

static void test_err__set_returns_code_and_formats(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(err_set(&e, ERR_NOTFOUND, "cannot open '%s'",
				 "x.yaml"),
			 ERR_NOTFOUND);
	assert_int_equal(e.code, ERR_NOTFOUND);
	assert_string_equal(e.msg, "cannot open 'x.yaml'");
}

static void test_err__prefixes_read_outermost_first(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	err_set(&e, ERR_AWS, "ValidationException: bad config");
	err_prefix(&e, "UpdateEndpoint");
	err_prefix(&e, "reconcile Endpoint '%s'", "churn-prod");
	assert_string_equal(e.msg, "reconcile Endpoint 'churn-prod': "
				   "UpdateEndpoint: ValidationException: bad "
				   "config");
	assert_int_equal(e.code, ERR_AWS);
}

static void test_err__set_clears_previous_details(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	e.retryable = true;
	e.http_status = 503;
	strcpy(e.aws_code, "ThrottlingException");
	err_set(&e, ERR_IO, "disk full");
	assert_false(e.retryable);
	assert_int_equal(e.http_status, 0);
	assert_string_equal(e.aws_code, "");
}

static void test_err__long_chain_truncates_without_overflow(void **state)
{
	struct err e = ERR_INIT;
	char big[2000];
	int i;

	(void)state;
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	err_set(&e, ERR_GENERIC, "%s", big);
	assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
	for (i = 0; i < 100; i++)
		err_prefix(&e, "layer %d", i);
	assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
	/* the outermost context survives */
	assert_memory_equal(e.msg, "layer 99: layer 98: ", 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err__set_returns_code_and_formats),
		cmocka_unit_test(test_err__prefixes_read_outermost_first),
		cmocka_unit_test(test_err__set_clears_previous_details),
		cmocka_unit_test(
			test_err__long_chain_truncates_without_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
