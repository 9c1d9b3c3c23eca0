#!/bin/sh
# Integration test of tests/aws/start-aws, driven with the aws CLI (a
# client none of us wrote) and plain HTTP for the /_sim controls:
# endpoint lifecycle with timed states, UpdateEndpoint, a deploy that
# fails and rolls back, SageMaker's errors, fault injection the CLI
# retries, call counters, monitoring schedules; then, with INITIAL_NO_AUTH_ACTION_COUNT, that a
# request signed with a wrong secret is refused. Leaves no process behind.
# Usage: test_start_aws.sh SOURCE_DIR
set -u
src=$1
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM

# keep the CLI away from any configuration of this machine
isolate_aws

stop() {
	sim_stop
	rc=$?
	if [ "$rc" -eq 0 ]; then ok; else bad "start-aws exit $rc on SIGTERM"; fi
}

# run DESCRIPTION CMD... : must succeed
run() {
	what=$1
	shift
	if "$@" >"$tmp/out" 2>"$tmp/err"; then ok; else bad "$what: exit $?"; fi
}

# refused DESCRIPTION TEXT CMD... : must fail with TEXT in its error
refused() {
	what=$1 text=$2
	shift 2
	if "$@" >"$tmp/out" 2>"$tmp/err"; then
		bad "$what: succeeded"
	elif grep -qF -- "$text" "$tmp/err"; then ok; else
		bad "$what: no '$text' in the error"
	fi
}

advance() { sim POST /_sim/advance "{\"seconds\": $1}" >/dev/null; }

state() { # state ENDPOINT: "Status Config"
	aws sagemaker describe-endpoint --endpoint-name "$1" \
		--query '[EndpointStatus, EndpointConfigName]' --output text
}

role=arn:aws:iam::123456789012:role/sagemaker-execution
# states last 30 simulated seconds, far longer than the test's real pauses,
# and the test moves the clock: the result cannot depend on machine speed
sim_start SIM_STATE_SECONDS=30 SIM_FAIL_IMAGE_REGEX=crashloop
echo "start-aws at $AWS_ENDPOINT_URL"

# --- models and configs; SageMaker refuses duplicates ---------------------
echo model >"$tmp/model.tar.gz"
run "create bucket" aws s3api create-bucket --bucket artifacts
run "put artifact" aws s3api put-object --bucket artifacts \
	--key churn/v7/model.tar.gz --body "$tmp/model.tar.gz"
run "create model v7" aws sagemaker create-model --model-name churn-v7 \
	--execution-role-arn $role \
	--primary-container Image=xgboost:1,ModelDataUrl=s3://artifacts/churn/v7/model.tar.gz
run "create model v8 (artifact missing)" aws sagemaker create-model \
	--model-name churn-v8 --execution-role-arn $role \
	--primary-container Image=xgboost:1,ModelDataUrl=s3://artifacts/churn/v8/model.tar.gz
run "create model with a crashing image" aws sagemaker create-model \
	--model-name churn-crash --execution-role-arn $role \
	--primary-container Image=crashloop:1
refused "duplicate model" 'Cannot create already existing model "arn:aws:sagemaker:us-east-1:123456789012:model/churn-v7"' \
	aws sagemaker create-model --model-name churn-v7 --execution-role-arn $role \
	--primary-container Image=other:1
for c in "c1 churn-v7 1" "c2 churn-v7 2" "c3 churn-v8 2" "c4 churn-crash 1"; do
	set -- $c
	run "create config $1" aws sagemaker create-endpoint-config \
		--endpoint-config-name "$1" --production-variants \
		"VariantName=main,ModelName=$2,InstanceType=ml.m5.large,InitialInstanceCount=$3"
done
refused "duplicate config" "Cannot create already existing endpoint configuration" \
	aws sagemaker create-endpoint-config --endpoint-config-name c1 \
	--production-variants VariantName=main,ModelName=churn-v7,InstanceType=ml.m5.large,InitialInstanceCount=1

# --- create: Creating, then InService ------------------------------------
run "create endpoint" aws sagemaker create-endpoint --endpoint-name churn-prod \
	--endpoint-config-name c1
equals "state after create" "Creating	c1" "$(state churn-prod)"
equals "list agrees" "Creating" "$(aws sagemaker list-endpoints \
	--query 'Endpoints[?EndpointName==`churn-prod`].EndpointStatus' --output text)"
refused "duplicate endpoint" 'Cannot create already existing endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn-prod"' \
	aws sagemaker create-endpoint --endpoint-name churn-prod --endpoint-config-name c1
created=$(aws sagemaker describe-endpoint --endpoint-name churn-prod --query LastModifiedTime --output text)
advance 30
run "wait endpoint-in-service" aws sagemaker wait endpoint-in-service --endpoint-name churn-prod
equals "state after wait" "InService	c1" "$(state churn-prod)"
inservice=$(aws sagemaker describe-endpoint --endpoint-name churn-prod --query LastModifiedTime --output text)
[ "$created" != "$inservice" ] && ok || bad "LastModifiedTime did not change on InService"

# --- update: Updating on the old config, then InService on the new ------
run "update to c2" aws sagemaker update-endpoint --endpoint-name churn-prod \
	--endpoint-config-name c2
equals "state while updating" "Updating	c1" "$(state churn-prod)"
equals "pending deployment" "c2" "$(aws sagemaker describe-endpoint --endpoint-name churn-prod \
	--query PendingDeploymentSummary.EndpointConfigName --output text)"
refused "update while updating" 'Cannot update in-progress endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn-prod"' \
	aws sagemaker update-endpoint --endpoint-name churn-prod --endpoint-config-name c1
advance 30
run "wait after update" aws sagemaker wait endpoint-in-service --endpoint-name churn-prod
equals "state after update" "InService	c2" "$(state churn-prod)"
equals "new instance count" "2" "$(aws sagemaker describe-endpoint --endpoint-name churn-prod \
	--query 'ProductionVariants[0].CurrentInstanceCount' --output text)"

# --- a failing update rolls back, with FailureReason -----------------------
run "update to c3 (missing artifact)" aws sagemaker update-endpoint \
	--endpoint-name churn-prod --endpoint-config-name c3
equals "updating" "Updating	c2" "$(state churn-prod)"
advance 30
equals "rolling back" "RollingBack	c2" "$(state churn-prod)"
advance 30
equals "rolled back to c2" "InService	c2" "$(state churn-prod)"
reason=$(aws sagemaker describe-endpoint --endpoint-name churn-prod --query FailureReason --output text)
case "$reason" in
*'Failed to download model data'*'s3://artifacts/churn/v8/model.tar.gz'*) ok ;;
*) bad "FailureReason after rollback: $reason" ;;
esac

# --- an alarm of AutoRollbackConfiguration in ALARM rolls the update back ---
run "create alarm" aws cloudwatch put-metric-alarm --alarm-name churn-5xx \
	--namespace AWS/SageMaker --metric-name Invocation5XXErrors \
	--statistic Sum --period 60 --evaluation-periods 1 --threshold 1 \
	--comparison-operator GreaterThanOrEqualToThreshold
run "alarm fires" aws cloudwatch set-alarm-state --alarm-name churn-5xx \
	--state-value ALARM --state-reason test
run "update guarded by the alarm" aws sagemaker update-endpoint \
	--endpoint-name churn-prod --endpoint-config-name c1 --deployment-config \
	'{"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}}, "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-5xx"}]}}'
advance 60
equals "alarm rolled it back" "InService	c2" "$(state churn-prod)"
reason=$(aws sagemaker describe-endpoint --endpoint-name churn-prod --query FailureReason --output text)
case "$reason" in
*'churn-5xx went into ALARM'*) ok ;;
*) bad "FailureReason after alarm rollback: $reason" ;;
esac
equals "deployment config kept" "ALL_AT_ONCE" "$(aws sagemaker describe-endpoint \
	--endpoint-name churn-prod --output text \
	--query LastDeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration.Type)"

# --- a failing create ends Failed ------------------------------------------
run "create endpoint with crashing image" aws sagemaker create-endpoint \
	--endpoint-name churn-crash --endpoint-config-name c4
advance 30
equals "failed create" "Failed	c4" "$(state churn-crash)"
refused "waiter sees Failed" "Failed" \
	aws sagemaker wait endpoint-in-service --endpoint-name churn-crash
refused "update a failed endpoint" "in status Failed" \
	aws sagemaker update-endpoint --endpoint-name churn-crash --endpoint-config-name c1

# --- SageMaker's errors for unknown names ---------------------------------
refused "update unknown endpoint" 'Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/nope"' \
	aws sagemaker update-endpoint --endpoint-name nope --endpoint-config-name c1
refused "update to unknown config" 'Could not find endpoint configuration "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/nope"' \
	aws sagemaker update-endpoint --endpoint-name churn-prod --endpoint-config-name nope

# --- faults the CLI retries, and the call counters --------------------------
run "reset" sim POST /_sim/reset
run "inject throttling" sim POST /_sim/faults \
	'{"operation": "DescribeEndpoint", "error": "ThrottlingException", "status": 400, "count": 2}'
equals "describe through throttling" "InService	c2" "$(state churn-prod)"
equals "throttled calls counted" "3" "$(calls '^sagemaker\.DescribeEndpoint$')"
run "inject a dropped connection" sim POST /_sim/faults \
	'{"operation": "sagemaker.ListEndpoints", "drop": true, "count": 1}'
run "list through a dropped connection" aws sagemaker list-endpoints
equals "dropped call counted" "2" "$(calls '^sagemaker\.ListEndpoints$')"
run "inject a 5xx" sim POST /_sim/faults \
	'{"operation": "*", "error": "InternalFailure", "status": 500, "count": 1}'
run "list through a 5xx" aws sagemaker list-endpoints
equals "5xx call counted" "4" "$(calls '^sagemaker\.ListEndpoints$')"
refused "fault without operation" "operation" sim POST /_sim/faults '{"error": "X"}'
run "reset counters" sim POST /_sim/reset
run "describe once" aws sagemaker describe-endpoint-config --endpoint-config-name c1
run "list once" aws sagemaker list-endpoints
equals "exact counts" "1 1 0" "$(calls '^sagemaker\.DescribeEndpointConfig$') $(calls '^sagemaker\.ListEndpoints$') $(calls '^sagemaker\.DescribeEndpoint$')"
equals "reset keeps resources" "InService	c2" "$(state churn-prod)"

# --- delete: Deleting, then gone ---------------------------------------------
run "delete endpoint" aws sagemaker delete-endpoint --endpoint-name churn-prod
equals "deleting" "Deleting	c2" "$(state churn-prod)"
advance 30
refused "gone after delete" "Could not find endpoint" \
	aws sagemaker describe-endpoint --endpoint-name churn-prod
equals "list agrees after delete" "" "$(aws sagemaker list-endpoints \
	--query 'Endpoints[?EndpointName==`churn-prod`].EndpointName' --output text)"
run "delete a config still named by an endpoint" aws sagemaker \
	delete-endpoint-config --endpoint-config-name c4

# --- monitoring schedules (moto has none) ------------------------------------
run "create data quality job definition" aws sagemaker \
	create-data-quality-job-definition --cli-input-json '{
	"JobDefinitionName": "churn-dq", "RoleArn": "'$role'",
	"DataQualityAppSpecification": {"ImageUri": "monitor:1"},
	"DataQualityJobInput": {"EndpointInput": {"EndpointName": "churn-prod",
		"LocalPath": "/opt/ml/processing/input"}},
	"DataQualityJobOutputConfig": {"MonitoringOutputs": [{"S3Output": {
		"S3Uri": "s3://artifacts/monitor", "LocalPath": "/opt/ml/processing/output"}}]},
	"JobResources": {"ClusterConfig": {"InstanceCount": 1,
		"InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}}}'
# schedule EXPRESSION [DEFINITION TYPE]: a config naming a job definition
# (by default churn-dq, DataQuality)
schedule() {
	echo "{\"ScheduleConfig\": {\"ScheduleExpression\": \"$1\"}, \"MonitoringJobDefinitionName\": \"${2:-churn-dq}\", \"MonitoringType\": \"${3:-DataQuality}\"}"
}
inline='{"ScheduleConfig": {"ScheduleExpression": "cron(0 0 ? * * *)"},
	"MonitoringJobDefinition": {"RoleArn": "'$role'",
	"MonitoringInputs": [{"EndpointInput": {"EndpointName": "churn-shadow",
		"LocalPath": "/opt/ml/processing/input"}}],
	"MonitoringOutputConfig": {"MonitoringOutputs": [{"S3Output": {
		"S3Uri": "s3://artifacts/monitor", "LocalPath": "/opt/ml/processing/output"}}]},
	"MonitoringResources": {"ClusterConfig": {"InstanceCount": 1,
		"InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}},
	"MonitoringAppSpecification": {"ImageUri": "monitor:1"}}}'
equals "create schedule with tags" \
	"arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/churn-hourly" \
	"$(aws sagemaker create-monitoring-schedule --monitoring-schedule-name Churn-Hourly \
		--monitoring-schedule-config "$(schedule 'cron(0 * ? * * *)')" \
		--tags Key=team,Value=ml --query MonitoringScheduleArn --output text)"
run "create schedule with an inline job definition" aws sagemaker \
	create-monitoring-schedule --monitoring-schedule-name churn-daily \
	--monitoring-schedule-config "$inline"
run "create schedule every 6 hours" aws sagemaker create-monitoring-schedule \
	--monitoring-schedule-name churn-bias --monitoring-schedule-config \
	"$(schedule 'cron(0 0/6 ? * * *)' churn-bias-def ModelBias)"
equals "describe schedule" "Churn-Hourly	Scheduled	DataQuality	churn-prod	cron(0 * ? * * *)" \
	"$(aws sagemaker describe-monitoring-schedule --monitoring-schedule-name Churn-Hourly \
		--output text --query '[MonitoringScheduleName, MonitoringScheduleStatus, MonitoringType, EndpointName, MonitoringScheduleConfig.ScheduleConfig.ScheduleExpression]')"
equals "endpoint of an inline job definition" "churn-shadow" \
	"$(aws sagemaker describe-monitoring-schedule --monitoring-schedule-name churn-daily \
		--query EndpointName --output text)"
refused "duplicate schedule" "(ResourceInUse)" \
	aws sagemaker create-monitoring-schedule --monitoring-schedule-name churn-hourly \
	--monitoring-schedule-config "$(schedule 'cron(0 * ? * * *)')"
for expr in 'cron(0 12 * * ? *)' 'rate(1 hour)' 'cron(0 24 ? * * *)' 'cron(30 * ? * * *)'; do
	refused "schedule '$expr' refused" "Invalid ScheduleExpression" \
		aws sagemaker create-monitoring-schedule --monitoring-schedule-name churn-bad \
		--monitoring-schedule-config "$(schedule "$expr")"
done
refused "schedule name against the pattern" "(ValidationException)" \
	aws sagemaker create-monitoring-schedule --monitoring-schedule-name churn_bad \
	--monitoring-schedule-config "$(schedule 'cron(0 * ? * * *)')"
equals "list by endpoint" "Churn-Hourly" "$(aws sagemaker list-monitoring-schedules \
	--endpoint-name churn-prod --output text \
	--query 'MonitoringScheduleSummaries[].MonitoringScheduleName')"
equals "list by type" "churn-bias" "$(aws sagemaker list-monitoring-schedules \
	--monitoring-type-equals ModelBias --output text \
	--query 'MonitoringScheduleSummaries[].MonitoringScheduleName')"
run "reset counters" sim POST /_sim/reset
# (text output is a line per page)
equals "list one a page, by name" "Churn-Hourly churn-bias churn-daily" \
	"$(aws sagemaker list-monitoring-schedules --page-size 1 --sort-by Name \
		--sort-order Ascending --output text \
		--query 'MonitoringScheduleSummaries[].MonitoringScheduleName' | paste -sd ' ')"
equals "one page a call" "3" "$(calls '^sagemaker\.ListMonitoringSchedules$')"
token=$(aws sagemaker list-monitoring-schedules --page-size 1 --max-items 2 \
	--sort-by Name --sort-order Ascending --query NextToken --output json | tr -d '"')
equals "the rest after --max-items 2" "churn-daily" \
	"$(aws sagemaker list-monitoring-schedules --page-size 1 --starting-token "$token" \
		--sort-by Name --sort-order Ascending --output text \
		--query 'MonitoringScheduleSummaries[].MonitoringScheduleName')"
modified=$(aws sagemaker describe-monitoring-schedule --monitoring-schedule-name churn-daily \
	--query LastModifiedTime --output text)
advance 60
run "update schedule" aws sagemaker update-monitoring-schedule \
	--monitoring-schedule-name churn-daily \
	--monitoring-schedule-config "$(schedule 'cron(0 12 ? * * *)')"
equals "updated config" "cron(0 12 ? * * *)	churn-dq	churn-prod" \
	"$(aws sagemaker describe-monitoring-schedule --monitoring-schedule-name churn-daily \
		--output text --query '[MonitoringScheduleConfig.ScheduleConfig.ScheduleExpression, MonitoringScheduleConfig.MonitoringJobDefinitionName, EndpointName]')"
[ "$modified" != "$(aws sagemaker describe-monitoring-schedule --monitoring-schedule-name \
	churn-daily --query LastModifiedTime --output text)" ] && ok ||
	bad "LastModifiedTime did not move on update"
refused "update with a bad schedule" "Invalid ScheduleExpression" \
	aws sagemaker update-monitoring-schedule --monitoring-schedule-name churn-daily \
	--monitoring-schedule-config "$(schedule 'cron(0 0 1 * ? *)')"
refused "update unknown schedule" "(ResourceNotFound)" \
	aws sagemaker update-monitoring-schedule --monitoring-schedule-name nope \
	--monitoring-schedule-config "$(schedule 'cron(0 * ? * * *)')"
arn=arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/churn-hourly
equals "list-tags" "team=ml" "$(aws sagemaker list-tags --resource-arn $arn \
	--query 'Tags[].[Key, Value]' --output text | tr '\t' =)"
run "add-tags" aws sagemaker add-tags --resource-arn $arn --tags Key=tier,Value=gold
equals "list-tags after add-tags" "team tier" "$(aws sagemaker list-tags \
	--resource-arn $arn --query 'Tags[].Key' --output text | tr '\t' ' ')"
run "delete schedule" aws sagemaker delete-monitoring-schedule \
	--monitoring-schedule-name Churn-Hourly
refused "describe after delete" "(ResourceNotFound)" \
	aws sagemaker describe-monitoring-schedule --monitoring-schedule-name Churn-Hourly
refused "delete twice" "(ResourceNotFound)" \
	aws sagemaker delete-monitoring-schedule --monitoring-schedule-name Churn-Hourly
equals "list after delete" "churn-bias	churn-daily" "$(aws sagemaker list-monitoring-schedules \
	--sort-by Name --sort-order Ascending --output text \
	--query 'MonitoringScheduleSummaries[].MonitoringScheduleName')"

# EventBridge TestEventPattern (moto answers it with nothing): a CloudWatch
# alarm entering ALARM, against a pattern for that alarm
pattern='{"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"], "detail": {"alarmName": ["drift"], "state": {"value": ["ALARM"]}}}'
event() {
	printf '{"id": "1", "account": "123456789012", "source": "aws.cloudwatch", "time": "2026-11-27T00:00:00Z", "region": "us-east-1", "resources": [], "detail-type": "CloudWatch Alarm State Change", "detail": {"alarmName": "%s", "state": {"value": "%s"}}}' "$1" "$2"
}
equals "test-event-pattern: matches" True "$(aws events test-event-pattern \
	--event-pattern "$pattern" --event "$(event drift ALARM)" --query Result --output text)"
equals "test-event-pattern: another state" False "$(aws events test-event-pattern \
	--event-pattern "$pattern" --event "$(event drift OK)" --query Result --output text)"
equals "test-event-pattern: another alarm" False "$(aws events test-event-pattern \
	--event-pattern "$pattern" --event "$(event latency ALARM)" --query Result --output text)"
refused "test-event-pattern: an event without its envelope" "Parameter Event is not valid" \
	aws events test-event-pattern --event-pattern "$pattern" --event '{"detail": {}}'
stop

# --- signatures are checked with INITIAL_NO_AUTH_ACTION_COUNT ------------------
sim_start INITIAL_NO_AUTH_ACTION_COUNT=3
run "create user" aws iam create-user --user-name deployer
run "allow sagemaker" aws iam put-user-policy --user-name deployer --policy-name sm \
	--policy-document '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"}]}'
aws iam create-access-key --user-name deployer \
	--query 'AccessKey.[AccessKeyId, SecretAccessKey]' --output text >"$tmp/key"
read -r key secret <"$tmp/key"
AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret \
	run "right secret is accepted" aws sagemaker list-endpoints
AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY="x$secret" \
	refused "wrong secret is refused, in SageMaker's JSON error shape" \
	"(SignatureDoesNotMatch) when calling the ListEndpoints operation" \
	aws sagemaker list-endpoints
AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret \
	refused "policy is enforced" "(AccessDenied)" \
	aws application-autoscaling describe-scalable-targets --service-namespace sagemaker
stop

finish
