/*
 * Local Git revisions with libgit2 (see gitsrc.h).
 */
#include "gitsrc.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "sshkeys.h"

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

/* ---- remotes ------------------------------------------------------------- */

bool gitsrc_is_url(const char *url)
{
	const char *colon = strchr(url, ':'), *slash = strchr(url, '/');

	if (strstr(url, "://"))
		return true;
	/* scp-style user@host:path; "./a:b" and "/a:b" are paths */
	return colon && colon != url && (!slash || slash > colon);
}

struct fetch {
	const struct gitsrc_remote *r;
	int port; /* of an ssh URL */
	int auth_tries;
	struct err why; /* what a callback refused, said better than libgit2 */
};

/* the port of an ssh:// URL (22 otherwise) */
static int ssh_port(const char *url)
{
	const char *host, *end, *colon;

	if (strncmp(url, "ssh://", 6) && strncmp(url, "ssh+git://", 10) &&
	    strncmp(url, "git+ssh://", 10))
		return 22;
	host = strstr(url, "://") + 3;
	end = strchr(host, '/');
	if (!end)
		end = host + strlen(host);
	if (memchr(host, '@', (size_t)(end - host)))
		host = (const char *)memchr(host, '@', (size_t)(end - host)) +
		       1;
	if (*host == '[') /* [::1]:2222 */
		host = memchr(host, ']', (size_t)(end - host)) ?
			       (const char *)memchr(host, ']',
						    (size_t)(end - host)) :
			       host;
	colon = memchr(host, ':', (size_t)(end - host));
	return colon ? atoi(colon + 1) : 22;
}

static int credentials(git_credential **out, const char *url,
		       const char *username, unsigned int allowed,
		       void *payload)
{
	struct fetch *f = payload;
	const struct gitsrc_remote *r = f->r;

	(void)url;
	if (f->auth_tries++ > 0) {
		err_set(&f->why, ERR_INVALID,
			"the server refused the credentials (%s)",
			r->token	? "source.auth.tokenFile" :
			r->ssh_key_file ? "source.auth.sshKeyFile" :
					  "none configured");
		return -1;
	}
	if ((allowed & GIT_CREDENTIAL_SSH_KEY) && r->ssh_key_file)
		return git_credential_ssh_key_new(out,
						  username ? username : "git",
						  NULL, r->ssh_key_file, NULL);
	if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && r->token)
		return git_credential_userpass_plaintext_new(
			out, r->username ? r->username : "git", r->token);
	err_set(&f->why, ERR_INVALID,
		"the server asks for credentials and none are configured for "
		"it (source.auth: tokenFile for https, sshKeyFile for ssh)");
	return -1;
}

static int certificate(git_cert *cert, int valid, const char *host,
		       void *payload)
{
	struct fetch *f = payload;

	if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2) {
		const git_cert_hostkey *k = (const git_cert_hostkey *)cert;

		if (!f->r->known_hosts_file) {
			err_set(&f->why, ERR_INVALID,
				"an ssh source needs source.auth."
				"knownHostsFile: the server's key is always "
				"checked");
			return -1;
		}
		if (!(k->type & GIT_CERT_SSH_RAW)) {
			err_set(&f->why, ERR_INVALID,
				"the server's host key is not available to "
				"check");
			return -1;
		}
		return known_hosts_check(f->r->known_hosts_file, host, f->port,
					 (const unsigned char *)k->hostkey,
					 k->hostkey_len, &f->why) < 0 ?
			       -1 :
			       0;
	}
	if (!valid) {
		err_set(&f->why, ERR_INVALID,
			"the TLS certificate of %s is not trusted (%s); the "
			"connection is refused",
			host,
			f->r->ca_file ? "not signed by a CA in source.caFile" :
					"not signed by a CA the system trusts; "
					"set source.caFile for a private CA");
		return -1;
	}
	return 0;
}

/* the CA certificates https trusts: caFile, or the system's bundle */
static int trust(const char *ca_file, struct err *e)
{
	static const char *const bundles[] = {
		"/etc/ssl/certs/ca-certificates.crt",
		"/etc/pki/tls/certs/ca-bundle.crt",
		"/etc/ssl/cert.pem",
	};
	const char *file = ca_file;
	size_t i;

	for (i = 0; !file && i < sizeof(bundles) / sizeof(bundles[0]); i++)
		if (access(bundles[i], R_OK) == 0)
			file = bundles[i];
	if (ca_file && access(ca_file, R_OK) < 0)
		return err_set(e, ERR_IO, "source.caFile '%s': %s", ca_file,
			       strerror(errno));
	if (file &&
	    git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, NULL) < 0)
		return git_fail(e, ca_file ? ca_file : "the CA certificates");
	return 0;
}

int gitsrc_fetch(const struct gitsrc_remote *r, const char *dir, struct err *e)
{
	static char heads[] = "+refs/heads/*:refs/heads/*";
	static char tags[] = "+refs/tags/*:refs/tags/*";
	char *specs[] = { heads, tags };
	git_strarray refspecs = { specs, 2 };
	git_fetch_options opts;
	git_remote_create_options copts;
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	git_buf head = GIT_BUF_INIT;
	struct fetch f = { r, ssh_port(r->url), 0, ERR_INIT };
	int rc = 0;

	pthread_once(&once, init);
	git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
	git_remote_create_options_init(&copts,
				       GIT_REMOTE_CREATE_OPTIONS_VERSION);
	if (strncmp(r->url, "https://", 8) == 0 && trust(r->ca_file, e) < 0)
		return -1;
	if (git_repository_open_bare(&repo, dir) < 0 &&
	    git_repository_init(&repo, dir, 1) < 0) {
		rc = git_fail(e, dir);
		goto out;
	}
	/*
	 * Anonymous, and without url.*.insteadOf: the URL is the config's
	 * alone, and libgit2 1.5 leaks a regex match for every config entry
	 * that rewrite lookup does not match (fixed in later versions).
	 */
	copts.repository = repo;
	copts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
	if (git_remote_create_with_opts(&remote, r->url, &copts) < 0) {
		rc = git_fail(e, r->url);
		goto out;
	}
	opts.callbacks.credentials = credentials;
	opts.callbacks.certificate_check = certificate;
	opts.callbacks.payload = &f;
	opts.prune = GIT_FETCH_PRUNE;
	opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	if (git_remote_fetch(remote, &refspecs, &opts, NULL) < 0) {
		if (f.why.code)
			rc = err_set(e, f.why.code, "%s", f.why.msg);
		else
			rc = git_fail(e, "fetch");
		err_prefix(e, "%s", r->url);
		goto out;
	}
	/* HEAD: the remote's default branch, for a source with no ref */
	if (git_remote_default_branch(&head, remote) == 0 && head.ptr)
		git_repository_set_head(repo, head.ptr);
out:
	git_buf_dispose(&head);
	git_remote_free(remote);
	git_repository_free(repo);
	return rc;
}

int gitsrc_resolve(const char *repo_path, const char *branch, const char *tag,
		   const char *commit, char out[41], struct err *e)
{
	git_repository *repo = NULL;
	git_reference *ref = NULL;
	git_object *obj = NULL, *c = NULL;
	struct buf name = BUF_INIT;
	int rc = 0, g;

	pthread_once(&once, init);
	if (git_repository_open_ext(&repo, repo_path,
				    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		rc = git_fail(e, repo_path);
		goto out;
	}
	if (branch || tag) {
		buf_printf(&name, "refs/%s/%s", branch ? "heads" : "tags",
			   branch ? branch : tag);
		g = git_reference_lookup(&ref, repo, name.ptr);
		if (g == GIT_ENOTFOUND || g == GIT_EINVALIDSPEC) {
			rc = err_set(e, ERR_NOTFOUND,
				     "%s '%s' does not exist in the repository"
				     "%s",
				     branch ? "branch" : "tag",
				     branch ? branch : tag,
				     branch ? " (deleted or renamed?)" : "");
			goto out;
		}
		if (g < 0 ||
		    git_reference_peel(&c, ref, GIT_OBJECT_COMMIT) < 0) {
			rc = git_fail(e, name.ptr);
			goto out;
		}
	} else if (git_revparse_single(&obj, repo, commit ? commit : "HEAD") <
			   0 ||
		   git_object_peel(&c, obj, GIT_OBJECT_COMMIT) < 0) {
		rc = err_set(e, ERR_NOTFOUND,
			     "commit '%s' is not in the repository (not "
			     "reachable from any branch or tag?)",
			     commit ? commit : "HEAD");
		goto out;
	}
	git_oid_tostr(out, 41, git_object_id(c));
out:
	git_object_free(c);
	git_object_free(obj);
	git_reference_free(ref);
	git_repository_free(repo);
	buf_release(&name);
	return rc;
}

int gitsrc_descends(const char *repo_path, const char *commit, const char *base,
		    struct err *e)
{
	git_repository *repo = NULL;
	git_oid a, b;
	int rc;

	pthread_once(&once, init);
	if (git_repository_open_ext(&repo, repo_path,
				    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		return git_fail(e, repo_path);
	if (git_oid_fromstr(&a, commit) < 0 || git_oid_fromstr(&b, base) < 0)
		rc = err_set(e, ERR_INVALID, "not a commit id: %s / %s", commit,
			     base);
	else if (git_oid_equal(&a, &b))
		rc = 1;
	else if ((rc = git_graph_descendant_of(repo, &a, &b)) < 0)
		rc = git_fail(e, "history");
	git_repository_free(repo);
	return rc;
}

int gitsrc_verify(const char *repo_path, const char *commit,
		  const char *allowed_signers, struct buf *principal,
		  struct err *e)
{
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_buf sig = GIT_BUF_INIT;
	git_buf data = GIT_BUF_INIT;
	git_oid id;
	int rc = -1, g;

	pthread_once(&once, init);
	if (git_repository_open_ext(&repo, repo_path,
				    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0 ||
	    git_oid_fromstr(&id, commit) < 0 ||
	    git_commit_lookup(&c, repo, &id) < 0) {
		git_fail(e, commit);
		goto out;
	}
	g = git_commit_extract_signature(&sig, &data, repo, &id, NULL);
	if (g == GIT_ENOTFOUND) {
		err_set(e, ERR_INVALID, "commit %.7s is not signed", commit);
		goto out;
	}
	if (g < 0) {
		git_fail(e, commit);
		goto out;
	}
	rc = sshsig_verify(sig.ptr, sig.size, data.ptr, data.size,
			   allowed_signers, (time_t)git_commit_time(c),
			   principal, e);
	if (rc < 0)
		err_prefix(e, "commit %.7s", commit);
out:
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	git_commit_free(c);
	git_repository_free(repo);
	return rc;
}
