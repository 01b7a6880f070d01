#!/usr/bin/env bash
# Builds and runs onair-bench: onair's ladder against one ffmpeg command doing
# the same ladder. Arguments (or BENCH_ARGS) go to it, e.g. -runs 3.
set -euo pipefail
cd "$(dirname "$0")/.."
go build ${GOFLAGS:-} -o bin/onair-bench ./cmd/onair-bench
exec ./bin/onair-bench ${BENCH_ARGS:-} "$@"
