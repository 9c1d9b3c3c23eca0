/*
 * From manifests to the requests that would create them (see desired.h).
 * The JSON here is built once, canonically (sorted keys, compact), so the
 * same content always hashes to the same name.
 */
#include "desired.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "sigv4.h"

#define DEFAULT_NAMESPACE "AWS/SageMaker"
/* where Model Monitor publishes a data-quality schedule's metrics */
#define MONITOR_NAMESPACE "aws/sagemaker/Endpoints/data-metrics"
#define SCALABLE_DIMENSION "sagemaker:variant:DesiredInstanceCount"

static const char *const kind_names[DESIRED_KIND_COUNT] = {
	"ModelPackage",
	"Model",
	"EndpointConfig",
	"Endpoint",
	"Scaling",
	"Alarm",
	"DataQualityJobDefinition",
	"MonitoringSchedule",
	"EventRule",
};

const char *desired_kind_name(enum desired_kind kind)
{
	return kind < DESIRED_KIND_COUNT ? kind_names[kind] : "unknown";
}

static char *dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	if (!s) {
		fprintf(stderr, "sagesync: fatal: cannot encode JSON\n");
		abort();
	}
	return s;
}

/* jansson's own allocation; copied so the set frees with free() alone */
static char *dump_owned(json_t *j)
{
	char *s = dump(j), *copy = mem_strdup(s);

	free(s);
	return copy;
}

static json_t *kv_object(const struct mf_kv_list *l)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < l->n; i++)
		json_object_set_new(o, l->items[i].key,
				    json_string(l->items[i].value));
	return o;
}

static json_t *str_array(const struct mf_str_list *l)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->items[i]));
	return a;
}

static void tag(json_t *list, const char *key, const char *value)
{
	json_array_append_new(list, json_pack("{s:s, s:s}", "Key", key, "Value",
					      value));
}

static char *tags_json(const struct desired_options *opt, const char *kind,
		       const char *name, const struct mf_kv_list *user)
{
	json_t *list = json_array();
	struct buf manifest = BUF_INIT;
	char *s;
	size_t i;

	buf_printf(&manifest, "%s/%s", kind, name);
	tag(list, DESIRED_TAG_MANAGED_BY, opt->controller);
	tag(list, DESIRED_TAG_REVISION, opt->revision);
	tag(list, DESIRED_TAG_MANIFEST, manifest.ptr);
	for (i = 0; user && i < user->n; i++)
		tag(list, user->items[i].key, user->items[i].value);
	s = dump_owned(list);
	json_decref(list);
	buf_release(&manifest);
	return s;
}

/* "name-1a2b3c4": the manifest name and 7 hex digits of the content */
static void hashed_name(struct desired_resource *r, const char *base,
			const char *content)
{
	char hex[65];
	struct buf name = BUF_INIT;

	sigv4_sha256_hex(hex, content, strlen(content));
	hex[7] = '\0';
	r->hash = mem_strdup(hex);
	buf_printf(&name, "%s-%s", base, hex);
	r->name = buf_detach(&name);
}

static struct desired_resource *add(struct desired_set *d, size_t *cap,
				    enum desired_kind kind,
				    const struct mf_meta *meta,
				    const char *manifest_kind)
{
	struct desired_resource *r;
	struct buf m = BUF_INIT;

	d->items = mem_grow(d->items, cap, d->n + 1, sizeof(*d->items));
	r = &d->items[d->n++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	buf_printf(&m, "%s/%s", manifest_kind, meta->name);
	r->manifest = buf_detach(&m);
	r->loc = meta->loc;
	return r;
}

/*
 * A resource updated in place (not content-hashed): named `name` (taken),
 * with the request `req` (whose reference it takes) and `tags` (taken).
 */
static struct desired_resource *
add_in_place(struct desired_set *d, size_t *cap, enum desired_kind kind,
	     const struct mf_meta *meta, const char *manifest_kind, char *name,
	     json_t *req, char *tags)
{
	struct desired_resource *r = add(d, cap, kind, meta, manifest_kind);

	r->name = name;
	r->hash = mem_strdup("");
	r->request = dump_owned(req);
	r->tags = tags;
	json_decref(req);
	return r;
}

/*
 * An immutable resource, named by its content (hashed_name): the request
 * `req` (whose reference it takes) is hashed without its name, then gets
 * it as `name_member`; tags `tags` (taken).
 */
static struct desired_resource *
add_hashed(struct desired_set *d, size_t *cap, enum desired_kind kind,
	   const struct mf_meta *meta, const char *manifest_kind, json_t *req,
	   const char *name_member, char *tags)
{
	struct desired_resource *r = add(d, cap, kind, meta, manifest_kind);
	char *content = dump(req);

	hashed_name(r, meta->name, content);
	free(content);
	json_object_set_new(req, name_member, json_string(r->name));
	r->request = dump_owned(req);
	r->tags = tags;
	json_decref(req);
	return r;
}

static json_t *container_json(const struct mf_container *c)
{
	json_t *o = json_object();

	json_object_set_new(o, "Image", json_string(c->image));
	if (c->model_data_url)
		json_object_set_new(o, "ModelDataUrl",
				    json_string(c->model_data_url));
	if (c->environment.n)
		json_object_set_new(o, "Environment",
				    kv_object(&c->environment));
	if (c->mode)
		json_object_set_new(
			o, "Mode",
			json_string(c->mode == MF_CONTAINER_MODE_MULTI_MODEL ?
					    "MultiModel" :
					    "SingleModel"));
	return o;
}

static void package_arn(struct buf *out, const struct mf_model_package *p,
			const struct desired_options *opt)
{
	buf_clear(out);
	if (p->arn)
		buf_puts(out, p->arn);
	else
		buf_printf(out, "arn:aws:sagemaker:%s:%s:model-package/%s/%ld",
			   opt->region, opt->account, p->group, p->version.v);
}

static void build_model(struct desired_set *d, size_t *cap,
			const struct manifest_set *set,
			const struct mf_model *m,
			const struct desired_options *opt)
{
	json_t *req = json_object();
	struct buf arn = BUF_INIT;
	size_t i;

	json_object_set_new(req, "ExecutionRoleArn",
			    json_string(m->execution_role_arn));
	if (m->model_package.name) {
		const struct mf_model_package *p =
			manifest_is_arn(m->model_package.name) ?
				NULL :
				manifest_find_package(set,
						      m->model_package.name);

		if (p)
			package_arn(&arn, p, opt);
		else
			buf_puts(&arn, m->model_package.name);
		json_object_set_new(req, "PrimaryContainer",
				    json_pack("{s:s}", "ModelPackageName",
					      arn.ptr));
	} else if (m->n_containers == 1) {
		json_object_set_new(req, "PrimaryContainer",
				    container_json(&m->containers[0]));
	} else {
		json_t *list = json_array();

		for (i = 0; i < m->n_containers; i++)
			json_array_append_new(
				list, container_json(&m->containers[i]));
		json_object_set_new(req, "Containers", list);
	}
	if (m->vpc)
		json_object_set_new(
			req, "VpcConfig",
			json_pack("{s:o, s:o}", "SecurityGroupIds",
				  str_array(&m->vpc->security_group_ids),
				  "Subnets", str_array(&m->vpc->subnets)));
	if (m->network_isolation.set)
		json_object_set_new(req, "EnableNetworkIsolation",
				    json_boolean(m->network_isolation.v));
	add_hashed(d, cap, DESIRED_MODEL, &m->meta, "Model", req, "ModelName",
		   tags_json(opt, "Model", m->meta.name, &m->tags));
	buf_release(&arn);
}

static json_t *capacity_json(const struct mf_capacity *c)
{
	return json_pack("{s:s, s:I}", "Type",
			 c->type == MF_CAPACITY_INSTANCE_COUNT ?
				 "INSTANCE_COUNT" :
				 "CAPACITY_PERCENT",
			 "Value", (json_int_t)c->value.v);
}

static json_t *variant_json(const struct mf_variant *v,
			    const struct desired_set *d)
{
	const struct desired_resource *model = NULL;
	struct buf manifest = BUF_INIT;
	json_t *o = json_object();
	size_t i;

	buf_printf(&manifest, "Model/%s", v->model.name);
	for (i = 0; i < d->n; i++)
		if (d->items[i].kind == DESIRED_MODEL &&
		    !strcmp(d->items[i].manifest, manifest.ptr))
			model = &d->items[i];
	buf_release(&manifest);
	json_object_set_new(o, "VariantName", json_string(v->name));
	json_object_set_new(o, "ModelName",
			    json_string(model ? model->name : v->model.name));
	if (v->serverless) {
		json_t *s =
			json_pack("{s:I, s:I}", "MemorySizeInMB",
				  (json_int_t)v->serverless->memory_mb.v,
				  "MaxConcurrency",
				  (json_int_t)v->serverless->max_concurrency.v);

		if (v->serverless->provisioned_concurrency.set)
			json_object_set_new(
				s, "ProvisionedConcurrency",
				json_integer(
					v->serverless->provisioned_concurrency
						.v));
		json_object_set_new(o, "ServerlessConfig", s);
	} else {
		json_object_set_new(o, "InstanceType",
				    json_string(v->instance_type));
		json_object_set_new(o, "InitialInstanceCount",
				    json_integer(v->instance_count.set ?
							 v->instance_count.v :
							 1));
	}
	json_object_set_new(o, "InitialVariantWeight",
			    json_real(v->weight.set ? v->weight.v : 1.0));
	return o;
}

static json_t *data_capture_json(const struct mf_data_capture *dc)
{
	json_t *o = json_object(), *modes = json_array();
	size_t i;

	json_object_set_new(o, "EnableCapture",
			    json_boolean(dc->enabled.set ? dc->enabled.v : 1));
	json_object_set_new(o, "InitialSamplingPercentage",
			    json_integer(dc->sampling_percentage.v));
	json_object_set_new(o, "DestinationS3Uri",
			    json_string(dc->destination_s3_uri));
	if (dc->kms_key_id)
		json_object_set_new(o, "KmsKeyId", json_string(dc->kms_key_id));
	if (dc->capture_modes.n)
		for (i = 0; i < dc->capture_modes.n; i++)
			json_array_append_new(
				modes, json_pack("{s:s}", "CaptureMode",
						 dc->capture_modes.items[i]));
	else {
		/* both directions unless the manifest says otherwise */
		json_array_append_new(modes, json_pack("{s:s}", "CaptureMode",
						       "Input"));
		json_array_append_new(modes, json_pack("{s:s}", "CaptureMode",
						       "Output"));
	}
	json_object_set_new(o, "CaptureOptions", modes);
	return o;
}

static void build_config(struct desired_set *d, size_t *cap,
			 const struct mf_endpoint *e,
			 const struct desired_options *opt)
{
	json_t *req = json_object(), *variants = json_array();
	size_t i;

	for (i = 0; i < e->n_variants; i++)
		json_array_append_new(variants,
				      variant_json(&e->variants[i], d));
	json_object_set_new(req, "ProductionVariants", variants);
	if (e->data_capture)
		json_object_set_new(req, "DataCaptureConfig",
				    data_capture_json(e->data_capture));
	if (e->kms_key_id)
		json_object_set_new(req, "KmsKeyId",
				    json_string(e->kms_key_id));
	add_hashed(d, cap, DESIRED_ENDPOINT_CONFIG, &e->meta, "Endpoint", req,
		   "EndpointConfigName",
		   tags_json(opt, "Endpoint", e->meta.name, &e->tags));
}

static json_t *deployment_json(const struct mf_deployment *dep)
{
	json_t *o = json_object(), *alarms = json_array();
	long wait = dep->wait_interval_seconds.set ?
			    dep->wait_interval_seconds.v :
			    0;
	size_t i;

	if (dep->strategy == MF_STRATEGY_ROLLING) {
		json_t *p = json_pack("{s:o, s:I}", "MaximumBatchSize",
				      capacity_json(dep->step_size),
				      "WaitIntervalInSeconds",
				      (json_int_t)wait);

		if (dep->maximum_execution_timeout_seconds.set)
			json_object_set_new(
				p, "MaximumExecutionTimeoutInSeconds",
				json_integer(
					dep->maximum_execution_timeout_seconds
						.v));
		if (dep->rollback_maximum_batch_size)
			json_object_set_new(
				p, "RollbackMaximumBatchSize",
				capacity_json(
					dep->rollback_maximum_batch_size));
		json_object_set_new(o, "RollingUpdatePolicy", p);
	} else {
		json_t *t = json_pack(
			"{s:s, s:I}", "Type",
			dep->strategy == MF_STRATEGY_CANARY ? "CANARY" :
			dep->strategy == MF_STRATEGY_LINEAR ? "LINEAR" :
							      "ALL_AT_ONCE",
			"WaitIntervalInSeconds", (json_int_t)wait);
		json_t *p = json_object();

		if (dep->strategy == MF_STRATEGY_CANARY)
			json_object_set_new(t, "CanarySize",
					    capacity_json(dep->step_size));
		if (dep->strategy == MF_STRATEGY_LINEAR)
			json_object_set_new(t, "LinearStepSize",
					    capacity_json(dep->step_size));
		json_object_set_new(p, "TrafficRoutingConfiguration", t);
		if (dep->termination_wait_seconds.set)
			json_object_set_new(
				p, "TerminationWaitInSeconds",
				json_integer(dep->termination_wait_seconds.v));
		if (dep->maximum_execution_timeout_seconds.set)
			json_object_set_new(
				p, "MaximumExecutionTimeoutInSeconds",
				json_integer(
					dep->maximum_execution_timeout_seconds
						.v));
		json_object_set_new(o, "BlueGreenUpdatePolicy", p);
	}
	for (i = 0; i < dep->rollback_alarms.n; i++)
		json_array_append_new(
			alarms, json_pack("{s:s}", "AlarmName",
					  dep->rollback_alarms.items[i].name));
	if (dep->rollback_alarms.n)
		json_object_set_new(o, "AutoRollbackConfiguration",
				    json_pack("{s:o}", "Alarms", alarms));
	else
		json_decref(alarms);
	return o;
}

static void build_endpoint(struct desired_set *d, size_t *cap,
			   const struct mf_endpoint *e,
			   const struct desired_options *opt)
{
	/* the config was added just before */
	const char *config = d->items[d->n - 1].name;
	json_t *req = json_object();

	json_object_set_new(req, "EndpointName", json_string(e->meta.name));
	json_object_set_new(req, "EndpointConfigName", json_string(config));
	if (e->deployment)
		json_object_set_new(req, "DeploymentConfig",
				    deployment_json(e->deployment));
	add_in_place(d, cap, DESIRED_ENDPOINT, &e->meta, "Endpoint",
		     mem_strdup(e->meta.name), req,
		     tags_json(opt, "Endpoint", e->meta.name, &e->tags));
}

static void build_scaling(struct desired_set *d, size_t *cap,
			  const struct mf_endpoint *e,
			  const struct mf_variant *v,
			  const struct desired_options *opt)
{
	const struct mf_autoscaling *a = v->autoscaling;
	struct desired_resource *r;
	struct buf id = BUF_INIT, policy = BUF_INIT;
	json_t *target, *pol, *conf;

	buf_printf(&id, "endpoint/%s/variant/%s", e->meta.name, v->name);
	buf_printf(&policy, "sagesync-%s-%s", e->meta.name, v->name);
	target = json_pack("{s:s, s:s, s:s, s:I, s:I}", "ServiceNamespace",
			   "sagemaker", "ResourceId", id.ptr,
			   "ScalableDimension", SCALABLE_DIMENSION,
			   "MinCapacity", (json_int_t)a->min.v, "MaxCapacity",
			   (json_int_t)a->max.v);
	conf = json_pack("{s:f, s:{s:s}}", "TargetValue",
			 a->target_invocations_per_instance.v,
			 "PredefinedMetricSpecification",
			 "PredefinedMetricType",
			 "SageMakerVariantInvocationsPerInstance");
	if (a->scale_in_cooldown.set)
		json_object_set_new(conf, "ScaleInCooldown",
				    json_integer(a->scale_in_cooldown.v));
	if (a->scale_out_cooldown.set)
		json_object_set_new(conf, "ScaleOutCooldown",
				    json_integer(a->scale_out_cooldown.v));
	pol = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "PolicyName",
			policy.ptr, "ServiceNamespace", "sagemaker",
			"ResourceId", id.ptr, "ScalableDimension",
			SCALABLE_DIMENSION, "PolicyType",
			"TargetTrackingScaling",
			"TargetTrackingScalingPolicyConfiguration", conf);
	r = add_in_place(d, cap, DESIRED_SCALING, &e->meta, "Endpoint",
			 buf_detach(&id), target,
			 tags_json(opt, "Endpoint", e->meta.name, NULL));
	r->request2 = dump_owned(pol);
	json_decref(pol);
	buf_release(&policy);
}

static void build_alarm(struct desired_set *d, size_t *cap,
			const struct mf_alarm *a,
			const struct desired_options *opt)
{
	static const char *const statistics[] = { "",	     "SampleCount",
						  "Average", "Sum",
						  "Minimum", "Maximum" };
	static const char *const comparisons[] = {
		"",
		"GreaterThanOrEqualToThreshold",
		"GreaterThanThreshold",
		"LessThanThreshold",
		"LessThanOrEqualToThreshold",
	};
	static const char *const missing[] = { "", "breaching", "notBreaching",
					       "ignore", "missing" };
	json_t *req = json_object(), *dims = json_array();

	/* Model Monitor names its dimensions otherwise */
	json_array_append_new(dims, json_pack("{s:s, s:s}", "Name",
					      a->monitor.name ? "Endpoint" :
								"EndpointName",
					      "Value", a->endpoint.name));
	if (a->monitor.name)
		json_array_append_new(dims,
				      json_pack("{s:s, s:s}", "Name",
						"MonitoringSchedule", "Value",
						a->monitor.name));
	if (a->variant.name)
		json_array_append_new(dims, json_pack("{s:s, s:s}", "Name",
						      "VariantName", "Value",
						      a->variant.name));
	json_object_set_new(req, "AlarmName", json_string(a->meta.name));
	json_object_set_new(req, "MetricName", json_string(a->metric));
	json_object_set_new(req, "Namespace",
			    json_string(a->namespace	? a->namespace :
					a->monitor.name ? MONITOR_NAMESPACE :
							  DEFAULT_NAMESPACE));
	json_object_set_new(req, "Statistic",
			    json_string(statistics[a->statistic]));
	json_object_set_new(req, "Dimensions", dims);
	json_object_set_new(req, "Period",
			    json_integer(a->period.set ? a->period.v : 60));
	json_object_set_new(req, "EvaluationPeriods",
			    json_integer(a->evaluation_periods.set ?
						 a->evaluation_periods.v :
						 1));
	if (a->datapoints_to_alarm.set)
		json_object_set_new(req, "DatapointsToAlarm",
				    json_integer(a->datapoints_to_alarm.v));
	json_object_set_new(req, "Threshold", json_real(a->threshold.v));
	json_object_set_new(req, "ComparisonOperator",
			    json_string(comparisons[a->comparison]));
	if (a->treat_missing_data)
		json_object_set_new(
			req, "TreatMissingData",
			json_string(missing[a->treat_missing_data]));
	if (a->actions.n)
		json_object_set_new(req, "AlarmActions",
				    str_array(&a->actions));
	if (a->description)
		json_object_set_new(req, "AlarmDescription",
				    json_string(a->description));
	add_in_place(d, cap, DESIRED_ALARM, &a->meta, "Alarm",
		     mem_strdup(a->meta.name), req,
		     tags_json(opt, "Alarm", a->meta.name, &a->tags));
}

static void build_package(struct desired_set *d, size_t *cap,
			  const struct mf_model_package *p,
			  const struct desired_options *opt)
{
	static const char *const approvals[] = { "", "Approved", "Rejected",
						 "PendingManualApproval" };
	struct buf arn = BUF_INIT;
	json_t *req;

	package_arn(&arn, p, opt);
	req = json_pack("{s:s, s:s}", "ModelPackageArn", arn.ptr,
			"ModelApprovalStatus", approvals[p->approval]);
	if (p->description)
		json_object_set_new(req, "ApprovalDescription",
				    json_string(p->description));
	/* packages are registered by pipelines, not created here: no tags */
	add_in_place(d, cap, DESIRED_MODEL_PACKAGE, &p->meta, "ModelPackage",
		     buf_detach(&arn), req, mem_strdup("[]"));
}

/*
 * SageMaker's prebuilt Model Monitor analyzer, by region: the accounts
 * its documentation lists. Elsewhere the manifest names the image.
 */
static const struct {
	const char *region, *account;
} analyzer_accounts[] = {
	{ "us-east-1", "156813124566" }, { "us-east-2", "777275614652" },
	{ "us-west-1", "890145073186" }, { "us-west-2", "159807026194" },
	{ "eu-west-1", "468650794304" }, { "eu-central-1", "048819808253" },
};

static int analyzer_image(struct buf *out, const struct mf_monitor *m,
			  const char *region, struct err *e)
{
	size_t i;

	if (m->image) {
		buf_puts(out, m->image);
		return 0;
	}
	for (i = 0;
	     i < sizeof(analyzer_accounts) / sizeof(analyzer_accounts[0]); i++)
		if (region && !strcmp(region, analyzer_accounts[i].region)) {
			buf_printf(out,
				   "%s.dkr.ecr.%s.amazonaws.com/"
				   "sagemaker-model-monitor-analyzer",
				   analyzer_accounts[i].account, region);
			return 0;
		}
	return err_set(e, ERR_INVALID,
		       "%s:%d:%d: DataQualityMonitor '%s': spec.image is "
		       "required in region %s (sagesync knows SageMaker's "
		       "analyzer image in us-east-1, us-east-2, us-west-1, "
		       "us-west-2, eu-west-1 and eu-central-1)",
		       m->meta.loc.file, m->meta.loc.line, m->meta.loc.col,
		       m->meta.name, region ? region : "(none)");
}

static int build_monitor(struct desired_set *d, size_t *cap,
			 const struct mf_monitor *m,
			 const struct desired_options *opt, struct err *e)
{
	struct desired_resource *r;
	struct buf image = BUF_INIT;
	json_t *req, *sched;

	if (analyzer_image(&image, m, opt->region, e) < 0) {
		buf_release(&image);
		return -1;
	}
	req = json_pack(
		"{s:{s:s, s:{s:s}}, s:{s:{s:s, s:s}}, "
		"s:{s:[{s:{s:s, s:s, s:s}}]}, s:{s:{s:I, s:s, s:I}}, s:s, "
		"s:{s:I}}",
		"DataQualityAppSpecification", "ImageUri", image.ptr,
		/* the metrics a drift alarm watches */
		"Environment", "publish_cloudwatch_metrics", "Enabled",
		"DataQualityJobInput", "EndpointInput", "EndpointName",
		m->endpoint.name, "LocalPath",
		"/opt/ml/processing/input/endpoint",
		"DataQualityJobOutputConfig", "MonitoringOutputs", "S3Output",
		"S3Uri", m->output, "LocalPath", "/opt/ml/processing/output",
		"S3UploadMode", "EndOfJob", "JobResources", "ClusterConfig",
		"InstanceCount",
		(json_int_t)(m->instance_count.set ? m->instance_count.v : 1),
		"InstanceType", m->instance_type, "VolumeSizeInGB",
		(json_int_t)(m->volume_size_gb.set ? m->volume_size_gb.v : 20),
		"RoleArn", m->role_arn, "StoppingCondition",
		"MaxRuntimeInSeconds",
		(json_int_t)(m->max_runtime_seconds.set ?
				     m->max_runtime_seconds.v :
				     3600));
	if (m->baseline) {
		json_t *b = json_object();

		if (m->baseline->statistics)
			json_object_set_new(b, "StatisticsResource",
					    json_pack("{s:s}", "S3Uri",
						      m->baseline->statistics));
		if (m->baseline->constraints)
			json_object_set_new(
				b, "ConstraintsResource",
				json_pack("{s:s}", "S3Uri",
					  m->baseline->constraints));
		json_object_set_new(req, "DataQualityBaselineConfig", b);
	}
	r = add_hashed(d, cap, DESIRED_MONITOR_JOB, &m->meta,
		       "DataQualityMonitor", req, "JobDefinitionName",
		       tags_json(opt, "DataQualityMonitor", m->meta.name,
				 &m->tags));
	sched = json_pack("{s:s, s:{s:{s:s}, s:s, s:s}}",
			  "MonitoringScheduleName", m->meta.name,
			  "MonitoringScheduleConfig", "ScheduleConfig",
			  "ScheduleExpression", m->schedule,
			  "MonitoringJobDefinitionName", r->name,
			  "MonitoringType", "DataQuality");
	add_in_place(d, cap, DESIRED_MONITOR_SCHEDULE, &m->meta,
		     "DataQualityMonitor", mem_strdup(m->meta.name), sched,
		     tags_json(opt, "DataQualityMonitor", m->meta.name,
			       &m->tags));
	buf_release(&image);
	return 0;
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* CloudWatch's "Alarm State Change" event of the alarms entering ALARM */
static json_t *alarm_pattern(const struct mf_trigger *t)
{
	const char **names = mem_alloc((t->alarms.n + 1) * sizeof(*names));
	json_t *list = json_array();
	size_t i;

	for (i = 0; i < t->alarms.n; i++)
		names[i] = t->alarms.items[i].name;
	qsort(names, t->alarms.n, sizeof(*names), cmp_cstr);
	for (i = 0; i < t->alarms.n; i++)
		if (!i || strcmp(names[i], names[i - 1]))
			json_array_append_new(list, json_string(names[i]));
	free(names);
	return json_pack("{s:[s], s:[s], s:{s:o, s:{s:[s]}}}", "source",
			 "aws.cloudwatch", "detail-type",
			 "CloudWatch Alarm State Change", "detail", "alarmName",
			 list, "state", "value", "ALARM");
}

static void build_trigger(struct desired_set *d, size_t *cap,
			  const struct mf_trigger *t,
			  const struct desired_options *opt)
{
	struct desired_resource *r;
	json_t *pattern = alarm_pattern(t), *rule, *targets, *params, *pipeline;
	char *text = dump(pattern);
	size_t i;

	rule = json_pack("{s:s, s:s, s:s}", "Name", t->meta.name,
			 "EventPattern", text, "State",
			 t->enabled.set && !t->enabled.v ? "DISABLED" :
							   "ENABLED");
	if (t->description)
		json_object_set_new(rule, "Description",
				    json_string(t->description));
	params = json_array();
	for (i = 0; i < t->parameters.n; i++)
		json_array_append_new(
			params, json_pack("{s:s, s:s}", "Name",
					  t->parameters.items[i].key, "Value",
					  t->parameters.items[i].value));
	targets = json_array();
	pipeline = json_pack("{s:s, s:s, s:s}", "Id", "pipeline", "Arn",
			     t->pipeline_arn, "RoleArn", t->role_arn);
	/* no parameters: the pipeline's defaults, and no empty list */
	if (json_array_size(params))
		json_object_set_new(pipeline, "SageMakerPipelineParameters",
				    json_pack("{s:O}", "PipelineParameterList",
					      params));
	json_decref(params);
	json_array_append_new(targets, pipeline);
	if (t->sns_topic_arn)
		json_array_append_new(targets,
				      json_pack("{s:s, s:s}", "Id", "notify",
						"Arn", t->sns_topic_arn));
	r = add_in_place(d, cap, DESIRED_RULE, &t->meta, "RetrainTrigger",
			 mem_strdup(t->meta.name), rule,
			 tags_json(opt, "RetrainTrigger", t->meta.name,
				   &t->tags));
	targets = json_pack("{s:s, s:o}", "Rule", t->meta.name, "Targets",
			    targets);
	r->request2 = dump_owned(targets);
	json_decref(targets);
	json_decref(pattern);
	free(text);
}

int desired_build(struct desired_set *out, const struct manifest_set *set,
		  const struct desired_options *opt, struct err *e)
{
	size_t cap = 0, i, j;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < set->n_packages; i++)
		build_package(out, &cap, &set->packages[i], opt);
	for (i = 0; i < set->n_models; i++)
		build_model(out, &cap, set, &set->models[i], opt);
	for (i = 0; i < set->n_endpoints; i++) {
		build_config(out, &cap, &set->endpoints[i], opt);
		build_endpoint(out, &cap, &set->endpoints[i], opt);
	}
	for (i = 0; i < set->n_endpoints; i++)
		for (j = 0; j < set->endpoints[i].n_variants; j++)
			if (set->endpoints[i].variants[j].autoscaling)
				build_scaling(out, &cap, &set->endpoints[i],
					      &set->endpoints[i].variants[j],
					      opt);
	for (i = 0; i < set->n_alarms; i++)
		build_alarm(out, &cap, &set->alarms[i], opt);
	for (i = 0; i < set->n_monitors; i++)
		if (build_monitor(out, &cap, &set->monitors[i], opt, e) < 0) {
			desired_set_release(out);
			return -1;
		}
	for (i = 0; i < set->n_triggers; i++)
		build_trigger(out, &cap, &set->triggers[i], opt);
	return 0;
}

void desired_set_release(struct desired_set *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->items[i].name);
		free(d->items[i].manifest);
		free(d->items[i].hash);
		free(d->items[i].request);
		free(d->items[i].request2);
		free(d->items[i].tags);
	}
	free(d->items);
	memset(d, 0, sizeof(*d));
}

const struct desired_resource *desired_find(const struct desired_set *d,
					    enum desired_kind kind,
					    const char *name)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->items[i].kind == kind && !strcmp(d->items[i].name, name))
			return &d->items[i];
	return NULL;
}
