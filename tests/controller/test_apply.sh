#!/bin/sh
# sagesync plan / apply --once / status against the local AWS, checked
# with the aws CLI: deploy the quickstart from nothing, re-apply with no
# write, change a model, a count, an alarm and autoscaling, heal drift,
# leave a same-named resource it does not own alone, prune, and refuse to
# empty everything. Usage: test_apply.sh SAGESYNC SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
isolate_aws
export SAGESYNC_POLL_MS=100
sim_start SIM_STATE_SECONDS=0

repo=$tmp/repo
cp -r "$src/examples/quickstart" "$repo"
cat >"$tmp/config.yaml" <<EOC
name: test
stateDir: $tmp/state
source: {url: $repo}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
reconcile: {prune: true, selfHeal: true}
EOC
mkdir "$tmp/state"

quickstart_prerequisites

# sagesync COMMAND...: run, output in $tmp/out, exit status in $rc
sagesync() {
	"$bin" "$@" --config "$tmp/config.yaml" >"$tmp/out" 2>&1
	rc=$?
}
writes() { calls '\.(Create|Update|Put|Delete|Register|Deregister|AddTags|TagResource)'; }

# --- from nothing -----------------------------------------------------------
sagesync plan
equals "plan exit with changes" 2 "$rc"
contains "plan" "plan: 7 to create, 1 to update, 0 to delete, 0 drifted, 0 conflicts"
contains "plan" "+ Endpoint       churn-prod"
sagesync apply --once
equals "first apply" 0 "$rc"
contains "first apply" "applied: everything is healthy"
equals "endpoint InService" "InService" "$(aws sagemaker describe-endpoint \
	--endpoint-name churn-prod --query EndpointStatus --output text)"
arn=$(aws sagemaker describe-endpoint --endpoint-name churn-prod --query EndpointArn --output text)
aws sagemaker list-tags --resource-arn "$arn" --output json >"$tmp/out"
contains "endpoint tags" '"Key": "sagesync:managed-by"'
contains "endpoint tags" '"Value": "Endpoint/churn-prod"'
contains "endpoint tags" '"Key": "sagesync:revision"'
contains "user tag kept" '"Value": "ml-platform"'
models=$(aws sagemaker list-models --query 'Models[].ModelName' --output text)
case "$models" in
*churn-v7-???????*) ok ;;
*) bad "models: $models" ;;
esac
alarm=$(aws cloudwatch describe-alarms --alarm-names churn-prod-5xx --query 'MetricAlarms[0].AlarmArn' --output text)
aws cloudwatch list-tags-for-resource --resource-arn "$alarm" --output json >"$tmp/out"
contains "alarm tags" '"Value": "Alarm/churn-prod-5xx"'
equals "scaling limits" "2	6" "$(aws application-autoscaling describe-scalable-targets \
	--service-namespace sagemaker --query 'ScalableTargets[0].[MinCapacity, MaxCapacity]' --output text)"
equals "package approved" "Approved" "$(aws sagemaker describe-model-package \
	--model-package-name arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/7 \
	--query ModelApprovalStatus --output text)"

# --- again, with nothing changed: no write at all -------------------------
sim POST /_sim/reset >/dev/null
sagesync apply --once
equals "no-op apply" 0 "$rc"
contains "no-op plan" "plan: 0 to create, 0 to update, 0 to delete"
equals "no-op writes" 0 "$(writes)"
sagesync plan
equals "no-op plan exit" 0 "$rc"
sagesync status
contains "status" "Endpoint       churn-prod"
contains "status" "resources managed by 'test'"

# --- autoscaling moved an instance count: an update keeps it ----------------
aws sagemaker update-endpoint-weights-and-capacities --endpoint-name churn-prod \
	--desired-weights-and-capacities VariantName=challenger,DesiredInstanceCount=3 >/dev/null
count() { # count VARIANT
	aws sagemaker describe-endpoint --endpoint-name churn-prod --output text \
		--query "ProductionVariants[?VariantName=='$1'].CurrentInstanceCount | [0]"
}
equals "count set behind Git" 3 "$(count challenger)"
sagesync plan
equals "an instance count under autoscaling is not drift" 0 "$rc"

# --- a new model image: new model and config, one UpdateEndpoint, old gone -
old_model=$(aws sagemaker list-models --query 'Models[?starts_with(ModelName, `churn-challenger`)].ModelName' --output text)
sed -i 's/sagemaker-xgboost:1.7-1/sagemaker-xgboost:1.7-2/' "$repo/models.yaml"
sim POST /_sim/reset >/dev/null
sagesync apply --once
equals "model bump" 0 "$rc"
equals "model bump calls" "1 1 1 1 1" "$(calls 'CreateModel$') $(calls 'CreateEndpointConfig$') $(calls 'UpdateEndpoint$') $(calls 'DeleteModel$') $(calls 'DeleteEndpointConfig$')"
aws sagemaker list-models --query 'Models[].ModelName' --output text >"$tmp/out"
grep -q "$old_model" "$tmp/out" && bad "old model $old_model still there" || ok
equals "endpoint on the new config" "InService" "$(aws sagemaker describe-endpoint \
	--endpoint-name churn-prod --query EndpointStatus --output text)"
equals "the update kept autoscaling's count" 3 "$(count challenger)"

# --- a delete whose answer is lost: the retry finds it done ---------------
sed -i 's/sagemaker-xgboost:1.7-2/sagemaker-xgboost:1.7-3/' "$repo/models.yaml"
sim POST /_sim/reset >/dev/null
sim POST /_sim/faults '{"operation": "DeleteModel", "dropAfter": true, "count": 1}' >/dev/null
sagesync apply --once
equals "lost delete answer" 0 "$rc"
equals "delete retried once" 2 "$(calls 'DeleteModel$')"
equals "one challenger model left" 1 "$(aws sagemaker list-models --output text \
	--query 'length(Models[?starts_with(ModelName, `churn-challenger`)])')"

# --- Git changes an instance count: that one applies ----------------------
sed -i '0,/instanceCount: 2/s//instanceCount: 3/' "$repo/endpoint.yaml"
sagesync apply --once
equals "count change" 0 "$rc"
equals "Git's count applied" 3 "$(count current)"

# --- an alarm threshold: one PutMetricAlarm, nothing else ------------------
sed -i 's/threshold: 5$/threshold: 7/' "$repo/alarms.yaml"
sim POST /_sim/reset >/dev/null
sagesync apply --once
equals "threshold" 0 "$rc"
# the alarm, and its revision tag (PutMetricAlarm leaves tags alone)
equals "threshold writes" "1 1 2" "$(calls 'PutMetricAlarm$') $(calls 'TagResource$') $(writes)"
equals "threshold applied" "7.0" "$(aws cloudwatch describe-alarms --alarm-names churn-prod-5xx \
	--query 'MetricAlarms[0].Threshold' --output text)"

# --- a field removed from Git is removed in AWS too ------------------------
sed -i '/datapointsToAlarm: 2/d' "$repo/alarms.yaml"
sagesync plan
equals "removed field planned" 2 "$rc"
contains "removed field shown" "DatapointsToAlarm: 2 -> (unset)"
sagesync apply --once
equals "removed field applied" 0 "$rc"
equals "removed in AWS" "None" "$(aws cloudwatch describe-alarms --alarm-names churn-prod-5xx \
	--query 'MetricAlarms[0].DatapointsToAlarm' --output text)"
sagesync plan
equals "and then nothing to do" 0 "$rc"

# --- autoscaling limits: registered again, nothing else --------------------
sed -i 's/max: 6$/max: 8/' "$repo/endpoint.yaml"
sim POST /_sim/reset >/dev/null
sagesync apply --once
equals "autoscaling" 0 "$rc"
equals "autoscaling calls" "1 0 0" "$(calls 'RegisterScalableTarget$') $(calls 'UpdateEndpoint$') $(calls 'CreateEndpointConfig$')"
equals "max applied" "8" "$(aws application-autoscaling describe-scalable-targets \
	--service-namespace sagemaker --query 'ScalableTargets[0].MaxCapacity' --output text)"

# --- drift: changed behind our back, shown and healed ----------------------
aws cloudwatch put-metric-alarm --alarm-name churn-prod-5xx --namespace AWS/SageMaker \
	--metric-name Invocation5XXErrors --statistic Sum --period 60 \
	--evaluation-periods 3 --threshold 99 \
	--comparison-operator GreaterThanOrEqualToThreshold --treat-missing-data notBreaching \
	--dimensions Name=EndpointName,Value=churn-prod Name=VariantName,Value=current
sagesync plan
equals "drift plan" 2 "$rc"
contains "drift shown" "drift: Threshold: 99.0 -> 7.0"
# report only, without selfHeal
sed -i 's/selfHeal: true/selfHeal: false/' "$tmp/config.yaml"
sagesync apply --once
equals "report-only apply" 0 "$rc"
contains "drift still reported" "drift: Threshold: 99.0 -> 7.0"
equals "not healed without selfHeal" "99.0" "$(aws cloudwatch describe-alarms \
	--alarm-names churn-prod-5xx --query 'MetricAlarms[0].Threshold' --output text)"
sed -i 's/selfHeal: false/selfHeal: true/' "$tmp/config.yaml"
sagesync apply --once
equals "heal" 0 "$rc"
equals "healed" "7.0" "$(aws cloudwatch describe-alarms --alarm-names churn-prod-5xx \
	--query 'MetricAlarms[0].Threshold' --output text)"

# --- an endpoint pointed elsewhere by hand: drift, report-only waits for no one
model=$(aws sagemaker list-models --query 'Models[?starts_with(ModelName, `churn-v7`)].ModelName | [0]' --output text)
aws sagemaker create-endpoint-config --endpoint-config-name manual-cfg --production-variants \
	"VariantName=current,ModelName=$model,InstanceType=ml.m5.large,InitialInstanceCount=2" >/dev/null
aws sagemaker update-endpoint --endpoint-name churn-prod --endpoint-config-name manual-cfg >/dev/null
sed -i 's/selfHeal: true/selfHeal: false/' "$tmp/config.yaml"
sagesync apply --once
equals "endpoint drift, report only" 0 "$rc"
contains "endpoint drift shown" "drift: EndpointConfigName: manual-cfg -> churn-prod-"
equals "left on the manual config" "manual-cfg" "$(aws sagemaker describe-endpoint \
	--endpoint-name churn-prod --query EndpointConfigName --output text)"
sed -i 's/selfHeal: false/selfHeal: true/' "$tmp/config.yaml"
sagesync apply --once
equals "endpoint healed" 0 "$rc"
case "$(aws sagemaker describe-endpoint --endpoint-name churn-prod --query EndpointConfigName --output text)" in
churn-prod-???????) ok ;;
*) bad "endpoint not back on its Git config" ;;
esac

# --- someone else's alarm with quotes and a backslash in its name ----------
aws cloudwatch put-metric-alarm --alarm-name 'ops "disk" C:\' --namespace Ops \
	--metric-name Disk --statistic Sum --period 60 --evaluation-periods 1 \
	--threshold 1 --comparison-operator GreaterThanThreshold
sagesync plan
equals "a foreign alarm with quotes is observed fine" 0 "$rc"

# --- a same-named alarm we do not own: conflict, untouched -------------------
aws cloudwatch put-metric-alarm --alarm-name churn-prod-errors --namespace AWS/SageMaker \
	--metric-name Invocation4XXErrors --statistic Sum --period 60 \
	--evaluation-periods 1 --threshold 42 --comparison-operator GreaterThanThreshold
cat >>"$repo/alarms.yaml" <<'EOA'
---
apiVersion: sagesync/v1
kind: Alarm
metadata:
  name: churn-prod-errors
spec:
  endpoint: churn-prod
  metric: Invocation4XXErrors
  statistic: Sum
  threshold: 10
  comparison: GreaterThanThreshold
EOA
sagesync apply --once
equals "conflict refuses" 1 "$rc"
contains "conflict shown" "! Alarm          churn-prod-errors"
contains "conflict reason" "exists without the sagesync:managed-by tag"
equals "not ours, untouched" "42.0" "$(aws cloudwatch describe-alarms --alarm-names churn-prod-errors \
	--query 'MetricAlarms[0].Threshold' --output text)"

# --- prune: a removed manifest goes, only if ours ---------------------------
python3 - "$repo/alarms.yaml" <<'PY'
import sys
p = sys.argv[1]
docs = open(p).read().split("\n---\n")
open(p, "w").write("\n---\n".join(d for d in docs if "churn-prod-latency" not in d and "churn-prod-errors" not in d))
PY
sed -i 's/healthAlarms: \[churn-prod-5xx, churn-prod-latency\]/healthAlarms: [churn-prod-5xx]/' "$repo/endpoint.yaml"
# maxPrunePercent 0: no prune at all without --allow-mass-prune
sed -i 's/selfHeal: true}/selfHeal: true, maxPrunePercent: 0}/' "$tmp/config.yaml"
sagesync apply --once
equals "maxPrunePercent 0 refuses" 1 "$rc"
contains "refused at 0%" "the limit is 0%"
sed -i 's/, maxPrunePercent: 0}/}/' "$tmp/config.yaml"
sagesync apply --once
equals "prune" 0 "$rc"
contains "prune planned" "- Alarm          churn-prod-latency"
aws cloudwatch describe-alarms --query 'MetricAlarms[].AlarmName' --output text >"$tmp/out"
grep -q churn-prod-latency "$tmp/out" && bad "pruned alarm still there" || ok
contains "the alarm we do not own stays" "churn-prod-errors"

# --- an emptied source must not wipe production ---------------------------
mkdir "$tmp/empty"
mv "$repo"/*.yaml "$tmp/empty/"
sagesync apply --once
equals "empty source refused" 1 "$rc"
contains "refusal" "refused, nothing is deleted"
equals "endpoint survives" "InService" "$(aws sagemaker describe-endpoint \
	--endpoint-name churn-prod --query EndpointStatus --output text)"

finish
