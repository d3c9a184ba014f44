"""Event types, decoders/encoders for every wire format, slicing and representations."""

from microexp.events.types import (
    EVENT_DTYPE,
    TRIGGER_DTYPE,
    EventArray,
    SensorSize,
    TriggerArray,
    empty_events,
    empty_triggers,
    make_events,
)

__all__ = [
    "EVENT_DTYPE",
    "TRIGGER_DTYPE",
    "EventArray",
    "SensorSize",
    "TriggerArray",
    "empty_events",
    "empty_triggers",
    "make_events",
]
