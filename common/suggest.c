/*
 * Edit-distance suggestions (see suggest.h).
 */
#include "suggest.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"

size_t suggest_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), i, j, best, *row, d;

	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	row = mem_alloc((lb + 1) * sizeof(*row));
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		best = row[0];
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];

			d = diag + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < d)
				d = row[j - 1] + 1;
			if (up + 1 < d)
				d = up + 1;
			row[j] = d;
			diag = up;
			if (d < best)
				best = d;
		}
		if (best > cap) {
			free(row);
			return cap + 1;
		}
	}
	d = row[lb];
	free(row);
	return d > cap ? cap + 1 : d;
}

const char *suggest_closest(const char *word, const char *const *cands,
			    size_t n)
{
	size_t cap = strlen(word) <= 4 ? 1 : 2, best = cap + 1, i;
	const char *pick = NULL;

	for (i = 0; i < n; i++) {
		size_t d;

		if (!cands[i])
			continue;
		if (!strcasecmp(word, cands[i]))
			return cands[i];
		d = suggest_distance(word, cands[i], cap);
		if (d < best) {
			best = d;
			pick = cands[i];
		}
	}
	return pick;
}
