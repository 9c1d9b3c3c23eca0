#!/bin/sh
# What the daemon applies from its source, and what it refuses: with
# source.verify, a commit signed by an allowed key deploys, an unsigned
# one or one signed by another key is refused and the live state kept; a
# force-push (a head that does not descend from the revision applied) and
# a deleted branch are refused and reported until someone applies a
# revision explicitly. Usage: test_source.sh SAGESYNC SOURCE_DIR
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
git_identity
sim_start SIM_STATE_SECONDS=0
quickstart_prerequisites

# two signing keys; only the first is an allowed signer
ssh-keygen -q -t ed25519 -N "" -C alice -f "$tmp/alice"
ssh-keygen -q -t ed25519 -N "" -C mallory -f "$tmp/mallory"
printf 'alice@example.com namespaces="git" %s\n' "$(cut -d' ' -f1,2 "$tmp/alice.pub")" \
	>"$tmp/allowed_signers"

repo=$tmp/repo
git init -q -b main "$repo"
git -C "$repo" config gpg.format ssh
cp "$src"/examples/quickstart/*.yaml "$repo/"
git -C "$repo" add -A
git -C "$repo" -c user.signingkey="$tmp/alice" commit -q -S -m "quickstart, signed"
first=$(git -C "$repo" rev-parse HEAD)
# commit VALUE [KEY]: the threshold set to VALUE, signed with KEY if given
commit() {
	sed -i "s/threshold: [0-9]*\$/threshold: $1/" "$repo/alarms.yaml"
	if [ -n "${2:-}" ]; then
		git -C "$repo" -c user.signingkey="$tmp/$2" commit -q -S -am "threshold $1"
	else
		git -C "$repo" commit -q -am "threshold $1"
	fi
}

port=$(free_port)
cat >"$tmp/config.yaml" <<EOC
name: source-test
stateDir: $tmp/state
source:
  url: "file://$repo"
  branch: main
  interval: 1h
  verify: {allowedSignersFile: $tmp/allowed_signers}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
server: {listen: "127.0.0.1:$port"}

EOC

mkdir "$tmp/state"
"$bin" run --config "$tmp/config.yaml" 2>"$tmp/daemon.log" &
daemon=$!
base=http://127.0.0.1:$port


wait_for 60 at_least 1 || { bad "the daemon did not reconcile"; cat "$tmp/daemon.log"; }
equals "a commit signed by an allowed key deploys" 5.0 "$(threshold)"
cp "$tmp/daemon.log" "$tmp/out"
contains "the signer is logged" "signature verified: signed by alice@example.com"

commit 6
reconcile
equals "an unsigned commit is not applied" 5.0 "$(threshold)"
cp "$tmp/daemon.log" "$tmp/out"
contains "the refusal says why" "is not signed; keeping the live state of ${first%"${first#???????}"}"
equals "the refusal is counted" 1 "$(metric 'sagesync_source_refused_total{reason="unsigned"}')"

commit 7 mallory
reconcile
equals "a commit signed by another key is not applied" 5.0 "$(threshold)"
cp "$tmp/daemon.log" "$tmp/out"
contains "names the reason" "the signing key is not in the allowed signers file"

commit 8 alice
reconcile
equals "a signed commit on top deploys" 8.0 "$(threshold)"
signed=$(git -C "$repo" rev-parse HEAD)
equals "last applied revision in the metrics" 1 \
	"$(metric "sagesync_last_applied_revision_info{revision=\"$signed\"}")"

# a force-push back to the first commit: refused until applied by hand
git -C "$repo" reset -q --hard "$first"
reconcile
equals "a force-push is not applied" 8.0 "$(threshold)"
cp "$tmp/daemon.log" "$tmp/out"
contains "the force-push is reported" "was rewritten (force-pushed)"
equals "the force-push is counted" 1 "$(metric 'sagesync_source_refused_total{reason="force-push"}')"
"$bin" apply --once --config "$tmp/config.yaml" --revision "$first" >"$tmp/out" 2>&1
equals "applied by hand" 0 "$?"
commit 9 alice
reconcile
equals "then the daemon follows again" 9.0 "$(threshold)"
signed9=$(git -C "$repo" rev-parse HEAD)

# anyone who can push the notes ref can write a record: a forged
# "succeeded" on an unsigned commit, newer than every other, has no mac
# by the controller's key, so it decides nothing
git -C "$repo" checkout -q -b side
commit 99
forged=$(git -C "$repo" rev-parse HEAD)
git -C "$repo" checkout -q main
git -C "$repo" notes --ref=sagesync add -f -m "sagesync: succeeded
revision: $forged
finished: 2999-01-01T00:00:00.000Z
controller: source-test@elsewhere" "$forged"
reconcile
equals "a forged record does not deploy an unsigned commit" 9.0 "$(threshold)"
cp "$tmp/daemon.log" "$tmp/out"
contains "the forged record is reported" "deployment records naming 'source-test' are not authenticated by its records key"

# an unsigned commit is unsigned, whatever its content: one that puts a
# signed ancestor's tree back is refused like any other
commit 10
ten=$(git -C "$repo" rev-parse HEAD)
git -C "$repo" revert --no-edit HEAD >/dev/null
"$bin" apply --once --config "$tmp/config.yaml" --revision "$ten" >"$tmp/out" 2>&1
equals "an unsigned change is refused by hand too" 1 "$?"
"$bin" apply --once --config "$tmp/config.yaml" --revision HEAD >"$tmp/out" 2>&1
equals "an unsigned revert to signed content is refused too" 1 "$?"
contains "it says why" "is not signed"
equals "and nothing changes" 9.0 "$(threshold)"
reconcile
equals "the daemon keeps the signed revision" 9.0 "$(threshold)"
git -C "$repo" reset -q --hard "$signed9"

# the branch deleted: refused, the live state kept, the daemon alive
git -C "$repo" checkout -q -b other
git -C "$repo" branch -q -D main
reconcile
equals "a deleted branch changes nothing" 9.0 "$(threshold)"
cp "$tmp/daemon.log" "$tmp/out"
contains "the deletion is reported" "branch 'main' does not exist in the repository"
equals "still alive" 0 "$(kill -0 "$daemon"; echo $?)"

# every log line is a JSON object with the documented fields
python3 - "$tmp/daemon.log" >"$tmp/out" <<'PY'
import json, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    o = json.loads(line)
    assert {"time", "level", "message"} <= o.keys(), (n, line)
    assert o["level"] in ("debug", "info", "warn", "error"), (n, line)
print("json ok")
PY
contains "the log is JSON lines" "json ok"
grep -q '"revision":"'"$signed"'"' "$tmp/daemon.log" && ok || bad "no revision field"
grep -q '"resource":"Alarm/churn-prod-5xx"' "$tmp/daemon.log" && ok || bad "no resource field"

kill -TERM "$daemon"
wait "$daemon"
equals "SIGTERM exits 0" 0 "$?"
daemon=""
finish
