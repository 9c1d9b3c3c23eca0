#!/bin/sh
# Command-line tests of the sagesync binary: exit codes, help, output
# formats, and every case of the invalid-manifest corpus reported with its
# location. Usage: test_cli.sh SAGESYNC_BINARY SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# expect_exit CODE DESCRIPTION -- COMMAND...
expect_exit() {
	want=$1 what=$2
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok; else
		bad "$what: exit $got, expected $want"
		sed 's/^/  | /' "$tmp/out" "$tmp/err"
	fi
}

# expect_text FILE TEXT DESCRIPTION
expect_text() {
	if grep -qF -- "$2" "$1"; then ok; else
		bad "$3: no '$2' in output"
		sed 's/^/  | /' "$1"
	fi
}

expect_exit 2 "no arguments" -- "$bin"
expect_text "$tmp/err" "usage: sagesync COMMAND [OPTIONS]" "no arguments"
expect_text "$tmp/err" "Run 'sagesync --help' for more." "no arguments"
expect_exit 0 "--help" -- "$bin" --help
expect_text "$tmp/out" "validate   check manifests without touching AWS" \
	"--help"
expect_text "$tmp/out" "sagesync COMMAND --help" "--help"
expect_exit 2 "unknown command" -- "$bin" frobnicate
expect_text "$tmp/err" "unknown command 'frobnicate'" "unknown command"
expect_text "$tmp/err" "usage: sagesync COMMAND [OPTIONS]" "unknown command"
expect_exit 0 "version" -- "$bin" version
expect_text "$tmp/out" "sagesync 0." "version"
expect_exit 0 "validate --help" -- "$bin" validate --help
expect_text "$tmp/out" "sagesync validate [--output FORMAT] [PATH...]" \
	"validate --help"
expect_text "$tmp/out" "0   every manifest is valid" "validate --help"
expect_text "$tmp/out" "1   at least one error" "validate --help"
expect_text "$tmp/out" "2   a usage error" "validate --help"
expect_exit 2 "validate bad option" -- "$bin" validate --bogus
expect_text "$tmp/err" "usage: sagesync validate [--output FORMAT]" \
	"validate bad option"
expect_text "$tmp/err" "Run 'sagesync validate --help' for more." \
	"validate bad option"
expect_exit 2 "validate bad format" -- "$bin" validate --output xml
expect_text "$tmp/err" "unknown output format 'xml'" "validate bad format"

expect_exit 0 "quickstart is valid" -- "$bin" validate "$src/examples/quickstart"
expect_text "$tmp/out" "valid: 6 manifests in 4 files" "quickstart"
expect_text "$tmp/out" "Endpoint      churn-prod" "quickstart"

# with no PATH, the current directory
(cd "$src/examples/quickstart" && "$bin" validate >"$tmp/out" 2>&1)
if [ $? -eq 0 ]; then ok; else bad "validate with no path"; fi
expect_text "$tmp/out" ".: valid: 6 manifests" "validate with no path"

expect_exit 0 "quickstart json" -- "$bin" validate -o json \
	"$src/examples/quickstart"
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["valid"] is True, d
assert len(d["manifests"]) == 6, d
assert d["errors"] == [], d
assert {m["kind"] for m in d["manifests"]} == \
    {"ModelPackage", "Model", "Endpoint", "Alarm"}, d
' "$tmp/out"; then ok; else bad "quickstart json content"; fi

# every invalid case: exit 1, and its first expected location printed
for f in "$src"/tests/fixtures/invalid/*.yaml; do
	name=$(basename "$f")
	loc=$(sed -n 's/^# expect: \([0-9]*:[0-9]*\):.*/\1/p' "$f" | head -n 1)
	expect_exit 1 "$name" -- "$bin" validate "$f"
	expect_text "$tmp/err" "$f:$loc: error: " "$name"
	expect_exit 1 "$name json" -- "$bin" validate --output json "$f"
	if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["valid"] is False
line, col = map(int, sys.argv[2].split(":"))
e = d["errors"][0]
assert (e["line"], e["column"]) == (line, col), (e, line, col)
assert e["file"] == sys.argv[3] and e["message"], e
' "$tmp/out" "$loc" "$f"; then ok; else bad "$name json content"; fi
done

# a whole tree with errors in several files: all reported, exit 1
mkdir "$tmp/tree"
cp "$src"/tests/fixtures/invalid/0[1-3]-*.yaml "$tmp/tree/"
expect_exit 1 "tree of invalid files" -- "$bin" validate "$tmp/tree"
n=$(grep -c ': error: ' "$tmp/err")
if [ "$n" -ge 3 ]; then ok; else bad "tree: $n errors reported, expected >= 3"; fi

# a daemon that cannot start its server says why and exits 1, at once
mkdir "$tmp/src"
printf 'name: t\nstateDir: %s\nsource: {url: %s}\nserver: {listen: "localhost:1"}\naws: {region: us-east-1}\n' \
	"$tmp" "$tmp/src" >"$tmp/bad-listen.yaml"
expect_exit 1 "run with a listen address it cannot use" -- \
	timeout 20 "$bin" run --config "$tmp/bad-listen.yaml" --log-format text
expect_text "$tmp/err" "server.listen 'localhost:1': expected IPV4:PORT" "the failed start says why"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
