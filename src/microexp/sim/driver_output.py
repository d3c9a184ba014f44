"""Turn simulated camera chunks into the messages the real drivers publish (CDR bytes).

- DAVIS346 (dv-ros2 capture): ``dv_ros2_msgs/msg/EventArray`` packets every ``packet_us`` of
  sensor time (``time_increment``), each event with its own ``ts`` (sensor µs, UNIX-based like
  dv-processing's clock); grey APS frames as ``sensor_msgs/msg/Image`` mono8 stamped with the
  exposure start in sensor time.
- EVK4 (metavision_driver): ``event_camera_msgs/msg/EventPacket`` with ``encoding`` "evt3", a
  continuous EVT 3.0 stream cut into messages of about ``packet_us`` (the driver's
  ``event_message_time_threshold``), ``seq`` counting every message (dropped ones too),
  ``time_base`` 0 (the driver leaves it unused) and ``header.stamp`` the host time of the
  message's first SDK packet.
- Webcam: ``sensor_msgs/msg/Image`` rgb8, or ``sensor_msgs/msg/CompressedImage`` jpeg.

Each output returns :class:`OutMessage` items (topic, receive time, CDR bytes); dropped messages
(``drop_rate``) are counted in ``dropped`` and never returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from rosbags.typesys.store import Typestore

from microexp.bagio.messages import compressed_image, event_packet, image, serialize
from microexp.events.dv_event_array import encode_event_array_cdr
from microexp.events.evt3 import Evt3Encoder
from microexp.events.types import EventArray
from microexp.sim.camera_sim import CameraChunk, SimFrame
from microexp.sim.sensors import SensorProfile

__all__ = [
    "DV_EVENT_ARRAY",
    "EVENT_PACKET",
    "DavisOutput",
    "Evk4Output",
    "OutMessage",
    "WebcamOutput",
    "encode_dv_event_array",
]

DV_EVENT_ARRAY = "dv_ros2_msgs/msg/EventArray"
EVENT_PACKET = "event_camera_msgs/msg/EventPacket"
IMAGE = "sensor_msgs/msg/Image"
COMPRESSED_IMAGE = "sensor_msgs/msg/CompressedImage"


@dataclass(frozen=True, slots=True)
class OutMessage:
    topic: str
    log_time_ns: int  # bag receive time (ROS time)
    data: bytes


def encode_dv_event_array(
    events: EventArray, *, stamp_ns: int, frame_id: str, width: int, height: int
) -> bytes:
    """CDR of a ``dv_ros2_msgs/msg/EventArray`` (each event's ``ts`` = its sensor µs)."""
    return bytes(
        encode_event_array_cdr(
            events, stamp_ns=stamp_ns, frame_id=frame_id, width=width, height=height
        )
    )


class _Output:
    def __init__(
        self, sensor: SensorProfile, typestore: Typestore, *, start_ns: int, seed: int
    ) -> None:
        self.sensor = sensor
        self.typestore = typestore
        self.start_ns = start_ns
        self.rng = np.random.default_rng([seed, 0xD2])
        self.dropped = 0
        self.sent = 0
        self._last_ns: dict[str, int] = {}

    def _in_order(self, topic: str, t_ns: int) -> int:
        """``t_ns``, moved just after the topic's previous time if needed: one publisher sends
        its messages in order, so their stamps and receive times never go backwards."""
        t = max(int(t_ns), self._last_ns.get(topic, -1) + 1)
        self._last_ns[topic] = t
        return t

    def _host_ns(self, protocol_us: int, lo_us: float = 200.0, hi_us: float = 1500.0) -> int:
        """ROS time at which the host receives data produced at ``protocol_us``."""
        return self.start_ns + int(protocol_us) * 1000 + int(self.rng.uniform(lo_us, hi_us) * 1e3)

    def _keep(self) -> bool:
        if self.sensor.drop_rate > 0 and self.rng.random() < self.sensor.drop_rate:
            self.dropped += 1
            return False
        self.sent += 1
        return True

    def _packets(self, events: EventArray, t0_us: int, t1_us: int) -> list[tuple[int, int, Any]]:
        """(packet start, packet end, events) in sensor time over the chunk's sensor interval."""
        p = self.sensor.packet_us
        off = self.sensor.clock_offset_us
        a = (t0_us + off) // p
        b = -(-(t1_us + off) // p)
        edges = np.arange(a, b + 1, dtype=np.int64) * p
        cuts = np.searchsorted(events["t"], edges)
        return [
            (int(edges[i]), int(edges[i + 1]), events[cuts[i] : cuts[i + 1]])
            for i in range(len(edges) - 1)
        ]


class DavisOutput(_Output):
    """dv-ros2 capture node: ``/davis/events`` and ``/davis/image``."""

    def __init__(
        self,
        sensor: SensorProfile,
        typestore: Typestore,
        *,
        start_ns: int,
        seed: int,
        namespace: str = "/davis",
        frame_id: str = "davis",
    ) -> None:
        super().__init__(sensor, typestore, start_ns=start_ns, seed=seed)
        self.events_topic = f"{namespace}/events"
        self.image_topic = f"{namespace}/image"
        self.frame_id = frame_id

    @property
    def topics(self) -> dict[str, str]:
        return {self.events_topic: DV_EVENT_ARRAY, self.image_topic: IMAGE}

    def convert(self, chunk: CameraChunk) -> list[OutMessage]:
        s = self.sensor
        out: list[OutMessage] = []
        off = s.clock_offset_us
        for _p0, p1, ev in self._packets(chunk.events, chunk.t0_us, chunk.t1_us):
            if ev.size == 0 or not self._keep():
                continue
            host = self._in_order(self.events_topic, self._host_ns(p1 - off))
            data = encode_dv_event_array(
                ev,
                stamp_ns=host,
                frame_id=self.frame_id,
                width=s.width,
                height=s.height,
            )
            out.append(OutMessage(self.events_topic, host, data))
        for fr in chunk.frames:
            if self._keep():
                out.append(self._image(fr))
        return out

    def _image(self, fr: SimFrame) -> OutMessage:
        msg = image(
            self.typestore,
            pixels=fr.pixels,
            stamp_ns=fr.t_us * 1000,
            frame_id=self.frame_id,
            encoding="mono8",
        )
        return OutMessage(
            self.image_topic,
            self._host_ns(fr.protocol_t_us, 2000, 6000),
            serialize(self.typestore, msg),
        )


class Evk4Output(_Output):
    """metavision_driver: ``/evk4/events`` (EventPacket, evt3)."""

    def __init__(
        self,
        sensor: SensorProfile,
        typestore: Typestore,
        *,
        start_ns: int,
        seed: int,
        namespace: str = "/evk4",
        frame_id: str = "evk4",
    ) -> None:
        super().__init__(sensor, typestore, start_ns=start_ns, seed=seed)
        self.events_topic = f"{namespace}/events"
        self.frame_id = frame_id
        self.encoder = Evt3Encoder()
        self.seq = 0
        self.dropped_seqs: list[int] = []  # seq of every dropped message (loss-detection tests)

    @property
    def topics(self) -> dict[str, str]:
        return {self.events_topic: EVENT_PACKET}

    def convert(self, chunk: CameraChunk) -> list[OutMessage]:
        s = self.sensor
        out: list[OutMessage] = []
        off = s.clock_offset_us
        for p0, _p1, ev in self._packets(chunk.events, chunk.t0_us, chunk.t1_us):
            if ev.size == 0:
                continue
            payload = self.encoder.encode(ev)  # the stream goes on, dropped message or not
            seq = self.seq
            self.seq += 1
            if not self._keep():
                self.dropped_seqs.append(seq)
                continue
            # host time of the message's first SDK packet (the SDK delivers in ~packet slices)
            stamp = self._in_order("stamp", self._host_ns(p0 - off, 100, 400))
            msg = event_packet(
                self.typestore,
                events=payload,
                stamp_ns=stamp,
                frame_id=self.frame_id,
                width=s.width,
                height=s.height,
                seq=seq,
                time_base=0,
                encoding="evt3",
            )
            out.append(
                OutMessage(
                    self.events_topic,
                    self._in_order(self.events_topic, stamp + int(self.rng.uniform(50e3, 300e3))),
                    serialize(self.typestore, msg),
                )
            )
        return out


class WebcamOutput(_Output):
    """A ROS webcam driver: ``/webcam/image_raw`` (rgb8) or ``/webcam/image_raw/compressed``."""

    def __init__(
        self,
        sensor: SensorProfile,
        typestore: Typestore,
        *,
        start_ns: int,
        seed: int,
        compressed: bool = False,
        namespace: str = "/webcam",
        frame_id: str = "webcam",
        jpeg_quality: int = 90,
    ) -> None:
        super().__init__(sensor, typestore, start_ns=start_ns, seed=seed)
        self.compressed = compressed
        self.topic = f"{namespace}/image_raw" + ("/compressed" if compressed else "")
        self.frame_id = frame_id
        self.jpeg_quality = jpeg_quality

    @property
    def topics(self) -> dict[str, str]:
        return {self.topic: COMPRESSED_IMAGE if self.compressed else IMAGE}

    def convert(self, chunk: CameraChunk) -> list[OutMessage]:
        out: list[OutMessage] = []
        for fr in chunk.frames:
            if not self._keep():
                continue
            host = self._in_order(self.topic, self._host_ns(fr.protocol_t_us, 5000, 15000))
            if self.compressed:
                bgr = np.ascontiguousarray(fr.pixels[..., ::-1])
                ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
                if not ok:  # pragma: no cover - OpenCV always encodes a uint8 image
                    raise RuntimeError("JPEG encoding failed")
                msg = compressed_image(
                    self.typestore,
                    data=buf.tobytes(),
                    stamp_ns=host,
                    frame_id=self.frame_id,
                    fmt="jpeg",
                )
            else:
                msg = image(
                    self.typestore,
                    pixels=fr.pixels,
                    stamp_ns=host,
                    frame_id=self.frame_id,
                    encoding="rgb8",
                )
            out.append(OutMessage(self.topic, host + 200_000, serialize(self.typestore, msg)))
        return out
