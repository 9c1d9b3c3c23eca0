# Shell helpers shared by the integration tests (sourced, not run):
# counting checks, and starting and stopping the local AWS.
# Each test sets `tmp` to its own temporary directory first.

passed=0
failed=0
# the quickstart's endpoint bakes 300 s after each deploy; tests do not
# wait for it unless they test the bake (and then set their own)
export SAGESYNC_BAKE_SECONDS="${SAGESYNC_BAKE_SECONDS-0}"
sim_pid=""

ok() { passed=$((passed + 1)); }
bad() {
	failed=$((failed + 1))
	echo "FAIL: $*"
	[ -f "$tmp/out" ] && sed 's/^/  | /' "$tmp/out" | head -n 30
}

# equals DESCRIPTION WANT GOT
equals() {
	if [ "$2" = "$3" ]; then ok; else
		failed=$((failed + 1))
		echo "FAIL: $1: got '$3', expected '$2'"
	fi
}

# contains DESCRIPTION TEXT: $tmp/out holds TEXT
contains() {
	if grep -qF -- "$2" "$tmp/out"; then ok; else bad "$1: no '$2'"; fi
}

# sim_start [VAR=value...]: starts tests/aws/start-aws, exports its URL
sim_start() {
	for tool in python3 aws; do
		command -v $tool >/dev/null || {
			echo "FAIL: $tool is not installed"
			exit 1
		}
	done
	python3 -c 'import moto, werkzeug' 2>/dev/null || {
		echo "FAIL: Python's moto is not installed (pip install 'moto[server]')"
		exit 1
	}
	# a previous server's line must not be taken for this one's
	rm -f "$tmp/sim.out"
	env "$@" "$src/tests/aws/start-aws" >"$tmp/sim.out" 2>"$tmp/sim.err" &
	sim_pid=$!
	i=0
	until grep -q '^AWS_ENDPOINT_URL=' "$tmp/sim.out" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 150 ] || ! kill -0 "$sim_pid" 2>/dev/null; then
			echo "FAIL: start-aws did not start"
			cat "$tmp/sim.err"
			exit 1
		fi
		sleep 0.1
	done
	AWS_ENDPOINT_URL=$(sed -n '1s/^AWS_ENDPOINT_URL=//p' "$tmp/sim.out")
	export AWS_ENDPOINT_URL
}

# sim_stop: stops it with SIGTERM; returns its exit status
sim_stop() {
	status=0
	if [ -n "$sim_pid" ]; then
		kill "$sim_pid" 2>/dev/null
		wait "$sim_pid" 2>/dev/null
		status=$?
		sim_pid=""
	fi
	return $status
}

# sim METHOD PATH [JSON]: a /_sim/ control; the answer on stdout
sim() {
	python3 - "$AWS_ENDPOINT_URL$2" "$1" "${3:-}" <<'PY'
import sys, urllib.request
url, method, body = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(url, data=body.encode() if body else None, method=method)
try:
    print(urllib.request.urlopen(req).read().decode())
except urllib.error.HTTPError as e:
    print(e.read().decode(), file=sys.stderr)
    sys.exit(1)
PY
}

# calls PATTERN: how many calls since the last reset match the regular
# expression PATTERN ("service.Operation" keys)
calls() {
	sim GET /_sim/calls | python3 -c '
import json, re, sys
calls = json.load(sys.stdin)["calls"]
print(sum(n for k, n in calls.items() if re.search(sys.argv[1], k)))' "$1"
}

# keep the AWS CLI and sagesync away from this machine's AWS settings
isolate_aws() {
	export AWS_CONFIG_FILE="$tmp/no-config" AWS_SHARED_CREDENTIALS_FILE="$tmp/no-creds"
	export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
	export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
	unset AWS_PROFILE AWS_SESSION_TOKEN AWS_REGION
}

# what a training pipeline would have done for the quickstart: register
# churn v1..v7 and upload the challenger's artifact
quickstart_prerequisites() {
	aws sagemaker create-model-package-group --model-package-group-name churn >/dev/null
	for v in 1 2 3 4 5 6 7; do
		aws sagemaker create-model-package --model-package-group-name churn \
			--inference-specification '{"Containers": [{"Image": "xgboost:1"}], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]}' >/dev/null
	done
	echo artifact >"$tmp/model.tar.gz"
	aws s3api create-bucket --bucket acme-ml-artifacts >/dev/null
	aws s3api put-object --bucket acme-ml-artifacts --key churn/challenger/model.tar.gz \
		--body "$tmp/model.tar.gz" >/dev/null
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds (false after SECONDS)
wait_for() {
	_wait_left=$(($1 * 10))
	shift
	while [ $_wait_left -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_wait_left=$((_wait_left - 1))
	done
	return 1
}

# metric NAME{LABELS}: the value of a series on $base/metrics (the
# daemon's; 0 when absent, -1 when the page cannot be read)
metric() {
	python3 - "$base/metrics" "$1" <<'PY'
import sys, urllib.request
try:
    text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
except Exception:
    print(-1); sys.exit()
for line in text.splitlines():
    if line.startswith(sys.argv[2] + " "):
        print(int(float(line.split()[-1]))); break
else:
    print(0)
PY
}

# cycles: how many reconciles the daemon at $base has ended, whatever
# their result (-1 when its metrics cannot be read)
cycles() {
	python3 - "$base/metrics" <<'PY'
import sys, urllib.request
try:
    text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
except Exception:
    print(-1); sys.exit()
print(int(sum(float(l.split()[-1]) for l in text.splitlines()
              if l.startswith("sagesync_reconcile_total{"))))
PY
}
at_least() { [ "$(cycles)" -ge "$1" ]; }
# reconcile: one more reconcile of the daemon $daemon, now (SIGHUP), and
# wait for its end
reconcile() {
	_seen=$(cycles)
	kill -HUP "$daemon"
	wait_for 120 at_least $((_seen + 1)) || bad "no reconcile after SIGHUP"
}

# endpoint QUERY: a field of the quickstart's endpoint, as the AWS CLI
# reads it (EndpointStatus, EndpointConfigName)
endpoint() {
	aws sagemaker describe-endpoint --endpoint-name churn-prod \
		--query "$1" --output text
}

# threshold: the quickstart's 5xx alarm threshold, as AWS has it
threshold() {
	aws cloudwatch describe-alarms --alarm-names churn-prod-5xx \
		--query 'MetricAlarms[0].Threshold' --output text
}

# quickstart_remote: a bare repository $tmp/remote.git, as on a Git
# server, and $repo, a clone of it holding the quickstart to commit
quickstart_remote() {
	git init -q --bare -b main "$tmp/remote.git"
	repo=$tmp/repo
	git clone -q "$tmp/remote.git" "$repo" 2>/dev/null
	cp "$src"/examples/quickstart/*.yaml "$repo/"
}

# publish MESSAGE: commit everything in $repo and push it
publish() {
	git -C "$repo" add -A
	git -C "$repo" commit -q -m "$1"
	git -C "$repo" push -q origin main
}

# commits made by the tests have an author of their own
git_identity() {
	export GIT_AUTHOR_NAME=test GIT_AUTHOR_EMAIL=test@example.com
	export GIT_COMMITTER_NAME=test GIT_COMMITTER_EMAIL=test@example.com
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
