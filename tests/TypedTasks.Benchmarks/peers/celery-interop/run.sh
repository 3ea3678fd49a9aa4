#!/usr/bin/env bash
# Python producer -> .NET worker (TypedTasks.Celery) beside Python producer -> Python worker
# (celery prefork, -c CONCURRENCY), on a fresh redis-server each: S1 throughput and S2 latency
# p50/p99 as JSON lines, then one line with the ratios (.NET / Python). Needs the system's python3
# with Celery and redis-py (apt-get install python3-celery python3-redis) and a Release build of
# the benchmarks (dotnet build tests/TypedTasks.Benchmarks -c Release).
#   bash run.sh [S1_N] [S2_N] [CONCURRENCY]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
S1_N="${1:-2000}" S2_N="${2:-300}" CONCURRENCY="${3:-2}"
PY=/usr/bin/python3
BENCH="$HERE/../../bin/Release/net10.0/TypedTasks.Benchmarks.dll"
[ -f "$BENCH" ] || { echo "build first: dotnet build tests/TypedTasks.Benchmarks -c Release" >&2; exit 2; }
WORK="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
export PYTHONPATH="$HERE" QUEUE=bench

one() {  # one() LABEL: a fresh redis-server, the worker of LABEL, the producer; prints its JSON lines
  local label="$1" port
  port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  export BROKER="redis://127.0.0.1:$port/0"
  redis-server --port "$port" --save "" --appendonly no --dir "$WORK" >"$WORK/redis-$label.log" 2>&1 & pids+=($!)
  sleep 0.5
  if [ "$label" = dotnet ]; then
    dotnet "$BENCH" celery-worker --redis "127.0.0.1:$port" --queue bench --concurrency "$CONCURRENCY" >"$WORK/worker-$label.log" 2>&1 & pids+=($!)
  else
    (cd "$HERE" && exec $PY -m celery -A bench worker -Q bench --pool=prefork -c "$CONCURRENCY" --without-gossip --without-mingle --without-heartbeat --loglevel=WARNING >"$WORK/worker-$label.log" 2>&1) & pids+=($!)
  fi
  sleep 3
  $PY "$HERE/bench.py" "$label" "$S1_N" "$S2_N"
}

one dotnet >"$WORK/lines.jsonl"
one python-prefork >>"$WORK/lines.jsonl"
cat "$WORK/lines.jsonl"
$PY - "$WORK/lines.jsonl" <<'PYEOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by = {(l["scenario"], l["worker"]): l for l in lines}
s1 = by[("S1-throughput", "dotnet")]["throughput_per_s"] / by[("S1-throughput", "python-prefork")]["throughput_per_s"]
p50 = by[("S2-latency", "dotnet")]["p50_ms"] / by[("S2-latency", "python-prefork")]["p50_ms"]
p99 = by[("S2-latency", "dotnet")]["p99_ms"] / by[("S2-latency", "python-prefork")]["p99_ms"]
print(json.dumps({"system": "celery-interop", "scenario": "ratio-dotnet-over-python", "s1_throughput": round(s1, 2),
                  "s2_p50": round(p50, 2), "s2_p99": round(p99, 2)}))
PYEOF
