"""Read a few header fields straight from serialized ROS 2 messages (CDR, XCDR1 as Fast DDS writes).

A recorder sees every message as bytes; decoding whole messages to count gaps would cost far more
than the write. These peeks read only the fixed-position fields they need.
"""

from __future__ import annotations

import struct

from microexp.errors import DecodeError

__all__ = ["peek_event_packet_seq", "peek_header_stamp_ns"]

_ENCAP = 4  # 2-byte representation id + 2 options bytes; alignment is relative to what follows


def _order(data: bytes | memoryview, what: str) -> str:
    if len(data) < _ENCAP + 12:
        raise DecodeError(f"{what}: {len(data)} bytes is too short for a std_msgs/Header")
    rep = data[1]  # 0x00 CDR_BE, 0x01 CDR_LE
    if data[0] != 0 or rep not in (0, 1):
        raise DecodeError(f"{what}: unknown CDR representation {bytes(data[:2]).hex()}")
    return "<" if rep == 1 else ">"


def peek_header_stamp_ns(data: bytes | memoryview, *, what: str = "message") -> int:
    """``header.stamp`` in ns of a message whose first field is ``std_msgs/Header``."""
    order = _order(data, what)
    sec, nanosec = struct.unpack_from(order + "iI", data, _ENCAP)
    return int(sec) * 1_000_000_000 + int(nanosec)


def _align(offset: int, size: int) -> int:
    return (offset + size - 1) // size * size


def peek_event_packet_seq(data: bytes | memoryview, *, what: str = "EventPacket") -> int:
    """``seq`` of a serialized ``event_camera_msgs/msg/EventPacket``."""
    order = _order(data, what)
    (id_len,) = struct.unpack_from(order + "I", data, _ENCAP + 8)
    pos = 8 + 4 + id_len  # body offsets: stamp, frame_id length, frame_id bytes (with NUL)
    pos = _align(pos, 4) + 8  # height, width
    pos = _align(pos, 8)
    if _ENCAP + pos + 8 > len(data):
        raise DecodeError(f"{what}: {len(data)} bytes end before seq (frame_id length {id_len})")
    (seq,) = struct.unpack_from(order + "Q", data, _ENCAP + pos)
    return int(seq)
