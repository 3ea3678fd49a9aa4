#!/usr/bin/env bash
# The fault runs at a size worth reporting: a worker process SIGKILLed while it holds thousands
# of tasks, Redis killed and restarted with AOF under load, SIGTERM mid-run, Redis restarted
# empty, garbage in a queue; a schedule of every second fired by three worker processes for
# 30 s, with one SIGKILLed, and with Redis restarted. The same tests run in the suite at a small size.
#   bash scripts/faults.sh [TASKS] [PREFETCH] [SCHEDULE_SECONDS]   (defaults: 6000 tasks, 3000 prefetched, 30 s)
set -euo pipefail
cd "$(dirname "$0")/.."
export TYPEDTASKS_FAULT_TASKS="${1:-6000}" TYPEDTASKS_FAULT_PREFETCH="${2:-3000}" TYPEDTASKS_SCHEDULE_SECONDS="${3:-30}"
dotnet test tests/TypedTasks.Redis.IntegrationTests -c Release \
  --filter "FullyQualifiedName~FaultTests|FullyQualifiedName~UnusableMessageTests" \
  --logger "console;verbosity=detailed" 2>&1 | grep -E "^\s+(SIGKILL|Redis restart|SIGTERM|Lost|Garbage|Unusable|Schedule,)|Passed!|Failed!|^\s+Failed |\[FAIL\]"
