"""Per-camera buffers for flash detection: event counts in time bins, frame brightness.

Camera time is put on the ROS-time scale: dv-ros2 event ``ts`` is host UNIX time already;
EventPacket events are placed at ``header.stamp + (t - t_first)`` per packet (the stamp is the
host time of the packet's first SDK buffer); frames use their ``header.stamp``.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from microexp.bagio.event_topics import EVENT_PACKET, EVENT_TYPES, EventTopicDecoder
from microexp.bagio.reader import RawMessage
from microexp.bagio.typestore import build_typestore
from microexp.errors import DecodeError
from microexp.sync.onset import Onset, brightness_onset, event_burst_onset

__all__ = ["IMAGE_TYPES", "EventStream", "FrameStream", "make_stream"]

IMAGE = "sensor_msgs/msg/Image"
COMPRESSED = "sensor_msgs/msg/CompressedImage"
IMAGE_TYPES = (IMAGE, COMPRESSED)


class EventStream:
    """Event counts per ``bin_ns`` bin over the last ``history_ns`` of camera time."""

    def __init__(self, topic: str, msgtype: str, *, bin_ns: int, history_ns: int) -> None:
        self.topic = topic
        self.msgtype = msgtype
        self.bin_ns = bin_ns
        self.history_bins = max(1, history_ns // bin_ns)
        self._decoder = EventTopicDecoder(topic)
        self._counts: dict[int, int] = {}
        self.latest_ns: int | None = None
        self._index = 0

    def add(self, data: bytes, arrival_ns: int) -> None:
        raw = RawMessage(self.topic, self.msgtype, arrival_ns, data, self._index)
        self._index += 1
        chunk = self._decoder.decode(raw)
        t_us = chunk.events["t"].astype(np.int64)
        if t_us.size == 0:
            return
        if self.msgtype == EVENT_PACKET:
            t_ns = chunk.stamp_ns + (t_us - t_us[0]) * 1000
        else:
            t_ns = t_us * 1000
        bins, n = np.unique(t_ns // self.bin_ns, return_counts=True)
        for b, c in zip(bins.tolist(), n.tolist(), strict=True):
            self._counts[b] = self._counts.get(b, 0) + c
        last = int(t_ns.max())
        self.latest_ns = last if self.latest_ns is None else max(self.latest_ns, last)
        if len(self._counts) > 2 * self.history_bins:  # amortised: not a dict scan per message
            oldest = self.latest_ns // self.bin_ns - self.history_bins
            for b in [b for b in self._counts if b < oldest]:
                del self._counts[b]

    def onset(self, around_ns: int, *, window_ns: int, guard_ns: int) -> Onset | None:
        lo = (around_ns - window_ns) // self.bin_ns
        hi = (around_ns + window_ns) // self.bin_ns
        counts = np.array([self._counts.get(b, 0) for b in range(lo, hi + 1)], dtype=np.int64)
        return event_burst_onset(
            lo * self.bin_ns, counts, bin_ns=self.bin_ns, around_ns=around_ns, guard_ns=guard_ns
        )


class FrameStream:
    """Mean brightness of recent frames (``sensor_msgs/Image`` mono8/rgb8/bgr8 or a JPEG/PNG
    ``CompressedImage``, decoded at 1/4 size)."""

    def __init__(self, topic: str, msgtype: str, *, history: int = 600) -> None:
        self.topic = topic
        self.msgtype = msgtype
        self._typestore = build_typestore()
        self._frames: deque[tuple[int, float]] = deque(maxlen=history)
        self.latest_ns: int | None = None

    def add(self, data: bytes, arrival_ns: int) -> None:
        try:
            msg: Any = self._typestore.deserialize_cdr(data, self.msgtype)
        except Exception as err:  # rosbags raises assorted errors on bad CDR
            raise DecodeError(f"{self.topic}: bad {self.msgtype} ({len(data)} bytes)") from err
        stamp_ns = int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)
        pixels: npt.NDArray[Any] | None
        if self.msgtype == COMPRESSED:
            pixels = cv2.imdecode(
                np.asarray(msg.data, dtype=np.uint8), cv2.IMREAD_REDUCED_GRAYSCALE_4
            )
            if pixels is None:
                raise DecodeError(f"{self.topic}: CompressedImage ({msg.format}) does not decode")
        else:
            pixels = np.asarray(msg.data, dtype=np.uint8)
        self._frames.append((stamp_ns, float(pixels.mean()) if pixels.size else 0.0))
        self.latest_ns = stamp_ns if self.latest_ns is None else max(self.latest_ns, stamp_ns)

    def onset(self, around_ns: int, *, window_ns: int, guard_ns: int) -> Onset | None:
        sel = [
            (s, m) for s, m in self._frames if around_ns - window_ns <= s <= around_ns + window_ns
        ]
        if not sel:
            return None
        stamps = np.array([s for s, _ in sel], dtype=np.int64)
        means = np.array([m for _, m in sel], dtype=np.float64)
        return brightness_onset(stamps, means, around_ns=around_ns, guard_ns=guard_ns)


def make_stream(
    topic: str, msgtype: str, *, bin_ns: int, history_ns: int
) -> EventStream | FrameStream:
    if msgtype in EVENT_TYPES:
        return EventStream(topic, msgtype, bin_ns=bin_ns, history_ns=history_ns)
    if msgtype in IMAGE_TYPES:
        return FrameStream(topic, msgtype)
    raise DecodeError(
        f"sync: {topic} has type {msgtype}; expected one of {EVENT_TYPES + IMAGE_TYPES}"
    )
