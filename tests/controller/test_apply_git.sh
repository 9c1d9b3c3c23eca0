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
sagesync plan
equals "link refused" 1 "$rc"
contains "link named" "secret.yaml: error: is a symbolic link"

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
