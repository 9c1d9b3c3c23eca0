/*
 * Local Git revisions with libgit2 (see gitsrc.h).
 */
#include "gitsrc.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int initialised;

static void init(void)
{
	git_libgit2_init();
	initialised = 1;
}

void gitsrc_global_cleanup(void)
{
	if (initialised)
		git_libgit2_shutdown();
}

/* libgit2's last error, as ours, on this thread */
static int git_fail(struct err *e, const char *what)
{
	const git_error *g = git_error_last();

	return err_set(e, ERR_IO, "%s: %s", what,
		       g && g->message ? g->message : "unknown error");
}

int gitsrc_is_repository(const char *path, struct err *e)
{
	git_repository *r = NULL;
	struct buf dotgit = BUF_INIT;
	struct stat st;
	int rc;

	pthread_once(&once, init);
	rc = git_repository_open_ext(&r, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
				     NULL);
	git_repository_free(r);
	if (rc == 0)
		return 1;
	buf_printf(&dotgit, "%s/.git", path);
	/* not a repository at all, unless it plainly has a .git */
	if (rc == GIT_ENOTFOUND && stat(dotgit.ptr, &st) < 0) {
		buf_release(&dotgit);
		return 0;
	}
	buf_release(&dotgit);
	/* libgit2 1.5 says only "config value 'safe.directory' was not found"
	 */
	if (rc == GIT_EOWNER ||
	    (git_error_last() && git_error_last()->message &&
	     strstr(git_error_last()->message, "safe.directory")))
		return err_set(e, ERR_IO,
			       "'%s' is a Git repository owned by another "
			       "user, which Git refuses to read (see Git's "
			       "safe.directory)",
			       path);
	return git_fail(e, path);
}

struct walk {
	git_repository *repo;
	const char *dest;
	struct err *e;
	int rc;
};

static int write_entry(const char *root, const git_tree_entry *entry,
		       void *payload)
{
	struct walk *w = payload;
	const char *name = git_tree_entry_name(entry);
	git_filemode_t mode = git_tree_entry_filemode(entry);
	struct buf path = BUF_INIT;
	git_blob *blob = NULL;
	int fd;

	buf_printf(&path, "%s/%s%s", w->dest, root, name);
	if (mode == GIT_FILEMODE_TREE) {
		if (mkdir(path.ptr, 0700) < 0 && errno != EEXIST)
			w->rc = err_set(w->e, ERR_IO, "cannot create '%s': %s",
					path.ptr, strerror(errno));
		goto out;
	}
	if (mode == GIT_FILEMODE_COMMIT)
		goto out; /* a submodule: not ours to read */
	if (git_blob_lookup(&blob, w->repo, git_tree_entry_id(entry)) < 0) {
		w->rc = git_fail(w->e, name);
		goto out;
	}
	if (mode == GIT_FILEMODE_LINK) {
		struct buf target = BUF_INIT;

		buf_put(&target, git_blob_rawcontent(blob),
			(size_t)git_blob_rawsize(blob));
		if (symlink(target.ptr, path.ptr) < 0)
			w->rc = err_set(w->e, ERR_IO, "cannot create '%s': %s",
					path.ptr, strerror(errno));
		buf_release(&target);
		goto out;
	}
	fd = open(path.ptr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, git_blob_rawcontent(blob),
			    (size_t)git_blob_rawsize(blob)) !=
			      (ssize_t)git_blob_rawsize(blob))
		w->rc = err_set(w->e, ERR_IO, "cannot write '%s': %s", path.ptr,
				strerror(errno));
	if (fd >= 0)
		close(fd);
out:
	git_blob_free(blob);
	buf_release(&path);
	return w->rc < 0 ? -1 : 0;
}

int gitsrc_export(const char *repo_path, const char *rev, const char *path,
		  const char *dest, char commit[41], struct err *e)
{
	git_repository *repo = NULL;
	git_object *obj = NULL;
	git_commit *c = NULL;
	git_tree *tree = NULL, *sub = NULL;
	git_tree_entry *entry = NULL;
	struct walk w = { NULL, dest, e, 0 };
	int rc = 0;

	pthread_once(&once, init);
	if (git_repository_open_ext(&repo, repo_path,
				    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		rc = git_fail(e, repo_path);
		goto out;
	}
	if (git_revparse_single(&obj, repo, rev ? rev : "HEAD") < 0 ||
	    git_object_peel((git_object **)&c, obj, GIT_OBJECT_COMMIT) < 0) {
		rc = git_fail(e, rev ? rev : "HEAD");
		err_prefix(e, "revision");
		goto out;
	}
	git_oid_tostr(commit, 41, git_commit_id(c));
	if (git_commit_tree(&tree, c) < 0) {
		rc = git_fail(e, commit);
		goto out;
	}
	if (path && *path && strcmp(path, ".")) {
		if (git_tree_entry_bypath(&entry, tree, path) < 0 ||
		    git_tree_entry_type(entry) != GIT_OBJECT_TREE) {
			rc = err_set(e, ERR_NOTFOUND,
				     "source.path '%s' is not a directory in "
				     "commit %.7s",
				     path, commit);
			goto out;
		}
		if (git_tree_lookup(&sub, repo, git_tree_entry_id(entry)) < 0) {
			rc = git_fail(e, path);
			goto out;
		}
	}
	w.repo = repo;
	if (git_tree_walk(sub ? sub : tree, GIT_TREEWALK_PRE, write_entry, &w) <
	    0)
		rc = w.rc < 0 ? w.rc : git_fail(e, "reading the tree");
out:
	git_tree_entry_free(entry);
	git_tree_free(sub);
	git_tree_free(tree);
	git_commit_free(c);
	git_object_free(obj);
	git_repository_free(repo);
	return rc;
}
