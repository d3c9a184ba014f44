"""Slice time-sorted event arrays by time window or by count (views, found with searchsorted).

Time slices are half-open, ``[t_start_us + k * window_us, t_start_us + (k + 1) * window_us)``. The
slices partition the events they cover: concatenated, they give back exactly those events.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

from microexp.errors import MicroexpError
from microexp.events.types import EventArray, empty_events

__all__ = [
    "iter_time_slices",
    "slice_by_count",
    "slice_by_time",
    "time_slice_bounds",
]


def time_slice_bounds(
    t_us: npt.NDArray[np.int64], *, window_us: int, t_start_us: int, n_slices: int
) -> npt.NDArray[np.intp]:
    """Indices ``b`` (length ``n_slices + 1``) such that slice k is ``[b[k], b[k+1])``."""
    if window_us <= 0:
        raise MicroexpError(f"window_us must be positive, got {window_us}")
    edges = t_start_us + window_us * np.arange(n_slices + 1, dtype=np.int64)
    return np.searchsorted(t_us, edges, side="left")


def slice_by_time(
    events: EventArray,
    *,
    window_us: int,
    t_start_us: int | None = None,
    n_slices: int | None = None,
) -> list[EventArray]:
    """Consecutive time slices (views). Defaults: start at the first event, cover the last one."""
    t = events["t"]
    if t_start_us is None:
        t_start_us = int(t[0]) if t.size else 0
    if n_slices is None:
        n_slices = (int(t[-1]) - t_start_us) // window_us + 1 if t.size else 0
        n_slices = max(n_slices, 0)
    b = time_slice_bounds(t, window_us=window_us, t_start_us=t_start_us, n_slices=n_slices)
    return [events[b[i] : b[i + 1]] for i in range(n_slices)]


def slice_by_count(events: EventArray, *, count: int) -> list[EventArray]:
    """Consecutive slices of ``count`` events (views); the last one holds the remainder."""
    if count <= 0:
        raise MicroexpError(f"count must be positive, got {count}")
    return [events[i : i + count] for i in range(0, events.size, count)]


def iter_time_slices(
    chunks: Iterable[EventArray], *, window_us: int, t_start_us: int | None = None
) -> Iterator[tuple[int, EventArray]]:
    """Stream ``(slice_start_us, events)`` over time-ordered chunks (e.g. decoded packets).

    A slice is yielded once an event at or past its end arrives, then the final partial slice at the
    end of the stream. Empty slices inside the stream are yielded too, so slice k always starts at
    ``t_start_us + k * window_us``.
    """
    if window_us <= 0:
        raise MicroexpError(f"window_us must be positive, got {window_us}")
    pending: list[EventArray] = []
    start = t_start_us
    for chunk in chunks:
        if chunk.size == 0:
            continue
        t = chunk["t"]
        if start is None:
            start = int(t[0])
        lo = int(np.searchsorted(t, start, side="left"))  # events before the first slice: dropped
        chunk, t = chunk[lo:], t[lo:]
        while t.size and int(t[-1]) >= start + window_us:
            cut = int(np.searchsorted(t, start + window_us, side="left"))
            pending.append(chunk[:cut])
            yield start, _concat(pending)
            pending = []
            chunk, t = chunk[cut:], t[cut:]
            start += window_us
        pending.append(chunk)
    if start is not None and any(p.size for p in pending):
        yield start, _concat(pending)


def _concat(parts: list[EventArray]) -> EventArray:
    parts = [p for p in parts if p.size]
    if not parts:
        return empty_events()
    return parts[0].copy() if len(parts) == 1 else np.concatenate(parts)
