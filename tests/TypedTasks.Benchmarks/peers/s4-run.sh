#!/usr/bin/env bash
# S4-chord, one system after another, each on a fresh redis-server of its own on loopback:
#   1. TypedTasks: the harness's S4-chord (Release build): a chord of CHORD_N `bench.add` members
#      and a `bench.sum` callback, and M4-chord-memory (one chord in flight, no worker);
#   2. Celery 5.2 (Debian's /usr/bin/python3): chord([add.s(i, i) ...])(tsum.s()).get(), Redis
#      broker and result backend, for each pool of CELERY_POOLS; the memory of one chord sent
#      before any worker starts;
#   3. BullMQ: FlowProducer.add() of a parent `sum` with CHORD_N `add` children, one worker
#      (concurrency BULLMQ_CONCURRENCY); the memory of one flow added before the worker starts.
# Every measured run has a fresh worker process and a fresh client warmed by 50 add round trips,
# as the TypedTasks harness does; WARM=1 adds one chord not counted on each worker first.
# Then the table (s4-table.js). Knobs: REPEATS (5), CHORD_N (1000), WARM (0),
# CELERY_POOLS ("prefork:2 prefork:4 threads:8 solo:1"; gevent:100 was slowest; skipped when not installed),
# BULLMQ_CONCURRENCY (50, as the peers' S1/S2 harness), SYSTEMS ("typedtasks celery bullmq": which run,
# in that order), RESULTS (a .jsonl file), SKIP_BUILD=1.
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BENCH="$(cd "$HERE/.." && pwd)"
REPEATS="${REPEATS:-5}" CHORD_N="${CHORD_N:-1000}" WARM="${WARM:-0}"
CELERY_POOLS="${CELERY_POOLS:-prefork:2 prefork:4 threads:8 solo:1}"
BULLMQ_CONCURRENCY="${BULLMQ_CONCURRENCY:-50}"
SYSTEMS="${SYSTEMS:-typedtasks celery bullmq}"
RESULTS="${RESULTS:-${TMPDIR:-/tmp}/s4-$(date -u +%Y%m%dT%H%M%SZ).jsonl}"
PY=/usr/bin/python3   # Debian's python3, where python3-celery lives (a pyenv python3 may come first on PATH)
WORK="$(mktemp -d)"
PIDS=()
say() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
die() { say "$*"; exit 1; }

# Processes are started in their own process group (setsid) and stopped by that id: TERM, a
# bounded wait, then KILL.
start_bg() {  # LOG CMD...
  local log="$1"; shift
  setsid "$@" >"$log" 2>&1 < /dev/null &
  BG_PID=$!
  PIDS+=("$BG_PID")
}
stop_pid() {
  local pid="$1" i
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
}
cleanup() { local p; for p in "${PIDS[@]}"; do stop_pid "$p"; done; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start_redis() {  # NAME: a fresh redis-server on a free loopback port, no persistence
  PORT=$(free_port)
  mkdir -p "$WORK/$1"
  start_bg "$WORK/$1/redis.log" redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK/$1"
  REDIS_PID=$BG_PID
  local i
  for ((i = 0; i < 50; i++)); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "redis-server did not answer on port $PORT: $(cat "$WORK/$1/redis.log")"
}
wait_ready() {  # LOG WORD: a worker's start-up line, 60 s at most
  local i
  for ((i = 0; i < 600; i++)); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  die "no '$2' from the worker in 60 s: $(tail -20 "$1")"
}
load_line() {  # SYSTEM: the load average before its runs, as a line of the results
  read -r l1 l5 l15 _ < /proc/loadavg
  echo "{\"system\":\"$1\",\"scenario\":\"load\",\"loadavg\":[$l1,$l5,$l15]}" >>"$RESULTS"
  say "$1: load average $l1 $l5 $l15"
}
# A client run, bounded; its JSON lines go to the results and to stdout.
client() { timeout 600 "$@" 2>>"$WORK/clients.log" | grep '^{' | tee -a "$RESULTS"; return "${PIPESTATUS[0]}"; }

# REPEATS measured runs, each with a fresh worker started in DIR (READY: its start-up line, or
# empty when the client's first round trip waits for it) and the client; the first run also
# waits for the memory step's workflow ($pending).
#   run_each DIR READY WORKER_CMD... -- CLIENT_CMD...
run_each() {
  local dir="$1" ready="$2" wcmd=() rep worker
  shift 2
  while [ "$1" != -- ]; do wcmd+=("$1"); shift; done
  shift
  for ((rep = 1; rep <= REPEATS; rep++)); do
    (cd "$dir" && start_bg "$WORK/worker.log" "${wcmd[@]}"; echo "$BG_PID" >"$WORK/worker.pid")
    worker=$(cat "$WORK/worker.pid"); PIDS+=("$worker")
    [ -z "$ready" ] || wait_ready "$WORK/worker.log" "$ready"
    (cd "$dir" && client "$@" --rep "$rep" ${pending:+--pending "$pending"}) >/dev/null || die "run $rep of '$*' failed: $(tail -20 "$WORK/clients.log")"
    tail -1 "$RESULTS" >&2
    pending=
    stop_pid "$worker"
  done
}

command -v redis-server >/dev/null || die "redis-server is missing (apt-get install redis-server redis-tools)"
"$PY" -c 'import celery, redis' 2>/dev/null || die "$PY lacks Celery or redis-py (apt-get install python3-celery python3-redis)"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  dotnet build "$BENCH/TypedTasks.Benchmarks.csproj" -c Release --nologo -v quiet >&2 || die "build failed"
fi
[ -d "$HERE/bullmq-flow/node_modules/bullmq" ] || (cd "$HERE/bullmq-flow" && npm ci --no-audit --no-fund >&2) || die "npm ci failed"
say "results in $RESULTS"

# 1. TypedTasks: the harness starts its own redis-server, worker processes and producer hosts.
run_typedtasks() {
  load_line typedtasks
  say "TypedTasks: S4-chord x $REPEATS"
  (cd "$BENCH/bin/Release/net10.0" && SCENARIOS=S4-chord REPEATS="$REPEATS" CHORD_N="$CHORD_N" CHORD_WARMUP="$WARM" \
    timeout 900 dotnet TypedTasks.Benchmarks.dll 2>>"$WORK/clients.log") | grep '^{' | tee -a "$RESULTS" || die "TypedTasks' S4 failed: $(tail -20 "$WORK/clients.log")"
}

# 2. Celery, one fresh redis-server per pool.
run_celery() {
  if "$PY" -c 'from kombu.serialization import dumps, loads; c, e, d = dumps({"a": [1]}, serializer="msgpack"); assert loads(d, c, e, accept=[c]) == {"a": [1]}' 2>/dev/null; then
    SERIALIZER=msgpack
  else
    SERIALIZER=json
  fi
  for spec in $CELERY_POOLS; do
    pool="${spec%%:*}" conc="${spec##*:}"
    if [ "$pool" = gevent ] && ! "$PY" -c 'import gevent' 2>/dev/null; then say "Celery: gevent is not installed, $spec skipped"; continue; fi
    start_redis "celery-$pool"
    export BENCH_REDIS_URL="redis://127.0.0.1:$PORT/0" BENCH_SERIALIZER="$SERIALIZER" PYTHONDONTWRITEBYTECODE=1
    settings="1 worker process, pool $pool -c $conc, prefetch multiplier 4, $SERIALIZER, Redis broker and result backend, --without-gossip/mingle/heartbeat"
    load_line "celery-$pool"
    say "Celery [$pool -c $conc]: memory, then S4-chord x $REPEATS"
    pending=$(cd "$HERE/celery-chord" && client "$PY" chord.py memory --n "$CHORD_N" --settings "$settings" | sed -n 's/.*"callback_id": "\([^"]*\)".*/\1/p')
    [ -n "$pending" ] || die "Celery's memory step failed: $(tail -20 "$WORK/clients.log")"
    run_each "$HERE/celery-chord" "" "$PY" -m celery -A chord_app worker -P "$pool" -c "$conc" -Q bench -n "s4@%h" \
      --loglevel=WARNING --without-gossip --without-mingle --without-heartbeat \
      -- "$PY" chord.py time --n "$CHORD_N" --warmup 50 --warmup-chords "$WARM" --settings "$settings"
    stop_pid "$REDIS_PID"
  done
}

# 3. BullMQ, its own fresh redis-server.
run_bullmq() {
  start_redis bullmq
  export BENCH_REDIS_PORT="$PORT" BULLMQ_CONCURRENCY
  settings="1 worker process, concurrency $BULLMQ_CONCURRENCY, one queue for children and parent, default job and queue options"
  load_line bullmq
  say "BullMQ: memory, then S4-chord x $REPEATS"
  pending=$(cd "$HERE/bullmq-flow" && client node flow.js memory --n "$CHORD_N" --settings "$settings" | sed -n 's/.*"callback_id":"\([^"]*\)".*/\1/p')
  [ -n "$pending" ] || die "BullMQ's memory step failed: $(tail -20 "$WORK/clients.log")"
  run_each "$HERE/bullmq-flow" '^ready' node worker.js \
    -- node flow.js time --n "$CHORD_N" --warmup 50 --warmup-flows "$WARM" --settings "$settings"
  stop_pid "$REDIS_PID"
}

for system in $SYSTEMS; do
  case "$system" in
    typedtasks | celery | bullmq) "run_$system" ;;
    *) die "unknown system '$system' in SYSTEMS: use typedtasks, celery and bullmq, in the order to run them" ;;
  esac
done
load_line end
node "$HERE/s4-table.js" "$RESULTS"
