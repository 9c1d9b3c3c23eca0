/*
 * Unit tests for manifests/manifest: loading trees of files into a typed,
 * validated set; whole-set checks; file-system limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../helpers.h"
#include "buf.h"
#include "manifest.h"

#define HEAD "apiVersion: sagesync/v1\n"

static const char model_doc[] = HEAD
	"kind: Model\nmetadata: {name: m1}\nspec:\n"
	"  executionRoleArn: arn:aws:iam::123456789012:role/r\n"
	"  containers: [{image: img, modelDataUrl: 's3://b/k'}]\n";

static void load_fail(const char *path, struct diag_list *d)
{
	struct manifest_set *set = NULL;

	assert_int_equal(manifest_load(&set, path, NULL, d), -1);
	assert_null(set);
	assert_true(d->n > 0);
}

static void test_manifest__quickstart_loads_into_typed_structs(void **state)
{
	struct diag_list d = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;
	const struct mf_endpoint *e;
	const struct mf_model *m;
	const struct mf_model_package *p;
	const struct mf_alarm *a;

	(void)state;
	if (manifest_load(&set, EXAMPLES "/quickstart", NULL, &d) < 0) {
		diag_print(&d, stderr);
		fail();
	}
	assert_int_equal(set->n_packages, 1);
	assert_int_equal(set->n_models, 2);
	assert_int_equal(set->n_endpoints, 1);
	assert_int_equal(set->n_alarms, 2);
	assert_int_equal(manifest_set_count(set), 6);
	assert_int_equal(set->n_files, 4);

	p = manifest_find_package(set, "churn-v7");
	assert_non_null(p);
	assert_string_equal(p->group, "churn");
	assert_int_equal(p->version.v, 7);
	assert_int_equal(p->approval, MF_APPROVAL_APPROVED);

	m = manifest_find_model(set, "churn-challenger");
	assert_non_null(m);
	assert_int_equal(m->n_containers, 1);
	assert_string_equal(m->containers[0].model_data_url,
			    "s3://acme-ml-artifacts/churn/challenger/"
			    "model.tar.gz");
	assert_string_equal(m->containers[0].environment.items[0].key,
			    "SAGEMAKER_PROGRAM");
	assert_string_equal(
		manifest_find_model(set, "churn-v7")->model_package.name,
		"churn-v7");

	e = manifest_find_endpoint(set, "churn-prod");
	assert_non_null(e);
	assert_int_equal(e->n_variants, 2);
	assert_string_equal(e->variants[0].instance_type, "ml.m5.large");
	assert_int_equal(e->variants[0].autoscaling->max.v, 6);
	assert_true(
		e->variants[0].autoscaling->target_invocations_per_instance.v ==
		750);
	assert_int_equal(e->deployment->strategy, MF_STRATEGY_CANARY);
	assert_int_equal(e->deployment->step_size->type,
			 MF_CAPACITY_CAPACITY_PERCENT);
	assert_int_equal(e->health_alarms.n, 2);
	assert_int_equal(e->bake_seconds.v, 300);

	a = manifest_find_alarm(set, "churn-prod-5xx");
	assert_non_null(a);
	assert_int_equal(a->statistic, MF_STATISTIC_SUM);
	assert_int_equal(a->comparison,
			 MF_COMPARISON_GREATER_THAN_OR_EQUAL_TO_THRESHOLD);
	assert_int_equal(a->treat_missing_data, MF_MISSING_DATA_NOT_BREACHING);
	assert_string_equal(a->variant.name, "current");
	assert_null(manifest_find_alarm(set, "nope"));
	manifest_set_free(set);
	diag_release(&d);
}

static void test_manifest__kinds_are_sorted_by_name(void **state)
{
	struct tmpdir *t = *state;
	struct diag_list d = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;
	struct buf text = BUF_INIT;
	const char *names[] = { "zeta", "alpha", "mid" };
	int i;

	for (i = 0; i < 3; i++)
		buf_printf(&text,
			   "---\n" HEAD "kind: ModelPackage\nmetadata: {name: "
			   "%s}\nspec: {group: g, version: %d, approval: "
			   "Approved}\n",
			   names[i], i + 1);
	tmpdir_write(t, "p.yaml", text.ptr);
	assert_int_equal(manifest_load(&set, t->path, NULL, &d), 0);
	assert_string_equal(set->packages[0].meta.name, "alpha");
	assert_string_equal(set->packages[1].meta.name, "mid");
	assert_string_equal(set->packages[2].meta.name, "zeta");
	manifest_set_free(set);
	buf_release(&text);
}

static void
test_manifest__errors_across_files_are_all_reported_sorted(void **state)
{
	struct tmpdir *t = *state;
	struct diag_list d = DIAG_LIST_INIT;
	struct buf a = BUF_INIT, b = BUF_INIT;

	buf_printf(&a, "%s/a.yaml", t->path);
	buf_printf(&b, "%s/b.yml", t->path);
	tmpdir_write(t, "b.yml",
		     HEAD "kind: Alarm\nmetadata: {name: al}\nspec: {}\n");
	tmpdir_write(t, "a.yaml",
		     HEAD "kind: Modle\nmetadata: {name: x}\n"
			  "spec: {}\n---\n" HEAD "kind: Model\n");
	load_fail(t->path, &d);
	assert_int_equal(d.n, 8);
	/* a.yaml first, in line order, then b.yml */
	assert_string_equal(d.items[0].file, a.ptr);
	assert_int_equal(d.items[0].line, 2);
	assert_non_null(strstr(d.items[0].msg, "did you mean \"Model\""));
	assert_int_equal(d.items[1].line, 6);
	assert_non_null(strstr(d.items[1].msg, "'metadata'"));
	assert_int_equal(d.items[2].line, 6);
	assert_non_null(strstr(d.items[2].msg, "'spec'"));
	assert_string_equal(d.items[3].file, b.ptr);
	assert_non_null(strstr(d.items[3].msg, "'endpoint'"));
	assert_non_null(strstr(d.items[4].msg, "'metric'"));
	assert_non_null(strstr(d.items[5].msg, "'statistic'"));
	assert_non_null(strstr(d.items[6].msg, "'threshold'"));
	assert_non_null(strstr(d.items[7].msg, "'comparison'"));
	diag_release(&d);
	buf_release(&a);
	buf_release(&b);
}

static void test_manifest__only_yaml_files_and_no_hidden_dirs(void **state)
{
	struct tmpdir *t = *state;
	struct diag_list d = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;
	struct buf p = BUF_INIT;

	buf_printf(&p, "%s/sub", t->path);
	mkdir(p.ptr, 0700);
	buf_clear(&p);
	buf_printf(&p, "%s/.github", t->path);
	mkdir(p.ptr, 0700);
	tmpdir_write(t, "sub/m.yaml", model_doc);
	tmpdir_write(t, "README.md", "not: [yaml");
	tmpdir_write(t, ".github/ci.yaml", "broken: [");
	tmpdir_write(t, "notes.txt", "kind: Model\n");
	assert_int_equal(manifest_load(&set, t->path, NULL, &d), 0);
	assert_int_equal(set->n_models, 1);
	assert_int_equal(set->n_files, 1);
	manifest_set_free(set);
	buf_release(&p);
}

static void test_manifest__symbolic_links_are_refused(void **state)
{
	struct tmpdir *t = *state;
	struct diag_list d = DIAG_LIST_INIT;
	struct buf link = BUF_INIT;

	buf_printf(&link, "%s/secret.yaml", t->path);
	assert_int_equal(symlink("/etc/passwd", link.ptr), 0);
	load_fail(t->path, &d);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.items[0].file, link.ptr);
	assert_int_equal(d.items[0].line, 0);
	assert_non_null(strstr(d.items[0].msg, "symbolic link"));
	diag_release(&d);
	buf_release(&link);
}

/*
 * A link is never followed; one leading outside the directory read, or to
 * a directory (whose manifests would silently be missed), is an error
 * whatever its name; another file's link inside is left alone, and so is
 * one that leads nowhere.
 */
static void
test_manifest__links_out_and_to_directories_are_refused(void **state)
{
	struct tmpdir *t = *state;
	struct diag_list d = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;
	struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT, sub = BUF_INIT;

	tmpdir_write(t, "m.yaml", model_doc);
	tmpdir_write(t, "README", "read me\n");
	buf_printf(&sub, "%s/sub", t->path);
	assert_int_equal(mkdir(sub.ptr, 0700), 0);
	buf_printf(&a, "%s/README.txt", t->path);
	assert_int_equal(symlink("README", a.ptr), 0);
	buf_printf(&b, "%s/gone.txt", t->path);
	assert_int_equal(symlink("nowhere", b.ptr), 0);
	assert_int_equal(manifest_load(&set, t->path, NULL, &d), 0);
	assert_int_equal(set->n_models, 1);
	manifest_set_free(set);

	buf_printf(&c, "%s/passwd.txt", t->path);
	assert_int_equal(symlink("/etc/passwd", c.ptr), 0);
	buf_clear(&a);
	buf_printf(&a, "%s/shared", t->path);
	assert_int_equal(symlink("sub", a.ptr), 0);
	buf_clear(&b);
	buf_printf(&b, "%s/up", sub.ptr);
	assert_int_equal(symlink("../..", b.ptr), 0);
	load_fail(t->path, &d);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.items[0].file, c.ptr);
	assert_non_null(strstr(d.items[0].msg, "leading outside"));
	assert_string_equal(d.items[1].file, a.ptr);
	assert_non_null(strstr(d.items[1].msg, "to a directory"));
	assert_string_equal(d.items[2].file, b.ptr);
	assert_non_null(strstr(d.items[2].msg, "leading outside"));
	diag_release(&d);
	buf_release(&a);
	buf_release(&b);
	buf_release(&c);
	buf_release(&sub);
}

static void test_manifest__file_size_is_limited(void **state)
{
	struct tmpdir *t = *state;
	struct manifest_limits lim = MANIFEST_LIMITS_INIT;
	struct diag_list d = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;

	lim.max_file_bytes = 64;
	tmpdir_write(t, "m.yaml", model_doc);
	assert_int_equal(manifest_load(&set, t->path, &lim, &d), -1);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.items[0].msg, "the limit is 64 bytes"));
	diag_release(&d);
}

static void test_manifest__file_count_is_limited(void **state)
{
	struct tmpdir *t = *state;
	struct manifest_limits lim = MANIFEST_LIMITS_INIT;
	struct diag_list d = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;
	char name[32];
	int i;

	lim.max_files = 3;
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "f%d.yaml", i);
		tmpdir_write(t, name, "");
	}
	assert_int_equal(manifest_load(&set, t->path, &lim, &d), -1);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.items[0].msg, "more than 3 manifest files"));
	diag_release(&d);
}

static void test_manifest__missing_path_is_an_error(void **state)
{
	struct tmpdir *t = *state;
	struct diag_list d = DIAG_LIST_INIT;
	struct buf p = BUF_INIT;

	buf_printf(&p, "%s/nope", t->path);
	load_fail(p.ptr, &d);
	assert_non_null(strstr(d.items[0].msg, "cannot read"));
	diag_release(&d);
	buf_release(&p);
}

static void test_manifest__empty_tree_is_valid_and_empty(void **state)
{
	struct tmpdir *t = *state;
	struct diag_list d = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;

	assert_int_equal(manifest_load(&set, t->path, NULL, &d), 0);
	assert_int_equal(manifest_set_count(set), 0);
	manifest_set_free(set);
}

static void test_manifest__duplicate_across_files_names_first(void **state)
{
	struct tmpdir *t = *state;
	struct diag_list d = DIAG_LIST_INIT;
	struct buf first = BUF_INIT;

	tmpdir_write(t, "a.yaml", model_doc);
	tmpdir_write(t, "b.yaml", model_doc);
	buf_printf(&first, "first defined at %s/a.yaml:3:18", t->path);
	load_fail(t->path, &d);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.items[0].line, 3);
	assert_non_null(strstr(d.items[0].file, "b.yaml"));
	assert_non_null(strstr(d.items[0].msg, "duplicate Model name 'm1'"));
	assert_non_null(strstr(d.items[0].msg, first.ptr));
	diag_release(&d);
	buf_release(&first);
}

static void test_manifest__same_name_in_two_kinds_is_fine(void **state)
{
	struct diag_list d = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;
	const char text[] = HEAD
		"kind: ModelPackage\nmetadata: {name: m1}\n"
		"spec: {group: g, version: 1, approval: Approved}\n---\n" HEAD
		"kind: Model\nmetadata: {name: m1}\nspec:\n"
		"  executionRoleArn: arn:aws:iam::123456789012:role/r\n"
		"  modelPackage: m1\n";

	(void)state;
	manifest_set_new(&set, NULL);
	assert_int_equal(manifest_set_add_buffer(set, "mem.yaml", text,
						 sizeof(text) - 1, &d),
			 0);
	assert_int_equal(manifest_set_finish(set, &d), 0);
	assert_int_equal(manifest_set_count(set), 2);
	manifest_set_free(set);
}

static void test_manifest__model_package_may_be_an_arn(void **state)
{
	struct diag_list d = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;
	const char text[] = HEAD
		"kind: Model\nmetadata: {name: m1}\nspec:\n"
		"  executionRoleArn: arn:aws:iam::123456789012:role/r\n"
		"  modelPackage: arn:aws:sagemaker:us-east-1:123456789012:"
		"model-package/churn/7\n";

	(void)state;
	manifest_set_new(&set, NULL);
	manifest_set_add_buffer(set, "mem.yaml", text, sizeof(text) - 1, &d);
	assert_int_equal(manifest_set_finish(set, &d), 0);
	assert_true(manifest_is_arn(set->models[0].model_package.name));
	manifest_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_manifest__quickstart_loads_into_typed_structs),
		cmocka_unit_test(test_manifest__same_name_in_two_kinds_is_fine),
		cmocka_unit_test(test_manifest__model_package_may_be_an_arn),
#define T(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)
		T(test_manifest__kinds_are_sorted_by_name),
		T(test_manifest__errors_across_files_are_all_reported_sorted),
		T(test_manifest__only_yaml_files_and_no_hidden_dirs),
		T(test_manifest__symbolic_links_are_refused),
		T(test_manifest__links_out_and_to_directories_are_refused),
		T(test_manifest__file_size_is_limited),
		T(test_manifest__file_count_is_limited),
		T(test_manifest__missing_path_is_an_error),
		T(test_manifest__empty_tree_is_valid_and_empty),
		T(test_manifest__duplicate_across_files_names_first),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
