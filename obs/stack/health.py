"""Health probes: one GET that must answer 2xx, straight to the address (never via a proxy)."""
from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable

# HTTP(S)_PROXY in the environment must not route loopback probes elsewhere.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def probe(url: str, timeout: float = 1.0) -> bool:
    try:
        with _OPENER.open(url, timeout=timeout) as resp:
            status: int = resp.status
            return 200 <= status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def answers(url: str, attempts: int = 3) -> bool:
    """A status verdict: a few tries, so one slow reply on a busy machine is not called unhealthy."""
    for attempt in range(attempts):
        if probe(url, timeout=2.0):
            return True
        if attempt + 1 < attempts:
            time.sleep(0.2)
    return False


def wait(url: str, deadline: float, still_running: Callable[[], bool] = lambda: True) -> str:
    """Poll until healthy ("healthy"), the process dies ("exited"), or the deadline passes ("timeout").

    Polls fast at first, since most components answer within a second, then backs off.
    """
    delay = 0.05
    while True:
        if probe(url):
            return "healthy"
        if not still_running():
            return "exited"
        if time.monotonic() >= deadline:
            return "timeout"
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 0.5)
