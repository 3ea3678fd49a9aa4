"""Fire lateness of Celery beat, the peer of TypedTasks' schedule lateness run
(tests/TypedTasks.Redis.IntegrationTests/ScheduleFaultTests.cs, Ten_schedules_...): ten entries
every second, one beat, three worker processes, Redis as the broker. Each run logs its entry, its
nominal fire time and the time it started; lateness = start - nominal fire time.

Beat's interval entries carry no fire time, so the scheduler below adds the nominal one (the
entry's last run plus its interval, the time beat considered it due) to each message's kwargs.
"""
import json
import os
import time
from datetime import timedelta

import redis
from celery import Celery
from celery.beat import PersistentScheduler

BROKER = os.environ.get("BROKER", "redis://127.0.0.1:6379/0")
ENTRIES = int(os.environ.get("ENTRIES", "10"))
RUNS_KEY = "lateness:runs"

app = Celery("lateness", broker=BROKER)
app.conf.update(
    beat_schedule={f"tick-{i}": {"task": "lateness.tick", "schedule": timedelta(seconds=1)} for i in range(1, ENTRIES + 1)},
    beat_scheduler="lateness:NominalScheduler",
    task_ignore_result=True,
    enable_utc=True,
    broker_connection_retry_on_startup=True,
)


class NominalScheduler(PersistentScheduler):
    """Beat's default scheduler, telling each run the time it was due."""

    def apply_async(self, entry, producer=None, advance=True, **kwargs):
        due = entry.last_run_at + entry.schedule.run_every
        entry.kwargs = {"name": entry.name, "due": due.timestamp()}
        return super().apply_async(entry, producer, advance, **kwargs)


_log = None


@app.task(name="lateness.tick")
def tick(name, due):
    global _log
    started = time.time()
    if _log is None:
        _log = redis.Redis.from_url(BROKER)
    _log.rpush(RUNS_KEY, json.dumps([name, due, started]))


def report(seconds_warm=3.0):
    """Prints one JSON line: runs, duplicates per (entry, due), p50/p99/max lateness after the warm-up."""
    log = redis.Redis.from_url(BROKER)
    runs = [json.loads(r) for r in log.lrange(RUNS_KEY, 0, -1)]
    first = min(r[1] for r in runs)
    steady = sorted((r[2] - r[1]) * 1000 for r in runs if r[1] >= first + seconds_warm)
    keys = [(r[0], round(r[1], 3)) for r in runs]

    def pct(p):
        return steady[min(len(steady) - 1, max(0, int(-(-p * len(steady) // 1)) - 1))]

    print(json.dumps({
        "system": "celery-beat", "scenario": "S5-fire-lateness", "entries": ENTRIES, "workers": 3,
        "runs": len(runs), "steady_runs": len(steady), "duplicates": len(keys) - len(set(keys)),
        "p50_ms": round(pct(0.50), 1), "p99_ms": round(pct(0.99), 1), "max_ms": round(steady[-1], 1),
    }))


if __name__ == "__main__":
    report()
