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

/*
 * A relative path as people write it, normalised: "." parts, empty parts
 * and "dir/.." pairs removed, so "./a//b/../c/" is "a/c" and "." is "".
 * Purely textual (links are not looked at). -1, with `out` empty, when
 * `path` is absolute or a ".." climbs above where it starts.
 */
int file_path_normalize(struct buf *out, const char *path);

/*
 * Makes a new directory of mode 0700, private to this process, in
 * `parent` (NULL: $TMPDIR, or /tmp), named PREFIX-XXXXXX; its path into
 * `out`. Remove it with file_remove_tree().
 */
int file_temp_dir(struct buf *out, const char *parent, const char *prefix,
		  struct err *e);

/* Removes `path` and everything below it; links are removed, never
 * followed. Best effort: what cannot be removed stays. */
void file_remove_tree(const char *path);

#endif
