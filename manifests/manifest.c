/*
 * The four manifest kinds of DESIGN.md §2, their schemas, and loading a
 * tree of files into a validated manifest_set (see manifest.h).
 *
 * The schemas below are the single source of truth for field names,
 * types, bounds and AWS constraints; docs/manifests.md describes the same
 * tables for people. Bounds and patterns come from botocore's models of
 * the SageMaker, CloudWatch and Application Auto Scaling APIs, so that a
 * manifest that validates is one AWS will accept.
 */
#include "manifest.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "aws_enums.h"
#include "buf.h"
#include "err.h"
#include "file.h"
#include "mem.h"
#include "schema.h"
#include "suggest.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- string rules, from the AWS API models -------------------------- */

/* AWS tag text: Unicode letters, digits, spaces and _ . : / = + - @ */
static bool tag_chars_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++)
		if (!(*p >= 0x80 || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr(" _.:/=+-@", *p)))
			return false;
	return true;
}

/* the controller's own tags and AWS's are not the user's to set */
static bool tag_key_ok(const char *s)
{
	return tag_chars_ok(s) && strncasecmp(s, "aws:", 4) &&
	       strncmp(s, "sagesync:", 9);
}

static bool printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

#define SM_NAME_EXPECT(n)                                                      \
	"1 to " #n " letters, digits and hyphens, starting and ending with a " \
	"letter or digit"

static const struct schema_rule rule_entity_name = {
	.what = "a valid name",
	.expect = SM_NAME_EXPECT(63),
	.min_len = 1,
	.max_len = 63,
	.pattern = "[a-zA-Z0-9](-*[a-zA-Z0-9])*",
};

/* Models and endpoints leave room for the content-hash suffix */
static const struct schema_rule rule_model_name = {
	.what = "a valid SageMaker model name",
	.expect = SM_NAME_EXPECT(55),
	.min_len = 1,
	.max_len = MANIFEST_SM_NAME_MAX,
	.pattern = "[a-zA-Z0-9](-*[a-zA-Z0-9])*",
};

static const struct schema_rule rule_endpoint_name = {
	.what = "a valid SageMaker endpoint name",
	.expect = SM_NAME_EXPECT(55),
	.min_len = 1,
	.max_len = MANIFEST_SM_NAME_MAX,
	.pattern = "[a-zA-Z0-9](-*[a-zA-Z0-9])*",
};

/* the schedule's name; its job definitions get the hash suffix */
static const struct schema_rule rule_monitor_name = {
	.what = "a valid monitoring schedule name",
	.expect = SM_NAME_EXPECT(55),
	.min_len = 1,
	.max_len = MANIFEST_SM_NAME_MAX,
	.pattern = "[a-zA-Z0-9](-*[a-zA-Z0-9])*",
};

static const struct schema_rule rule_variant_name = {
	.what = "a valid SageMaker variant name",
	.expect = SM_NAME_EXPECT(63),
	.min_len = 1,
	.max_len = 63,
	.pattern = "[a-zA-Z0-9](-*[a-zA-Z0-9])*",
};

static const struct schema_rule rule_alarm_name = {
	.what = "a valid CloudWatch alarm name",
	.expect = "1 to 255 printable characters",
	.min_len = 1,
	.max_len = 255,
	.check = printable,
};

static const struct schema_rule rule_package_arn = {
	.what = "a model package ARN",
	.expect =
		"arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION",
	.min_len = 1,
	.max_len = 2048,
	.pattern = "arn:aws[a-z-]*:sagemaker:[a-z0-9-]{9,16}:[0-9]{12}:"
		   "model-package/[^[:space:]]+",
};

/* Model.modelPackage as an ARN: ContainerDefinition.ModelPackageName */
static const struct schema_rule rule_package_ref_arn = {
	.what = "a model package ARN",
	.expect =
		"arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION",
	.min_len = 1,
	.max_len = 176,
	.pattern = "arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:"
		   "model-package/[a-zA-Z0-9](-*[a-zA-Z0-9])*(/[0-9]{1,9})?",
};

static const struct schema_rule rule_role_arn = {
	.what = "an IAM role ARN",
	.expect = "arn:aws:iam::ACCOUNT:role/NAME",
	.min_len = 20,
	.max_len = 2048,
	.pattern = "arn:aws[a-z-]*:iam::[0-9]{12}:role/?[a-zA-Z_0-9+=,.@/-]+",
};

static const struct schema_rule rule_image = {
	.what = "a container image URI",
	.expect = "no spaces, at most 255 characters",
	.max_len = 255,
	.min_len = 1,
	.pattern = "[^[:space:]]+",
};

static const struct schema_rule rule_model_data_url = {
	.what = "an S3 or HTTPS URL",
	.expect = "s3://BUCKET/KEY or https://HOST/PATH",
	.max_len = 1024,
	.min_len = 1,
	.pattern = "(https|s3)://[^/]+/?.*",
};

static const struct schema_rule rule_s3_uri = {
	.what = "an S3 or HTTPS URL",
	.expect = "s3://BUCKET/PREFIX",
	.max_len = 512,
	.min_len = 1,
	.pattern = "(https|s3)://[^/]+/?.*",
};

static const struct schema_rule rule_env_key = {
	.what = "a valid environment variable name",
	.expect = "a letter or _ followed by letters, digits and _",
	.min_len = 1,
	.max_len = 1024,
	.pattern = "[a-zA-Z_][a-zA-Z0-9_]*",
};

static const struct schema_rule rule_env_value = {
	.what = "a valid environment value",
	.max_len = 1024,
};

static const struct schema_rule rule_vpc_id = {
	.what = "a VPC security group or subnet ID",
	.expect = "letters, digits and hyphens, at most 32",
	.min_len = 1,
	.max_len = 32,
	.pattern = "[-0-9a-zA-Z]+",
};

static const struct schema_rule rule_tag_key = {
	.what = "a valid tag key",
	.expect = "1 to 128 letters, digits, spaces and _ . : / = + - @, not "
		  "starting with 'aws:' or 'sagesync:'",
	.min_len = 1,
	.max_len = 128,
	.check = tag_key_ok,
};

static const struct schema_rule rule_tag_value = {
	.what = "a valid tag value",
	.expect = "up to 256 letters, digits, spaces and _ . : / = + - @",
	.max_len = 256,
	.check = tag_chars_ok,
};

static const struct schema_rule rule_label_key = {
	.what = "a valid label key",
	.expect = "1 to 63 printable characters",
	.min_len = 1,
	.max_len = 63,
	.check = printable,
};

static const struct schema_rule rule_label_value = {
	.what = "a valid label value",
	.expect = "up to 256 printable characters",
	.max_len = 256,
	.check = printable,
};

static const struct schema_rule rule_instance_type = {
	.what = "a SageMaker instance type",
	.values = aws_enums_instance_types,
	.n_values = &aws_enums_instance_types_count,
};

static const struct schema_rule rule_processing_instance_type = {
	.what = "a SageMaker processing instance type",
	.values = aws_enums_processing_instance_types,
	.n_values = &aws_enums_processing_instance_types_count,
};

static const struct schema_rule rule_kms_key = {
	.what = "a KMS key ID, alias or ARN",
	.expect = "letters, digits and : / _ -",
	.min_len = 1,
	.max_len = 2048,
	.pattern = "[a-zA-Z0-9:/_-]*",
};

static const struct schema_rule rule_description = {
	.what = "a valid description",
	.expect = "at most 1024 characters",
	.max_len = 1024,
};

static const struct schema_rule rule_metric = {
	.what = "a valid metric name",
	.expect = "1 to 255 printable characters",
	.min_len = 1,
	.max_len = 255,
	.check = printable,
};

static const struct schema_rule rule_namespace = {
	.what = "a valid CloudWatch namespace",
	.expect = "1 to 255 characters, not starting with ':'",
	.min_len = 1,
	.max_len = 255,
	.pattern = "[^:].*",
};

static const struct schema_rule rule_action_arn = {
	.what = "an alarm action ARN",
	.expect = "arn:aws:sns:REGION:ACCOUNT:TOPIC or another action ARN",
	.min_len = 1,
	.max_len = 1024,
	.pattern = "arn:aws[a-z-]*:[a-z0-9-]+:[^[:space:]]*",
};

static const char *const capture_mode_names[] = { "Input", "Output" };
static const size_t capture_mode_count = ARRAY_SIZE(capture_mode_names);

static const struct schema_rule rule_capture_mode = {
	.what = "a capture mode (Input or Output)",
	.values = capture_mode_names,
	.n_values = &capture_mode_count,
};

/* the forms SageMaker accepts: hourly, daily at H, every N hours from H */
static const struct schema_rule rule_monitor_schedule = {
	.what = "a monitoring schedule SageMaker accepts",
	.expect = "cron(0 * ? * * *) (hourly), cron(0 H ? * * *) (daily at "
		  "hour H) or cron(0 H/N ? * * *) (every N hours from H)",
	.min_len = 1,
	.max_len = 512,
	.pattern =
		"cron\\(0 (\\*|[0-9]|1[0-9]|2[0-3])(/([1-9]|1[0-9]|2[0-4]))? "
		"\\? \\* \\* \\*\\)",
};

static const struct schema_rule rule_rule_name = {
	.what = "a valid EventBridge rule name",
	.expect = "1 to 64 letters, digits and . - _",
	.min_len = 1,
	.max_len = 64,
	.pattern = "[-._A-Za-z0-9]+",
};

static const struct schema_rule rule_pipeline_arn = {
	.what = "a SageMaker pipeline ARN",
	.expect = "arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME",
	.min_len = 1,
	.max_len = 2048,
	.pattern = "arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:"
		   "pipeline/[a-zA-Z0-9](-*[a-zA-Z0-9])*",
};

static const struct schema_rule rule_topic_arn = {
	.what = "an SNS topic ARN",
	.expect = "arn:aws:sns:REGION:ACCOUNT:TOPIC",
	.min_len = 1,
	.max_len = 1600,
	.pattern = "arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+",
};

static const struct schema_rule rule_pipeline_param = {
	.what = "a valid pipeline parameter name",
	.expect = "1 to 256 letters, digits and hyphens, starting and ending "
		  "with a letter or digit",
	.min_len = 1,
	.max_len = 256,
	.pattern = "[a-zA-Z0-9](-*[a-zA-Z0-9])*",
};

static const struct schema_rule rule_pipeline_value = {
	.what = "a valid pipeline parameter value",
	.expect = "at most 1024 characters",
	.max_len = 1024,
};

static const struct schema_rule rule_rule_description = {
	.what = "a valid rule description",
	.expect = "at most 512 characters",
	.max_len = 512,
};

static const struct schema_rule rule_monitor_image = {
	.what = "a container image URI",
	.expect = "no spaces, at most 255 characters",
	.max_len = 255,
	.min_len = 1,
	.pattern = "[^[:space:]]+",
};

/* ---- enums, in the order of the C enums in manifest.h ---------------- */

static const char *const approval_values[] = { "Approved", "Rejected",
					       "PendingManualApproval", NULL };
static const char *const mode_values[] = { "SingleModel", "MultiModel", NULL };
static const char *const strategy_values[] = { "AllAtOnce", "Canary", "Linear",
					       "Rolling", NULL };
static const char *const capacity_values[] = { "INSTANCE_COUNT",
					       "CAPACITY_PERCENT", NULL };
static const char *const statistic_values[] = {
	"SampleCount", "Average", "Sum", "Minimum", "Maximum", NULL
};
static const char *const comparison_values[] = {
	"GreaterThanOrEqualToThreshold", "GreaterThanThreshold",
	"LessThanThreshold", "LessThanOrEqualToThreshold", NULL
};
static const char *const missing_values[] = { "breaching", "notBreaching",
					      "ignore", "missing", NULL };

/* ---- shapes ---------------------------------------------------------- */

#define F(fname, ftype, st, member, ...)                                   \
	{                                                                  \
		.name = fname, .type = ftype, .off = offsetof(st, member), \
		__VA_ARGS__                                                \
	}
#define SHAPE(sname, st, table, locoff, checkfn)                    \
	{                                                           \
		.name = sname, .size = sizeof(st), .fields = table, \
		.n_fields = ARRAY_SIZE(table), .loc_off = locoff,   \
		.check = checkfn                                    \
	}
#define REQ .flags = SCHEMA_REQUIRED
#define OPT .flags = 0
#define RANGE(lo, hi) .min = (lo), .max = (hi)
#define REQ_RANGE(lo, hi) .flags = SCHEMA_REQUIRED | SCHEMA_RANGE, RANGE(lo, hi)
#define OPT_RANGE(lo, hi) .flags = SCHEMA_RANGE, RANGE(lo, hi)
#define TAGS(st)                                                   \
	F("tags", SCHEMA_MAP, st, tags, .key_rule = &rule_tag_key, \
	  .rule = &rule_tag_value, .max_items = 47)

static void str_or_path(struct buf *b, const char *path, const char *field)
{
	buf_clear(b);
	buf_printf(b, "%s%s%s", path, *path ? "." : "", field);
}

/* metadata */

static const struct schema_field meta_fields[] = {
	F("name", SCHEMA_STR, struct mf_meta, name, REQ),
	F("labels", SCHEMA_MAP, struct mf_meta, labels,
	  .key_rule = &rule_label_key, .rule = &rule_label_value,
	  .max_items = 64),
};
static const struct schema_shape meta_shape =
	SHAPE("metadata", struct mf_meta, meta_fields, SCHEMA_NO_LOC, NULL);

/* ModelPackage */

static void check_package(struct schema_ctx *c, void *obj,
			  const struct ynode *map, const char *path)
{
	bool arn = schema_has(map, "arn"), group = schema_has(map, "group"),
	     version = schema_has(map, "version");

	(void)obj;
	if (arn && (group || version))
		schema_error(c, schema_key(c, map, "arn"),
			     "%s: set either 'arn' or 'group' and 'version', "
			     "not both",
			     path);
	else if (!arn && !group)
		schema_error(c, schema_owner(c, map),
			     "%s: missing required field 'group' (or 'arn')",
			     path);
	else if (!arn && !version)
		schema_error(c, schema_owner(c, map),
			     "%s: missing required field 'version' (or 'arn')",
			     path);
}

static const struct schema_field package_fields[] = {
	F("group", SCHEMA_STR, struct mf_model_package, group,
	  .rule = &rule_entity_name),
	F("version", SCHEMA_INT, struct mf_model_package, version,
	  OPT_RANGE(1, 999999999)),
	F("arn", SCHEMA_STR, struct mf_model_package, arn,
	  .rule = &rule_package_arn),
	F("approval", SCHEMA_ENUM, struct mf_model_package, approval, REQ,
	  .values = approval_values),
	F("description", SCHEMA_STR, struct mf_model_package, description,
	  .rule = &rule_description),
};
static const struct schema_shape package_shape =
	SHAPE("ModelPackage", struct mf_model_package, package_fields,
	      SCHEMA_NO_LOC, check_package);

/* Model */

static const struct schema_field container_fields[] = {
	F("image", SCHEMA_STR, struct mf_container, image, REQ,
	  .rule = &rule_image),
	F("modelDataUrl", SCHEMA_STR, struct mf_container, model_data_url,
	  .rule = &rule_model_data_url),
	F("environment", SCHEMA_MAP, struct mf_container, environment,
	  .key_rule = &rule_env_key, .rule = &rule_env_value, .max_items = 100),
	F("mode", SCHEMA_ENUM, struct mf_container, mode,
	  .values = mode_values),
};
static const struct schema_shape container_shape =
	SHAPE("container", struct mf_container, container_fields, SCHEMA_NO_LOC,
	      NULL);

static const struct schema_field vpc_fields[] = {
	F("securityGroupIds", SCHEMA_STR_LIST, struct mf_vpc,
	  security_group_ids, REQ, .rule = &rule_vpc_id, .max_items = 5),
	F("subnets", SCHEMA_STR_LIST, struct mf_vpc, subnets, REQ,
	  .rule = &rule_vpc_id, .max_items = 16),
};
static const struct schema_shape vpc_shape =
	SHAPE("vpc", struct mf_vpc, vpc_fields, SCHEMA_NO_LOC, NULL);

static void check_model(struct schema_ctx *c, void *obj,
			const struct ynode *map, const char *path)
{
	struct mf_model *m = obj;
	bool package = schema_has(map, "modelPackage"),
	     containers = schema_has(map, "containers");
	const struct ynode *list = ynode_get(map, "containers");

	if (containers && list->type == YNODE_SEQ && list->n == 0) {
		schema_error(c, list,
			     "%s.containers: must have at least one "
			     "entry",
			     path);
		return;
	}
	if (package && containers)
		schema_error(c, schema_key(c, map, "containers"),
			     "%s: set either 'modelPackage' or 'containers', "
			     "not both",
			     path);
	else if (!package && !containers)
		schema_error(c, schema_owner(c, map),
			     "%s: missing required field 'modelPackage' (or "
			     "'containers')",
			     path);
	else if (m->model_package.name &&
		 manifest_is_arn(m->model_package.name))
		schema_check_rule(c, &rule_package_ref_arn,
				  m->model_package.name,
				  schema_node(map, "modelPackage"),
				  "spec.modelPackage");
}

static const struct schema_field model_fields[] = {
	F("executionRoleArn", SCHEMA_STR, struct mf_model, execution_role_arn,
	  REQ, .rule = &rule_role_arn),
	F("modelPackage", SCHEMA_REF, struct mf_model, model_package, OPT),
	F("containers", SCHEMA_STRUCT_LIST, struct mf_model, containers,
	  .shape = &container_shape,
	  .count_off = offsetof(struct mf_model, n_containers),
	  .max_items = 15),
	F("vpc", SCHEMA_STRUCT, struct mf_model, vpc, .shape = &vpc_shape),
	F("networkIsolation", SCHEMA_BOOL, struct mf_model, network_isolation,
	  OPT),
	TAGS(struct mf_model),
};
static const struct schema_shape model_shape = SHAPE(
	"Model", struct mf_model, model_fields, SCHEMA_NO_LOC, check_model);

/* Endpoint */

static void check_capacity(struct schema_ctx *c, void *obj,
			   const struct ynode *map, const char *path)
{
	struct mf_capacity *cap = obj;

	if (cap->type == MF_CAPACITY_CAPACITY_PERCENT && cap->value.v > 100)
		schema_error(c, schema_node(map, "value"),
			     "%s.value: expected a percentage from 1 to 100 "
			     "for CAPACITY_PERCENT, found %ld",
			     path, cap->value.v);
}

static const struct schema_field capacity_fields[] = {
	F("type", SCHEMA_ENUM, struct mf_capacity, type, REQ,
	  .values = capacity_values),
	F("value", SCHEMA_INT, struct mf_capacity, value,
	  REQ_RANGE(1, 1000000)),
};
static const struct schema_shape capacity_shape =
	SHAPE("capacity", struct mf_capacity, capacity_fields, SCHEMA_NO_LOC,
	      check_capacity);

static void check_serverless(struct schema_ctx *c, void *obj,
			     const struct ynode *map, const char *path)
{
	struct mf_serverless *s = obj;

	if (s->memory_mb.set && s->memory_mb.v % 1024)
		schema_error(c, schema_node(map, "memoryMB"),
			     "%s.memoryMB: expected a multiple of 1024 "
			     "(1024, 2048, ... 6144), found %ld",
			     path, s->memory_mb.v);
	if (s->provisioned_concurrency.set && s->max_concurrency.set &&
	    s->provisioned_concurrency.v > s->max_concurrency.v)
		schema_error(c, schema_node(map, "provisionedConcurrency"),
			     "%s.provisionedConcurrency: %ld is more than "
			     "maxConcurrency %ld",
			     path, s->provisioned_concurrency.v,
			     s->max_concurrency.v);
}

static const struct schema_field serverless_fields[] = {
	F("memoryMB", SCHEMA_INT, struct mf_serverless, memory_mb,
	  REQ_RANGE(1024, 6144)),
	F("maxConcurrency", SCHEMA_INT, struct mf_serverless, max_concurrency,
	  REQ_RANGE(1, 200)),
	F("provisionedConcurrency", SCHEMA_INT, struct mf_serverless,
	  provisioned_concurrency, OPT_RANGE(1, 200)),
};
static const struct schema_shape serverless_shape =
	SHAPE("serverless", struct mf_serverless, serverless_fields,
	      SCHEMA_NO_LOC, check_serverless);

static void check_autoscaling(struct schema_ctx *c, void *obj,
			      const struct ynode *map, const char *path)
{
	struct mf_autoscaling *a = obj;

	if (a->max.set && a->min.set && a->max.v < a->min.v)
		schema_error(c, schema_node(map, "max"),
			     "%s.max: %ld is less than min %ld", path, a->max.v,
			     a->min.v);
	if (a->target_invocations_per_instance.set &&
	    a->target_invocations_per_instance.v <= 0)
		schema_error(c,
			     schema_node(map, "targetInvocationsPerInstance"),
			     "%s.targetInvocationsPerInstance: expected a "
			     "number greater than 0, found %g",
			     path, a->target_invocations_per_instance.v);
}

static const struct schema_field autoscaling_fields[] = {
	F("min", SCHEMA_INT, struct mf_autoscaling, min, REQ_RANGE(1, 10000)),
	F("max", SCHEMA_INT, struct mf_autoscaling, max, REQ_RANGE(1, 10000)),
	F("targetInvocationsPerInstance", SCHEMA_NUM, struct mf_autoscaling,
	  target_invocations_per_instance, REQ_RANGE(0, INFINITY)),
	F("scaleInCooldown", SCHEMA_INT, struct mf_autoscaling,
	  scale_in_cooldown, OPT_RANGE(0, 86400)),
	F("scaleOutCooldown", SCHEMA_INT, struct mf_autoscaling,
	  scale_out_cooldown, OPT_RANGE(0, 86400)),
};
static const struct schema_shape autoscaling_shape =
	SHAPE("autoscaling", struct mf_autoscaling, autoscaling_fields,
	      SCHEMA_NO_LOC, check_autoscaling);

static void check_variant(struct schema_ctx *c, void *obj,
			  const struct ynode *map, const char *path)
{
	struct mf_variant *v = obj;
	struct buf p = BUF_INIT;
	bool serverless = schema_has(map, "serverless"),
	     type = schema_has(map, "instanceType"),
	     count = schema_has(map, "instanceCount");

	if (serverless && (type || count)) {
		str_or_path(&p, path, "serverless");
		schema_error(c, schema_key(c, map, "serverless"),
			     "%s: a variant is either serverless or runs on "
			     "instances; remove '%s' or 'serverless'",
			     p.ptr, type ? "instanceType" : "instanceCount");
	} else if (!serverless && !type) {
		schema_error(c, schema_owner(c, map),
			     "%s: missing required field 'instanceType' (or "
			     "'serverless')",
			     path);
	} else if (serverless && schema_has(map, "autoscaling")) {
		str_or_path(&p, path, "autoscaling");
		schema_error(c, schema_key(c, map, "autoscaling"),
			     "%s: applies to instance-based variants; a "
			     "serverless variant scales by itself",
			     p.ptr);
	} else if (v->autoscaling && v->autoscaling->min.set &&
		   v->autoscaling->max.set &&
		   v->autoscaling->min.v <= v->autoscaling->max.v &&
		   (count || !schema_has(map, "instanceCount"))) {
		/* instanceCount defaults to 1 */
		long n = v->instance_count.set ? v->instance_count.v : 1;

		str_or_path(&p, path, "instanceCount");
		if (n < v->autoscaling->min.v || n > v->autoscaling->max.v)
			schema_error(c,
				     count ? schema_node(map, "instanceCount") :
					     schema_owner(c, map),
				     "%s: %ld%s is outside the autoscaling "
				     "range %ld to %ld",
				     p.ptr, n, count ? "" : " (the default)",
				     v->autoscaling->min.v,
				     v->autoscaling->max.v);
	}
	buf_release(&p);
}

static const struct schema_field variant_fields[] = {
	F("name", SCHEMA_STR, struct mf_variant, name, REQ,
	  .rule = &rule_variant_name),
	F("model", SCHEMA_REF, struct mf_variant, model, REQ),
	F("instanceType", SCHEMA_STR, struct mf_variant, instance_type,
	  .rule = &rule_instance_type),
	F("instanceCount", SCHEMA_INT, struct mf_variant, instance_count,
	  OPT_RANGE(1, 10000)),
	F("weight", SCHEMA_NUM, struct mf_variant, weight,
	  OPT_RANGE(0, INFINITY)),
	F("serverless", SCHEMA_STRUCT, struct mf_variant, serverless,
	  .shape = &serverless_shape),
	F("autoscaling", SCHEMA_STRUCT, struct mf_variant, autoscaling,
	  .shape = &autoscaling_shape),
};
static const struct schema_shape variant_shape =
	SHAPE("variant", struct mf_variant, variant_fields,
	      offsetof(struct mf_variant, loc), check_variant);

static const struct schema_field data_capture_fields[] = {
	F("enabled", SCHEMA_BOOL, struct mf_data_capture, enabled, OPT),
	F("samplingPercentage", SCHEMA_INT, struct mf_data_capture,
	  sampling_percentage, REQ_RANGE(0, 100)),
	F("destinationS3Uri", SCHEMA_STR, struct mf_data_capture,
	  destination_s3_uri, REQ, .rule = &rule_s3_uri),
	F("kmsKeyId", SCHEMA_STR, struct mf_data_capture, kms_key_id,
	  .rule = &rule_kms_key),
	F("captureModes", SCHEMA_STR_LIST, struct mf_data_capture,
	  capture_modes, .rule = &rule_capture_mode, .max_items = 2),
};
static const struct schema_shape data_capture_shape =
	SHAPE("dataCapture", struct mf_data_capture, data_capture_fields,
	      SCHEMA_NO_LOC, NULL);

static void check_deployment(struct schema_ctx *c, void *obj,
			     const struct ynode *map, const char *path)
{
	struct mf_deployment *d = obj;
	const char *strategy;
	struct buf p = BUF_INIT;

	if (!d->strategy)
		return; /* missing or bad: reported, and nothing to check */
	strategy = strategy_values[d->strategy - 1];

	if (d->strategy == MF_STRATEGY_ALL_AT_ONCE &&
	    schema_has(map, "stepSize")) {
		str_or_path(&p, path, "stepSize");
		schema_error(c, schema_key(c, map, "stepSize"),
			     "%s: applies to Canary, Linear and Rolling, not "
			     "AllAtOnce",
			     p.ptr);
	}
	if (d->strategy != MF_STRATEGY_ALL_AT_ONCE &&
	    !schema_has(map, "stepSize"))
		schema_error(c, schema_owner(c, map),
			     "%s: missing required field 'stepSize' (strategy "
			     "%s moves traffic in steps)",
			     path, strategy);
	if (d->strategy != MF_STRATEGY_ALL_AT_ONCE &&
	    !schema_has(map, "waitIntervalSeconds"))
		schema_error(c, schema_owner(c, map),
			     "%s: missing required field 'waitIntervalSeconds' "
			     "(strategy %s waits between steps)",
			     path, strategy);
	if (d->strategy == MF_STRATEGY_ROLLING &&
	    schema_has(map, "terminationWaitSeconds")) {
		str_or_path(&p, path, "terminationWaitSeconds");
		schema_error(c, schema_key(c, map, "terminationWaitSeconds"),
			     "%s: applies to blue/green strategies (AllAtOnce, "
			     "Canary, Linear), not Rolling",
			     p.ptr);
	}
	if (d->strategy != MF_STRATEGY_ROLLING &&
	    schema_has(map, "rollbackMaximumBatchSize")) {
		str_or_path(&p, path, "rollbackMaximumBatchSize");
		schema_error(c, schema_key(c, map, "rollbackMaximumBatchSize"),
			     "%s: applies to strategy Rolling only, not %s",
			     p.ptr, strategy);
	}
	buf_release(&p);
}

static const struct schema_field deployment_fields[] = {
	F("strategy", SCHEMA_ENUM, struct mf_deployment, strategy, REQ,
	  .values = strategy_values),
	F("stepSize", SCHEMA_STRUCT, struct mf_deployment, step_size,
	  .shape = &capacity_shape),
	F("waitIntervalSeconds", SCHEMA_INT, struct mf_deployment,
	  wait_interval_seconds, OPT_RANGE(0, 3600)),
	F("terminationWaitSeconds", SCHEMA_INT, struct mf_deployment,
	  termination_wait_seconds, OPT_RANGE(0, 3600)),
	F("maximumExecutionTimeoutSeconds", SCHEMA_INT, struct mf_deployment,
	  maximum_execution_timeout_seconds, OPT_RANGE(600, 28800)),
	F("rollbackMaximumBatchSize", SCHEMA_STRUCT, struct mf_deployment,
	  rollback_maximum_batch_size, .shape = &capacity_shape),
	F("rollbackAlarms", SCHEMA_REF_LIST, struct mf_deployment,
	  rollback_alarms, .max_items = 10),
};
static const struct schema_shape deployment_shape =
	SHAPE("deployment", struct mf_deployment, deployment_fields,
	      SCHEMA_NO_LOC, check_deployment);

static void check_endpoint(struct schema_ctx *c, void *obj,
			   const struct ynode *map, const char *path)
{
	struct mf_endpoint *e = obj;
	const struct ynode *list = ynode_get(map, "variants");
	size_t i, j;

	(void)path;
	for (i = 0; i < e->n_variants; i++)
		for (j = 0; j < i; j++)
			if (e->variants[i].name && e->variants[j].name &&
			    !strcmp(e->variants[i].name, e->variants[j].name))
				schema_error(
					c, schema_node(list->items[i], "name"),
					"spec.variants[%zu].name: "
					"duplicate variant name '%s'; "
					"first used by spec.variants[%zu]",
					i, e->variants[i].name, j);
}

static const struct schema_field endpoint_fields[] = {
	F("variants", SCHEMA_STRUCT_LIST, struct mf_endpoint, variants, REQ,
	  .shape = &variant_shape,
	  .count_off = offsetof(struct mf_endpoint, n_variants),
	  .max_items = 10),
	F("dataCapture", SCHEMA_STRUCT, struct mf_endpoint, data_capture,
	  .shape = &data_capture_shape),
	F("kmsKeyId", SCHEMA_STR, struct mf_endpoint, kms_key_id,
	  .rule = &rule_kms_key),
	F("deployment", SCHEMA_STRUCT, struct mf_endpoint, deployment,
	  .shape = &deployment_shape),
	F("bakeSeconds", SCHEMA_INT, struct mf_endpoint, bake_seconds,
	  OPT_RANGE(0, 86400)),
	F("healthAlarms", SCHEMA_REF_LIST, struct mf_endpoint, health_alarms,
	  .max_items = 50),
	TAGS(struct mf_endpoint),
};
static const struct schema_shape endpoint_shape =
	SHAPE("Endpoint", struct mf_endpoint, endpoint_fields, SCHEMA_NO_LOC,
	      check_endpoint);

/* Alarm */

static void check_alarm(struct schema_ctx *c, void *obj,
			const struct ynode *map, const char *path)
{
	struct mf_alarm *a = obj;

	if (schema_has(map, "monitor") && schema_has(map, "variant"))
		schema_error(c, schema_key(c, map, "variant"),
			     "%s.variant: a monitor's metrics are per "
			     "endpoint, not per variant: set 'monitor' or "
			     "'variant', not both",
			     path);

	if (a->period.set && a->period.v > 30 && a->period.v % 60)
		schema_error(c, schema_node(map, "period"),
			     "%s.period: expected 10, 20, 30 or a multiple of "
			     "60 seconds, found %ld",
			     path, a->period.v);
	else if (a->period.set && a->period.v < 60 && a->period.v % 10)
		schema_error(c, schema_node(map, "period"),
			     "%s.period: expected 10, 20, 30 or a multiple of "
			     "60 seconds, found %ld",
			     path, a->period.v);
	/* CloudWatch: at most one day of data, or 7 days for hourly periods */
	if (a->period.set && a->evaluation_periods.set &&
	    a->period.v * a->evaluation_periods.v >
		    (a->period.v >= 3600 ? 604800 : 86400))
		schema_error(c, schema_node(map, "evaluationPeriods"),
			     "%s.evaluationPeriods: %ld periods of %ld seconds "
			     "is more than CloudWatch evaluates (%s)",
			     path, a->evaluation_periods.v, a->period.v,
			     a->period.v >= 3600 ? "7 days" :
						   "1 day for "
						   "periods under "
						   "an hour");
	if (a->datapoints_to_alarm.set && a->evaluation_periods.set &&
	    a->datapoints_to_alarm.v > a->evaluation_periods.v)
		schema_error(c, schema_node(map, "datapointsToAlarm"),
			     "%s.datapointsToAlarm: %ld is more than "
			     "evaluationPeriods %ld",
			     path, a->datapoints_to_alarm.v,
			     a->evaluation_periods.v);
	else if (a->datapoints_to_alarm.set && !a->evaluation_periods.set &&
		 a->datapoints_to_alarm.v > 1)
		schema_error(c, schema_node(map, "datapointsToAlarm"),
			     "%s.datapointsToAlarm: %ld is more than "
			     "evaluationPeriods (1 when not set)",
			     path, a->datapoints_to_alarm.v);
}

static const struct schema_field alarm_fields[] = {
	F("endpoint", SCHEMA_REF, struct mf_alarm, endpoint, REQ),
	F("variant", SCHEMA_REF, struct mf_alarm, variant, OPT),
	F("monitor", SCHEMA_REF, struct mf_alarm, monitor, OPT),
	F("metric", SCHEMA_STR, struct mf_alarm, metric, REQ,
	  .rule = &rule_metric),
	F("namespace", SCHEMA_STR, struct mf_alarm, namespace,
	  .rule = &rule_namespace),
	F("statistic", SCHEMA_ENUM, struct mf_alarm, statistic, REQ,
	  .values = statistic_values),
	F("period", SCHEMA_INT, struct mf_alarm, period, OPT_RANGE(10, 86400)),
	F("evaluationPeriods", SCHEMA_INT, struct mf_alarm, evaluation_periods,
	  OPT_RANGE(1, 100000)),
	F("datapointsToAlarm", SCHEMA_INT, struct mf_alarm, datapoints_to_alarm,
	  OPT_RANGE(1, 100000)),
	F("threshold", SCHEMA_NUM, struct mf_alarm, threshold, REQ),
	F("comparison", SCHEMA_ENUM, struct mf_alarm, comparison, REQ,
	  .values = comparison_values),
	F("treatMissingData", SCHEMA_ENUM, struct mf_alarm, treat_missing_data,
	  .values = missing_values),
	F("actions", SCHEMA_STR_LIST, struct mf_alarm, actions,
	  .rule = &rule_action_arn, .max_items = 5),
	F("description", SCHEMA_STR, struct mf_alarm, description,
	  .rule = &rule_description),
	TAGS(struct mf_alarm),
};
static const struct schema_shape alarm_shape = SHAPE(
	"Alarm", struct mf_alarm, alarm_fields, SCHEMA_NO_LOC, check_alarm);

/* DataQualityMonitor */

static void check_baseline(struct schema_ctx *c, void *obj,
			   const struct ynode *map, const char *path)
{
	(void)obj;
	if (!schema_has(map, "statistics") && !schema_has(map, "constraints"))
		schema_error(c, schema_owner(c, map),
			     "%s: expected 'statistics', 'constraints' or both",
			     path);
}

static const struct schema_field baseline_fields[] = {
	F("statistics", SCHEMA_STR, struct mf_baseline, statistics,
	  .rule = &rule_s3_uri),
	F("constraints", SCHEMA_STR, struct mf_baseline, constraints,
	  .rule = &rule_s3_uri),
};
static const struct schema_shape baseline_shape =
	SHAPE("baseline", struct mf_baseline, baseline_fields, SCHEMA_NO_LOC,
	      check_baseline);

/* whether a schedule runs every hour (SageMaker then caps a run at 1 h) */
static bool hourly(const char *schedule)
{
	return !strcmp(schedule, "cron(0 * ? * * *)") ||
	       strstr(schedule, "/1 ?") != NULL;
}

static void check_monitor(struct schema_ctx *c, void *obj,
			  const struct ynode *map, const char *path)
{
	struct mf_monitor *m = obj;

	if (m->schedule && hourly(m->schedule) && m->max_runtime_seconds.set &&
	    m->max_runtime_seconds.v > 3600)
		schema_error(c, schema_node(map, "maxRuntimeSeconds"),
			     "%s.maxRuntimeSeconds: %ld is more than an hourly "
			     "schedule allows (3600)",
			     path, m->max_runtime_seconds.v);
}

static const struct schema_field monitor_fields[] = {
	F("endpoint", SCHEMA_REF, struct mf_monitor, endpoint, REQ),
	F("schedule", SCHEMA_STR, struct mf_monitor, schedule, REQ,
	  .rule = &rule_monitor_schedule),
	F("baseline", SCHEMA_STRUCT, struct mf_monitor, baseline,
	  .shape = &baseline_shape),
	F("output", SCHEMA_STR, struct mf_monitor, output, REQ,
	  .rule = &rule_s3_uri),
	F("instanceType", SCHEMA_STR, struct mf_monitor, instance_type, REQ,
	  .rule = &rule_processing_instance_type),
	F("instanceCount", SCHEMA_INT, struct mf_monitor, instance_count,
	  OPT_RANGE(1, 100)),
	F("volumeSizeGB", SCHEMA_INT, struct mf_monitor, volume_size_gb,
	  OPT_RANGE(1, 16384)),
	F("roleArn", SCHEMA_STR, struct mf_monitor, role_arn, REQ,
	  .rule = &rule_role_arn),
	F("maxRuntimeSeconds", SCHEMA_INT, struct mf_monitor,
	  max_runtime_seconds, OPT_RANGE(1, 86400)),
	F("image", SCHEMA_STR, struct mf_monitor, image,
	  .rule = &rule_monitor_image),
	TAGS(struct mf_monitor),
};
static const struct schema_shape monitor_shape =
	SHAPE("DataQualityMonitor", struct mf_monitor, monitor_fields,
	      SCHEMA_NO_LOC, check_monitor);

/* RetrainTrigger */

static const struct schema_field trigger_fields[] = {
	F("alarms", SCHEMA_REF_LIST, struct mf_trigger, alarms, REQ,
	  .max_items = 20),
	F("pipelineArn", SCHEMA_STR, struct mf_trigger, pipeline_arn, REQ,
	  .rule = &rule_pipeline_arn),
	F("parameters", SCHEMA_MAP, struct mf_trigger, parameters,
	  .key_rule = &rule_pipeline_param, .rule = &rule_pipeline_value,
	  .max_items = 200),
	F("roleArn", SCHEMA_STR, struct mf_trigger, role_arn, REQ,
	  .rule = &rule_role_arn),
	F("snsTopicArn", SCHEMA_STR, struct mf_trigger, sns_topic_arn,
	  .rule = &rule_topic_arn),
	F("enabled", SCHEMA_BOOL, struct mf_trigger, enabled, OPT),
	F("description", SCHEMA_STR, struct mf_trigger, description,
	  .rule = &rule_rule_description),
	TAGS(struct mf_trigger),
};
/* EventBridge takes an event pattern of at most 4096 characters */
static void check_trigger(struct schema_ctx *c, void *obj,
			  const struct ynode *map, const char *path)
{
	struct mf_trigger *t = obj;
	/* the pattern without names, and each name quoted with a comma */
	size_t len = 140, i;

	for (i = 0; i < t->alarms.n; i++)
		len += strlen(t->alarms.items[i].name) + 3;
	if (len > 4096)
		schema_error(c, schema_node(map, "alarms"),
			     "%s.alarms: the event pattern would be about %zu "
			     "characters; EventBridge takes at most 4096 (name "
			     "fewer alarms)",
			     path, len);
}

static const struct schema_shape trigger_shape =
	SHAPE("RetrainTrigger", struct mf_trigger, trigger_fields,
	      SCHEMA_NO_LOC, check_trigger);

/* ---- kinds ----------------------------------------------------------- */

/*
 * One entry per kind: its spec schema, the rule its name follows, and
 * where its array lives in the set. Everything below walks this table.
 */
struct kind {
	const char *name;
	const struct schema_shape *spec;
	const struct schema_rule *name_rule;
	size_t arr_off, n_off, cap_off;
};

#define KIND(kname, shape, rule, arr, n, cap)                             \
	{                                                                 \
		kname, &shape, &rule, offsetof(struct manifest_set, arr), \
			offsetof(struct manifest_set, n),                 \
			offsetof(struct manifest_set, cap)                \
	}

static const struct kind kinds[MF_KIND_COUNT] = {
	[MF_KIND_MODEL_PACKAGE] = KIND("ModelPackage", package_shape,
				       rule_entity_name, packages, n_packages,
				       cap_packages),
	[MF_KIND_MODEL] = KIND("Model", model_shape, rule_model_name, models,
			       n_models, cap_models),
	[MF_KIND_ENDPOINT] = KIND("Endpoint", endpoint_shape,
				  rule_endpoint_name, endpoints, n_endpoints,
				  cap_endpoints),
	[MF_KIND_ALARM] = KIND("Alarm", alarm_shape, rule_alarm_name, alarms,
			       n_alarms, cap_alarms),
	[MF_KIND_DATA_QUALITY_MONITOR] =
		KIND("DataQualityMonitor", monitor_shape, rule_monitor_name,
		     monitors, n_monitors, cap_monitors),
	[MF_KIND_RETRAIN_TRIGGER] = KIND("RetrainTrigger", trigger_shape,
					 rule_rule_name, triggers, n_triggers,
					 cap_triggers),
};

#define KIND_LIST                                                    \
	"ModelPackage, Model, Endpoint, Alarm, DataQualityMonitor, " \
	"RetrainTrigger"

/* every kind's struct starts with its struct mf_meta */
static char **kind_arr(const struct manifest_set *set, enum mf_kind k)
{
	return (char **)((char *)set + kinds[k].arr_off);
}

static size_t *kind_n(const struct manifest_set *set, enum mf_kind k)
{
	return (size_t *)((char *)set + kinds[k].n_off);
}

static struct mf_meta *kind_item(const struct manifest_set *set, enum mf_kind k,
				 size_t i)
{
	return (struct mf_meta *)(*kind_arr(set, k) + i * kinds[k].spec->size);
}

const char *manifest_kind_name(enum mf_kind kind)
{
	return kind < MF_KIND_COUNT ? kinds[kind].name : "unknown";
}

size_t manifest_kind_count(const struct manifest_set *set, enum mf_kind kind)
{
	return *kind_n(set, kind);
}

const struct mf_meta *manifest_kind_item(const struct manifest_set *set,
					 enum mf_kind kind, size_t i)
{
	return kind_item(set, kind, i);
}

bool manifest_is_arn(const char *s)
{
	return !strncmp(s, "arn:", 4);
}

/* ---- the set --------------------------------------------------------- */

void manifest_set_new(struct manifest_set **out,
		      const struct manifest_limits *lim)
{
	struct manifest_set *set = mem_calloc(1, sizeof(*set));
	static const struct manifest_limits defaults = MANIFEST_LIMITS_INIT;

	set->limits = lim ? *lim : defaults;
	*out = set;
}

void manifest_set_free(struct manifest_set *set)
{
	size_t i, k;

	if (!set)
		return;
	for (k = 0; k < MF_KIND_COUNT; k++) {
		for (i = 0; i < *kind_n(set, k); i++) {
			struct mf_meta *m = kind_item(set, k, i);

			schema_release(kinds[k].spec, m);
			schema_release(&meta_shape, m);
		}
		free(*kind_arr(set, k));
	}
	for (i = 0; i < set->n_files; i++)
		free(set->files[i]);
	free(set->files);
	free(set);
}

size_t manifest_set_count(const struct manifest_set *set)
{
	return set->n_packages + set->n_models + set->n_endpoints +
	       set->n_alarms + set->n_monitors + set->n_triggers;
}

static const char *top_fields[] = { "apiVersion", "kind", "metadata", "spec" };

/* Decodes one document into a new element of its kind's array. */
static void add_doc(struct manifest_set *set, struct schema_ctx *c,
		    const struct ynode *doc)
{
	const struct ynode *api, *kind, *meta, *spec, *name;
	const char *kind_names[MF_KIND_COUNT];
	struct mf_meta *m;
	char tmp[64];
	size_t i, *n;
	int k = -1;

	if (doc->type != YNODE_MAP) {
		schema_error(c, doc,
			     "document: expected a mapping with apiVersion, "
			     "kind, metadata and spec; found %s",
			     ynode_describe(doc, tmp, sizeof(tmp)));
		return;
	}
	for (i = 0; i < doc->n; i++) {
		const char *key = doc->keys[i]->value;
		const char *near;

		if (!strcmp(key, "apiVersion") || !strcmp(key, "kind") ||
		    !strcmp(key, "metadata") || !strcmp(key, "spec"))
			continue;
		near = suggest_closest(key, top_fields, ARRAY_SIZE(top_fields));
		if (near)
			schema_error(c, doc->keys[i],
				     "document: unknown field '%s'; did you "
				     "mean '%s'?",
				     key, near);
		else
			schema_error(c, doc->keys[i],
				     "document: unknown field '%s'; expected "
				     "one of: apiVersion, kind, metadata, spec",
				     key);
	}
	api = ynode_get(doc, "apiVersion");
	if (!api || ynode_is_null(api))
		schema_error(c, doc,
			     "document: missing required field 'apiVersion' "
			     "(expected \"" MANIFEST_API_VERSION "\")");
	else if (api->type != YNODE_SCALAR ||
		 strcmp(api->value, MANIFEST_API_VERSION))
		schema_error(c, api,
			     "apiVersion: expected \"" MANIFEST_API_VERSION
			     "\", found %s",
			     ynode_describe(api, tmp, sizeof(tmp)));

	kind = ynode_get(doc, "kind");
	for (i = 0; i < MF_KIND_COUNT; i++) {
		kind_names[i] = kinds[i].name;
		if (kind && kind->type == YNODE_SCALAR &&
		    !strcmp(kind->value, kinds[i].name))
			k = (int)i;
	}
	if (!kind || ynode_is_null(kind)) {
		schema_error(c, doc,
			     "document: missing required field 'kind' "
			     "(expected one of %s)",
			     KIND_LIST);
	} else if (k < 0) {
		const char *near = kind->type == YNODE_SCALAR ?
					   suggest_closest(kind->value,
							   kind_names,
							   MF_KIND_COUNT) :
					   NULL;

		if (near)
			schema_error(c, kind,
				     "kind: expected one of %s; found %s; did "
				     "you mean \"%s\"?",
				     KIND_LIST,
				     ynode_describe(kind, tmp, sizeof(tmp)),
				     near);
		else
			schema_error(c, kind,
				     "kind: expected one of %s; found %s",
				     KIND_LIST,
				     ynode_describe(kind, tmp, sizeof(tmp)));
	}
	meta = ynode_get(doc, "metadata");
	spec = ynode_get(doc, "spec");
	if (!meta || ynode_is_null(meta))
		schema_error(c, doc,
			     "document: missing required field 'metadata'");
	if (!spec || ynode_is_null(spec))
		schema_error(c, doc, "document: missing required field 'spec'");
	if (k < 0 || !meta || ynode_is_null(meta))
		return;

	/*
	 * Keep the manifest even when its spec has errors, as long as it has
	 * a name: references to it then resolve, and the user sees the real
	 * error instead of a cascade of "is not defined".
	 */
	n = kind_n(set, k);
	*kind_arr(set, k) = mem_grow(*kind_arr(set, k),
				     (size_t *)((char *)set + kinds[k].cap_off),
				     *n + 1, kinds[k].spec->size);
	m = kind_item(set, k, *n);
	memset(m, 0, kinds[k].spec->size);
	schema_decode(c, &meta_shape, meta, m, "metadata",
		      ynode_key(doc, "metadata"));
	if (!m->name) {
		schema_release(&meta_shape, m);
		return;
	}
	name = ynode_get(meta, "name");
	m->loc.file = c->file;
	m->loc.line = doc->line;
	m->loc.col = doc->col;
	m->name_loc.file = c->file;
	m->name_loc.line = name->line;
	m->name_loc.col = name->col;
	schema_check_rule(c, kinds[k].name_rule, m->name, name,
			  "metadata.name");
	if (spec && !ynode_is_null(spec))
		schema_decode(c, kinds[k].spec, spec, m, "spec",
			      ynode_key(doc, "spec"));
	(*n)++;
}

int manifest_set_add_buffer(struct manifest_set *set, const char *file,
			    const char *data, size_t len,
			    struct diag_list *diags)
{
	struct schema_ctx c = { NULL, diags, 0, set->limits.max_errors, NULL };
	struct ytree *tree = NULL;
	size_t before = diags->n, i;

	set->files = mem_grow(set->files, &set->cap_files, set->n_files + 1,
			      sizeof(*set->files));
	c.file = set->files[set->n_files++] = mem_strdup(file);
	if (ytree_parse(&tree, c.file, data, len, &set->limits.yaml, diags) < 0)
		return -1;
	for (i = 0; i < ytree_ndocs(tree); i++)
		add_doc(set, &c, ytree_doc(tree, i));
	ytree_free(tree);
	return diags->n == before ? 0 : -1;
}

bool manifest_reads_entry(const char *name, bool dir)
{
	size_t n = strlen(name);

	if (name[0] == '.')
		return false;
	return dir || (n > 5 && !strcmp(name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(name + n - 4, ".yml"));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* a directory walk: where it started, resolved, and what it has read */
struct walk {
	const char *top;
	char *real_top; /* NULL until a link needs it */
	size_t files;
};

static int add_path(struct manifest_set *set, struct walk *w, const char *path,
		    struct diag_list *diags);

static int add_dir(struct manifest_set *set, struct walk *w, const char *path,
		   struct diag_list *diags)
{
	struct buf sub = BUF_INIT;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	DIR *dir = opendir(path);
	int rc = 0;

	if (!dir) {
		diag_add(diags, path, 0, 0, "cannot open directory: %s",
			 strerror(errno));
		return -1;
	}
	while ((de = readdir(dir))) {
		/* hidden entries (.git, .github, editor files) are not ours */
		if (de->d_name[0] == '.')
			continue;
		names = mem_grow(names, &cap, n + 1, sizeof(*names));
		names[n++] = mem_strdup(de->d_name);
	}
	closedir(dir);
	/* sorted, so the order of files and errors never depends on the FS */
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		buf_clear(&sub);
		if (strcmp(path, "."))
			buf_printf(&sub, "%s/", path);
		buf_puts(&sub, names[i]);
		if (add_path(set, w, sub.ptr, diags) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	buf_release(&sub);
	return rc;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/*
 * A symbolic link is never followed. The top of a walk as a link, a link
 * with a manifest's name, one leading outside the top and one to a
 * directory (whose manifests would silently not be read) are errors; a
 * link to another file inside the top (a README) is left alone.
 */
static int add_link(struct walk *w, const char *path, struct diag_list *diags)
{
	struct stat st;
	char *real = NULL;
	size_t n;
	int rc = 0;

	if (path == w->top || manifest_reads_entry(base_name(path), false)) {
		diag_add(diags, path, 0, 0,
			 "is a symbolic link; manifests must be regular files "
			 "(links are not followed)");
		return -1;
	}
	if (!(real = realpath(path, NULL)))
		return 0; /* dangling: there is nothing to read */
	if (!w->real_top)
		w->real_top = realpath(w->top, NULL);
	n = w->real_top ? strlen(w->real_top) : 0;
	if (!w->real_top || strncmp(real, w->real_top, n) ||
	    (real[n] != '/' && real[n] != '\0')) {
		diag_add(diags, path, 0, 0,
			 "is a symbolic link leading outside '%s'; refused "
			 "(links are not followed)",
			 w->top);
		rc = -1;
	} else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		diag_add(diags, path, 0, 0,
			 "is a symbolic link to a directory; links are not "
			 "followed, so its manifests would not be read");
		rc = -1;
	}
	free(real);
	return rc;
}

static int add_path(struct manifest_set *set, struct walk *w, const char *path,
		    struct diag_list *diags)
{
	struct err e = ERR_INIT;
	struct buf data = BUF_INIT;
	struct stat st;
	bool top = path == w->top;
	int rc;

	if (lstat(path, &st) < 0) {
		diag_add(diags, path, 0, 0, "cannot read: %s", strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode))
		return add_link(w, path, diags);
	if (S_ISDIR(st.st_mode))
		return add_dir(set, w, path, diags);
	if (!top && !manifest_reads_entry(base_name(path), false))
		return 0;
	if (!S_ISREG(st.st_mode)) {
		diag_add(diags, path, 0, 0, "is not a regular file");
		return -1;
	}
	if (++w->files > set->limits.max_files) {
		if (w->files == set->limits.max_files + 1)
			diag_add(diags, path, 0, 0,
				 "more than %zu manifest files; the rest are "
				 "not read",
				 set->limits.max_files);
		return -1;
	}
	if (file_read(&data, path, set->limits.max_file_bytes, &e) < 0) {
		diag_add(diags, path, 0, 0, "%s", e.msg);
		buf_release(&data);
		return -1;
	}
	rc = manifest_set_add_buffer(set, path, buf_cstr(&data), data.len,
				     diags);
	buf_release(&data);
	return rc;
}

int manifest_set_add_path(struct manifest_set *set, const char *path,
			  struct diag_list *diags)
{
	struct walk w = { path, NULL, 0 };
	int rc = add_path(set, &w, path, diags);

	free(w.real_top);
	return rc;
}

/* ---- whole-set checks ------------------------------------------------ */

static int cmp_meta(const void *a, const void *b)
{
	const struct mf_meta *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	c = strcmp(x->loc.file, y->loc.file);
	if (c)
		return c;
	return x->loc.line < y->loc.line ? -1 : (x->loc.line > y->loc.line);
}

static int cmp_name(const void *key, const void *item)
{
	return strcmp(key, ((const struct mf_meta *)item)->name);
}

static const void *find(const struct manifest_set *set, enum mf_kind k,
			const char *name)
{
	if (!*kind_n(set, k))
		return NULL;
	return bsearch(name, *kind_arr(set, k), *kind_n(set, k),
		       kinds[k].spec->size, cmp_name);
}

const struct mf_model_package *
manifest_find_package(const struct manifest_set *set, const char *name)
{
	return find(set, MF_KIND_MODEL_PACKAGE, name);
}

const struct mf_model *manifest_find_model(const struct manifest_set *set,
					   const char *name)
{
	return find(set, MF_KIND_MODEL, name);
}

const struct mf_endpoint *manifest_find_endpoint(const struct manifest_set *set,
						 const char *name)
{
	return find(set, MF_KIND_ENDPOINT, name);
}

const struct mf_alarm *manifest_find_alarm(const struct manifest_set *set,
					   const char *name)
{
	return find(set, MF_KIND_ALARM, name);
}

static void check_duplicates(struct manifest_set *set, enum mf_kind k,
			     struct diag_list *diags)
{
	size_t i, n = *kind_n(set, k);

	if (n < 2)
		return;
	qsort(*kind_arr(set, k), n, kinds[k].spec->size, cmp_meta);
	for (i = 1; i < n; i++) {
		const struct mf_meta *a = kind_item(set, k, i - 1);
		const struct mf_meta *b = kind_item(set, k, i);

		if (!strcmp(a->name, b->name))
			diag_add(diags, b->name_loc.file, b->name_loc.line,
				 b->name_loc.col,
				 "metadata.name: duplicate %s name '%s'; first "
				 "defined at %s:%d:%d",
				 kinds[k].name, b->name, a->name_loc.file,
				 a->name_loc.line, a->name_loc.col);
	}
}

static int cmp_meta_ptr_nocase(const void *a, const void *b)
{
	const struct mf_meta *x = *(const struct mf_meta *const *)a;
	const struct mf_meta *y = *(const struct mf_meta *const *)b;
	int c = strcasecmp(x->name, y->name);

	if (c)
		return c;
	/* equal but for case: first defined first */
	c = strcmp(x->loc.file, y->loc.file);
	if (c)
		return c;
	return x->loc.line < y->loc.line ? -1 : (x->loc.line > y->loc.line);
}

/*
 * SageMaker endpoint and monitoring schedule names are case-insensitive
 * (one ARN, lower-cased), so "churn-prod" and "Churn-Prod" are one.
 */
static void check_case(struct manifest_set *set, enum mf_kind k,
		       struct diag_list *diags)
{
	const struct mf_meta **sorted;
	size_t i, n = *kind_n(set, k);

	if (n < 2)
		return;
	sorted = mem_alloc(n * sizeof(*sorted));
	for (i = 0; i < n; i++)
		sorted[i] = kind_item(set, k, i);
	qsort(sorted, n, sizeof(*sorted), cmp_meta_ptr_nocase);
	for (i = 1; i < n; i++) {
		const struct mf_meta *a = sorted[i - 1], *b = sorted[i];

		/* exact duplicates were reported by check_duplicates() */
		if (!strcasecmp(a->name, b->name) && strcmp(a->name, b->name))
			diag_add(diags, b->name_loc.file, b->name_loc.line,
				 b->name_loc.col,
				 "metadata.name: duplicate %s name '%s'; first "
				 "defined at %s:%d:%d as '%s' (SageMaker %s "
				 "names ignore case)",
				 kinds[k].name, b->name, a->name_loc.file,
				 a->name_loc.line, a->name_loc.col, a->name,
				 k == MF_KIND_ENDPOINT ? "endpoint" :
							 "monitoring schedule");
	}
	free(sorted);
}

/* Reports `ref` (at `path`) unless a manifest of kind `k` has its name. */
static void check_ref(const struct manifest_set *set, enum mf_kind k,
		      const struct mf_ref *ref, const char *path,
		      struct diag_list *diags)
{
	const char **names;
	const char *near;
	size_t i, n = *kind_n(set, k);

	if (!ref->name || find(set, k, ref->name))
		return;
	names = mem_alloc((n + 1) * sizeof(*names));
	for (i = 0; i < n; i++)
		names[i] = kind_item(set, k, i)->name;
	near = suggest_closest(ref->name, names, n);
	if (near)
		diag_add(diags, ref->loc.file, ref->loc.line, ref->loc.col,
			 "%s: %s '%s' is not defined; did you mean '%s'?", path,
			 kinds[k].name, ref->name, near);
	else
		diag_add(diags, ref->loc.file, ref->loc.line, ref->loc.col,
			 "%s: %s '%s' is not defined in any manifest", path,
			 kinds[k].name, ref->name);
	free(names);
}

static void check_ref_list(const struct manifest_set *set, enum mf_kind k,
			   const struct mf_ref_list *l, const char *path,
			   struct diag_list *diags)
{
	struct buf p = BUF_INIT;
	size_t i;

	for (i = 0; i < l->n; i++) {
		buf_clear(&p);
		buf_printf(&p, "%s[%zu]", path, i);
		check_ref(set, k, &l->items[i], p.ptr, diags);
	}
	buf_release(&p);
}

static void check_alarm_variant(const struct mf_alarm *a,
				const struct mf_endpoint *e,
				struct diag_list *diags)
{
	struct buf names = BUF_INIT;
	size_t i;

	for (i = 0; i < e->n_variants; i++) {
		if (e->variants[i].name &&
		    !strcmp(e->variants[i].name, a->variant.name))
			return;
		buf_printf(&names, "%s%s", i ? ", " : "",
			   e->variants[i].name ? e->variants[i].name : "?");
	}
	diag_add(diags, a->variant.loc.file, a->variant.loc.line,
		 a->variant.loc.col,
		 "spec.variant: Endpoint '%s' has no variant '%s' (its "
		 "variants: %s)",
		 e->meta.name, a->variant.name, buf_cstr(&names));
	buf_release(&names);
}

/* an alarm on a monitor's metrics: the monitor of its endpoint */
static void check_alarm_monitor(const struct manifest_set *set,
				const struct mf_alarm *a,
				struct diag_list *diags)
{
	const struct mf_monitor *m;

	check_ref(set, MF_KIND_DATA_QUALITY_MONITOR, &a->monitor,
		  "spec.monitor", diags);
	m = find(set, MF_KIND_DATA_QUALITY_MONITOR, a->monitor.name);
	if (m && m->endpoint.name && a->endpoint.name &&
	    strcmp(m->endpoint.name, a->endpoint.name))
		diag_add(diags, a->monitor.loc.file, a->monitor.loc.line,
			 a->monitor.loc.col,
			 "spec.monitor: DataQualityMonitor '%s' watches "
			 "endpoint '%s', not '%s'",
			 a->monitor.name, m->endpoint.name, a->endpoint.name);
}

/* a data-quality monitor reads the requests its endpoint captures */
static void check_monitor_endpoint(const struct manifest_set *set,
				   const struct mf_monitor *m,
				   struct diag_list *diags)
{
	const struct mf_data_capture *dc;
	const struct mf_endpoint *e;
	size_t i;

	check_ref(set, MF_KIND_ENDPOINT, &m->endpoint, "spec.endpoint", diags);
	e = m->endpoint.name ? manifest_find_endpoint(set, m->endpoint.name) :
			       NULL;
	if (!e)
		return;
	dc = e->data_capture;
	if (!dc || (dc->enabled.set && !dc->enabled.v)) {
		diag_add(diags, m->endpoint.loc.file, m->endpoint.loc.line,
			 m->endpoint.loc.col,
			 "spec.endpoint: Endpoint '%s' does not capture data "
			 "(%s); a DataQualityMonitor reads the requests its "
			 "endpoint captures (Endpoint defined at %s:%d:%d)",
			 e->meta.name,
			 dc ? "its dataCapture.enabled is false" :
			      "it has no spec.dataCapture",
			 e->meta.loc.file, e->meta.loc.line, e->meta.loc.col);
		return;
	}
	for (i = 0; i < dc->capture_modes.n; i++)
		if (!strcmp(dc->capture_modes.items[i], "Input"))
			return;
	if (dc->capture_modes.n)
		diag_add(diags, m->endpoint.loc.file, m->endpoint.loc.line,
			 m->endpoint.loc.col,
			 "spec.endpoint: Endpoint '%s' captures only its "
			 "responses; a DataQualityMonitor needs its "
			 "dataCapture.captureModes to include Input (Endpoint "
			 "defined at %s:%d:%d)",
			 e->meta.name, e->meta.loc.file, e->meta.loc.line,
			 e->meta.loc.col);
}

static void check_refs(const struct manifest_set *set, struct diag_list *diags)
{
	struct buf p = BUF_INIT;
	size_t i, j;

	for (i = 0; i < set->n_models; i++) {
		const struct mf_model *m = &set->models[i];

		if (m->model_package.name &&
		    !manifest_is_arn(m->model_package.name))
			check_ref(set, MF_KIND_MODEL_PACKAGE, &m->model_package,
				  "spec.modelPackage", diags);
	}
	for (i = 0; i < set->n_endpoints; i++) {
		const struct mf_endpoint *e = &set->endpoints[i];

		for (j = 0; j < e->n_variants; j++) {
			buf_clear(&p);
			buf_printf(&p, "spec.variants[%zu].model", j);
			check_ref(set, MF_KIND_MODEL, &e->variants[j].model,
				  p.ptr, diags);
		}
		check_ref_list(set, MF_KIND_ALARM, &e->health_alarms,
			       "spec.healthAlarms", diags);
		if (e->deployment)
			check_ref_list(set, MF_KIND_ALARM,
				       &e->deployment->rollback_alarms,
				       "spec.deployment.rollbackAlarms", diags);
	}
	for (i = 0; i < set->n_alarms; i++) {
		const struct mf_alarm *a = &set->alarms[i];
		const struct mf_endpoint *e;

		check_ref(set, MF_KIND_ENDPOINT, &a->endpoint, "spec.endpoint",
			  diags);
		e = a->endpoint.name ?
			    manifest_find_endpoint(set, a->endpoint.name) :
			    NULL;
		if (e && a->variant.name)
			check_alarm_variant(a, e, diags);
		if (a->monitor.name)
			check_alarm_monitor(set, a, diags);
	}
	for (i = 0; i < set->n_monitors; i++)
		check_monitor_endpoint(set, &set->monitors[i], diags);
	for (i = 0; i < set->n_triggers; i++)
		check_ref_list(set, MF_KIND_ALARM, &set->triggers[i].alarms,
			       "spec.alarms", diags);
	buf_release(&p);
}

int manifest_set_finish(struct manifest_set *set, struct diag_list *diags)
{
	size_t k;

	for (k = 0; k < MF_KIND_COUNT; k++)
		check_duplicates(set, k, diags);
	check_case(set, MF_KIND_ENDPOINT, diags);
	check_case(set, MF_KIND_DATA_QUALITY_MONITOR, diags);
	check_refs(set, diags);
	set->finished = true;
	diag_sort(diags);
	return diags->n ? -1 : 0;
}

int manifest_load(struct manifest_set **out, const char *path,
		  const struct manifest_limits *lim, struct diag_list *diags)
{
	struct manifest_set *set = NULL;

	*out = NULL;
	manifest_set_new(&set, lim);
	manifest_set_add_path(set, path, diags);
	if (manifest_set_finish(set, diags) < 0) {
		manifest_set_free(set);
		return -1;
	}
	*out = set;
	return 0;
}
