"""Decode the event topics of a bag into the one event dtype, packet by packet.

One :class:`EventTopicDecoder` per topic, kept for the whole stream: EVT 3.0 decoders carry time
state across packets (24-bit wrap), so they are never re-created per message. A message that cannot
be decoded raises :class:`EventDecodeError` with the cause it is counted under (:data:`RejectCause`):
the live inference node counts rejected messages by cause on ``/diagnostics``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from microexp.bagio.reader import RawMessage
from microexp.bagio.typestore import build_typestore
from microexp.errors import DecodeError
from microexp.events.types import EventArray, TriggerArray, empty_triggers

__all__ = [
    "DV_EVENT_ARRAY",
    "EVENT_PACKET",
    "EVENT_TYPES",
    "MAX_SENSOR_SIDE",
    "REJECT_CAUSES",
    "EventChunk",
    "EventDecodeError",
    "EventTopicDecoder",
    "RejectCause",
]

EVENT_PACKET = "event_camera_msgs/msg/EventPacket"
DV_EVENT_ARRAY = "dv_ros2_msgs/msg/EventArray"
EVENT_TYPES = (EVENT_PACKET, DV_EVENT_ARRAY)

RejectCause = Literal["type", "cdr", "geometry", "encoding", "payload", "outside_sensor"]
"""Why an event message was not decoded: ``type`` not an event message type; ``cdr`` the message
does not deserialize (random bytes, truncated); ``geometry`` width or height 0 or beyond
:data:`MAX_SENSOR_SIDE`; ``encoding`` an ``EventPacket.encoding`` no decoder knows, or a change of
encoding mid-stream; ``payload`` the event words are invalid (unknown word types, a cut word);
``outside_sensor`` an event lies beyond width x height."""
REJECT_CAUSES: tuple[RejectCause, ...] = get_args(RejectCause)
MAX_SENSOR_SIDE = 8192
"""Largest plausible sensor side in pixels (event sensors today: up to 1280 x 720)."""


class EventDecodeError(DecodeError):
    """An event message that cannot be decoded, with the :data:`RejectCause` it counts under."""

    def __init__(self, message: str, *, cause: RejectCause) -> None:
        super().__init__(message)
        self.cause: RejectCause = cause


@dataclass(frozen=True, slots=True)
class EventChunk:
    """The events of one message. ``t`` is sensor time in µs (EventPacket: add ``time_base``, ns,
    for ROS time); ``seq`` is None for types without a sequence number (dv EventArray)."""

    events: EventArray
    triggers: TriggerArray
    seq: int | None
    stamp_ns: int
    time_base: int
    width: int
    height: int
    encoding: str


class EventTopicDecoder:
    """Long-lived decoder of one event topic (EventPacket of any supported encoding, or EventArray)."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self._typestore = build_typestore(distro="jazzy")
        self._codec: Any = None
        self._codec_key: tuple[str, int, int] | None = None

    def reset(self) -> None:
        """Forget stream state (call after a seek or a gap you do not want bridged)."""
        if self._codec is not None:
            self._codec.reset()

    def decode(self, raw: RawMessage) -> EventChunk:
        """Decode one message; errors (:class:`EventDecodeError`) name the topic, the message
        index and the cause (the caller may go on)."""
        where = f"topic {self.topic} message {raw.index}"
        if raw.msgtype == EVENT_PACKET:
            return self._packet(raw, where)
        if raw.msgtype == DV_EVENT_ARRAY:
            return self._event_array(raw, where)
        raise EventDecodeError(
            f"{where}: {raw.msgtype} is not an event message type {EVENT_TYPES}", cause="type"
        )

    @staticmethod
    def _check_geometry(width: int, height: int, where: str) -> None:
        if not (0 < width <= MAX_SENSOR_SIDE and 0 < height <= MAX_SENSOR_SIDE):
            raise EventDecodeError(
                f"{where}: sensor geometry {width}x{height} is not plausible "
                f"(1..{MAX_SENSOR_SIDE} pixels per side)",
                cause="geometry",
            )

    def _packet(self, raw: RawMessage, where: str) -> EventChunk:
        from microexp.events.packet import ENCODINGS, OutsideSensorError, make_packet_decoder

        try:
            msg: Any = self._typestore.deserialize_cdr(raw.data, EVENT_PACKET)
        except Exception as err:  # rosbags raises assorted errors on bad CDR
            raise EventDecodeError(f"{where}: bad EventPacket CDR ({err})", cause="cdr") from err
        key = (str(msg.encoding), int(msg.width), int(msg.height))
        if self._codec_key != key:
            if key[0] not in ENCODINGS:
                raise EventDecodeError(
                    f"{where}: unknown event encoding {key[0]!r} (known: {', '.join(ENCODINGS)})",
                    cause="encoding",
                )
            if self._codec_key is not None and self._codec_key[0] != key[0]:
                raise EventDecodeError(
                    f"{where}: encoding changed from {self._codec_key[0]!r} to {key[0]!r}",
                    cause="encoding",
                )
            self._check_geometry(key[1], key[2], where)
            self._codec = make_packet_decoder(key[0], width=key[1], height=key[2])
            self._codec_key = key
        try:
            decoded = self._codec.decode(np.asarray(msg.events, dtype=np.uint8))
        except DecodeError as err:
            self._codec.reset()
            cause: RejectCause = "outside_sensor" if isinstance(err, OutsideSensorError) else (
                "payload")  # fmt: skip
            raise EventDecodeError(f"{where}: {err}", cause=cause) from err
        stamp = msg.header.stamp
        return EventChunk(
            events=decoded.events,
            triggers=decoded.triggers,
            seq=int(msg.seq),
            stamp_ns=int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec),
            time_base=int(msg.time_base),
            width=key[1],
            height=key[2],
            encoding=key[0],
        )

    def _event_array(self, raw: RawMessage, where: str) -> EventChunk:
        from microexp.events.dv_event_array import decode_event_array_cdr

        try:
            msg = decode_event_array_cdr(raw.data, what=where)  # its errors name `where`
        except DecodeError as err:
            raise EventDecodeError(str(err), cause="cdr") from err
        self._check_geometry(msg.width, msg.height, where)
        ev = msg.events
        if ev.size and (int(ev["x"].max()) >= msg.width or int(ev["y"].max()) >= msg.height):
            raise EventDecodeError(
                f"{where}: event at x={int(ev['x'].max())}, y={int(ev['y'].max())} (max) outside "
                f"the {msg.width}x{msg.height} sensor",
                cause="outside_sensor",
            )
        return EventChunk(
            events=msg.events,
            triggers=empty_triggers(),
            seq=None,
            stamp_ns=int(msg.stamp_ns),
            time_base=0,
            width=int(msg.width),
            height=int(msg.height),
            encoding="dv_event_array",
        )
