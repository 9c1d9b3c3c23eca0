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

/* ---- DataQualityMonitor and RetrainTrigger ----------------------------- */

#define CAPTURED_ENDPOINT                                                 \
	"---\napiVersion: sagesync/v1\nkind: Endpoint\nmetadata: {name: " \
	"ep}\nspec:\n  variants: [{name: v, model: m, instanceType: "     \
	"ml.m5.large}]\n  dataCapture: {samplingPercentage: 20, "         \
	"destinationS3Uri: 's3://cap/ep'}\n"
/* a monitor of the endpoint above: its schedule, instance type and more */
#define MONITOR(schedule, instance, extra)                                   \
	"---\napiVersion: sagesync/v1\nkind: DataQualityMonitor\nmetadata: " \
	"{name: ep-quality}\nspec:\n  endpoint: ep\n  schedule: '" schedule  \
	"'\n  output: s3://reports/ep\n  instanceType: " instance "\n"       \
	"  roleArn: arn:aws:iam::123456789012:role/monitor\n" extra
#define MONITORED(schedule, instance, extra) \
	MODEL("m", "image:1")                \
	CAPTURED_ENDPOINT MONITOR(schedule, instance, extra)
/* the line of mem.yaml where MONITORED's monitor starts (past its ---) */
#define MONITOR_LINE 16
#define ALARM(name)                                                         \
	"---\napiVersion: sagesync/v1\nkind: Alarm\nmetadata: {name: " name \
	"}\nspec:\n  endpoint: ep\n  metric: Invocation5XXErrors\n"         \
	"  statistic: Sum\n  threshold: 5\n"                                \
	"  comparison: GreaterThanOrEqualToThreshold\n"
#define PIPELINE_ARN "arn:aws:sagemaker:us-east-1:123456789012:pipeline/train"
#define TOPIC_ARN "arn:aws:sns:us-east-1:123456789012:ml-oncall"
/* a trigger on `alarms` (a flow sequence's items), and more fields */
#define TRIGGER(alarms, extra)                                           \
	"---\napiVersion: sagesync/v1\nkind: RetrainTrigger\nmetadata: " \
	"{name: ep-retrain}\nspec:\n  alarms: [" alarms "]\n"            \
	"  pipelineArn: " PIPELINE_ARN "\n"                              \
	"  roleArn: arn:aws:iam::123456789012:role/events\n" extra
#define TRIGGERED(alarms, extra) \
	MODEL("m", "image:1")    \
	ENDPOINT("1")            \
	ALARM("ep-5xx")          \
	ALARM("ep-drift") ALARM("ep-latency") TRIGGER(alarms, extra)

/* the one resource of `kind` in `d` */
static const struct desired_resource *only(const struct desired_set *d,
					   enum desired_kind kind)
{
	const struct desired_resource *found = NULL;
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->items[i].kind == kind) {
			assert_null(found);
			found = &d->items[i];
		}
	assert_non_null(found);
	return found;
}

static size_t count_kind(const struct desired_set *d, enum desired_kind kind)
{
	size_t i, n = 0;

	for (i = 0; i < d->n; i++)
		n += d->items[i].kind == kind;
	return n;
}

/* the value at a dotted path, whose parts are keys or array indexes */
static json_t *at(json_t *j, const char *path)
{
	char key[64];
	const char *end;

	for (;;) {
		end = strchr(path, '.');
		snprintf(key, sizeof(key), "%.*s",
			 (int)(end ? (size_t)(end - path) : strlen(path)),
			 path);
		j = isdigit((unsigned char)key[0]) ?
			    json_array_get(j, strtoul(key, NULL, 10)) :
			    json_object_get(j, key);
		if (!end)
			return j;
		path = end + 1;
	}
}

static json_int_t num(json_t *j, const char *path)
{
	assert_true(json_is_integer(at(j, path)));
	return json_integer_value(at(j, path));
}

/* a JSON value as compact text with sorted keys, to compare in one go */
static void assert_json(json_t *j, const char *want)
{
	char *text =
		json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	assert_non_null(text);
	assert_string_equal(text, want);
	free(text);
}

static void test_desired__monitor_job_definition_and_schedule(void **state)
{
	struct manifest_set *set =
		load(MONITORED("cron(0 * ? * * *)", "ml.m5.xlarge", ""));
	const struct desired_resource *job, *sched;
	struct desired_set d;
	json_t *req, *s;
	regex_t re;

	(void)state;
	build(&d, set, &opt);
	/* the job definition first: the schedule names it */
	job = only(&d, DESIRED_MONITOR_JOB);
	sched = only(&d, DESIRED_MONITOR_SCHEDULE);
	assert_true(job < sched);
	assert_int_equal(regcomp(&re, "^ep-quality-[0-9a-f]{7}$",
				 REG_EXTENDED | REG_NOSUB),
			 0);
	assert_int_equal(regexec(&re, job->name, 0, NULL, 0), 0);
	regfree(&re);
	assert_string_equal(job->hash, job->name + strlen("ep-quality-"));
	assert_string_equal(job->manifest, "DataQualityMonitor/ep-quality");
	req = parse(job->request);
	assert_string_equal(str(req, "JobDefinitionName"), job->name);
	assert_string_equal(str(req, "DataQualityAppSpecification.ImageUri"),
			    "156813124566.dkr.ecr.us-east-1.amazonaws.com/"
			    "sagemaker-model-monitor-analyzer");
	assert_string_equal(
		str(req, "DataQualityJobInput.EndpointInput.EndpointName"),
		"ep");
	assert_string_equal(str(req, "DataQualityJobOutputConfig."
				     "MonitoringOutputs.0.S3Output.S3Uri"),
			    "s3://reports/ep");
	assert_string_equal(str(req, "JobResources.ClusterConfig."
				     "InstanceType"),
			    "ml.m5.xlarge");
	assert_int_equal(num(req, "JobResources.ClusterConfig.InstanceCount"),
			 1);
	assert_int_equal(num(req, "JobResources.ClusterConfig."
				  "VolumeSizeInGB"),
			 20);
	assert_int_equal(num(req, "StoppingCondition.MaxRuntimeInSeconds"),
			 3600);
	assert_string_equal(str(req, "RoleArn"),
			    "arn:aws:iam::123456789012:role/monitor");
	/* no baseline in the manifest, none in the request */
	assert_null(at(req, "DataQualityBaselineConfig"));
	/* tags travel apart from the request */
	assert_null(at(req, "Tags"));
	json_decref(req);
	s = parse(job->tags);
	assert_string_equal(str(s, "2.Value"), "DataQualityMonitor/ep-quality");
	json_decref(s);

	assert_string_equal(sched->name, "ep-quality");
	assert_string_equal(sched->hash, "");
	assert_string_equal(sched->manifest, "DataQualityMonitor/ep-quality");
	s = parse(sched->request);
	assert_string_equal(str(s, "MonitoringScheduleName"), "ep-quality");
	assert_string_equal(str(s, "MonitoringScheduleConfig."
				   "MonitoringJobDefinitionName"),
			    job->name);
	assert_string_equal(str(s, "MonitoringScheduleConfig.MonitoringType"),
			    "DataQuality");
	assert_string_equal(str(s, "MonitoringScheduleConfig.ScheduleConfig."
				   "ScheduleExpression"),
			    "cron(0 * ? * * *)");
	json_decref(s);
	s = parse(sched->tags);
	assert_string_equal(str(s, "0.Key"), DESIRED_TAG_MANAGED_BY);
	assert_string_equal(str(s, "0.Value"), "prod");
	assert_string_equal(str(s, "2.Key"), DESIRED_TAG_MANIFEST);
	assert_string_equal(str(s, "2.Value"), "DataQualityMonitor/ep-quality");
	json_decref(s);
	desired_set_release(&d);
	manifest_set_free(set);
}

static void test_desired__monitor_sizes_and_baseline(void **state)
{
	struct manifest_set *set = load(MONITORED(
		"cron(0 6 ? * * *)", "ml.m5.xlarge",
		"  volumeSizeGB: 50\n  maxRuntimeSeconds: 7200\n"
		"  instanceCount: 2\n"
		"  baseline: {constraints: 's3://base/constraints.json'}\n"));
	struct desired_set d;
	json_t *req;

	(void)state;
	build(&d, set, &opt);
	req = parse(only(&d, DESIRED_MONITOR_JOB)->request);
	assert_int_equal(num(req, "JobResources.ClusterConfig."
				  "VolumeSizeInGB"),
			 50);
	assert_int_equal(num(req, "JobResources.ClusterConfig.InstanceCount"),
			 2);
	assert_int_equal(num(req, "StoppingCondition.MaxRuntimeInSeconds"),
			 7200);
	assert_json(at(req, "DataQualityBaselineConfig"),
		    "{\"ConstraintsResource\":{\"S3Uri\":"
		    "\"s3://base/constraints.json\"}}");
	json_decref(req);
	desired_set_release(&d);
	manifest_set_free(set);
}

static void test_desired__monitor_schedule_is_not_in_the_job_hash(void **state)
{
	struct manifest_set *s1 =
		load(MONITORED("cron(0 * ? * * *)", "ml.m5.xlarge", ""));
	struct manifest_set *s2 =
		load(MONITORED("cron(0 3/6 ? * * *)", "ml.m5.xlarge", ""));
	struct manifest_set *s3 =
		load(MONITORED("cron(0 * ? * * *)", "ml.m5.2xlarge", ""));
	const struct desired_resource *j1, *j2, *j3;
	struct desired_set a, b, c;
	json_t *sched;

	(void)state;
	build(&a, s1, &opt);
	build(&b, s2, &opt);
	build(&c, s3, &opt);
	j1 = only(&a, DESIRED_MONITOR_JOB);
	j2 = only(&b, DESIRED_MONITOR_JOB);
	j3 = only(&c, DESIRED_MONITOR_JOB);
	/* another schedule: the same job definition, the schedule updated */
	assert_string_equal(j1->name, j2->name);
	assert_string_equal(j1->request, j2->request);
	sched = parse(only(&b, DESIRED_MONITOR_SCHEDULE)->request);
	assert_string_equal(str(sched, "MonitoringScheduleConfig."
				       "ScheduleConfig.ScheduleExpression"),
			    "cron(0 3/6 ? * * *)");
	assert_string_equal(str(sched, "MonitoringScheduleConfig."
				       "MonitoringJobDefinitionName"),
			    j1->name);
	json_decref(sched);
	/* another instance type: a new job definition, the same schedule
	 * pointed at it */
	assert_string_not_equal(j1->name, j3->name);
	assert_string_equal(only(&c, DESIRED_MONITOR_SCHEDULE)->name,
			    "ep-quality");
	sched = parse(only(&c, DESIRED_MONITOR_SCHEDULE)->request);
	assert_string_equal(str(sched, "MonitoringScheduleConfig."
				       "MonitoringJobDefinitionName"),
			    j3->name);
	json_decref(sched);
	desired_set_release(&a);
	desired_set_release(&b);
	desired_set_release(&c);
	manifest_set_free(s1);
	manifest_set_free(s2);
	manifest_set_free(s3);
}

static void test_desired__monitor_image_in_an_unknown_region(void **state)
{
	struct desired_options far = opt;
	struct manifest_set *set =
		load(MONITORED("cron(0 * ? * * *)", "ml.m5.xlarge", ""));
	struct manifest_set *named = load(MONITORED(
		"cron(0 * ? * * *)", "ml.m5.xlarge",
		"  image: 123456789012.dkr.ecr.ap-south-2.amazonaws.com/"
		"analyzer:1\n"));
	char where[32];
	struct err e = ERR_INIT;
	struct desired_set d;
	json_t *req;

	(void)state;
	far.region = "ap-south-2";
	assert_int_equal(desired_build(&d, set, &far, &e), -1);
	assert_int_equal(d.n, 0);
	assert_null(d.items);
	assert_non_null(strstr(e.msg, "spec.image"));
	assert_non_null(strstr(e.msg, "ap-south-2"));
	assert_non_null(strstr(e.msg, "'ep-quality'"));
	snprintf(where, sizeof(where), "mem.yaml:%d:", MONITOR_LINE);
	if (!strstr(e.msg, where))
		fail_msg("\"%s\" does not say %s", e.msg, where);
	/* with its image named, the monitor builds there */
	err_clear(&e);
	assert_int_equal(desired_build(&d, named, &far, &e), 0);
	req = parse(only(&d, DESIRED_MONITOR_JOB)->request);
	assert_string_equal(str(req, "DataQualityAppSpecification.ImageUri"),
			    "123456789012.dkr.ecr.ap-south-2.amazonaws.com/"
			    "analyzer:1");
	json_decref(req);
	desired_set_release(&d);
	/* another known region has its own account */
	far.region = "eu-west-1";
	assert_int_equal(desired_build(&d, set, &far, &e), 0);
	req = parse(only(&d, DESIRED_MONITOR_JOB)->request);
	assert_string_equal(str(req, "DataQualityAppSpecification.ImageUri"),
			    "468650794304.dkr.ecr.eu-west-1.amazonaws.com/"
			    "sagemaker-model-monitor-analyzer");
	json_decref(req);
	desired_set_release(&d);
	manifest_set_free(set);
	manifest_set_free(named);
}

static void test_desired__trigger_rule_matches_its_alarms(void **state)
{
	struct manifest_set *set =
		load(TRIGGERED("ep-latency, ep-5xx, ep-latency, ep-drift",
			       "  snsTopicArn: " TOPIC_ARN "\n"
			       "  description: retrain on drift\n"
			       "  parameters: {Reason: drift, Mode: full}\n"));
	const struct desired_resource *r;
	struct desired_set d;
	json_t *rule, *pattern, *targets, *tags;

	(void)state;
	build(&d, set, &opt);
	assert_int_equal(count_kind(&d, DESIRED_ALARM), 3);
	r = only(&d, DESIRED_RULE);
	assert_string_equal(r->name, "ep-retrain");
	assert_string_equal(r->hash, "");
	assert_string_equal(r->manifest, "RetrainTrigger/ep-retrain");
	rule = parse(r->request);
	assert_string_equal(str(rule, "Name"), "ep-retrain");
	assert_string_equal(str(rule, "State"), "ENABLED");
	assert_string_equal(str(rule, "Description"), "retrain on drift");
	assert_null(at(rule, "Tags"));
	/* the pattern is JSON text inside the request */
	assert_true(json_is_string(at(rule, "EventPattern")));
	pattern = parse(str(rule, "EventPattern"));
	assert_json(at(pattern, "source"), "[\"aws.cloudwatch\"]");
	assert_json(at(pattern, "detail-type"),
		    "[\"CloudWatch Alarm State Change\"]");
	/* sorted, each once */
	assert_json(at(pattern, "detail.alarmName"),
		    "[\"ep-5xx\",\"ep-drift\",\"ep-latency\"]");
	assert_json(at(pattern, "detail.state.value"), "[\"ALARM\"]");
	assert_int_equal(json_object_size(pattern), 3);
	assert_int_equal(json_object_size(at(pattern, "detail")), 2);
	json_decref(pattern);
	json_decref(rule);

	/* PutTargets: the pipeline with its role and parameters (in the
	 * manifest's order), and SNS */
	assert_non_null(r->request2);
	targets = parse(r->request2);
	assert_string_equal(str(targets, "Rule"), "ep-retrain");
	assert_int_equal(json_array_size(at(targets, "Targets")), 2);
	assert_string_equal(str(targets, "Targets.0.Id"), "pipeline");
	assert_string_equal(str(targets, "Targets.0.Arn"), PIPELINE_ARN);
	assert_string_equal(str(targets, "Targets.0.RoleArn"),
			    "arn:aws:iam::123456789012:role/events");
	assert_json(at(targets, "Targets.0.SageMakerPipelineParameters."
				"PipelineParameterList"),
		    "[{\"Name\":\"Reason\",\"Value\":\"drift\"},"
		    "{\"Name\":\"Mode\",\"Value\":\"full\"}]");
	assert_json(at(targets, "Targets.1"),
		    "{\"Arn\":\"" TOPIC_ARN "\",\"Id\":\"notify\"}");
	json_decref(targets);

	tags = parse(r->tags);
	assert_string_equal(str(tags, "0.Key"), DESIRED_TAG_MANAGED_BY);
	assert_string_equal(str(tags, "0.Value"), "prod");
	assert_string_equal(str(tags, "1.Value"), "abc123");
	assert_string_equal(str(tags, "2.Key"), DESIRED_TAG_MANIFEST);
	assert_string_equal(str(tags, "2.Value"), "RetrainTrigger/ep-retrain");
	json_decref(tags);
	desired_set_release(&d);
	manifest_set_free(set);
}

static void test_desired__trigger_disabled_without_topic(void **state)
{
	struct manifest_set *set =
		load(TRIGGERED("ep-drift", "  enabled: false\n"));
	const struct desired_resource *r;
	struct desired_set d;
	json_t *rule, *targets;

	(void)state;
	build(&d, set, &opt);
	r = only(&d, DESIRED_RULE);
	rule = parse(r->request);
	assert_string_equal(str(rule, "State"), "DISABLED");
	assert_null(at(rule, "Description"));
	json_decref(rule);
	targets = parse(r->request2);
	/* no snsTopicArn: the pipeline only; no parameters: its defaults,
	 * and no empty list EventBridge might drop */
	assert_int_equal(json_array_size(at(targets, "Targets")), 1);
	assert_string_equal(str(targets, "Targets.0.Id"), "pipeline");
	assert_null(at(targets, "Targets.0.SageMakerPipelineParameters"));
	json_decref(targets);
	desired_set_release(&d);
	manifest_set_free(set);
}

static void test_desired__trigger_enabled_true_is_enabled(void **state)
{
	struct manifest_set *set =
		load(TRIGGERED("ep-drift", "  enabled: true\n"));
	struct desired_set d;
	json_t *rule;

	(void)state;
	build(&d, set, &opt);
	rule = parse(only(&d, DESIRED_RULE)->request);
	assert_string_equal(str(rule, "State"), "ENABLED");
	json_decref(rule);
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
		cmocka_unit_test(
			test_desired__monitor_job_definition_and_schedule),
		cmocka_unit_test(test_desired__monitor_sizes_and_baseline),
		cmocka_unit_test(
			test_desired__monitor_schedule_is_not_in_the_job_hash),
		cmocka_unit_test(
			test_desired__monitor_image_in_an_unknown_region),
		cmocka_unit_test(test_desired__trigger_rule_matches_its_alarms),
		cmocka_unit_test(test_desired__trigger_disabled_without_topic),
		cmocka_unit_test(test_desired__trigger_enabled_true_is_enabled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
