#!/bin/sh
# make demo: the product's story in about two minutes, narrated, against
# the local AWS (tests/aws/start-aws) and a Git remote made here:
#   (a) the controller (`sagesync run`) deploys the quickstart;
#   (b) a model version is promoted by a pull request: CI's validate and
#       plan first, as a reviewer sees them, then the merge deploys it;
#   (c) a broken change is merged: the deploy fails, the controller puts
#       the last good revision back, pushes a revert commit and notifies;
#   (d) the story, from `sagesync history` and from plain Git.
# Exits non-zero if any step does not happen as narrated, and stops
# everything it started, also on Ctrl-C. SIM_STATE_SECONDS (default 2)
# is how long SageMaker's transitions last; SAGESYNC_BAKE_SECONDS
# (default 3) caps the bake after each deploy; DEMO_PAUSE (default 2)
# is the pause before each step on a terminal.
# Usage: demo.sh SAGESYNC_BINARY
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
. "$src/tests/git_servers.sh"
daemon="" receiver=""
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	[ -n "$receiver" ] && kill "$receiver" 2>/dev/null && wait "$receiver" 2>/dev/null
	sim_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# a pause before each step for a reader at a terminal (DEMO_PAUSE seconds)
pause=${DEMO_PAUSE:-2}
[ -t 1 ] || pause=0
say() {
	sleep "$pause"
	printf '\n\033[1m== %s\033[0m\n' "$*"
}
run() { printf '\033[2m$ %s\033[0m\n' "$*"; }
die() {
	printf '\ndemo: FAILED: %s\n' "$*" >&2
	[ -s "$tmp/daemon.log" ] && tail -n 20 "$tmp/daemon.log" >&2
	exit 1
}
# the controller's log lines written since the last call, indented
seen=0
daemon_says() {
	total=$(wc -l <"$tmp/daemon.log")
	sed -n "$((seen + 1)),${total}p" "$tmp/daemon.log" |
		sed -e 's/^sagesync: /  controller | /'
	seen=$total
}

export SAGESYNC_BAKE_SECONDS="${SAGESYNC_BAKE_SECONDS:-3}" SAGESYNC_POLL_MS=300
isolate_aws
git_identity
cd "$tmp" || die "cannot enter $tmp"

say "1. A local AWS, and what a training pipeline left in it"
echo "tests/aws/start-aws runs moto on 127.0.0.1 with SageMaker's endpoint"
echo "lifecycle added (Creating, Updating, rollbacks). The model registry"
echo "holds churn versions 1 to 8; the challenger's artifact is in S3."
sim_start SIM_STATE_SECONDS="${SIM_STATE_SECONDS:-2}"
echo "local AWS at $AWS_ENDPOINT_URL"
aws sagemaker create-model-package-group --model-package-group-name churn >/dev/null ||
	die "cannot register the model package group"
for v in 1 2 3 4 5 6 7 8; do
	aws sagemaker create-model-package --model-package-group-name churn \
		--inference-specification '{"Containers": [{"Image": "xgboost:1"}], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]}' >/dev/null ||
		die "cannot register churn v$v"
done
echo artifact >model.tar.gz
aws s3api create-bucket --bucket acme-ml-artifacts >/dev/null &&
	aws s3api put-object --bucket acme-ml-artifacts \
		--key churn/challenger/model.tar.gz --body model.tar.gz >/dev/null ||
	die "cannot upload the artifact"

say "2. The deployment repository"
echo "A Git remote (ml-deploy.git) holding examples/quickstart: churn v7"
echo "approved and served by churn-prod beside a challenger, and two alarms."
git init -q --bare -b main ml-deploy.git
git clone -q ml-deploy.git alice 2>/dev/null || die "cannot clone"
cp "$src"/examples/quickstart/*.yaml alice/
git -C alice add -A && git -C alice commit -q -m "churn v7 in production" &&
	git -C alice push -q origin main || die "cannot push the quickstart"
run "git log --oneline" && git -C alice log --oneline

say "3. The controller: sagesync run"
python3 "$src/tests/receivers/recorder.py" "$tmp/received" >receiver.port &
receiver=$!
wait_for 10 test -s receiver.port || die "the notification receiver did not start"
printf 'http://127.0.0.1:%s/slack/T000/B000/demo\n' "$(cat receiver.port)" >slack-url
printf 'demo-webhook-secret\n' >webhook-secret
port=$(free_port)
base=http://127.0.0.1:$port
cat >config.yaml <<EOC
name: demo
stateDir: $tmp/state
source: {url: "file://$tmp/ml-deploy.git", branch: main, interval: 1h}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
reconcile: {rollback: revert-commit}
server: {listen: "127.0.0.1:$port", githubSecretFile: $tmp/webhook-secret}
notify:
  - {type: slack, urlFile: $tmp/slack-url}
EOC
mkdir state
echo "It follows main, reconciles at once on a signed push webhook (and"
echo "hourly anyway), pushes a revert commit when a deploy fails, and tells"
echo "a Slack channel (here a local receiver). config.yaml:"
sed 's/^/  /' config.yaml
"$bin" run --config config.yaml --log-format text 2>daemon.log &
daemon=$!

# last_good REV: the controller marked REV good (deployed and baked)
last_good() { [ "$(metric "sagesync_last_good_revision_info{revision=\"$1\"}")" = 1 ]; }
# push_webhook: what GitHub sends after a push, signed with the secret
push_webhook() {
	body=$(printf '{"ref": "refs/heads/main", "after": "%s"}' "$(git -C alice rev-parse HEAD)")
	sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac demo-webhook-secret | sed 's/^.* //')
	run "curl -d @push.json -H 'X-GitHub-Event: push' -H 'X-Hub-Signature-256: sha256=…' $base/hooks/github"
	curl -sS -o /dev/null -w '  webhook answered %{http_code}\n' -d "$body" \
		-H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
		-H "X-Hub-Signature-256: sha256=$sig" "$base/hooks/github" ||
		die "the webhook was not delivered"
}

say "(a) The first deploy"
a=$(git -C alice rev-parse HEAD)
wait_for 120 last_good "$a" || die "the quickstart did not deploy"
daemon_says
run "aws sagemaker describe-endpoint --endpoint-name churn-prod"
aws sagemaker describe-endpoint --endpoint-name churn-prod \
	--query '{status: EndpointStatus, config: EndpointConfigName}' --output text
[ "$(endpoint EndpointStatus)" = InService ] || die "churn-prod is not InService"

say "(b) Promote churn v8 by a pull request"
echo "Alice registers nothing by hand: she edits three lines on a branch."
git -C alice switch -q -c promote-v8
sed -i -e 's/churn-v7/churn-v8/' -e 's/version: 7/version: 8/' \
	-e 's/October data/November data/' alice/model-registry.yaml
sed -i 's/churn-v7/churn-v8/g' alice/models.yaml alice/endpoint.yaml
git -C alice commit -q -am "promote churn v8" || die "cannot commit"
run "git diff main" && git -C alice diff main | grep '^[-+][^-+]'
echo
echo "CI on the pull request: validate, then the plan against live AWS"
echo "(read-only credentials; examples/ci has the workflows):"
cat >ci.yaml <<EOC
name: demo
stateDir: $tmp/ci-state
source: {url: "$tmp/alice", branch: main}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
EOC
mkdir ci-state
run "sagesync validate ." && (cd alice && "$bin" validate .) || die "v8 should be valid"
run "sagesync plan --config ci.yaml --base main --head promote-v8"
"$bin" plan --config ci.yaml --base main --head promote-v8 2>/dev/null
[ $? -eq 2 ] || die "the plan should show the promotion (exit 2)"
echo
echo "The same with --output markdown is the comment the reviewer reads:"
"$bin" plan --config ci.yaml --base main --head promote-v8 --output markdown 2>/dev/null |
	head -n 9 | sed 's/^/  | /'
echo
echo "The reviewer approves; the pull request is merged and pushed, and"
echo "the Git host sends its push webhook:"
git -C alice switch -q main &&
	git -C alice merge -q --no-ff -m "Merge pull request #1: promote churn v8" promote-v8 &&
	git -C alice push -q origin main || die "cannot merge"
b=$(git -C alice rev-parse HEAD)
push_webhook
wait_for 120 last_good "$b" || die "the promotion did not deploy"
daemon_says
config_b=$(endpoint EndpointConfigName)
model=$(aws sagemaker describe-endpoint-config --endpoint-config-name "$config_b" \
	--query "ProductionVariants[?VariantName=='current'].ModelName | [0]" --output text)
run "aws sagemaker describe-endpoint-config … current variant's model"
echo "  $model"
case $model in churn-v8-*) ;; *) die "churn-prod does not serve churn v8" ;; esac

say "(c) A broken change: the challenger's new artifact was never uploaded"
git -C alice switch -q -c challenger-v2
sed -i 's|churn/challenger/model.tar.gz|churn/challenger/v2/model.tar.gz|' alice/models.yaml
git -C alice commit -q -am "challenger: retrained artifact" &&
	git -C alice switch -q main &&
	git -C alice merge -q --no-ff -m "Merge pull request #2: challenger v2" challenger-v2 &&
	git -C alice push -q origin main || die "cannot merge"
c=$(git -C alice rev-parse HEAD)
echo "The plan looked fine (a new model, a new endpoint config), so it was"
echo "merged. SageMaker cannot download the artifact and rolls the endpoint"
echo "back; the controller sees it and acts:"
push_webhook
reverted() { [ "$(git -C ml-deploy.git rev-parse main)" != "$c" ]; }
wait_for 180 reverted || die "no revert commit was pushed"
revert=$(git -C ml-deploy.git rev-parse main)
wait_for 120 last_good "$revert" || die "the revert commit was not deployed"
daemon_says
[ "$(endpoint EndpointConfigName)" = "$config_b" ] ||
	die "churn-prod is not back on the last good config"
[ "$(endpoint EndpointStatus)" = InService ] || die "churn-prod is not InService"
echo "churn-prod is InService on $config_b again, as at ${b%"${b#???????}"}."
echo
run "git pull && git log --oneline -3"
git -C alice pull -q --ff-only origin main && git -C alice log --oneline -3 ||
	die "cannot pull the revert"
[ "$(git -C alice rev-parse 'HEAD^{tree}')" = "$(git -C alice rev-parse "$b^{tree}")" ] ||
	die "the revert's tree is not the last good one"
echo
echo "And the Slack channel heard about each deploy:"
wait_for 30 grep -q "rolled back" received || die "no notification of the rollback"
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    print("  slack |", json.loads(json.loads(line)["body"])["text"].splitlines()[0])
' received

say "(d) The story, from sagesync and from plain Git"
run "sagesync history --config config.yaml"
"$bin" history --config config.yaml 2>/dev/null || die "history failed"
[ "$("$bin" history --config config.yaml --output json 2>/dev/null |
	python3 -c 'import json, sys; print(sorted({r["result"] for r in json.load(sys.stdin)}))')" = \
	"['reverted', 'rolled-back', 'succeeded']" ] || die "history does not show the deploys and the rollback"
echo
echo "The records are Git notes, pushed beside the branch; any clone reads"
echo "them without sagesync:"
run "git fetch origin 'refs/notes/*:refs/notes/*' && git log --notes=sagesync -1 $(printf '%.7s' "$c")"
git -C alice fetch -q origin 'refs/notes/*:refs/notes/*' || die "cannot fetch the records"
git -C alice log --notes=sagesync -1 --format='%h %s%n%N' "$c" | sed '/^$/d'
git -C alice log --notes=sagesync -1 --format=%N "$c" | grep -q "sagesync: rolled-back" ||
	die "the failed commit has no rollback record"

kill -TERM "$daemon" && wait "$daemon" || die "the controller did not stop cleanly"
daemon=""
say "Done: deployed, promoted by a pull request, a broken change rolled back and reverted in Git, every step recorded."
