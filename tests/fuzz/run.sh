#!/bin/sh
# Runs each fuzz target for a bounded time with the seed corpus: the
# examples and the invalid-manifest corpus. Findings make it fail.
# Usage: run.sh FUZZ_BUILD_DIR SECONDS
set -eu
build=$(cd "$1" && pwd)
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir "$work/corpus" "$work/seeds"
cp "$src"/examples/*/*.yaml "$src"/tests/fixtures/invalid/*.yaml \
	"$work/seeds/"
cd "$work"
echo "fuzz_manifest: ${seconds}s from $(ls seeds | wc -l) seeds"
ASAN_OPTIONS=detect_leaks=1 "$build/tests/fuzz/fuzz_manifest" \
	-max_total_time="$seconds" -max_len=16384 -timeout=10 \
	-rss_limit_mb=1024 -dict="$here/manifest.dict" -print_final_stats=1 \
	corpus seeds 2>"$work/log" || {
	cat "$work/log" >&2
	tail -n 60 "$work/log"
	echo "fuzz_manifest: FAILED (crash input saved above)"
	exit 1
}
grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$work/log"
echo "fuzz_manifest: no crash, leak or timeout"
