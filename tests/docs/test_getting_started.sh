#!/bin/sh
# docs/getting-started.md, followed as a reader follows it: every ```sh
# block of the page, in order, in one shell that stops at the first
# failing command, in a fresh working directory, against the local AWS
# (the aws CLI and sagesync both reach it through AWS_ENDPOINT_URL alone,
# the page's config names no endpoint). The block that is only
# `sagesync run ...` is started in the background: it must become ready
# (/readyz 200 on the config's server.listen), reconcile successfully
# and exit 0 on SIGTERM; the blocks after it then run. Afterwards the
# endpoint the page deploys is InService on the promoted model version.
# No block may be skipped, and the blocks use each command of the
# walk-through. Usage: test_getting_started.sh SAGESYNC SOURCE_DIR
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
doc=$src/docs/getting-started.md
trap '[ -f "$tmp/daemon.pid" ] && kill "$(cat "$tmp/daemon.pid")" 2>/dev/null
sim_stop; rm -rf "$tmp"' EXIT INT TERM

# ---- the blocks ----------------------------------------------------------
# blocks/NNN.sh each, and blocks/NNN.line: where it starts in the page
mkdir "$tmp/blocks"
awk -v dir="$tmp/blocks" '
	!inb && /^[ \t]*```sh[ \t]*$/ {
		n++; f = sprintf("%s/%03d.sh", dir, n); inb = 1
		l = sprintf("%s/%03d.line", dir, n)
		print NR + 1 > l
		close(l)
		printf "" > f
		next
	}
	inb && /^[ \t]*```[ \t]*$/ { inb = 0; close(f); next }
	inb { print > f }
	END { if (inb) exit 1 }' "$doc" || { bad "an unterminated sh block"; finish; exit; }
in_doc=$(grep -c '^[ 	]*```sh[ 	]*$' "$doc")
extracted=$(find "$tmp/blocks" -name '*.sh' | wc -l)
equals "every sh block extracted" "$in_doc" "$extracted"

# the walk-through uses each command
for c in validate doctor plan apply status run; do
	if cat "$tmp/blocks"/*.sh | grep -q "^ *sagesync $c\b"; then ok; else
		bad "no sh block runs 'sagesync $c'"
	fi
done

# ---- the runner: one shell, set -e -------------------------------------
# A block whose only command starts with `sagesync run` goes to
# run_daemon; any other is sourced. Each block is echoed first.
runner=$tmp/runner.sh
cat >"$runner" <<'EOF'
set -e
# run_daemon LINE: LINE in the background; ready, reconciled, then SIGTERM
run_daemon() {
	set -- $1
	"$@" >"$T/daemon.out" 2>"$T/daemon.log" &
	echo $! >"$T/daemon.pid"
	_pid=$!
	_config=config.yaml
	_prev=
	for _a in "$@"; do
		case "$_prev" in --config | -c) _config=$_a ;; esac
		_prev=$_a
	done
	_listen=$(sed -n 's/^ *listen: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$_config")
	_host=${_listen%:*}
	case "$_host" in "" | 0.0.0.0) _host=127.0.0.1 ;; esac
	_base=http://$_host:${_listen##*:}
	echo "(waiting for $_base/readyz)"
	_i=0
	until [ "$(curl -s -o /dev/null -w '%{http_code}' "$_base/readyz")" = 200 ]; do
		_i=$((_i + 1))
		if [ $_i -gt 3000 ] || ! kill -0 $_pid 2>/dev/null; then
			echo "daemon: not ready (listen '$_listen')" >"$T/daemon.result"
			sed 's/^/  | /' "$T/daemon.log"
			return 1
		fi
		sleep 0.1
	done
	curl -s "$_base/metrics" >"$T/daemon.metrics"
	kill -TERM $_pid
	_rc=0
	wait $_pid || _rc=$?
	rm -f "$T/daemon.pid"
	echo "exit $_rc" >"$T/daemon.result"
	sed 's/^/  | /' "$T/daemon.log"
	[ $_rc -eq 0 ]
}
EOF
for f in "$tmp/blocks"/*.sh; do
	n=$(basename "$f" .sh)
	line=$(cat "$tmp/blocks/$n.line")
	cmds=$(grep -v '^[[:space:]]*\(#.*\)\{0,1\}$' "$f")
	printf 'echo "---- block %s (docs/getting-started.md:%s)"\n' "$n" "$line" >>"$runner"
	printf "sed 's/^/> /' '%s'\n" "$f" >>"$runner"
	if [ "$(printf '%s\n' "$cmds" | wc -l)" -eq 1 ] &&
		printf '%s\n' "$cmds" | grep -q '^[[:space:]]*sagesync run\b'; then
		printf '%s\n' "$cmds" >"$tmp/daemon.line"
		printf 'run_daemon "$(cat '"'%s'"')"\n' "$tmp/daemon.line" >>"$runner"
	else
		printf ". '%s'\n" "$f" >>"$runner"
	fi
	printf 'echo %s >>"$T/ran"\n' "$n" >>"$runner"
done
[ -f "$tmp/daemon.line" ] && ok || bad "no block is only 'sagesync run ...'"

# ---- the reader's machine ------------------------------------------------
mkdir "$tmp/path" "$tmp/home" "$tmp/work"
ln -s "$bin" "$tmp/path/sagesync"
isolate_aws
git_identity
sim_start SIM_STATE_SECONDS=0
export PATH="$tmp/path:$PATH" HOME="$tmp/home" SAGESYNC_SRC="$src"
export SAGESYNC_BAKE_SECONDS=0 SAGESYNC_POLL_MS=100 T="$tmp"
unset GIT_DIR GIT_WORK_TREE

(cd "$tmp/work" && sh "$runner") >"$tmp/run.out" 2>&1
rc=$?
ran=$(cat "$tmp/ran" 2>/dev/null | wc -l)
if [ $rc -ne 0 ]; then
	bad "the page's commands stopped in block $((ran + 1)) (exit $rc)"
	sed 's/^/  | /' "$tmp/run.out" | tail -n 60
fi
equals "sh blocks run" "$in_doc" "$((ran + 0))"

# the page is for real AWS: its config must not point at an endpoint
if grep -q endpointUrl "$tmp/work/config.yaml" 2>/dev/null; then
	bad "the page's config.yaml sets aws.endpointUrl"
else ok; fi

# ---- the daemon ----------------------------------------------------------
equals "the daemon exits 0 on SIGTERM" "exit 0" "$(cat "$tmp/daemon.result" 2>/dev/null)"
cp "$tmp/daemon.log" "$tmp/out" 2>/dev/null || : >"$tmp/out"
contains "the daemon reconciled" "reconcile started (start)"
if grep -q ': plan: ' "$tmp/out"; then
	contains "the daemon applied its plan" "applied: everything is healthy"
else ok; fi
if grep -q '^sagesync_reconcile_total{result="success"} [1-9]' "$tmp/daemon.metrics" 2>/dev/null; then
	ok
else
	bad "the daemon's reconcile did not succeed"
fi

# ---- what the page deployed ----------------------------------------------
equals "the endpoint serves" InService "$(endpoint EndpointStatus)"
config=$(endpoint EndpointConfigName)
model=$(aws sagemaker describe-endpoint-config --endpoint-config-name "$config" \
	--query "ProductionVariants[?VariantName=='current'].ModelName | [0]" --output text)
case "$model" in
churn-v2-*) ok ;;
*) bad "the current variant serves '$model', not churn v2" ;;
esac
package=$(aws sagemaker describe-model --model-name "$model" \
	--query PrimaryContainer.ModelPackageName --output text)
case "$package" in
*:model-package/churn/2) ok ;;
*) bad "churn v2's model is made from '$package', not version 2" ;;
esac
equals "version 2 is approved" Approved "$(aws sagemaker describe-model-package \
	--model-package-name "$package" --query ModelApprovalStatus --output text)"
equals "the old model is pruned" 0 "$(aws sagemaker list-models \
	--query "length(Models[?starts_with(ModelName, 'churn-v1-')])" --output text)"

finish
