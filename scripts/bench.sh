#!/usr/bin/env bash
# Builds and runs the benchmarks of `make bench`:
#   onair-bench      onair's ladder against one ffmpeg ladder command;
#                    arguments (or BENCH_ARGS) go to it, e.g. -runs 3;
#   onair-edgebench  the caching edge against nginx serving the same files,
#                    and origin requests per segment under 1,000 viewers;
#                    EDGEBENCH_ARGS go to it, e.g. -duration 10s;
#   PlaybackDelay    a go test benchmark: the delay from an RTMP publisher
#                    to readers over RTMP, RTMPS and SRT against a loopback
#                    TCP relay, with the 200 ms p90 target (about 45 s);
#   PartLatency      LL-HLS: from a picture's write into the hub to its part
#                    answering over HTTP, against the part target (30 s);
#   restream         process CPU of one input restreamed to 10 outputs as a
#                    ratio to 1 output, without and with the HLS transcoder.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bench-deps.sh
go build ${GOFLAGS:-} -o bin/onair-bench ./cmd/onair-bench
go build ${GOFLAGS:-} -o bin/onair-edgebench ./cmd/onair-edgebench
./bin/onair-bench ${BENCH_ARGS:-} "$@"
echo
go test ${GOFLAGS:-} -run '^$' -bench PlaybackDelay -benchtime 1x ./ingest/internal/playbench
echo
./bin/onair-edgebench ${EDGEBENCH_ARGS:-}
echo
go test ${GOFLAGS:-} -run '^$' -bench PartLatency -benchtime 1x ./delivery/internal/partbench/
echo
go test ${GOFLAGS:-} -p 1 -count=1 -run '^$' -bench 'BenchmarkOutputs|BenchmarkRestreamNode' \
	-benchtime 1x ./restream/ ./cmd/onair/ | grep -E 'CPU|^Benchmark'
