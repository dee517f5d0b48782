#!/usr/bin/env bash
# Deletes diagnostic logs (logs/rustnet_*.log) older than N days (default 7). Usage: clear-old-logs.sh [DAYS] [DIR]
set -euo pipefail
days="${1:-7}"
dir="${2:-logs}"
if ! [[ "$days" =~ ^[0-9]+$ ]]; then
  echo "clear-old-logs: DAYS must be a whole number, got '$days'" >&2
  exit 2
fi
[ -d "$dir" ] || exit 0
find "$dir" -maxdepth 1 -type f -name 'rustnet_*.log' -mtime +"$days" -print -delete
