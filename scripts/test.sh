#!/usr/bin/env bash
# Runs every test of the solution. Installs redis-server with apt-get when it is missing, since
# the integration tests start their own redis-server processes on free loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server not found: installing it with apt-get" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null
fi
# The tests start their own servers; the distribution's service is not needed.
redis-server --version

dotnet test TypedTasks.sln -c Release --logger "console;verbosity=normal" "$@"
