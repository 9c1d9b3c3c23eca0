#!/bin/sh
# The IAM policy of docs/iam-policy.json is enough, and no more than
# enough. The local AWS checks signatures and enforces IAM policies
# (INITIAL_NO_AUTH_ACTION_COUNT); the controller runs as a user holding
# exactly that policy: doctor passes, the daemon deploys the quickstart
# (and a second endpoint) with leader election and an SNS notification,
# rolls a broken commit back and pushes a revert, then prunes the second
# endpoint. Nothing is denied, and every action the policy allows was
# used (the iam: ones excepted: the local AWS makes no PassRole or
# service-linked-role checks). A user missing one action is denied, so
# the checks are on. Usage: test_iam.sh SAGESYNC SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
. "$src/tests/git_servers.sh"
daemon=""
trap '[ -n "$daemon" ] && kill "$daemon" 2>/dev/null; sim_stop; rm -rf "$tmp"' EXIT INT TERM
isolate_aws
export SAGESYNC_POLL_MS=100
git_identity
policy=$src/docs/iam-policy.json

# the first three requests are not checked: they make the administrator
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
sim_start SIM_STATE_SECONDS=0 INITIAL_NO_AUTH_ACTION_COUNT=3
AWS_ACCESS_KEY_ID=boot AWS_SECRET_ACCESS_KEY=boot aws iam create-user --user-name admin >/dev/null &&
	AWS_ACCESS_KEY_ID=boot AWS_SECRET_ACCESS_KEY=boot aws iam put-user-policy \
		--user-name admin --policy-name all --policy-document \
		'{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}' &&
	AWS_ACCESS_KEY_ID=boot AWS_SECRET_ACCESS_KEY=boot aws iam create-access-key --user-name admin \
		--query 'AccessKey.[AccessKeyId, SecretAccessKey]' --output text >"$tmp/admin" ||
	{ bad "cannot make the administrator"; exit 1; }
read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY <"$tmp/admin"
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

# user NAME POLICY_FILE: a user holding that policy; its keys on stdout
user() {
	aws iam create-user --user-name "$1" >/dev/null &&
		aws iam put-user-policy --user-name "$1" --policy-name sagesync \
			--policy-document "file://$2" &&
		aws iam create-access-key --user-name "$1" \
			--query 'AccessKey.[AccessKeyId, SecretAccessKey]' --output text
}
user controller "$policy" >"$tmp/controller" || { bad "cannot make the controller's user"; exit 1; }
read -r id secret <"$tmp/controller"
as_controller() { AWS_ACCESS_KEY_ID=$id AWS_SECRET_ACCESS_KEY=$secret "$@"; }

quickstart_prerequisites
topic=$(aws sns create-topic --name deploys --query TopicArn --output text)

# the quickstart, and a second endpoint to prune later
quickstart_remote
cat >"$repo/shadow.yaml" <<'EOF'
apiVersion: sagesync/v1
kind: Model
metadata: {name: churn-shadow}
spec:
  executionRoleArn: arn:aws:iam::123456789012:role/sagemaker-execution
  containers:
    - image: 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1
      modelDataUrl: s3://acme-ml-artifacts/churn/challenger/model.tar.gz
---
apiVersion: sagesync/v1
kind: Endpoint
metadata: {name: churn-shadow}
spec:
  variants:
    - name: current
      model: churn-shadow
      instanceType: ml.m5.large
      instanceCount: 1
      autoscaling: {min: 1, max: 2, targetInvocationsPerInstance: 100}
  dataCapture: {samplingPercentage: 100, destinationS3Uri: "s3://acme-ml-monitoring/shadow/capture"}
---
apiVersion: sagesync/v1
kind: DataQualityMonitor
metadata: {name: churn-shadow-quality}
spec:
  endpoint: churn-shadow
  schedule: cron(0 * ? * * *)
  output: s3://acme-ml-monitoring/shadow/reports
  instanceType: ml.m5.xlarge
  roleArn: arn:aws:iam::123456789012:role/sagemaker-monitoring
---
apiVersion: sagesync/v1
kind: RetrainTrigger
metadata: {name: churn-shadow-retrain}
spec:
  alarms: [churn-shadow-5xx]
  pipelineArn: arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-train
  parameters: {Reason: errors}
  roleArn: arn:aws:iam::123456789012:role/eventbridge-start-pipeline
  snsTopicArn: TOPIC
---
apiVersion: sagesync/v1
kind: Alarm
metadata: {name: churn-shadow-5xx}
spec:
  endpoint: churn-shadow
  variant: current
  metric: Invocation5XXErrors
  statistic: Sum
  period: 60
  evaluationPeriods: 1
  threshold: 5
  comparison: GreaterThanOrEqualToThreshold
EOF
sed -i "s|TOPIC|$topic|" "$repo/shadow.yaml"
sed -i 's/bakeSeconds: 300/bakeSeconds: 1/' "$repo/endpoint.yaml"
publish "A: the quickstart and a shadow endpoint"
a=$(git -C "$repo" rev-parse HEAD)

port=$(free_port)
cat >"$tmp/config.yaml" <<EOC
name: iam-test
stateDir: $tmp/state
source: {url: "file://$tmp/remote.git", branch: main, interval: 1h}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
server: {listen: "127.0.0.1:$port"}
reconcile: {rollback: revert-commit, maxPrunePercent: 100}
notify:
  - {type: sns, topicArn: "$topic"}
leaderElection: {table: sagesync-leases, leaseSeconds: 5, renewSeconds: 1}
promotion: {modelPackageGroups: [churn], mode: commit}
EOC
mkdir "$tmp/state"

# the lease table is made once, by an administrator (dynamodb:CreateTable
# is not the controller's)
"$bin" doctor --fix --config "$tmp/config.yaml" >"$tmp/out" 2>&1
contains "an administrator makes the lease table" "created"

as_controller "$bin" doctor --config "$tmp/config.yaml" >"$tmp/out" 2>&1
equals "doctor passes with the policy" 0 "$?"
contains "doctor names the controller's user" "user/controller"

AWS_ACCESS_KEY_ID=$id AWS_SECRET_ACCESS_KEY=$secret \
	"$bin" run --config "$tmp/config.yaml" --log-format text 2>"$tmp/daemon.log" &
daemon=$!
base=http://127.0.0.1:$port
wait_for 60 at_least 1 || { bad "the daemon did not reconcile"; cat "$tmp/daemon.log"; }
equals "A deploys" InService "$(endpoint EndpointStatus)"
equals "the shadow deploys" InService "$(aws sagemaker describe-endpoint \
	--endpoint-name churn-shadow --query EndpointStatus --output text)"

# B: a challenger without its artifact: rolled back, and reverted in Git
sed -i 's|churn/challenger/model.tar.gz|churn/challenger/missing.tar.gz|' "$repo/models.yaml"
publish "B: a challenger without its artifact"
reconcile
equals "B rolled back" 1 "$(metric 'sagesync_reconcile_total{result="rolled-back"}')"
git -C "$repo" pull -q --rebase=false origin main 2>/dev/null
equals "a revert commit was pushed" "$(git -C "$repo" rev-parse "$a^{tree}")" \
	"$(git -C "$repo" rev-parse 'HEAD^{tree}')"
delivered() { [ "$(metric 'sagesync_notifications_total{target="sns",result="delivered"}')" -ge 1 ]; }
wait_for 30 delivered && ok || bad "no notification was published"

# B2: the monitor runs daily, the trigger passes another reason and
# notifies no topic: a new job definition, the schedule and rule updated
git -C "$repo" pull -q --rebase=false origin main 2>/dev/null
sed -i -e 's/cron(0 \* ? \* \* \*)/cron(0 3 ? * * *)/' -e 's/Reason: errors/Reason: 5xx/' \
	-e '/snsTopicArn/d' "$repo/shadow.yaml"
publish "B2: a daily monitor, another retraining reason"
reconcile
equals "B2 updates the schedule" "cron(0 3 ? * * *)" "$(aws sagemaker describe-monitoring-schedule \
	--monitoring-schedule-name churn-shadow-quality \
	--query MonitoringScheduleConfig.ScheduleConfig.ScheduleExpression --output text)"
equals "B2 updates the rule's targets" pipeline "$(aws events list-targets-by-rule \
	--rule churn-shadow-retrain --query 'Targets[].Id' --output text)"

# C: the shadow endpoint goes: pruned with its model, config, alarm,
# scalable target, monitor and retraining rule
git -C "$repo" rm -q shadow.yaml
sed -i 's/threshold: 5$/threshold: 7/' "$repo/alarms.yaml"
publish "C: no shadow endpoint, and a new 5xx threshold"
reconcile
equals "the shadow is pruned" 0 "$(aws sagemaker list-endpoints --name-contains shadow \
	--query 'length(Endpoints)' --output text)"
equals "its monitor is pruned" 0 "$(aws sagemaker list-monitoring-schedules \
	--query 'length(MonitoringScheduleSummaries)' --output text)"
equals "its job definitions too" 0 "$(aws sagemaker list-data-quality-job-definitions \
	--query 'length(JobDefinitionSummaries)' --output text)"
equals "its rule too" 0 "$(aws events list-rules --query 'length(Rules)' --output text)"
equals "C leaves churn-prod serving" InService "$(endpoint EndpointStatus)"
equals "C updates the alarm" 7.0 "$(threshold)"

lease_item() {
	aws dynamodb get-item --table-name sagesync-leases \
		--key '{"leaseKey": {"S": "iam-test"}}' --query Item.leaseKey.S --output text
}
equals "the leader holds the lease" iam-test "$(lease_item)"
curl -s "$base/metrics" >"$tmp/metrics"
kill "$daemon" && wait "$daemon"
equals "the daemon stops cleanly" 0 "$?"
daemon=""
# a clean exit gives the lease back: the item is deleted
equals "the lease is released" None "$(lease_item)"
cp "$tmp/daemon.log" "$tmp/out"
if grep -q "AccessDenied" "$tmp/out"; then
	bad "an AWS call was denied"
	grep "AccessDenied" "$tmp/out" | head -5
else ok; fi

# every action of the policy was used (the daemon's call counts, doctor's
# DescribeTable, the release's DeleteItem); the iam: actions are AWS's
# own checks. sagemaker:DescribeModel and DescribeDataQualityJobDefinition
# are the paths not taken here: a create that finds its resource made by
# an earlier attempt, cut short by a crash, describes it to adopt it
# (rec_model.c, engine_adopt).
python3 - "$policy" "$tmp/metrics" >"$tmp/out" <<'PY'
import json, re, sys
policy, metrics = sys.argv[1], sys.argv[2]
allowed = set()
for st in json.load(open(policy))["Statement"]:
    for a in st["Action"]:
        if not a.startswith("iam:"):
            allowed.add(a)
used = {f"{s}:{o}" for s, o in re.findall(
    r'^sagesync_aws_calls_total\{service="([^"]+)",operation="([^"]+)"\} [1-9]',
    open(metrics).read(), re.M)}
used |= {"dynamodb:DescribeTable", "dynamodb:DeleteItem",
         "sagemaker:DescribeModel",
         "sagemaker:DescribeDataQualityJobDefinition"}
for a in sorted(allowed - used):
    print("unused:", a)
for a in sorted(used - allowed):
    print("not in the policy:", a)
print("allowed", len(allowed), "used", len(used & allowed))
PY
cat "$tmp/out"
if grep -q "^unused\|^not in" "$tmp/out"; then bad "the policy is not exactly what is used"; else ok; fi

# a user without one action of it is denied, with the action named
python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
for st in p["Statement"]:
    st["Action"] = [a for a in st["Action"] if a != "sagemaker:ListModels"]
json.dump(p, open(sys.argv[2], "w"))' "$policy" "$tmp/less.json"
user lacking "$tmp/less.json" >"$tmp/lacking" || bad "cannot make a user"
read -r lid lsecret <"$tmp/lacking"
AWS_ACCESS_KEY_ID=$lid AWS_SECRET_ACCESS_KEY=$lsecret \
	"$bin" plan --config "$tmp/config.yaml" >"$tmp/out" 2>&1
equals "one action less is refused" 1 "$?"
contains "the refusal names the call" "ListModels: AccessDenied"

finish
