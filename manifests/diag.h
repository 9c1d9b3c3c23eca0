/*
 * Diagnostics: located error messages about input files, printed as
 *   FILE:LINE:COL: error: MESSAGE
 * Lines and columns are 1-based (0 means "the whole file"). A list keeps
 * every diagnostic of a run so that all problems of a tree are reported at
 * once, sorted by file, line and column. The list owns its strings.
 */
#ifndef SAGESYNC_MANIFESTS_DIAG_H
#define SAGESYNC_MANIFESTS_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct diag {
	char *file;
	int line;
	int col;
	char *msg;
	size_t seq; /* order of discovery, to keep the sort stable */
};

struct diag_list {
	struct diag *items;
	size_t n;
	size_t cap;
};

#define DIAG_LIST_INIT     \
	{                  \
		NULL, 0, 0 \
	}

void diag_add(struct diag_list *l, const char *file, int line, int col,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Sorts by file, then line, then column; stable for equal positions. */
void diag_sort(struct diag_list *l);
/* One "FILE:LINE:COL: error: MESSAGE" line per diagnostic. */
void diag_print(const struct diag_list *l, FILE *fp);
void diag_release(struct diag_list *l);

#endif
