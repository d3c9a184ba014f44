"""Cut a stream of event packets into fixed slices of sensor time, as the packets arrive.

Slices are half-open intervals ``[t_origin + i·slice_us, t_origin + (i+1)·slice_us)`` in sensor µs.
Packets may straddle slice boundaries and may be of any size (one event or millions); every event
ends up in exactly one slice. A slice is *closed* (complete) once an event at or after its end has
been seen, or when :meth:`EventSlicer.advance_to` / :meth:`EventSlicer.flush` says so.

The stream is expected in time order. Two departures are tolerated and counted: a packet whose
events are not sorted is sorted (stably) first, and an event older than the open slice (a *late*
event) is put into the open slice, never into one already closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from microexp.events.types import EventArray, empty_events

__all__ = ["EventSlicer", "SlicePart", "SliceSpan"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SliceSpan:
    """One slice: its index since the origin and its half-open sensor-time interval."""

    index: int
    t_start_us: int
    t_end_us: int


@dataclass(frozen=True, slots=True)
class SlicePart:
    """Events of one slice from one packet; ``closes`` is True for the last part of the slice."""

    span: SliceSpan
    events: EventArray
    closes: bool


class EventSlicer:
    """Long-lived slicer; :meth:`reset` starts a new origin (after a gap or a reset)."""

    def __init__(self, *, slice_us: int, t_origin_us: int | None = None) -> None:
        if slice_us <= 0:
            raise ValueError(f"slice_us must be positive, got {slice_us}")
        self._slice_us = int(slice_us)
        self._origin: int | None = None if t_origin_us is None else int(t_origin_us)
        self._index = 0  # index of the open slice
        self.late_events = 0
        self.unsorted_packets = 0

    @property
    def slice_us(self) -> int:
        return self._slice_us

    @property
    def started(self) -> bool:
        return self._origin is not None

    @property
    def open_span(self) -> SliceSpan | None:
        """The slice that events are being added to, or None before the first event."""
        if self._origin is None:
            return None
        return self._span(self._index)

    def _span(self, index: int) -> SliceSpan:
        assert self._origin is not None
        start = self._origin + index * self._slice_us
        return SliceSpan(index, start, start + self._slice_us)

    def reset(self, *, t_origin_us: int | None = None) -> None:
        """Forget the open slice; the next event (or ``t_origin_us``) starts slice 0."""
        self._origin = None if t_origin_us is None else int(t_origin_us)
        self._index = 0

    def push(self, events: EventArray, *, known_sorted: bool = False) -> list[SlicePart]:
        """Split ``events`` over slices; returns the parts in time order.

        Every slice between the open one and the one holding the last event is closed; slices
        without events in between are returned as empty closing parts, so that callers step their
        model once per slice of sensor time.
        """
        n = int(events.shape[0])
        if n == 0:
            return []
        t = events["t"]
        if n > 1 and not known_sorted and not bool(np.all(t[1:] >= t[:-1])):
            self.unsorted_packets += 1
            log.debug("sorting an unsorted packet of %d events", n)
            events = events[np.argsort(t, kind="stable")]
            t = events["t"]
        if self._origin is None:
            self._origin = int(t[0])
            self._index = 0
        origin, width = self._origin, self._slice_us
        last_index = (int(t[-1]) - origin) // width
        if last_index <= self._index:  # everything in the open slice (late events included)
            if int(t[0]) < origin + self._index * width:
                self.late_events += int(np.count_nonzero(t < origin + self._index * width))
            return [SlicePart(self._span(self._index), events, False)]
        # Boundaries between the open slice and the last one; late events go to the open slice.
        first_end = origin + (self._index + 1) * width
        ends = first_end + width * np.arange(last_index - self._index, dtype=np.int64)
        cuts = np.searchsorted(t, ends, side="left")
        if int(t[0]) < origin + self._index * width:
            self.late_events += int(np.count_nonzero(t < origin + self._index * width))
        parts: list[SlicePart] = []
        prev = 0
        for k, cut in enumerate(cuts.tolist()):
            parts.append(SlicePart(self._span(self._index + k), events[prev:cut], True))
            prev = cut
        self._index = last_index
        parts.append(SlicePart(self._span(self._index), events[prev:], False))
        return parts

    def advance_to(self, t_us: int) -> list[SlicePart]:
        """Declare that no event before ``t_us`` will come: close every slice ending at or before it."""
        if self._origin is None:
            return []
        parts: list[SlicePart] = []
        while self._span(self._index).t_end_us <= t_us:
            parts.append(SlicePart(self._span(self._index), empty_events(), True))
            self._index += 1
        return parts

    def flush(self) -> list[SlicePart]:
        """Close the open slice (end of stream or before a reset); the next slice follows it."""
        if self._origin is None:
            return []
        part = SlicePart(self._span(self._index), empty_events(), True)
        self._index += 1
        return [part]
