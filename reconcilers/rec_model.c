/*
 * Model and EndpointConfig: immutable SageMaker resources, named by the
 * hash of their content, so they are only ever created or deleted
 * (ListModels / ListEndpointConfigs, CreateModel / CreateEndpointConfig,
 * DeleteModel / DeleteEndpointConfig).
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

/*
 * Models and endpoint configs: immutable, so their tags are read once per
 * creation (CreationTime is the change marker).
 */
static int observe_immutable(struct engine *en, enum desired_kind kind,
			     const char *op, const char *list_key,
			     const char *name_key, const char *arn_key,
			     struct err *e)
{
	json_t *items = NULL, *it;
	char marker[64];
	size_t i;
	int rc;

	rc = engine_list_all(en, &aws_sagemaker, op, "{\"MaxResults\": 100}",
			     list_key, &items, e);
	json_array_foreach(items, i, it)
	{
		const char *name = engine_json_str(it, name_key);
		struct live *l;

		if (rc < 0)
			break;
		if (!desired_find(&en->want, kind, name) && !hashed(name))
			continue;
		/* immutable, but a name can be deleted and made again */
		engine_marker(json_object_get(it, "CreationTime"), marker,
			      sizeof(marker));
		l = engine_live_add(en, kind, name,
				    engine_json_str(it, arn_key));
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
	return observe_immutable(en, DESIRED_MODEL, "ListModels", "Models",
				 "ModelName", "ModelArn", e);
}

static int observe_configs(struct engine *en, struct err *e)
{
	return observe_immutable(en, DESIRED_ENDPOINT_CONFIG,
				 "ListEndpointConfigs", "EndpointConfigs",
				 "EndpointConfigName", "EndpointConfigArn", e);
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

static int apply_model(struct engine *en, struct change *ch, struct err *e)
{
	struct buf out = BUF_INIT, req = BUF_INIT;
	char *body;
	int rc;

	if (ch->action == CHANGE_DELETE) {
		rc = engine_delete(en, ch, &aws_sagemaker,
				   ch->kind == DESIRED_MODEL ?
					   "DeleteModel" :
					   "DeleteEndpointConfig",
				   json_pack("{s:s}",
					     ch->kind == DESIRED_MODEL ?
						     "ModelName" :
						     "EndpointConfigName",
					     ch->name),
				   e);
		goto out;
	}
	body = engine_with_tags(ch->want);
	rc = engine_call(en, &aws_sagemaker,
			 ch->kind == DESIRED_MODEL ? "CreateModel" :
						     "CreateEndpointConfig",
			 body, &out, e);
	if (rc < 0)
		rc = ch->kind == DESIRED_MODEL ?
			     engine_adopt(en, ch, "DescribeModel", "ModelName",
					  "ModelArn", e) :
			     engine_adopt(en, ch, "DescribeEndpointConfig",
					  "EndpointConfigName",
					  "EndpointConfigArn", e);
	free(body);
	if (rc == 0) {
		/* the tags are ours: no need to read them back next time */
		json_t *ans = engine_json_parse(out.ptr, out.len);
		const char *arn = engine_json_str(
			ans, ch->kind == DESIRED_MODEL ? "ModelArn" :
							 "EndpointConfigArn");

		engine_cache_tags(en, arn, "", en->opt.controller,
				  ch->want->manifest, en->opt.revision);
		json_decref(ans);
	}
out:
	buf_release(&out);
	buf_release(&req);
	return rc;
}

const struct reconciler rec_model = {
	1, DESIRED_MODEL, observe_models, diff_immutable, apply_model,
};

const struct reconciler rec_endpoint_config = {
	1,	     DESIRED_ENDPOINT_CONFIG, observe_configs, diff_immutable,
	apply_model,
};
