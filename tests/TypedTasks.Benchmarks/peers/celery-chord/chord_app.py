"""Celery's side of S4-chord: add and tsum on one queue, Redis as broker and result backend.

On its Redis backend a chord needs no polling task: each member's end runs
on_chord_part_return, which pushes its result to a list and INCRs a counter; the member that
makes the count reach the chord's size runs the callback. Configured from the environment so
the worker and the driver agree:
  BENCH_REDIS_URL   redis://127.0.0.1:<port>/0
  BENCH_SERIALIZER  msgpack (default) or json
"""
import os

from celery import Celery

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SERIALIZER = os.environ.get("BENCH_SERIALIZER", "msgpack")
QUEUE = "bench"

app = Celery("chord_app", broker=REDIS_URL, backend=REDIS_URL)
app.conf.update(
    task_serializer=SERIALIZER,
    result_serializer=SERIALIZER,
    accept_content=[SERIALIZER],
    result_accept_content=[SERIALIZER],
    task_default_queue=QUEUE,
    task_ignore_result=False,       # a chord's members must store results
    result_expires=3600,
    worker_prefetch_multiplier=int(os.environ.get("BENCH_PREFETCH", "4")),  # Celery's default
    broker_connection_retry_on_startup=True,
)


@app.task(name="bench.add")
def add(x, y):
    return x + y


@app.task(name="bench.tsum")
def tsum(values):
    return sum(values)
