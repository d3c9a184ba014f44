"""CDR header peeks against rosbags' serializer; seq-gap counting; per-topic stats."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microexp.bagio.typestore import build_typestore
from microexp.errors import DecodeError
from microexp.recording import (
    SeqGapCounter,
    TopicStats,
    peek_event_packet_seq,
    peek_header_stamp_ns,
)

EP = "event_camera_msgs/msg/EventPacket"


def _packet(*, frame_id: str, seq: int, sec: int, nanosec: int, n: int = 7) -> bytes:
    t = build_typestore().types
    msg = t[EP](
        header=t["std_msgs/msg/Header"](
            stamp=t["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec), frame_id=frame_id
        ),
        height=720,
        width=1280,
        seq=seq,
        time_base=0,
        encoding="evt3",
        is_bigendian=False,
        events=np.arange(n, dtype=np.uint8),
    )
    return bytes(build_typestore().serialize_cdr(msg, EP))


@settings(max_examples=60, deadline=None)
@given(
    frame_id=st.text(alphabet="abcxyz_/0", max_size=13),
    seq=st.integers(0, 2**64 - 1),
    sec=st.integers(-(2**31), 2**31 - 1),
    nanosec=st.integers(0, 999_999_999),
)
def test_peeks_read_what_rosbags_wrote(frame_id: str, seq: int, sec: int, nanosec: int) -> None:
    data = _packet(frame_id=frame_id, seq=seq, sec=sec, nanosec=nanosec)
    assert peek_event_packet_seq(data) == seq
    assert peek_header_stamp_ns(data) == sec * 1_000_000_000 + nanosec


def test_peek_rejects_truncated_and_unknown_encapsulation() -> None:
    data = _packet(frame_id="cam", seq=5, sec=1, nanosec=2)
    with pytest.raises(DecodeError, match="too short"):
        peek_header_stamp_ns(data[:10], what="/evk4/events")
    with pytest.raises(DecodeError, match="end before seq"):
        peek_event_packet_seq(data[:24], what="/evk4/events")
    with pytest.raises(DecodeError, match="unknown CDR representation 0007"):
        peek_header_stamp_ns(b"\x00\x07" + data[2:])


def test_seq_gap_counter_counts_gaps_and_restarts() -> None:
    c = SeqGapCounter()
    assert [c.observe(s) for s in (10, 11, 14, 15, 15, 0, 1, 3)] == [0, 0, 2, 0, 0, 0, 0, 1]
    assert (c.lost, c.received, c.restarts) == (3, 8, 2)
    c.reset()
    assert (c.lost, c.received, c.restarts, c.last) == (0, 0, 0, None)


def test_topic_stats_rate_lag_throughput() -> None:
    s = TopicStats(topic="/evk4/events")
    for i in range(11):  # 10 intervals of 0.1 s, 1000 bytes each, stamped 2 ms before arrival
        arrival = 1_000_000_000 + i * 100_000_000
        s.observe(arrival_ns=arrival, size=1000, stamp_ns=arrival - 2_000_000, seq=i + (i >= 5))
    snap = s.snapshot()
    assert snap.messages == 11 and snap.lost_seq == 1
    assert snap.mean_rate_hz == pytest.approx(10.0)
    assert snap.mean_lag_ms == pytest.approx(2.0)
    assert snap.throughput_mb_s == pytest.approx(11_000 / 1.0 / 1e6)
    assert snap.as_strings()["lost_seq"] == "1"
    empty = TopicStats(topic="/x").snapshot()
    assert empty.mean_rate_hz == 0.0 and math.isnan(empty.mean_lag_ms)
