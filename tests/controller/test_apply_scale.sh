#!/bin/sh
# sagesync apply --once at scale against the local AWS: 100 endpoints
# (each with a model, autoscaling and an alarm) deploy, and a no-op
# re-apply makes at most 12 calls in all; then 50 endpoints deploy through
# injected throttling, 5xx answers, dropped connections and lost answers
# (a create that went through, retried), and nothing is created twice. Usage: test_apply_scale.sh SAGESYNC SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
isolate_aws
export SAGESYNC_POLL_MS=50 SAGESYNC_AWS_BACKOFF_MS=20

# stacks DIR N PREFIX: N endpoint stacks, one file each
stacks() {
	mkdir -p "$1"
	i=0
	while [ $i -lt "$2" ]; do
		n=$3$i
		cat >"$1/$n.yaml" <<EOS
apiVersion: sagesync/v1
kind: Model
metadata: {name: $n}
spec:
  executionRoleArn: arn:aws:iam::123456789012:role/sagemaker-execution
  containers: [{image: "example/model:$i"}]
---
apiVersion: sagesync/v1
kind: Endpoint
metadata: {name: $n}
spec:
  variants:
    - name: main
      model: $n
      instanceType: ml.m5.large
      instanceCount: 1
      autoscaling: {min: 1, max: 4, targetInvocationsPerInstance: 100}
---
apiVersion: sagesync/v1
kind: Alarm
metadata: {name: $n-5xx}
spec:
  endpoint: $n
  variant: main
  metric: Invocation5XXErrors
  statistic: Sum
  threshold: 5
  comparison: GreaterThanOrEqualToThreshold
EOS
		i=$((i + 1))
	done
}

# config FILE REPO STATE
config() {
	mkdir -p "$3"
	cat >"$1" <<EOC
name: scale
stateDir: $3
source: {url: $2}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
EOC
}

# --- 100 endpoints, then a no-op ------------------------------------------
sim_start SIM_STATE_SECONDS=0
stacks "$tmp/r100" 100 svc
config "$tmp/c100.yaml" "$tmp/r100" "$tmp/s100"
"$bin" apply --once --config "$tmp/c100.yaml" >"$tmp/out" 2>&1
equals "deploy 100" 0 "$?"
equals "100 endpoints InService" 100 "$(aws sagemaker list-endpoints --max-results 100 \
	--status-equals InService --query 'length(Endpoints)' --output text)"
sim POST /_sim/reset >/dev/null
"$bin" apply --once --config "$tmp/c100.yaml" >"$tmp/out" 2>&1
equals "no-op apply of 100" 0 "$?"
total=$(calls '.')
echo "no-op reconcile of 100 endpoints: $total AWS calls"
[ "$total" -le 12 ] && ok || bad "no-op made $total calls, more than 12"
equals "no-op writes" 0 "$(calls '\.(Create|Update|Put|Delete|Register|Deregister|AddTags|TagResource)')"
sim_stop

# --- 50 endpoints through faults ----------------------------------------------
sim_start SIM_STATE_SECONDS=0
stacks "$tmp/r50" 50 api
config "$tmp/c50.yaml" "$tmp/r50" "$tmp/s50"
# at most two faults an operation: with workers in parallel, both may hit
# one request, and the client makes three attempts
for f in \
	'{"operation": "CreateModel", "error": "ThrottlingException", "count": 1}' \
	'{"operation": "CreateEndpointConfig", "error": "InternalFailure", "status": 500, "count": 1}' \
	'{"operation": "CreateEndpoint", "drop": true, "count": 1}' \
	'{"operation": "CreateModel", "dropAfter": true, "count": 1}' \
	'{"operation": "CreateEndpointConfig", "dropAfter": true, "count": 1}' \
	'{"operation": "PutMetricAlarm", "error": "Throttling", "count": 2}' \
	'{"operation": "RegisterScalableTarget", "error": "ServiceUnavailable", "status": 503, "count": 2}' \
	'{"operation": "DescribeEndpoint", "error": "ThrottlingException", "count": 2}' \
	'{"operation": "ListModels", "latencyMs": 300, "count": 1}'; do
	sim POST /_sim/faults "$f" >/dev/null || bad "fault $f"
done
"$bin" apply --once --config "$tmp/c50.yaml" >"$tmp/out" 2>&1
equals "deploy 50 through faults" 0 "$?"
contains "retries counted" "aws calls:"
equals "every fault used" "0" "$(sim GET /_sim/faults | python3 -c '
import json, sys; print(sum(r["count"] for r in json.load(sys.stdin)["faults"]))')"
equals "50 models, once each" 50 "$(aws sagemaker list-models --max-results 100 \
	--query 'length(Models)' --output text)"
equals "50 configs, once each" 50 "$(aws sagemaker list-endpoint-configs --max-results 100 \
	--query 'length(EndpointConfigs)' --output text)"
equals "50 endpoints InService" 50 "$(aws sagemaker list-endpoints --max-results 100 \
	--status-equals InService --query 'length(Endpoints)' --output text)"
equals "50 alarms" 50 "$(aws cloudwatch describe-alarms --query 'length(MetricAlarms)' --output text)"
equals "50 scaling targets" 50 "$(aws application-autoscaling describe-scalable-targets \
	--service-namespace sagemaker --query 'length(ScalableTargets)' --output text)"
"$bin" plan --config "$tmp/c50.yaml" >"$tmp/out" 2>&1
equals "converged" 0 "$?"

finish
