/*
 * Unit tests for controller/gitsrc: the rules a tree entry's name must
 * pass (git's fsck rules and ours), and gitsrc_export() on trees no
 * checkout would write. The trees are written into a scratch repository
 * as raw objects, which libgit2's tree builder would refuse to make: each
 * test then checks the refusal, its message, that the export directory
 * is still empty and that nothing else appeared beside it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <dirent.h>
#include <git2.h>

#include "../helpers.h"
#include "buf.h"
#include "err.h"
#include "gitsrc.h"

/* ---- the name rules ---------------------------------------------------- */

static void test_gitsrc__names_a_tree_may_hold(void **state)
{
	static const char *const ok[] = {
		"alarms.yaml",
		".github",
		".gitignore",
		".gitmodules",
		"git",
		".git2",
		".gitx",
		"git~2",
		"gitx~1",
		".g it",
		"...",
		"mod\xc3\xa8le.yaml", /* UTF-8 */
		"a\\b", /* a backslash is a name's character here */
		".g\xe2\x80\x8bit", /* U+200B is not one HFS+ ignores */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (gitsrc_name_refusal(ok[i]))
			fail_msg("'%s' refused: %s", ok[i],
				 gitsrc_name_refusal(ok[i]));
}

static void test_gitsrc__names_refused_and_why(void **state)
{
	static const char *const refused[][2] = {
		{ "", "empty" },
		{ ".", "'.' names its own directory" },
		{ "..", "'..' climbs out" },
		{ "a/b", "'/'" },
		{ "../x", "'/'" },
		{ "a\nb.yaml", "control character" },
		{ "a\x1b[2J", "control character" },
		{ "a\x7f", "control character" },
		{ ".git", "Git's own directory" },
		{ ".GIT", "Git's own directory" },
		{ ".gIt", "Git's own directory" },
		/* NTFS: trailing dots and spaces, short name, streams */
		{ ".git.", "NTFS" },
		{ ".git ", "NTFS" },
		{ ".git . .", "NTFS" },
		{ "git~1", "NTFS" },
		{ "GIT~1", "NTFS" },
		{ "git~1..", "NTFS" },
		{ ".git::$INDEX_ALLOCATION", "NTFS" },
		{ ".git:foo", "NTFS" },
		{ ".git\\hooks", "NTFS" },
		{ "x\\.git", "NTFS" },
		/* HFS+: code points it ignores, anywhere */
		{ ".g\xe2\x80\x8cit", "HFS+" }, /* U+200C */
		{ "\xef\xbb\xbf.git", "HFS+" }, /* U+FEFF first */
		{ ".GI\xe2\x80\xaeT", "HFS+" }, /* U+202E */
		{ ".git\xe2\x81\xaf", "HFS+" }, /* U+206F last */
	};
	char long_name[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		const char *why = gitsrc_name_refusal(refused[i][0]);

		if (!why || !strstr(why, refused[i][1]))
			fail_msg("entry %zu: '%s': expected '%s', got '%s'", i,
				 refused[i][0], refused[i][1],
				 why ? why : "(taken)");
	}
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_non_null(strstr(gitsrc_name_refusal(long_name), "255 bytes"));
	long_name[255] = '\0';
	assert_null(gitsrc_name_refusal(long_name));
}

/* ---- trees as raw objects ---------------------------------------------- */

struct fixture {
	struct tmpdir t;
	char repo[300]; /* a bare scratch repository */
	char dest[320]; /* the export directory, in `box` */
	char box[300]; /* what must hold nothing but `dest` */
	git_repository *r;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		abort();
	git_libgit2_init();
	tmpdir_make(&f->t);
	snprintf(f->repo, sizeof(f->repo), "%s/repo.git", f->t.path);
	/* deep enough that '..' thrice stays inside the test's directory */
	snprintf(f->box, sizeof(f->box), "%s/a/b/box", f->t.path);
	snprintf(f->dest, sizeof(f->dest), "%s/export", f->box);
	if (git_repository_init(&f->r, f->repo, 1) < 0)
		abort();
	{
		char p[300];

		snprintf(p, sizeof(p), "%s/a", f->t.path);
		mkdir(p, 0700);
		snprintf(p, sizeof(p), "%s/a/b", f->t.path);
		mkdir(p, 0700);
	}
	if (mkdir(f->box, 0700) < 0 || mkdir(f->dest, 0700) < 0)
		abort();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	git_repository_free(f->r);
	tmpdir_remove(&f->t);
	free(f);
	git_libgit2_shutdown();
	return 0;
}

static void blob(struct fixture *f, git_oid *out, const char *text)
{
	assert_int_equal(
		git_blob_create_from_buffer(out, f->r, text, strlen(text)), 0);
}

struct ent {
	const char *mode; /* octal, as a tree holds it */
	const char *name;
	const git_oid *id;
};

/* a tree object of exactly these entries, in this order */
static void rawtree(struct fixture *f, git_oid *out, const struct ent *e,
		    size_t n)
{
	struct buf b = BUF_INIT;
	git_odb *odb = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		buf_printf(&b, "%s %s", e[i].mode, e[i].name);
		buf_put(&b, "", 1);
		buf_put(&b, e[i].id->id, GIT_OID_RAWSZ);
	}
	assert_int_equal(git_repository_odb(&odb, f->r), 0);
	assert_int_equal(git_odb_write(out, odb, b.ptr, b.len, GIT_OBJECT_TREE),
			 0);
	git_odb_free(odb);
	buf_release(&b);
}

/* a tree of one entry */
static void tree1(struct fixture *f, git_oid *out, const char *mode,
		  const char *name, const git_oid *id)
{
	struct ent e = { mode, name, id };

	rawtree(f, out, &e, 1);
}

/* a commit of `tree`, its hex id into `hex` */
static void commit_of(struct fixture *f, const git_oid *tree, char hex[41])
{
	struct buf b = BUF_INIT;
	git_odb *odb = NULL;
	git_oid id;

	buf_printf(&b,
		   "tree %s\nauthor t <t@e> 1700000000 +0000\ncommitter t "
		   "<t@e> 1700000000 +0000\n\ntest\n",
		   git_oid_tostr_s(tree));
	assert_int_equal(git_repository_odb(&odb, f->r), 0);
	assert_int_equal(
		git_odb_write(&id, odb, b.ptr, b.len, GIT_OBJECT_COMMIT), 0);
	git_oid_tostr(hex, 41, &id);
	git_odb_free(odb);
	buf_release(&b);
}

/* a commit whose tree "env" holds exactly these entries */
static void env_commit(struct fixture *f, const struct ent *e, size_t n,
		       char hex[41])
{
	git_oid inner, root;

	rawtree(f, &inner, e, n);
	tree1(f, &root, "40000", "env", &inner);
	commit_of(f, &root, hex);
}

/* how many entries directory `path` holds */
static size_t entries_in(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

/* nothing outside the export directory, up to the test's own */
static void nothing_escaped(const struct fixture *f)
{
	char p[320];

	assert_int_equal(entries_in(f->box), 1); /* export */
	snprintf(p, sizeof(p), "%s/a/b", f->t.path);
	assert_int_equal(entries_in(p), 1); /* box */
	snprintf(p, sizeof(p), "%s/a", f->t.path);
	assert_int_equal(entries_in(p), 1); /* b */
	assert_int_equal(entries_in(f->t.path), 2); /* a, repo.git */
}

/*
 * The commit of a tree `path`/ENTRIES (a tree "env" holding the entries
 * when `in_env`), exported with source path "env" or the whole tree:
 * must be refused with ERR_INVALID, saying `shown` and `why`, writing
 * nothing.
 */
static void refused(struct fixture *f, const struct ent *e, size_t n,
		    const char *shown, const char *why)
{
	struct err err = ERR_INIT;
	struct buf want = BUF_INIT;
	char hex[41], got[41];
	int rc;

	env_commit(f, e, n, hex);
	rc = gitsrc_export(f->repo, hex, "env", f->dest, got, &err);
	if (rc != ERR_INVALID)
		fail_msg("expected ERR_INVALID, got %d: %s", rc, err.msg);
	assert_string_equal(got, hex);
	buf_printf(&want, "tree entry '%s' is refused: ", shown);
	if (!strstr(err.msg, want.ptr) || !strstr(err.msg, why) ||
	    !strstr(err.msg, "nothing of this commit is read"))
		fail_msg("expected '%s' and '%s' in: %s", want.ptr, why,
			 err.msg);
	assert_int_equal(entries_in(f->dest), 0);
	nothing_escaped(f);
	buf_release(&want);
}

#define REFUSED(f, shown, why, ...)                                           \
	do {                                                                  \
		const struct ent e_[] = { __VA_ARGS__ };                      \
                                                                              \
		refused((f), e_, sizeof(e_) / sizeof(e_[0]), (shown), (why)); \
	} while (0)

/* ---- export -------------------------------------------------------------- */

/* what the loader reads is written, as 0700 / 0600; the rest is not */
static void test_gitsrc__export_writes_what_the_loader_reads(void **state)
{
	struct fixture *f = *state;
	struct err err = ERR_INIT;
	git_oid a, readme, sub, hidden, root;
	char hex[41], got[41], p[400];
	struct stat st;

	blob(f, &a, "kind: Model\n");
	blob(f, &readme, "read me\n");
	tree1(f, &sub, "100644", "b.yml", &a);
	tree1(f, &hidden, "100644", "x.yaml", &a);
	{
		struct ent e[] = {
			{ "100644", "README.md", &readme },
			{ "100755", "a.yaml", &a },
			{ "40000", "sub", &sub },
			{ "40000", ".github", &hidden },
			{ "100644", ".hidden.yaml", &a },
		};

		rawtree(f, &root, e, 5);
	}
	commit_of(f, &root, hex);
	assert_int_equal(gitsrc_export(f->repo, hex, NULL, f->dest, got, &err),
			 0);
	assert_int_equal(entries_in(f->dest), 2); /* a.yaml, sub */
	snprintf(p, sizeof(p), "%s/a.yaml", f->dest);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 12);
	snprintf(p, sizeof(p), "%s/sub", f->dest);
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(p, sizeof(p), "%s/sub/b.yml", f->dest);
	assert_int_equal(lstat(p, &st), 0);
	nothing_escaped(f);
}

static void test_gitsrc__export_refuses_climbing_names(void **state)
{
	struct fixture *f = *state;
	git_oid a, t1, t2, t3;

	blob(f, &a, "kind: Model\n");
	tree1(f, &t1, "100644", "planted.yaml", &a);
	tree1(f, &t2, "40000", "..", &t1);
	tree1(f, &t3, "40000", "..", &t2);
	REFUSED(f, "env/..", "'..' climbs out", { "40000", "..", &t3 });
	REFUSED(f, "env/.", "'.' names its own directory",
		{ "40000", ".", &t1 });
	REFUSED(f, "env/../../../planted.yaml", "'/'",
		{ "100644", "../../../planted.yaml", &a });
	/* after good entries too: nothing of them is written either */
	REFUSED(f, "env/z/..", "'..' climbs out", { "100644", "a.yaml", &a },
		{ "40000", "z", &t2 });
}

static void test_gitsrc__export_refuses_dotgit_and_aliases(void **state)
{
	struct fixture *f = *state;
	git_oid cfg, t;

	blob(f, &cfg, "[core]\n\thooksPath = /tmp\n");
	tree1(f, &t, "100644", "config", &cfg);
	REFUSED(f, "env/.git", "Git's own directory", { "40000", ".git", &t });
	REFUSED(f, "env/.Git", "Git's own directory", { "40000", ".Git", &t });
	REFUSED(f, "env/git~1", "NTFS", { "40000", "git~1", &t });
	REFUSED(f, "env/.git. ", "NTFS", { "40000", ".git. ", &t });
	REFUSED(f, "env/.g\\xe2\\x80\\x8cit", "HFS+",
		{ "40000", ".g\xe2\x80\x8cit", &t });
	REFUSED(f, "env/evil\\x0a.yaml", "control character",
		{ "100644", "evil\n.yaml", &cfg });
}

static void test_gitsrc__export_refuses_links_submodules_and_modes(void **state)
{
	struct fixture *f = *state;
	git_oid target, out, a, self_tree;
	char hex[41];

	blob(f, &target, "alarms.yaml");
	blob(f, &out, "/etc/passwd");
	blob(f, &a, "kind: Model\n");
	REFUSED(f, "env/x.yaml", "symbolic link",
		{ "120000", "x.yaml", &target });
	REFUSED(f, "env/notes", "symbolic link", { "120000", "notes", &out });
	rawtree(f, &self_tree, NULL, 0);
	commit_of(f, &self_tree, hex);
	{
		git_oid c;

		git_oid_fromstr(&c, hex);
		REFUSED(f, "env/vendored", "submodule",
			{ "160000", "vendored", &c });
	}
	REFUSED(f, "env/odd.yaml", "mode 100600", { "100600", "odd.yaml", &a });
	REFUSED(f, "env/dev", "mode 020644", { "20644", "dev", &a });
	/* a mode saying file over a tree object */
	REFUSED(f, "env/t.yaml", "not a file's content",
		{ "100644", "t.yaml", &self_tree });
	REFUSED(f, "env/a.yaml", "appears twice", { "100644", "a.yaml", &a },
		{ "100644", "a.yaml", &a });
}

static void test_gitsrc__export_refuses_too_big_deep_or_wide(void **state)
{
	struct fixture *f = *state;
	struct buf big = BUF_INIT, deep_name = BUF_INIT;
	git_oid b, a, deep, bomb;
	size_t i, j;

	buf_grow(&big, 1048577);
	for (i = 0; i < 1048577; i++)
		buf_putc(&big, '#');
	blob(f, &b, big.ptr);
	REFUSED(f, "env/big.yaml",
		"1048577 bytes; a manifest file may have "
		"at most 1048576",
		{ "100644", "big.yaml", &b });
	/* a big file the loader would not read is not looked at */

	blob(f, &a, "kind: Model\n");
	tree1(f, &deep, "100644", "x.yaml", &a);
	for (i = 0; i < GITSRC_MAX_DEPTH; i++) {
		git_oid next;

		tree1(f, &next, "40000", "d", &deep);
		deep = next;
	}
	/* env/d (depth 0) ... : the 65th directory is one too deep */
	buf_puts(&deep_name, "env");
	for (i = 0; i <= GITSRC_MAX_DEPTH; i++)
		buf_puts(&deep_name, "/d");
	REFUSED(f, deep_name.ptr, "nested deeper than 64",
		{ "40000", "d", &deep });

	/* 16 names per level for one tree below: 16^6 entries, 7 objects */
	tree1(f, &bomb, "100644", "x.yaml", &a);
	for (i = 0; i < 6; i++) {
		static const char *const names[] = { "d0", "d1", "d2", "d3",
						     "d4", "d5", "d6", "d7",
						     "d8", "d9", "da", "db",
						     "dc", "dd", "de", "df" };
		struct ent e[16];
		git_oid next;

		for (j = 0; j < 16; j++) {
			e[j].mode = "40000";
			e[j].name = names[j];
			e[j].id = &bomb;
		}
		rawtree(f, &next, e, 16);
		bomb = next;
	}
	{
		const struct ent e[] = { { "40000", "d", &bomb } };
		struct err err = ERR_INIT;
		char hex[41], got[41];

		env_commit(f, e, 1, hex);
		assert_int_equal(gitsrc_export(f->repo, hex, "env", f->dest,
					       got, &err),
				 ERR_INVALID);
		assert_non_null(strstr(err.msg, "more than 200000 entries"));
		assert_non_null(strstr(err.msg, "tree entry 'env/d/"));
		assert_int_equal(entries_in(f->dest), 0);
		nothing_escaped(f);
	}
	buf_release(&big);
	buf_release(&deep_name);
}

/* a malformed tree is the commit's fault; a missing object the mirror's */
static void test_gitsrc__export_malformed_and_missing(void **state)
{
	struct fixture *f = *state;
	struct err err = ERR_INIT;
	git_oid a, missing;
	char got[41];

	blob(f, &a, "kind: Model\n");
	REFUSED(f, "env", "cannot be read", { "100644", "", &a });
	memset(&missing, 0x42, sizeof(missing));
	{
		const struct ent e[] = { { "100644", "gone.yaml", &missing } };
		char hex[41];

		env_commit(f, e, 1, hex);
		assert_int_equal(gitsrc_export(f->repo, hex, "env", f->dest,
					       got, &err),
				 ERR_IO);
		assert_non_null(strstr(err.msg, "'env/gone.yaml'"));
	}
	assert_int_equal(entries_in(f->dest), 0);
}

/* a hostile entry outside the exported path is not this export's */
static void test_gitsrc__export_reads_only_its_path(void **state)
{
	struct fixture *f = *state;
	struct err err = ERR_INIT;
	git_oid a, env, root, link;
	char hex[41], got[41];

	blob(f, &a, "kind: Model\n");
	blob(f, &link, "/etc/passwd");
	tree1(f, &env, "100644", "a.yaml", &a);
	{
		struct ent e[] = { { "120000", "..", &link },
				   { "40000", "env", &env } };

		rawtree(f, &root, e, 2);
	}
	commit_of(f, &root, hex);
	assert_int_equal(gitsrc_export(f->repo, hex, "env", f->dest, got, &err),
			 0);
	assert_int_equal(entries_in(f->dest), 1);
	assert_int_equal(gitsrc_export(f->repo, hex, "nope", f->dest, got,
				       &err),
			 ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "source.path 'nope' is not a dir"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gitsrc__names_a_tree_may_hold),
		cmocka_unit_test(test_gitsrc__names_refused_and_why),
		T(test_gitsrc__export_writes_what_the_loader_reads),
		T(test_gitsrc__export_refuses_climbing_names),
		T(test_gitsrc__export_refuses_dotgit_and_aliases),
		T(test_gitsrc__export_refuses_links_submodules_and_modes),
		T(test_gitsrc__export_refuses_too_big_deep_or_wide),
		T(test_gitsrc__export_malformed_and_missing),
		T(test_gitsrc__export_reads_only_its_path),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
