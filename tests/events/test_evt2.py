"""EVT 2.0: round trips across packets and time wraps, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from event_strategies import cut, sorted_events, split_points, triggers_within
from hypothesis import given, settings
from hypothesis import strategies as st

from microexp.errors import DecodeError
from microexp.events.evt2 import Evt2Decoder, Evt2Encoder
from microexp.events.types import DecodedEvents, make_events


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_round_trip_split_on_words(data: st.DataObject) -> None:
    events = data.draw(sorted_events(width=1280, height=720, max_gap_us=1 << 33))
    triggers = data.draw(triggers_within(events))
    triggers["channel"] = triggers["channel"] * 2  # EVT 2.0 has 5 channel bits
    stream = Evt2Encoder().encode(events, triggers)
    decoder = Evt2Decoder()
    pieces = cut(stream, split_points(data.draw, len(stream), word=4))
    out = DecodedEvents.concatenate([decoder.decode(p) for p in pieces])
    assert np.array_equal(out.events, events)
    assert np.array_equal(out.triggers, triggers)


def test_time_wrap_after_2_pow_34_us() -> None:
    t = [1, (1 << 34) - 1, (1 << 34) + 5, (3 << 34) // 2 + 17]
    events = make_events(x=[1, 2, 3, 4], y=[5, 6, 7, 8], t=t, p=[0, 1, 0, 1])
    out = Evt2Decoder().decode(Evt2Encoder().encode(events))
    assert out.events["t"].tolist() == t


def test_bit_layout_of_a_cd_word() -> None:
    word = (1 << 28) | (0x2A << 22) | (300 << 11) | 200
    stream = np.array([(0x8 << 28) | 7, word], dtype="<u4").tobytes()
    ev = Evt2Decoder().decode(stream).events
    assert ev.tolist() == [(300, 200, (7 << 6) | 0x2A, 1)]


def test_bytes_not_multiple_of_four_rejected() -> None:
    with pytest.raises(DecodeError, match="6 bytes is not a multiple of the 4-byte word"):
        Evt2Decoder().decode(b"\x00" * 6)


def test_unknown_type_rejected() -> None:
    stream = np.array([0x8 << 28, 0x3 << 28], dtype="<u4").tobytes()
    with pytest.raises(DecodeError, match="unknown event type 0x3 in word 1"):
        Evt2Decoder().decode(stream)
