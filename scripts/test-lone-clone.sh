#!/usr/bin/env bash
# Proves the project stands alone: clones the committed tree into an empty temporary folder (nothing beside
# it, so no ../shared), installs its dependencies from the lock file, and runs the whole test suite there.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d /tmp/rustnet-lone-XXXXXX)"
trap 'rm -rf "$work"' EXIT
# mktemp makes the folder 0700; some tests run the CLI as an unprivileged user, who must reach dist/.
chmod 755 "$work"
git clone --quiet --no-local . "$work/rustnet-ts"
cd "$work/rustnet-ts"
echo "lone clone of $(git rev-parse --short HEAD) in $work/rustnet-ts (nothing beside it: $(ls -A "$work" | tr '\n' ' '))"
npm ci --no-audit --no-fund --prefer-offline >/dev/null
npm test
