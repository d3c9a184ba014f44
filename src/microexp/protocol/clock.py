"""Clocks the protocol engine is driven by (injected; integer nanoseconds)."""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FakeClock", "MonotonicClock"]


@runtime_checkable
class Clock(Protocol):
    def now_ns(self) -> int: ...


class MonotonicClock:
    """``time.monotonic_ns``: never jumps; for pacing and measuring."""

    def now_ns(self) -> int:
        return time.monotonic_ns()


class FakeClock:
    """A clock that only moves when told to; for tests and offline (headless) rendering."""

    def __init__(self, start_ns: int = 0) -> None:
        self._t = int(start_ns)

    def now_ns(self) -> int:
        return self._t

    def set(self, t_ns: int) -> None:
        if t_ns < self._t:
            raise ValueError(f"FakeClock cannot go back: {t_ns} < {self._t}")
        self._t = int(t_ns)

    def advance(self, dt_ns: int) -> int:
        self.set(self._t + int(dt_ns))
        return self._t
