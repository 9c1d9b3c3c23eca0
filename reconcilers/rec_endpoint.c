/*
 * Endpoint: CreateEndpoint, or UpdateEndpoint to a new config with the
 * manifest's DeploymentConfig and RetainAllVariantProperties, so that
 * SageMaker's own blue/green or rolling update does the switch.
 */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "reconciler.h"

static int observe_endpoints(struct engine *en, struct err *e)
{
	json_t *items = NULL, *it,
	       *known = json_object_get(en->cache, "endpoints");
	struct buf req = BUF_INIT, out = BUF_INIT;
	char marker[64];
	size_t i;
	int rc;

	rc = engine_list_all(en, &aws_sagemaker, "ListEndpoints",
			     "{\"MaxResults\": 100}", "Endpoints", &items, e);
	json_array_foreach(items, i, it)
	{
		const char *name = engine_json_str(it, "EndpointName");
		struct live *l;
		json_t *c;

		if (rc < 0)
			break;
		engine_marker(json_object_get(it, "LastModifiedTime"), marker,
			      sizeof(marker));
		l = engine_live_add(en, DESIRED_ENDPOINT, name,
				    engine_json_str(it, "EndpointArn"));
		if ((rc = engine_fetch_tags(en, l, marker, e)) < 0)
			break;
		if (rc == ENGINE_GONE) {
			engine_live_drop_last(en);
			rc = 0;
			continue;
		}
		if (!l->owned &&
		    !desired_find(&en->want, DESIRED_ENDPOINT, name))
			continue;
		/* which config it runs: known unless it changed since */
		c = json_object_get(known, name);
		if (c && !strcmp(engine_json_str(c, "t"), marker)) {
			l->content = json_incref(c);
			continue;
		}
		buf_clear(&req);
		engine_request(&req, json_pack("{s:s}", "EndpointName", name));
		if ((rc = aws_json(en->aws, &aws_sagemaker, "DescribeEndpoint",
				   req.ptr, &out, e)) < 0) {
			if (!engine_not_found(e))
				break;
			err_clear(e);
			engine_live_drop_last(en);
			rc = 0;
			continue;
		}
		{
			json_t *d = engine_json_parse(out.ptr, out.len);

			/* "pending": the config an update in progress goes to
			 */
			l->content = json_pack(
				"{s:s, s:s, s:s, s:s, s:s}", "t", marker,
				"config",
				engine_json_str(d, "EndpointConfigName"),
				"status", engine_json_str(d, "EndpointStatus"),
				"reason", engine_json_str(d, "FailureReason"),
				"pending",
				engine_json_str(
					json_object_get(d,
							"PendingDeploymentSum"
							"mary"),
					"EndpointConfigName"));
			json_object_set(known, name, l->content);
			json_decref(d);
		}
	}
	json_decref(items);
	buf_release(&req);
	buf_release(&out);
	return rc;
}

static void diff_endpoint(struct engine *en,
			  const struct desired_resource *want,
			  struct live *live)
{
	json_t *w = engine_json_parse(want->request, strlen(want->request));
	const char *have = engine_json_str(live->content, "config");
	const char *need = engine_json_str(w, "EndpointConfigName");
	const char *status = engine_json_str(live->content, "status");
	struct buf d = BUF_INIT;

	/* already on its way there (an apply interrupted mid-deploy): the
	 * wait picks it up, there is nothing to start */
	if ((!strcmp(status, "Updating") || !strcmp(status, "Creating")) &&
	    (!strcmp(have, need) ||
	     !strcmp(engine_json_str(live->content, "pending"), need))) {
		json_decref(w);
		return;
	}
	if (strcmp(have, need)) {
		buf_printf(&d, "EndpointConfigName: %s -> %s", have, need);
		engine_plan_add(en, DESIRED_ENDPOINT, CHANGE_UPDATE, want->name,
				want->manifest, live->arn, want,
				engine_is_drift(en, want), d.ptr);
	}
	json_decref(w);
	buf_release(&d);
}

/* a variant's `field` in config `c`, by variant name */
static json_t *variant_field(json_t *c, const char *variant, const char *field)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(c, "ProductionVariants"), i, v)
	{
		if (!strcmp(engine_json_str(v, "VariantName"), variant))
			return json_object_get(v, field);
	}
	return NULL;
}

static bool same(json_t *a, json_t *b)
{
	if (!a || !b)
		return a == b;
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	return json_equal(a, b);
}

/*
 * RetainAllVariantProperties keeps what autoscaling (or a person) set on
 * the running endpoint; a property Git changed between the running config
 * and the new one is excluded, so Git's value applies.
 */
static int retain_properties(struct engine *en, const struct change *ch,
			     json_t *w, struct err *e)
{
	struct live *l = engine_live_find(en, DESIRED_ENDPOINT, ch->name);
	const struct desired_resource *cfg =
		desired_find(&en->want, DESIRED_ENDPOINT_CONFIG,
			     engine_json_str(w, "EndpointConfigName"));
	json_t *exclude = json_array(), *old = NULL, *neu = NULL, *v;
	struct buf req = BUF_INIT, out = BUF_INIT;
	bool count = false, weight = false;
	size_t i;
	int rc = 0;

	json_object_set_new(w, "RetainAllVariantProperties", json_true());
	if (!l || !cfg)
		goto out;
	engine_request(&req, json_pack("{s:s}", "EndpointConfigName",
				       engine_json_str(l->content, "config")));
	if ((rc = engine_call(en, &aws_sagemaker, "DescribeEndpointConfig",
			      req.ptr, &out, e)) < 0)
		goto out;
	old = engine_json_parse(out.ptr, out.len);
	neu = engine_json_parse(cfg->request, strlen(cfg->request));
	json_array_foreach(json_object_get(neu, "ProductionVariants"), i, v)
	{
		const char *name = engine_json_str(v, "VariantName");

		count |= !same(variant_field(old, name, "InitialInstanceCount"),
			       json_object_get(v, "InitialInstanceCount"));
		weight |=
			!same(variant_field(old, name, "InitialVariantWeight"),
			      json_object_get(v, "InitialVariantWeight"));
	}
	if (count)
		json_array_append_new(exclude,
				      json_pack("{s:s}", "VariantPropertyType",
						"DesiredInstanceCount"));
	if (weight)
		json_array_append_new(exclude,
				      json_pack("{s:s}", "VariantPropertyType",
						"DesiredWeight"));
	if (!same(json_object_get(old, "DataCaptureConfig"),
		  json_object_get(neu, "DataCaptureConfig")))
		json_array_append_new(exclude,
				      json_pack("{s:s}", "VariantPropertyType",
						"DataCaptureConfig"));
out:
	if (json_array_size(exclude))
		json_object_set(w, "ExcludeRetainedVariantProperties", exclude);
	json_decref(exclude);
	json_decref(old);
	json_decref(neu);
	buf_release(&req);
	buf_release(&out);
	return rc;
}

static int apply_endpoint(struct engine *en, struct change *ch, struct err *e)
{
	struct buf out = BUF_INIT, req = BUF_INIT;
	json_t *w;
	char *body;
	int rc;

	if (ch->action == CHANGE_DELETE) {
		rc = engine_delete(en, ch, &aws_sagemaker, "DeleteEndpoint",
				   json_pack("{s:s}", "EndpointName", ch->name),
				   e);
		goto out;
	}
	w = engine_json_parse(ch->want->request, strlen(ch->want->request));
	if (ch->action == CHANGE_CREATE) {
		/* DeploymentConfig is for updates; creating has nothing to
		 * shift from */
		json_object_del(w, "DeploymentConfig");
		json_object_set_new(w, "Tags",
				    engine_json_parse(ch->want->tags,
						      strlen(ch->want->tags)));
		body = json_dumps(w, JSON_COMPACT);
		rc = engine_call(en, &aws_sagemaker, "CreateEndpoint", body,
				 &out, e);
		if (rc < 0)
			rc = engine_adopt(en, ch, "DescribeEndpoint",
					  "EndpointName", "EndpointArn", e);
	} else {
		/* keep what autoscaling set, except what Git changed */
		if ((rc = retain_properties(en, ch, w, e)) < 0) {
			json_decref(w);
			goto out;
		}
		body = json_dumps(w, JSON_COMPACT);
		rc = engine_call(en, &aws_sagemaker, "UpdateEndpoint", body,
				 &out, e);
		if (rc == 0)
			rc = engine_tag_revision(en, &aws_sagemaker, "AddTags",
						 "ResourceArn", ch->arn, e);
	}
	free(body);
	json_decref(w);
out:
	buf_release(&out);
	buf_release(&req);
	return rc;
}

const struct reconciler rec_endpoint = {
	1,
	DESIRED_ENDPOINT,
	observe_endpoints,
	diff_endpoint,
	apply_endpoint,
	NULL,
};
