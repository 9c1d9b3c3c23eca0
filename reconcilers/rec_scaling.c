/*
 * Variant autoscaling: an Application Auto Scaling target on the variant's
 * instance count and a target-tracking policy on invocations per instance.
 */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "reconciler.h"

#define SCALABLE_DIMENSION "sagemaker:variant:DesiredInstanceCount"

static const char *endpoint_of(const char *resource_id, char *out, size_t size)
{
	const char *p = resource_id + strlen("endpoint/");
	const char *end = strstr(p, "/variant/");

	snprintf(out, size, "%.*s", end ? (int)(end - p) : 0, p);
	return out;
}

static int observe_scaling(struct engine *en, struct err *e)
{
	json_t *targets = NULL, *policies = NULL, *it, *p;
	size_t i, j;
	int rc;

	rc = engine_list_all(
		en, &aws_autoscaling, "DescribeScalableTargets",
		"{\"ServiceNamespace\": \"sagemaker\", \"MaxResults\": "
		"50}",
		"ScalableTargets", &targets, e);
	if (rc == 0)
		rc = engine_list_all(en, &aws_autoscaling,
				     "DescribeScalingPolicies",
				     "{\"ServiceNamespace\": \"sagemaker\", "
				     "\"MaxResults\": 50}",
				     "ScalingPolicies", &policies, e);
	json_array_foreach(targets, i, it)
	{
		const char *id = engine_json_str(it, "ResourceId");
		char endpoint[128];
		struct buf policy = BUF_INIT;
		struct live *l, *ep;

		/* ours are instance-count targets on endpoint variants */
		if (rc < 0 || strncmp(id, "endpoint/", 9) ||
		    strcmp(engine_json_str(it, "ScalableDimension"),
			   SCALABLE_DIMENSION))
			continue;
		l = engine_live_add(en, DESIRED_SCALING, id,
				    engine_json_str(it, "ScalableTargetARN"));
		/* a target belongs to whoever owns its endpoint */
		ep = engine_live_find(en, DESIRED_ENDPOINT,
				      endpoint_of(id, endpoint,
						  sizeof(endpoint)));
		if (ep) {
			l->owned = ep->owned;
			free(l->managed_by);
			l->managed_by = mem_strdup(ep->managed_by);
			free(l->revision);
			l->revision = mem_strdup(ep->revision);
			free(l->manifest);
			l->manifest = mem_strdup(ep->manifest);
		}
		l->content = json_pack("{s:O, s:n}", "target", it, "policy");
		/* the policy the controller names; others are not its own */
		buf_printf(&policy, "sagesync-%s-%s",
			   endpoint_of(id, endpoint, sizeof(endpoint)),
			   strstr(id, "/variant/") ?
				   strstr(id, "/variant/") +
					   strlen("/variant/") :
				   "");
		json_array_foreach(policies, j, p)
		{
			if (!strcmp(engine_json_str(p, "ResourceId"), id) &&
			    !strcmp(engine_json_str(p, "PolicyName"),
				    policy.ptr) &&
			    !strcmp(engine_json_str(p, "ScalableDimension"),
				    SCALABLE_DIMENSION))
				json_object_set(l->content, "policy", p);
		}
		buf_release(&policy);
	}
	json_decref(targets);
	json_decref(policies);
	return rc;
}

static void diff_scaling(struct engine *en, const struct desired_resource *want,
			 struct live *live)
{
	static const char *const target_fields[] = { "MinCapacity",
						     "MaxCapacity", NULL };
	static const char *const policy_fields[] = { "TargetValue",
						     "ScaleInCooldown",
						     "ScaleOutCooldown", NULL };
	json_t *t = engine_json_parse(want->request, strlen(want->request));
	json_t *p = engine_json_parse(want->request2, strlen(want->request2));
	json_t *lp = json_object_get(live->content, "policy");
	struct buf d = BUF_INIT;

	engine_compare(&d, json_object_get(live->content, "target"), t,
		       target_fields);
	if (!json_is_object(lp))
		buf_printf(&d, "%spolicy: (none) -> %s", d.len ? "; " : "",
			   engine_json_str(p, "PolicyName"));
	else
		engine_compare(
			&d,
			json_object_get(lp, "TargetTrackingScalingPolicyConf"
					    "iguration"),
			json_object_get(p, "TargetTrackingScalingPolicyConfigur"
					   "ation"),
			policy_fields);
	if (d.len)
		engine_plan_add(en, DESIRED_SCALING, CHANGE_UPDATE, want->name,
				want->manifest, live->arn, want,
				engine_is_drift(en, want), d.ptr);
	json_decref(t);
	json_decref(p);
	buf_release(&d);
}

static int apply_scaling(struct engine *en, struct change *ch, struct err *e)
{
	struct buf out = BUF_INIT, req = BUF_INIT;
	int rc;

	if (ch->action == CHANGE_DELETE) {
		engine_request(&req,
			       json_pack("{s:s, s:s, s:s}", "ServiceNamespace",
					 "sagemaker", "ResourceId", ch->name,
					 "ScalableDimension",
					 "sagemaker:variant:"
					 "DesiredInstanceCount"));
		rc = engine_call(en, &aws_autoscaling,
				 "DeregisterScalableTarget", req.ptr, &out, e);
	} else if ((rc = engine_call(en, &aws_autoscaling,
				     "RegisterScalableTarget",
				     ch->want->request, &out, e)) == 0) {
		rc = engine_call(en, &aws_autoscaling, "PutScalingPolicy",
				 ch->want->request2, &out, e);
	}
	buf_release(&out);
	buf_release(&req);
	return rc;
}

const struct reconciler rec_scaling = {
	1, DESIRED_SCALING, observe_scaling, diff_scaling, apply_scaling, NULL,
};
