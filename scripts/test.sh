#!/usr/bin/env bash
# Runs every test of the solution. Installs redis-server, chromium and Python Celery with apt-get
# when they are missing: the integration tests start their own redis-server processes on free loopback ports, and
# the dashboard's browser tests drive headless chromium.
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

# The dashboard's browser tests drive Debian's chromium (/usr/bin/chromium) with Playwright; no
# browser is downloaded.
if [ ! -x /usr/bin/chromium ]; then
  echo "chromium not found: installing Debian's chromium with apt-get" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
echo "chromium: /usr/bin/chromium"

# The Celery interoperation tests run Debian's Python Celery (/usr/bin/python3, whatever python3
# comes first on PATH) against the .NET worker and client.
if ! /usr/bin/python3 -c "import celery, redis, msgpack" >/dev/null 2>&1; then
  echo "Python Celery not found: installing python3-celery, python3-redis and python3-msgpack with apt-get" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-celery python3-redis python3-msgpack >/dev/null
fi
/usr/bin/python3 -c "import celery; print('celery', celery.__version__)"

log=$(mktemp)
status=0
dotnet test TypedTasks.sln -c Release "$@" 2>&1 | tee "$log" || status=$?

# One closing line for the whole run, summed over the test projects.
awk '/^(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+/ {
       gsub(",", ""); failed += $4; passed += $6; skipped += $8 }
     END { printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped }' "$log"
rm -f "$log"
exit "$status"
