#!/usr/bin/env bash
# gpu-check.sh: on a machine with an NVIDIA GPU, runs the transcoding ladder
# of a two-minute 1080p30 clip published over RTMP with --hwaccel nvenc, then
# with --hwaccel none, and prints pictures encoded per second and the CPU
# seconds the onair process used for each. Everything listens on 127.0.0.1.
# It also runs the gpu-tagged Go tests of transcode.
#
# Usage: scripts/gpu-check.sh [seconds]   (default 120; HWACCELS="nvenc none")
set -euo pipefail

secs=${1:-120}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

cd "$root"
go build -o "$work/onair" ./cmd/onair
"$work/onair" version

echo "== go test -tags gpu ./transcode/ -run GPU"
go test -tags gpu -count=1 -run GPU -v ./transcode/ 2>&1 | tail -20 || echo "gpu tests FAILED"

clip="$work/clip-1080p30.mp4"
ffmpeg -v error -f lavfi -i "testsrc2=size=1920x1080:rate=30" -f lavfi -i "sine=f=440:r=48000" \
	-t "$secs" -c:v libx264 -preset veryfast -g 60 -b:v 6M -pix_fmt yuv420p \
	-c:a aac -b:a 128k "$clip"

token=gpu-check-token
acct=0123456789abcdef0123456789abcdef

run_one() {
	local hw=$1 data="$work/data-$1" log="$work/onair-$1.log"
	mkdir -p "$data"
	"$work/onair" serve --hwaccel "$hw" --data "$data" --http 127.0.0.1:18080 \
		--rtmp 127.0.0.1:11935 --api-token "$token" --account-id "$acct" \
		--log-level info >"$log" 2>&1 &
	local pid=$!
	pids+=("$pid")
	for _ in $(seq 100); do
		curl -fs http://127.0.0.1:18080/healthz >/dev/null && break
		if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; return 1; fi
		sleep 0.1
	done
	local li key uid
	li=$(curl -fs -X POST -H "Authorization: Bearer $token" -d '{}' \
		"http://127.0.0.1:18080/client/v4/accounts/$acct/stream/live_inputs")
	key=$(grep -o '"streamKey":"[^"]*"' <<<"$li" | head -1 | cut -d'"' -f4)
	uid=$(grep -o '"uid":"[^"]*"' <<<"$li" | head -1 | cut -d'"' -f4)

	local t0 t1
	t0=$(date +%s.%N)
	ffmpeg -v error -re -i "$clip" -c copy -f flv "rtmp://127.0.0.1:11935/live/$key"
	t1=$(date +%s.%N)

	local metrics frames ticks cpu
	metrics=$(curl -fs http://127.0.0.1:18080/metrics || true)
	grep "onair_transcode_encoder" <<<"$metrics" || echo "(input already ended)"
	frames=$(grep "^onair_transcode_frames_total{input=\"$uid\"" <<<"$metrics" |
		awk '{s += $NF} END {print s + 0}')
	ticks=$(getconf CLK_TCK)
	cpu=$(awk -v t="$ticks" '{print ($14 + $15) / t}' "/proc/$pid/stat")
	kill "$pid"; wait "$pid" || true
	grep -E "video encoder chosen|hardware encoder failed|moved to libx264" "$log" || true
	awk -v hw="$hw" -v f="$frames" -v a="$t0" -v b="$t1" -v c="$cpu" 'BEGIN {
		printf "%-6s %8.1f pictures/s (all rungs)  %8.1f CPU s  over %.0f s\n",
			hw, f / (b - a), c, b - a }'
}

echo "== ladder benchmark, ${secs}s of 1080p30"
for hw in ${HWACCELS:-nvenc none}; do run_one "$hw"; done
