/*
 * What the unit tests share: a private temporary directory per test,
 * removed afterwards, and writing files into it. Header-only so that each
 * test binary stays one file plus the library under test.
 */
#ifndef SAGESYNC_TESTS_HELPERS_H
#define SAGESYNC_TESTS_HELPERS_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tmpdir {
	char path[256];
};

static inline void tmpdir_make(struct tmpdir *t)
{
	const char *base = getenv("TMPDIR");

	snprintf(t->path, sizeof(t->path), "%s/sagesync-test-XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(t->path)) {
		perror("mkdtemp");
		abort();
	}
}

static inline int rm_entry(const char *path, const struct stat *st, int flag,
			   struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void tmpdir_remove(struct tmpdir *t)
{
	nftw(t->path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* cmocka fixtures: each test gets its own directory in *state */
static inline int tmpdir_setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (!t)
		abort();
	tmpdir_make(t);
	*state = t;
	return 0;
}

static inline int tmpdir_teardown(void **state)
{
	tmpdir_remove(*state);
	free(*state);
	return 0;
}

/* Writes `text` to DIR/NAME (NAME may contain existing subdirectories). */
static inline void tmpdir_write(const struct tmpdir *t, const char *name,
				const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", t->path, name);
	fp = fopen(path, "w");
	if (!fp) {
		perror(path);
		abort();
	}
	fputs(text, fp);
	fclose(fp);
}

#endif
