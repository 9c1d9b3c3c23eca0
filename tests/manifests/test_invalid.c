/*
 * The corpus of invalid manifests in tests/fixtures/invalid: every file
 * there must fail to load with exactly the errors its header announces.
 * A header line reads
 *   # expect: LINE:COL: word | other words
 * and means: one error at LINE:COL of this file whose message contains
 * each of the |-separated phrases. Errors are compared in order (they are
 * sorted by line and column), and there must be no other error.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "err.h"
#include "file.h"
#include "manifest.h"

#define CORPUS FIXTURES "/invalid"

struct expect {
	int line;
	int col;
	char words[512];
};

static size_t read_expectations(const char *text, struct expect *out,
				size_t max)
{
	const char *p = text;
	size_t n = 0;

	while ((p = strstr(p, "# expect: "))) {
		const char *eol = strchr(p, '\n');
		size_t len;

		p += strlen("# expect: ");
		assert_true(n < max);
		assert_int_equal(sscanf(p, "%d:%d:", &out[n].line, &out[n].col),
				 2);
		p = strchr(p, ':') + 1;
		p = strchr(p, ':') + 1;
		while (*p == ' ')
			p++;
		len = eol ? (size_t)(eol - p) : strlen(p);
		assert_true(len < sizeof(out[n].words));
		memcpy(out[n].words, p, len);
		out[n].words[len] = '\0';
		n++;
	}
	return n;
}

static void check_words(const char *msg, const char *words, const char *file)
{
	char buf[512], *save = NULL, *w;

	snprintf(buf, sizeof(buf), "%s", words);
	for (w = strtok_r(buf, "|", &save); w; w = strtok_r(NULL, "|", &save)) {
		char *end = w + strlen(w);

		while (*w == ' ')
			w++;
		while (end > w && end[-1] == ' ')
			*--end = '\0';
		if (!strstr(msg, w))
			fail_msg("%s: message \"%s\" lacks \"%s\"", file, msg,
				 w);
	}
}

static void check_case(const char *name)
{
	struct diag_list diags = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;
	struct expect want[16];
	struct buf path = BUF_INIT, text = BUF_INIT;
	struct err e = ERR_INIT;
	size_t n, i;

	buf_printf(&path, "%s/%s", CORPUS, name);
	assert_int_equal(file_read(&text, path.ptr, 1 << 20, &e), 0);
	n = read_expectations(text.ptr, want, 16);
	if (n == 0)
		fail_msg("%s: no '# expect:' line", name);
	assert_int_equal(manifest_load(&set, path.ptr, NULL, &diags), -1);
	assert_null(set);
	if (diags.n != n) {
		diag_print(&diags, stderr);
		fail_msg("%s: %zu errors, expected %zu", name, diags.n, n);
	}
	for (i = 0; i < n; i++) {
		const struct diag *d = &diags.items[i];

		assert_string_equal(d->file, path.ptr);
		if (d->line != want[i].line || d->col != want[i].col)
			fail_msg("%s: error %zu at %d:%d, expected %d:%d (%s)",
				 name, i, d->line, d->col, want[i].line,
				 want[i].col, d->msg);
		check_words(d->msg, want[i].words, name);
	}
	diag_release(&diags);
	buf_release(&path);
	buf_release(&text);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_invalid__case_fails_where_it_says(void **state)
{
	check_case(*state);
}

/* One test per corpus file, so that each case passes or fails alone. */
int main(void)
{
	struct CMUnitTest tests[256];
	char *names[256];
	size_t n = 0, i;
	struct dirent *de;
	DIR *dir = opendir(CORPUS);
	int rc;

	if (!dir) {
		perror(CORPUS);
		return 1;
	}
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);

		if (len > 5 && !strcmp(de->d_name + len - 5, ".yaml") &&
		    n < 256)
			names[n++] = strdup(de->d_name);
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), cmp);
	/* the corpus is at least 30 cases: fewer means files went missing */
	if (n < 30) {
		fprintf(stderr, "%s: only %zu cases\n", CORPUS, n);
		return 1;
	}
	for (i = 0; i < n; i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = names[i];
		tests[i].test_func = test_invalid__case_fails_where_it_says;
		tests[i].initial_state = names[i];
	}
	rc = _cmocka_run_group_tests("invalid manifests", tests, n, NULL, NULL);
	for (i = 0; i < n; i++)
		free(names[i]);
	return rc;
}
