/*
 * Model, EndpointConfig and data-quality job definition: immutable
 * SageMaker resources, named by the hash of their content, so they are
 * only ever created or deleted (List*, Create*, Delete*; Describe* when a
 * create finds the name taken).
 */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "reconciler.h"

/* names the controller could have made: "<name>-<7 hex>" */
static bool hashed(const char *name)
{
	size_t n = strlen(name), i;

	if (n < 9 || name[n - 8] != '-')
		return false;
	for (i = n - 7; i < n; i++)
		if (!strchr("0123456789abcdef", name[i]))
			return false;
	return true;
}

/* the calls of one immutable kind */
struct immutable {
	enum desired_kind kind;
	const char *list_op, *list_key, *name_key, *arn_key;
	const char *create_op, *create_arn_key;
	const char *describe_op, *name_member; /* and delete's */
	const char *delete_op;
};

static const struct immutable immutables[] = {
	{ DESIRED_MODEL, "ListModels", "Models", "ModelName", "ModelArn",
	  "CreateModel", "ModelArn", "DescribeModel", "ModelName",
	  "DeleteModel" },
	{ DESIRED_ENDPOINT_CONFIG, "ListEndpointConfigs", "EndpointConfigs",
	  "EndpointConfigName", "EndpointConfigArn", "CreateEndpointConfig",
	  "EndpointConfigArn", "DescribeEndpointConfig", "EndpointConfigName",
	  "DeleteEndpointConfig" },
	{ DESIRED_MONITOR_JOB, "ListDataQualityJobDefinitions",
	  "JobDefinitionSummaries", "MonitoringJobDefinitionName",
	  "MonitoringJobDefinitionArn", "CreateDataQualityJobDefinition",
	  "JobDefinitionArn", "DescribeDataQualityJobDefinition",
	  "JobDefinitionName", "DeleteDataQualityJobDefinition" },
};

static const struct immutable *immutable_of(enum desired_kind kind)
{
	size_t i;

	for (i = 0; i < sizeof(immutables) / sizeof(immutables[0]); i++)
		if (immutables[i].kind == kind)
			return &immutables[i];
	return NULL;
}

/*
 * Immutable resources: their tags are read once per creation
 * (CreationTime is the change marker).
 */
static int observe_immutable(struct engine *en, enum desired_kind kind,
			     struct err *e)
{
	const struct immutable *k = immutable_of(kind);
	json_t *items = NULL, *it;
	char marker[64];
	size_t i;
	int rc;

	rc = engine_list_all(en, &aws_sagemaker, k->list_op,
			     "{\"MaxResults\": 100}", k->list_key, &items, e);
	json_array_foreach(items, i, it)
	{
		const char *name = engine_json_str(it, k->name_key);
		struct live *l;

		if (rc < 0)
			break;
		if (!desired_find(&en->want, kind, name) && !hashed(name))
			continue;
		/* immutable, but a name can be deleted and made again */
		engine_marker(json_object_get(it, "CreationTime"), marker,
			      sizeof(marker));
		l = engine_live_add(en, kind, name,
				    engine_json_str(it, k->arn_key));
		rc = engine_fetch_tags(en, l, marker, e);
		if (rc == ENGINE_GONE) {
			engine_live_drop_last(en);
			rc = 0;
		}
	}
	json_decref(items);
	return rc;
}

static int observe_models(struct engine *en, struct err *e)
{
	return observe_immutable(en, DESIRED_MODEL, e);
}

static int observe_configs(struct engine *en, struct err *e)
{
	return observe_immutable(en, DESIRED_ENDPOINT_CONFIG, e);
}

static int observe_monitor_jobs(struct engine *en, struct err *e)
{
	return observe_immutable(en, DESIRED_MONITOR_JOB, e);
}

static void diff_immutable(struct engine *en,
			   const struct desired_resource *want,
			   struct live *live)
{
	/* the same name is the same content: nothing to do */
	(void)en;
	(void)want;
	(void)live;
}

static int apply_immutable(struct engine *en, struct change *ch, struct err *e)
{
	const struct immutable *k = immutable_of(ch->kind);
	struct buf out = BUF_INIT;
	char *body;
	int rc;

	if (ch->action == CHANGE_DELETE) {
		rc = engine_delete(en, ch, &aws_sagemaker, k->delete_op,
				   json_pack("{s:s}", k->name_member, ch->name),
				   e);
		goto out;
	}
	body = engine_with_tags(ch->want);
	rc = engine_call(en, &aws_sagemaker, k->create_op, body, &out, e);
	if (rc < 0)
		rc = engine_adopt(en, ch, k->describe_op, k->name_member,
				  k->create_arn_key, e);
	free(body);
	if (rc == 0) {
		/* the tags are ours: no need to read them back next time */
		json_t *ans = engine_json_parse(out.ptr, out.len);
		const char *arn = engine_json_str(ans, k->create_arn_key);

		engine_cache_tags(en, arn, "", en->opt.controller,
				  ch->want->manifest, en->opt.revision);
		json_decref(ans);
	}
out:
	buf_release(&out);
	return rc;
}

const struct reconciler rec_model = {
	1, DESIRED_MODEL, observe_models, diff_immutable, apply_immutable, NULL,
};

const struct reconciler rec_endpoint_config = {
	1,
	DESIRED_ENDPOINT_CONFIG,
	observe_configs,
	diff_immutable,
	apply_immutable,
	NULL,
};

const struct reconciler rec_monitor_job = {
	1,
	DESIRED_MONITOR_JOB,
	observe_monitor_jobs,
	diff_immutable,
	apply_immutable,
	":data-quality-job-definition/",
};
