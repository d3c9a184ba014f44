"""The one event dtype used everywhere, and the trigger dtype.

Events are a structured numpy array with fields ``x``, ``y`` (pixels, (0, 0) top-left),
``t`` (int64 microseconds; sensor time unless a function says otherwise) and ``p``
(uint8 polarity, 1 = ON, 0 = OFF). The layout is what tonic and h5py read directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "EVENT_DTYPE",
    "TRIGGER_DTYPE",
    "DecodedEvents",
    "EventArray",
    "SensorSize",
    "TriggerArray",
    "empty_events",
    "empty_triggers",
    "make_events",
]

EVENT_DTYPE = np.dtype([("x", "<u2"), ("y", "<u2"), ("t", "<i8"), ("p", "u1")])
"""x, y in pixels; t in µs (int64); p = 1 for ON, 0 for OFF."""

TRIGGER_DTYPE = np.dtype([("t", "<i8"), ("channel", "u1"), ("value", "u1")])
"""External trigger: t in µs (int64), channel id, edge value (1 rising, 0 falling)."""

EventArray = npt.NDArray[np.void]
TriggerArray = npt.NDArray[np.void]


@dataclass(frozen=True, slots=True)
class SensorSize:
    """Sensor geometry in pixels."""

    width: int
    height: int

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"sensor size must be positive, got {self.width}x{self.height}")

    def contains(self, events: EventArray) -> bool:
        """True when every event lies inside the sensor."""
        if events.size == 0:
            return True
        return bool(events["x"].max() < self.width and events["y"].max() < self.height)


def empty_events(n: int = 0) -> EventArray:
    """A zero-filled event array of length ``n``."""
    return np.zeros(n, dtype=EVENT_DTYPE)


def empty_triggers(n: int = 0) -> TriggerArray:
    """A zero-filled trigger array of length ``n``."""
    return np.zeros(n, dtype=TRIGGER_DTYPE)


def make_events(
    *,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    t: npt.ArrayLike,
    p: npt.ArrayLike,
) -> EventArray:
    """Build an event array from four equally long columns."""
    xs = np.asarray(x)
    n = xs.shape[0]
    out = empty_events(n)
    out["x"] = xs
    out["y"] = y
    out["t"] = t
    out["p"] = p
    return out


@dataclass(frozen=True, slots=True)
class DecodedEvents:
    """What one decode call yields: CD events and external-trigger events, each in stream order."""

    events: EventArray
    triggers: TriggerArray

    @staticmethod
    def empty() -> DecodedEvents:
        """No events and no triggers."""
        return DecodedEvents(events=empty_events(0), triggers=empty_triggers(0))

    @staticmethod
    def concatenate(parts: list[DecodedEvents]) -> DecodedEvents:
        """Join several decode results, keeping their order."""
        if not parts:
            return DecodedEvents.empty()
        return DecodedEvents(
            events=_concatenate_records([p.events for p in parts], EVENT_DTYPE),
            triggers=_concatenate_records([p.triggers for p in parts], TRIGGER_DTYPE),
        )


def _concatenate_records(
    arrays: list[npt.NDArray[np.void]], dtype: np.dtype
) -> npt.NDArray[np.void]:
    """np.concatenate through an opaque void view: a plain memcpy, ~10x faster than field-wise."""
    raw = np.dtype((np.void, dtype.itemsize))
    joined = np.concatenate([np.ascontiguousarray(a, dtype=dtype).view(raw) for a in arrays])
    return joined.view(dtype)
