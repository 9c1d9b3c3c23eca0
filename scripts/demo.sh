#!/bin/sh
# make demo: what sagesync can do so far, narrated. The quickstart desired
# state is validated, a broken change is caught before AWS, then the
# quickstart is deployed to the local AWS (tests/aws/start-aws) from a Git
# repository, and a new model version is promoted by a commit. Later
# issues add the daemon, webhooks, rollback and the history.
# Exits non-zero if any step does not happen as narrated, and stops
# everything it started, also on Ctrl-C.
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
sim_pid=""
cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { printf '\ndemo: FAILED: %s\n' "$*" >&2; exit 1; }

say "1. The desired state: examples/quickstart"
echo "One model version approved in the registry, two models, one endpoint"
echo "with two variants and autoscaling, and the two alarms that guard it."
cd "$here" || die "cannot enter $here"
ls examples/quickstart

say "2. sagesync validate examples/quickstart"
echo "Every manifest is checked before any AWS call: YAML, the schema of"
echo "each kind, AWS's own limits, and the references between manifests."
"$bin" validate examples/quickstart || die "the quickstart should be valid"

say "3. A pull request with mistakes"
echo "Someone points the endpoint at churn-v8 but forgets its Model manifest,"
echo "mistypes an instance type, a field name and an alarm name:"
cp -r examples/quickstart "$tmp/pr"
sed -e '0,/instanceType: ml.m5.large/s//instanceType: ml.m5.larg/' \
	-e 's/model: churn-v7/model: churn-v8/' \
	-e 's/bakeSeconds: 300/bakeSecond: 300/' \
	-e 's/churn-prod-latency\]/churn-prod-latncy]/' \
	examples/quickstart/endpoint.yaml >"$tmp/pr/endpoint.yaml"
diff -u examples/quickstart/endpoint.yaml "$tmp/pr/endpoint.yaml" |
	sed -n '3,$p' | grep '^[-+]'
echo
echo "sagesync validate reports every error at once, with file, line and"
echo "column, and refuses the whole revision (exit status 1):"
(cd "$tmp" && "$bin" validate pr)
rc=$?
[ "$rc" -eq 1 ] || die "validate should exit 1 on the broken change, got $rc"
n=$(cd "$tmp" && "$bin" validate pr 2>&1 | grep -c ': error: ')
[ "$n" -ge 4 ] || die "expected at least 4 errors, saw $n"

say "4. The same, for CI: sagesync validate --output json"
(cd "$tmp" && "$bin" validate --output json pr) | head -n 12
echo "  ..."

say "5. A local AWS to deploy to"
echo "tests/aws/start-aws runs moto on 127.0.0.1 with SageMaker's endpoint"
echo "lifecycle added. A training pipeline has registered churn v1..v7 in the"
echo "model registry and uploaded the challenger's artifact."
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE="$tmp/none" AWS_SHARED_CREDENTIALS_FILE="$tmp/none"
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_REGION AWS_ENDPOINT_URL
SIM_STATE_SECONDS=1 "$here/tests/aws/start-aws" >"$tmp/aws.out" 2>"$tmp/aws.err" &
sim_pid=$!
i=0
until grep -q AWS_ENDPOINT_URL "$tmp/aws.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 150 ] && die "the local AWS did not start: $(cat "$tmp/aws.err")"
	sleep 0.1
done
url=$(sed -n '1s/^AWS_ENDPOINT_URL=//p' "$tmp/aws.out")
echo "local AWS at $url"
export AWS_ENDPOINT_URL="$url"
aws sagemaker create-model-package-group --model-package-group-name churn >/dev/null ||
	die "cannot register the model package group"
for v in 1 2 3 4 5 6 7; do
	aws sagemaker create-model-package --model-package-group-name churn \
		--inference-specification '{"Containers": [{"Image": "xgboost:1"}], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]}' >/dev/null ||
		die "cannot register churn v$v"
done
echo artifact >"$tmp/model.tar.gz"
aws s3api create-bucket --bucket acme-ml-artifacts >/dev/null &&
	aws s3api put-object --bucket acme-ml-artifacts \
		--key churn/challenger/model.tar.gz --body "$tmp/model.tar.gz" >/dev/null ||
	die "cannot upload the artifact"
unset AWS_ENDPOINT_URL

say "6. The desired state in Git, and what applying it would do"
repo=$tmp/ml-deploy
git init -q -b main "$repo" && cp examples/quickstart/*.yaml "$repo/" &&
	git -C "$repo" add -A &&
	git -C "$repo" -c user.name=demo -c user.email=demo@example.com \
		commit -q -m "churn v7 in production" || die "cannot make the repository"
cat >"$tmp/config.yaml" <<EOC
name: demo
stateDir: $tmp/state
source: {url: "file://$repo", branch: main}
aws: {region: us-east-1, endpointUrl: "$url"}
reconcile: {prune: true, selfHeal: true}
EOC
mkdir "$tmp/state"
cat "$tmp/config.yaml"
echo
echo "\$ sagesync plan --config config.yaml"
"$bin" plan --config "$tmp/config.yaml" 2>/dev/null
[ $? -eq 2 ] || die "plan should show changes (exit 2)"

say "7. sagesync apply --once: deploy, and wait until it serves"
echo "Then its health alarms must stay OK for the bake: 300 s in the"
echo "manifest, shortened to 3 s for the demo (SAGESYNC_BAKE_SECONDS)."
SAGESYNC_BAKE_SECONDS=3 SAGESYNC_POLL_MS=500 "$bin" apply --once --config "$tmp/config.yaml" ||
	die "the first deploy should succeed"
echo
echo "\$ sagesync status --config config.yaml"
"$bin" status --config "$tmp/config.yaml" 2>/dev/null || die "status failed"

say "8. Promote a new challenger by a commit"
sed -i 's/sagemaker-xgboost:1.7-1/sagemaker-xgboost:1.7-2/' "$repo/models.yaml"
git -C "$repo" -c user.name=demo -c user.email=demo@example.com \
	commit -q -am "challenger: xgboost 1.7-2" || die "cannot commit"
echo "The plan a reviewer sees: a new model and config (names carry a hash"
echo "of their content), the endpoint moved to them, the old ones deleted:"
"$bin" plan --config "$tmp/config.yaml" 2>/dev/null
[ $? -eq 2 ] || die "plan should show the promotion"
SAGESYNC_BAKE_SECONDS=3 SAGESYNC_POLL_MS=500 "$bin" apply --once --config "$tmp/config.yaml" ||
	die "the promotion should deploy"
echo
echo "Planned again: nothing left to change, nothing to write:"
"$bin" plan --config "$tmp/config.yaml" || die "a second plan should be empty"

say "Done: validated, caught a broken change, deployed, promoted."
