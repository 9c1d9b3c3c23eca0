#!/bin/sh
# source.verify against someone who can push to the repository (branches
# and the notes ref) but holds no allowed signing key and not the
# controller's record key:
#  - an unsigned commit that puts an older signed tree back is refused
#    (no trust by content: it would roll production back);
#  - an unsigned merge whose first parent is a signed proposal that was
#    never merged is refused (it would deploy the proposal);
#  - a forged record naming a signed commit off the branch decides
#    nothing (it would have made that commit the last good and deployed
#    it), and a rollback to it is refused;
#  - the revert commit the controller pushes itself (unsigned) is trusted
#    through its authenticated record, and recorded good;
#  - registry promotion reads nothing of an unsigned head.
# Usage: test_trust.sh SAGESYNC SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
. "$src/tests/git_servers.sh"
daemon=""
trap '[ -n "$daemon" ] && kill "$daemon" 2>/dev/null; sim_stop; rm -rf "$tmp"' EXIT INT TERM
isolate_aws
umask 022
export SAGESYNC_POLL_MS=100
git_identity
sim_start SIM_STATE_SECONDS=0
quickstart_prerequisites
aws sagemaker create-model-package --model-package-group-name churn \
	--inference-specification '{"Containers": [{"Image": "xgboost:1"}], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]}' >/dev/null

ssh-keygen -q -t ed25519 -N "" -C alice -f "$tmp/alice"
printf 'alice@example.com namespaces="git" %s\n' "$(cut -d' ' -f1,2 "$tmp/alice.pub")" \
	>"$tmp/allowed_signers"
openssl rand -hex 32 >"$tmp/records.key"

quickstart_remote
git -C "$repo" config gpg.format ssh
git -C "$repo" config user.signingkey "$tmp/alice"
sed -i 's/bakeSeconds: 300/bakeSeconds: 0/' "$repo/endpoint.yaml"
git -C "$repo" add -A
git -C "$repo" commit -q -S -m "quickstart, signed"
git -C "$repo" push -q origin main
five=$(git -C "$repo" rev-parse HEAD)
# set VALUE: the 5xx threshold in the work tree
set_threshold() { sed -i "s/threshold: [0-9]*\$/threshold: $1/" "$repo/alarms.yaml"; }
set_threshold 8
git -C "$repo" commit -q -S -am "threshold 8, signed"
git -C "$repo" push -q origin main
eight=$(git -C "$repo" rev-parse HEAD)

port=$(free_port)
api_port=$(free_port) # nothing listens: a request would fail, a branch not
printf 'token\n' >"$tmp/token"
cat >"$tmp/config.yaml" <<EOC
name: trust-test
stateDir: $tmp/state
source:
  url: "file://$tmp/remote.git"
  branch: main
  interval: 1h
  verify: {allowedSignersFile: $tmp/allowed_signers}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
server: {listen: "127.0.0.1:$port"}
history: {keyFile: $tmp/records.key}
reconcile: {rollback: revert-commit}
EOC
mkdir -m 700 "$tmp/state" # as docs/security.md says
"$bin" run --config "$tmp/config.yaml" --log-format text 2>"$tmp/daemon.log" &
daemon=$!
base=http://127.0.0.1:$port
wait_for 60 at_least 1 || { bad "the daemon did not reconcile"; cat "$tmp/daemon.log"; }
equals "the signed head deploys" 8.0 "$(threshold)"
unsigned() { metric 'sagesync_source_refused_total{reason="unsigned"}'; }

# (1) an unsigned commit with the older signed tree: a rollback nobody signed
git -C "$repo" checkout -q "$five" -- alarms.yaml
git -C "$repo" commit -q --no-gpg-sign -m "back to 5, unsigned"
git -C "$repo" push -q origin main
reconcile
equals "an unsigned commit with an older signed tree is refused" 8.0 "$(threshold)"
equals "counted as unsigned" 1 "$(unsigned)"
git -C "$repo" reset -q --hard "$eight"
git -C "$repo" push -q -f origin main

# (2) a signed proposal, never merged, under an unsigned merge
git -C "$repo" checkout -q -b proposal
set_threshold 99
git -C "$repo" commit -q -S -am "proposal: threshold 99, signed, not merged"
proposal=$(git -C "$repo" rev-parse HEAD)
git -C "$repo" push -q origin proposal
git -C "$repo" checkout -q main
merge=$(git -C "$repo" commit-tree "$proposal^{tree}" -p "$proposal" -p "$eight" -m "merge, unsigned")
git -C "$repo" push -q origin "$merge:refs/heads/main"
reconcile
equals "an unsigned merge of a signed proposal is refused" 8.0 "$(threshold)"
equals "counted as unsigned" 2 "$(unsigned)"
git -C "$repo" push -q -f origin "$eight:refs/heads/main"
reconcile

# (3) a forged record: the proposal "succeeded", newer than any other
git -C "$repo" fetch -q origin '+refs/notes/*:refs/notes/*'
git -C "$repo" notes --ref=sagesync add -f -m "sagesync: succeeded
revision: $proposal
finished: 2999-01-01T00:00:00.000Z
controller: trust-test@elsewhere
reason: $(printf 'all good\033[2J\377')" "$proposal"
git -C "$repo" push -q origin refs/notes/sagesync
reconcile
equals "a forged record deploys nothing" 8.0 "$(threshold)"
equals "and the head is not taken for a force-push" 0 \
	"$(metric 'sagesync_source_refused_total{reason="force-push"}')"
cp "$tmp/daemon.log" "$tmp/out"
contains "the forged record is reported" "1 deployment records naming 'trust-test' are not authenticated"
"$bin" status --config "$tmp/config.yaml" >"$tmp/out" 2>&1
contains "status: the last good revision is the signed head" "last good revision: $eight"
"$bin" rollback --config "$tmp/config.yaml" --to "$proposal" --reason "forged" >"$tmp/out" 2>&1
equals "a rollback to a revision recorded good only by a forgery is refused" 1 "$?"
contains "it says why" "was never recorded good by this controller (trust-test)"
equals "nothing changed" 8.0 "$(threshold)"
"$bin" history --config "$tmp/config.yaml" >"$tmp/out" 2>&1
contains "history marks the forgery" "(not authenticated: not counted)"
contains "history shows its bytes, never a terminal escape" 'all good\x1b[2J\xff'
"$bin" history --config "$tmp/config.yaml" --output json >"$tmp/out" 2>&1
python3 - "$tmp/out" "$proposal" >"$tmp/json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
forged = [r for r in rows if r["revision"] == sys.argv[2]]
assert len(forged) == 1 and forged[0]["authentic"] is False, forged
assert forged[0]["reason"] == "all good\\x1b[2J\\xff", forged[0]["reason"]
assert all(r["authentic"] for r in rows if r["revision"] != sys.argv[2]), rows
print("json ok")
PY
cp "$tmp/json" "$tmp/out"
contains "history --output json keeps the forgery, marked and escaped" "json ok"

# (4) the controller's own revert commit: unsigned, trusted by its record
sed -i 's|churn/challenger/model.tar.gz|churn/challenger/missing.tar.gz|' "$repo/models.yaml"
git -C "$repo" commit -q -S -am "a challenger without its artifact, signed"
git -C "$repo" push -q origin main
broken=$(git -C "$repo" rev-parse HEAD)
reconcile
equals "the broken deploy is rolled back" 1 "$(metric 'sagesync_reconcile_total{result="rolled-back"}')"
revert_pushed() { [ "$(git -C "$tmp/remote.git" rev-parse main^)" = "$broken" ]; }
wait_for 30 revert_pushed && ok || bad "no revert commit on the branch"
revert=$(git -C "$tmp/remote.git" rev-parse main)
git -C "$tmp/remote.git" log -1 --format=%G? main >"$tmp/out"
equals "the revert is not signed" N "$(cat "$tmp/out")"
recorded_good() { [ "$(metric "sagesync_last_good_revision_info{revision=\"$revert\"}")" = 1 ]; }
wait_for 60 recorded_good && ok || { bad "the revert is not recorded good"; tail -20 "$tmp/daemon.log"; }
equals "the revert is not refused" 2 "$(unsigned)"
git -C "$tmp/remote.git" notes --ref=sagesync show "$revert" >"$tmp/out"
contains "its record says the controller made it" "sagesync: reverted"
contains "authenticated" "mac: hmac-sha256:"
cp "$tmp/daemon.log" "$tmp/out"
contains "the log says why it is trusted" "signed by this controller (trust-test): its own revert commit"
equals "the live state is the last good one" 8.0 "$(threshold)"

# (5) promotion builds nothing on an unsigned head
git -C "$repo" fetch -q origin
git -C "$repo" reset -q --hard origin/main
set_threshold 8
git -C "$repo" commit -q --no-gpg-sign --allow-empty -m "unsigned head"
git -C "$repo" push -q origin main
kill -TERM "$daemon"
wait "$daemon"
daemon=""
cat >>"$tmp/config.yaml" <<EOC
promotion:
  modelPackageGroups: [churn]
  interval: 5s
  pullRequest: {provider: github, repository: acme/ml-deploy, apiUrl: "http://127.0.0.1:$api_port", tokenFile: $tmp/token}
EOC
"$bin" run --config "$tmp/config.yaml" --log-format text 2>"$tmp/daemon.log" &
daemon=$!
promotion_refused() { grep -q "promotion of churn version 8: the head of 'main' is not trusted" "$tmp/daemon.log"; }
wait_for 60 promotion_refused && ok || { bad "promotion read an unsigned head"; tail -20 "$tmp/daemon.log"; }
equals "no promotion branch pushed" "" \
	"$(git -C "$tmp/remote.git" branch --list 'sagesync/*')"

kill -TERM "$daemon"
wait "$daemon"
equals "SIGTERM exits 0" 0 "$?"
daemon=""

# the state directory is the controller's user's alone (the test runs
# with umask 022): no file or directory in it that others may read
find "$tmp/state" -perm /077 >"$tmp/out"
equals "nothing in the state directory is readable by others" "" "$(head -5 "$tmp/out")"
finish
