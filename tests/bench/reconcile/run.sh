#!/bin/sh
# make bench: the reconcile benchmark (see bench.py). Usage: run.sh SAGESYNC
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/bench.py" "$1" --json "${BENCH_JSON_RECONCILE:-bench-reconcile.json}" \
	${BENCH_SIZES:+--sizes "$BENCH_SIZES"}
