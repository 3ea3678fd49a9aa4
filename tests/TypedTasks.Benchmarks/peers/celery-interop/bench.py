"""Python producer of the Celery interop benchmark: S1 (throughput) and S2 (latency) against
whatever worker consumes QUEUE, one JSON line per scenario.

usage: BROKER=redis://... bench.py WORKER_LABEL [S1_N] [S2_N]

S1 sends S1_N tasks at once and polls the result keys (MGET) until every one is stored: tasks
per second from the first send to the last result. S2 sends one task at a time and waits with
AsyncResult.get(), as an application does: p50 and p99 of send-to-result. 50 warm-up round trips
come first.
"""
import json
import os
import statistics
import sys
import time

from celery import Celery

URL = os.environ["BROKER"]
QUEUE = os.environ.get("QUEUE", "bench")
app = Celery("bench", broker=URL, backend=URL)


@app.task(name="bench.celery.add")
def add(x, y):
    return x + y


def percentile(sorted_values, p):
    k = (len(sorted_values) - 1) * p / 100
    f, c = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[f] + (sorted_values[c] - sorted_values[f]) * (k - f)


def main():
    label = sys.argv[1]
    s1_n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    s2_n = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    for i in range(50):
        add.apply_async((i, 1), queue=QUEUE).get(timeout=30)

    client = app.backend.client
    started = time.perf_counter()
    ids = [add.apply_async((i, 1), queue=QUEUE).id for i in range(s1_n)]
    keys = [app.backend.get_key_for_task(i) for i in ids]
    deadline = time.monotonic() + 300
    pending = keys
    while pending:
        if time.monotonic() > deadline:
            raise SystemExit(f"S1: {len(pending)} results missing after 300 s")
        values = client.mget(pending)
        pending = [k for k, v in zip(pending, values) if v is None]
        if pending:
            time.sleep(0.005)
    elapsed = time.perf_counter() - started
    print(json.dumps({"system": "celery-interop", "scenario": "S1-throughput", "worker": label, "n": s1_n,
                      "throughput_per_s": round(s1_n / elapsed, 1)}))

    latencies = []
    for i in range(s2_n):
        t0 = time.perf_counter()
        assert add.apply_async((i, 1), queue=QUEUE).get(timeout=30) == i + 1
        latencies.append((time.perf_counter() - t0) * 1000)
    latencies.sort()
    print(json.dumps({"system": "celery-interop", "scenario": "S2-latency", "worker": label, "n": s2_n,
                      "p50_ms": round(percentile(latencies, 50), 3), "p99_ms": round(percentile(latencies, 99), 3),
                      "mean_ms": round(statistics.mean(latencies), 3)}))


if __name__ == "__main__":
    main()
