#!/bin/sh
# Hostile Git content: a commit whose tree holds what a checkout would
# refuse ('..', '.git' and its NTFS and HFS+ aliases, a name with '/',
# links, a submodule, odd modes, duplicates, a huge manifest, a tree too
# deep or too wide) is refused whole, with an error naming the commit and
# the entry, by `apply --once`, by `plan --base --head` (a pull request in
# CI) and by the daemon, which keeps running and applies the next good
# commit. Nothing is written outside the export directory: the test
# looks for the planted file everywhere it could land. The trees are
# written with `git hash-object --literally`, which takes any bytes.
# Also: a plain-directory source with a link leading outside it, and
# source.path spelled in every way a person may write it.
# Usage: test_hostile.sh SAGESYNC SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
. "$src/tests/lib.sh"
daemon=""
# a name no other file on this machine has: where it turns up, a tree
# wrote it
id=PROOF-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null
	sim_stop
	# what a vulnerable build would have left: remove it, never keep it
	find /tmp "$tmp" -name "$id*" -exec rm -rf {} + 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
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
mkdir "$tmp/state"
cat >"$tmp/config.yaml" <<EOC
name: hostile-test
stateDir: $tmp/state
source: {url: "$repo", branch: main, path: environments/prod}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
EOC
sagesync() {
	"$bin" "$@" --config "$tmp/config.yaml" >"$tmp/out" 2>&1
	rc=$?
}
sagesync apply --once
equals "the good commit applies" 0 "$rc"
equals "threshold of the good commit" "5.0" "$(threshold)"

# ---- building trees no checkout would write -------------------------------
blob() { printf '%b' "$1" | git -C "$repo" hash-object -w --stdin; }
# rawtree MODE ID NAME ...: a tree object with these entries, as given
# (any bytes, any order), written as is
rawtree() {
	python3 - "$@" <<'PY' | git -C "$repo" hash-object -t tree --literally -w --stdin
import os, sys
a = sys.argv[1:]
out = b""
for i in range(0, len(a), 3):
    out += a[i].encode() + b" " + os.fsencode(a[i + 2]) + b"\0" + bytes.fromhex(a[i + 1])
sys.stdout.buffer.write(out)
PY
}
# the quickstart's entries, with the 5xx threshold raised to 42: applying
# a hostile commit would show in AWS
alarms42=$(sed 's/threshold: 5$/threshold: 42/' "$repo/environments/prod/alarms.yaml" |
	git -C "$repo" hash-object -w --stdin)
prod_entries() {
	git -C "$repo" ls-tree main:environments/prod | while read -r mode type oid name; do
		[ "$name" = alarms.yaml ] && oid=$alarms42
		printf '%s %s %s\n' "$mode" "$oid" "$name"
	done
}
# hostile LABEL [MODE ID NAME]...: branch h-LABEL, main with these entries
# added to environments/prod
hostile() {
	label=$1
	shift
	# shellcheck disable=SC2046
	prod=$(rawtree $(prod_entries) "$@")
	envs=$(printf '040000 tree %s\tprod\n' "$prod" | git -C "$repo" mktree)
	root=$( (git -C "$repo" ls-tree main | grep -v '	environments$'
		printf '040000 tree %s\tenvironments\n' "$envs") | git -C "$repo" mktree)
	commit=$(git -C "$repo" commit-tree "$root" -p main -m "hostile: $label")
	git -C "$repo" update-ref "refs/heads/h-$label" "$commit"
}

proof=$(blob "owned\n")
planted=$(rawtree 100644 "$proof" "$id.yaml")
climb=$(rawtree 040000 "$planted" "$id-x")
hooks=$(rawtree 100644 "$(blob '[core]\n\thooksPath = /tmp\n')" config)
main_commit=$(git -C "$repo" rev-parse main)
big=$(head -c 2000000 /dev/zero | tr '\0' '#' | git -C "$repo" hash-object -w --stdin)
deep=$planted
for i in $(seq 70); do deep=$(rawtree 040000 "$deep" d); done
# 16 entries per level, each the same tree below: 16^6 entries from 7
# objects
bomb=$planted
for i in $(seq 6); do
	args=""
	for j in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do args="$args 040000 $bomb d$j"; done
	# shellcheck disable=SC2086
	bomb=$(rawtree $args)
done

hostile dotdot 040000 "$climb" ..
hostile dot 040000 "$planted" .
hostile empty 100644 "$proof" ""
hostile slash 100644 "$proof" "x/../../../$id.yaml"
hostile dotgit 040000 "$hooks" .git
hostile dotgit-case 040000 "$hooks" .GiT
hostile ntfs-short 040000 "$hooks" GIT~1
hostile ntfs-trailing 040000 "$hooks" ".git. ."
hostile ntfs-stream 040000 "$hooks" '.git::$INDEX_ALLOCATION'
hostile hfs 040000 "$hooks" "$(printf '.g\342\200\214it')"
hostile hfs-bom 040000 "$hooks" "$(printf '\357\273\277.GIT')"
hostile control 100644 "$proof" "$(printf 'evil\033[2J.yaml')"
hostile link-in 120000 "$(blob 'alarms.yaml')" extra.yaml
hostile link-out 120000 "$(blob '/etc/passwd')" secrets.yaml
hostile link-dir 120000 "$(blob '../../..')" up
hostile submodule 160000 "$main_commit" vendored
hostile mode 100600 "$proof" odd.yaml
hostile duplicate 100644 "$proof" models.yaml
hostile big 100644 "$big" big.yaml
hostile deep 040000 "$deep" d
hostile bomb 040000 "$bomb" d

# label | the entry as the error shows it (quoted, path from the root of
# the repository; control and non-ASCII bytes as \xNN) | why
deep_entry=$(printf 'd/%.0s' $(seq 64))d
cat >"$tmp/cases" <<EOC
dotdot|'environments/prod/..'|'..' climbs out of its directory
dot|'environments/prod/.'|'.' names its own directory
empty|'environments/prod'|it cannot be read: failed to parse tree
slash|'environments/prod/x/../../../$id.yaml'|its name holds a '/'
dotgit|'environments/prod/.git'|'.git' is Git's own directory
dotgit-case|'environments/prod/.GiT'|'.git' is Git's own directory
ntfs-short|'environments/prod/GIT~1'|it is '.git' on NTFS
ntfs-trailing|'environments/prod/.git. .'|it is '.git' on NTFS
ntfs-stream|'environments/prod/.git::\$INDEX_ALLOCATION'|it is '.git' on NTFS
hfs|'environments/prod/.g\\xe2\\x80\\x8cit'|it is '.git' on HFS+
hfs-bom|'environments/prod/\\xef\\xbb\\xbf.GIT'|it is '.git' on HFS+
control|'environments/prod/evil\\x1b[2J.yaml'|its name holds a control character
link-in|'environments/prod/extra.yaml'|it is a symbolic link
link-out|'environments/prod/secrets.yaml'|it is a symbolic link
link-dir|'environments/prod/up'|it is a symbolic link
submodule|'environments/prod/vendored'|it is a submodule
mode|'environments/prod/odd.yaml'|mode 100600 is neither a regular file nor a directory
duplicate|'environments/prod/models.yaml'|it appears twice in its directory
big|'environments/prod/big.yaml'|it is 2000000 bytes; a manifest file may have at most 1048576
deep|'environments/prod/$deep_entry'|it is nested deeper than 64 directories
bomb|'environments/prod/d/|more than 200000 entries under the source path
EOC

# ---- apply --once and plan --base --head refuse each ----------------------
while IFS='|' read -r label shown says; do
	short=$(git -C "$repo" rev-parse --short=7 "h-$label")
	sagesync apply --once --revision "h-$label"
	equals "$label: apply refuses it" 1 "$rc"
	contains "$label: names the commit and the entry" \
		"$short: error: tree entry $shown"
	contains "$label: says why" "$says"
	contains "$label: nothing of it is applied" "nothing of this commit is read"
	sagesync plan --base main --head "h-$label" --output markdown
	equals "$label: the pull request's plan refuses it" 1 "$rc"
	contains "$label: the comment says why" "- \`$short\`: tree entry $shown"
done <"$tmp/cases"
equals "no hostile commit was applied" "5.0" "$(threshold)"

# a hostile entry outside source.path is never read: it is not this
# controller's directory
outside=$(rawtree $(git -C "$repo" ls-tree main | while read -r m t o n; do printf '%s %s %s ' "$m" "$o" "$n"; done) 040000 "$climb" ..)
git -C "$repo" update-ref refs/heads/h-outside "$(git -C "$repo" commit-tree "$outside" -p main -m outside)"
sagesync plan --revision h-outside
[ "$rc" -ne 1 ] && rc=planned
equals "a hostile entry outside source.path is not read" planned "$rc"

# ---- the daemon refuses them, keeps running, applies the next good one ----
git init -q --bare -b main "$tmp/remote.git"
git -C "$repo" push -q "$tmp/remote.git" main
sed -i "s|url: \"$repo\"|url: \"file://$tmp/remote.git\", interval: 1h|" "$tmp/config.yaml"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'server: {listen: "127.0.0.1:%s"}\n' "$port" >>"$tmp/config.yaml"
base=http://127.0.0.1:$port
"$bin" run --config "$tmp/config.yaml" --log-format text >"$tmp/daemon.out" 2>&1 &
daemon=$!
wait_for 60 at_least 1 || bad "the daemon did not reconcile"
invalid() { metric 'sagesync_reconcile_total{result="invalid"}'; }
n=0
for label in dotdot link-out submodule dotgit bomb; do
	git -C "$repo" push -q -f "$tmp/remote.git" "h-$label:main"
	n=$((n + 1))
	reconcile
	[ "$(invalid)" -ge "$n" ] && ok || bad "daemon: $label is not refused as invalid"
	kill -0 "$daemon" 2>/dev/null && ok || bad "daemon: died on $label"
done
cp "$tmp/daemon.out" "$tmp/out"
contains "daemon: logs the entry" "tree entry 'environments/prod/..'"
equals "daemon: nothing hostile applied" "5.0" "$(threshold)"
git -C "$repo" checkout -q main
sed -i 's/threshold: 5$/threshold: 7/' "$repo/environments/prod/alarms.yaml"
git -C "$repo" commit -q -am "a good change"
git -C "$repo" push -q -f "$tmp/remote.git" main
reconcile
equals "daemon: the next good commit is applied" "7.0" "$(threshold)"
kill -TERM "$daemon"
wait "$daemon"
equals "daemon: exits 0" 0 "$?"
daemon=""

# ---- nothing landed anywhere -------------------------------------------------
find /tmp "$tmp" -name "$id*" >"$tmp/out" 2>/dev/null
equals "no planted file outside the export directory" "" "$(cat "$tmp/out")"
equals "no export directory left behind" "" "$(find "$tmp/state" -maxdepth 1 -name 'export-*')"

# ---- a plain-directory source ------------------------------------------------
mkdir -p "$tmp/plain/prod" "$tmp/elsewhere"
cp "$src"/examples/quickstart/*.yaml "$tmp/plain/prod/"
cp "$src"/examples/quickstart/models.yaml "$tmp/elsewhere/more.yaml"
cat >"$tmp/plain.yaml" <<EOC
name: plain-test
source: {url: "$tmp/plain", path: prod}
aws: {region: us-east-1, endpointUrl: "$AWS_ENDPOINT_URL"}
EOC
plain() {
	"$bin" plan --config "$tmp/plain.yaml" >"$tmp/out" 2>&1
	rc=$?
	# 0: nothing to change, 2: changes; 1 is an error
	[ "$rc" -ne 1 ] && rc=planned
}
plain
equals "plain directory: plans" planned "$rc"
ln -s "$tmp/elsewhere" "$tmp/plain/prod/shared"
plain
equals "plain directory: a link to a directory outside is refused" 1 "$rc"
contains "plain directory: names the link" "prod/shared: error: is a symbolic link leading outside"
rm "$tmp/plain/prod/shared"
ln -s ../../elsewhere/more.yaml "$tmp/plain/prod/notes.txt"
plain
equals "plain directory: any link leading outside is refused" 1 "$rc"
contains "plain directory: names that link" "prod/notes.txt: error: is a symbolic link leading outside"
rm "$tmp/plain/prod/notes.txt"
ln -s models.yaml "$tmp/plain/prod/copy.yaml"
plain
equals "plain directory: a manifest link inside is refused too" 1 "$rc"
contains "plain directory: says links are not followed" "prod/copy.yaml: error: is a symbolic link"
rm "$tmp/plain/prod/copy.yaml"
echo "read me" >"$tmp/plain/prod/README"
ln -s README "$tmp/plain/prod/README.txt"
plain
equals "plain directory: another file's link inside is left alone" planned "$rc"

# ---- source.path as people write it -------------------------------------------
for p in ./environments/prod environments/prod/ environments//prod ./environments/./prod/ \
	environments/x/../prod; do
	sed -i "s|path: [^,}]*|path: $p|" "$tmp/config.yaml"
	sagesync plan --revision main
	[ "$rc" -ne 1 ] && rc=planned
	equals "source.path '$p' is environments/prod" planned "$rc"
done
for p in .. ../repo/environments/prod environments/../.. /etc .git/hooks environments/.GIT; do
	sed -i "s|path: [^,}]*|path: \"$p\"|" "$tmp/config.yaml"
	sagesync plan --revision main
	equals "source.path '$p' is refused" 1 "$rc"
	contains "source.path '$p': says so" "source.path"
done

finish
