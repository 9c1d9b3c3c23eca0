/*
 * Unit tests for common/log: one line per event, in both formats,
 * whatever the message quotes: a newline or an escape sequence cannot
 * start a line of its own, and bytes that are not UTF-8 do not blank a
 * JSON line; every byte of the message is still there, escaped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "../helpers.h"
#include "buf.h"
#include "file.h"
#include "log.h"

/* what one log_msg() call wrote to stderr */
static void logged(const struct tmpdir *t, enum log_format f,
		   const char *message, struct buf *out)
{
	struct buf path = BUF_INIT;
	struct err e = ERR_INIT;
	int saved = dup(2);

	buf_printf(&path, "%s/stderr", t->path);
	assert_non_null(freopen(path.ptr, "w", stderr));
	log_set_format(f);
	log_msg(LOG_ERROR, "0123456789abcdef0123456789abcdef01234567",
		"Endpoint/x\ny", "signature: %s", message);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	buf_clear(out);
	assert_int_equal(file_read(out, path.ptr, 65536, &e), 0);
	buf_release(&path);
}

static void test_log__text_is_one_line(void **state)
{
	struct buf out = BUF_INIT;

	logged(*state, LOG_TEXT, "ok\nsagesync: forged line\x1b[2J", &out);
	assert_string_equal(out.ptr, "sagesync: error: signature: "
				     "ok\\x0asagesync: forged line\\x1b[2J "
				     "[Endpoint/x\\x0ay] (revision 0123456)\n");
	buf_release(&out);
}

static void test_log__json_keeps_invalid_utf8_escaped(void **state)
{
	struct buf out = BUF_INIT;
	json_t *o;

	logged(*state, LOG_JSON, "bytes \xff\xfe then \xc3\xa8 and \n", &out);
	assert_non_null(strchr(out.ptr, '\n'));
	assert_ptr_equal(strchr(out.ptr, '\n'), out.ptr + out.len - 1);
	o = json_loads(out.ptr, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "message")),
			    "signature: bytes \\xff\\xfe then \xc3\xa8 and "
			    "\\x0a");
	assert_string_equal(json_string_value(json_object_get(o, "resource")),
			    "Endpoint/x\\x0ay");
	json_decref(o);
	buf_release(&out);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)
	const struct CMUnitTest tests[] = {
		T(test_log__text_is_one_line),
		T(test_log__json_keeps_invalid_utf8_escaped),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
