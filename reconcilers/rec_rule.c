/*
 * EventRule: the EventBridge rule of a RetrainTrigger, on the default
 * event bus, named by its manifest and updated in place (ListRules,
 * ListTargetsByRule, PutRule, PutTargets, RemoveTargets, DeleteRule).
 *
 * A rule has no change marker, so the digest of what ListRules says of it
 * stands in for one when its tags are cached.
 */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "reconciler.h"
#include "sigv4.h"

/* the Ids of a rule's targets as EventBridge has them now */
static int list_targets(struct engine *en, const char *rule, json_t **out,
			struct err *e)
{
	struct buf req = BUF_INIT;
	int rc;

	engine_request(&req, json_pack("{s:s}", "Rule", rule));
	rc = engine_list_all(en, &aws_events, "ListTargetsByRule", req.ptr,
			     "Targets", out, e);
	buf_release(&req);
	return rc;
}

static int observe_rules(struct engine *en, struct err *e)
{
	json_t *items = NULL, *it;
	char marker[65];
	size_t i;
	int rc;

	rc = engine_list_all(en, &aws_events, "ListRules", "{\"Limit\": 100}",
			     "Rules", &items, e);
	json_array_foreach(items, i, it)
	{
		const char *name = engine_json_str(it, "Name");
		char *text;
		struct live *l;

		if (rc < 0)
			break;
		/* rules AWS services manage for themselves are not ours */
		if (engine_json_str(it, "ManagedBy")[0])
			continue;
		text = json_dumps(it, JSON_COMPACT | JSON_SORT_KEYS);
		sigv4_sha256_hex(marker, text ? text : "",
				 text ? strlen(text) : 0);
		free(text);
		l = engine_live_add(en, DESIRED_RULE, name,
				    engine_json_str(it, "Arn"));
		l->content = json_deep_copy(it);
		rc = engine_fetch_tags(en, l, marker, e);
		if (rc == 0 &&
		    (l->owned || desired_find(&en->want, DESIRED_RULE, name))) {
			json_t *targets = NULL;

			rc = list_targets(en, name, &targets, e);
			if (rc < 0 && engine_not_found(e)) {
				err_clear(e);
				rc = ENGINE_GONE;
			}
			json_object_set_new(l->content, "Targets", targets);
		}
		if (rc == ENGINE_GONE) {
			engine_live_drop_last(en);
			rc = 0;
		}
	}
	json_decref(items);
	return rc;
}

/* a target as the manifest can say it, whatever else AWS reports */
static json_t *target_view(json_t *t)
{
	static const char *const keys[] = { "Id", "Arn", "RoleArn",
					    "SageMakerPipelineParameters" };
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_get(t, keys[i]))
			json_object_set(o, keys[i],
					json_object_get(t, keys[i]));
	return o;
}

static int cmp_target(const void *a, const void *b)
{
	return strcmp(engine_json_str(*(json_t *const *)a, "Id"),
		      engine_json_str(*(json_t *const *)b, "Id"));
}

/* the targets compared, in Id order */
static json_t *targets_view(json_t *list)
{
	size_t n = json_array_size(list), i;
	json_t **items = mem_alloc((n + 1) * sizeof(*items));
	json_t *out = json_array();

	for (i = 0; i < n; i++)
		items[i] = json_array_get(list, i);
	qsort(items, n, sizeof(*items), cmp_target);
	for (i = 0; i < n; i++)
		json_array_append_new(out, target_view(items[i]));
	free(items);
	return out;
}

/* the rule's comparable fields: the pattern parsed, so spacing is moot */
static json_t *rule_view(json_t *rule, json_t *targets)
{
	const char *pattern = engine_json_str(rule, "EventPattern");

	return json_pack("{s:o, s:s, s:s, s:o}", "EventPattern",
			 engine_json_parse(pattern, strlen(pattern)), "State",
			 engine_json_str(rule, "State"), "Description",
			 engine_json_str(rule, "Description"), "Targets",
			 targets_view(targets));
}

static void diff_rule(struct engine *en, const struct desired_resource *want,
		      struct live *live)
{
	static const char *const fields[] = {
		"EventPattern", "State", "Description", "Targets", NULL,
	};
	json_t *w = engine_json_parse(want->request, strlen(want->request));
	json_t *w2 = engine_json_parse(want->request2, strlen(want->request2));
	json_t *have = rule_view(live->content,
				 json_object_get(live->content, "Targets"));
	json_t *wanted = rule_view(w, json_object_get(w2, "Targets"));
	struct buf d = BUF_INIT;

	engine_compare(&d, have, wanted, fields);
	if (d.len)
		engine_plan_add(en, DESIRED_RULE, CHANGE_UPDATE, want->name,
				want->manifest, live->arn, want,
				engine_is_drift(en, want), d.ptr);
	json_decref(have);
	json_decref(wanted);
	json_decref(w);
	json_decref(w2);
	buf_release(&d);
}

/* the Ids of the targets of the change's rule that `keep` does not list */
static int stale_targets(struct engine *en, const struct change *ch,
			 json_t *keep, json_t **ids, struct err *e)
{
	json_t *live = NULL, *t, *k;
	size_t i, j;
	int rc = list_targets(en, ch->name, &live, e);

	*ids = json_array();
	json_array_foreach(live, i, t)
	{
		bool kept = false;

		json_array_foreach(keep, j, k) kept |= !strcmp(
			engine_json_str(k, "Id"), engine_json_str(t, "Id"));
		if (!kept)
			json_array_append_new(
				*ids, json_string(engine_json_str(t, "Id")));
	}
	json_decref(live);
	return rc;
}

static int delete_rule(struct engine *en, struct change *ch, struct err *e)
{
	json_t *ids = NULL;
	int rc = stale_targets(en, ch, NULL, &ids, e);

	if (rc < 0 && engine_not_found(e)) {
		err_clear(e); /* gone already */
		json_decref(ids);
		return 0;
	}
	/* EventBridge deletes no rule that still has targets; each step
	 * first asks whether the rule is still ours */
	if (rc == 0 && json_array_size(ids))
		rc = engine_delete(en, ch, &aws_events, "RemoveTargets",
				   json_pack("{s:s, s:O}", "Rule", ch->name,
					     "Ids", ids),
				   e);
	if (rc == 0)
		rc = engine_delete(en, ch, &aws_events, "DeleteRule",
				   json_pack("{s:s}", "Name", ch->name), e);
	json_decref(ids);
	return rc;
}

/* PutTargets answers 200 with the targets it refused */
static int put_targets(struct engine *en, const struct change *ch,
		       struct err *e)
{
	struct buf out = BUF_INIT;
	json_t *ans, *failed;
	int rc = engine_call(en, &aws_events, "PutTargets", ch->want->request2,
			     &out, e);

	if (rc == 0) {
		ans = engine_json_parse(out.ptr, out.len);
		failed = json_array_get(json_object_get(ans, "FailedEntries"),
					0);
		if (json_integer_value(
			    json_object_get(ans, "FailedEntryCount")))
			rc = err_set(e, ERR_INVALID,
				     "events PutTargets: target '%s': %s: %s",
				     engine_json_str(failed, "TargetId"),
				     engine_json_str(failed, "ErrorCode"),
				     engine_json_str(failed, "ErrorMessage"));
		json_decref(ans);
	}
	buf_release(&out);
	return rc;
}

static int apply_rule(struct engine *en, struct change *ch, struct err *e)
{
	struct buf out = BUF_INIT, req = BUF_INIT;
	json_t *w2, *ans, *ids = NULL;
	char *body;
	int rc;

	if (ch->action == CHANGE_DELETE)
		return delete_rule(en, ch, e);
	body = ch->action == CHANGE_CREATE ? engine_with_tags(ch->want) :
					     mem_strdup(ch->want->request);
	rc = engine_call(en, &aws_events, "PutRule", body, &out, e);
	free(body);
	if (rc == 0) {
		ans = engine_json_parse(out.ptr, out.len);
		/* PutRule leaves an existing rule's tags as they are */
		if (ch->action == CHANGE_UPDATE)
			rc = engine_tag_revision(en, &aws_events, "TagResource",
						 "ResourceARN", ch->arn, e);
		else
			engine_cache_tags(en, engine_json_str(ans, "RuleArn"),
					  "", en->opt.controller,
					  ch->want->manifest, en->opt.revision);
		json_decref(ans);
	}
	if (rc == 0)
		rc = put_targets(en, ch, e);
	if (rc == 0 && ch->action == CHANGE_UPDATE) {
		w2 = engine_json_parse(ch->want->request2,
				       strlen(ch->want->request2));
		rc = stale_targets(en, ch, json_object_get(w2, "Targets"), &ids,
				   e);
		if (rc == 0 && json_array_size(ids)) {
			engine_request(&req, json_pack("{s:s, s:O}", "Rule",
						       ch->name, "Ids", ids));
			rc = engine_call(en, &aws_events, "RemoveTargets",
					 req.ptr, &out, e);
		}
		json_decref(ids);
		json_decref(w2);
	}
	buf_release(&out);
	buf_release(&req);
	return rc;
}

const struct reconciler rec_rule = {
	1, DESIRED_RULE, observe_rules, diff_rule, apply_rule, ":rule/",
};
