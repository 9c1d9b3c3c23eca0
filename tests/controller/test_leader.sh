#!/bin/sh
# Leader election on a DynamoDB lease, against DYNAMO (moto: the local
# AWS; dynalite: the npm package, an independent implementation): two
# daemons, exactly one leads; SIGKILL the leader mid-deploy and the other
# leads within leaseSeconds + renewSeconds and finishes the deploy with no
# second UpdateEndpoint; a leader paused (SIGSTOP) mid-apply that wakes
# after losing the lease writes nothing.
# Usage: test_leader.sh SAGESYNC SOURCE_DIR moto|dynalite
set -u
bin=$1
src=$2
dynamo=${3:-moto}
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
. "$src/tests/git_servers.sh"
pids=""
dynalite=""
trap 'for p in $pids; do kill -CONT $p 2>/dev/null; kill -9 $p 2>/dev/null; done; [ -n "$dynalite" ] && kill $dynalite; sim_stop; rm -rf "$tmp"' EXIT INT TERM
isolate_aws
export SAGESYNC_POLL_MS=200
git_identity
sim_start SIM_STATE_SECONDS=3
quickstart_prerequisites
lease=5
renew=1

ddb="aws dynamodb"
if [ "$dynamo" = dynalite ]; then
	dport=$(free_port)
	"$src/tests/node_modules/.bin/dynalite" --port "$dport" >"$tmp/dynalite.log" 2>&1 &
	dynalite=$!
	wait_port "$dport" || { echo "FAIL: dynalite did not start"; exit 1; }
	export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$dport
	ddb="aws --endpoint-url $AWS_ENDPOINT_URL_DYNAMODB dynamodb"
fi

quickstart_remote
publish "A: quickstart"

# daemon N: one more controller of the same name, its own state and port
daemon() {
	port=$(free_port)
	mkdir -p "$tmp/state$1"
	cat >"$tmp/config$1.yaml" <<EOC
name: ha-test
stateDir: $tmp/state$1
source: {url: "file://$tmp/remote.git", branch: main, interval: 1h}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
server: {listen: "127.0.0.1:$port"}
leaderElection: {table: sagesync-leases, leaseSeconds: $lease, renewSeconds: $renew}
EOC
	"$bin" run --config "$tmp/config$1.yaml" --log-format text 2>"$tmp/daemon$1.log" &
	eval "pid$1=$! port$1=$port"
	pids="$pids $!"
}
# leader N: its sagesync_leader
leader() { eval "base=http://127.0.0.1:\$port$1"; metric sagesync_leader; }
leads() { [ "$(leader "$1")" = 1 ]; }
one_leader() {
	total=0
	for n in "$@"; do
		l=$(leader "$n")
		[ "$l" -ge 0 ] || return 1
		total=$((total + l))
	done
	[ $total -eq 1 ]
}
which_leads() { for n in "$@"; do leads "$n" && echo "$n"; done; }

# the lease table: doctor finds it missing, doctor --fix creates it
cat >"$tmp/doctor.yaml" <<EOC
name: ha-test
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
leaderElection: {table: sagesync-leases}
EOC
"$bin" doctor --config "$tmp/doctor.yaml" >"$tmp/out" 2>&1
equals "doctor: a missing table is a problem" 1 "$?"
contains "doctor says so" "the lease table does not exist"
"$bin" doctor --config "$tmp/doctor.yaml" --fix >"$tmp/out" 2>&1
equals "doctor --fix" 0 "$?"
contains "doctor --fix creates it" "created the lease table"
equals "the table is there" sagesync-leases \
	"$($ddb describe-table --table-name sagesync-leases --query Table.TableName --output text)"

daemon 1
daemon 2
wait_for 30 one_leader 1 2 && ok || bad "not exactly one leader"
first=$(which_leads 1 2)
serving() { [ "$(endpoint EndpointStatus)" = InService ]; }
wait_for 90 serving && ok || { bad "A was not deployed"; cat "$tmp/daemon$first.log"; }
equals "still one leader" 1 "$(($(leader 1) + $(leader 2)))"

# B: killed mid-deploy, the standby takes over and finishes
config_a=$(endpoint EndpointConfigName)
sed -i 's/weight: 1$/weight: 2/' "$repo/endpoint.yaml"
publish "B: more traffic to the challenger"
b=$(git -C "$repo" rev-parse HEAD)
sim POST /_sim/reset >/dev/null
eval "kill -HUP \$pid$first"
updating() { [ "$(calls 'UpdateEndpoint$')" -ge 1 ]; }
wait_for 30 updating && ok || bad "no UpdateEndpoint"
eval "kill -9 \$pid$first"
killed=$(date +%s.%N)
other=$((3 - first))
wait_for 30 leads "$other" && ok || bad "the standby did not take over"
took=$(python3 -c "import time; print('%.1f' % (time.time() - $killed))")
echo "$dynamo: took over ${took} s after the leader died (lease $lease s + renew $renew s)"
[ "$(python3 -c "print(int($took <= $lease + $renew + 1))")" = 1 ] && ok ||
	bad "took over after $took s"
moved() { [ "$(endpoint EndpointConfigName)" != "$config_a" ] && serving; }
wait_for 60 moved && ok || { bad "B was not finished"; cat "$tmp/daemon$other.log"; }
recorded() { git -C "$tmp/remote.git" notes --ref=sagesync show "$b" 2>/dev/null | grep -q "sagesync: succeeded"; }
wait_for 30 recorded && ok || bad "B's outcome is not recorded"
equals "exactly one UpdateEndpoint for B" 1 "$(calls 'UpdateEndpoint$')"
eval "base=http://127.0.0.1:\$port$other"
equals "the new leader's fence is 2" 2 "$(metric sagesync_lease_fence)"

# a third controller; the leader is paused in the middle of an apply
daemon 3
sleep 2
equals "the third is a standby" 0 "$(leader 3)"
sim POST /_sim/faults '{"operation": "CreateEndpointConfig", "latencyMs": 3000, "count": 1}' >/dev/null
sed -i 's/weight: 2$/weight: 3/' "$repo/endpoint.yaml"
sed -i 's/threshold: 5$/threshold: 6/' "$repo/alarms.yaml"
publish "R1: weight 3, threshold 6"
sim POST /_sim/reset >/dev/null
sim POST /_sim/faults '{"operation": "CreateEndpointConfig", "latencyMs": 3000, "count": 1}' >/dev/null
eval "kill -HUP \$pid$other"
creating() { [ "$(calls 'CreateEndpointConfig$')" -ge 1 ]; }
wait_for 30 creating && ok || bad "R1 never reached CreateEndpointConfig"
eval "kill -STOP \$pid$other"
sed -i 's/threshold: 6$/threshold: 7/' "$repo/alarms.yaml"
publish "R2: threshold 7"
wait_for 30 leads 3 && ok || bad "the third did not take over from the paused leader"
at7() { [ "$(threshold)" = 7.0 ]; }
wait_for 60 at7 && ok || { bad "R2 was not applied"; cat "$tmp/daemon3.log"; }
wait_for 60 serving
sim POST /_sim/reset >/dev/null
eval "kill -CONT \$pid$other"
sleep 4
equals "the woken leader wrote no alarm" 0 "$(calls 'PutMetricAlarm$')"
equals "and no endpoint" 0 "$(calls '(Create|Update)Endpoint$')"
equals "the threshold is R2's" 7.0 "$(threshold)"
eval "cp \"\$tmp/daemon$other.log\" \"\$tmp/out\""
contains "the woken leader says why" "nothing more is written"
equals "the woken one is a standby" 0 "$(leader "$other")"

for p in $pids; do kill -TERM "$p" 2>/dev/null; wait "$p"; done
pids=""
finish
