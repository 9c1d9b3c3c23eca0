#!/bin/sh
# Notifications of deploy outcomes, received by small loopback servers: a
# Slack incoming webhook, a signed JSON webhook (its first delivery
# answered 500, so it is retried), GitHub and GitLab commit statuses, and
# SNS (moto, read back through an SQS subscription); a dead receiver
# neither blocks nor slows the reconcile. Usage: test_notify.sh SAGESYNC SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
. "$src/tests/git_servers.sh"
daemon=""
receiver=""
trap '[ -n "$daemon" ] && kill "$daemon" 2>/dev/null; [ -n "$receiver" ] && kill "$receiver"; sim_stop; rm -rf "$tmp"' EXIT INT TERM
isolate_aws
export SAGESYNC_POLL_MS=100 SAGESYNC_NOTIFY_BACKOFF_MS=50
git_identity
sim_start SIM_STATE_SECONDS=0
quickstart_prerequisites

python3 "$src/tests/receivers/recorder.py" "$tmp/received" /hook:1 >"$tmp/receiver.port" &
receiver=$!
wait_for 10 test -s "$tmp/receiver.port"
rport=$(cat "$tmp/receiver.port")
r=http://127.0.0.1:$rport
dead=http://127.0.0.1:$(free_port)

topic=$(aws sns create-topic --name deploys --query TopicArn --output text)
queue=$(aws --endpoint-url "$AWS_ENDPOINT_URL" sqs create-queue --queue-name deploys --query QueueUrl --output text)
qarn=$(aws --endpoint-url "$AWS_ENDPOINT_URL" sqs get-queue-attributes --queue-url "$queue" --attribute-names QueueArn \
	--query Attributes.QueueArn --output text)
aws sns subscribe --topic-arn "$topic" --protocol sqs --notification-endpoint "$qarn" >/dev/null

printf '%s/slack/T000/B000/XXXX\n' "$r" >"$tmp/slack-url"
printf 'hook-secret\n' >"$tmp/hook-secret"
printf 'gh-token\n' >"$tmp/gh-token"
printf 'gl-token\n' >"$tmp/gl-token"

quickstart_remote
publish "A: quickstart"
a=$(git -C "$repo" rev-parse HEAD)

port=$(free_port)
cat >"$tmp/config.yaml" <<EOC
name: notify-test
stateDir: $tmp/state
source: {url: "file://$tmp/remote.git", branch: main, interval: 1h}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
server: {listen: "127.0.0.1:$port"}
notify:
  - {type: webhook, url: "$dead/nobody/s3cr3t-path?token=hidden"}
  - {type: slack, urlFile: $tmp/slack-url}
  - {type: webhook, url: "$r/hook", secretFile: $tmp/hook-secret}
  - {type: github-status, url: "$r/gh", tokenFile: $tmp/gh-token, repository: acme/ml-deploy}
  - {type: gitlab-status, url: "$r/gl", tokenFile: $tmp/gl-token, repository: acme/ml-deploy}
  - {type: sns, topicArn: "$topic"}
EOC
mkdir "$tmp/state"
"$bin" run --config "$tmp/config.yaml" --log-format text 2>"$tmp/daemon.log" &
daemon=$!
base=http://127.0.0.1:$port
# received PATH-PREFIX: how many requests came for it
received() {
	if [ -f "$tmp/received" ]; then
		grep -c "\"path\": \"$1" "$tmp/received" || true
	else
		echo 0
	fi
}
at_least_received() { [ "$(received "$1")" -ge "$2" ]; }

wait_for 60 at_least_received /gl 1 || { bad "no notification"; cat "$tmp/daemon.log"; }
wait_for 10 at_least_received /hook 2 || bad "the webhook was not retried"

# B: a missing artifact, rolled back
sed -i 's|churn/challenger/model.tar.gz|churn/challenger/missing.tar.gz|' "$repo/models.yaml"
publish "B: broken challenger"
b=$(git -C "$repo" rev-parse HEAD)
kill -HUP "$daemon"
wait_for 60 at_least_received /gl 2 || { bad "no rollback notification"; cat "$tmp/daemon.log"; }
wait_for 10 at_least_received /hook 3 || bad "no second webhook delivery"

python3 - "$tmp/received" "$a" "$b" hook-secret >"$tmp/out" <<'PY'
import hashlib, hmac, json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
a, b, secret = sys.argv[2], sys.argv[3], sys.argv[4].encode()
by = lambda p: [r for r in reqs if r["path"].startswith(p)]
slack = [json.loads(r["body"])["text"] for r in by("/slack/T000/B000/XXXX")]
assert any("deploy of %s succeeded" % a[:7] in t for t in slack), slack
assert any("deploy of %s failed and was rolled back" % b[:7] in t for t in slack), slack
hooks = by("/hook")
assert len(hooks) == 3, len(hooks)          # the first answered 500, retried
for h in hooks:
    sig = "sha256=" + hmac.new(secret, h["body"].encode(), hashlib.sha256).hexdigest()
    assert h["headers"]["x-sagesync-signature-256"] == sig, h
events = [(json.loads(h["body"])["event"], json.loads(h["body"])["revision"]) for h in hooks]
assert events == [("succeeded", a), ("succeeded", a), ("rolled-back", b)], events
rolled = json.loads(hooks[2]["body"])
assert "was rolled back" in rolled["reason"] and rolled["changes"], rolled
gh = by("/gh/")
assert [r["path"] for r in gh] == ["/gh/repos/acme/ml-deploy/statuses/" + a,
                                   "/gh/repos/acme/ml-deploy/statuses/" + b], gh
assert [json.loads(r["body"])["state"] for r in gh] == ["success", "failure"]
assert all(r["headers"]["authorization"] == "Bearer gh-token" for r in gh)
assert json.loads(gh[0]["body"])["context"] == "sagesync/notify-test"
gl = by("/gl/")
assert [r["path"] for r in gl] == ["/gl/projects/acme%2Fml-deploy/statuses/" + a,
                                   "/gl/projects/acme%2Fml-deploy/statuses/" + b], gl
assert [json.loads(r["body"])["state"] for r in gl] == ["success", "failed"]
assert all(r["headers"]["private-token"] == "gl-token" for r in gl)
print("payloads ok")
PY
contains "every receiver got the expected payloads" "payloads ok"

aws --endpoint-url "$AWS_ENDPOINT_URL" sqs receive-message --queue-url "$queue" --max-number-of-messages 10 \
	--query 'Messages[].Body' --output text >"$tmp/out"
contains "SNS: the success" '"Subject": "sagesync: succeeded"'
contains "SNS: the rollback" '"Subject": "sagesync: rolled-back"'
contains "SNS: the event as JSON" '\"event\":\"rolled-back\",\"revision\":\"'"$b"'\"'

equals "the dead receiver is counted as failed" 2 \
	"$(metric 'sagesync_notifications_total{target="webhook",result="failed"}')"
equals "the live one as delivered" 2 \
	"$(metric 'sagesync_notifications_total{target="webhook",result="delivered"}')"
cp "$tmp/daemon.log" "$tmp/out"
contains "the failed delivery is logged" "notification to webhook not delivered after 5 attempts"
contains "the failure names the receiver" "POST ${dead}: "
if grep -q "s3cr3t\|hidden" "$tmp/out"; then bad "a receiver's URL path is in the log"; else ok; fi

kill -TERM "$daemon"
wait "$daemon"
equals "SIGTERM exits 0" 0 "$?"
daemon=""
finish
