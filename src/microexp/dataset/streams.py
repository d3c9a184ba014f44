"""Per-camera stream state during the export: event decoding, sensor→ROS time, frame decoding.

Sensor time → ROS time, per packet: a sample ``offset = reference − sensor time`` is taken from
every event packet. The reference is ``header.stamp`` when it is plausible (within
``PLAUSIBLE_NS`` of the bag's receive time), paired with the packet's first event for
``EventPacket`` (metavision_driver stamps the host arrival of the first SDK packet) and with its
last event for dv ``EventArray`` (published once the packet's time slice is complete); otherwise
(dv-ros2 forks stamp the header wrongly, docs/references.md#dv-ros2) the bag receive time paired with the
last event. The offset applied
to a packet is the running median of the last ``window`` samples, which rejects transport jitter
and outliers. Then the camera's sync-flash offset (``CameraSync.offset_ns`` = camera time −
protocol time) is subtracted, when the bag has one, so all cameras share the protocol clock.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from microexp.dataset.bagsource import (
    EVENT_PACKET,
    BagSource,
    DecodedPacket,
    EventMessageDecoder,
    RawMsg,
)
from microexp.errors import DecodeError

__all__ = ["PLAUSIBLE_NS", "CameraStream", "OffsetEstimator", "decode_image"]

log = logging.getLogger(__name__)

PLAUSIBLE_NS = 60_000_000_000


class OffsetEstimator:
    """Running median of (reference ROS ns − sensor ns) over the last ``window`` packets."""

    def __init__(self, window: int, *, stamp_is_first_event: bool) -> None:
        self._samples: deque[int] = deque(maxlen=max(1, window))
        self._median = 0
        self.stamp_is_first_event = stamp_is_first_event

    def update(self, packet: DecodedPacket, log_time_ns: int) -> int:
        t = packet.events["t"]
        if abs(packet.stamp_ns - log_time_ns) < PLAUSIBLE_NS:
            ref_us = int(t[0]) if self.stamp_is_first_event else int(t[-1])
            sample = packet.stamp_ns - ref_us * 1000
        else:
            sample = log_time_ns - int(t[-1]) * 1000
        self._samples.append(sample)
        ordered = sorted(self._samples)
        n = len(ordered)
        self._median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) // 2
        return self._median

    @property
    def offset_ns(self) -> int:
        return self._median


def decode_image(msg: Any, msgtype: str, *, where: str) -> tuple[npt.NDArray[np.uint8], int]:
    """(image, header stamp ns) of a sensor_msgs Image (mono8, rgb8, bgr8) or CompressedImage.

    Grey images are [H, W], colour ones [H, W, 3] RGB.
    """
    stamp = int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)
    data = np.asarray(msg.data, dtype=np.uint8)
    if msgtype.endswith("CompressedImage"):
        img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
        if img is None:
            raise DecodeError(f"{where}: CompressedImage ({msg.format}) does not decode")
        if img.ndim == 3:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        return np.asarray(img, dtype=np.uint8), stamp
    enc, h, w, step = str(msg.encoding), int(msg.height), int(msg.width), int(msg.step)
    channels = {"mono8": 1, "8UC1": 1, "rgb8": 3, "bgr8": 3, "8UC3": 3}.get(enc)
    if channels is None:
        raise DecodeError(f"{where}: image encoding {enc!r} not supported (mono8, rgb8, bgr8)")
    if data.size < h * step:
        raise DecodeError(f"{where}: image has {data.size} bytes, needs {h}x{step}")
    rows = data[: h * step].reshape(h, step)[:, : w * channels]
    img = rows.reshape(h, w) if channels == 1 else rows.reshape(h, w, 3)
    if enc == "bgr8":
        img = img[:, :, ::-1]
    return np.ascontiguousarray(img), stamp


@dataclass
class CameraStream:
    """What the export tracks for one camera of one bag."""

    name: str
    events_topic: str
    frames_topic: str
    sync_offset_ns: int
    window: int
    frame_clock: str = "ros"
    keep_frames: bool = True  # False: frames only locate the face (consent), nothing written
    decoder: EventMessageDecoder | None = None
    estimator: OffsetEstimator = field(init=False)
    width: int = 0
    height: int = 0
    frame_size: tuple[int, int] = (0, 0)  # width, height of frames
    events_seen: int = 0
    frames_seen: int = 0

    def __post_init__(self) -> None:
        self.estimator = OffsetEstimator(self.window, stamp_is_first_event=True)

    def attach(self, src: BagSource) -> None:
        if self.events_topic and self.events_topic in src.topics:
            msgtype = src.topics[self.events_topic]
            self.decoder = EventMessageDecoder(topic=self.events_topic, msgtype=msgtype, source=src)
            self.estimator.stamp_is_first_event = msgtype == EVENT_PACKET

    def events(self, msg: RawMsg) -> tuple[DecodedPacket, int] | None:
        """Decoded packet (t: sensor µs) and the offset to add to ``t·1000`` for ROS
        (protocol clock) ns, or None when the packet is empty."""
        assert self.decoder is not None
        pkt = self.decoder.decode(msg)
        if pkt.events.size == 0:
            return None
        self.width, self.height = max(self.width, pkt.width), max(self.height, pkt.height)
        offset = self.estimator.update(pkt, msg.log_time_ns) - self.sync_offset_ns
        self.events_seen += pkt.events.size
        return pkt, offset

    def frame(self, src: BagSource, msg: RawMsg) -> tuple[npt.NDArray[np.uint8], int]:
        img, stamp = decode_image(
            src.deserialize(msg), msg.msgtype, where=f"{src.path}: {msg.topic} message {msg.index}"
        )
        if self.frame_clock == "sensor" and self.decoder is not None:
            stamp += self.estimator.offset_ns  # same clock as the events
        elif abs(stamp - msg.log_time_ns) >= PLAUSIBLE_NS:
            stamp = msg.log_time_ns
        self.frame_size = (img.shape[1], img.shape[0])
        self.frames_seen += 1
        return img, stamp - self.sync_offset_ns
