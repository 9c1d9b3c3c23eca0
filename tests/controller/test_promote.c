/*
 * Unit tests for controller/promote: promote_edit() on manifests written
 * to a temporary directory, with the exact text of each file it changes
 * (only the values that follow the new version differ; comments, quoting
 * and layout stay), and the errors for what it cannot or must not edit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "../helpers.h"
#include "buf.h"
#include "err.h"
#include "file.h"
#include "promote.h"

/* ---- examples/quickstart, with the values a promotion changes as
 * parameters, so that "before" and "after" differ in those only ---- */

#define QS_REGISTRY(NAME, VERSION)                                          \
	"# The model version this environment serves, and its approval in " \
	"the\n"                                                             \
	"# SageMaker Model Registry. Promoting a new version is a pull "    \
	"request that\n"                                                    \
	"# adds or bumps one of these.\n"                                   \
	"apiVersion: sagesync/v1\n"                                         \
	"kind: ModelPackage\n"                                              \
	"metadata:\n"                                                       \
	"  name: " NAME "\n"                                                \
	"spec:\n"                                                           \
	"  group: churn\n"                                                  \
	"  version: " VERSION "\n"                                          \
	"  approval: Approved\n"                                            \
	"  description: Gradient-boosted churn model retrained on October " \
	"data\n"

#define QS_MODELS(NAME, PACKAGE)                                              \
	"# What the endpoint serves: one model from the registry, and one "   \
	"built\n"                                                             \
	"# straight from a container image and an artifact in S3 (a "         \
	"challenger).\n"                                                      \
	"apiVersion: sagesync/v1\n"                                           \
	"kind: Model\n"                                                       \
	"metadata:\n"                                                         \
	"  name: " NAME "\n"                                                  \
	"spec:\n"                                                             \
	"  executionRoleArn: "                                                \
	"arn:aws:iam::123456789012:role/sagemaker-execution\n"                \
	"  modelPackage: " PACKAGE "\n"                                       \
	"  tags:\n"                                                           \
	"    team: growth\n"                                                  \
	"---\n"                                                               \
	"apiVersion: sagesync/v1\n"                                           \
	"kind: Model\n"                                                       \
	"metadata:\n"                                                         \
	"  name: churn-challenger\n"                                          \
	"spec:\n"                                                             \
	"  executionRoleArn: "                                                \
	"arn:aws:iam::123456789012:role/sagemaker-execution\n"                \
	"  containers:\n"                                                     \
	"    - image: "                                                       \
	"683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-" \
	"1\n"                                                                 \
	"      modelDataUrl: "                                                \
	"s3://acme-ml-artifacts/churn/challenger/model.tar.gz\n"              \
	"      environment:\n"                                                \
	"        SAGEMAKER_PROGRAM: inference.py\n"                           \
	"  tags:\n"                                                           \
	"    team: growth\n"

#define QS_ENDPOINT(MODEL)                                                    \
	"# The endpoint: 90% of traffic to the current model, 10% to the\n"   \
	"# challenger. Updates shift traffic blue/green with a canary step, " \
	"and\n"                                                               \
	"# SageMaker rolls back on its own if the 5xx alarm fires "           \
	"meanwhile.\n"                                                        \
	"apiVersion: sagesync/v1\n"                                           \
	"kind: Endpoint\n"                                                    \
	"metadata:\n"                                                         \
	"  name: churn-prod\n"                                                \
	"spec:\n"                                                             \
	"  variants:\n"                                                       \
	"    - name: current\n"                                               \
	"      model: " MODEL "\n"                                            \
	"      instanceType: ml.m5.large\n"                                   \
	"      instanceCount: 2\n"                                            \
	"      weight: 9\n"                                                   \
	"      autoscaling:\n"                                                \
	"        min: 2\n"                                                    \
	"        max: 6\n"                                                    \
	"        targetInvocationsPerInstance: 750\n"                         \
	"        scaleInCooldown: 300\n"                                      \
	"        scaleOutCooldown: 60\n"                                      \
	"    - name: challenger\n"                                            \
	"      model: churn-challenger\n"                                     \
	"      instanceType: ml.m5.large\n"                                   \
	"      instanceCount: 1\n"                                            \
	"      weight: 1\n"                                                   \
	"  deployment:\n"                                                     \
	"    strategy: Canary\n"                                              \
	"    stepSize: {type: CAPACITY_PERCENT, value: 10}\n"                 \
	"    waitIntervalSeconds: 300\n"                                      \
	"    terminationWaitSeconds: 120\n"                                   \
	"    rollbackAlarms: [churn-prod-5xx]\n"                              \
	"  bakeSeconds: 300\n"                                                \
	"  healthAlarms: [churn-prod-5xx, churn-prod-latency]\n"              \
	"  tags:\n"                                                           \
	"    team: growth\n"                                                  \
	"    cost-center: ml-platform\n"

static const char qs_alarms[] =
	"# The alarms that decide whether a deploy is healthy. The controller\n"
	"# watches them for bakeSeconds after each deploy and rolls back if "
	"one\n"
	"# fires; SageMaker also watches the 5xx alarm while it shifts "
	"traffic.\n"
	"apiVersion: sagesync/v1\n"
	"kind: Alarm\n"
	"metadata:\n"
	"  name: churn-prod-5xx\n"
	"spec:\n"
	"  endpoint: churn-prod\n"
	"  variant: current\n"
	"  metric: Invocation5XXErrors\n"
	"  statistic: Sum\n"
	"  period: 60\n"
	"  evaluationPeriods: 3\n"
	"  datapointsToAlarm: 2\n"
	"  threshold: 5\n"
	"  comparison: GreaterThanOrEqualToThreshold\n"
	"  treatMissingData: notBreaching\n"
	"---\n"
	"apiVersion: sagesync/v1\n"
	"kind: Alarm\n"
	"metadata:\n"
	"  name: churn-prod-latency\n"
	"spec:\n"
	"  endpoint: churn-prod\n"
	"  variant: current\n"
	"  metric: ModelLatency\n"
	"  statistic: Average\n"
	"  period: 60\n"
	"  evaluationPeriods: 5\n"
	"  threshold: 250000\n"
	"  comparison: GreaterThanThreshold\n"
	"  treatMissingData: notBreaching\n"
	"  description: Average model latency above 250 ms for 5 minutes\n";

/* ---- small manifests for the other cases ---------------------------- */

#define ROLE "arn:aws:iam::123456789012:role/sm"

/* a Model serving ModelPackage PACKAGE, named NAME */
#define MODEL(NAME, PACKAGE)             \
	"apiVersion: sagesync/v1\n"      \
	"kind: Model\n"                  \
	"metadata:\n"                    \
	"  name: " NAME "\n"             \
	"spec:\n"                        \
	"  executionRoleArn: " ROLE "\n" \
	"  modelPackage: " PACKAGE "\n"

/* an Endpoint named NAME with one variant serving MODEL */
#define ENDPOINT(NAME, MODEL)               \
	"apiVersion: sagesync/v1\n"         \
	"kind: Endpoint\n"                  \
	"metadata:\n"                       \
	"  name: " NAME "\n"                \
	"spec:\n"                           \
	"  variants:\n"                     \
	"    - name: primary\n"             \
	"      model: " MODEL "\n"          \
	"      instanceType: ml.m5.large\n" \
	"      instanceCount: 1\n"

/* a ModelPackage NAME of group GROUP at VERSION, approval APPROVAL */
#define PACKAGE(NAME, GROUP, VERSION, APPROVAL) \
	"apiVersion: sagesync/v1\n"             \
	"kind: ModelPackage\n"                  \
	"metadata:\n"                           \
	"  name: " NAME "\n"                    \
	"spec:\n"                               \
	"  group: " GROUP "\n"                  \
	"  version: " VERSION "\n"              \
	"  approval: " APPROVAL "\n"

/* ---- helpers -------------------------------------------------------- */

/* Writes the NULL-terminated pairs NAME, TEXT into the directory. */
static void write_files(const struct tmpdir *t, const char *const *files)
{
	for (; files[0]; files += 2)
		tmpdir_write(t, files[0], files[1]);
}

#define WRITE(t, ...)                                           \
	do {                                                    \
		const char *const f_[] = { __VA_ARGS__, NULL }; \
                                                                \
		write_files((t), f_);                           \
	} while (0)

/* The new text of `path` in `out`; fails when `path` is not one of them. */
static const char *text_of(const struct promote_files *out, const char *path)
{
	size_t i;

	for (i = 0; i < out->n; i++)
		if (!strcmp(out->paths[i], path))
			return out->texts[i];
	fprintf(stderr, "'%s' is not among the %zu changed files:\n", path,
		out->n);
	for (i = 0; i < out->n; i++)
		fprintf(stderr, "  %s\n", out->paths[i]);
	fail();
	return NULL;
}

/* The file DIR/NAME still holds `text`: promote_edit writes nothing. */
static void assert_on_disk(const struct tmpdir *t, const char *name,
			   const char *text)
{
	struct buf path = BUF_INIT, got = BUF_INIT;
	struct err e = ERR_INIT;

	buf_printf(&path, "%s/%s", t->path, name);
	assert_int_equal(file_read(&got, path.ptr, 1 << 20, &e), 0);
	assert_string_equal(buf_cstr(&got), text);
	buf_release(&path);
	buf_release(&got);
}

/* promote_edit() that must edit: returns with `out` filled. */
static void edit_ok(const struct tmpdir *t, const char *group, long version,
		    const char *description, struct promote_files *out)
{
	struct err e = ERR_INIT;
	int rc = promote_edit(t->path, group, version, description, out, &e);

	if (rc != 1)
		fail_msg("promote_edit returned %d: %s", rc, e.msg);
}

/*
 * promote_edit() that must fail, with nothing in `out` and each of
 * `words` in the message; "%D" in a word stands for the directory.
 */
static void edit_fails(const struct tmpdir *t, const char *group, long version,
		       const char *const *words)
{
	struct promote_files out;
	struct err e = ERR_INIT;
	int rc = promote_edit(t->path, group, version, NULL, &out, &e);
	bool ok = rc < 0 && e.code < 0 && out.n == 0 && !out.paths &&
		  !out.texts;

	if (!ok)
		fprintf(stderr, "expected an error, got %d (%zu files): %s\n",
			rc, out.n, e.msg);
	for (; ok && *words; words++) {
		struct buf w = BUF_INIT;
		const char *d = strstr(*words, "%D");

		if (d)
			buf_printf(&w, "%.*s%s%s", (int)(d - *words), *words,
				   t->path, d + 2);
		else
			buf_puts(&w, *words);
		if (!strstr(e.msg, w.ptr)) {
			fprintf(stderr, "no '%s' in: %s\n", w.ptr, e.msg);
			ok = false;
		}
		buf_release(&w);
	}
	if (rc > 0)
		promote_files_release(&out);
	if (!ok)
		fail();
}

#define EDIT_FAILS(t, group, version, ...)                      \
	do {                                                    \
		const char *const w_[] = { __VA_ARGS__, NULL }; \
                                                                \
		edit_fails((t), (group), (version), w_);        \
	} while (0)

/* ---- the quickstart ------------------------------------------------- */

/*
 * churn 7 -> 8 on the quickstart: the package, the Model of the same
 * name and its modelPackage, and the variant serving it follow; approval
 * was Approved already; the alarms are not touched.
 */
static void test_promote__quickstart_7_to_8(void **state)
{
	struct tmpdir *t = *state;
	struct promote_files out;

	WRITE(t, "model-registry.yaml", QS_REGISTRY("churn-v7", "7"),
	      "models.yaml", QS_MODELS("churn-v7", "churn-v7"), "endpoint.yaml",
	      QS_ENDPOINT("churn-v7"), "alarms.yaml", qs_alarms);
	edit_ok(t, "churn", 8, NULL, &out);
	assert_int_equal(out.from, 7);
	assert_string_equal(out.package, "churn-v8");
	/* in the set's order: the files sorted by name */
	assert_int_equal(out.n, 3);
	assert_string_equal(out.paths[0], "endpoint.yaml");
	assert_string_equal(out.paths[1], "model-registry.yaml");
	assert_string_equal(out.paths[2], "models.yaml");
	assert_string_equal(text_of(&out, "model-registry.yaml"),
			    QS_REGISTRY("churn-v8", "8"));
	assert_string_equal(text_of(&out, "models.yaml"),
			    QS_MODELS("churn-v8", "churn-v8"));
	assert_string_equal(text_of(&out, "endpoint.yaml"),
			    QS_ENDPOINT("churn-v8"));
	promote_files_release(&out);
	assert_int_equal(out.n, 0);
	assert_null(out.paths);

	assert_on_disk(t, "model-registry.yaml", QS_REGISTRY("churn-v7", "7"));
	assert_on_disk(t, "models.yaml", QS_MODELS("churn-v7", "churn-v7"));
	assert_on_disk(t, "endpoint.yaml", QS_ENDPOINT("churn-v7"));
	assert_on_disk(t, "alarms.yaml", qs_alarms);
}

/* Replaces every `from` in `s` by `to`. */
static void replace_all(struct buf *out, const char *s, const char *from,
			const char *to)
{
	const char *p;
	size_t fl = strlen(from);

	buf_clear(out);
	while ((p = strstr(s, from))) {
		buf_put(out, s, (size_t)(p - s));
		buf_puts(out, to);
		s = p + fl;
	}
	buf_puts(out, s);
}

/*
 * The quickstart as it is in the tree (read, not written): promoted, each
 * file is its text with churn-v7 and version 7 replaced, nothing else.
 */
static void test_promote__quickstart_in_the_tree(void **state)
{
	static const char *const changed[] = { "endpoint.yaml",
					       "model-registry.yaml",
					       "models.yaml" };
	struct promote_files out;
	struct err e = ERR_INIT;
	struct buf path = BUF_INIT, before = BUF_INIT, a = BUF_INIT,
		   b = BUF_INIT;
	size_t i;

	(void)state;
	assert_int_equal(promote_edit(EXAMPLES "/quickstart", "churn", 8, NULL,
				      &out, &e),
			 1);
	assert_int_equal(out.from, 7);
	assert_string_equal(out.package, "churn-v8");
	assert_int_equal(out.n, 3);
	for (i = 0; i < 3; i++) {
		buf_clear(&path);
		buf_printf(&path, "%s/quickstart/%s", EXAMPLES, changed[i]);
		buf_clear(&before);
		assert_int_equal(file_read(&before, path.ptr, 1 << 20, &e), 0);
		replace_all(&a, buf_cstr(&before), "churn-v7", "churn-v8");
		replace_all(&b, buf_cstr(&a), "version: 7\n", "version: 8\n");
		assert_string_equal(out.paths[i], changed[i]);
		assert_string_equal(out.texts[i], buf_cstr(&b));
	}
	promote_files_release(&out);
	buf_release(&path);
	buf_release(&before);
	buf_release(&a);
	buf_release(&b);
}

/* ---- names ---------------------------------------------------------- */

/*
 * A package name without "v7" (a stable name) is kept: only the version
 * changes, and nothing that names the package is touched.
 */
static void test_promote__name_without_version_is_kept(void **state)
{
	struct tmpdir *t = *state;
	struct promote_files out;

	WRITE(t, "package.yaml",
	      PACKAGE("churn-current", "churn", "7", "Approved"), "model.yaml",
	      MODEL("churn-current", "churn-current"), "endpoint.yaml",
	      ENDPOINT("churn-prod", "churn-current"));
	edit_ok(t, "churn", 8, NULL, &out);
	assert_int_equal(out.from, 7);
	assert_string_equal(out.package, "churn-current");
	assert_int_equal(out.n, 1);
	assert_string_equal(text_of(&out, "package.yaml"),
			    PACKAGE("churn-current", "churn", "8", "Approved"));
	promote_files_release(&out);
}

/*
 * A Model of another name follows the package by its modelPackage only:
 * it keeps its name, and so the variants serving it are not touched.
 */
static void test_promote__model_of_another_name_keeps_it(void **state)
{
	struct tmpdir *t = *state;
	struct promote_files out;

	WRITE(t, "package.yaml", PACKAGE("churn-v7", "churn", "7", "Approved"),
	      "model.yaml", MODEL("churn-serving", "churn-v7"), "endpoint.yaml",
	      ENDPOINT("churn-prod", "churn-serving"));
	edit_ok(t, "churn", 8, NULL, &out);
	assert_int_equal(out.n, 2);
	assert_string_equal(text_of(&out, "package.yaml"),
			    PACKAGE("churn-v8", "churn", "8", "Approved"));
	assert_string_equal(text_of(&out, "model.yaml"),
			    MODEL("churn-serving", "churn-v8"));
	promote_files_release(&out);
}

/*
 * "v7" is replaced only as a whole version: after the start or a '-',
 * and not followed by a digit (next_name); otherwise the name is kept.
 */
static void test_promote__v7_matches_as_a_whole_version(void **state)
{
	static const struct {
		const char *name, *after;
	} cases[] = {
		{ "churn-v70", "churn-v70" }, /* v70 is not v7 */
		{ "churn-v17", "churn-v17" },
		{ "churnv7", "churnv7" }, /* not after a separator */
		{ "v7", "v8" },
		{ "churn-v7-canary", "churn-v8-canary" },
		{ "xgb-v7", "xgb-v8" },
		{ "churn-v7-v7", "churn-v7-v8" }, /* the last one */
	};
	struct tmpdir *t = *state;
	struct buf text = BUF_INIT, want = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct promote_files out;

		buf_clear(&text);
		buf_printf(&text, PACKAGE("%s", "churn", "7", "Approved"),
			   cases[i].name);
		tmpdir_write(t, "package.yaml", text.ptr);
		edit_ok(t, "churn", 8, NULL, &out);
		buf_clear(&want);
		buf_printf(&want, PACKAGE("%s", "churn", "8", "Approved"),
			   cases[i].after);
		assert_string_equal(out.package, cases[i].after);
		assert_int_equal(out.n, 1);
		assert_string_equal(out.texts[0], want.ptr);
		promote_files_release(&out);
	}
	buf_release(&text);
	buf_release(&want);
}

/* Quoted values keep their quotes, single or double. */
static void test_promote__quoted_names_keep_their_quotes(void **state)
{
	struct tmpdir *t = *state;
	struct promote_files out;

	WRITE(t, "package.yaml",
	      PACKAGE("\"churn-v7\"", "churn", "7", "'Approved'"), "model.yaml",
	      MODEL("'churn-v7'", "\"churn-v7\""), "endpoint.yaml",
	      ENDPOINT("churn-prod", "'churn-v7'"));
	edit_ok(t, "churn", 8, NULL, &out);
	assert_int_equal(out.n, 3);
	assert_string_equal(text_of(&out, "package.yaml"),
			    PACKAGE("\"churn-v8\"", "churn", "8",
				    "'Approved'"));
	assert_string_equal(text_of(&out, "model.yaml"),
			    MODEL("'churn-v8'", "\"churn-v8\""));
	assert_string_equal(text_of(&out, "endpoint.yaml"),
			    ENDPOINT("churn-prod", "'churn-v8'"));
	promote_files_release(&out);
}

/* A quoted version is a string, which the manifests refuse: no edit. */
static void test_promote__quoted_version_is_refused(void **state)
{
	struct tmpdir *t = *state;

	WRITE(t, "package.yaml",
	      PACKAGE("churn-v7", "churn", "'7'", "Approved"));
	EDIT_FAILS(t, "churn", 8, "%D/package.yaml:7:12: ",
		   "spec.version: expected an integer", "nothing is proposed");
}

/* ---- version and approval ------------------------------------------- */

static void test_promote__approval_becomes_approved(void **state)
{
	static const char *const approvals[] = { "PendingManualApproval",
						 "Rejected" };
	struct tmpdir *t = *state;
	struct buf text = BUF_INIT;
	size_t i;

	for (i = 0; i < 2; i++) {
		struct promote_files out;

		buf_clear(&text);
		buf_printf(&text,
			   "# a comment\n" PACKAGE("churn-v7", "churn", "7",
						   "%s # inline comment"),
			   approvals[i]);
		tmpdir_write(t, "package.yaml", text.ptr);
		edit_ok(t, "churn", 8, NULL, &out);
		assert_int_equal(out.n, 1);
		assert_string_equal(
			out.texts[0],
			"# a comment\n" PACKAGE("churn-v8", "churn", "8",
						"Approved # inline comment"));
		promote_files_release(&out);
	}
	buf_release(&text);
}

/*
 * `approval` is a required field of a ModelPackage (docs/manifests.md
 * section 2), so a package without one is refused by the manifests
 * before any edit: the line promote_edit would insert under `version`
 * is never reached through promote_edit().
 */
static void test_promote__package_without_approval_is_refused(void **state)
{
	struct tmpdir *t = *state;

	WRITE(t, "package.yaml",
	      "apiVersion: sagesync/v1\nkind: ModelPackage\nmetadata:\n"
	      "  name: churn-v7\nspec:\n  group: churn\n  version: 7\n");
	EDIT_FAILS(t, "churn", 8, "%D/package.yaml:5:1: ",
		   "missing required field 'approval'");
}

/* Git deploys that version, or a newer one: nothing to do. */
static void test_promote__git_has_that_version_or_newer(void **state)
{
	static const long versions[] = { 7, 6, 1 };
	struct tmpdir *t = *state;
	size_t i;

	WRITE(t, "package.yaml", PACKAGE("churn-v7", "churn", "7", "Approved"),
	      "model.yaml", MODEL("churn-v7", "churn-v7"));
	for (i = 0; i < 3; i++) {
		struct promote_files out;
		struct err e = ERR_INIT;

		assert_int_equal(promote_edit(t->path, "churn", versions[i],
					      NULL, &out, &e),
				 0);
		assert_int_equal(e.code, 0);
		assert_int_equal(out.n, 0);
		assert_null(out.paths);
		assert_null(out.texts);
		assert_int_equal(out.from, 7);
		assert_string_equal(out.package, "churn-v7");
		promote_files_release(&out);
	}
}

/* Two packages of the group: the newer version is edited, not the last
 * written or the first by name. */
static void test_promote__newest_package_of_the_group(void **state)
{
	struct tmpdir *t = *state;
	struct promote_files out;
	static const char packages_before[] =
		PACKAGE("churn-v7", "churn", "7", "Approved") "---\n" PACKAGE(
			"churn-v6", "churn", "6", "Approved");
	static const char packages_after[] =
		PACKAGE("churn-v8", "churn", "8", "Approved") "---\n" PACKAGE(
			"churn-v6", "churn", "6", "Approved");
	static const char models_before[] = MODEL(
		"churn-v6", "churn-v6") "---\n" MODEL("churn-v7", "churn-v7");
	static const char models_after[] = MODEL(
		"churn-v6", "churn-v6") "---\n" MODEL("churn-v8", "churn-v8");

	WRITE(t, "a-packages.yaml", packages_before, "b-models.yaml",
	      models_before, "c-endpoint.yaml",
	      ENDPOINT("churn-prod", "churn-v7"), "d-old.yaml",
	      ENDPOINT("churn-old", "churn-v6"));
	edit_ok(t, "churn", 8, NULL, &out);
	assert_int_equal(out.from, 7);
	assert_string_equal(out.package, "churn-v8");
	assert_int_equal(out.n, 3);
	assert_string_equal(text_of(&out, "a-packages.yaml"), packages_after);
	assert_string_equal(text_of(&out, "b-models.yaml"), models_after);
	assert_string_equal(text_of(&out, "c-endpoint.yaml"),
			    ENDPOINT("churn-prod", "churn-v8"));
	promote_files_release(&out);
}

/* Packages of other groups are not touched. */
static void test_promote__other_groups_stay(void **state)
{
	struct tmpdir *t = *state;
	struct promote_files out;
	static const char before[] =
		PACKAGE("fraud-v7", "fraud", "7", "Approved") "---\n" PACKAGE(
			"churn-v7", "churn", "7", "Approved");
	static const char after[] =
		PACKAGE("fraud-v7", "fraud", "7", "Approved") "---\n" PACKAGE(
			"churn-v9", "churn", "9", "Approved");

	WRITE(t, "packages.yaml", before, "models.yaml",
	      MODEL("fraud-v7", "fraud-v7"));
	edit_ok(t, "churn", 9, NULL, &out);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.paths[0], "packages.yaml");
	assert_string_equal(out.texts[0], after);
	promote_files_release(&out);
}

/*
 * Everything in one file, in a subdirectory: four edits in one text,
 * applied from the bottom so that the earlier offsets hold; the path is
 * relative to the directory.
 */
static void test_promote__one_file_with_every_manifest(void **state)
{
	struct tmpdir *t = *state;
	struct promote_files out;
	struct buf dir = BUF_INIT;
	static const char before[] =
		"# all of prod\n" PACKAGE("churn-v7", "churn", "7", "PendingManualApproval") "---\n" MODEL(
			"churn-v7",
			"churn-v7") "---\n" ENDPOINT("churn-prod",
						     "churn-v7") "# end\n";
	static const char after[] =
		"# all of prod\n" PACKAGE("churn-v10", "churn", "10", "Approved") "---\n" MODEL(
			"churn-v10",
			"churn-v10") "---\n" ENDPOINT("churn-prod",
						      "churn-v10") "# end\n";

	buf_printf(&dir, "%s/prod", t->path);
	assert_int_equal(mkdir(dir.ptr, 0700), 0);
	buf_release(&dir);
	WRITE(t, "prod/all.yaml", before);
	edit_ok(t, "churn", 10, NULL, &out);
	assert_int_equal(out.from, 7);
	assert_string_equal(out.package, "churn-v10");
	assert_int_equal(out.n, 1);
	assert_string_equal(out.paths[0], "prod/all.yaml");
	assert_string_equal(out.texts[0], after);
	promote_files_release(&out);
}

/* Flow mappings: several edits on one line, from the right. */
static void test_promote__flow_mappings(void **state)
{
	struct tmpdir *t = *state;
	struct promote_files out;

	WRITE(t, "all.yaml",
	      "apiVersion: sagesync/v1\nkind: ModelPackage\n"
	      "metadata: {name: churn-v7}\n"
	      "spec: {group: churn, version: 7, approval: "
	      "PendingManualApproval}\n"
	      "---\n"
	      "apiVersion: sagesync/v1\nkind: Model\n"
	      "metadata: {name: churn-v7}\n"
	      "spec: {executionRoleArn: \"" ROLE "\", modelPackage: "
	      "churn-v7}\n");
	edit_ok(t, "churn", 12, NULL, &out);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.texts[0],
			    "apiVersion: sagesync/v1\nkind: ModelPackage\n"
			    "metadata: {name: churn-v12}\n"
			    "spec: {group: churn, version: 12, approval: "
			    "Approved}\n"
			    "---\n"
			    "apiVersion: sagesync/v1\nkind: Model\n"
			    "metadata: {name: churn-v12}\n"
			    "spec: {executionRoleArn: \"" ROLE
			    "\", modelPackage: churn-v12}\n");
	promote_files_release(&out);
}

/* ---- description ---------------------------------------------------- */

/* The description is replaced when given and the package has one. */
static void test_promote__description(void **state)
{
	struct tmpdir *t = *state;
	struct promote_files out;

	WRITE(t, "package.yaml",
	      PACKAGE("churn-v7", "churn", "7",
		      "Approved") "  description: October data\n");
	edit_ok(t, "churn", 8, "November data", &out);
	assert_string_equal(
		out.texts[0],
		PACKAGE("churn-v8", "churn", "8",
			"Approved") "  description: \"November data\"\n");
	promote_files_release(&out);
	/* none given, or empty: it stays */
	edit_ok(t, "churn", 8, NULL, &out);
	assert_string_equal(
		out.texts[0],
		PACKAGE("churn-v8", "churn", "8",
			"Approved") "  description: October data\n");
	promote_files_release(&out);
	edit_ok(t, "churn", 8, "", &out);
	assert_string_equal(
		out.texts[0],
		PACKAGE("churn-v8", "churn", "8",
			"Approved") "  description: October data\n");
	promote_files_release(&out);
	/* a quoted one keeps its quotes, the quote in it doubled */
	tmpdir_write(t, "package.yaml",
		     PACKAGE("churn-v7", "churn", "7",
			     "Approved") "  description: 'October data'\n");
	edit_ok(t, "churn", 8, "Bob's data", &out);
	assert_string_equal(
		out.texts[0],
		PACKAGE("churn-v8", "churn", "8",
			"Approved") "  description: 'Bob''s data'\n");
	promote_files_release(&out);
	/* what YAML would read as something else is quoted: null, a
	 * dash, a control character */
	tmpdir_write(t, "package.yaml",
		     PACKAGE("churn-v7", "churn", "7",
			     "Approved") "  description: October data\n");
	edit_ok(t, "churn", 8, "null", &out);
	assert_string_equal(out.texts[0],
			    PACKAGE("churn-v8", "churn", "8",
				    "Approved") "  description: \"null\"\n");
	promote_files_release(&out);
	edit_ok(t, "churn", 8, "-", &out);
	assert_string_equal(out.texts[0],
			    PACKAGE("churn-v8", "churn", "8",
				    "Approved") "  description: \"-\"\n");
	promote_files_release(&out);
	edit_ok(t, "churn", 8, "a\001b", &out);
	assert_string_equal(out.texts[0],
			    PACKAGE("churn-v8", "churn", "8",
				    "Approved") "  description: \"a\\x01b\"\n");
	promote_files_release(&out);
	/* a package without one gets none */
	tmpdir_write(t, "package.yaml",
		     PACKAGE("churn-v7", "churn", "7", "Approved"));
	edit_ok(t, "churn", 8, "November data", &out);
	assert_string_equal(out.texts[0],
			    PACKAGE("churn-v8", "churn", "8", "Approved"));
	promote_files_release(&out);
}

/* ---- errors --------------------------------------------------------- */

static void test_promote__no_package_of_the_group(void **state)
{
	struct tmpdir *t = *state;
	struct promote_files out;
	struct err e = ERR_INIT;

	WRITE(t, "package.yaml", PACKAGE("churn-v7", "churn", "7", "Approved"));
	EDIT_FAILS(t, "fraud", 8, "no ModelPackage manifest of group 'fraud'");
	assert_int_equal(promote_edit(t->path, "fraud", 8, NULL, &out, &e),
			 ERR_NOTFOUND);
	/* a package given by its ARN has no version to edit */
	WRITE(t, "package.yaml",
	      "apiVersion: sagesync/v1\nkind: ModelPackage\nmetadata:\n"
	      "  name: churn-v7\nspec:\n"
	      "  arn: arn:aws:sagemaker:us-east-1:123456789012:"
	      "model-package/churn/7\n"
	      "  approval: Approved\n");
	EDIT_FAILS(t, "churn", 8, "no ModelPackage manifest of group 'churn'");
}

/* Invalid manifests: nothing is proposed, and the first error says where. */
static void test_promote__invalid_manifests(void **state)
{
	struct tmpdir *t = *state;

	WRITE(t, "package.yaml", PACKAGE("churn-v7", "churn", "7", "Approved"),
	      "model.yaml", MODEL("churn-v7", "churn-v6"), "endpoint.yaml",
	      "apiVersion: sagesync/v1\nkind: Endpoint\nmetadata:\n"
	      "  name: churn-prod\nspec:\n  variants:\n"
	      "    - name: primary\n      model: churn-v7\n"
	      "      instanceType: ml.m5.large\n      instanceCount: many\n");
	EDIT_FAILS(t, "churn", 8, "the manifests have 2 errors",
		   "(first: %D/endpoint.yaml:10:22: ", "nothing is proposed");
	/* YAML that does not parse */
	tmpdir_write(t, "model.yaml", MODEL("churn-v7", "churn-v7"));
	tmpdir_write(t, "endpoint.yaml", "a: [b\n");
	EDIT_FAILS(t, "churn", 8,
		   "the manifests have 1 error (first: "
		   "%D/endpoint.yaml:2:1: ");
}

/* The new name is another ModelPackage's, or another Model's. */
static void test_promote__new_name_taken(void **state)
{
	struct tmpdir *t = *state;
	static const char packages[] =
		PACKAGE("churn-v7", "churn", "7", "Approved") "---\n" PACKAGE(
			"churn-v8", "legacy", "1", "Approved");

	WRITE(t, "packages.yaml", packages, "model.yaml",
	      MODEL("churn-v7", "churn-v7"));
	EDIT_FAILS(t, "churn", 8,
		   "a ModelPackage named 'churn-v8' exists already");

	WRITE(t, "packages.yaml",
	      PACKAGE("churn-v7", "churn", "7", "Approved") "---\n" PACKAGE(
		      "legacy-v1", "legacy", "1", "Approved"),
	      "model.yaml",
	      MODEL("churn-v7", "churn-v7") "---\n" MODEL("churn-v8",
							  "legacy-v1"));
	EDIT_FAILS(t, "churn", 8, "a Model named 'churn-v8' exists already");
}

/*
 * A value whose text is not the plain or simply quoted string (an escape,
 * a block scalar) cannot be replaced in place: the error says where.
 */
static void test_promote__value_not_editable_in_place(void **state)
{
	struct tmpdir *t = *state;

	/* "\x76" is 'v': the value is churn-v7, the text is not */
	WRITE(t, "package.yaml", PACKAGE("churn-v7", "churn", "7", "Approved"),
	      "model.yaml", MODEL("churn-v7", "\"churn-\\x767\""));
	EDIT_FAILS(t, "churn", 8,
		   "%D/model.yaml:7:17: 'churn-v7' is not written as a plain "
		   "or simply quoted value; it cannot be edited in place");

	/* a block scalar */
	tmpdir_write(t, "model.yaml", MODEL("churn-v7", ">-\n    churn-v7"));
	EDIT_FAILS(t, "churn", 8, "%D/model.yaml:7:17: 'churn-v7'",
		   "cannot be edited in place");

	/* the package's own name, written with an escape */
	tmpdir_write(t, "model.yaml", MODEL("churn-v7", "churn-v7"));
	tmpdir_write(t, "package.yaml",
		     PACKAGE("\"churn\\u002Dv7\"", "churn", "7", "Approved"));
	EDIT_FAILS(t, "churn", 8, "%D/package.yaml:4:9: 'churn-v7'",
		   "cannot be edited in place");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)
	const struct CMUnitTest tests[] = {
		T(test_promote__quickstart_7_to_8),
		T(test_promote__quickstart_in_the_tree),
		T(test_promote__name_without_version_is_kept),
		T(test_promote__model_of_another_name_keeps_it),
		T(test_promote__v7_matches_as_a_whole_version),
		T(test_promote__quoted_names_keep_their_quotes),
		T(test_promote__quoted_version_is_refused),
		T(test_promote__approval_becomes_approved),
		T(test_promote__package_without_approval_is_refused),
		T(test_promote__git_has_that_version_or_newer),
		T(test_promote__newest_package_of_the_group),
		T(test_promote__other_groups_stay),
		T(test_promote__one_file_with_every_manifest),
		T(test_promote__flow_mappings),
		T(test_promote__description),
		T(test_promote__no_package_of_the_group),
		T(test_promote__invalid_manifests),
		T(test_promote__new_name_taken),
		T(test_promote__value_not_editable_in_place),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
