#!/usr/bin/env bash
# Installs the Debian packages onair needs to build and test, and only those
# that are missing: FFmpeg 5.1 and libsrt development files for cgo, the
# ffmpeg, ffprobe and GStreamer commands the tests use as real peers, and
# Chromium and Node.js for the browser player test; then the npm packages
# pinned in web/playertest/package-lock.json (hls.js, dash.js,
# playwright-core), when they are not installed at the locked versions.
set -euo pipefail

packages=(
  gcc pkg-config
  libavcodec-dev libavformat-dev libavutil-dev libavfilter-dev libavdevice-dev
  libswscale-dev libswresample-dev
  libsrt-openssl-dev
  ffmpeg
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  chromium
)

# Node.js and npm from Debian, unless node and npm are on PATH already (from
# NodeSource, say, whose nodejs package carries npm and conflicts with
# Debian's npm).
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

# npm_install installs the player test's packages from its lock file, unless
# node_modules already holds exactly those (npm keeps a copy of the lock file
# there after each install).
npm_install() {
  local dir
  dir="$(dirname "$0")/../web/playertest"
  if cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.ci" 2>/dev/null; then
    return 0
  fi

  echo "deps: npm ci in web/playertest"
  (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.ci"
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ! command -v go >/dev/null 2>&1; then
  echo "deps: Go is not on PATH; install Go 1.26 (https://go.dev/dl/) and retry" >&2
  exit 1
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all Debian packages present"
  npm_install
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

echo "deps: installing missing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
npm_install
echo "deps: done"
