/*
 * Unit tests for common/buf: growth, formatting, detach and reuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void test_buf__empty_buffer_reads_as_empty_string(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_buf__printf_grows_past_initial_capacity(void **state)
{
	struct buf b = BUF_INIT;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++)
		buf_printf(&b, "%04d,", i);
	assert_int_equal(b.len, 5000);
	assert_memory_equal(b.ptr, "0000,0001,", 10);
	assert_string_equal(b.ptr + 4995, "0999,");
	assert_true(b.cap > b.len);
	buf_release(&b);
}

static void test_buf__one_long_printf_is_not_truncated(void **state)
{
	struct buf b = BUF_INIT;
	char big[5000];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_puts(&b, "<");
	buf_printf(&b, "%s>", big);
	assert_int_equal(b.len, 5001);
	assert_int_equal(b.ptr[5000], '>');
	buf_release(&b);
}

static void test_buf__put_keeps_binary_bytes(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_put(&b, "a\0b", 3);
	buf_putc(&b, 'c');
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.ptr, "a\0bc", 5);
	buf_release(&b);
}

static void test_buf__detach_hands_over_and_empties(void **state)
{
	struct buf b = BUF_INIT;
	char *s;

	(void)state;
	buf_puts(&b, "hello");
	s = buf_detach(&b);
	assert_string_equal(s, "hello");
	assert_null(b.ptr);
	assert_int_equal(b.len, 0);
	buf_puts(&b, "again");
	assert_string_equal(b.ptr, "again");
	free(s);
	buf_release(&b);
}

static void test_buf__clear_keeps_memory(void **state)
{
	struct buf b = BUF_INIT;
	size_t cap;

	(void)state;
	buf_puts(&b, "some text");
	cap = b.cap;
	buf_clear(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.cap, cap);
	buf_release(&b);
}

static const char *shown(struct buf *b, const char *s, size_t n, bool ascii)
{
	buf_clear(b);
	buf_put_shown(b, s, n, ascii);
	return buf_cstr(b);
}

/* what anyone wrote, shown on one line: nothing dropped, nothing forged */
static void test_buf__put_shown(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_string_equal(shown(&b, "plain text", 10, false), "plain text");
	assert_string_equal(shown(&b, "a\nb\r\tc", 6, false),
			    "a\\x0ab\\x0d\\x09c");
	assert_string_equal(shown(&b, "\x1b[2J", 4, false), "\\x1b[2J");
	assert_string_equal(shown(&b, "back\\slash", 10, false),
			    "back\\x5cslash");
	assert_string_equal(shown(&b, "nul\0here", 8, false), "nul\\x00here");
	/* valid UTF-8 stays, invalid bytes are shown as bytes */
	assert_string_equal(shown(&b, "mod\xc3\xa8le", 7, false),
			    "mod\xc3\xa8le");
	assert_string_equal(shown(&b, "bad\xff\xc3", 5, false),
			    "bad\\xff\\xc3");
	assert_string_equal(shown(&b, "\xc0\xaf", 2, false),
			    "\\xc0\\xaf"); /* overlong '/' */
	assert_string_equal(shown(&b, "\xed\xa0\x80", 3, false),
			    "\\xed\\xa0\\x80"); /* a surrogate */
	/* C1 controls and bidirectional overrides are shown as bytes */
	assert_string_equal(shown(&b, "\xc2\x9b", 2, false), "\\xc2\\x9b");
	assert_string_equal(shown(&b,
				  "a\xe2\x80\xae"
				  "b",
				  5, false),
			    "a\\xe2\\x80\\xaeb");
	/* ascii: every other byte too */
	assert_string_equal(shown(&b, "mod\xc3\xa8le", 7, true),
			    "mod\\xc3\\xa8le");
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf__empty_buffer_reads_as_empty_string),
		cmocka_unit_test(test_buf__printf_grows_past_initial_capacity),
		cmocka_unit_test(test_buf__one_long_printf_is_not_truncated),
		cmocka_unit_test(test_buf__put_keeps_binary_bytes),
		cmocka_unit_test(test_buf__detach_hands_over_and_empties),
		cmocka_unit_test(test_buf__clear_keeps_memory),
		cmocka_unit_test(test_buf__put_shown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
