/*
 * libFuzzer target for gitsrc_export(), the one way a tree reaches the
 * file system: the input is a small program that builds trees of any
 * names, modes and shapes (written as raw objects, as a hostile pusher
 * would), and the export of their commit must either write only
 * directories and regular files inside its export directory, or refuse
 * and write nothing. Anything else aborts: a file beside or above the
 * export directory, a link, a refusal that left files behind.
 *
 * The input, record by record: a mode byte (low 4 bits pick a mode, the
 * high bit ends the current tree), a target byte (a blob, a link
 * target, a commit, a tree built before, or a missing object), then the
 * entry's name up to a NUL byte. Trees are built last first, so each may
 * hold those after it; the first is the commit's root, exported whole
 * or, when the first byte is odd, from under a tree "env".
 */
#include <dirent.h>
#include <git2.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "file.h"
#include "gitsrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TREES 8
#define LEVELS 6 /* directories between the scratch root and the box */

static char root[256]; /* the scratch directory of this process */
static char base[512]; /* root/l/l/l/l/l/l: what escapes would reach */
static char repo_path[600];
static git_repository *repo;
static git_odb *odb;
static git_oid manifest, text, link_up, commit_id, missing;

static void fatal(const char *what)
{
	fprintf(stderr, "fuzz_tree: %s\n", what);
	abort();
}

static void write_obj(git_oid *out, const void *d, size_t n, git_object_t t)
{
	if (git_odb_write(out, odb, d, n, t) < 0)
		fatal("cannot write an object");
}

static void cleanup(void)
{
	git_odb_free(odb);
	git_repository_free(repo);
	git_libgit2_shutdown();
	file_remove_tree(root);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	static const char text_c[] = "tree "
				     "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
				     "\nauthor a <a@b> 1 +0000\ncommitter a "
				     "<a@b> 1 +0000\n\nsub\n";
	size_t i;

	snprintf(root, sizeof(root), "%s/fuzz-tree-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		fatal("mkdtemp");
	snprintf(base, sizeof(base), "%s", root);
	for (i = 0; i < LEVELS; i++) {
		strncat(base, "/l", sizeof(base) - strlen(base) - 1);
		if (mkdir(base, 0700) < 0)
			fatal("mkdir");
	}
	snprintf(repo_path, sizeof(repo_path), "%s/repo.git", root);
	git_libgit2_init();
	if (git_repository_init(&repo, repo_path, 1) < 0 ||
	    git_repository_odb(&odb, repo) < 0)
		fatal("cannot make the scratch repository");
	write_obj(&manifest, "kind: Model\n", 12, GIT_OBJECT_BLOB);
	write_obj(&text, "text\n", 5, GIT_OBJECT_BLOB);
	write_obj(&link_up, "../../..", 8, GIT_OBJECT_BLOB);
	write_obj(&commit_id, text_c, sizeof(text_c) - 1, GIT_OBJECT_COMMIT);
	memset(&missing, 0x42, sizeof(missing));
	atexit(cleanup);
}

/* how many entries `path` holds; `only`, if set, must be the one */
static size_t count(const char *path, const char *only)
{
	DIR *d = opendir(path);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		fatal("a directory of the scratch tree is gone");
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (only && strcmp(de->d_name, only))
			fatal("something was written outside the export");
		n++;
	}
	closedir(d);
	return n;
}

/* every entry below `path` is a directory or a regular file */
static void only_dirs_and_files(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	struct buf sub = BUF_INIT;
	struct stat st;

	if (!d)
		fatal("cannot read the export");
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		buf_clear(&sub);
		buf_printf(&sub, "%s/%s", path, de->d_name);
		if (lstat(sub.ptr, &st) < 0)
			fatal("lstat");
		if (S_ISDIR(st.st_mode))
			only_dirs_and_files(sub.ptr);
		else if (!S_ISREG(st.st_mode))
			fatal("the export wrote something not a file");
	}
	closedir(d);
	buf_release(&sub);
}

static const char *const modes[16] = {
	"40000",  "100644", "100755", "120000",	 "160000", "100664",
	"100600", "0",	    "40755",  "644",	 "40000",  "100644",
	"40000",  "100644", "1",      "0100644",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf trees[MAX_TREES], box = BUF_INIT, dest = BUF_INIT;
	git_oid ids[MAX_TREES], top, c;
	struct buf commit = BUF_INIT;
	struct err e = ERR_INIT;
	size_t i = 1, n = 1, k;
	char got[41], hex[41];
	int rc;

	if (!repo)
		setup();
	if (size < 1)
		return 0;
	memset(trees, 0, sizeof(trees));
	/* the records, tree by tree */
	while (i + 2 <= size) {
		uint8_t m = data[i], t = data[i + 1];
		const uint8_t *name = data + i + 2;
		const uint8_t *end = memchr(name, 0, size - i - 2);
		size_t len = end ? (size_t)(end - name) : size - i - 2;

		buf_printf(&trees[n - 1], "%s ", modes[m & 15]);
		buf_put(&trees[n - 1], name, len);
		buf_put(&trees[n - 1], "", 1);
		/* the target: kept as its tree index, resolved below */
		buf_putc(&trees[n - 1], (char)t);
		i += 2 + len + 1;
		if ((m & 0x80) && n < MAX_TREES)
			n++;
	}
	/* built last first, so that each entry's tree exists */
	for (k = n; k-- > 0;) {
		struct buf raw = BUF_INIT;
		const char *p = trees[k].ptr;
		const char *stop = p ? p + trees[k].len : NULL;

		while (p && p < stop) {
			const char *nul = memchr(p, 0, (size_t)(stop - p));
			uint8_t t;
			const git_oid *id;

			if (!nul || nul + 1 >= stop)
				break;
			t = (uint8_t)nul[1];
			switch (t % 8) {
			case 0:
				id = &manifest;
				break;
			case 1:
				id = &text;
				break;
			case 2:
				id = &link_up;
				break;
			case 3:
				id = &commit_id;
				break;
			case 4:
				id = &missing;
				break;
			default:
				/* a tree built already, or the empty blob */
				id = k + 1 + t / 8 % 4 < n ?
					     &ids[k + 1 + t / 8 % 4] :
					     &text;
			}
			buf_put(&raw, p, (size_t)(nul - p) + 1);
			buf_put(&raw, id->id, GIT_OID_RAWSZ);
			p = nul + 2;
		}
		write_obj(&ids[k], raw.ptr ? raw.ptr : "", raw.len,
			  GIT_OBJECT_TREE);
		buf_release(&raw);
	}
	top = ids[0];
	if (data[0] & 1) {
		struct buf raw = BUF_INIT;

		buf_puts(&raw, "40000 env");
		buf_put(&raw, "", 1);
		buf_put(&raw, ids[0].id, GIT_OID_RAWSZ);
		write_obj(&top, raw.ptr, raw.len, GIT_OBJECT_TREE);
		buf_release(&raw);
	}
	buf_printf(&commit,
		   "tree %s\nauthor a <a@b> 1 +0000\ncommitter a <a@b> 1 "
		   "+0000\n\nfuzz\n",
		   git_oid_tostr_s(&top));
	write_obj(&c, commit.ptr, commit.len, GIT_OBJECT_COMMIT);
	git_oid_tostr(hex, sizeof(hex), &c);

	buf_printf(&box, "%s/box", base);
	buf_printf(&dest, "%s/export", box.ptr);
	if (mkdir(box.ptr, 0700) < 0 || mkdir(dest.ptr, 0700) < 0)
		fatal("cannot make the export directory");
	rc = gitsrc_export(repo_path, hex, data[0] & 1 ? "env" : NULL, dest.ptr,
			   got, &e);
	/* nothing beside the export directory, on any level above it */
	count(box.ptr, "export");
	count(base, "box");
	{
		struct buf up = BUF_INIT;

		buf_puts(&up, base);
		for (k = 0; k < LEVELS; k++) {
			char *slash = strrchr(up.ptr, '/');

			*slash = '\0';
			up.len = (size_t)(slash - up.ptr);
			count(up.ptr, k + 1 < LEVELS ? "l" : NULL);
		}
		if (count(root, NULL) != 2) /* l and repo.git */
			fatal("something was written into the scratch root");
		buf_release(&up);
	}
	if (rc < 0 && count(dest.ptr, NULL) != 0)
		fatal("a refused export left files behind");
	if (rc < 0 && e.code != ERR_INVALID && e.code != ERR_IO &&
	    e.code != ERR_NOTFOUND)
		fatal("an unexpected kind of error");
	only_dirs_and_files(dest.ptr);
	file_remove_tree(box.ptr);
	for (k = 0; k < MAX_TREES; k++)
		buf_release(&trees[k]);
	buf_release(&box);
	buf_release(&dest);
	buf_release(&commit);
	return 0;
}
