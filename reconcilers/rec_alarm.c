/*
 * Alarm: a CloudWatch metric alarm on an endpoint or variant metric
 * (DescribeAlarms, PutMetricAlarm, DeleteAlarms).
 */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "reconciler.h"

static int observe_alarms(struct engine *en, struct err *e)
{
	json_t *items = NULL, *it;
	char marker[64];
	size_t i;
	int rc;

	rc = engine_list_all(
		en, &aws_cloudwatch, "DescribeAlarms",
		"{\"MaxRecords\": 100, \"AlarmTypes\": [\"MetricAlarm\"]}",
		"MetricAlarms", &items, e);
	json_array_foreach(items, i, it)
	{
		struct live *l;

		if (rc < 0)
			break;
		engine_marker(json_object_get(
				      it, "AlarmConfigurationUpdatedTimestamp"),
			      marker, sizeof(marker));
		l = engine_live_add(en, DESIRED_ALARM,
				    engine_json_str(it, "AlarmName"),
				    engine_json_str(it, "AlarmArn"));
		l->content = json_incref(it);
		rc = engine_fetch_tags(en, l, marker, e);
		if (rc == ENGINE_GONE) {
			engine_live_drop_last(en);
			rc = 0;
		}
	}
	json_decref(items);
	return rc;
}

static void diff_alarm(struct engine *en, const struct desired_resource *want,
		       struct live *live)
{
	static const char *const fields[] = {
		"MetricName",
		"Namespace",
		"Statistic",
		"Dimensions",
		"Period",
		"EvaluationPeriods",
		"DatapointsToAlarm",
		"Threshold",
		"ComparisonOperator",
		"TreatMissingData",
		"AlarmActions",
		"AlarmDescription",
		NULL,
	};
	json_t *w = engine_json_parse(want->request, strlen(want->request));
	struct buf d = BUF_INIT;

	/* what CloudWatch may report for what Git leaves to its defaults
	 * counts as unset */
	json_t *have = json_deep_copy(live->content);

	if (!json_object_get(w, "TreatMissingData") &&
	    !strcmp(engine_json_str(have, "TreatMissingData"), "missing"))
		json_object_del(have, "TreatMissingData");
	if (!json_object_get(w, "DatapointsToAlarm") &&
	    json_integer_value(json_object_get(have, "DatapointsToAlarm")) ==
		    json_integer_value(
			    json_object_get(have, "EvaluationPeriods")))
		json_object_del(have, "DatapointsToAlarm");
	engine_compare(&d, have, w, fields);
	json_decref(have);
	if (d.len)
		engine_plan_add(en, DESIRED_ALARM, CHANGE_UPDATE, want->name,
				want->manifest, live->arn, want,
				engine_is_drift(en, want), d.ptr);
	json_decref(w);
	buf_release(&d);
}

static int apply_alarm(struct engine *en, struct change *ch, struct err *e)
{
	struct buf out = BUF_INIT, req = BUF_INIT;
	char *body;
	int rc;

	if (ch->action == CHANGE_DELETE) {
		rc = engine_delete(en, ch, &aws_cloudwatch, "DeleteAlarms",
				   json_pack("{s:[s]}", "AlarmNames", ch->name),
				   e);
	} else {
		body = engine_with_tags(ch->want);
		rc = engine_call(en, &aws_cloudwatch, "PutMetricAlarm", body,
				 &out, e);
		free(body);
		/* PutMetricAlarm ignores tags of an existing alarm */
		if (rc == 0 && ch->action == CHANGE_UPDATE)
			rc = engine_tag_revision(en, &aws_cloudwatch,
						 "TagResource", "ResourceARN",
						 ch->arn, e);
		if (rc == 0) {
			engine_tags_key(&req, DESIRED_ALARM, ch->name, NULL);
			engine_cache_tags(en, req.ptr, "", en->opt.controller,
					  ch->want->manifest, en->opt.revision);
		}
	}
	buf_release(&out);
	buf_release(&req);
	return rc;
}

const struct reconciler rec_alarm = {
	1, DESIRED_ALARM, observe_alarms, diff_alarm, apply_alarm, NULL,
};
