"""Bag access for the export: raw messages by topic, message deserialisation, event decoding.

Reads through :func:`microexp.bagio.open_bag`. Event messages are decoded without per-event Python objects:
``dv_ros2_msgs/msg/EventArray`` by a numpy view of its CDR layout, ``event_camera_msgs/msg/
EventPacket`` (evt3) by the long-lived decoder of :mod:`microexp.events`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from microexp.bagio.reader import RawMessage as RawMsg
from microexp.bagio.reader import open_bag
from microexp.errors import BagError, DecodeError
from microexp.events.evt3 import Evt3Decoder
from microexp.events.types import EVENT_DTYPE, EventArray

__all__ = [
    "DV_EVENT_ARRAY",
    "EVENT_PACKET",
    "BagSource",
    "DecodedPacket",
    "EventMessageDecoder",
    "RawMsg",
    "parse_dv_event_array",
]

log = logging.getLogger(__name__)

DV_EVENT_ARRAY = "dv_ros2_msgs/msg/EventArray"
EVENT_PACKET = "event_camera_msgs/msg/EventPacket"


class BagSource:
    """A bag opened for reading through :func:`microexp.bagio.open_bag` (mcap or sqlite3)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise BagError(f"{self.path}: bag does not exist")
        try:
            self._reader = open_bag(self.path)
        except (BagError, DecodeError):
            raise
        except Exception as err:  # corrupt input raises assorted errors
            raise BagError(f"{self.path}: cannot open bag: {err}") from err
        self.topics: dict[str, str] = {t: info.msgtype for t, info in self._reader.topics.items()}

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> BagSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def messages(self, topics: Sequence[str]) -> Iterator[RawMsg]:
        """Raw messages of those ``topics`` the bag has, in log-time order.

        Raises BagError naming the bag and the last good message if reading breaks (truncation).
        """
        present = [t for t in topics if t in self.topics]
        if not present:
            return
        count = 0
        try:
            for msg in self._reader.messages(topics=present):
                count += 1
                yield msg
        except (BagError, DecodeError) as err:
            raise BagError(f"{err} (after {count} messages of {present})") from err
        except Exception as err:
            raise BagError(
                f"{self.path}: reading failed after {count} messages of {present}: "
                f"{type(err).__name__}: {err} (truncated or corrupt bag?)"
            ) from err

    def deserialize(self, msg: RawMsg) -> Any:
        return self._reader.deserialize(msg)

    @property
    def notes(self) -> list[str]:
        """Workarounds the reader applied (e.g. a recording cut off: complete chunks read)."""
        return list(self._reader.notes)

    @property
    def message_counts(self) -> dict[str, int]:
        return {t: int(info.count) for t, info in self._reader.topics.items()}


@dataclass(frozen=True, slots=True)
class DecodedPacket:
    events: EventArray  # t in sensor µs
    stamp_ns: int  # header.stamp
    width: int
    height: int


_DV_REST = np.dtype(
    {
        "names": ["x", "y", "sec", "nsec", "p"],
        "formats": ["<u2", "<u2", "<i4", "<u4", "u1"],
        "offsets": [0, 2, 6, 10, 14],
        "itemsize": 15,  # stride 16, but the last event has no trailing pad
    }
)


def _align(pos: int, n: int) -> int:
    return (pos + n - 1) // n * n


def parse_dv_event_array(data: bytes | memoryview, *, where: str = "") -> DecodedPacket:
    """Decode a CDR ``dv_ros2_msgs/msg/EventArray`` with numpy (no per-event objects).

    Layout (little-endian CDR, offsets relative to the data after the 4-byte encapsulation
    header): header stamp (sec i32, nanosec u32), frame_id string, height, width, event count,
    then events: the first at a 4-aligned position is x, y, sec, nanosec, polarity (13 bytes);
    every following one sits at 2 mod 4 and has stride 16 (x, y, 2 pad, sec, nanosec, p, pad).
    """
    buf = memoryview(data).cast("B")
    if len(buf) < 4 or buf[1] != 1:
        raise DecodeError(
            f"{where}: EventArray is not little-endian CDR (header {bytes(buf[:4]).hex()})"
        )
    body = buf[4:]
    try:
        sec, nsec, slen = (
            np.frombuffer(body, "<i4", 1, 0)[0],
            np.frombuffer(body, "<u4", 1, 4)[0],
            int(np.frombuffer(body, "<u4", 1, 8)[0]),
        )
        pos = _align(12 + slen, 4)
        height, width, count = (int(v) for v in np.frombuffer(body, "<u4", 3, pos))
        pos += 12
        need = 0 if count == 0 else 13 + 16 * (count - 1)
        if pos + need > len(body):
            raise ValueError(f"{count} events need {need} bytes, {len(body) - pos} left")
    except ValueError as err:
        raise DecodeError(f"{where}: truncated EventArray: {err}") from err
    out = np.empty(count, dtype=EVENT_DTYPE)
    if count:
        x0, y0 = np.frombuffer(body, "<u2", 2, pos)
        s0, n0 = (
            int(np.frombuffer(body, "<i4", 1, pos + 4)[0]),
            int(np.frombuffer(body, "<u4", 1, pos + 8)[0]),
        )
        out[0] = (x0, y0, s0 * 1_000_000 + n0 // 1000, body[pos + 12])
        if count > 1:
            rest = np.ndarray((count - 1,), _DV_REST, body, pos + 14, (16,))
            out["x"][1:] = rest["x"]
            out["y"][1:] = rest["y"]
            out["t"][1:] = rest["sec"].astype(np.int64) * 1_000_000 + rest["nsec"] // 1000
            out["p"][1:] = rest["p"]
    return DecodedPacket(out, int(sec) * 1_000_000_000 + int(nsec), width, height)


class EventMessageDecoder:
    """Long-lived decoder of one event topic (state persists across packets: EVT3 time wraps)."""

    def __init__(self, *, topic: str, msgtype: str, source: BagSource) -> None:
        self.topic = topic
        self.msgtype = msgtype
        self.source = source
        self._evt3: Any = None
        if msgtype == EVENT_PACKET:
            self._evt3 = Evt3Decoder()
        elif msgtype != DV_EVENT_ARRAY:
            raise DecodeError(
                f"{source.path}: {topic} has message type {msgtype}, not an event type"
            )

    def decode(self, msg: RawMsg) -> DecodedPacket:
        where = f"{self.source.path}: {self.topic} @ {msg.log_time_ns} ns"
        if self._evt3 is None:
            return parse_dv_event_array(msg.data, where=where)
        m = self.source.deserialize(msg)
        if m.encoding != "evt3":
            raise DecodeError(
                f"{where}: EventPacket encoding {m.encoding!r}, only 'evt3' is supported"
            )
        # EVT 3.0 time is sensor time; time_base is not added (see events.evt3.event_time_to_ros_ns)
        events = self._evt3.decode(np.asarray(m.events, dtype=np.uint8)).events
        stamp = m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec
        return DecodedPacket(events, stamp, int(m.width), int(m.height))
