/*
 * Unit tests for controller/records: a record written with the key reads
 * back authentic, and any change to it, any line after its mac, another
 * key or no key at all makes it not; parsing keeps every field and is
 * linear in the note's size; the union of two notes loses no record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "records.h"

static const struct records_key key = { "0123456789abcdef0123456789abcdef",
					32 };
static const struct records_key other = { "fedcba9876543210fedcba9876543210",
					  32 };

static void sample(struct record *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->result, sizeof(r->result), "succeeded");
	snprintf(r->revision, sizeof(r->revision), "%040d", 1);
	snprintf(r->last_good, sizeof(r->last_good), "%040d", 2);
	snprintf(r->started, sizeof(r->started), "2026-12-05T10:00:00.000Z");
	snprintf(r->finished, sizeof(r->finished), "2026-12-05T10:01:00.000Z");
	r->controller = "prod@host";
	r->reason = "";
	r->changes = "update Endpoint/churn-prod: a -> b\ncreate Model/m";
}

/* the records of `text` read with `k`: how many, and whether each of
 * them is authentic (all, or none) */
static bool all_authentic(const char *text, const struct records_key *k,
			  size_t want)
{
	struct record *r;
	size_t n, i;
	bool all = true;

	records_parse(text, k, &r, &n);
	assert_int_equal(n, want);
	for (i = 0; i < n; i++)
		all = all && r[i].authentic;
	records_free(r, n);
	return all;
}

static void test_records__written_with_the_key_reads_authentic(void **state)
{
	struct buf text = BUF_INIT;
	struct record r, *back;
	size_t n;

	(void)state;
	sample(&r);
	record_format(&text, &r, &key);
	assert_non_null(strstr(text.ptr, "\nmac: hmac-sha256:"));
	records_parse(text.ptr, &key, &back, &n);
	assert_int_equal(n, 1);
	assert_true(back[0].authentic);
	assert_string_equal(back[0].result, "succeeded");
	assert_string_equal(back[0].revision, r.revision);
	assert_string_equal(back[0].last_good, r.last_good);
	assert_string_equal(back[0].controller, "prod@host");
	assert_string_equal(back[0].changes, r.changes);
	records_free(back, n);
	/* two records in one note, each with its own mac */
	record_format(&text, &r, &key);
	assert_true(all_authentic(text.ptr, &key, 2));
	buf_release(&text);
}

static void test_records__anything_else_is_not_authentic(void **state)
{
	struct buf text = BUF_INIT, changed = BUF_INIT;
	struct record r;
	char *at;

	(void)state;
	sample(&r);
	record_format(&text, &r, &key);
	/* another key, no key */
	assert_false(all_authentic(text.ptr, &other, 1));
	assert_false(all_authentic(text.ptr, NULL, 1));
	/* a value changed */
	buf_puts(&changed, text.ptr);
	at = strstr(changed.ptr, "succeeded");
	memcpy(at, "failed\n  ", 9);
	assert_false(all_authentic(changed.ptr, &key, 1));
	/* a line after the mac */
	buf_clear(&changed);
	buf_printf(&changed, "%schange: delete Endpoint/churn-prod\n",
		   text.ptr);
	assert_false(all_authentic(changed.ptr, &key, 1));
	/* a line slipped in before the mac */
	buf_clear(&changed);
	at = strstr(text.ptr, "mac: ");
	buf_put(&changed, text.ptr, (size_t)(at - text.ptr));
	buf_puts(&changed, "reason: forged\n");
	buf_puts(&changed, at);
	assert_false(all_authentic(changed.ptr, &key, 1));
	/* no mac at all, as before keys */
	sample(&r);
	buf_clear(&text);
	record_format(&text, &r, NULL);
	assert_null(strstr(text.ptr, "mac:"));
	assert_false(all_authentic(text.ptr, &key, 1));
	/* a forged record appended to a note keeps the real one authentic
	 * and is not authentic itself */
	buf_clear(&text);
	record_format(&text, &r, &key);
	buf_puts(&text,
		 "\nsagesync: succeeded\nrevision: "
		 "1111111111111111111111111111111111111111\n"
		 "mac: hmac-sha256:"
		 "0000000000000000000000000000000000000000000000000000000000"
		 "000000\n");
	{
		struct record *back;
		size_t n;

		records_parse(text.ptr, &key, &back, &n);
		assert_int_equal(n, 2);
		assert_true(back[0].authentic);
		assert_false(back[1].authentic);
		records_free(back, n);
	}
	buf_release(&text);
	buf_release(&changed);
}

/* many change lines: every one kept, in order (the parse is linear) */
static void test_records__many_changes_are_all_kept(void **state)
{
	struct buf text = BUF_INIT, changes = BUF_INIT;
	struct record r, *back;
	size_t n, i, lines = 0;
	const char *p;

	(void)state;
	sample(&r);
	for (i = 0; i < 50000; i++)
		buf_printf(&changes, "%supdate Alarm/a%zu: 1 -> 2",
			   i ? "\n" : "", i);
	r.changes = changes.ptr;
	record_format(&text, &r, &key);
	records_parse(text.ptr, &key, &back, &n);
	assert_int_equal(n, 1);
	assert_true(back[0].authentic);
	assert_string_equal(back[0].changes, changes.ptr);
	for (p = back[0].changes; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 49999);
	records_free(back, n);
	buf_release(&text);
	buf_release(&changes);
}

static void test_records__union_keeps_every_record_once(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct record r;
	char *u;

	(void)state;
	sample(&r);
	record_format(&a, &r, &key);
	buf_puts(&b, a.ptr);
	snprintf(r.result, sizeof(r.result), "failed");
	record_format(&b, &r, &key);
	u = records_union(a.ptr, b.ptr);
	assert_true(all_authentic(u, &key, 2));
	free(u);
	u = records_union(b.ptr, a.ptr);
	assert_true(all_authentic(u, &key, 2));
	free(u);
	buf_release(&a);
	buf_release(&b);
}

static void test_records__kinds(void **state)
{
	struct record r;

	(void)state;
	sample(&r);
	assert_true(record_good(&r));
	snprintf(r.result, sizeof(r.result), "rolled-back");
	assert_true(record_failed(&r));
	snprintf(r.result, sizeof(r.result), "reverted");
	assert_true(record_revert(&r));
	assert_false(record_good(&r));
	assert_false(record_failed(&r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_records__written_with_the_key_reads_authentic),
		cmocka_unit_test(test_records__anything_else_is_not_authentic),
		cmocka_unit_test(test_records__many_changes_are_all_kept),
		cmocka_unit_test(test_records__union_keeps_every_record_once),
		cmocka_unit_test(test_records__kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
