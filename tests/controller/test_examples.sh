#!/bin/sh
# examples/multi-env and examples/ci: both environments validate; both CI
# files are YAML and run validate and a markdown plan; the staging and
# prod controllers, deployed from one repository into one account, leave
# each other's resources alone; and a promotion (a version bumped in
# staging/, then copied to prod/) shows in each plan only where it
# belongs. Usage: test_examples.sh SAGESYNC SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
isolate_aws
export SAGESYNC_POLL_MS=100
git_identity
example=$src/examples/multi-env

# --- (a) both environments validate -----------------------------------------
for env in staging prod; do
	"$bin" validate "$example/$env" >"$tmp/out" 2>&1
	equals "validate $env" 0 "$?"
	contains "$env: the five manifests" "valid: 5 manifests in 4 files"
done

# --- (b) the CI files -------------------------------------------------------
for ci in github-actions.yml gitlab-ci.yml; do
	f=$src/examples/ci/$ci
	python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$f" \
		>"$tmp/out" 2>&1 && ok || bad "$ci is not valid YAML"
	cp "$f" "$tmp/out"
	contains "$ci plans" "sagesync plan"
	contains "$ci plans for a comment" "--output markdown"
	contains "$ci plans the pull request" "--base"
	contains "$ci validates staging" "sagesync validate staging"
	contains "$ci validates prod" "sagesync validate prod"
	# the plan reads the clone, as (d) below checks
	contains "$ci points the config at the clone" 's|^  url: .*|'
	contains "$ci treats only 1 as a plan error" '"$status" -eq 1'
done
contains "gitlab-ci.yml fetches the whole history" 'GIT_DEPTH: "0"'
cp "$src/examples/ci/github-actions.yml" "$tmp/out"
contains "github-actions.yml fetches the whole history" "fetch-depth: 0"

# --- (c) both controllers, one account --------------------------------------
sim_start SIM_STATE_SECONDS=0
# what a training pipeline would have done: register churn v1..v8
aws sagemaker create-model-package-group --model-package-group-name churn >/dev/null
for v in 1 2 3 4 5 6 7 8; do
	aws sagemaker create-model-package --model-package-group-name churn \
		--inference-specification '{"Containers": [{"Image": "xgboost:1"}], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]}' >/dev/null
done

# the controller configurations load as they are: every field exists
# (doctor's further checks go to the local AWS, and may fail)
for env in staging prod; do
	"$bin" doctor --config "$example/controllers/$env.yaml" >"$tmp/out" 2>&1
	contains "controllers/$env.yaml loads" "ok    config"
done

# the desired-state repository: examples/multi-env as it would be pushed
git init -q --bare -b main "$tmp/remote.git"
repo=$tmp/repo
git clone -q "$tmp/remote.git" "$repo" 2>/dev/null
cp -r "$example/." "$repo/"
publish "multi-env: staging and prod"

# each controller's config, for this test: the bare remote, the local
# AWS, a state directory here; no Git token, lease or notifications
for env in staging prod; do
	python3 - "$example/controllers/$env.yaml" "$tmp/$env.yaml" \
		"file://$tmp/remote.git" "$AWS_ENDPOINT_URL" "$tmp/state-$env" <<'PY'
import sys, yaml
src, dst, url, endpoint, state = sys.argv[1:6]
c = yaml.safe_load(open(src))
c["source"]["url"] = url
c["source"].pop("auth", None)
c["aws"]["endpointUrl"] = endpoint
c["stateDir"] = state
for field in ("leaderElection", "notify", "server"):
    c.pop(field, None)
yaml.safe_dump(c, open(dst, "w"), default_flow_style=False)
PY
	mkdir "$tmp/state-$env"
done

# sagesync ENV COMMAND...: run with ENV's config, output in $tmp/out,
# exit status in $rc
sagesync() {
	_env=$1
	shift
	"$bin" "$@" --config "$tmp/$_env.yaml" >"$tmp/out" 2>&1
	rc=$?
}
status_of() {
	aws sagemaker describe-endpoint --endpoint-name "$1" \
		--query EndpointStatus --output text 2>&1
}
config_of() {
	aws sagemaker describe-endpoint --endpoint-name "$1" \
		--query EndpointConfigName --output text 2>&1
}
threshold_of() {
	aws cloudwatch describe-alarms --alarm-names "$1" \
		--query 'MetricAlarms[0].Threshold' --output text
}
managed_by() {
	arn=$(aws sagemaker describe-endpoint --endpoint-name "$1" \
		--query EndpointArn --output text)
	aws sagemaker list-tags --resource-arn "$arn" \
		--query "Tags[?Key=='sagesync:managed-by'].Value | [0]" --output text
}

sagesync staging apply --once
equals "apply staging" 0 "$rc"
sagesync prod apply --once
equals "apply prod" 0 "$rc"
contains "prod's apply leaves staging alone: nothing to delete" "0 to delete"
aws sagemaker list-endpoints \
	--query 'sort_by(Endpoints, &EndpointName)[].[EndpointName, EndpointStatus]' \
	--output text | tr '\t\n' ' ,' >"$tmp/endpoints"
equals "both endpoints in service" "churn-prod InService,churn-staging InService," \
	"$(cat "$tmp/endpoints")"
equals "staging's endpoint is staging's" staging "$(managed_by churn-staging)"
equals "prod's endpoint is prod's" prod "$(managed_by churn-prod)"
equals "staging's 5xx threshold" 20.0 "$(threshold_of churn-staging-5xx)"
equals "prod's 5xx threshold" 5.0 "$(threshold_of churn-prod-5xx)"
equals "autoscaling in prod only" "endpoint/churn-prod/variant/current" \
	"$(aws application-autoscaling describe-scalable-targets \
		--service-namespace sagemaker \
		--query 'ScalableTargets[].ResourceId' --output text)"

# neither controller wants to prune or change the other's resources
sagesync staging plan
equals "staging: no changes after prod's apply" 0 "$rc"
sagesync prod plan
equals "prod: no changes after staging's apply" 0 "$rc"

# each controller's records under its own notes ref, pushed
for env in staging prod; do
	git -C "$tmp/remote.git" notes --ref="sagesync-$env" show main \
		>"$tmp/out" 2>&1
	contains "$env's record, in its own ref" "controller: $env@"
done

# --- (d) the promotion ------------------------------------------------------
# the first pull request, merged: version 8 in staging
before_staging=$(git -C "$repo" rev-parse HEAD)
sed -i 's/^  version: 7$/  version: 8/' "$repo/staging/model-registry.yaml"
publish "staging: churn v8"
staging_config=$(config_of churn-staging)
prod_config=$(config_of churn-prod)
sagesync prod plan --base "$before_staging" --head main
equals "the staging pull request changes nothing in prod" 0 "$rc"
sagesync staging apply --once
equals "apply v8 to staging" 0 "$rc"
[ "$(config_of churn-staging)" != "$staging_config" ] &&
	ok || bad "staging's endpoint did not move to v8"
equals "staging serves again" InService "$(status_of churn-staging)"
sagesync prod plan
equals "prod unaffected by staging's v8" 0 "$rc"
equals "prod's endpoint untouched" "$prod_config" "$(config_of churn-prod)"

# the second pull request: the same version, copied to prod/
before=$(git -C "$repo" rev-parse HEAD)
git -C "$repo" checkout -q -b promote-churn-v8
cp "$repo/staging/model-registry.yaml" "$repo/prod/model-registry.yaml"
git -C "$repo" add -A
git -C "$repo" commit -q -m "prod: churn v8"
git -C "$repo" push -q origin promote-churn-v8
after=$(git -C "$repo" rev-parse HEAD)
equals "the promotion's diff is the version" \
	"-  version: 7 +  version: 8 " \
	"$(git -C "$repo" diff -U0 "$before" "$after" | grep '^[-+] ' | tr '\n' ' ')"
sagesync prod plan --base "$before" --head "$after" --output markdown
equals "prod's plan of the promotion" 2 "$rc"
contains "the plan names prod and the revisions" \
	"### sagesync plan: \`prod\`, \`$(printf '%.7s' "$before")\` → \`$(printf '%.7s' "$after")\`"
contains "a new model for prod" "Model | \`churn-prod"
contains "the endpoint moves to it" "Endpoint | \`churn-prod\`"
grep -q 'churn-staging' "$tmp/out" && bad "prod's plan names staging" || ok
sagesync staging plan --base "$before" --head "$after"
equals "the promotion changes nothing in staging" 0 "$rc"

# the same plan as the CI files make it: the controller's config as it
# is, pointed at the clone (source.url) and a scratch stateDir; the AWS
# endpoint comes from the environment (AWS_ENDPOINT_URL)
mkdir "$tmp/ci-state"
sed -e "s|^  url: .*|  url: $repo|" -e "s|^stateDir: .*|stateDir: $tmp/ci-state|" \
	"$example/controllers/prod.yaml" >"$tmp/ci-prod.yaml"
git -C "$repo" checkout -q promote-churn-v8
(cd "$repo" && "$bin" plan --config "$tmp/ci-prod.yaml" --base "$before" \
	--head HEAD --output markdown >"$tmp/plan.md" 2>"$tmp/plan.err")
equals "the CI plan of the promotion" 2 "$?"
cp "$tmp/plan.md" "$tmp/out"
contains "the CI plan is markdown, on standard output" \
	"### sagesync plan: \`prod\`, \`$(printf '%.7s' "$before")\` → \`$(printf '%.7s' "$after")\`"
contains "the CI plan has the endpoint's update" "Endpoint | \`churn-prod\`"
grep -q 'aws calls' "$tmp/plan.md" && bad "the comment holds the log" || ok

# merged: prod deploys v8, staging stays as it is
git -C "$repo" checkout -q main
git -C "$repo" merge -q --ff-only promote-churn-v8
git -C "$repo" push -q origin main
staging_config=$(config_of churn-staging)
sagesync prod apply --once
equals "apply v8 to prod" 0 "$rc"
[ "$(config_of churn-prod)" != "$prod_config" ] &&
	ok || bad "prod's endpoint did not move to v8"
equals "prod serves again" InService "$(status_of churn-prod)"
sagesync staging plan
equals "staging: no changes after the promotion" 0 "$rc"
equals "staging's endpoint untouched" "$staging_config" "$(config_of churn-staging)"
sagesync prod plan
equals "prod: no changes after its apply" 0 "$rc"
equals "both serve the same version" \
	"$(aws sagemaker describe-model --model-name "$(aws sagemaker list-models \
		--name-contains churn-staging --query 'Models[0].ModelName' --output text)" \
		--query 'PrimaryContainer.ModelPackageName' --output text)" \
	"$(aws sagemaker describe-model --model-name "$(aws sagemaker list-models \
		--name-contains churn-prod --query 'Models[0].ModelName' --output text)" \
		--query 'PrimaryContainer.ModelPackageName' --output text)"

sim_stop
finish
