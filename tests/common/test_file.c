/*
 * Unit tests for common/file: bounded whole-file reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../helpers.h"
#include "buf.h"
#include "err.h"
#include "file.h"

static int setup(void **state)
{
	static struct tmpdir t;

	tmpdir_make(&t);
	*state = &t;
	return 0;
}

static int teardown(void **state)
{
	tmpdir_remove(*state);
	return 0;
}

static void test_file__reads_whole_file(void **state)
{
	struct tmpdir *t = *state;
	struct buf b = BUF_INIT, path = BUF_INIT;
	struct err e = ERR_INIT;

	tmpdir_write(t, "a.yaml", "kind: Model\n");
	buf_printf(&path, "%s/a.yaml", t->path);
	assert_int_equal(file_read(&b, path.ptr, 100, &e), 0);
	assert_string_equal(b.ptr, "kind: Model\n");
	buf_release(&b);
	buf_release(&path);
}

static void test_file__refuses_file_over_limit(void **state)
{
	struct tmpdir *t = *state;
	struct buf b = BUF_INIT, path = BUF_INIT;
	struct err e = ERR_INIT;

	tmpdir_write(t, "big.yaml", "0123456789");
	buf_printf(&path, "%s/big.yaml", t->path);
	assert_int_equal(file_read(&b, path.ptr, 9, &e), ERR_LIMIT);
	assert_non_null(strstr(e.msg, "big.yaml"));
	assert_non_null(strstr(e.msg, "10 bytes"));
	assert_non_null(strstr(e.msg, "limit is 9"));
	assert_int_equal(b.len, 0);
	buf_release(&path);
}

static void test_file__missing_file_is_notfound(void **state)
{
	struct tmpdir *t = *state;
	struct buf b = BUF_INIT, path = BUF_INIT;
	struct err e = ERR_INIT;

	buf_printf(&path, "%s/nope.yaml", t->path);
	assert_int_equal(file_read(&b, path.ptr, 9, &e), ERR_NOTFOUND);
	assert_non_null(strstr(e.msg, "cannot open"));
	assert_non_null(strstr(e.msg, "nope.yaml"));
	buf_release(&path);
}

static void test_file__directory_is_io_error(void **state)
{
	struct tmpdir *t = *state;
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;

	assert_int_equal(file_read(&b, t->path, 100, &e), ERR_IO);
	assert_non_null(strstr(e.msg, "cannot read"));
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file__reads_whole_file),
		cmocka_unit_test(test_file__refuses_file_over_limit),
		cmocka_unit_test(test_file__missing_file_is_notfound),
		cmocka_unit_test(test_file__directory_is_io_error),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
