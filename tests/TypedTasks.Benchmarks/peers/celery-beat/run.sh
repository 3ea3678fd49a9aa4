#!/usr/bin/env bash
# Celery beat's fire lateness beside TypedTasks' (docs/schedules.md): a fresh redis-server, three
# Celery worker processes and one beat, ten entries every second, SECONDS (30) of runs. Needs the
# system's python3 with Celery and redis-py (apt-get install python3-celery python3-redis).
#   bash run.sh [SECONDS]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SECONDS_RUN="${1:-30}"
PY=/usr/bin/python3
WORK="$(mktemp -d)"
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export BROKER="redis://127.0.0.1:$PORT/0" PYTHONPATH="$HERE"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

redis-server --port "$PORT" --save "" --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 & pids+=($!)
sleep 0.5
# exec: the pid kept is Celery's own, so that cleanup stops it (a subshell's would leave it running).
for i in 1 2 3; do
  (cd "$WORK" && exec $PY -m celery -A lateness worker -c 4 -n "w$i@%h" --without-gossip --without-mingle --without-heartbeat --loglevel=WARNING >"$WORK/worker$i.log" 2>&1) & pids+=($!)
done
sleep 3
(cd "$WORK" && exec $PY -m celery -A lateness beat -s "$WORK/beat-schedule" --loglevel=WARNING >"$WORK/beat.log" 2>&1) & pids+=($!)
sleep "$SECONDS_RUN"
cd "$HERE" && $PY lateness.py
