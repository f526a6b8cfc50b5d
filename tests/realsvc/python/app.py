"""memory-search for obs's real-clients tests (tests/support/realsvc.py starts it).

Flask, instrumented only the documented zero-code way: `opentelemetry-instrument python app.py`, configured
only by OTEL_* variables; this file never imports OpenTelemetry.

GET /search answers 200, except that the requests it has served are counted (1, 2, 3, ... across all
threads) and

- every ERROR_EVERY-th request answers 500 (0: never),
- every SLOW_EVERY-th request first sleeps SLOW_SECONDS (0: never),
- every other MEDIUM_EVERY-th request first sleeps MEDIUM_SECONDS (0: never; SLOW_EVERY wins where both hit),

so for n requests exactly n // ERROR_EVERY fail, n // SLOW_EVERY are slow and n // MEDIUM_EVERY minus
n // lcm(MEDIUM_EVERY, SLOW_EVERY) are medium. `GET /search?status=NNN` answers NNN at once and is not counted:
a warm-up request that creates a status's series before the counted traffic starts. GET /counts reports the
counters without counting itself (it is still a request the instrumentation sees: call it only when the
telemetry of that request does not matter).
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

from flask import Flask, jsonify, request

PORT = int(os.environ["PORT"])
ERROR_EVERY = int(os.environ.get("ERROR_EVERY", "0"))
SLOW_EVERY = int(os.environ.get("SLOW_EVERY", "0"))
SLOW_SECONDS = float(os.environ.get("SLOW_SECONDS", "0"))
MEDIUM_EVERY = int(os.environ.get("MEDIUM_EVERY", "0"))
MEDIUM_SECONDS = float(os.environ.get("MEDIUM_SECONDS", "0"))

app = Flask(__name__)
lock = threading.Lock()
counts = {"requests": 0, "errors": 0, "slow": 0, "medium": 0}


@app.get("/search")
def search():
    forced = request.args.get("status")
    if forced is not None:
        return jsonify(warmup=True), int(forced)
    with lock:
        counts["requests"] += 1
        n = counts["requests"]
        slow = SLOW_EVERY > 0 and n % SLOW_EVERY == 0
        medium = not slow and MEDIUM_EVERY > 0 and n % MEDIUM_EVERY == 0
        error = ERROR_EVERY > 0 and n % ERROR_EVERY == 0
        counts["slow"] += slow
        counts["medium"] += medium
        counts["errors"] += error
    if slow:
        time.sleep(SLOW_SECONDS)
    elif medium:
        time.sleep(MEDIUM_SECONDS)
    if error:
        return jsonify(request=n, error="injected"), 500
    return jsonify(request=n, results=[])


@app.get("/counts")
def report():
    with lock:
        return jsonify(counts)


def _terminate(signum, frame):
    # SystemExit runs the SDK's atexit shutdown, which flushes the last spans and metrics; Python's default
    # SIGTERM would end the process without it.
    sys.exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    print(f"memory-search listening on 127.0.0.1:{PORT}", flush=True)
    app.run(host="127.0.0.1", port=PORT, threaded=True, debug=False, use_reloader=False)
