#!/usr/bin/env bash
# Builds and runs the benchmarks of `make bench`:
#   onair-bench      onair's ladder against one ffmpeg ladder command;
#                    arguments (or BENCH_ARGS) go to it, e.g. -runs 3;
#   onair-edgebench  the caching edge against nginx serving the same files,
#                    and origin requests per segment under 1,000 viewers;
#                    EDGEBENCH_ARGS go to it, e.g. -duration 10s;
#   restream         process CPU of one input restreamed to 10 outputs as a
#                    ratio to 1 output, without and with the HLS transcoder.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bench-deps.sh
go build ${GOFLAGS:-} -o bin/onair-bench ./cmd/onair-bench
go build ${GOFLAGS:-} -o bin/onair-edgebench ./cmd/onair-edgebench
./bin/onair-bench ${BENCH_ARGS:-} "$@"
echo
./bin/onair-edgebench ${EDGEBENCH_ARGS:-}
echo
go test ${GOFLAGS:-} -p 1 -count=1 -run '^$' -bench 'BenchmarkOutputs|BenchmarkRestreamNode' \
	-benchtime 1x ./restream/ ./cmd/onair/ | grep -E 'CPU|^Benchmark'
