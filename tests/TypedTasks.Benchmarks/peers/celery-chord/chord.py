"""Driver of Celery's S4-chord: chord([add.s(i, i) for i in range(N)])(tsum.s()).get(), end to end.

  python3 chord.py memory --n 1000 --settings S      no worker yet: used_memory before and after one
                                                      chord is sent; prints its line and the callback id
  python3 chord.py time --n 1000 [--repeats 1] [--rep 1] [--warmup 50] [--warmup-chords 0] --settings S [--pending ID]
                                                      with a worker: waits for the chord of the memory
                                                      step (ID), WARMUP add round trips and WARMUP_CHORDS
                                                      chords not counted, then REPEATS chords
One JSON line per measured run, in the shape of ../shared/bench/README.md.
"""
import argparse
import json
import os
import sys
import time

import celery
import kombu
import redis
from celery import chord

from chord_app import QUEUE, REDIS_URL, add, app, tsum

DEPS = f"kombu {kombu.__version__}, redis-py {redis.__version__}, python {sys.version.split()[0]}"


def used_memory(r):
    return int(r.info("memory")["used_memory"])


def line(scenario, n, settings, **extra):
    out = {"system": "celery", "version": celery.__version__, "scenario": scenario, "n": n,
           "enqueue_per_s": None, "throughput_per_s": None, "p50_ms": None, "p95_ms": None, "p99_ms": None,
           "settings": settings}
    out.update(extra)
    out["deps"] = DEPS
    print(json.dumps(out), flush=True)


def send(n):
    return chord([add.s(i, i) for i in range(n)])(tsum.s())


def memory(a):
    r = redis.Redis.from_url(REDIS_URL)
    # The queue's binding is declared once per broker, not per chord: declare it first.
    with app.connection_for_write() as conn:
        app.amqp.queues[QUEUE](conn.default_channel).declare()
    before = used_memory(r)
    t0 = time.perf_counter()
    res = send(a.n)
    sent = time.perf_counter() - t0
    after = used_memory(r)
    pending = r.llen(QUEUE)
    if pending != a.n:
        raise SystemExit(f"expected {a.n} pending member messages, found {pending}")
    line("M4-chord-memory", a.n, a.settings + ", one chord in flight, no worker yet: members pending in the broker list",
         used_memory_before=before, used_memory_after=after, bytes=after - before,
         bytes_per_member=round((after - before) / a.n, 1), send_s=round(sent, 4), callback_id=res.id)


def time_runs(a):
    expected = a.n * (a.n - 1)
    if a.pending:
        # The memory step's chord, run now that the worker is up.
        v = app.AsyncResult(a.pending).get(timeout=a.timeout)
        if v != expected:
            raise SystemExit(f"the memory step's chord returned {v}, expected {expected}")
    for i in range(a.warmup):  # sequential round trips, as every peer's client warms up
        v = add.delay(i, 1).get(timeout=a.ready_timeout if i == 0 else 30)
        if v != i + 1:
            raise SystemExit(f"warm-up: add({i}, 1) returned {v}")
    for _ in range(a.warmup_chords):  # chords not counted
        v = send(a.n).get(timeout=a.timeout)
        if v != expected:
            raise SystemExit(f"warm-up chord returned {v}, expected {expected}")
    warm = f"{a.warmup} add round trips" + (f" and {a.warmup_chords} chord(s)" if a.warmup_chords else "") + " not counted first"
    for rep in range(a.rep, a.rep + a.repeats):
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        res = send(a.n)
        sent = time.perf_counter() - t0
        v = res.get(timeout=a.timeout)
        total = time.perf_counter() - t0
        line("S4-chord", a.n, f"{a.settings}, {warm}, chord(header)(tsum.s()) then .get() of the callback",
             throughput_per_s=round(a.n / total, 1), send_s=round(sent, 4), total_s=round(total, 4),
             verified=v == expected, rep=rep, loadavg_1m_before=round(load, 2))
        if v != expected:
            return 2
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["memory", "time"])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--settings", default="")
    ap.add_argument("--pending", default="")
    ap.add_argument("--rep", type=int, default=1, help="number of the first measured run")
    ap.add_argument("--warmup", type=int, default=50, help="add round trips not counted")
    ap.add_argument("--warmup-chords", type=int, default=0, help="chords not counted")
    ap.add_argument("--ready-timeout", type=float, default=60.0, help="seconds for the worker's first answer")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for one chord's result")
    a = ap.parse_args()
    if a.n < 1 or a.repeats < 1 or a.warmup < 0 or a.warmup_chords < 0:
        raise SystemExit("--n and --repeats must be positive, --warmup and --warmup-chords at least 0")
    try:
        return memory(a) if a.mode == "memory" else time_runs(a)
    finally:
        try:
            app.backend.result_consumer.stop()
        except Exception:
            pass


if __name__ == "__main__":
    sys.exit(main() or 0)
