"""Thin builders for the messages we publish and write: objects from the typestore, CDR bytes.

Field lists come from the typestore (hence from the ``.msg`` files); :func:`build_message` fills
every field not given with its zero value, so a builder names only what it sets.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from rosbags.typesys.base import Nodetype
from rosbags.typesys.store import Typestore

from microexp.errors import ConfigError

__all__ = [
    "EVENT_PACKET",
    "build_message",
    "compressed_image",
    "deserialize",
    "event_packet",
    "header",
    "image",
    "serialize",
]

EVENT_PACKET = "event_camera_msgs/msg/EventPacket"
_NUMPY_BASE = {
    "bool": np.bool_, "byte": np.uint8, "char": np.uint8, "int8": np.int8, "uint8": np.uint8,
    "int16": np.int16, "uint16": np.uint16, "int32": np.int32, "uint32": np.uint32,
    "int64": np.int64, "uint64": np.uint64, "float32": np.float32, "float64": np.float64,
}  # fmt: skip


def serialize(typestore: Typestore, msg: Any) -> bytes:
    """CDR bytes of ``msg`` (its type is read from the object)."""
    return bytes(typestore.serialize_cdr(msg, msg.__msgtype__))


def deserialize(typestore: Typestore, data: bytes | memoryview, msgtype: str) -> Any:
    """The message object of CDR ``data``."""
    return typestore.deserialize_cdr(data, msgtype)


def _zero(typestore: Typestore, desc: tuple[Any, Any]) -> Any:
    kind, arg = desc
    if kind == Nodetype.BASE:
        name = arg[0]
        return "" if name in ("string", "wstring") else (False if name == "bool" else 0)
    if kind == Nodetype.NAME:
        return build_message(typestore, arg)
    sub, size = arg
    if sub[0] == Nodetype.BASE and sub[1][0] in _NUMPY_BASE:
        return np.zeros(size if kind == Nodetype.ARRAY else 0, dtype=_NUMPY_BASE[sub[1][0]])
    return [_zero(typestore, sub) for _ in range(size if kind == Nodetype.ARRAY else 0)]


def build_message(typestore: Typestore, msgtype: str, **fields: Any) -> Any:
    """A ``msgtype`` object with ``fields`` set and every other field zero/empty."""
    if msgtype not in typestore.fielddefs:
        raise ConfigError(f"unknown message type {msgtype}")
    _consts, defs = typestore.fielddefs[msgtype]
    names = {name for name, _ in defs}
    unknown = sorted(set(fields) - names)
    if unknown:
        raise ConfigError(f"{msgtype} has no field {unknown} (fields: {sorted(names)})")
    values = {name: fields[name] if name in fields else _zero(typestore, d) for name, d in defs}
    return typestore.types[msgtype](**values)


def header(typestore: Typestore, *, stamp_ns: int, frame_id: str = "") -> Any:
    """``std_msgs/msg/Header`` at ``stamp_ns`` (ROS time, ns)."""
    sec, nanosec = divmod(int(stamp_ns), 1_000_000_000)
    stamp = typestore.types["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec)
    return typestore.types["std_msgs/msg/Header"](stamp=stamp, frame_id=frame_id)


def event_packet(
    typestore: Typestore,
    *,
    events: bytes | npt.NDArray[np.uint8],
    stamp_ns: int,
    frame_id: str,
    width: int,
    height: int,
    seq: int,
    time_base: int = 0,
    encoding: str = "evt3",
) -> Any:
    """``event_camera_msgs/msg/EventPacket`` carrying an already encoded stream."""
    payload = np.frombuffer(events, dtype=np.uint8) if isinstance(events, bytes) else events
    return build_message(
        typestore, EVENT_PACKET, header=header(typestore, stamp_ns=stamp_ns, frame_id=frame_id),
        height=height, width=width, seq=seq, time_base=time_base, encoding=encoding,
        is_bigendian=False, events=payload,
    )  # fmt: skip


def image(
    typestore: Typestore,
    *,
    pixels: npt.NDArray[np.uint8],
    stamp_ns: int,
    frame_id: str,
    encoding: Literal["mono8", "rgb8"] = "mono8",
) -> Any:
    """``sensor_msgs/msg/Image`` from an ``[H, W]`` (mono8) or ``[H, W, 3]`` (rgb8) uint8 array."""
    channels = 1 if encoding == "mono8" else 3
    if (
        pixels.dtype != np.uint8
        or pixels.ndim != (2 if channels == 1 else 3)
        or (channels == 3 and pixels.shape[2] != 3)
    ):
        raise ConfigError(f"{encoding} image needs uint8 pixels, got {pixels.dtype} {pixels.shape}")
    height, width = pixels.shape[:2]
    return build_message(
        typestore, "sensor_msgs/msg/Image",
        header=header(typestore, stamp_ns=stamp_ns, frame_id=frame_id), height=height,
        width=width, encoding=encoding, is_bigendian=0, step=width * channels,
        data=np.ascontiguousarray(pixels).reshape(-1),
    )  # fmt: skip


def compressed_image(
    typestore: Typestore, *, data: bytes, stamp_ns: int, frame_id: str, fmt: str = "jpeg"
) -> Any:
    """``sensor_msgs/msg/CompressedImage`` holding already encoded bytes (e.g. JPEG)."""
    return build_message(
        typestore, "sensor_msgs/msg/CompressedImage",
        header=header(typestore, stamp_ns=stamp_ns, frame_id=frame_id), format=fmt,
        data=np.frombuffer(data, dtype=np.uint8),
    )  # fmt: skip
