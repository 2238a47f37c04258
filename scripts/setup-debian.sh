#!/usr/bin/env bash
# One-time machine setup on Debian 12 (bookworm) for the tests and the headless lab:
#  - chromium: the browser the end-to-end tests drive (its SwiftShader is also a software Vulkan);
#  - Mesa >= 24 lavapipe (software Vulkan, ~10x faster than SwiftShader for compute), from
#    bookworm-backports: Debian 12's own Mesa 22.3 is too old for Dawn.
# Idempotent. Needs root (or sudo). Machines with a real GPU and a browser can skip it.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need_update=1
apt_update() { if [ "$need_update" = 1 ]; then $SUDO apt-get update -q; need_update=0; fi; }

if ! command -v chromium >/dev/null 2>&1; then
  apt_update
  $SUDO apt-get install -y -q --no-install-recommends chromium
fi

mesa_version=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
mesa_major=${mesa_version%%.*}
if [ -z "$mesa_version" ] || [ "${mesa_major:-0}" -lt 24 ]; then
  # Enable bookworm-backports by extending the existing suite list (no new host names).
  src=/etc/apt/sources.list.d/debian.sources
  if [ -f "$src" ] && ! grep -q 'bookworm-backports' "$src"; then
    $SUDO sed -i '0,/^Suites: bookworm\( \|$\)/s//Suites: bookworm bookworm-backports\1/' "$src"
    need_update=1
  elif [ -f /etc/apt/sources.list ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    line=$(grep -E '^deb .* bookworm main' /etc/apt/sources.list | head -n 1 || true)
    if [ -n "$line" ]; then
      echo "${line/ bookworm main/ bookworm-backports main}" | $SUDO tee /etc/apt/sources.list.d/backports.list >/dev/null
      need_update=1
    fi
  fi
  apt_update
  $SUDO apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers || {
    echo "setup: could not install Mesa >= 24 from bookworm-backports; tests will use chromium's SwiftShader (slower)" >&2
  }
fi
echo "setup: chromium $(chromium --version 2>/dev/null | awk '{print $2}'), mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo none)"
