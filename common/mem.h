/*
 * Allocation wrappers. Running out of memory is a fatal error in sagesync:
 * a controller that cannot allocate cannot reconcile safely, and an error
 * code nobody checks is worse than a clear abort. So these never return
 * NULL; they print one line and abort.
 */
#ifndef SAGESYNC_COMMON_MEM_H
#define SAGESYNC_COMMON_MEM_H

#include <stddef.h>

void *mem_alloc(size_t size);
void *mem_calloc(size_t nmemb, size_t size);
void *mem_realloc(void *ptr, size_t size);
/* Grows an array of `*cap` elements of `size` bytes to hold `need`. */
void *mem_grow(void *ptr, size_t *cap, size_t need, size_t size);
char *mem_strdup(const char *s);
char *mem_strndup(const char *s, size_t n);

#endif
