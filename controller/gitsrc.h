/*
 * The Git source, with libgit2: the manifests of one revision of a
 * repository, read from a local repository (a plain path) or from a
 * mirror of a remote one (any URL: file://, git://, https://, ssh:// or
 * scp-style user@host:path) that gitsrc_fetch() keeps in the state
 * directory: cloned once, then fetched incrementally.
 *
 * gitsrc_export() is the one way a tree reaches the file system: it
 * writes the manifests under `path` of a commit into a directory, where
 * the manifest loader reads them as it reads any tree, after checking
 * every entry under `path` against what a hostile commit may hold.
 */
#ifndef SAGESYNC_CONTROLLER_GITSRC_H
#define SAGESYNC_CONTROLLER_GITSRC_H

#include <stdbool.h>

#include "buf.h"
#include "err.h"

/*
 * Whether `path` is a Git repository: 1 yes, 0 no (not found), negative
 * when it is one libgit2 cannot open (ownership, corruption): that is an
 * error, never a reason to read it as a plain directory.
 */
int gitsrc_is_repository(const char *path, struct err *e);

/* At most this many entries under the exported path, and directories
 * nested this deep: a tree that repeats one subtree under many names
 * would otherwise be billions of entries from a few objects. */
#define GITSRC_MAX_ENTRIES 200000
#define GITSRC_MAX_DEPTH 64

/*
 * Why a tree entry named `name` must never be written to a file system
 * (a static text for an error message), or NULL when it may: empty, '.',
 * '..', holding '/' or a control character, longer than 255 bytes, or
 * '.git' in any case or in any spelling NTFS or HFS+ takes for it (git's
 * fsck rules).
 */
const char *gitsrc_name_refusal(const char *name);

/*
 * Resolves `rev` (a branch, tag, commit or any revision expression;
 * NULL: HEAD) in the repository at `repo`, puts the commit's full hex id
 * into `commit`, and writes the directories and manifest files (as
 * manifest_reads_entry() says) under `path` (NULL or ".": the whole tree)
 * into the existing empty directory `dest`, as modes 0700 and 0600.
 *
 * First every entry under `path` is checked, and the commit is refused
 * whole, with nothing written, when one is refused by
 * gitsrc_name_refusal(), is a symbolic link, a submodule or of a mode
 * other than a file's or a directory's, appears twice in its tree, is a
 * manifest larger than the loader's limit, is nested deeper than
 * GITSRC_MAX_DEPTH, or is one entry too many (GITSRC_MAX_ENTRIES, or the
 * loader's number of files); or when a tree is malformed. That is
 * ERR_INVALID, its message naming the entry from the root of the
 * repository. A missing object (an incomplete mirror) is ERR_IO.
 */
int gitsrc_export(const char *repo, const char *rev, const char *path,
		  const char *dest, char commit[41], struct err *e);

/* Whether `url` names a remote to fetch (a URL or scp-style), not a path. */
bool gitsrc_is_url(const char *url);

/*
 * How to reach a remote. Secrets are borrowed and never logged.
 * https: `token` (with `username`, default "git") is sent as HTTP basic
 * authentication when the server asks; the server certificate is always
 * verified, against `ca_file` or the system's CA certificates.
 * ssh: the private key `ssh_key_file`, and the server's key must be in
 * `known_hosts_file` (strict: an unknown or changed key is refused).
 */
struct gitsrc_remote {
	const char *url;
	const char *username;
	const char *token;
	const char *ssh_key_file;
	const char *known_hosts_file;
	const char *ca_file;
	/* also fetch this notes ref (the deployment records) into
	 * GITSRC_THEIR_NOTES, for gitsrc_notes_merge(); NULL: not */
	const char *notes_ref;
};

#define GITSRC_THEIR_NOTES "refs/sagesync/remote-notes"

/*
 * Brings the bare mirror at `dir` (created on first use) up to date with
 * the remote: every branch and tag, force-updated, and those deleted on
 * the remote pruned; HEAD follows the remote's default branch.
 */
int gitsrc_fetch(const struct gitsrc_remote *r, const char *dir, struct err *e);

/*
 * The commit a source names in the repository at `repo`: a branch, a tag
 * or a commit id (at most one set; none: HEAD). A branch or tag that does
 * not exist is ERR_NOTFOUND, saying so.
 */
int gitsrc_resolve(const char *repo, const char *branch, const char *tag,
		   const char *commit, char out[41], struct err *e);

/* 1 when `commit` is `base` or descends from it, 0 when not, <0 error. */
int gitsrc_descends(const char *repo, const char *commit, const char *base,
		    struct err *e);

/*
 * 0 when `commit` carries an SSH signature by a key `allowed_signers`
 * allows (see sshkeys.h); the signer is put in `principal`. An unsigned
 * or wrongly signed commit is an error saying which and why.
 */
int gitsrc_verify(const char *repo, const char *commit,
		  const char *allowed_signers, struct buf *principal,
		  struct err *e);

/*
 * 1 when commits `a` and `b` hold the same content under `path` (NULL:
 * the whole tree), 0 when not, <0 on error.
 */
int gitsrc_same_content(const char *repo, const char *path, const char *a,
			const char *b, struct err *e);

/* The author's name and the subject line of a commit. */
int gitsrc_commit_info(const char *repo, const char *commit, struct buf *author,
		       struct buf *subject, struct err *e);

/*
 * Git notes under `ref`: the note of one commit (empty when none; one
 * over GITSRC_MAX_NOTE bytes is ERR_LIMIT), a new note (replacing the
 * old), each note in turn (`fn` returning non-zero stops; a note over
 * GITSRC_MAX_NOTE bytes is never loaded: `fn` gets NULL text for it).
 */
#define GITSRC_MAX_NOTE (1024 * 1024)
int gitsrc_note_read(const char *repo, const char *ref, const char *commit,
		     struct buf *out, struct err *e);
int gitsrc_note_write(const char *repo, const char *ref, const char *commit,
		      const char *text, struct err *e);
int gitsrc_notes_each(const char *repo, const char *ref,
		      int (*fn)(const char *commit, const char *text,
				void *payload),
		      void *payload, struct err *e);

/*
 * Merges the notes of `theirs` into `ref`: a note only theirs is taken,
 * one on both sides is `merge(ours, theirs)` (malloc'd), and a merge
 * commit with both heads as parents is made, so `ref` descends from
 * theirs and pushes as a fast-forward. Nothing when theirs is absent or
 * already merged.
 */
int gitsrc_notes_merge(const char *repo, const char *ref, const char *theirs,
		       char *(*merge)(const char *ours, const char *theirs),
		       struct err *e);

/*
 * Pushes `ref` (never forced) to the remote. A refusal by the remote (not
 * a fast-forward, a protected ref) is ERR_LIMIT, saying so.
 */
int gitsrc_push(const struct gitsrc_remote *r, const char *repo,
		const char *ref, struct err *e);

/*
 * A commit on `branch` of the repository (a mirror) that puts back the
 * directory `path` (NULL: the whole tree) as it is in `good`, and leaves
 * the rest of `head`'s tree alone (another environment's directory is
 * not this controller's to revert): its parent `head` (the branch's
 * commit, or ERR_LIMIT when the branch moved on), its message `message`;
 * the branch is moved to it (push it with gitsrc_push). Its id goes into
 * `out`.
 */
int gitsrc_revert_commit(const char *repo, const char *branch, const char *path,
			 const char *head, const char *good,
			 const char *message, char out[41], struct err *e);

/* A file of a new commit: its path in the repository and its content. */
struct gitsrc_file {
	const char *path;
	const char *data;
	size_t len;
};

/*
 * A commit of `parent`'s tree with `files` written into it (as regular
 * files), its message `message`, on the branch `branch`: a new branch
 * when `create` (ERR_LIMIT if it exists), else one that must still be at
 * `parent` (ERR_LIMIT when it moved on). Its id goes into `out`; push it
 * with gitsrc_push.
 */
int gitsrc_commit_files(const char *repo, const char *branch,
			const char *parent, bool create,
			const struct gitsrc_file *files, size_t n,
			const char *message, char out[41], struct err *e);

/* Whether `name` (refs/heads/main) is a valid ref name, as git
 * check-ref-format has it. */
bool gitsrc_ref_name_valid(const char *name);

/* The commit id a reference points to, in `out`: 1, or 0 when there
 * is no such reference, <0 on error. */
int gitsrc_ref_id(const char *repo, const char *name, char out[41],
		  struct err *e);

/* 1 when the reference `name` exists, 0 when not, <0 on error. */
int gitsrc_ref_exists(const char *repo, const char *name, struct err *e);

/* libgit2's process-wide state: call once at exit. */
void gitsrc_global_cleanup(void);

#endif
