#!/bin/sh
# plan and apply from a local Git repository: the revision is the commit
# (and tags every resource), --revision picks an older one, source.path
# selects a directory, and a bad commit is reported as COMMIT:FILE:LINE:COL
# with nothing applied. Usage: test_apply_git.sh SAGESYNC SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
trap 'sim_stop; rm -rf "$tmp"' EXIT INT TERM
isolate_aws
export SAGESYNC_POLL_MS=100
git_identity
sim_start SIM_STATE_SECONDS=0
quickstart_prerequisites

repo=$tmp/repo
git init -q -b main "$repo"
mkdir -p "$repo/environments/prod"
cp "$src"/examples/quickstart/*.yaml "$repo/environments/prod/"
echo "not a manifest" >"$repo/README.md"
git -C "$repo" add -A && git -C "$repo" commit -q -m "quickstart"
first=$(git -C "$repo" rev-parse HEAD)
sed -i 's/threshold: 5$/threshold: 9/' "$repo/environments/prod/alarms.yaml"
git -C "$repo" commit -q -am "raise the 5xx threshold"
second=$(git -C "$repo" rev-parse HEAD)
cat >"$tmp/config.yaml" <<EOC
name: git-test
stateDir: $tmp/state
source: {url: "file://$repo", branch: main, path: environments/prod}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
EOC
mkdir "$tmp/state"
sagesync() {
	"$bin" "$@" --config "$tmp/config.yaml" >"$tmp/out" 2>&1
	rc=$?
}

sagesync apply --once
equals "apply the branch" 0 "$rc"
contains "the revision is the commit" "revision $second"
equals "branch content" "9.0" "$(threshold)"
arn=$(aws sagemaker describe-endpoint --endpoint-name churn-prod --query EndpointArn --output text)
equals "resources carry the commit" "$second" "$(aws sagemaker list-tags --resource-arn "$arn" \
	--query "Tags[?Key=='sagesync:revision'].Value | [0]" --output text)"

sagesync plan --revision "$first"
equals "an older revision differs" 2 "$rc"
contains "older revision" "Threshold: 9.0 -> 5.0"
sagesync apply --once --revision HEAD~1
equals "apply an older revision" 0 "$rc"
contains "HEAD~1 resolved" "revision $first"
equals "older content applied" "5.0" "$(threshold)"

# a pull request: AWS is on the first commit, main on the second (5xx
# threshold 9, not applied yet), and the branch raises the latency
# threshold. Its plan shows its own change, and the pending one apart.
git -C "$repo" checkout -q -b pr
sed -i 's/threshold: 250000$/threshold: 300000/' "$repo/environments/prod/alarms.yaml"
git -C "$repo" commit -q -am "raise the latency threshold"
pr=$(git -C "$repo" rev-parse HEAD)
git -C "$repo" checkout -q main
sagesync plan --base main --head pr --output markdown
equals "pull request plan" 2 "$rc"
short() { printf '%.7s' "$1"; }
contains "markdown heading" "### sagesync plan: \`git-test\`, \`$(short "$second")\` → \`$(short "$pr")\`"
contains "the pull request's change" "| \`~\` | Alarm | \`churn-prod-latency\` | update: Threshold: 250000.0 -> 300000.0 |"
contains "its summary" "**0 to create, 1 to update, 0 to delete**"
contains "the pending change folded" "<details><summary>1 change pending before this one"
[ "$(sed -n '/<details>/,$p' "$tmp/out" | grep -c 'churn-prod-5xx.*Threshold: 5.0 -> 9.0')" -eq 1 ] &&
	ok || bad "the pending change is under <details>"
[ "$(sed -n '1,/<details>/p' "$tmp/out" | grep -c 'churn-prod-5xx')" -eq 0 ] &&
	ok || bad "the pending change is not the pull request's"
sagesync plan --base main --head pr
equals "text plan of a pull request" 2 "$rc"
contains "base named" "base $second"
contains "pending marked" "Threshold: 5.0 -> 9.0 (pending before this change)"
sagesync plan --base "$second" --head pr --output json
equals "json plan of a pull request" 2 "$rc"
equals "pendingBefore in json" "churn-prod-5xx true,churn-prod-latency false" \
	"$(sed -n '/^{/,/^}/p' "$tmp/out" | python3 -c 'import json, sys
print(",".join(c["name"] + " " + str(c["pendingBefore"]).lower() for c in json.load(sys.stdin)["changes"]))')"
sagesync plan --base pr --head pr --output markdown
equals "base = head: every change is pending" 2 "$rc"
contains "nothing of the pull request's own" "**No changes** in AWS from this revision."
git -C "$repo" checkout -q pr
sed -i 's/comparison: GreaterThanThreshold/comparison: Greater/' "$repo/environments/prod/alarms.yaml"
git -C "$repo" commit -q -am "a typo"
git -C "$repo" checkout -q main
sagesync plan --base main --head pr --output markdown
equals "an invalid pull request" 1 "$rc"
contains "said in the comment" "**Invalid: nothing of this revision would be applied.**"
contains "located in the comment" "- \`$(git -C "$repo" rev-parse --short=7 pr):environments/prod/alarms.yaml:"
sagesync plan --base no-such-branch
equals "unknown base" 1 "$rc"
contains "unknown base named" "--base"
sagesync plan --head pr --revision main
equals "--head and --revision" 2 "$rc"
sagesync apply --once --base main
equals "--base is plan's" 2 "$rc"

# a commit with an error: named by commit and path, nothing applied
sed -i 's/statistic: Sum/statistic: sum/' "$repo/environments/prod/alarms.yaml"
git -C "$repo" commit -q -am "break it"
bad=$(git -C "$repo" rev-parse --short=7 HEAD)
sagesync apply --once
equals "bad commit refused" 1 "$rc"
contains "error located in the commit" "$bad:environments/prod/alarms.yaml:"
contains "error message" "did you mean \"Sum\"?"
equals "nothing applied" "5.0" "$(threshold)"

sagesync plan --revision no-such-branch
equals "unknown revision" 1 "$rc"
contains "unknown revision named" "no-such-branch"

# a symbolic link in a commit is refused, as in a directory
git -C "$repo" checkout -q "$second" -- environments/prod/alarms.yaml
ln -s /etc/passwd "$repo/environments/prod/secret.yaml"
git -C "$repo" add -A && git -C "$repo" commit -q -m "a link"
linked=$(git -C "$repo" rev-parse --short=7 HEAD)
sagesync plan
equals "link refused" 1 "$rc"
contains "link named" "$linked: error: tree entry 'environments/prod/secret.yaml' is refused: it is a symbolic link"

# a repository Git will not open is an error, never a plain directory
if [ "$(id -u)" -eq 0 ]; then
	cp -r "$repo" "$tmp/foreign"
	chown -R nobody "$tmp/foreign"
	sed "s|file://$repo|$tmp/foreign|" "$tmp/config.yaml" >"$tmp/foreign.yaml"
	"$bin" plan --config "$tmp/foreign.yaml" >"$tmp/out" 2>&1
	equals "foreign repository refused" 1 "$?"
	contains "foreign repository named" "owned by another user"
fi

finish
