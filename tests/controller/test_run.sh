#!/bin/sh
# sagesync run against the local AWS and a local Git repository: ready
# after the first reconcile, a signed webhook push applies a new commit
# at once, an unsigned one is refused and counted, /metrics counts the
# reconciles, SIGTERM exits 0. Usage: test_run.sh SAGESYNC SOURCE_DIR
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
# wait_for SECONDS COMMAND...: until COMMAND succeeds
wait_for() {
	n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
is_ready() { [ "$(get "$base/readyz" | head -n 1)" = 200 ]; }
threshold_is() {
	[ "$(aws cloudwatch describe-alarms --alarm-names churn-prod-5xx \
		--query 'MetricAlarms[0].Threshold' --output text)" = "$1" ]
}

wait_for 60 is_ready && ok || { bad "not ready"; cat "$tmp/daemon.out"; }
equals "healthz" 200 "$(get "$base/healthz" | head -n 1)"
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

# many cycles (SIGHUP reconciles at once): with a sanitizer build, a leak
# in the loop fails the exit below
successes() { python3 -c '
import sys, urllib.request
text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
key = "sagesync_reconcile_total{result=\"success\"} "
print(next((l[len(key):] for l in text.splitlines() if l.startswith(key)), "0"))
' "$base/metrics"; }
at_least() { [ "$(successes)" -ge "$1" ]; }
start=$(successes)
i=0
while [ $i -lt 30 ]; do
	kill -HUP "$daemon"
	wait_for 30 at_least $((start + i + 1)) || break
	i=$((i + 1))
done
equals "30 more reconciles" 30 "$i"

kill -TERM "$daemon"
wait "$daemon"
equals "SIGTERM exits 0" 0 "$?"
daemon=""
cp "$tmp/daemon.out" "$tmp/out"
contains "says it stopped" "sagesync: stopped"

finish
