"""Quick polling against a deadline: checks start a few milliseconds apart and back off, never a fixed sleep."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Deadline:
    at: float                       # time.monotonic() value

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    @property
    def left(self) -> float:
        return max(0.0, self.at - time.monotonic())

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.at


def until(check: Callable[[], T | None], deadline: Deadline, *, first: float = 0.01, cap: float = 0.2,
          stop: threading.Event | None = None) -> T | None:
    """Call `check` until it returns something other than None (returned) or the deadline passes (None).

    The interval starts at `first` and grows by half each time up to `cap`: an answer
    that is already there costs one call, one that is seconds away costs a few calls a second.
    """
    delay = first
    while True:
        value = check()
        if value is not None:
            return value
        left = deadline.left
        if left <= 0 or (stop is not None and stop.is_set()):
            return None
        wait = min(delay, left)
        if stop is not None:
            stop.wait(wait)
        else:
            time.sleep(wait)
        delay = min(cap, delay * 1.5)


def cap_for(floor: float) -> float:
    """Poll at about a tenth of the floor: fine enough to time a hop, coarse enough not to load the stack."""
    return min(1.0, max(0.02, floor / 10))


class Outage:
    """How long a component has refused connections in a row; a probe stops waiting for one that stays down.

    A restarted component answers within a second or two, so a refusal that outlasts
    twice the hop's floor plus GRACE_S is an outage, and the rest of the budget would be wasted.
    """

    GRACE_S = 2.0

    def __init__(self, floor: float):
        self.limit = 2 * floor + self.GRACE_S
        self.since: float | None = None

    def too_long(self) -> bool:
        now = time.monotonic()
        if self.since is None:
            self.since = now
        return now - self.since > self.limit

    def clear(self) -> None:
        self.since = None
