#!/bin/sh
# Runs each fuzz target for a bounded time from its seeds: for manifests
# the examples and the invalid-manifest corpus, for the config and the
# webhook receivers corpus/config and corpus/webhook, for SSH signatures
# corpus/sshsig, for the Git tree export corpus/tree (its scratch
# repository goes into the work directory). Findings make it fail.
# Usage: run.sh FUZZ_BUILD_DIR SECONDS
set -eu
build=$(cd "$1" && pwd)
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run TARGET SEED_FILES...: one target for the time given
run() {
	target=$1
	shift
	rm -rf "$work/corpus" "$work/seeds"
	mkdir "$work/corpus" "$work/seeds"
	cp "$@" "$work/seeds/"
	echo "fuzz_$target: ${seconds}s from $(ls "$work/seeds" | wc -l) seeds"
	(cd "$work" && TMPDIR="$work" ASAN_OPTIONS=detect_leaks=1 "$build/tests/fuzz/fuzz_$target" \
		-max_total_time="$seconds" -max_len=16384 -timeout=10 \
		-rss_limit_mb=1024 -dict="$here/manifest.dict" \
		-print_final_stats=1 corpus seeds 2>"$work/log") || {
		tail -n 60 "$work/log"
		echo "fuzz_$target: FAILED (crash input saved above)"
		exit 1
	}
	grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$work/log"
	echo "fuzz_$target: no crash, leak or timeout"
}

run manifest "$src"/examples/*/*.yaml "$src"/tests/fixtures/invalid/*.yaml
run config "$here"/corpus/config/*.yaml
run webhook "$here"/corpus/webhook/*
run sshsig "$here"/corpus/sshsig/*
run tree "$here"/corpus/tree/*
