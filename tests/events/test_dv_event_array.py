"""dv_ros2_msgs/EventArray CDR: byte-identical to rosbags, decoded exactly, bad buffers."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from event_strategies import sorted_events
from hypothesis import given, settings
from hypothesis import strategies as st

from microexp.errors import DecodeError
from microexp.events.dv_event_array import decode_event_array_cdr, encode_event_array_cdr

REPO_ROOT = Path(__file__).resolve().parents[2]
MSG_DIR = REPO_ROOT / "src" / "microexp" / "bagio" / "msgdefs" / "dv_ros2_msgs" / "msg"


@cache
def typestore():  # type: ignore[no-untyped-def]
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS2_HUMBLE)
    types = {}
    for name in ("Event", "EventArray"):
        text = (MSG_DIR / f"{name}.msg").read_text()
        types.update(get_types_from_msg(text, f"dv_ros2_msgs/msg/{name}"))
    store.register(types)
    return store


def rosbags_bytes(events, *, stamp_ns: int, frame_id: str, width: int, height: int) -> bytes:
    store = typestore()
    time_t = store.types["builtin_interfaces/msg/Time"]
    event_t = store.types["dv_ros2_msgs/msg/Event"]
    msg = store.types["dv_ros2_msgs/msg/EventArray"](
        header=store.types["std_msgs/msg/Header"](
            stamp=time_t(sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9), frame_id=frame_id
        ),
        height=height,
        width=width,
        events=[
            event_t(
                x=int(e["x"]),
                y=int(e["y"]),
                ts=time_t(sec=int(e["t"]) // 10**6, nanosec=int(e["t"]) % 10**6 * 1000),
                polarity=bool(e["p"]),
            )
            for e in events
        ],
    )
    return bytes(store.serialize_cdr(msg, "dv_ros2_msgs/msg/EventArray"))


@settings(max_examples=60, deadline=None)
@given(
    events=sorted_events(width=346, height=260, max_size=100, t0_max=2**40),
    frame_id=st.text(alphabet="abcdefgh_/", max_size=9),
    stamp_ns=st.integers(0, 2**40),
)
def test_identical_to_rosbags_and_decodes_back(events, frame_id: str, stamp_ns: int) -> None:
    ours = encode_event_array_cdr(
        events, stamp_ns=stamp_ns, frame_id=frame_id, width=346, height=260
    )
    theirs = rosbags_bytes(events, stamp_ns=stamp_ns, frame_id=frame_id, width=346, height=260)
    assert ours == theirs
    msg = decode_event_array_cdr(theirs)
    assert msg.stamp_ns == stamp_ns and msg.frame_id == frame_id
    assert (msg.width, msg.height) == (346, 260)
    assert np.array_equal(msg.events, events)


def test_sub_microsecond_nanoseconds_are_floored() -> None:
    store = typestore()
    time_t = store.types["builtin_interfaces/msg/Time"]
    ev = store.types["dv_ros2_msgs/msg/Event"](
        x=1, y=2, ts=time_t(sec=3, nanosec=4_999), polarity=True
    )
    msg = store.types["dv_ros2_msgs/msg/EventArray"](
        header=store.types["std_msgs/msg/Header"](stamp=time_t(sec=0, nanosec=0), frame_id="f"),
        height=260,
        width=346,
        events=[ev, ev],
    )
    raw = bytes(store.serialize_cdr(msg, "dv_ros2_msgs/msg/EventArray"))
    out = decode_event_array_cdr(raw).events
    assert out["t"].tolist() == [3_000_004, 3_000_004]
    assert out["x"].tolist() == [1, 1] and out["y"].tolist() == [2, 2]


def test_accepts_memoryview_and_uint8_array() -> None:
    events = np.zeros(3, dtype=[("x", "<u2"), ("y", "<u2"), ("t", "<i8"), ("p", "u1")])
    raw = encode_event_array_cdr(events, stamp_ns=5, frame_id="d", width=2, height=2)
    assert decode_event_array_cdr(memoryview(raw)).events.size == 3
    assert decode_event_array_cdr(np.frombuffer(raw, np.uint8)).events.size == 3


def test_truncated_buffer_names_byte_count() -> None:
    events = np.zeros(4, dtype=[("x", "<u2"), ("y", "<u2"), ("t", "<i8"), ("p", "u1")])
    raw = encode_event_array_cdr(events, stamp_ns=5, frame_id="davis", width=2, height=2)
    with pytest.raises(DecodeError, match=rf"{len(raw) - 1} bytes cannot hold 4 events"):
        decode_event_array_cdr(raw[:-1], what="/davis/events[3]")
    with pytest.raises(DecodeError, match="10 bytes is too short"):
        decode_event_array_cdr(raw[:10])
    with pytest.raises(DecodeError, match="too short for height/width/length"):
        decode_event_array_cdr(raw[:26])


def test_big_endian_and_bad_string_rejected() -> None:
    with pytest.raises(DecodeError, match="not little-endian CDR"):
        decode_event_array_cdr(b"\x00\x00\x00\x00" + b"\x00" * 40)
    bad = b"\x00\x01\x00\x00" + b"\x00" * 8 + (1000).to_bytes(4, "little") + b"\x00" * 20
    with pytest.raises(DecodeError, match="frame_id length 1000 does not fit in 36 bytes"):
        decode_event_array_cdr(bad)
