/*
 * Unit tests for common/file: bounded whole-file reads, normalising a
 * relative path, and private temporary directories.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

static void test_file__path_normalize(void **state)
{
	static const char *const ok[][2] = {
		{ "prod", "prod" },
		{ "./prod", "prod" },
		{ "prod/", "prod" },
		{ "prod//x", "prod/x" },
		{ "prod/./x/", "prod/x" },
		{ "a/b/../../c", "c" },
		{ "a/..", "" },
		{ ".", "" },
		{ "", "" },
		{ "...", "..." }, /* a name, not a parent */
		{ "..a/b..", "..a/b.." },
	};
	static const char *const refused[] = {
		"/etc", "//x", "..", "../x", "a/../..", "a/./../../b"
	};
	struct buf out = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(file_path_normalize(&out, ok[i][0]), 0);
		assert_string_equal(out.ptr, ok[i][1]);
	}
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(file_path_normalize(&out, refused[i]), -1);
		assert_string_equal(out.ptr, "");
	}
	buf_release(&out);
}

/* in the parent given, else in $TMPDIR; private to its owner; new */
static void test_file__temp_dir(void **state)
{
	struct tmpdir *t = *state;
	struct buf a = BUF_INIT, b = BUF_INIT, want = BUF_INIT;
	struct err e = ERR_INIT;
	struct stat st;
	char *old = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;

	assert_int_equal(file_temp_dir(&a, t->path, "export", &e), 0);
	buf_printf(&want, "%s/export-", t->path);
	assert_int_equal(strncmp(a.ptr, want.ptr, want.len), 0);
	assert_int_equal(stat(a.ptr, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	setenv("TMPDIR", t->path, 1);
	assert_int_equal(file_temp_dir(&b, NULL, "export", &e), 0);
	assert_int_equal(strncmp(b.ptr, want.ptr, want.len), 0);
	assert_string_not_equal(a.ptr, b.ptr);
	file_remove_tree(a.ptr);
	file_remove_tree(b.ptr);
	assert_int_equal(file_temp_dir(&a, "/nonexistent", "export", &e),
			 ERR_IO);
	assert_non_null(strstr(e.msg, "'/nonexistent'"));
	if (old)
		setenv("TMPDIR", old, 1);
	else
		unsetenv("TMPDIR");
	free(old);
	buf_release(&a);
	buf_release(&b);
	buf_release(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file__reads_whole_file),
		cmocka_unit_test(test_file__refuses_file_over_limit),
		cmocka_unit_test(test_file__missing_file_is_notfound),
		cmocka_unit_test(test_file__directory_is_io_error),
		cmocka_unit_test(test_file__path_normalize),
		cmocka_unit_test(test_file__temp_dir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
