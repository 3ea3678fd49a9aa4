#!/usr/bin/env bash
# Runs every test of the solution. Installs redis-server with apt-get when it is missing, since
# the integration tests start their own redis-server processes on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "redis-server or redis-cli not found: installing them with apt-get" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null
fi
redis-server --version

log=$(mktemp)
status=0
dotnet test TypedTasks.sln -c Release "$@" 2>&1 | tee "$log" || status=$?

# One closing line for the whole run, summed over the test projects.
awk '/^(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+/ {
       gsub(",", ""); failed += $4; passed += $6; skipped += $8 }
     END { printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }' "$log"
rm -f "$log"
exit "$status"
