#!/usr/bin/env bash
# The fault runs at a size worth reporting: a worker process SIGKILLed while it holds thousands
# of tasks, Redis killed and restarted with AOF under load, SIGTERM mid-run, Redis restarted
# empty, garbage in a queue. The same tests run in the suite at a small size.
#   bash scripts/faults.sh [TASKS] [PREFETCH]      (defaults: 6000 tasks, 3000 prefetched)
set -euo pipefail
cd "$(dirname "$0")/.."
export TYPEDTASKS_FAULT_TASKS="${1:-6000}" TYPEDTASKS_FAULT_PREFETCH="${2:-3000}"
dotnet test tests/TypedTasks.Redis.IntegrationTests -c Release \
  --filter "FullyQualifiedName~FaultTests|FullyQualifiedName~UnusableMessageTests" \
  --logger "console;verbosity=detailed" 2>&1 | grep -E "^\s+(SIGKILL|Redis restart|SIGTERM|Lost|Garbage|Unusable)|Passed!|Failed!|^\s+Failed |\[FAIL\]"
