#!/bin/sh
# make bench: the validate benchmark (see bench.py). Usage: run.sh SAGESYNC
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/bench.py" "$1" --json "${BENCH_JSON:-bench-validate.json}"
