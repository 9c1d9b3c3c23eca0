/*
 * Local Git revisions with libgit2 (see gitsrc.h).
 */
#include "gitsrc.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "manifest.h"
#include "mem.h"
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

static int open_repo(git_repository **repo, const char *path, struct err *e)
{
	pthread_once(&once, init);
	if (git_repository_open_ext(repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
				    NULL) < 0)
		return git_fail(e, path);
	return 0;
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

/* ---- the export: the one way a tree reaches the file system ------------- */

/*
 * Every rule below is checked for every entry under the exported path
 * before anything is written, and the writing goes through descriptors
 * of the directories it made itself (mkdirat, openat with O_NOFOLLOW and
 * O_EXCL), so even a name the rules missed could not reach outside.
 *
 * The name rules are those of git's fsck and verify_path (fsck.c,
 * read-cache.c): '.', '..', empty, '/', '.git' in any case, and the
 * names NTFS (is_ntfs_dotgit, path.c) and HFS+ (is_hfs_dotgit, utf8.c)
 * take for '.git'. Beyond git: control characters (an entry name ends
 * up in logs, terminals and pull request comments) and names longer
 * than a file system takes.
 */
#define NAME_MAX_BYTES 255

/* one of the code points HFS+ ignores in names (git's next_hfs_char) */
static bool hfs_ignored(unsigned long c)
{
	return (c >= 0x200c && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x206a && c <= 0x206f) || c == 0xfeff;
}

/* the next code point of UTF-8 `*p`, 0 at the end, ~0 when malformed */
static unsigned long next_utf8(const unsigned char **p)
{
	const unsigned char *s = *p;
	unsigned long c;
	int n, i;

	if (!*s)
		return 0;
	if (*s < 0x80) {
		*p = s + 1;
		return *s;
	}
	n = (*s & 0xe0) == 0xc0 ? 1 :
	    (*s & 0xf0) == 0xe0 ? 2 :
	    (*s & 0xf8) == 0xf0 ? 3 :
				  -1;
	if (n < 0)
		return ~0UL;
	c = *s & (0x3f >> n);
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return ~0UL;
		c = c << 6 | (s[i] & 0x3f);
	}
	*p = s + n + 1;
	return c;
}

/* '.git' once HFS+ has dropped the code points it ignores */
static bool is_hfs_dotgit(const char *name)
{
	static const char want[] = ".git";
	const unsigned char *p = (const unsigned char *)name;
	unsigned long c;
	size_t i = 0;

	for (;;) {
		do
			c = next_utf8(&p);
		while (hfs_ignored(c));
		if (c == 0)
			return i == 4;
		if (c == ~0UL || i == 4)
			return false;
		if (c >= 0x80 || tolower((int)c) != want[i++])
			return false;
	}
}

/*
 * '.git' to NTFS: '.git' or its short name 'git~1', in any case, followed
 * by nothing but dots and spaces up to the end, a ':' (a stream, as in
 * '.git::$INDEX_ALLOCATION') or a backslash (a separator there). Each
 * backslash-separated part is checked.
 */
static bool is_ntfs_dotgit(const char *name)
{
	const char *p = name;

	for (;;) {
		const char *q = NULL;

		if (!strncasecmp(p, ".git", 4))
			q = p + 4;
		else if (!strncasecmp(p, "git~1", 5))
			q = p + 5;
		if (q) {
			while (*q == '.' || *q == ' ')
				q++;
			if (!*q || *q == ':' || *q == '\\')
				return true;
		}
		if (!(p = strchr(p, '\\')))
			return false;
		p++;
	}
}

const char *gitsrc_name_refusal(const char *name)
{
	const unsigned char *p;

	if (!*name)
		return "its name is empty";
	if (!strcmp(name, "."))
		return "'.' names its own directory";
	if (!strcmp(name, ".."))
		return "'..' climbs out of its directory";
	if (strchr(name, '/'))
		return "its name holds a '/', which no tree Git writes has";
	for (p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "its name holds a control character";
	if (strlen(name) > NAME_MAX_BYTES)
		return "its name is longer than 255 bytes";
	if (!strcasecmp(name, ".git"))
		return "'.git' is Git's own directory";
	if (is_ntfs_dotgit(name))
		return "it is '.git' on NTFS (a short name, trailing dots or "
		       "spaces, or a stream)";
	if (is_hfs_dotgit(name))
		return "it is '.git' on HFS+, which ignores some invisible "
		       "Unicode characters";
	return NULL;
}

/* why the raw mode `mode` is refused; NULL: a file or a directory */
static const char *mode_refusal(unsigned int mode, char why[80])
{
	switch (mode) {
	case 0040000: /* a directory */
	case 0100644: /* a file */
	case 0100755: /* an executable file */
	case 0100664: /* a file, as very old Git wrote it */
		return NULL;
	case 0120000:
		return "it is a symbolic link (links are never followed)";
	case 0160000:
		return "it is a submodule (a gitlink), which sagesync does not "
		       "read";
	default:
		snprintf(why, 80,
			 "mode %06o is neither a regular file nor a directory",
			 mode);
		return why;
	}
}

/* what the export writes, in the order it writes it (pre-order) */
struct item {
	char *name; /* the entry's name */
	unsigned int depth; /* of the directory it is in: 0 for `dest` */
	bool dir;
	git_oid id;
};

struct export
{
	git_repository *repo;
	git_odb *odb;
	const char *commit;
	struct buf where; /* the path of the tree being walked, shown */
	struct item *items;
	size_t n, cap;
	size_t entries, files;
	struct manifest_limits lim;
	struct err *e;
};

/* refuses the entry `name` of the tree at x->where: ERR_INVALID */
static int refuse(struct export *x, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int refuse(struct export *x, const char *name, const char *fmt, ...)
{
	struct buf shown = BUF_INIT, why = BUF_INIT;
	va_list ap;

	/* control and non-ASCII bytes as \xNN: an invisible character
	 * that makes '.git' of a name shows */
	buf_put_shown(&shown, buf_cstr(&x->where), x->where.len, true);
	if (name) {
		if (shown.len)
			buf_putc(&shown, '/');
		buf_put_shown(&shown, name, strlen(name), true);
	}
	if (!shown.len)
		buf_putc(&shown, '/'); /* the root tree */
	va_start(ap, fmt);
	buf_vprintf(&why, fmt, ap);
	va_end(ap);
	err_set(x->e, ERR_INVALID,
		"tree entry '%s' is refused: %s; nothing of this commit is "
		"read",
		buf_cstr(&shown), why.ptr);
	buf_release(&shown);
	buf_release(&why);
	return ERR_INVALID;
}

static int cmp_entry_name(const void *a, const void *b)
{
	return strcmp(git_tree_entry_name(*(const git_tree_entry *const *)a),
		      git_tree_entry_name(*(const git_tree_entry *const *)b));
}

/* a name twice in one tree: which, or NULL */
static const char *duplicate(const git_tree *t)
{
	size_t i, n = git_tree_entrycount(t);
	const git_tree_entry **v = mem_calloc(n ? n : 1, sizeof(*v));
	const char *dup = NULL;

	for (i = 0; i < n; i++)
		v[i] = git_tree_entry_byindex(t, i);
	qsort(v, n, sizeof(*v), cmp_entry_name);
	for (i = 1; i < n && !dup; i++)
		if (!cmp_entry_name(&v[i - 1], &v[i]))
			dup = git_tree_entry_name(v[i]);
	free(v);
	return dup;
}

/*
 * An object of the commit that cannot be read (the tree at x->where, or
 * its entry `name`): missing, in an incomplete mirror, where fetching
 * again may help; else malformed, which no fetch mends.
 */
static int unreadable(struct export *x, const char *name, int g)
{
	const git_error *ge = git_error_last();
	const char *why = ge && ge->message ? ge->message : "unknown error";

	if (g == GIT_ENOTFOUND)
		return err_set(x->e, ERR_IO, "commit %.7s: '%s%s%s': %s",
			       x->commit, buf_cstr(&x->where),
			       name && x->where.len ? "/" : "",
			       name ? name : "", why);
	return refuse(x, name, "it cannot be read: %s", why);
}

static void push_item(struct export *x, const char *name, unsigned int depth,
		      bool dir, const git_oid *id)
{
	struct item *it;

	x->items = mem_grow(x->items, &x->cap, x->n + 1, sizeof(*x->items));
	it = &x->items[x->n++];
	it->name = mem_strdup(name);
	it->depth = depth;
	it->dir = dir;
	git_oid_cpy(&it->id, id);
}

/*
 * Checks `t` (at depth `depth`) and everything below it; lists what the
 * loader reads there, when `write` (not inside a hidden directory).
 */
static int collect(struct export *x, const git_tree *t, unsigned int depth,
		   bool write)
{
	char mode_why[80];
	const char *why, *dup;
	size_t i, n = git_tree_entrycount(t), at;
	int rc = 0;

	if ((dup = duplicate(t)))
		return refuse(x, dup, "it appears twice in its directory");
	for (i = 0; i < n && rc == 0; i++) {
		const git_tree_entry *en = git_tree_entry_byindex(t, i);
		const char *name = git_tree_entry_name(en);
		unsigned int mode = git_tree_entry_filemode_raw(en);
		git_object_t type;
		size_t size;
		int g;

		if (++x->entries > GITSRC_MAX_ENTRIES)
			return refuse(x, name,
				      "more than %d entries under the source "
				      "path",
				      GITSRC_MAX_ENTRIES);
		if ((why = gitsrc_name_refusal(name)) ||
		    (why = mode_refusal(mode, mode_why)))
			return refuse(x, name, "%s", why);
		if (mode == 0040000) {
			git_tree *sub = NULL;
			bool sub_write;

			if (depth >= GITSRC_MAX_DEPTH)
				return refuse(x, name,
					      "it is nested deeper than %d "
					      "directories",
					      GITSRC_MAX_DEPTH);
			sub_write = write && manifest_reads_entry(name, true);
			if (sub_write)
				push_item(x, name, depth, true,
					  git_tree_entry_id(en));
			at = x->where.len;
			if (at)
				buf_putc(&x->where, '/');
			buf_puts(&x->where, name);
			if ((g = git_tree_lookup(&sub, x->repo,
						 git_tree_entry_id(en))) < 0)
				rc = unreadable(x, NULL, g);
			else
				rc = collect(x, sub, depth + 1, sub_write);
			git_tree_free(sub);
			x->where.len = at;
			x->where.ptr[at] = '\0';
			continue;
		}
		if (!write || !manifest_reads_entry(name, false))
			continue; /* checked; the loader would not read it */
		if ((g = git_odb_read_header(&size, &type, x->odb,
					     git_tree_entry_id(en))) < 0)
			return unreadable(x, name, g);
		if (type != GIT_OBJECT_BLOB)
			return refuse(x, name, "it is not a file's content");
		if (size > x->lim.max_file_bytes)
			return refuse(x, name,
				      "it is %zu bytes; a manifest file may "
				      "have at most %zu",
				      size, x->lim.max_file_bytes);
		if (++x->files > x->lim.max_files)
			return refuse(x, name,
				      "more than %zu manifest files under the "
				      "source path",
				      x->lim.max_files);
		push_item(x, name, depth, false, git_tree_entry_id(en));
	}
	return rc;
}
/* writes the blob of `it` as a new file of the directory `dir` */
static int write_file(struct export *x, int dir, const struct item *it)
{
	git_blob *blob = NULL;
	const char *data;
	size_t left;
	int fd = -1, rc = 0;

	if (git_blob_lookup(&blob, x->repo, &it->id) < 0)
		return git_fail(x->e, it->name);
	fd = openat(dir, it->name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	data = git_blob_rawcontent(blob);
	left = (size_t)git_blob_rawsize(blob);
	while (fd >= 0 && left) {
		ssize_t n = write(fd, data, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		data += n;
		left -= (size_t)n;
	}
	if (fd < 0 || left)
		rc = err_set(x->e, ERR_IO,
			     "cannot write '%s' into the export directory: %s",
			     it->name, strerror(errno));
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = err_set(x->e, ERR_IO,
			     "cannot write '%s' into the export directory: %s",
			     it->name, strerror(errno));
	git_blob_free(blob);
	return rc;
}

/*
 * Writes the items into `dest`, each through the descriptor of the
 * directory the export made for it: a path is never resolved, so nothing
 * can lead elsewhere.
 */
static int write_items(struct export *x, const char *dest)
{
	int fds[GITSRC_MAX_DEPTH + 1];
	unsigned int top = 0;
	size_t i;
	int rc = 0;

	fds[0] = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fds[0] < 0)
		return err_set(x->e, ERR_IO, "cannot open '%s': %s", dest,
			       strerror(errno));
	for (i = 0; i < x->n && rc == 0; i++) {
		const struct item *it = &x->items[i];
		int fd;

		while (top > it->depth)
			close(fds[top--]);
		/* pre-order: an item is in the last directory made, or above */
		assert(it->depth == top);
		if (!it->dir) {
			rc = write_file(x, fds[top], it);
		} else if (mkdirat(fds[top], it->name, 0700) < 0 ||
			   (fd = openat(fds[top], it->name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						O_CLOEXEC)) < 0) {
			rc = err_set(x->e, ERR_IO,
				     "cannot create '%s' in the export "
				     "directory: %s",
				     it->name, strerror(errno));
		} else {
			fds[++top] = fd;
		}
	}
	while (top > 0)
		close(fds[top--]);
	close(fds[0]);
	return rc;
}

int gitsrc_export(const char *repo_path, const char *rev, const char *path,
		  const char *dest, char commit[41], struct err *e)
{
	static const struct manifest_limits lim = MANIFEST_LIMITS_INIT;
	git_object *obj = NULL;
	git_commit *c = NULL;
	git_tree *tree = NULL, *sub = NULL;
	git_tree_entry *entry = NULL;
	struct export x;
	size_t i;
	int rc, g;

	memset(&x, 0, sizeof(x));
	x.lim = lim;
	x.e = e;
	x.commit = commit;
	commit[0] = '\0';
	if ((rc = open_repo(&x.repo, repo_path, e)) < 0)
		goto out;
	if (git_revparse_single(&obj, x.repo, rev ? rev : "HEAD") < 0 ||
	    git_object_peel((git_object **)&c, obj, GIT_OBJECT_COMMIT) < 0) {
		rc = git_fail(e, rev ? rev : "HEAD");
		err_prefix(e, "revision");
		goto out;
	}
	git_oid_tostr(commit, 41, git_commit_id(c));
	if (git_repository_odb(&x.odb, x.repo) < 0) {
		rc = git_fail(e, repo_path);
		goto out;
	}
	if ((g = git_commit_tree(&tree, c)) < 0) {
		rc = unreadable(&x, NULL, g);
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
		buf_puts(&x.where, path);
		if ((g = git_tree_lookup(&sub, x.repo,
					 git_tree_entry_id(entry))) < 0) {
			rc = unreadable(&x, NULL, g);
			goto out;
		}
	}
	/* everything is checked before the first byte is written */
	if ((rc = collect(&x, sub ? sub : tree, 0, true)) < 0)
		goto out;
	rc = write_items(&x, dest);
out:
	for (i = 0; i < x.n; i++)
		free(x.items[i].name);
	free(x.items);
	buf_release(&x.where);
	git_tree_entry_free(entry);
	git_tree_free(sub);
	git_tree_free(tree);
	git_commit_free(c);
	git_object_free(obj);
	git_odb_free(x.odb);
	git_repository_free(x.repo);
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

/* the origin of a URL: scheme://host[:port], lower case; scp-style
 * user@host:path is ssh://host */
static void origin_of(struct buf *out, const char *url)
{
	const char *p = strstr(url, "://"), *host, *end;
	const char *at;

	buf_clear(out);
	if (!p) {
		host = url;
		end = host + strcspn(host, ":");
		buf_puts(out, "ssh://");
	} else {
		buf_put(out, url, (size_t)(p - url) + 3);
		host = p + 3;
		end = host + strcspn(host, "/?#");
	}
	/* no user: the same server whoever logs in */
	at = memchr(host, '@', (size_t)(end - host));
	if (at)
		host = at + 1;
	buf_put(out, host, (size_t)(end - host));
	for (p = out->ptr; *p; p++)
		out->ptr[p - out->ptr] = (char)tolower((unsigned char)*p);
}

static int credentials(git_credential **out, const char *url,
		       const char *username, unsigned int allowed,
		       void *payload)
{
	struct fetch *f = payload;
	const struct gitsrc_remote *r = f->r;
	struct buf asked = BUF_INIT, ours = BUF_INIT;
	bool same;

	/* a secret goes to the configured server only, whatever a
	 * redirect said */
	origin_of(&asked, url);
	origin_of(&ours, r->url);
	same = !strcmp(asked.ptr, ours.ptr);
	if (!same)
		err_set(&f->why, ERR_INVALID,
			"%s asks for credentials, but the source is %s: they "
			"are sent to the configured origin only",
			asked.ptr, ours.ptr);
	buf_release(&asked);
	buf_release(&ours);
	if (!same)
		return -1;
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

/* the CA certificates https trusts: caFile, or the system's bundle */
static const char *ca_bundle(const char *ca_file)
{
	static const char *const bundles[] = {
		"/etc/ssl/certs/ca-certificates.crt",
		"/etc/pki/tls/certs/ca-bundle.crt",
		"/etc/ssl/cert.pem",
	};
	size_t i;

	for (i = 0; !ca_file && i < sizeof(bundles) / sizeof(bundles[0]); i++)
		if (access(bundles[i], R_OK) == 0)
			return bundles[i];
	return ca_file;
}

/*
 * Our own verdict on the server's certificate `der`, as OpenSSL gives it
 * (X509_V_OK, or why not): its chain to a CA of `ca_file` (or the
 * system's) and its name, `host` as an IP address or a DNS name. The
 * chain holds what the CA file holds and the certificate itself: an
 * intermediate CA the server sends is not seen here, so it must be in
 * the CA file.
 */
static long tls_verdict(const unsigned char *der, size_t len, const char *host,
			const char *ca_file)
{
	const char *bundle = ca_bundle(ca_file);
	X509 *x = d2i_X509(NULL, &der, (long)len);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	char ip[64];
	long rc = X509_V_ERR_UNSPECIFIED;
	size_t n = strlen(host);

	if (!x || !store || !ctx || !bundle ||
	    X509_STORE_load_locations(store, bundle, NULL) != 1 ||
	    X509_STORE_CTX_init(ctx, store, x, NULL) != 1)
		goto out;
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	/* [::1] is ::1 */
	if (host[0] == '[' && n > 2 && n < sizeof(ip) && host[n - 1] == ']')
		snprintf(ip, sizeof(ip), "%.*s", (int)(n - 2), host + 1);
	else
		snprintf(ip, sizeof(ip), "%s", host);
	if (X509_VERIFY_PARAM_set1_ip_asc(param, ip) != 1 &&
	    X509_VERIFY_PARAM_set1_host(param, host, 0) != 1)
		goto out;
	rc = X509_verify_cert(ctx) == 1 ? X509_V_OK :
					  X509_STORE_CTX_get_error(ctx);
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(x);
	return rc;
}

/* whether `host` is an IPv4 or IPv6 address, not a name */
static bool is_ip(const char *host)
{
	unsigned char addr[16];
	char bare[64];
	size_t n = strlen(host);

	if (host[0] == '[' && n > 2 && n < sizeof(bare) && host[n - 1] == ']')
		snprintf(bare, sizeof(bare), "%.*s", (int)(n - 2), host + 1);
	else
		snprintf(bare, sizeof(bare), "%s", host);
	return inet_pton(AF_INET, bare, addr) == 1 ||
	       inet_pton(AF_INET6, bare, addr) == 1;
}

/*
 * The server's TLS certificate. For a DNS name, libgit2's check
 * (`valid`) decides. For an IP address it cannot: libgit2 1.5 reads the
 * comparison of an IP address SAN backwards, refusing the right address
 * and taking any other. The verdict is then ours alone, with OpenSSL's
 * IP matching (RFC 6125 / 5280 iPAddress). Either way, a refusal says
 * why in OpenSSL's words.
 */
static int tls_check(const git_cert_x509 *cert, int valid, const char *host,
		     struct fetch *f)
{
	long v = tls_verdict(cert->data, cert->len, host, f->r->ca_file);
	const char *why;

	if (is_ip(host) ? v == X509_V_OK : valid)
		return 0;
	if (v == X509_V_ERR_IP_ADDRESS_MISMATCH ||
	    v == X509_V_ERR_HOSTNAME_MISMATCH) {
		err_set(&f->why, ERR_INVALID,
			"the TLS certificate of %s is not issued for %s (its "
			"subject alternative names do not list it); the "
			"connection is refused",
			host, host);
		return -1;
	}
	if (v == X509_V_OK || v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	    v == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	    v == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
	    v == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)
		why = f->r->ca_file ? "not signed by a CA in source.caFile" :
				      "not signed by a CA the system trusts; "
				      "set source.caFile for a private CA";
	else
		why = X509_verify_cert_error_string(v);
	err_set(&f->why, ERR_INVALID,
		"the TLS certificate of %s is not trusted (%s); the "
		"connection is refused",
		host, why);
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
	if (cert->cert_type == GIT_CERT_X509)
		return tls_check((const git_cert_x509 *)cert, valid, host, f);
	if (!valid) {
		err_set(&f->why, ERR_INVALID,
			"the TLS certificate of %s is not trusted; the "
			"connection is refused",
			host);
		return -1;
	}
	return 0;
}

/* a ref the remote did not take (a race, a protected branch) */
static int push_status(const char *ref, const char *status, void *payload)
{
	struct fetch *f = payload;

	if (status)
		err_set(&f->why, ERR_LIMIT, "the remote refused %s: %s", ref,
			status);
	return 0;
}

/* tells libgit2 the CA certificates https trusts */
static int trust(const char *ca_file, struct err *e)
{
	const char *file = ca_bundle(ca_file);

	if (ca_file && access(ca_file, R_OK) < 0)
		return err_set(e, ERR_IO, "source.caFile '%s': %s", ca_file,
			       strerror(errno));
	if (file &&
	    git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, NULL) < 0)
		return git_fail(e, ca_file ? ca_file : "the CA certificates");
	return 0;
}

/*
 * The remote of `r` on `repo`, with the callbacks that authenticate and
 * check the server (into `cb`, for fetch and push alike): anonymous, and
 * without url.*.insteadOf, so the URL is the config's alone (and because
 * libgit2 1.5 leaks a regex match for every config entry that rewrite
 * lookup does not match; fixed in later versions).
 */
static int remote_for(git_remote **out, git_repository *repo,
		      const struct gitsrc_remote *r, struct fetch *f,
		      git_remote_callbacks *cb, struct err *e)
{
	git_remote_create_options copts;

	*out = NULL;
	if (strncmp(r->url, "https://", 8) == 0 && trust(r->ca_file, e) < 0)
		return -1;
	git_remote_create_options_init(&copts,
				       GIT_REMOTE_CREATE_OPTIONS_VERSION);
	copts.repository = repo;
	copts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF;
	if (git_remote_create_with_opts(out, r->url, &copts) < 0)
		return git_fail(e, r->url);
	cb->credentials = credentials;
	cb->certificate_check = certificate;
	cb->payload = f;
	return 0;
}

int gitsrc_fetch(const struct gitsrc_remote *r, const char *dir, struct err *e)
{
	static char heads[] = "+refs/heads/*:refs/heads/*";
	static char tags[] = "+refs/tags/*:refs/tags/*";
	struct buf notes = BUF_INIT;
	char *specs[] = { heads, tags, NULL };
	git_strarray refspecs = { specs, 2 };
	git_fetch_options opts;
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	git_buf head = GIT_BUF_INIT;
	struct fetch f = { r, ssh_port(r->url), 0, ERR_INIT };
	int rc = 0;

	pthread_once(&once, init);
	git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
	if (git_repository_open_bare(&repo, dir) < 0 &&
	    git_repository_init(&repo, dir, 1) < 0) {
		rc = git_fail(e, dir);
		goto out;
	}
	if ((rc = remote_for(&remote, repo, r, &f, &opts.callbacks, e)) < 0)
		goto out;
	if (r->notes_ref) {
		/* the remote's records, beside ours: merged, never forced */
		buf_printf(&notes, "+%s:%s", r->notes_ref, GITSRC_THEIR_NOTES);
		specs[2] = notes.ptr;
		refspecs.count = 3;
	}
	opts.prune = GIT_FETCH_PRUNE;
	opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	/* a redirect to another server is refused, never followed */
	opts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	if (git_remote_fetch(remote, &refspecs, &opts, NULL) < 0) {
		const git_error *g = git_error_last();

		if (f.why.code)
			rc = err_set(e, f.why.code, "%s", f.why.msg);
		else if (g && g->message && strstr(g->message, "redirect"))
			rc = err_set(e, ERR_INVALID,
				     "%s: a redirect to another server is not "
				     "followed (credentials go to the "
				     "configured origin only); set source.url "
				     "to where the repository is",
				     g->message);
		else
			rc = git_fail(e, "fetch");
		err_prefix(e, "%s", r->url);
		goto out;
	}
	/* HEAD: the remote's default branch, for a source with no ref */
	if (git_remote_default_branch(&head, remote) == 0 && head.ptr)
		git_repository_set_head(repo, head.ptr);
out:
	buf_release(&notes);
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

/* ---- notes: the deployment records --------------------------------------- */

int gitsrc_note_read(const char *repo_path, const char *ref, const char *commit,
		     struct buf *out, struct err *e)
{
	git_repository *repo = NULL;
	git_note *note = NULL;
	git_oid id;
	int rc, g;

	buf_clear(out);
	if ((rc = open_repo(&repo, repo_path, e)) < 0)
		return rc;
	if (git_oid_fromstr(&id, commit) < 0) {
		rc = err_set(e, ERR_INVALID, "not a commit id: %s", commit);
	} else if ((g = git_note_read(&note, repo, ref, &id)) == 0) {
		size_t n = strlen(git_note_message(note));

		if (n > GITSRC_MAX_NOTE)
			rc = err_set(e, ERR_LIMIT,
				     "the note of %.7s under %s is %zu bytes; "
				     "notes over %d bytes are not read",
				     commit, ref, n, GITSRC_MAX_NOTE);
		else
			buf_put(out, git_note_message(note), n);
	} else if (g != GIT_ENOTFOUND) {
		rc = git_fail(e, ref);
	}
	git_note_free(note);
	git_repository_free(repo);
	return rc;
}

int gitsrc_note_write(const char *repo_path, const char *ref,
		      const char *commit, const char *text, struct err *e)
{
	git_repository *repo = NULL;
	git_signature *sig = NULL;
	git_oid id, out;
	int rc;

	if ((rc = open_repo(&repo, repo_path, e)) < 0)
		return rc;
	if (git_oid_fromstr(&id, commit) < 0)
		rc = err_set(e, ERR_INVALID, "not a commit id: %s", commit);
	else if (git_signature_now(&sig, "sagesync", "sagesync@localhost") <
			 0 ||
		 git_note_create(&out, repo, ref, sig, sig, &id, text, 1) < 0)
		rc = git_fail(e, ref);
	git_signature_free(sig);
	git_repository_free(repo);
	return rc;
}

struct each_note {
	git_repository *repo;
	git_odb *odb;
	const char *ref;
	int (*fn)(const char *commit, const char *text, void *payload);
	void *payload;
};

static int each_note(const git_oid *blob_id, const git_oid *annotated,
		     void *payload)
{
	struct each_note *n = payload;
	git_blob *blob = NULL;
	struct buf text = BUF_INIT;
	git_object_t type;
	size_t size;
	char hex[41];
	int rc;

	git_oid_tostr(hex, sizeof(hex), annotated);
	/* the size first: a huge note is never loaded */
	if (git_odb_read_header(&size, &type, n->odb, blob_id) < 0)
		return -1;
	if (size > GITSRC_MAX_NOTE)
		return n->fn(hex, NULL, n->payload);
	if (git_blob_lookup(&blob, n->repo, blob_id) < 0)
		return -1;
	buf_put(&text, git_blob_rawcontent(blob),
		(size_t)git_blob_rawsize(blob));
	rc = n->fn(hex, text.ptr ? text.ptr : "", n->payload);
	buf_release(&text);
	git_blob_free(blob);
	return rc;
}

int gitsrc_notes_each(const char *repo_path, const char *ref,
		      int (*fn)(const char *commit, const char *text,
				void *payload),
		      void *payload, struct err *e)
{
	struct each_note n = { NULL, NULL, ref, fn, payload };
	int rc, g;

	if ((rc = open_repo(&n.repo, repo_path, e)) < 0)
		return rc;
	if (git_repository_odb(&n.odb, n.repo) < 0) {
		rc = git_fail(e, repo_path);
	} else {
		g = git_note_foreach(n.repo, ref, each_note, &n);
		if (g < 0 && g != GIT_ENOTFOUND)
			rc = git_fail(e, ref);
	}
	git_odb_free(n.odb);
	git_repository_free(n.repo);
	return rc;
}

struct merge_note {
	git_repository *repo;
	const char *ref;
	char *(*merge)(const char *ours, const char *theirs);
	git_signature *sig;
	int rc;
};

static int merge_one(const char *commit, const char *theirs, void *payload)
{
	struct merge_note *m = payload;
	git_note *note = NULL;
	git_oid id, out;
	char *merged = NULL;
	const char *ours;

	if (!theirs)
		return 0; /* too big to be a note of records: not taken */
	git_oid_fromstr(&id, commit);
	ours = git_note_read(&note, m->repo, m->ref, &id) == 0 ?
		       git_note_message(note) :
		       NULL;
	if (!ours || strcmp(ours, theirs)) {
		merged = ours ? m->merge(ours, theirs) : NULL;
		if (git_note_create(&out, m->repo, m->ref, m->sig, m->sig, &id,
				    merged ? merged : theirs, 1) < 0)
			m->rc = -1;
	}
	free(merged);
	git_note_free(note);
	return m->rc;
}

int gitsrc_notes_merge(const char *repo_path, const char *ref,
		       const char *theirs_ref,
		       char *(*merge)(const char *ours, const char *theirs),
		       struct err *e)
{
	struct merge_note m = { NULL, ref, merge, NULL, 0 };
	git_reference *ours_ref = NULL, *theirs = NULL;
	git_commit *ours_c = NULL, *theirs_c = NULL;
	git_tree *tree = NULL;
	git_oid ours_id, merged;
	int rc;

	if ((rc = open_repo(&m.repo, repo_path, e)) < 0)
		return rc;
	if (git_reference_lookup(&theirs, m.repo, theirs_ref) < 0)
		goto out; /* nothing fetched: nothing to merge */
	if (git_signature_now(&m.sig, "sagesync", "sagesync@localhost") < 0)
		goto fail;
	/* theirs already in ours: nothing to do */
	if (git_reference_name_to_id(&ours_id, m.repo, ref) == 0 &&
	    (git_oid_equal(&ours_id, git_reference_target(theirs)) ||
	     git_graph_descendant_of(m.repo, &ours_id,
				     git_reference_target(theirs)) == 1))
		goto out;
	{
		struct each_note n = { m.repo, NULL, theirs_ref, merge_one,
				       &m };

		if (git_repository_odb(&n.odb, m.repo) < 0 ||
		    git_note_foreach(m.repo, theirs_ref, each_note, &n) < 0 ||
		    m.rc < 0) {
			git_odb_free(n.odb);
			goto fail;
		}
		git_odb_free(n.odb);
	}
	/* a merge commit, so that pushing ours fast-forwards theirs */
	if (git_reference_lookup(&ours_ref, m.repo, ref) < 0 ||
	    git_commit_lookup(&ours_c, m.repo, git_reference_target(ours_ref)) <
		    0 ||
	    git_commit_lookup(&theirs_c, m.repo, git_reference_target(theirs)) <
		    0 ||
	    git_commit_tree(&tree, ours_c) < 0)
		goto fail;
	{
		const git_commit *parents[] = { ours_c, theirs_c };

		if (git_commit_create(&merged, m.repo, ref, m.sig, m.sig, NULL,
				      "Merge the records of another "
				      "controller\n",
				      tree, 2, parents) < 0)
			goto fail;
	}
	goto out;
fail:
	rc = git_fail(e, "merging the deployment records");
out:
	git_tree_free(tree);
	git_commit_free(ours_c);
	git_commit_free(theirs_c);
	git_reference_free(ours_ref);
	git_reference_free(theirs);
	git_signature_free(m.sig);
	git_repository_free(m.repo);
	return rc;
}

int gitsrc_push(const struct gitsrc_remote *r, const char *repo_path,
		const char *ref, struct err *e)
{
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	git_push_options opts;
	struct fetch f = { r, ssh_port(r->url), 0, ERR_INIT };
	struct buf spec = BUF_INIT;
	char *specs[1];
	git_strarray refspecs = { specs, 1 };
	int rc;

	if ((rc = open_repo(&repo, repo_path, e)) < 0)
		return rc;
	git_push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
	buf_printf(&spec, "%s:%s", ref, ref); /* never forced */
	specs[0] = spec.ptr;
	opts.callbacks.push_update_reference = push_status;
	opts.follow_redirects = GIT_REMOTE_REDIRECT_NONE;
	if ((rc = remote_for(&remote, repo, r, &f, &opts.callbacks, e)) < 0)
		goto out;
	if ((rc = git_remote_push(remote, &refspecs, &opts)) < 0) {
		if (f.why.code)
			rc = err_set(e, f.why.code, "%s", f.why.msg);
		else if (rc == GIT_ENONFASTFORWARD)
			rc = err_set(e, ERR_LIMIT,
				     "the remote refused %s: not a "
				     "fast-forward",
				     ref);
		else
			rc = git_fail(e, "push");
		err_prefix(e, "%s", r->url);
	} else if (f.why.code) {
		rc = err_set(e, f.why.code, "%s", f.why.msg);
	}
out:
	buf_release(&spec);
	git_remote_free(remote);
	git_repository_free(repo);
	return rc;
}

int gitsrc_commit_info(const char *repo_path, const char *commit,
		       struct buf *author, struct buf *subject, struct err *e)
{
	git_repository *repo = NULL;
	git_commit *c = NULL;
	git_oid id;
	int rc;

	if ((rc = open_repo(&repo, repo_path, e)) < 0)
		return rc;
	if (git_oid_fromstr(&id, commit) < 0 ||
	    git_commit_lookup(&c, repo, &id) < 0) {
		rc = err_set(e, ERR_NOTFOUND,
			     "commit %.7s is not in the "
			     "repository",
			     commit);
	} else {
		const char *s = git_commit_summary(c);

		buf_clear(author);
		buf_clear(subject);
		buf_puts(author, git_commit_author(c)->name);
		buf_puts(subject, s ? s : "");
	}
	git_commit_free(c);
	git_repository_free(repo);
	return rc;
}

/*
 * The id of what `c` holds under `path` (NULL or "": its whole tree); a
 * zero id when the path is absent.
 */
static int content_id(git_oid *out, git_commit *c, const char *path)
{
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!path || !*path) {
		git_oid_cpy(out, git_commit_tree_id(c));
		return 0;
	}
	if (git_commit_tree(&tree, c) < 0)
		return -1;
	rc = git_tree_entry_bypath(&entry, tree, path);
	if (rc == 0)
		git_oid_cpy(out, git_tree_entry_id(entry));
	else if (rc == GIT_ENOTFOUND)
		rc = 0;
	git_tree_entry_free(entry);
	git_tree_free(tree);
	return rc;
}

int gitsrc_same_content(const char *repo_path, const char *path, const char *a,
			const char *b, struct err *e)
{
	git_repository *repo = NULL;
	git_commit *ca = NULL, *cb = NULL;
	git_oid ia, ib;
	int rc;

	if ((rc = open_repo(&repo, repo_path, e)) < 0)
		return rc;
	if (git_oid_fromstr(&ia, a) < 0 || git_oid_fromstr(&ib, b) < 0)
		rc = err_set(e, ERR_INVALID, "not a commit id: %s / %s", a, b);
	else if (git_commit_lookup(&ca, repo, &ia) < 0 ||
		 git_commit_lookup(&cb, repo, &ib) < 0 ||
		 content_id(&ia, ca, path) < 0 || content_id(&ib, cb, path) < 0)
		rc = git_fail(e, "content");
	else
		rc = git_oid_equal(&ia, &ib);
	git_commit_free(ca);
	git_commit_free(cb);
	git_repository_free(repo);
	return rc;
}

struct splice {
	git_index *index;
	const char *path;
	int rc;
};

static int splice_entry(const char *root, const git_tree_entry *entry,
			void *payload)
{
	struct splice *sp = payload;
	git_index_entry ie;
	struct buf name = BUF_INIT;

	if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB)
		return 0;
	buf_printf(&name, "%s/%s%s", sp->path, root,
		   git_tree_entry_name(entry));
	memset(&ie, 0, sizeof(ie));
	ie.path = name.ptr;
	ie.mode = git_tree_entry_filemode(entry);
	git_oid_cpy(&ie.id, git_tree_entry_id(entry));
	if (git_index_add(sp->index, &ie) < 0)
		sp->rc = -1;
	buf_release(&name);
	return sp->rc;
}

/*
 * `head`'s tree with the directory `path` replaced by `good`'s (absent
 * from `good`: removed), written to the repository as `out`.
 */
static int splice_tree(git_oid *out, git_repository *repo, git_commit *head,
		       git_commit *good, const char *path)
{
	git_index *index = NULL;
	git_tree *ht = NULL, *gt = NULL, *sub = NULL;
	git_tree_entry *entry = NULL;
	struct splice sp = { NULL, path, 0 };
	int rc = -1;

	if (git_index_new(&index) < 0 || git_commit_tree(&ht, head) < 0 ||
	    git_commit_tree(&gt, good) < 0 ||
	    git_index_read_tree(index, ht) < 0 ||
	    git_index_remove_directory(index, path, 0) < 0)
		goto out;
	sp.index = index;
	if (git_tree_entry_bypath(&entry, gt, path) == 0 &&
	    git_tree_entry_type(entry) == GIT_OBJECT_TREE) {
		if (git_tree_lookup(&sub, repo, git_tree_entry_id(entry)) < 0 ||
		    git_tree_walk(sub, GIT_TREEWALK_PRE, splice_entry, &sp) <
			    0 ||
		    sp.rc < 0)
			goto out;
	}
	rc = git_index_write_tree_to(out, index, repo);
out:
	git_tree_entry_free(entry);
	git_tree_free(sub);
	git_tree_free(gt);
	git_tree_free(ht);
	git_index_free(index);
	return rc;
}

/*
 * A commit of tree `tid` with parent `p`, by sagesync, on `branch`: a new
 * branch when `create` (ERR_LIMIT if it exists), else the branch must
 * still be at `p` (ERR_LIMIT when it moved on). Its id into `out`.
 */
static int commit_onto(git_repository *repo, const char *branch, git_commit *p,
		       const git_oid *tid, bool create, const char *message,
		       char out[41], struct err *e)
{
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	git_reference *ref = NULL, *moved = NULL;
	struct buf name = BUF_INIT;
	const git_commit *parents[1];
	git_oid id;
	int rc = 0, made;

	parents[0] = p;
	buf_printf(&name, "refs/heads/%s", branch);
	if (git_tree_lookup(&tree, repo, tid) < 0 ||
	    git_signature_now(&sig, "sagesync", "sagesync@localhost") < 0 ||
	    git_commit_create(&id, repo, NULL, sig, sig, NULL, message, tree, 1,
			      parents) < 0) {
		rc = git_fail(e, "the commit");
	} else if (create) {
		made = git_reference_create(&moved, repo, name.ptr, &id, 0,
					    "sagesync");
		if (made == GIT_EEXISTS)
			rc = err_set(e, ERR_LIMIT, "%s exists already",
				     name.ptr);
		else if (made < 0)
			rc = git_fail(e, name.ptr);
	} else if (git_reference_lookup(&ref, repo, name.ptr) < 0) {
		rc = git_fail(e, name.ptr);
	} else if (!git_oid_equal(git_reference_target(ref),
				  git_commit_id(p))) {
		/* the branch moves only if it is still where it was seen */
		rc = err_set(e, ERR_LIMIT, "%s moved on; nothing committed",
			     name.ptr);
	} else if (git_reference_set_target(&moved, ref, &id, "sagesync") < 0) {
		rc = git_fail(e, name.ptr);
	}
	if (rc == 0)
		git_oid_tostr(out, 41, &id);
	buf_release(&name);
	git_reference_free(moved);
	git_reference_free(ref);
	git_signature_free(sig);
	git_tree_free(tree);
	return rc;
}

int gitsrc_revert_commit(const char *repo_path, const char *branch,
			 const char *path, const char *head, const char *good,
			 const char *message, char out[41], struct err *e)
{
	git_repository *repo = NULL;
	git_commit *h = NULL, *g = NULL;
	git_oid hid, gid, tid;
	int rc;

	if ((rc = open_repo(&repo, repo_path, e)) < 0)
		return rc;
	if (git_oid_fromstr(&hid, head) < 0 ||
	    git_oid_fromstr(&gid, good) < 0 ||
	    git_commit_lookup(&h, repo, &hid) < 0 ||
	    git_commit_lookup(&g, repo, &gid) < 0 ||
	    (path && *path ? splice_tree(&tid, repo, h, g, path) :
			     git_oid_cpy(&tid, git_commit_tree_id(g))) < 0)
		rc = git_fail(e, "the revert commit");
	else
		rc = commit_onto(repo, branch, h, &tid, false, message, out, e);
	git_commit_free(g);
	git_commit_free(h);
	git_repository_free(repo);
	return rc;
}

int gitsrc_commit_files(const char *repo_path, const char *branch,
			const char *parent, bool create,
			const struct gitsrc_file *files, size_t n,
			const char *message, char out[41], struct err *e)
{
	git_repository *repo = NULL;
	git_commit *p = NULL;
	git_tree *pt = NULL;
	git_index *index = NULL;
	git_oid pid, tid;
	size_t i;
	int rc;

	if ((rc = open_repo(&repo, repo_path, e)) < 0)
		return rc;
	if (git_oid_fromstr(&pid, parent) < 0 ||
	    git_commit_lookup(&p, repo, &pid) < 0 ||
	    git_commit_tree(&pt, p) < 0 || git_index_new(&index) < 0 ||
	    git_index_read_tree(index, pt) < 0) {
		rc = git_fail(e, "the commit");
		goto out;
	}
	for (i = 0; i < n; i++) {
		git_index_entry ie;

		memset(&ie, 0, sizeof(ie));
		ie.path = files[i].path;
		ie.mode = GIT_FILEMODE_BLOB;
		/* an in-memory index: the blob is written first */
		if (git_blob_create_from_buffer(&ie.id, repo, files[i].data,
						files[i].len) < 0 ||
		    git_index_add(index, &ie) < 0) {
			rc = git_fail(e, files[i].path);
			goto out;
		}
	}
	if (git_index_write_tree_to(&tid, index, repo) < 0)
		rc = git_fail(e, "the commit");
	else
		rc = commit_onto(repo, branch, p, &tid, create, message, out,
				 e);
out:
	git_tree_free(pt);
	git_index_free(index);
	git_commit_free(p);
	git_repository_free(repo);
	return rc;
}

bool gitsrc_ref_name_valid(const char *name)
{
	int valid = 0;

	pthread_once(&once, init);
	return git_reference_name_is_valid(&valid, name) == 0 && valid;
}

int gitsrc_ref_id(const char *repo_path, const char *name, char out[41],
		  struct err *e)
{
	git_repository *repo = NULL;
	git_oid id;
	int rc;

	out[0] = '\0';
	if ((rc = open_repo(&repo, repo_path, e)) < 0)
		return rc;
	rc = git_reference_name_to_id(&id, repo, name);
	if (rc == 0) {
		git_oid_tostr(out, 41, &id);
		rc = 1;
	} else if (rc == GIT_ENOTFOUND) {
		rc = 0;
	} else {
		rc = git_fail(e, name);
	}
	git_repository_free(repo);
	return rc;
}

int gitsrc_ref_exists(const char *repo_path, const char *name, struct err *e)
{
	git_repository *repo = NULL;
	git_reference *ref = NULL;
	int rc;

	if ((rc = open_repo(&repo, repo_path, e)) < 0)
		return rc;
	rc = git_reference_lookup(&ref, repo, name);
	if (rc == 0)
		rc = 1;
	else if (rc == GIT_ENOTFOUND)
		rc = 0;
	else
		rc = git_fail(e, name);
	git_reference_free(ref);
	git_repository_free(repo);
	return rc;
}
