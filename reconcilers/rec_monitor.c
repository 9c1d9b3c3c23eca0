/*
 * MonitoringSchedule: the schedule of a DataQualityMonitor, named by its
 * manifest and updated in place (ListMonitoringSchedules,
 * DescribeMonitoringSchedule, Create/Update/DeleteMonitoringSchedule).
 * Its job definition is immutable and lives in rec_model.c.
 */
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "reconciler.h"

/* the schedule as it is: its config and status, for diff and `status` */
static int describe(struct engine *en, struct live *l, struct err *e)
{
	struct buf req = BUF_INIT, out = BUF_INIT;
	json_t *d;
	int rc;

	engine_request(&req,
		       json_pack("{s:s}", "MonitoringScheduleName", l->name));
	rc = aws_json(en->aws, &aws_sagemaker, "DescribeMonitoringSchedule",
		      req.ptr, &out, e);
	if (rc == 0) {
		d = engine_json_parse(out.ptr, out.len);
		json_decref(l->content);
		l->content = json_pack(
			"{s:O, s:s}", "MonitoringScheduleConfig",
			json_object_get(d, "MonitoringScheduleConfig") ?
				json_object_get(d, "MonitoringScheduleConfig") :
				json_null(),
			"MonitoringScheduleStatus",
			engine_json_str(d, "MonitoringScheduleStatus"));
		json_decref(d);
	} else if (engine_not_found(e)) {
		err_clear(e);
		rc = ENGINE_GONE;
	}
	buf_release(&req);
	buf_release(&out);
	return rc;
}

static int observe_schedules(struct engine *en, struct err *e)
{
	json_t *items = NULL, *it;
	char marker[64];
	size_t i;
	int rc;

	rc = engine_list_all(en, &aws_sagemaker, "ListMonitoringSchedules",
			     "{\"MaxResults\": 100}",
			     "MonitoringScheduleSummaries", &items, e);
	json_array_foreach(items, i, it)
	{
		const char *name =
			engine_json_str(it, "MonitoringScheduleName");
		struct live *l;

		if (rc < 0)
			break;
		engine_marker(json_object_get(it, "LastModifiedTime"), marker,
			      sizeof(marker));
		l = engine_live_add(en, DESIRED_MONITOR_SCHEDULE, name,
				    engine_json_str(it,
						    "MonitoringScheduleArn"));
		l->content = json_incref(it);
		rc = engine_fetch_tags(en, l, marker, e);
		/* only what is ours or wanted is compared: one call each */
		if (rc == 0 &&
		    (l->owned ||
		     desired_find(&en->want, DESIRED_MONITOR_SCHEDULE, name)))
			rc = describe(en, l, e);
		if (rc == ENGINE_GONE) {
			engine_live_drop_last(en);
			rc = 0;
		}
	}
	json_decref(items);
	return rc;
}

/* the fields a schedule's config is compared by, flat */
static json_t *schedule_view(json_t *config)
{
	return json_pack(
		"{s:s, s:s, s:s}", "ScheduleExpression",
		engine_json_str(json_object_get(config, "ScheduleConfig"),
				"ScheduleExpression"),
		"MonitoringJobDefinitionName",
		engine_json_str(config, "MonitoringJobDefinitionName"),
		"MonitoringType", engine_json_str(config, "MonitoringType"));
}

static void diff_schedule(struct engine *en,
			  const struct desired_resource *want,
			  struct live *live)
{
	static const char *const fields[] = {
		"ScheduleExpression",
		"MonitoringJobDefinitionName",
		"MonitoringType",
		NULL,
	};
	json_t *w = engine_json_parse(want->request, strlen(want->request));
	json_t *have = schedule_view(
		json_object_get(live->content, "MonitoringScheduleConfig"));
	json_t *want_flat =
		schedule_view(json_object_get(w, "MonitoringScheduleConfig"));
	struct buf d = BUF_INIT;

	engine_compare(&d, have, want_flat, fields);
	if (d.len)
		engine_plan_add(en, DESIRED_MONITOR_SCHEDULE, CHANGE_UPDATE,
				want->name, want->manifest, live->arn, want,
				engine_is_drift(en, want), d.ptr);
	json_decref(have);
	json_decref(want_flat);
	json_decref(w);
	buf_release(&d);
}

static int apply_schedule(struct engine *en, struct change *ch, struct err *e)
{
	struct buf out = BUF_INIT;
	char *body;
	int rc;

	if (ch->action == CHANGE_DELETE)
		return engine_delete(
			en, ch, &aws_sagemaker, "DeleteMonitoringSchedule",
			json_pack("{s:s}", "MonitoringScheduleName", ch->name),
			e);
	if (ch->action == CHANGE_CREATE) {
		body = engine_with_tags(ch->want);
		rc = engine_call(en, &aws_sagemaker, "CreateMonitoringSchedule",
				 body, &out, e);
		free(body);
		if (rc == 0) {
			json_t *ans = engine_json_parse(out.ptr, out.len);

			engine_cache_tags(
				en,
				engine_json_str(ans, "MonitoringScheduleArn"),
				"", en->opt.controller, ch->want->manifest,
				en->opt.revision);
			json_decref(ans);
		}
	} else {
		rc = engine_call(en, &aws_sagemaker, "UpdateMonitoringSchedule",
				 ch->want->request, &out, e);
		if (rc == 0)
			rc = engine_tag_revision(en, &aws_sagemaker, "AddTags",
						 "ResourceArn", ch->arn, e);
	}
	buf_release(&out);
	return rc;
}

const struct reconciler rec_monitor_schedule = {
	1,
	DESIRED_MONITOR_SCHEDULE,
	observe_schedules,
	diff_schedule,
	apply_schedule,
	":monitoring-schedule/",
};
