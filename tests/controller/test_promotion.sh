#!/bin/sh
# Registry-to-Git promotion (the daemon's `promotion`): a new version of
# the model package group, registered with the aws CLI, leads within one
# poll interval to exactly one pushed branch and one pull request (to a
# loopback server) whose diff approves and deploys that version; merging
# it deploys it; a restart without the state proposes nothing again; mode
# commit commits a newer version straight to the branch, which deploys.
# Usage: test_promotion.sh SAGESYNC SOURCE_DIR
set -u
bin=$(realpath "$1")
src=$2
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
. "$src/tests/git_servers.sh"
daemon=""
receiver=""
# stop_daemon: SIGTERM; it must exit 0 (no crash, and no leak under
# the sanitizers)
stop_daemon() {
	if [ -n "$daemon" ]; then
		kill "$daemon" 2>/dev/null
		wait "$daemon" 2>/dev/null
		equals "the daemon stops cleanly" 0 "$?"
	fi
	daemon=""
}
trap '[ -n "$daemon" ] && kill "$daemon"; [ -n "$receiver" ] && kill "$receiver"; sim_stop; rm -rf "$tmp"' EXIT INT TERM
isolate_aws
export SAGESYNC_POLL_MS=100 SAGESYNC_BAKE_SECONDS=0
git_identity
sim_start SIM_STATE_SECONDS=0
quickstart_prerequisites

quickstart_remote
publish "the quickstart"

# the Git host's API: records each request
# (GitLab's first request fails: retried at the next poll)
python3 "$src/tests/receivers/recorder.py" "$tmp/requests" /projects/:1 >"$tmp/receiver.port" &
receiver=$!
wait_for 10 test -s "$tmp/receiver.port" || bad "the receiver did not start"
api=http://127.0.0.1:$(cat "$tmp/receiver.port")
echo "gh-token-123" >"$tmp/token"
touch "$tmp/requests"

port=$(free_port)
base=http://127.0.0.1:$port
config() {
	cat >"$tmp/config.yaml" <<EOC
name: prod
stateDir: $tmp/state
source: {url: "file://$tmp/remote.git", branch: main, interval: 1h}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
server: {listen: "127.0.0.1:$port"}
promotion:
  modelPackageGroups: [churn]
  interval: 5s
$1
EOC
}
config "  pullRequest: {provider: github, repository: acme/ml-deploy, apiUrl: \"$api\", tokenFile: $tmp/token}"
mkdir "$tmp/state"
start_daemon() {
	"$bin" run --config "$tmp/config.yaml" --log-format text 2>>"$tmp/daemon.log" &
	daemon=$!
	wait_for 60 at_least 1 || { bad "the daemon did not reconcile"; cat "$tmp/daemon.log"; }
}
start_daemon
equals "the quickstart deploys" InService "$(endpoint EndpointStatus)"
requests() { wc -l <"$tmp/requests" | tr -d ' '; }
branches() { git -C "$tmp/remote.git" branch --list 'sagesync/*' | wc -l | tr -d ' '; }
equals "version 7 is in Git: no request" 0 "$(requests)"
equals "and no branch" 0 "$(branches)"

# --- a new version: one branch, one pull request ------------------------------
aws sagemaker create-model-package --model-package-group-name churn \
	--model-package-description "churn retrained on November data" \
	--inference-specification '{"Containers": [{"Image": "xgboost:1"}], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]}' >/dev/null
t0=$(date +%s)
one_request() { [ "$(requests)" -ge 1 ]; }
wait_for 20 one_request || { bad "no pull request within 20 s"; tail -20 "$tmp/daemon.log"; }
elapsed=$(($(date +%s) - t0))
[ "$elapsed" -le 12 ] && ok || bad "the request came after ${elapsed}s (interval 5s)"
echo "promotion: request ${elapsed}s after the registration (poll interval 5s)"
equals "one branch" 1 "$(branches)"
git -C "$tmp/remote.git" rev-parse -q --verify refs/heads/sagesync/promote-churn-v8 >/dev/null &&
	ok || bad "no branch sagesync/promote-churn-v8"

python3 - "$tmp/requests" >"$tmp/out" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).readline())
b = json.loads(r["body"])
print("path", r["path"])
print("auth", r["headers"].get("authorization"))
for k in ("title", "head", "base"):
    print(k, b[k])
print(b["body"])
PY
contains "GitHub's pulls API" "path /repos/acme/ml-deploy/pulls"
contains "the token" "auth Bearer gh-token-123"
contains "the branch" "head sagesync/promote-churn-v8"
contains "into main" "base main"
contains "a title" "title Promote churn version 8"
contains "the body is the plan" "### sagesync plan"
contains "the plan approves version 8" "model-package/churn/8"
contains "and deploys its model" '| `+` | Model | `churn-v8-'
contains "the endpoint moves" '| `~` | Endpoint | `churn-prod` |' 
contains "what the request is" "Proposed by sagesync"

# the diff: the version, its approval, and the names that follow
git -C "$repo" fetch -q origin
git -C "$repo" diff main origin/sagesync/promote-churn-v8 >"$tmp/out"
contains "version" "+  version: 8"
contains "the package renamed" "+  name: churn-v8"
contains "the model's package" "+  modelPackage: churn-v8"
contains "the variant's model" "+      model: churn-v8"
equals "only those lines change" 5 "$(grep -c '^+ ' "$tmp/out")"
grep -q "^+#\|^-#" "$tmp/out" && bad "a comment changed" || ok
git -C "$repo" log -1 --format=%B origin/sagesync/promote-churn-v8 >"$tmp/out"
contains "the commit says what" "Promote churn version 8 (from version 7)"
contains "and which package" "model-package/churn/8"
(cd "$repo" && git checkout -q origin/sagesync/promote-churn-v8 && "$bin" validate . >/dev/null) &&
	ok || bad "the proposed change does not validate"
git -C "$repo" checkout -q main

# two more polls: nothing more, one ListModelPackages call each, and no
# reconcile (source.interval is 1h)
seen=$(cycles)
sim POST /_sim/reset >/dev/null
sleep 11
polls=$(calls 'ListModelPackages$')
[ "$polls" -ge 2 ] && [ "$polls" -le 3 ] && ok || bad "$polls registry polls in 11 s (interval 5s)"
equals "only ListModelPackages between reconciles" "$polls" "$(calls '.')"
equals "no reconcile between polls" "$seen" "$(cycles)"
equals "still one request" 1 "$(requests)"
equals "still one branch" 1 "$(branches)"
equals "counted" 1 "$(metric 'sagesync_promotions_total{group="churn",result="proposed"}')"

# --- the merge deploys it ----------------------------------------------------
git -C "$repo" merge -q --no-ff -m "Merge pull request #1: promote churn v8" origin/sagesync/promote-churn-v8
git -C "$repo" push -q origin main
reconcile
model=$(aws sagemaker describe-endpoint-config --endpoint-config-name "$(endpoint EndpointConfigName)" \
	--query 'ProductionVariants[0].ModelName' --output text)
case $model in churn-v8-*) ok ;; *) bad "the endpoint serves $model, not churn v8" ;; esac
equals "version 8 approved" Approved "$(aws sagemaker describe-model-package \
	--model-package-name arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/8 \
	--query ModelApprovalStatus --output text)"

# --- a restart without the state: the branch says it was proposed -------------
stop_daemon
git -C "$tmp/remote.git" branch -q -D sagesync/promote-churn-v8 2>/dev/null
rm -f "$tmp/state/promotions.json"
start_daemon
sleep 6
equals "v8 is in Git now: no second request" 1 "$(requests)"
stop_daemon

# --- GitLab, whose API fails once: the request alone is retried ----------------
config "  pullRequest: {provider: gitlab, repository: acme/ml-deploy, apiUrl: \"$api\", tokenFile: $tmp/token}"
aws sagemaker create-model-package --model-package-group-name churn \
	--inference-specification '{"Containers": [{"Image": "xgboost:1"}], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]}' >/dev/null
start_daemon
three_requests() { [ "$(requests)" -ge 3 ]; }
wait_for 30 three_requests || bad "the failed merge request for version 9 was not retried"
sleep 6
equals "one failure, one retry" 3 "$(requests)"
equals "one branch for version 9" 1 "$(git -C "$tmp/remote.git" branch --list 'sagesync/promote-churn-v9' | wc -l | tr -d ' ')"
equals "the failure counted" 1 "$(metric 'sagesync_promotions_total{group="churn",result="failed"}')"
python3 - "$tmp/requests" >"$tmp/out" <<'PY'
import json, sys
for line in open(sys.argv[1]).readlines()[1:]:
    r = json.loads(line)
    b = json.loads(r["body"])
    print("path", r["path"])
    print("token", r["headers"].get("private-token"))
    print("branches", b["source_branch"], b["target_branch"])
    print(b["description"])
PY
contains "GitLab's merge requests API" "path /projects/acme%2Fml-deploy/merge_requests"
contains "its token header" "token gh-token-123"
contains "the branches" "branches sagesync/promote-churn-v9 main"
contains "the plan as description" "### sagesync plan"
cp "$tmp/daemon.log" "$tmp/out"
contains "the failure is logged" "is pushed but the request is not opened: GitLab create merge request: HTTP 500"
stop_daemon
# the branch of v9 remains (the request is not merged): a restart without
# the state proposes nothing again
rm -f "$tmp/state/promotions.json"
start_daemon
sleep 6
equals "the branch of v9 exists: no second request" 3 "$(requests)"
equals "said so" 1 "$(metric 'sagesync_promotions_total{group="churn",result="exists"}')"
stop_daemon

# --- mode commit: straight to the branch, and deployed ---------------------------
aws sagemaker create-model-package --model-package-group-name churn \
	--inference-specification '{"Containers": [{"Image": "xgboost:1"}], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]}' >/dev/null
config "  mode: commit"
start_daemon
committed() {
	git -C "$tmp/remote.git" log -1 --format=%s main | grep -q "Promote churn version 10"
}
wait_for 20 committed && ok || { bad "version 10 is not committed to main"; tail -20 "$tmp/daemon.log"; }
serves_v10() {
	m=$(aws sagemaker describe-endpoint-config --endpoint-config-name "$(endpoint EndpointConfigName)" \
		--query 'ProductionVariants[0].ModelName' --output text)
	case $m in churn-v10-*) return 0 ;; *) return 1 ;; esac
}
wait_for 30 serves_v10 && ok || bad "the endpoint does not serve version 10"
equals "no request in mode commit" 3 "$(requests)"
cp "$tmp/daemon.log" "$tmp/out"
contains "logged" "promotion of churn version 10 committed to main"
stop_daemon
finish
