#!/bin/sh
# examples/drift-retrain, the whole loop against the local AWS and a Git
# remote: its controller config, with only the addresses changed, deploys
# the endpoint, its monitor, the drift alarm (on the monitor's metrics)
# and the retraining rule; the drift alarm going to ALARM is an event the
# rule matches (test-event-pattern); the pipeline's new model version
# becomes one pull request; merging it deploys that version.
# Usage: test_drift_retrain.sh SAGESYNC SOURCE_DIR
set -u
bin=$(realpath "$1")
src=$2
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
. "$src/tests/git_servers.sh"
example=$src/examples/drift-retrain
daemon=""
receiver=""
trap '[ -n "$daemon" ] && kill "$daemon" 2>/dev/null; [ -n "$receiver" ] && kill "$receiver"; sim_stop; rm -rf "$tmp"' EXIT INT TERM
isolate_aws
export SAGESYNC_POLL_MS=100
git_identity

"$bin" validate "$example/prod" >"$tmp/out" 2>&1
equals "the manifests validate" 0 "$?"
contains "all six" "valid: 6 manifests in 6 files"

sim_start SIM_STATE_SECONDS=0
aws sagemaker create-model-package-group --model-package-group-name churn >/dev/null
register() {
	aws sagemaker create-model-package --model-package-group-name churn \
		--inference-specification '{"Containers": [{"Image": "xgboost:1"}], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]}' >/dev/null
}
for v in 1 2 3 4 5 6 7; do register; done

# the repository of the example: prod/ on main
git init -q --bare -b main "$tmp/remote.git"
repo=$tmp/repo
git clone -q "$tmp/remote.git" "$repo" 2>/dev/null
cp -r "$example/prod" "$repo/prod"
publish "the drift-retrain example"

# the Git host's API
python3 "$src/tests/receivers/recorder.py" "$tmp/requests" >"$tmp/receiver.port" &
receiver=$!
wait_for 10 test -s "$tmp/receiver.port" || bad "the receiver did not start"
touch "$tmp/requests"
echo token >"$tmp/token"

# the example's config, with only what points outside changed: the
# remote, the state, the local AWS, the listen address, the API and its
# token, and a short registry poll
port=$(free_port)
base=http://127.0.0.1:$port
python3 - "$example/controller.yaml" "$tmp/config.yaml" <<PY
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
c["stateDir"] = "$tmp/state"
c["source"]["url"] = "file://$tmp/remote.git"
c["source"].pop("auth", None)
c["aws"]["endpointUrl"] = "$AWS_ENDPOINT_URL"
c["server"] = {"listen": "127.0.0.1:$port"}
c["promotion"]["interval"] = "5s"
c["promotion"]["pullRequest"]["apiUrl"] = "http://127.0.0.1:$(cat "$tmp/receiver.port")"
c["promotion"]["pullRequest"]["tokenFile"] = "$tmp/token"
yaml.safe_dump(c, open(sys.argv[2], "w"))
PY
mkdir "$tmp/state"
"$bin" run --config "$tmp/config.yaml" --log-format text 2>"$tmp/daemon.log" &
daemon=$!
wait_for 60 at_least 1 || { bad "the daemon did not reconcile"; cat "$tmp/daemon.log"; }

# --- deployed: endpoint, monitor, alarm, rule -----------------------------------
equals "the endpoint serves" InService "$(endpoint EndpointStatus)"
equals "the monitor's schedule" "cron(0 * ? * * *)" "$(aws sagemaker describe-monitoring-schedule \
	--monitoring-schedule-name churn-prod-data-quality \
	--query MonitoringScheduleConfig.ScheduleConfig.ScheduleExpression --output text)"
job=$(aws sagemaker describe-monitoring-schedule --monitoring-schedule-name churn-prod-data-quality \
	--query MonitoringScheduleConfig.MonitoringJobDefinitionName --output text)
equals "its job reads the endpoint" churn-prod "$(aws sagemaker describe-data-quality-job-definition \
	--job-definition-name "$job" --query DataQualityJobInput.EndpointInput.EndpointName --output text)"
equals "and publishes metrics" Enabled "$(aws sagemaker describe-data-quality-job-definition \
	--job-definition-name "$job" --query DataQualityAppSpecification.Environment.publish_cloudwatch_metrics \
	--output text)"
aws cloudwatch describe-alarms --alarm-names churn-prod-feature-drift --output json >"$tmp/out"
contains "the drift alarm watches Model Monitor's namespace" '"Namespace": "aws/sagemaker/Endpoints/data-metrics"'
contains "by endpoint" '"Name": "Endpoint"'
contains "and schedule" '"Value": "churn-prod-data-quality"'
aws events list-targets-by-rule --rule churn-retrain --output json >"$tmp/out"
contains "the rule starts the pipeline" '"Arn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-train"'
contains "with the example's parameters" '"Value": "data-drift"'
contains "and notifies the topic" '"Id": "notify"'

# --- drift: the alarm goes to ALARM, and the rule matches its event ---------------
aws cloudwatch set-alarm-state --alarm-name churn-prod-feature-drift --state-value ALARM \
	--state-reason "feature_baseline_drift_total_charges 0.31 > 0.1"
state=$(aws cloudwatch describe-alarms --alarm-names churn-prod-feature-drift \
	--query 'MetricAlarms[0].StateValue' --output text)
equals "the drift alarm is in ALARM" ALARM "$state"
arn=$(aws cloudwatch describe-alarms --alarm-names churn-prod-feature-drift \
	--query 'MetricAlarms[0].AlarmArn' --output text)
event=$(printf '{"version": "0", "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92", "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch", "account": "123456789012", "time": "2026-11-27T06:00:00Z", "region": "us-east-1", "resources": ["%s"], "detail": {"alarmName": "churn-prod-feature-drift", "state": {"value": "%s", "reason": "drift"}, "previousState": {"value": "OK"}}}' "$arn" "$state")
pattern=$(aws events describe-rule --name churn-retrain --query EventPattern --output text)
equals "the retraining rule matches the drift" True "$(aws events test-event-pattern \
	--event-pattern "$pattern" --event "$event" --query Result --output text)"

# --- retraining registers version 8: one pull request ------------------------------
register
t0=$(date +%s)
requested() { [ "$(wc -l <"$tmp/requests")" -ge 1 ]; }
wait_for 20 requested || { bad "no pull request"; tail -20 "$tmp/daemon.log"; }
echo "drift-retrain: pull request $(($(date +%s) - t0))s after version 8 was registered"
python3 -c 'import json, sys; r = json.loads(open(sys.argv[1]).readline()); b = json.loads(r["body"]); print(r["path"]); print(b["head"], b["base"]); print(b["body"])' \
	"$tmp/requests" >"$tmp/out"
contains "to the example's repository" "/repos/acme/ml-deploy/pulls"
contains "from the promotion branch" "sagesync/promote-churn-v8 main"
contains "its plan deploys version 8" "churn-v8-"

# --- merged: deployed ------------------------------------------------------------
git -C "$repo" fetch -q origin
git -C "$repo" merge -q --no-ff -m "Merge pull request #1: promote churn v8" origin/sagesync/promote-churn-v8
git -C "$repo" push -q origin main
reconcile
model=$(aws sagemaker describe-endpoint-config --endpoint-config-name "$(endpoint EndpointConfigName)" \
	--query 'ProductionVariants[0].ModelName' --output text)
case $model in churn-v8-*) ok ;; *) bad "the endpoint serves $model, not churn v8" ;; esac
equals "one pull request in all" 1 "$(wc -l <"$tmp/requests" | tr -d ' ')"
# SIGTERM: a clean exit (no crash, and no leak under the sanitizers)
kill "$daemon"
wait "$daemon"
equals "the daemon stops cleanly" 0 "$?"
daemon=""
finish
