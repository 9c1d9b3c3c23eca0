/*
 * Unit tests for reconcilers/desired: names, content hashes, requests and
 * ownership tags derived from manifests, without AWS.
 */
#include <jansson.h>
#include <ctype.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "desired.h"

static const struct desired_options opt = { "prod", "abc123", "us-east-1",
					    "123456789012" };

static struct manifest_set *load(const char *text)
{
	struct diag_list d = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;

	manifest_set_new(&set, NULL);
	manifest_set_add_buffer(set, "mem.yaml", text, strlen(text), &d);
	if (manifest_set_finish(set, &d) < 0) {
		diag_print(&d, stderr);
		fail();
	}
	return set;
}

static struct manifest_set *quickstart(void)
{
	struct diag_list d = DIAG_LIST_INIT;
	struct manifest_set *set = NULL;

	assert_int_equal(manifest_load(&set, EXAMPLES "/quickstart", NULL, &d),
			 0);
	return set;
}

static void build(struct desired_set *out, const struct manifest_set *set,
		  const struct desired_options *o)
{
	struct err e = ERR_INIT;

	assert_int_equal(desired_build(out, set, o, &e), 0);
}

static json_t *parse(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);

	assert_non_null(j);
	return j;
}

static const char *str(json_t *j, const char *path)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		j = isdigit((unsigned char)key[0]) ?
			    json_array_get(j, strtoul(key, NULL, 10)) :
			    json_object_get(j, key);
		path = dot + 1;
	}
	return json_string_value(json_object_get(j, path));
}

#define MODEL(name, image)                                                  \
	"---\napiVersion: sagesync/v1\nkind: Model\nmetadata: {name: " name \
	"}\nspec:\n  executionRoleArn: arn:aws:iam::123456789012:role/r\n"  \
	"  containers: [{image: " image "}]\n"
#define ENDPOINT(count)                                                   \
	"---\napiVersion: sagesync/v1\nkind: Endpoint\nmetadata: {name: " \
	"ep}\nspec:\n  variants: [{name: v, model: m, instanceType: "     \
	"ml.m5.large, instanceCount: " count "}]\n"

static void test_desired__quickstart_in_dependency_order(void **state)
{
	static const enum desired_kind order[] = {
		DESIRED_MODEL_PACKAGE,	 DESIRED_MODEL,	   DESIRED_MODEL,
		DESIRED_ENDPOINT_CONFIG, DESIRED_ENDPOINT, DESIRED_SCALING,
		DESIRED_ALARM,		 DESIRED_ALARM,
	};
	struct manifest_set *set = quickstart();
	struct desired_set d;
	size_t i;

	(void)state;
	build(&d, set, &opt);
	assert_int_equal(d.n, 8);
	for (i = 0; i < d.n; i++)
		assert_int_equal(d.items[i].kind, order[i]);
	assert_string_equal(d.items[0].name, "arn:aws:sagemaker:us-east-1:"
					     "123456789012:model-package/"
					     "churn/7");
	assert_string_equal(d.items[4].name, "churn-prod");
	assert_string_equal(d.items[5].name,
			    "endpoint/churn-prod/variant/current");
	desired_set_release(&d);
	manifest_set_free(set);
}

static void test_desired__immutable_names_carry_a_content_hash(void **state)
{
	struct manifest_set *set = quickstart();
	struct desired_set d;
	regex_t re;
	size_t i;

	(void)state;
	assert_int_equal(regcomp(&re, "^[a-z0-9-]+-[0-9a-f]{7}$",
				 REG_EXTENDED | REG_NOSUB),
			 0);
	build(&d, set, &opt);
	for (i = 0; i < d.n; i++) {
		const struct desired_resource *r = &d.items[i];

		if (r->kind != DESIRED_MODEL &&
		    r->kind != DESIRED_ENDPOINT_CONFIG)
			continue;
		assert_int_equal(regexec(&re, r->name, 0, NULL, 0), 0);
		assert_true(strlen(r->name) <= 63);
		assert_int_equal(strlen(r->hash), 7);
	}
	regfree(&re);
	desired_set_release(&d);
	manifest_set_free(set);
}

static void test_desired__same_content_same_names_any_revision(void **state)
{
	struct desired_options other = opt;
	struct manifest_set *set = quickstart();
	struct desired_set a, b;
	size_t i;

	(void)state;
	other.revision = "def456";
	build(&a, set, &opt);
	build(&b, set, &other);
	for (i = 0; i < a.n; i++) {
		assert_string_equal(a.items[i].name, b.items[i].name);
		assert_string_equal(a.items[i].request, b.items[i].request);
		/* only the revision tag differs (packages carry none) */
		if (a.items[i].kind == DESIRED_MODEL_PACKAGE)
			continue;
		assert_non_null(strstr(a.items[i].tags, "\"abc123\""));
		assert_non_null(strstr(b.items[i].tags, "\"def456\""));
		assert_null(strstr(b.items[i].tags, "\"abc123\""));
	}
	desired_set_release(&a);
	desired_set_release(&b);
	manifest_set_free(set);
}

static void test_desired__model_change_cascades_to_config(void **state)
{
	struct manifest_set *s1 = load(MODEL("m", "image:1") ENDPOINT("1"));
	struct manifest_set *s2 = load(MODEL("m", "image:2") ENDPOINT("1"));
	struct manifest_set *s3 = load(MODEL("m", "image:1") ENDPOINT("2"));
	struct desired_set a, b, c;
	json_t *cfg;

	(void)state;
	build(&a, s1, &opt);
	build(&b, s2, &opt);
	build(&c, s3, &opt);
	/* a new image: a new model, hence a new config; same endpoint */
	assert_string_not_equal(a.items[0].name, b.items[0].name);
	assert_string_not_equal(a.items[1].name, b.items[1].name);
	assert_string_equal(a.items[2].name, b.items[2].name);
	/* the config names the hashed model */
	cfg = parse(b.items[1].request);
	assert_string_equal(str(cfg, "ProductionVariants.0.ModelName"),
			    b.items[0].name);
	json_decref(cfg);
	/* an instance count: same model, new config */
	assert_string_equal(a.items[0].name, c.items[0].name);
	assert_string_not_equal(a.items[1].name, c.items[1].name);
	desired_set_release(&a);
	desired_set_release(&b);
	desired_set_release(&c);
	manifest_set_free(s1);
	manifest_set_free(s2);
	manifest_set_free(s3);
}

static void test_desired__ownership_tags_first(void **state)
{
	struct manifest_set *set = quickstart();
	const struct desired_resource *r;
	struct desired_set d;
	json_t *tags;

	(void)state;
	build(&d, set, &opt);
	r = desired_find(&d, DESIRED_ENDPOINT, "churn-prod");
	assert_non_null(r);
	tags = parse(r->tags);
	assert_string_equal(str(tags, "0.Key"), DESIRED_TAG_MANAGED_BY);
	assert_string_equal(str(tags, "0.Value"), "prod");
	assert_string_equal(str(tags, "1.Key"), DESIRED_TAG_REVISION);
	assert_string_equal(str(tags, "1.Value"), "abc123");
	assert_string_equal(str(tags, "2.Key"), DESIRED_TAG_MANIFEST);
	assert_string_equal(str(tags, "2.Value"), "Endpoint/churn-prod");
	assert_string_equal(str(tags, "3.Key"), "team");
	json_decref(tags);
	desired_set_release(&d);
	manifest_set_free(set);
}

static void test_desired__deployment_maps_onto_deployment_config(void **state)
{
	struct manifest_set *set = quickstart();
	struct desired_set d;
	json_t *req;

	(void)state;
	build(&d, set, &opt);
	req = parse(desired_find(&d, DESIRED_ENDPOINT, "churn-prod")->request);
	assert_string_equal(str(req, "DeploymentConfig.BlueGreenUpdatePolicy."
				     "TrafficRoutingConfiguration.Type"),
			    "CANARY");
	assert_string_equal(str(req, "DeploymentConfig.BlueGreenUpdatePolicy."
				     "TrafficRoutingConfiguration.CanarySize."
				     "Type"),
			    "CAPACITY_PERCENT");
	assert_string_equal(str(req, "DeploymentConfig."
				     "AutoRollbackConfiguration.Alarms.0."
				     "AlarmName"),
			    "churn-prod-5xx");
	assert_string_equal(str(req, "EndpointConfigName"), d.items[3].name);
	json_decref(req);
	desired_set_release(&d);
	manifest_set_free(set);
}

static void test_desired__alarm_and_scaling_requests(void **state)
{
	struct manifest_set *set = quickstart();
	struct desired_set d;
	json_t *alarm, *target, *policy;

	(void)state;
	build(&d, set, &opt);
	alarm = parse(
		desired_find(&d, DESIRED_ALARM, "churn-prod-latency")->request);
	assert_string_equal(str(alarm, "Namespace"), "AWS/SageMaker");
	assert_string_equal(str(alarm, "Dimensions.0.Value"), "churn-prod");
	assert_string_equal(str(alarm, "Dimensions.1.Name"), "VariantName");
	assert_int_equal(json_integer_value(json_object_get(alarm, "Period")),
			 60);
	target = parse(d.items[5].request);
	policy = parse(d.items[5].request2);
	assert_int_equal(
		json_integer_value(json_object_get(target, "MaxCapacity")), 6);
	assert_string_equal(str(policy, "TargetTrackingScalingPolicyConfigur"
					"ation.PredefinedMetricSpecification."
					"PredefinedMetricType"),
			    "SageMakerVariantInvocationsPerInstance");
	json_decref(alarm);
	json_decref(target);
	json_decref(policy);
	desired_set_release(&d);
	manifest_set_free(set);
}

static void test_desired__serverless_capture_and_kms(void **state)
{
	struct manifest_set *set = load(
		MODEL("m", "image:1") "---\napiVersion: sagesync/v1\nkind: "
				      "Endpoint\nmetadata: {name: ep}\nspec:\n"
				      "  kmsKeyId: alias/ml\n"
				      "  dataCapture: {samplingPercentage: 20, "
				      "destinationS3Uri: 's3://cap/ep'}\n"
				      "  variants: [{name: v, model: m, "
				      "serverless: {memoryMB: 2048, "
				      "maxConcurrency: 5}}]\n");
	struct desired_set d;
	json_t *cfg;

	(void)state;
	build(&d, set, &opt);
	cfg = parse(d.items[1].request);
	assert_int_equal(
		json_integer_value(json_object_get(
			json_object_get(
				json_array_get(
					json_object_get(cfg,
							"ProductionVariants"),
					0),
				"ServerlessConfig"),
			"MemorySizeInMB")),
		2048);
	assert_null(str(cfg, "ProductionVariants.0.InstanceType"));
	assert_string_equal(str(cfg, "KmsKeyId"), "alias/ml");
	assert_string_equal(str(cfg, "DataCaptureConfig.DestinationS3Uri"),
			    "s3://cap/ep");
	/* both directions captured unless the manifest says otherwise */
	assert_string_equal(str(cfg, "DataCaptureConfig.CaptureOptions.1."
				     "CaptureMode"),
			    "Output");
	assert_true(json_is_true(json_object_get(
		json_object_get(cfg, "DataCaptureConfig"), "EnableCapture")));
	json_decref(cfg);
	desired_set_release(&d);
	manifest_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_desired__quickstart_in_dependency_order),
		cmocka_unit_test(
			test_desired__immutable_names_carry_a_content_hash),
		cmocka_unit_test(
			test_desired__same_content_same_names_any_revision),
		cmocka_unit_test(test_desired__model_change_cascades_to_config),
		cmocka_unit_test(test_desired__ownership_tags_first),
		cmocka_unit_test(
			test_desired__deployment_maps_onto_deployment_config),
		cmocka_unit_test(test_desired__alarm_and_scaling_requests),
		cmocka_unit_test(test_desired__serverless_capture_and_kms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
