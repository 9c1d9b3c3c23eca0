/*
 * Whole-file reads with a size limit, so that a hostile or mistaken input
 * (a 10 GB "manifest") is refused before it is read into memory; and
 * removing a temporary tree.
 */
#ifndef SAGESYNC_COMMON_FILE_H
#define SAGESYNC_COMMON_FILE_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/*
 * Reads `path` into `out` (appending). Fails with ERR_LIMIT when the file
 * is larger than `max_bytes`, ERR_NOTFOUND when it does not exist and
 * ERR_IO otherwise; the message names the path.
 */
int file_read(struct buf *out, const char *path, size_t max_bytes,
	      struct err *e);

/* Removes `path` and everything below it; links are removed, never
 * followed. Best effort: what cannot be removed stays. */
void file_remove_tree(const char *path);

#endif
