/*
 * The Git source, with libgit2: the manifests of one revision of a
 * repository. Today a local repository (a path or file:// URL); fetching
 * remotes, authentication and signatures come with the daemon.
 *
 * gitsrc_export() writes the files under `path` of a commit into a
 * directory, where the manifest loader reads them as it reads any tree;
 * symbolic links are written as links, so the loader refuses them as it
 * does in a plain directory.
 */
#ifndef SAGESYNC_CONTROLLER_GITSRC_H
#define SAGESYNC_CONTROLLER_GITSRC_H

#include <stdbool.h>

#include "err.h"

/*
 * Whether `path` is a Git repository: 1 yes, 0 no (not found), negative
 * when it is one libgit2 cannot open (ownership, corruption): that is an
 * error, never a reason to read it as a plain directory.
 */
int gitsrc_is_repository(const char *path, struct err *e);

/*
 * Resolves `rev` (a branch, tag, commit or any revision expression;
 * NULL: HEAD) in the repository at `repo`, writes the tree under `path`
 * (NULL: the whole tree) into the existing directory `dest`, and puts the
 * commit's full hex id into `commit`.
 */
int gitsrc_export(const char *repo, const char *rev, const char *path,
		  const char *dest, char commit[41], struct err *e);

/* libgit2's process-wide state: call once at exit. */
void gitsrc_global_cleanup(void);

#endif
