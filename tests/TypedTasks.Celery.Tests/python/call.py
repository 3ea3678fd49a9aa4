"""Sends one task from Python and prints its outcome as one JSON line.

usage: call.py NAME ARGS_JSON [KWARGS_JSON] [--countdown S] [--serializer S] [--result-serializer S] [--queue Q] [--revoke]
Prints {"ok": true, "result": ..., "seconds": ...} or {"ok": false, "type": ..., "message": ...}.
"proj.tasks.add" goes through the declared task's delay(), as an application calls it.
"""
import argparse
import json
import time

import proj

parser = argparse.ArgumentParser()
parser.add_argument("name")
parser.add_argument("args")
parser.add_argument("kwargs", nargs="?", default="{}")
parser.add_argument("--countdown", type=float)
parser.add_argument("--serializer", default="json")
parser.add_argument("--result-serializer", default="json", help="how the worker stores results: the backend reads them so")
parser.add_argument("--queue", default="celery")
parser.add_argument("--timeout", type=float, default=30)
parser.add_argument("--revoke", action="store_true", help="revoke the task right after sending it")
a = parser.parse_args()

args, kwargs = json.loads(a.args), json.loads(a.kwargs)
# Before the backend is first used: it is made once, from the configuration of that moment.
proj.app.conf.update(result_serializer=a.result_serializer, result_accept_content=["json", "msgpack"])
started = time.monotonic()
result = None
try:
    if a.name == "proj.tasks.add" and a.countdown is None and a.serializer == "json" and a.queue == "celery" and not kwargs:
        result = proj.add.delay(*args)
    else:
        result = proj.app.signature(a.name).apply_async(
            args, kwargs, countdown=a.countdown, serializer=a.serializer, queue=a.queue)
    if a.revoke:
        proj.app.control.revoke(result.id)
    value = result.get(timeout=a.timeout)
    print(json.dumps({"ok": True, "id": result.id, "result": value, "seconds": time.monotonic() - started}))
except Exception as error:  # the outcome is the test's to judge
    print(json.dumps({"ok": False, "id": getattr(result, "id", None), "type": type(error).__name__, "message": str(error)}))
