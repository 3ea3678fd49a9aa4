"""The Python side of the interoperation tests: a Celery app on the Redis the test started.

CELERY_REDIS is the redis:// URL (broker and result backend), CELERY_VISIBILITY the kombu
visibility timeout in seconds. Acks are late, as the .NET worker's, so that a killed worker's
message comes back.
"""
import os
import time

import redis
from celery import Celery

URL = os.environ["CELERY_REDIS"]
app = Celery("proj", broker=URL, backend=URL)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_transport_options={"visibility_timeout": float(os.environ.get("CELERY_VISIBILITY", "3600"))},
    accept_content=["json", "msgpack"],
    result_accept_content=["json"],
    worker_hijack_root_logger=False,
)


@app.task(name="proj.tasks.add")
def add(x, y):
    return x + y


@app.task(name="proj.tasks.boom")
def boom(message):
    raise ValueError(message)


@app.task(name="proj.tasks.sleep")
def sleep(seconds):
    time.sleep(seconds)
    return seconds


@app.task(name="proj.tasks.slowadd")
def slowadd(x, y):
    time.sleep(0.15)
    redis.Redis.from_url(URL).rpush("runs:python", str(x))
    return x + y
