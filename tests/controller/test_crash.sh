#!/bin/sh
# Crash safety: a daemon killed (SIGKILL) while an endpoint update is in
# flight, and started again, picks the deploy up from AWS and the
# records: it sends no second UpdateEndpoint, waits for the update, and
# records the true outcome. Usage: test_crash.sh SAGESYNC SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
. "$src/tests/git_servers.sh"
daemon=""
trap '[ -n "$daemon" ] && kill -9 "$daemon" 2>/dev/null; sim_stop; rm -rf "$tmp"' EXIT INT TERM
isolate_aws
export SAGESYNC_POLL_MS=200
git_identity
# every endpoint change takes 4 s
sim_start SIM_STATE_SECONDS=4
quickstart_prerequisites

quickstart_remote
publish "A: quickstart"

port=$(free_port)
cat >"$tmp/config.yaml" <<EOC
name: crash-test
stateDir: $tmp/state
source: {url: "file://$tmp/remote.git", branch: main, interval: 1h}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
server: {listen: "127.0.0.1:$port"}
EOC
mkdir "$tmp/state"
start_daemon() {
	"$bin" run --config "$tmp/config.yaml" --log-format text 2>>"$tmp/daemon.log" &
	daemon=$!
}
ready() { python3 -c '
import sys, urllib.request
try:
    sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200 else 1)
except Exception:
    sys.exit(1)' "http://127.0.0.1:$port/readyz"; }
start_daemon
wait_for 90 ready || { bad "A was not deployed"; cat "$tmp/daemon.log"; }
equals "A serves" InService "$(endpoint EndpointStatus)"
config_a=$(endpoint EndpointConfigName)

# B: a new weight; killed while the endpoint is Updating
sed -i 's/weight: 1$/weight: 2/' "$repo/endpoint.yaml"
publish "B: more traffic to the challenger"
b=$(git -C "$repo" rev-parse HEAD)
sim POST /_sim/reset >/dev/null
kill -HUP "$daemon"
updating() { [ "$(calls 'UpdateEndpoint$')" -ge 1 ]; }
wait_for 30 updating && ok || bad "no UpdateEndpoint"
kill -9 "$daemon"
wait "$daemon" 2>/dev/null
daemon=""
equals "killed mid-deploy" Updating "$(endpoint EndpointStatus)"

start_daemon
wait_for 90 ready || { bad "the restarted daemon did not finish"; cat "$tmp/daemon.log"; }
equals "B serves after the restart" InService "$(endpoint EndpointStatus)"
[ "$(endpoint EndpointConfigName)" != "$config_a" ] && ok || bad "still on A's config"
equals "exactly one UpdateEndpoint for B" 1 "$(calls 'UpdateEndpoint$')"
git -C "$tmp/remote.git" notes --ref=sagesync show "$b" >"$tmp/out" 2>&1
contains "B's true outcome is recorded" "sagesync: succeeded"
kill -TERM "$daemon"
wait "$daemon"
equals "SIGTERM exits 0" 0 "$?"
daemon=""
finish
