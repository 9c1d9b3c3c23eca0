#!/bin/sh
# Automatic rollback to the last good revision (the daemon): commit A
# deploys and becomes last good; commit B points the challenger at a
# missing artifact, SageMaker rolls the update back, the daemon sees it,
# restores A and never retries B; commit C (a fix) deploys; commit D
# deploys but its health alarm goes ALARM during the bake, so C's state
# is restored. Usage: test_rollback.sh SAGESYNC SOURCE_DIR
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
unset SAGESYNC_BAKE_SECONDS # this test bakes for real (4 s)
git_identity
sim_start SIM_STATE_SECONDS=0
quickstart_prerequisites

quickstart_remote
sed -i 's/bakeSeconds: 300/bakeSeconds: 4/' "$repo/endpoint.yaml"
publish "A: quickstart"
a=$(git -C "$repo" rev-parse HEAD)

port=$(free_port)
cat >"$tmp/config.yaml" <<EOC
name: rollback-test
stateDir: $tmp/state
source: {url: "file://$tmp/remote.git", branch: main, interval: 1h}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
server: {listen: "127.0.0.1:$port"}
EOC
mkdir "$tmp/state"
"$bin" run --config "$tmp/config.yaml" --log-format text 2>"$tmp/daemon.log" &
daemon=$!
base=http://127.0.0.1:$port

good_is() { [ "$(metric "sagesync_last_good_revision_info{revision=\"$1\"}")" = 1 ]; }

wait_for 60 at_least 1 || { bad "the daemon did not reconcile"; cat "$tmp/daemon.log"; }
equals "A deploys" InService "$(endpoint EndpointStatus)"
config_a=$(endpoint EndpointConfigName)
good_is "$a" && ok || bad "A is not the last good revision"

# B: the challenger's artifact does not exist
sed -i 's|churn/challenger/model.tar.gz|churn/challenger/missing.tar.gz|' "$repo/models.yaml"
publish "B: a challenger without its artifact"
b=$(git -C "$repo" rev-parse HEAD)
reconcile
equals "B rolled back" 1 "$(metric 'sagesync_reconcile_total{result="rolled-back"}')"
equals "the endpoint is on A's config" "$config_a" "$(endpoint EndpointConfigName)"
equals "and serves" InService "$(endpoint EndpointStatus)"
cp "$tmp/daemon.log" "$tmp/out"
contains "the failure says why" "deploy failed: endpoint 'churn-prod' was rolled back"
contains "A is restored" "restored the last good revision"
good_is "$a" && ok || bad "A is no longer the last good revision"

# B again: not retried, no UpdateEndpoint
sim POST /_sim/reset >/dev/null
reconcile
equals "B is not retried" 0 "$(calls 'UpdateEndpoint$')"
equals "the skip is counted" 1 "$(metric 'sagesync_source_refused_total{reason="failed-before"}')"
cp "$tmp/daemon.log" "$tmp/out"
contains "the skip says why" "not retried: its deploy failed"

# another controller's record on A, pushed meanwhile: merged, not lost
git -C "$repo" fetch -q origin 'refs/notes/*:refs/notes/*'
git -C "$repo" notes --ref=sagesync append -m "sagesync: succeeded
revision: $a
controller: other@elsewhere" "$a"
git -C "$repo" push -q origin refs/notes/sagesync

# C: the fix, and a new threshold
sed -i 's|churn/challenger/missing.tar.gz|churn/challenger/model.tar.gz|' "$repo/models.yaml"
sed -i 's/threshold: 5$/threshold: 9/' "$repo/alarms.yaml"
publish "C: the artifact back, threshold 9"
c=$(git -C "$repo" rev-parse HEAD)
reconcile
equals "C deploys" 9.0 "$(threshold)"
good_is "$c" && ok || bad "C is not the last good revision"
config_c=$(endpoint EndpointConfigName)

# D: deploys, but the 5xx alarm fires during the bake
sed -i 's/weight: 1$/weight: 2/' "$repo/endpoint.yaml"
sed -i 's/threshold: 9$/threshold: 10/' "$repo/alarms.yaml"
publish "D: more traffic to the challenger"
d=$(git -C "$repo" rev-parse HEAD)
before=$(cycles)
kill -HUP "$daemon"
moved() { [ "$(endpoint EndpointConfigName)" != "$config_c" ]; }
wait_for 60 moved && ok || bad "D never reached the endpoint"
aws cloudwatch set-alarm-state --alarm-name churn-prod-5xx --state-value ALARM \
	--state-reason "5xx rate 12% (test)"
wait_for 120 at_least $((before + 1)) || bad "D's reconcile did not end"
equals "D rolled back" 2 "$(metric 'sagesync_reconcile_total{result="rolled-back"}')"
equals "the endpoint is on C's config" "$config_c" "$(endpoint EndpointConfigName)"
equals "C's threshold is back" 9.0 "$(threshold)"
cp "$tmp/daemon.log" "$tmp/out"
contains "the bake failure says why" "health alarm 'churn-prod-5xx' went ALARM during the bake: 5xx rate 12% (test)"
good_is "$c" && ok || bad "C is no longer the last good revision"

# the records are in Git, pushed to the remote: a fresh clone shows them
git clone -q "$tmp/remote.git" "$tmp/clone"
git -C "$tmp/clone" fetch -q origin 'refs/notes/*:refs/notes/*'
note() { git -C "$tmp/clone" notes --ref=sagesync show "$1" 2>&1; }
note "$a" >"$tmp/out"
contains "A's record" "sagesync: succeeded"
contains "the other controller's record is kept" "controller: other@elsewhere"
contains "and ours beside it" "controller: rollback-test@"
note "$b" >"$tmp/out"
contains "B's record" "sagesync: rolled-back"
contains "B's record names the last good" "last-good: $a"
contains "B's record says why" "reason: endpoint 'churn-prod' was rolled back: Failed to download model data"
contains "B's record lists the changes" "change: update Endpoint/churn-prod: EndpointConfigName:"
note "$c" >"$tmp/out"
contains "C's record" "sagesync: succeeded"
note "$d" >"$tmp/out"
contains "D's record" "sagesync: rolled-back"
contains "D's record says why" "health alarm 'churn-prod-5xx' went ALARM during the bake"
git -C "$tmp/clone" log --notes=sagesync --format='%h %s%n%N' >"$tmp/out"
contains "git log --notes=sagesync shows them" "controller: rollback-test@"

kill -TERM "$daemon"
wait "$daemon"
equals "SIGTERM exits 0" 0 "$?"
daemon=""

# sagesync history agrees with the notes
"$bin" history --config "$tmp/config.yaml" >"$tmp/out" 2>&1
equals "history works" 0 "$?"
contains "history: D rolled back" "D: more traffic to the challenge  rolled-back   endpoint 'churn-prod': health alarm"
contains "history: C succeeded" "C: the artifact back, threshold   succeeded"
"$bin" history --config "$tmp/config.yaml" --output json >"$tmp/all.json"
"$bin" history --config "$tmp/config.yaml" --endpoint churn-prod --output json >"$tmp/ep.json"
python3 - "$tmp/all.json" "$tmp/ep.json" "$a" "$b" "$c" "$d" >"$tmp/out" <<'PY'
import json, sys
everything, endpoint = (json.load(open(f)) for f in sys.argv[1:3])
a, b, c, d = sys.argv[3:7]
mine = [(r["revision"], r["result"]) for r in everything
        if r["controller"].startswith("rollback-test@")]
# newest first: D, C, B, A
assert mine == [(d, "rolled-back"), (c, "succeeded"), (b, "rolled-back"),
                (a, "succeeded")], mine
assert all(r["author"] == "test" for r in everything if r["revision"] in (a, b, c, d))
# C changed only an alarm, the other controller's record names nothing
assert [r["revision"] for r in endpoint] == [d, b, a], endpoint
print("history ok")
PY
contains "history --output json and --endpoint" "history ok"
# another environment's controller, on the same notes ref, deployed D
# well later: D is its good revision, not this controller's
git -C "$tmp/clone" notes --ref=sagesync append -m "sagesync: succeeded
revision: $d
finished: 2999-01-01T00:00:00.000Z
controller: staging@elsewhere" "$d"
git -C "$tmp/clone" push -q origin refs/notes/sagesync
"$bin" status --config "$tmp/config.yaml" >"$tmp/out" 2>&1
contains "status shows the last good revision" "last good revision: $c"

# a rollback by hand to A, recorded like an automatic one
"$bin" rollback --config "$tmp/config.yaml" --to "$a" --reason "latency regression" >"$tmp/out" 2>&1
equals "rollback exits 0" 0 "$?"
equals "the endpoint is on A's config again" "$config_a" "$(endpoint EndpointConfigName)"
equals "A's threshold" 5.0 "$(threshold)"
note "$c" >"$tmp/out"
git -C "$tmp/clone" fetch -q origin '+refs/notes/*:refs/notes/*'
note "$c" >"$tmp/out"
contains "C is recorded rolled back by hand" "reason: rolled back by hand to ${a%"${a#???????}"}: latency regression"

# a new controller with an empty state directory knows it all from Git:
# A is the last good revision, D is not retried
rm -rf "$tmp/state"
mkdir "$tmp/state"
sim POST /_sim/reset >/dev/null
"$bin" run --config "$tmp/config.yaml" --log-format text 2>"$tmp/daemon2.log" &
daemon=$!
wait_for 60 at_least 1 || bad "the new daemon did not reconcile"
equals "the new controller keeps A" "$config_a" "$(endpoint EndpointConfigName)"
equals "and issues no UpdateEndpoint" 0 "$(calls 'UpdateEndpoint$')"
cp "$tmp/daemon2.log" "$tmp/out"
contains "it says why" "not retried: its deploy failed"
kill -TERM "$daemon"
wait "$daemon"
daemon=""

# reconcile.rollback: revert-commit: a failed E is reverted on the branch
echo "reconcile: {rollback: revert-commit}" >>"$tmp/config.yaml"
sed -i 's|churn/challenger/model.tar.gz|churn/challenger/missing.tar.gz|' "$repo/models.yaml"
publish "E: the broken challenger again"
e=$(git -C "$repo" rev-parse HEAD)
"$bin" run --config "$tmp/config.yaml" --log-format text 2>"$tmp/daemon3.log" &
daemon=$!
rolled() { [ "$(metric 'sagesync_reconcile_total{result="rolled-back"}')" -ge 1 ]; }
wait_for 60 rolled || { bad "E was not rolled back"; cat "$tmp/daemon3.log"; }
equals "the branch moved on to the revert" "$e" \
	"$(git -C "$tmp/remote.git" rev-parse main^)"
equals "the revert's tree is the last good one" \
	"$(git -C "$tmp/remote.git" rev-parse "$a^{tree}")" \
	"$(git -C "$tmp/remote.git" rev-parse 'main^{tree}')"
git -C "$tmp/remote.git" log -1 --format=%B main >"$tmp/out"
contains "the revert names the failed commit" "Revert to ${a%"${a#???????}"}: the deploy of ${e%"${e#???????}"} failed"
contains "the revert names the resource" "Resource: Endpoint/churn-prod"
contains "the revert says why" "Reason: endpoint 'churn-prod' was rolled back"
revert=$(git -C "$tmp/remote.git" rev-parse main)
reconcile
good_is "$revert" && ok || bad "the revert commit is not the last good revision"
equals "and AWS stays on A's config" "$config_a" "$(endpoint EndpointConfigName)"

# without selfHeal, drift is reported at every reconcile, but nothing is
# changed, so nothing is recorded or notified again and again
kill -TERM "$daemon"
wait "$daemon"
sed -i 's/reconcile: {rollback: revert-commit}/reconcile: {rollback: revert-commit, selfHeal: false}/' \
	"$tmp/config.yaml"
"$bin" run --config "$tmp/config.yaml" --log-format text 2>"$tmp/daemon4.log" &
daemon=$!
wait_for 60 at_least 1 || bad "the daemon without selfHeal did not reconcile"
aws cloudwatch put-metric-alarm --alarm-name churn-prod-5xx --namespace AWS/SageMaker \
	--metric-name Invocation5XXErrors --statistic Sum --period 60 \
	--evaluation-periods 3 --threshold 99 \
	--comparison-operator GreaterThanOrEqualToThreshold --treat-missing-data notBreaching \
	--dimensions Name=EndpointName,Value=churn-prod Name=VariantName,Value=current
reconcile
reconcile
equals "the drift is left alone" 99.0 "$(threshold)"
cp "$tmp/daemon4.log" "$tmp/out"
contains "and reported" "Threshold: 99.0 -> 5.0 [Alarm/churn-prod-5xx]"
equals "but not recorded" 0 "$(git -C "$tmp/remote.git" notes --ref=sagesync show "$revert" |
	grep -c 'sagesync: drift-healed')"
kill -TERM "$daemon"
wait "$daemon"
daemon=""

# with source.path, a revert puts back that directory only: a commit that
# breaks prod/ and also changes staging/ is reverted in prod/ alone
git init -q --bare -b main "$tmp/envs.git"
git clone -q "$tmp/envs.git" "$tmp/envs" 2>/dev/null
mkdir "$tmp/envs/prod" "$tmp/envs/staging"
cp "$src"/examples/quickstart/*.yaml "$tmp/envs/prod/"
echo "staging v1" >"$tmp/envs/staging/README"
git -C "$tmp/envs" add -A && git -C "$tmp/envs" commit -q -m "F: prod and staging" &&
	git -C "$tmp/envs" push -q origin main
f=$(git -C "$tmp/envs" rev-parse HEAD)
sed -e "s|remote.git|envs.git|" -e "s|$tmp/state|$tmp/state-envs|" \
	-e 's|branch: main,|branch: main, path: prod,|' "$tmp/config.yaml" >"$tmp/envs.yaml"
mkdir "$tmp/state-envs"
sed -i 's|churn/challenger/model.tar.gz|churn/challenger/missing.tar.gz|' "$tmp/envs/prod/models.yaml"
echo "staging v2" >"$tmp/envs/staging/README"
git -C "$tmp/envs" commit -q -am "G: prod broken, staging moved on" &&
	git -C "$tmp/envs" push -q origin main
g=$(git -C "$tmp/envs" rev-parse HEAD)
"$bin" apply --once --config "$tmp/envs.yaml" --revision "$f" >"$tmp/out" 2>&1 ||
	bad "F did not apply"
"$bin" run --config "$tmp/envs.yaml" --log-format text 2>"$tmp/daemon5.log" &
daemon=$!
reverted() { [ "$(git -C "$tmp/envs.git" rev-parse main)" != "$g" ]; }
wait_for 60 reverted || { bad "G was not reverted"; cat "$tmp/daemon5.log"; }
equals "prod/ is back as F had it" "$(git -C "$tmp/envs.git" rev-parse "$f:prod")" \
	"$(git -C "$tmp/envs.git" rev-parse main:prod)"
equals "staging/ keeps G's change" "staging v2" "$(git -C "$tmp/envs.git" show main:staging/README)"
kill -TERM "$daemon"
wait "$daemon"

# rollback: last-good keeps a failed change in the branch: a newer commit
# that changes only staging/ has prod/ as the failed one had it, and is
# not deployed again
sed -i 's/rollback: revert-commit/rollback: last-good/' "$tmp/envs.yaml"
git -C "$tmp/envs" pull -q --ff-only origin main
sed -i 's|churn/challenger/model.tar.gz|churn/challenger/missing.tar.gz|' "$tmp/envs/prod/models.yaml"
git -C "$tmp/envs" commit -q -am "H: prod broken again" && git -C "$tmp/envs" push -q origin main
h=$(git -C "$tmp/envs" rev-parse HEAD)
"$bin" run --config "$tmp/envs.yaml" --log-format text 2>"$tmp/daemon6.log" &
daemon=$!
rolled() { [ "$(metric 'sagesync_reconcile_total{result="rolled-back"}')" -ge 1 ]; }
wait_for 60 rolled || { bad "H was not rolled back"; cat "$tmp/daemon6.log"; }
echo "staging v3" >"$tmp/envs/staging/README"
git -C "$tmp/envs" commit -q -am "I: staging only" && git -C "$tmp/envs" push -q origin main
sim POST /_sim/reset >/dev/null
reconcile
equals "I is not deployed: prod/ is H's" 0 "$(calls 'UpdateEndpoint$')"
cp "$tmp/daemon6.log" "$tmp/out"
contains "and the log says why" "its content is that of ${h%"${h#???????}"}"
kill -TERM "$daemon"
wait "$daemon"
daemon=""
finish
