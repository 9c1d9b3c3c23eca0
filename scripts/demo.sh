#!/bin/sh
# make demo: what sagesync can do so far, narrated. Today that is
# validation: the quickstart desired state is checked the way the
# controller checks every revision before it touches AWS, then a broken
# change shows what a pull request author would see. Later issues grow
# this into the full deploy / promote / rollback story.
# Exits non-zero if any step does not happen as narrated.
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { printf '\ndemo: FAILED: %s\n' "$*" >&2; exit 1; }

say "1. The desired state: examples/quickstart"
echo "One model version approved in the registry, two models, one endpoint"
echo "with two variants and autoscaling, and the two alarms that guard it."
cd "$here" || die "cannot enter $here"
ls examples/quickstart

say "2. sagesync validate examples/quickstart"
echo "Every manifest is checked before any AWS call: YAML, the schema of"
echo "each kind, AWS's own limits, and the references between manifests."
"$bin" validate examples/quickstart || die "the quickstart should be valid"

say "3. A pull request with mistakes"
echo "Someone points the endpoint at churn-v8 but forgets its Model manifest,"
echo "mistypes an instance type, a field name and an alarm name:"
cp -r examples/quickstart "$tmp/pr"
sed -e '0,/instanceType: ml.m5.large/s//instanceType: ml.m5.larg/' \
	-e 's/model: churn-v7/model: churn-v8/' \
	-e 's/bakeSeconds: 300/bakeSecond: 300/' \
	-e 's/churn-prod-latency\]/churn-prod-latncy]/' \
	examples/quickstart/endpoint.yaml >"$tmp/pr/endpoint.yaml"
diff -u examples/quickstart/endpoint.yaml "$tmp/pr/endpoint.yaml" |
	sed -n '3,$p' | grep '^[-+]'
echo
echo "sagesync validate reports every error at once, with file, line and"
echo "column, and refuses the whole revision (exit status 1):"
(cd "$tmp" && "$bin" validate pr)
rc=$?
[ "$rc" -eq 1 ] || die "validate should exit 1 on the broken change, got $rc"
n=$(cd "$tmp" && "$bin" validate pr 2>&1 | grep -c ': error: ')
[ "$n" -ge 4 ] || die "expected at least 4 errors, saw $n"

say "4. The same, for CI: sagesync validate --output json"
(cd "$tmp" && "$bin" validate --output json pr) | head -n 12
echo "  ..."

say "Done: the quickstart is valid, and a broken change is caught before AWS."
