#!/usr/bin/env bash
# Installs the Debian packages that only `make bench` needs, and only those
# that are missing: nginx (the baseline the edge is measured against) and wrk
# (the load generator). `make test` never runs this.
set -euo pipefail

packages=(nginx wrk)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

echo "bench-deps: installing missing Debian packages: ${missing[*]}"
$sudo apt-get update -qq
# A policy-rc.d that refuses every start keeps the package from starting a
# system nginx on port 80; the bench runs its own on 127.0.0.1.
policy=/usr/sbin/policy-rc.d
added=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  added=1
fi

status=0
DEBIAN_FRONTEND=noninteractive \
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" || status=$?

if [ -n "$added" ]; then
  $sudo rm -f "$policy"
fi

if [ "$status" -ne 0 ]; then
  echo "bench-deps: apt-get install failed" >&2
  exit "$status"
fi
echo "bench-deps: done"
