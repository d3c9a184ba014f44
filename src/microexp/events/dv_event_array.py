"""``dv_ros2_msgs/msg/EventArray`` as CDR bytes, decoded and encoded directly with numpy.

Layout (little-endian CDR, alignment relative to the byte after the 4-byte encapsulation
header; message definition in ``microexp/bagio/msgdefs/dv_ros2_msgs/msg/``)::

    00 01 00 00                      encapsulation: CDR little-endian
    int32  header.stamp.sec
    uint32 header.stamp.nanosec
    uint32 len(frame_id) + 1, frame_id bytes, NUL       then padding to 4
    uint32 height
    uint32 width
    uint32 number of events
    per event: uint16 x, uint16 y, [pad to 4] int32 ts.sec, uint32 ts.nanosec, uint8 polarity

The first event starts 4-aligned; after its polarity byte the next x is 2-aligned, so every
later event starts at 2 mod 4 with two padding bytes before ``ts``: a fixed 16-byte stride
from the second event on. A generic deserialiser builds one Python object per event; this
module reads the columns through one strided numpy view instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from microexp.errors import DecodeError
from microexp.events._words import as_bytes_array
from microexp.events.types import EVENT_DTYPE, EventArray

__all__ = ["EventArrayMessage", "decode_event_array_cdr", "encode_event_array_cdr"]

_CDR_LE = b"\x00\x01\x00\x00"
# strided view starting 2 bytes before the first event: x, y at 0, 2 (exact from event 1 on),
# ts.sec at 6, ts.nanosec at 10, polarity at 14; 15 bytes used of each 16-byte stride
_VIEW_DTYPE = np.dtype(
    {
        "names": ["x", "y", "sec", "nanosec", "p"],
        "formats": ["<u2", "<u2", "<i4", "<u4", "u1"],
        "offsets": [0, 2, 6, 10, 14],
        "itemsize": 15,
    }
)
_STRIDE = 16


@dataclass(frozen=True, slots=True)
class EventArrayMessage:
    """One decoded EventArray: header stamp (ns), frame id, geometry and the events (t in µs)."""

    stamp_ns: int
    frame_id: str
    width: int
    height: int
    events: EventArray


def _align4(offset: int) -> int:
    return (offset + 3) & ~3


def _header_end(raw: npt.NDArray[np.uint8], what: str) -> tuple[int, int, str, int]:
    """(sec, nanosec, frame_id, offset of height) with offsets relative to the CDR body."""
    n = raw.size
    if n < 4 + 12:
        raise DecodeError(f"{what}: {n} bytes is too short for an EventArray header")
    if bytes(raw[:2]) != _CDR_LE[:2]:
        raise DecodeError(
            f"{what}: encapsulation {bytes(raw[:4]).hex()} is not little-endian CDR (000100..)"
        )
    body = raw[4:]
    sec = int(body[0:4].view("<i4")[0])
    nanosec = int(body[4:8].view("<u4")[0])
    slen = int(body[8:12].view("<u4")[0])
    if slen == 0 or 12 + slen > body.size:
        raise DecodeError(f"{what}: frame_id length {slen} does not fit in {n} bytes")
    frame_id = bytes(body[12 : 12 + slen - 1]).decode("utf-8", errors="replace")
    return sec, nanosec, frame_id, _align4(12 + slen)


def decode_event_array_cdr(
    raw: bytes | bytearray | memoryview | npt.NDArray[np.uint8], *, what: str = "EventArray"
) -> EventArrayMessage:
    """Decode the CDR bytes of one ``dv_ros2_msgs/msg/EventArray``.

    ``t`` of each event is ``ts.sec * 1_000_000 + ts.nanosec // 1000`` µs. ``what`` names the
    message (topic, index) in errors.
    """
    buf = as_bytes_array(raw)
    sec, nanosec, frame_id, off = _header_end(buf, what)
    body = buf[4:]
    if off + 12 > body.size:
        raise DecodeError(f"{what}: {buf.size} bytes is too short for height/width/length")
    height, width, count = (int(v) for v in body[off : off + 12].view("<u4"))
    first = off + 12
    need = first + (13 + _STRIDE * (count - 1) if count else 0)
    if body.size < need:
        raise DecodeError(
            f"{what}: {buf.size} bytes cannot hold {count} events (need {need + 4} bytes)"
        )
    events = np.empty(count, dtype=EVENT_DTYPE)
    if count:
        view = np.ndarray(
            shape=(count,), dtype=_VIEW_DTYPE, buffer=body, offset=first - 2, strides=(_STRIDE,)
        )
        events["x"] = view["x"]
        events["y"] = view["y"]
        events["x"][0], events["y"][0] = body[first : first + 4].view("<u2")
        t = view["sec"].astype(np.int64)
        t *= 1_000_000
        t += view["nanosec"] // 1000
        events["t"] = t
        events["p"] = view["p"]
    return EventArrayMessage(
        stamp_ns=sec * 1_000_000_000 + nanosec,
        frame_id=frame_id,
        width=width,
        height=height,
        events=events,
    )


def encode_event_array_cdr(
    events: EventArray, *, stamp_ns: int, frame_id: str, width: int, height: int
) -> bytes:
    """CDR bytes of a ``dv_ros2_msgs/msg/EventArray``, identical to rosbags' ``serialize_cdr``.

    Event times (µs) become ``ts.sec = t // 1e6``, ``ts.nanosec = (t % 1e6) * 1000``.
    """
    name = frame_id.encode("utf-8")
    count = int(events.shape[0])
    off = _align4(12 + len(name) + 1)
    first = off + 12
    size = first + (13 + _STRIDE * (count - 1) if count else 0)
    body = np.zeros(size, dtype=np.uint8)
    sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
    body[0:8] = np.array([sec, nanosec], dtype="<i8").astype("<i4").view(np.uint8)
    body[8:12] = np.array([len(name) + 1], dtype="<u4").view(np.uint8)
    body[12 : 12 + len(name)] = np.frombuffer(name, dtype=np.uint8)
    body[off : off + 12] = np.array([height, width, count], dtype="<u4").view(np.uint8)
    if count:
        view = np.ndarray(
            shape=(count,), dtype=_VIEW_DTYPE, buffer=body, offset=first - 2, strides=(_STRIDE,)
        )
        t = events["t"].astype(np.int64)
        ev_sec, ev_usec = np.divmod(t, 1_000_000)
        view["sec"] = ev_sec
        view["nanosec"] = ev_usec * 1000
        view["p"] = events["p"]
        view["x"][1:] = events["x"][1:]
        view["y"][1:] = events["y"][1:]
        # the first event's x, y sit 2 bytes further on than the view's (unaligned start)
        body[first : first + 4] = np.array([events["x"][0], events["y"][0]], dtype="<u2").view(
            np.uint8
        )
    return _CDR_LE + body.tobytes()
