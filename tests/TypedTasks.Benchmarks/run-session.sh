#!/usr/bin/env bash
# One benchmark session, one step after another, never two at once (docs/performance.md):
#   1. TypedTasks: S1-user (runtime defaults), S1-bulk and S2 (full JIT), memory per pending task;
#   2. BullMQ's memory per pending task (peers/bullmq/memory.js, its own fresh redis-server);
#   3. BullMQ's S1 and S2, when PEERS_DIR names a writable copy of ../shared/bench/peers with
#      its npm packages installed (`cp -r ../shared/bench/peers /tmp/peers`);
#   4. an idle TypedTasks worker serving 1 and then 100 queues (IDLE=0 leaves it out).
# Every JSON line goes to stdout and to $RESULTS. Knobs: REPEATS (5, TypedTasks' S1 runs),
# PEER_REPEATS (3, BullMQ's S1 runs); the harness's own (BULK_N, LAT_N, MEMORY_N, ...) pass through.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
RESULTS="${RESULTS:-${TMPDIR:-/tmp}/typedtasks-session-$(date -u +%Y%m%dT%H%M%SZ).jsonl}"
say() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

dotnet build "$HERE/TypedTasks.Benchmarks.csproj" -c Release --nologo -v quiet >&2
if [ ! -d "$HERE/peers/bullmq/node_modules/bullmq" ]; then
  (cd "$HERE/peers/bullmq" && npm ci --no-audit --no-fund >&2)
fi

say "TypedTasks: S1-user, S1-bulk, S2, memory"
# DOTNET_TieredCompilation=0 tunes S1-bulk and S2 only; the harness starts S1-user's processes without it.
(cd "$HERE/bin/Release/net10.0" && DOTNET_TieredCompilation=0 REPEATS="${REPEATS:-5}" WORKERS=1 dotnet TypedTasks.Benchmarks.dll) | tee -a "$RESULTS"

say "BullMQ: memory"
node "$HERE/peers/bullmq/memory.js" --n "${MEMORY_N:-100000}" --chunk 1000 | tee -a "$RESULTS"

if [ -n "${PEERS_DIR:-}" ]; then
  say "BullMQ: S1 and S2 in $PEERS_DIR"
  (cd "$PEERS_DIR" && PEERS=bullmq REPEATS="${PEER_REPEATS:-3}" SKIP_INSTALL="${SKIP_INSTALL:-1}" RESULTS_FILE="$RESULTS" ./run-all.sh >&2)
  grep '"system":"bullmq"' "$RESULTS" | grep -v M1-memory || true
fi
if [ "${IDLE:-1}" = 1 ]; then
  say "TypedTasks: idle worker, 1 and 100 queues"
  (cd "$HERE/bin/Release/net10.0" && SCENARIOS=I1-idle dotnet TypedTasks.Benchmarks.dll) | tee -a "$RESULTS"
fi
say "results in $RESULTS"
node "$HERE/session-table.js" "$RESULTS"
