#!/bin/sh
# `sagesync doctor` against the local AWS with signatures and IAM checked
# (INITIAL_NO_AUTH_ACTION_COUNT): a user allowed everything passes, a user
# missing permissions gets AccessDenied with the action to allow, a wrong
# secret is named as such, and a bad config is reported with its location.
# Usage: test_doctor.sh SAGESYNC SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
# doctor WANT_EXIT DESCRIPTION TEXT... : run it, check exit and texts
doctor() {
	want=$1 what=$2
	shift 2
	"$bin" doctor --config "$tmp/config.yaml" >"$tmp/out" 2>&1
	got=$?
	[ "$got" -eq "$want" ] && ok || bad "$what: exit $got, expected $want"
	for t in "$@"; do
		grep -qF -- "$t" "$tmp/out" && ok || bad "$what: no '$t'"
	done
}

isolate_aws
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
sim_start INITIAL_NO_AUTH_ACTION_COUNT=6
url=$AWS_ENDPOINT_URL
unset AWS_ENDPOINT_URL

# two users, made with the aws CLI while checks are still off
user() { # user NAME ACTIONS
	AWS_ENDPOINT_URL=$url AWS_ACCESS_KEY_ID=boot AWS_SECRET_ACCESS_KEY=boot \
		aws iam create-user --user-name "$1" >/dev/null &&
		AWS_ENDPOINT_URL=$url AWS_ACCESS_KEY_ID=boot AWS_SECRET_ACCESS_KEY=boot \
			aws iam put-user-policy --user-name "$1" --policy-name p \
			--policy-document "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": $2, \"Resource\": \"*\"}]}" &&
		AWS_ENDPOINT_URL=$url AWS_ACCESS_KEY_ID=boot AWS_SECRET_ACCESS_KEY=boot \
			aws iam create-access-key --user-name "$1" \
			--query 'AccessKey.[AccessKeyId, SecretAccessKey]' --output text
}
user full '["sagemaker:*", "cloudwatch:*", "application-autoscaling:*"]' >"$tmp/full" || exit 1
user narrow '"sagemaker:*"' >"$tmp/narrow" || exit 1
read -r full_id full_secret <"$tmp/full"
read -r narrow_id narrow_secret <"$tmp/narrow"

printf 'name: test\naws:\n  region: us-east-1\n  endpointUrl: %s\n' "$url" >"$tmp/config.yaml"

AWS_ACCESS_KEY_ID=$full_id AWS_SECRET_ACCESS_KEY=$full_secret \
	doctor 0 "all allowed" "ok    identity     account 123456789012, arn:aws:iam::123456789012:user/full" \
	"ok    sagemaker" "ok    cloudwatch" "doctor: all checks passed"
AWS_ACCESS_KEY_ID=$narrow_id AWS_SECRET_ACCESS_KEY=$narrow_secret \
	doctor 1 "sagemaker only" "ok    sagemaker" \
	"FAIL  cloudwatch   cloudwatch DescribeAlarms: AccessDenied" \
	"fix: allow cloudwatch:DescribeAlarms in the IAM policy" \
	"fix: allow application-autoscaling:DescribeScalableTargets"
AWS_ACCESS_KEY_ID=$full_id AWS_SECRET_ACCESS_KEY="x$full_secret" \
	doctor 1 "wrong secret" "FAIL  identity     sts GetCallerIdentity: SignatureDoesNotMatch" \
	"fix: the secret access key does not match the access key ID"
grep -qF "$full_secret" "$tmp/out" && bad "the secret was printed" || ok
doctor 1 "no credentials" "FAIL  credentials  credentials: no AWS credentials"

printf 'name: test\naws:\n  regoin: us-east-1\n' >"$tmp/config.yaml"
doctor 1 "bad config" "config.yaml:3:3: error: aws: unknown field 'regoin'; did you mean 'region'?" \
	"FAIL  config"
"$bin" doctor >"$tmp/out" 2>&1
[ $? -eq 2 ] && ok || bad "doctor without --config should exit 2"

finish
