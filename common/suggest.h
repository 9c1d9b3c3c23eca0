/*
 * "Did you mean" suggestions for misspelt names, by edit distance.
 */
#ifndef SAGESYNC_COMMON_SUGGEST_H
#define SAGESYNC_COMMON_SUGGEST_H

#include <stddef.h>

/*
 * Returns the candidate closest to `word` (borrowed from `cands`), or
 * NULL when none is close: a case-insensitive match, or an edit distance
 * of at most 2 (1 for words of up to 4 characters). `cands` is an array
 * of `n` strings; NULL entries are skipped.
 */
const char *suggest_closest(const char *word, const char *const *cands,
			    size_t n);
/* Levenshtein distance, capped at `cap` + 1 to stay cheap. */
size_t suggest_distance(const char *a, const char *b, size_t cap);

#endif
