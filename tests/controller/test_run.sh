#!/bin/sh
# sagesync run against the local AWS and a local Git repository: ready
# after the first reconcile, a signed webhook push starts a reconcile
# within a second and applies the new commit, unsigned ones are refused
# and counted, /metrics passes promtool and counts what happened, SIGHUP
# reloads the config (a bad one is kept out), 100 cycles leak nothing
# under a sanitizer, SIGTERM during a reconcile exits 0.
# Usage: test_run.sh SAGESYNC SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
daemon=""
trap '[ -n "$daemon" ] && kill "$daemon" 2>/dev/null; sim_stop; rm -rf "$tmp"' EXIT INT TERM
isolate_aws
export SAGESYNC_POLL_MS=100
git_identity
sim_start SIM_STATE_SECONDS=0
quickstart_prerequisites

repo=$tmp/repo
git init -q -b main "$repo"
cp "$src"/examples/quickstart/*.yaml "$repo/"
git -C "$repo" add -A && git -C "$repo" commit -q -m "quickstart"
printf 'hook-secret\n' >"$tmp/github-secret"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$tmp/config.yaml" <<EOC
name: daemon-test
stateDir: $tmp/state
source: {url: "$repo", branch: main, interval: 1h}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
server: {listen: "127.0.0.1:$port", githubSecretFile: $tmp/github-secret}
EOC
mkdir "$tmp/state"

"$bin" run --config "$tmp/config.yaml" >"$tmp/daemon.out" 2>&1 &
daemon=$!
base=http://127.0.0.1:$port
get() { python3 -c '
import sys, urllib.request
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5)
    print(r.status); print(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print(0)' "$1"; }
# post BODY [SECRET]: a GitHub push, signed with SECRET if given
post() { python3 -c '
import hashlib, hmac, sys, urllib.request
body = sys.argv[2].encode()
headers = {"X-GitHub-Event": "push", "Content-Type": "application/json"}
if len(sys.argv) > 3:
    headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(
        sys.argv[3].encode(), body, hashlib.sha256).hexdigest()
req = urllib.request.Request(sys.argv[1], data=body, headers=headers)
try:
    print(urllib.request.urlopen(req, timeout=5).status)
except urllib.error.HTTPError as e:
    print(e.code)' "$base/hooks/github" "$@"; }
is_ready() { [ "$(get "$base/readyz" | sed -n 1p)" = 200 ]; }
successes() { python3 -c '
import sys, urllib.request
text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
key = "sagesync_reconcile_total{result=\"success\"} "
print(next((l[len(key):] for l in text.splitlines() if l.startswith(key)), "0"))
' "$base/metrics"; }
at_least() { [ "$(successes)" -ge "$1" ]; }
# aws_calls: the sum of sagesync_aws_calls_total
aws_calls() { python3 -c '
import sys, urllib.request
text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
print(int(sum(float(l.split()[-1]) for l in text.splitlines()
              if l.startswith("sagesync_aws_calls_total{"))))
' "$base/metrics"; }
threshold_is() { [ "$(threshold)" = "$1" ]; }

wait_for 60 is_ready && ok || { bad "not ready"; cat "$tmp/daemon.out"; }
equals "healthz" 200 "$(get "$base/healthz" | sed -n 1p)"
equals "deployed by the daemon" InService "$(aws sagemaker describe-endpoint \
	--endpoint-name churn-prod --query EndpointStatus --output text)"

sed -i 's/threshold: 5$/threshold: 8/' "$repo/alarms.yaml"
git -C "$repo" commit -q -am "raise the threshold"
after=$(git -C "$repo" rev-parse HEAD)
body="{\"ref\": \"refs/heads/main\", \"after\": \"$after\"}"
equals "unsigned push refused" 401 "$(post "$body")"
equals "wrongly signed push refused" 401 "$(post "$body" wrong-secret)"
equals "signed push accepted" 202 "$(post "$body" hook-secret)"
wait_for 30 threshold_is 8.0 && ok || bad "the pushed commit was not applied"

get "$base/metrics" >"$tmp/out"
contains "reconciles counted" 'sagesync_reconcile_total{result="success"}'
contains "refusals counted" 'sagesync_webhook_requests_total{source="github",result="unauthenticated"} 2'
contains "push counted" 'sagesync_webhook_requests_total{source="github",result="accepted"} 1'
contains "last applied revision" "sagesync_last_applied_revision_info{revision=\"$after\"} 1"
contains "last good revision" "sagesync_last_good_revision_info{revision=\"$after\"} 1"
contains "AWS calls by operation" 'sagesync_aws_calls_total{service="cloudwatch",operation="PutMetricAlarm"}'
sed 1d "$tmp/out" >"$tmp/metrics.txt"
promtool check metrics <"$tmp/metrics.txt" >"$tmp/out" 2>&1 && ok ||
	bad "promtool check metrics fails"

# a signed push starts the reconcile within a second (the log's time)
echo "# touched" >>"$repo/alarms.yaml"
git -C "$repo" commit -q -am "touch"
after=$(git -C "$repo" rev-parse HEAD)
body="{\"ref\": \"refs/heads/main\", \"after\": \"$after\"}"
sent=$(python3 -c 'import time; print(time.time())')
equals "signed push accepted" 202 "$(post "$body" hook-secret)"
started() { python3 - "$tmp/daemon.out" "$sent" <<'PY'
import datetime, json, sys
for line in open(sys.argv[1]):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if o.get("message") == "reconcile started (webhook)":
        t = datetime.datetime.strptime(o["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
        t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
        if t >= float(sys.argv[2]) - 0.01:
            print("%.3f" % (t - float(sys.argv[2])))
            sys.exit(0)
sys.exit(1)
PY
}
wait_for 10 started >/dev/null && ok || bad "no reconcile after the push"
latency=$(started)
echo "webhook to reconcile start: ${latency} s"
[ "$(python3 -c "print(int($latency < 1.0))")" = 1 ] && ok ||
	bad "the reconcile started $latency s after the push"

# a throttled AWS answer is counted by service and operation
sim POST /_sim/faults '{"operation": "DescribeAlarms", "error": "Throttling", "status": 400, "count": 1}' >/dev/null
start=$(successes)
kill -HUP "$daemon"
wait_for 30 at_least $((start + 1)) && ok || bad "no reconcile after SIGHUP"
get "$base/metrics" >"$tmp/out"
contains "throttle counted" 'sagesync_aws_throttles_total{service="cloudwatch",operation="DescribeAlarms"} 1'

# SIGHUP reloads the config: a bad one is refused and the old one kept
cp "$tmp/config.yaml" "$tmp/config.good"
echo "bogus: field" >>"$tmp/config.yaml"
start=$(successes)
kill -HUP "$daemon"
wait_for 30 at_least $((start + 1)) && ok || bad "no reconcile after a bad reload"
cp "$tmp/daemon.out" "$tmp/out"
contains "a bad config is reported" "is not valid; the running config is kept"
cp "$tmp/config.good" "$tmp/config.yaml"
sed -i 's/interval: 1h/interval: 2h/' "$tmp/config.yaml"

# many cycles (SIGHUP reloads and reconciles at once): with a sanitizer
# build, a leak in the loop fails the exit below
start=$(successes)
i=0
while [ $i -lt 100 ]; do
	kill -HUP "$daemon"
	wait_for 30 at_least $((start + i + 1)) || break
	i=$((i + 1))
done
equals "100 more reconciles" 100 "$i"
cp "$tmp/daemon.out" "$tmp/out"
contains "the good config was reloaded" "every 7200s"

# the AWS calls counted by operation are the calls AWS received
before=$(aws_calls)
sim POST /_sim/reset >/dev/null
start=$(successes)
kill -HUP "$daemon"
wait_for 30 at_least $((start + 1)) && ok || bad "no reconcile after SIGHUP"
equals "AWS calls in the metrics match the calls received" \
	"$(sim GET /_sim/calls | python3 -c 'import json, sys; print(json.load(sys.stdin)["total"])')" \
	$(($(aws_calls) - before))

# SIGTERM while a reconcile is in flight (AWS answers slowly): it ends
# and the daemon exits 0
sim POST /_sim/faults '{"operation": "*", "latencyMs": 300, "count": 100}' >/dev/null
n=$(grep -c 'reconcile started (reload)' "$tmp/daemon.out")
kill -HUP "$daemon"
in_flight() { [ "$(grep -c 'reconcile started (reload)' "$tmp/daemon.out")" -gt "$n" ]; }
wait_for 10 in_flight && ok || bad "no reconcile in flight"
sleep 0.5
kill -TERM "$daemon"
wait "$daemon"
equals "SIGTERM during a reconcile exits 0" 0 "$?"
daemon=""
cp "$tmp/daemon.out" "$tmp/out"
contains "says it stopped" '"message":"stopped"'
finish
