#!/usr/bin/env bash
# One-step set-up on Debian 12 as root: system packages, dependencies, build, and `rustnet-ts` on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
# libpcap-dev: the `cap` binding compiles against it. tcpdump: --bpf-filter with --read, and the bench floor.
# tmux: terminal UI tests. xvfb, xsel: the clipboard test (a display for clipboardy). iproute2: network-namespace
# tests. python3: the TUN reflector of the live-capture test.
apt-get update -qq
apt-get install -y -qq --no-install-recommends libpcap-dev tcpdump tmux iproute2 python3 make g++ xvfb xsel >/dev/null
npm ci --no-audit --no-fund
npm run build
chmod +x dist/main.js
ln -sf "$PWD/dist/main.js" /usr/local/bin/rustnet-ts
echo "rustnet-ts installed: $(command -v rustnet-ts) ($(rustnet-ts --version))"
