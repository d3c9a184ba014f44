"""microexp.protocol: session plans (YAML), the protocol state machine (clock injected), the
instruction video player and the label records cut from its events. No ROS here."""

from microexp.protocol.clock import Clock, FakeClock, MonotonicClock
from microexp.protocol.engine import FrameView, ProtocolEngine
from microexp.protocol.events import (
    EventKind,
    Phase,
    ProtocolError,
    ProtocolEvent,
    SessionInfo,
    read_events_jsonl,
    write_events_jsonl,
)
from microexp.protocol.labels import Segment, segments_from_events
from microexp.protocol.plan import SessionPlan, load_plan, parse_plan
from microexp.protocol.progress import Progress, ProgressStore

__all__ = [
    "Clock",
    "EventKind",
    "FakeClock",
    "FrameView",
    "MonotonicClock",
    "Phase",
    "Progress",
    "ProgressStore",
    "ProtocolEngine",
    "ProtocolError",
    "ProtocolEvent",
    "Segment",
    "SessionInfo",
    "SessionPlan",
    "load_plan",
    "parse_plan",
    "read_events_jsonl",
    "segments_from_events",
    "write_events_jsonl",
]
