#!/usr/bin/env bash
# npm run setup — everything a fresh Debian 12 machine needs, then the build.
# Installs missing apt packages (as root, or through sudo), then npm deps, then builds.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the test suite, the console and the agent use (runc + conmon run containers;
# openssh-server runs one sshd per test host; socat bridges conmon's SEQPACKET attach socket; util-linux gives script(1) for pty tests; nftables holds
# the agent's NAT and published ports; curl for the network tests; podman and wrk are benchmark peers/tools).
APT_PACKAGES=(chromium postgresql-client iproute2 procps docker-registry skopeo busybox-static zstd attr apache2-utils openssl util-linux runc conmon socat nftables curl podman wrk openssh-server openssh-client docker-compose)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[setup] installing apt packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "[setup] apt packages present: ${APT_PACKAGES[*]}"
fi

echo "[setup] npm ci"
npm ci --no-audit --no-fund

echo "[setup] build"
export NEXT_TELEMETRY_DISABLED=1
npm run build
echo "[setup] done. Run the tests with: npm test — start the console with: npm start"
