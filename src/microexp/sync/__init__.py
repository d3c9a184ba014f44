"""Camera synchronisation checks (ROS-free): per-stream rate, header-stamp lag and seq gaps, and
each camera's offset at the protocol's sync flashes (event burst or frame-brightness onset)."""

from microexp.sync.monitor import FlashOffset, SyncMonitor
from microexp.sync.onset import Onset, brightness_onset, event_burst_onset
from microexp.sync.streams import IMAGE_TYPES, EventStream, FrameStream, make_stream

__all__ = [
    "IMAGE_TYPES",
    "EventStream",
    "FlashOffset",
    "FrameStream",
    "Onset",
    "SyncMonitor",
    "brightness_onset",
    "event_burst_onset",
    "make_stream",
]
