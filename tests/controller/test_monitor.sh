#!/bin/sh
# DataQualityMonitor and RetrainTrigger from a Git repository against the
# local AWS, checked with the aws CLI: the job definition, the monitoring
# schedule and the EventBridge rule with its targets are created and
# tagged; a second apply writes nothing; the rule's pattern matches the
# CloudWatch event of its alarm entering ALARM and nothing else; a changed
# schedule or instance type gives a new job definition, changed parameters
# and a disabled trigger update the rule and its targets; drift is healed;
# a same-named rule it does not own is left alone; a removed monitor and
# trigger are pruned. Usage: test_monitor.sh SAGESYNC SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
isolate_aws
export SAGESYNC_POLL_MS=100
export SAGESYNC_BAKE_SECONDS=0
git_identity
sim_start SIM_STATE_SECONDS=0
quickstart_prerequisites

# the quickstart, its endpoint capturing requests, a drift alarm, a
# monitor and a retraining trigger
repo=$tmp/repo
git init -q -b main "$repo"
cp "$src"/examples/quickstart/*.yaml "$repo/"
cat >>"$repo/endpoint.yaml" <<'EOF'
  dataCapture:
    samplingPercentage: 20
    destinationS3Uri: s3://acme-ml-capture/churn-prod
EOF
cat >"$repo/drift-alarm.yaml" <<'EOF'
apiVersion: sagesync/v1
kind: Alarm
metadata:
  name: churn-prod-feature-drift
spec:
  endpoint: churn-prod
  namespace: aws/sagemaker/Endpoints/data-metrics
  metric: feature_baseline_drift_total_amount
  statistic: Maximum
  period: 3600
  threshold: 0.2
  comparison: GreaterThanThreshold
  treatMissingData: notBreaching
EOF
cat >"$repo/monitor.yaml" <<'EOF'
apiVersion: sagesync/v1
kind: DataQualityMonitor
metadata:
  name: churn-prod-quality
spec:
  endpoint: churn-prod
  schedule: cron(0 * ? * * *)
  baseline:
    statistics: s3://acme-ml-monitoring/churn/baseline/statistics.json
    constraints: s3://acme-ml-monitoring/churn/baseline/constraints.json
  output: s3://acme-ml-monitoring/churn/reports
  instanceType: ml.m5.xlarge
  roleArn: arn:aws:iam::123456789012:role/sagemaker-monitoring
EOF
cat >"$repo/retrain.yaml" <<'EOF'
apiVersion: sagesync/v1
kind: RetrainTrigger
metadata:
  name: churn-retrain
spec:
  alarms: [churn-prod-feature-drift]
  pipelineArn: arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-train
  roleArn: arn:aws:iam::123456789012:role/eventbridge-pipelines
  snsTopicArn: arn:aws:sns:us-east-1:123456789012:ml-oncall
  parameters:
    TriggeredBy: sagesync
    Reason: drift
  description: Retrain churn when its input drifts
EOF
# commit MESSAGE: commit everything in $repo; $head is the new commit
commit() {
	git -C "$repo" add -A
	git -C "$repo" commit -q -m "$1"
	head=$(git -C "$repo" rev-parse HEAD)
}
commit "quickstart with a monitor and a retraining trigger"

cat >"$tmp/config.yaml" <<EOC
name: test
stateDir: $tmp/state
source: {url: "file://$repo", branch: main}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
reconcile: {prune: true, selfHeal: true}
EOC
mkdir "$tmp/state"

# sagesync COMMAND...: run, output in $tmp/out, exit status in $rc
sagesync() {
	"$bin" "$@" --config "$tmp/config.yaml" >"$tmp/out" 2>&1
	rc=$?
}
writes() { calls '\.(Create|Update|Put|Delete|Register|Deregister|AddTags|TagResource|RemoveTargets|EnableRule|DisableRule)'; }

# the names and fields checked, as AWS has them
jobs() {
	aws sagemaker list-data-quality-job-definitions --output text \
		--query 'JobDefinitionSummaries[].MonitoringJobDefinitionName'
}
schedule() { # schedule QUERY
	aws sagemaker describe-monitoring-schedule --output text \
		--monitoring-schedule-name churn-prod-quality --query "$1"
}
rule() { # rule QUERY [NAME]
	aws events describe-rule --name "${2:-churn-retrain}" --query "$1" --output text
}
# targets [RULE]: "Id Arn RoleArn Name=Value,..." of each target, by Id
targets() {
	aws events list-targets-by-rule --rule "${1:-churn-retrain}" --output json |
		python3 -c '
import json, sys
for t in sorted(json.load(sys.stdin)["Targets"], key=lambda t: t["Id"]):
    params = t.get("SageMakerPipelineParameters", {}).get("PipelineParameterList", [])
    print(t["Id"], t["Arn"], t.get("RoleArn", "-"),
          ",".join(p["Name"] + "=" + p["Value"] for p in params) or "-")'
}
# tag KEY: the value of a tag in the JSON list of tags on standard input
# (the last one given: moto's SageMaker AddTags appends a key it has
# where AWS replaces its value)
tag() {
	python3 -c '
import json, sys
tags = json.load(sys.stdin)["Tags"]
print(([t["Value"] for t in tags if t["Key"] == sys.argv[1]] or ["(none)"])[-1])' "$1"
}
# pattern: the rule's EventPattern, parsed and written with sorted keys
pattern() {
	rule EventPattern "$@" | python3 -c '
import json, sys
print(json.dumps(json.load(sys.stdin), sort_keys=True, separators=(",", ":")))'
}

# --- from nothing ----------------------------------------------------------
sagesync plan
equals "plan exit with changes" 2 "$rc"
contains "plan" "plan: 11 to create, 1 to update, 0 to delete, 0 drifted, 0 conflicts"
contains "job definition planned" "+ DataQualityJobDefinition churn-prod-quality-"
contains "schedule planned" "+ MonitoringSchedule churn-prod-quality"
contains "rule planned" "+ EventRule      churn-retrain"
sagesync apply --once
equals "first apply" 0 "$rc"
contains "first apply" "applied: everything is healthy"
contains "the revision is the commit" "revision $head"

job=$(jobs)
case "$job" in
churn-prod-quality-???????) ok ;;
*) bad "one job definition named churn-prod-quality-HASH: '$job'" ;;
esac
equals "job definition content" \
	"156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer	churn-prod	ml.m5.xlarge	20	3600" \
	"$(aws sagemaker describe-data-quality-job-definition --job-definition-name "$job" --output text \
		--query '[DataQualityAppSpecification.ImageUri, DataQualityJobInput.EndpointInput.EndpointName, JobResources.ClusterConfig.InstanceType, JobResources.ClusterConfig.VolumeSizeInGB, StoppingCondition.MaxRuntimeInSeconds]')"
equals "job definition baseline" "s3://acme-ml-monitoring/churn/baseline/constraints.json" \
	"$(aws sagemaker describe-data-quality-job-definition --job-definition-name "$job" --output text \
		--query 'DataQualityBaselineConfig.ConstraintsResource.S3Uri')"
equals "schedule" "cron(0 * ? * * *)	$job	DataQuality" \
	"$(schedule '[MonitoringScheduleConfig.ScheduleConfig.ScheduleExpression, MonitoringScheduleConfig.MonitoringJobDefinitionName, MonitoringScheduleConfig.MonitoringType]')"
equals "schedule on the endpoint" "churn-prod" "$(schedule EndpointName)"
equals "rule state" "ENABLED" "$(rule State)"
equals "rule description" "Retrain churn when its input drifts" "$(rule Description)"
equals "rule pattern" \
	'{"detail":{"alarmName":["churn-prod-feature-drift"],"state":{"value":["ALARM"]}},"detail-type":["CloudWatch Alarm State Change"],"source":["aws.cloudwatch"]}' \
	"$(pattern)"
targets >"$tmp/out"
equals "two targets" 2 "$(wc -l <"$tmp/out")"
contains "pipeline target with its role and parameters" \
	"pipeline arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-train arn:aws:iam::123456789012:role/eventbridge-pipelines TriggeredBy=sagesync,Reason=drift"
contains "notify target" "notify arn:aws:sns:us-east-1:123456789012:ml-oncall - -"

sched_arn=$(schedule MonitoringScheduleArn)
aws sagemaker list-tags --resource-arn "$sched_arn" --output json >"$tmp/tags"
equals "schedule tags" "test DataQualityMonitor/churn-prod-quality $head" \
	"$(tag sagesync:managed-by <"$tmp/tags") $(tag sagesync:manifest <"$tmp/tags") $(tag sagesync:revision <"$tmp/tags")"
job_arn=$(aws sagemaker describe-data-quality-job-definition --job-definition-name "$job" \
	--query JobDefinitionArn --output text)
aws sagemaker list-tags --resource-arn "$job_arn" --output json >"$tmp/tags"
equals "job definition tags" "test DataQualityMonitor/churn-prod-quality" \
	"$(tag sagesync:managed-by <"$tmp/tags") $(tag sagesync:manifest <"$tmp/tags")"
rule_arn=$(rule Arn)
aws events list-tags-for-resource --resource-arn "$rule_arn" --output json >"$tmp/tags"
equals "rule tags" "test RetrainTrigger/churn-retrain $head" \
	"$(tag sagesync:managed-by <"$tmp/tags") $(tag sagesync:manifest <"$tmp/tags") $(tag sagesync:revision <"$tmp/tags")"

# --- again, with nothing changed: no write at all -------------------------
sim POST /_sim/reset >/dev/null
sagesync plan
equals "no-op plan exit" 0 "$rc"
contains "no-op plan" "plan: 0 to create, 0 to update, 0 to delete, 0 drifted, 0 conflicts"
sagesync apply --once
equals "no-op apply" 0 "$rc"
equals "no-op writes" 0 "$(writes)"
sagesync status
contains "status lists the schedule" "MonitoringSchedule churn-prod-quality"
contains "status lists the rule" "churn-retrain"

# --- the drift alarm fires: its event matches the rule, and only it -------
alarm() { # alarm NAME QUERY
	aws cloudwatch describe-alarms --alarm-names "$1" --output text \
		--query "MetricAlarms[0].$2"
}
before=$(alarm churn-prod-feature-drift StateValue)
aws cloudwatch set-alarm-state --alarm-name churn-prod-feature-drift \
	--state-value ALARM --state-reason test
equals "the alarm is in ALARM now" "ALARM test" \
	"$(alarm churn-prod-feature-drift '[StateValue, StateReason]' | tr '\t' ' ')"
# event NAME STATE PREVIOUS: CloudWatch's "Alarm State Change" event of
# alarm NAME going from PREVIOUS to STATE, as it reaches EventBridge
event() {
	aws cloudwatch describe-alarms --alarm-names "$1" --output json |
		python3 -c '
import datetime, json, sys
a = json.load(sys.stdin)["MetricAlarms"][0]
state, before = sys.argv[1], sys.argv[2]
arn = a["AlarmArn"]
t = a.get("StateUpdatedTimestamp")
if isinstance(t, (int, float)):
    when = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
elif isinstance(t, str):
    when = datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
else:
    when = datetime.datetime.now(datetime.timezone.utc)
print(json.dumps({
    "version": "0",
    "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
    "detail-type": "CloudWatch Alarm State Change",
    "source": "aws.cloudwatch",
    "account": arn.split(":")[4],
    "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "region": arn.split(":")[3],
    "resources": [arn],
    "detail": {
        "alarmName": a["AlarmName"],
        "state": {"value": state, "reason": a.get("StateReason") or "test",
                  "timestamp": when.isoformat()},
        "previousState": {"value": before, "reason": "earlier"},
        "configuration": {"description": a.get("AlarmDescription", "")},
    },
}))' "$2" "$3"
}
# matches EVENT: what EventBridge's TestEventPattern says of the rule's
# pattern and EVENT: true, false, or its error
matches() {
	aws events test-event-pattern --event-pattern "$(rule EventPattern)" \
		--event "$1" --query Result --output text 2>&1 |
		sed 's/^True$/true/; s/^False$/false/'
}
equals "the alarm was not in ALARM before" "OK" "$before"
equals "ALARM event matches" true \
	"$(matches "$(event churn-prod-feature-drift ALARM "$before")")"
equals "OK event does not match" false \
	"$(matches "$(event churn-prod-feature-drift OK ALARM)")"
equals "another alarm's ALARM event does not match" false \
	"$(matches "$(event churn-prod-5xx ALARM OK)")"

# --- a new schedule and instance type: a new job definition ---------------
sed -i -e 's/cron(0 \* ? \* \* \*)/cron(0 0\/6 ? * * *)/' \
	-e 's/instanceType: ml.m5.xlarge/instanceType: ml.m5.2xlarge/' "$repo/monitor.yaml"
commit "every 6 hours, on a larger instance"
sim POST /_sim/reset >/dev/null
sagesync plan
equals "monitor change planned" 2 "$rc"
contains "new job definition" "+ DataQualityJobDefinition churn-prod-quality-"
contains "old job definition" "- DataQualityJobDefinition $job"
contains "schedule updated" 'ScheduleExpression: "cron(0 * ? * * *)" -> "cron(0 0/6 ? * * *)"'
sagesync apply --once
equals "monitor change applied" 0 "$rc"
new_job=$(jobs)
case "$new_job" in
"$job") bad "the job definition is still $job" ;;
churn-prod-quality-???????) ok ;;
*) bad "one job definition left: '$new_job'" ;;
esac
equals "the new job definition's instance type" "ml.m5.2xlarge" \
	"$(aws sagemaker describe-data-quality-job-definition --job-definition-name "$new_job" \
		--output text --query JobResources.ClusterConfig.InstanceType)"
equals "schedule on the new job definition" "cron(0 0/6 ? * * *)	$new_job" \
	"$(schedule '[MonitoringScheduleConfig.ScheduleConfig.ScheduleExpression, MonitoringScheduleConfig.MonitoringJobDefinitionName]')"
equals "schedule updated in place, old definition deleted" "1 1 0 1" \
	"$(calls 'CreateDataQualityJobDefinition$') $(calls 'UpdateMonitoringSchedule$') $(calls 'CreateMonitoringSchedule$') $(calls 'DeleteDataQualityJobDefinition$')"
equals "the rule untouched" "0 0" "$(calls 'PutRule$') $(calls 'PutTargets$')"
aws sagemaker list-tags --resource-arn "$sched_arn" --output json >"$tmp/tags"
equals "schedule revision tag" "$head" "$(tag sagesync:revision <"$tmp/tags")"

# --- new parameters, no topic, disabled: the rule and its targets ----------
python3 - "$repo/retrain.yaml" <<'PY'
import sys
p = sys.argv[1]
text = open(p).read()
text = text.replace("  snsTopicArn: arn:aws:sns:us-east-1:123456789012:ml-oncall\n", "")
text = text.replace("    Reason: drift\n", "    Reason: data-quality\n    Model: churn\n")
open(p, "w").write(text + "  enabled: false\n")
PY
commit "retrain quietly, by hand only"
sim POST /_sim/reset >/dev/null
sagesync plan
equals "trigger change planned" 2 "$rc"
contains "rule update planned" "~ EventRule      churn-retrain"
contains "state change shown" 'State: "ENABLED" -> "DISABLED"'
sagesync apply --once
equals "trigger change applied" 0 "$rc"
equals "rule disabled" "DISABLED" "$(rule State)"
targets >"$tmp/out"
equals "the pipeline target only, with the new parameters" \
	"pipeline arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-train arn:aws:iam::123456789012:role/eventbridge-pipelines TriggeredBy=sagesync,Reason=data-quality,Model=churn" \
	"$(cat "$tmp/out")"
equals "rule writes" "1 1 1" "$(calls 'PutRule$') $(calls 'PutTargets$') $(calls 'RemoveTargets$')"
equals "the monitor untouched" 0 "$(calls '(Create|Update|Delete)(MonitoringSchedule|DataQualityJobDefinition)$')"
aws events list-tags-for-resource --resource-arn "$rule_arn" --output json >"$tmp/tags"
equals "rule tags kept, revision moved" "test RetrainTrigger/churn-retrain $head" \
	"$(tag sagesync:managed-by <"$tmp/tags") $(tag sagesync:manifest <"$tmp/tags") $(tag sagesync:revision <"$tmp/tags")"
sagesync plan
equals "then nothing to do" 0 "$rc"

# --- drift: the rule enabled and the schedule changed by hand --------------
aws events enable-rule --name churn-retrain
aws sagemaker update-monitoring-schedule --monitoring-schedule-name churn-prod-quality \
	--monitoring-schedule-config "{\"ScheduleConfig\": {\"ScheduleExpression\": \"cron(0 12 ? * * *)\"}, \"MonitoringJobDefinitionName\": \"$new_job\", \"MonitoringType\": \"DataQuality\"}" >/dev/null
equals "changed by hand" "ENABLED cron(0 12 ? * * *)" \
	"$(rule State) $(schedule MonitoringScheduleConfig.ScheduleConfig.ScheduleExpression)"
sagesync plan
equals "drift plan" 2 "$rc"
contains "drift counted" "0 to create, 0 to update, 0 to delete, 2 drifted, 0 conflicts"
contains "rule drift shown" 'drift: State: "ENABLED" -> "DISABLED"'
contains "schedule drift shown" 'drift: ScheduleExpression: "cron(0 12 ? * * *)" -> "cron(0 0/6 ? * * *)"'
sagesync apply --once
equals "heal" 0 "$rc"
equals "healed" "DISABLED cron(0 0/6 ? * * *)" \
	"$(rule State) $(schedule MonitoringScheduleConfig.ScheduleConfig.ScheduleExpression)"
equals "healed schedule keeps its job definition" "$new_job" \
	"$(schedule MonitoringScheduleConfig.MonitoringJobDefinitionName)"
sagesync plan
equals "nothing drifted after healing" 0 "$rc"

# --- a same-named rule we do not own: conflict, untouched ------------------
aws events put-rule --name churn-canary-retrain --state ENABLED \
	--event-pattern '{"source": ["aws.cloudwatch"]}' >/dev/null
foreign=$(pattern churn-canary-retrain)
cat >>"$repo/retrain.yaml" <<'EOF'
---
apiVersion: sagesync/v1
kind: RetrainTrigger
metadata:
  name: churn-canary-retrain
spec:
  alarms: [churn-prod-5xx]
  pipelineArn: arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-train
  roleArn: arn:aws:iam::123456789012:role/eventbridge-pipelines
EOF
commit "a second trigger, on a name already taken"
sim POST /_sim/reset >/dev/null
sagesync plan
equals "conflict plan exit" 2 "$rc"
contains "conflict counted" "plan: 0 to create, 0 to update, 0 to delete, 0 drifted, 1 conflict"
contains "conflict shown" "! EventRule      churn-canary-retrain"
contains "conflict reason" "exists without the sagesync:managed-by tag"
sagesync apply --once
equals "conflict refuses" 1 "$rc"
equals "not ours, untouched" "$foreign" "$(pattern churn-canary-retrain)"
equals "no targets put on it" "" "$(targets churn-canary-retrain)"
aws events list-tags-for-resource --resource-arn "$(rule Arn churn-canary-retrain)" \
	--output json >"$tmp/tags"
equals "no tags put on it" "(none)" "$(tag sagesync:managed-by <"$tmp/tags")"
equals "no write to it" "0 0 0" "$(calls 'PutRule$') $(calls 'PutTargets$') $(calls 'TagResource$')"

# --- prune: the monitor and the trigger removed from Git -------------------
git -C "$repo" rm -q monitor.yaml retrain.yaml
commit "no monitor, no retraining"
sagesync plan
equals "prune planned" 2 "$rc"
contains "rule pruned" "- EventRule      churn-retrain"
contains "schedule pruned" "- MonitoringSchedule churn-prod-quality"
contains "job definition pruned" "- DataQualityJobDefinition $new_job"
sagesync apply --once
equals "prune" 0 "$rc"
aws events list-rules --query 'Rules[].Name' --output text >"$tmp/out"
grep -qw churn-retrain "$tmp/out" && bad "pruned rule still there" || ok
contains "the rule we do not own stays" "churn-canary-retrain"
equals "schedule pruned" "" "$(aws sagemaker list-monitoring-schedules --output text \
	--query 'MonitoringScheduleSummaries[].MonitoringScheduleName')"
equals "job definition pruned" "" "$(jobs)"
equals "the drift alarm stays" "churn-prod-feature-drift" "$(alarm churn-prod-feature-drift AlarmName)"
sagesync plan
equals "nothing left to do" 0 "$rc"

finish
