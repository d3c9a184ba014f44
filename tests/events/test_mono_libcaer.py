"""ros-event-camera encodings ``mono``, ``libcaer``, ``libcaer_cmp``: layouts and round trips."""

from __future__ import annotations

import numpy as np
import pytest
from event_strategies import sorted_events
from hypothesis import given, settings
from hypothesis import strategies as st

from microexp.errors import DecodeError
from microexp.events.libcaer import (
    LibcaerCmpDecoder,
    LibcaerCmpEncoder,
    LibcaerDecoder,
    LibcaerEncoder,
)
from microexp.events.mono import MonoDecoder, MonoEncoder
from microexp.events.types import DecodedEvents

TIME_BASE_NS = 1_700_000_000_123_456_789


@settings(max_examples=50, deadline=None)
@given(events=sorted_events(width=346, height=260, max_gap_us=1000, t0_max=10**6))
def test_mono_round_trip(events) -> None:
    events["t"] += TIME_BASE_NS // 1000 + 1  # offsets are unsigned ns from time_base
    stream = MonoEncoder().encode(events, time_base=TIME_BASE_NS)
    assert len(stream) == 8 * events.size
    out = MonoDecoder().decode(stream, time_base=TIME_BASE_NS)
    assert np.array_equal(out.events, events)


def test_mono_bit_layout() -> None:
    packed = (1 << 63) | (479 << 48) | (639 << 32) | 5_000
    ev = MonoDecoder().decode(np.array([packed], dtype="<u8").tobytes(), time_base=2_000_000)
    assert ev.events.tolist() == [(639, 479, 2_005, 1)]


def test_mono_truncated() -> None:
    with pytest.raises(DecodeError, match="12 bytes is not a multiple of 8"):
        MonoDecoder().decode(b"\x00" * 12)


@settings(max_examples=50, deadline=None)
@given(events=sorted_events(width=346, height=260, max_gap_us=1 << 29))
def test_libcaer_round_trip_with_rollover(events) -> None:
    events["t"] += TIME_BASE_NS // 1000
    stream = LibcaerEncoder().encode(events, time_base=TIME_BASE_NS)
    out = LibcaerDecoder().decode(stream, time_base=TIME_BASE_NS)
    assert np.array_equal(out.events, events)


def test_libcaer_bit_layout_and_rollover() -> None:
    data = (200 << 17) | (100 << 2) | (1 << 1) | 1
    raw = np.array([[data, (1 << 31) - 2], [data, 3]], dtype="<u4").tobytes()
    ev = LibcaerDecoder().decode(raw, time_base=5_000).events
    assert ev["x"].tolist() == [200, 200] and ev["y"].tolist() == [100, 100]
    assert ev["p"].tolist() == [1, 1]
    assert ev["t"].tolist() == [5 + (1 << 31) - 2, 5 + (1 << 31) + 3]


def test_libcaer_truncated_and_negative() -> None:
    with pytest.raises(DecodeError, match="9 bytes is not a multiple of 8"):
        LibcaerDecoder().decode(b"\x00" * 9)
    raw = np.array([[0, 0xFFFFFFFF]], dtype="<u4").tobytes()
    with pytest.raises(DecodeError, match="negative timestamp -1 in event 0"):
        LibcaerDecoder().decode(raw)


@settings(max_examples=50, deadline=None)
@given(
    events=sorted_events(width=346, height=260, max_gap_us=100_000, t0_max=1000),
    n_packets=st.integers(1, 5),
)
def test_libcaer_cmp_round_trip_over_packets(events, n_packets: int) -> None:
    encoder, decoder = LibcaerCmpEncoder(), LibcaerCmpDecoder()
    parts = []
    for chunk in np.array_split(events, n_packets):
        time_base = int(chunk["t"][0]) * 1000 - 7 if chunk.size else 0
        stream = encoder.encode(chunk, time_base=time_base)
        parts.append(decoder.decode(stream, time_base=time_base))
    assert np.array_equal(DecodedEvents.concatenate(parts).events, events)


def test_libcaer_cmp_vector_layout() -> None:
    words = [
        0 << 12 | 1,
        1 << 12 | 2,
        2 << 12 | 40,
        4 << 12 | 1 << 11 | 16,
        5 << 12 | 0b101,
        3 << 12 | 7,
    ]
    out = LibcaerCmpDecoder().decode(np.array(words, dtype="<u2").tobytes(), time_base=10_000)
    ev = out.events
    assert ev["x"].tolist() == [40, 40, 40]
    assert ev["y"].tolist() == [16, 18, 7]
    assert ev["p"].tolist() == [1, 1, 0]
    assert set(ev["t"].tolist()) == {10 + (1 << 12 | 2)}


def test_libcaer_cmp_bad_input() -> None:
    with pytest.raises(DecodeError, match="3 bytes is not a multiple"):
        LibcaerCmpDecoder().decode(b"\x00" * 3)
    with pytest.raises(DecodeError, match="unsupported code 6 in word 1"):
        LibcaerCmpDecoder().decode(np.array([0x2001, 0x6001], dtype="<u2").tobytes())
