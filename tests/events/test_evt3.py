"""EVT 3.0: exact counts on a real recording, round trips, state across packets, bad input."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from event_strategies import cut, sorted_events, split_points, triggers_within
from hypothesis import given, settings
from hypothesis import strategies as st

from microexp.errors import DecodeError
from microexp.events.evt3 import WRAP_US, Evt3Decoder, Evt3Encoder, event_time_to_ros_ns
from microexp.events.types import DecodedEvents, empty_triggers, make_events

BACKENDS = ["numpy"] + (["numba"] if importlib.util.find_spec("numba") else [])


def words(*values: int) -> bytes:
    return np.array(values, dtype="<u2").tobytes()


@pytest.mark.parametrize("backend", BACKENDS)
def test_real_recording_exact_counts(evt3_packets, backend: str) -> None:
    decoder = Evt3Decoder(backend=backend)  # type: ignore[arg-type]
    parts = [decoder.decode(p.events, time_base=p.time_base) for p in evt3_packets]
    out = DecodedEvents.concatenate(parts)
    ev, tr = out.events, out.triggers
    assert len(evt3_packets) == 517
    assert int(np.count_nonzero(ev["p"] == 1)) == 125_183
    assert int(np.count_nonzero(ev["p"] == 0)) == 218_291
    assert tr.size == 4_157
    assert int(np.count_nonzero(tr["value"] == 0)) == 2_078
    assert int(np.count_nonzero(tr["value"] == 1)) == 2_079
    assert int(ev["t"].sum()) + int(tr["t"].sum()) == 2_885_601_049_874
    assert int(ev["x"].max()) < 640 and int(ev["y"].max()) < 480
    for part in parts:
        t = np.sort(np.concatenate([part.events["t"], part.triggers["t"]]))
        assert np.all(np.diff(part.events["t"]) >= 0)
        assert np.all(np.diff(t) >= 0)


def test_real_recording_backends_agree(evt3_packets) -> None:
    if "numba" not in BACKENDS:
        pytest.skip("numba not installed: only the numpy backend exists here")
    a, b = Evt3Decoder(backend="numpy"), Evt3Decoder(backend="numba")
    for p in evt3_packets[:100]:
        ra, rb = a.decode(p.events), b.decode(p.events)
        assert np.array_equal(ra.events, rb.events)
        assert np.array_equal(ra.triggers, rb.triggers)


def test_real_recording_reencodes_identically(evt3_packets) -> None:
    decoded = DecodedEvents.concatenate([Evt3Decoder().decode(p.events) for p in evt3_packets])
    data = Evt3Encoder().encode(decoded.events, decoded.triggers)
    again = Evt3Decoder().decode(data)
    assert np.array_equal(again.events, decoded.events)
    assert np.array_equal(again.triggers, decoded.triggers)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_round_trip_split_anywhere(backend: str, data: st.DataObject) -> None:
    events = data.draw(sorted_events())
    triggers = data.draw(triggers_within(events))
    stream = Evt3Encoder().encode(events, triggers)
    decoder = Evt3Decoder(backend=backend)  # type: ignore[arg-type]
    pieces = cut(stream, split_points(data.draw, len(stream), word=2))
    out = DecodedEvents.concatenate([decoder.decode(piece) for piece in pieces])
    assert np.array_equal(out.events, events)
    assert np.array_equal(out.triggers, triggers)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_encoder_keeps_state_across_calls(data: st.DataObject) -> None:
    events = data.draw(sorted_events(max_size=200))
    k = data.draw(st.integers(0, events.size))
    encoder = Evt3Encoder()
    stream = encoder.encode(events[:k]) + encoder.encode(events[k:])
    assert np.array_equal(Evt3Decoder().decode(stream).events, events)


def test_wraps_unrolled_into_monotonic_time() -> None:
    t = np.array([5, WRAP_US - 1, WRAP_US + 3, 3 * WRAP_US + 7, 10 * WRAP_US])
    events = make_events(x=[1, 2, 3, 4, 5], y=[0, 0, 0, 0, 0], t=t, p=[1, 0, 1, 0, 1])
    out = Evt3Decoder().decode(Evt3Encoder().encode(events))
    assert out.events["t"].tolist() == t.tolist()


def test_small_time_high_step_back_is_not_a_wrap() -> None:
    # TIME_HIGH 100 then 95: within event_camera_codecs' jitter tolerance of 10, no wrap
    stream = words(0x8000 | 100, 0x6000 | 1, 0x0000 | 7, 0x2000 | 3, 0x8000 | 95, 0x2000 | 4)
    ev = Evt3Decoder().decode(stream).events
    assert ev["t"].tolist() == [100 << 12 | 1, 95 << 12 | 1]
    stream = words(0x8000 | 100, 0x6000 | 1, 0x2000 | 3, 0x8000 | 89, 0x2000 | 4)
    ev = Evt3Decoder().decode(stream).events
    assert ev["t"].tolist() == [100 << 12 | 1, WRAP_US + (89 << 12 | 1)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_packet_ending_mid_vector(backend: str) -> None:
    decoder = Evt3Decoder(backend=backend)  # type: ignore[arg-type]
    first = decoder.decode(words(0x8000 | 1, 0x6000 | 2, 0x0000 | 9, 0x3000 | 0x800 | 100))
    assert first.events.size == 0
    second = decoder.decode(words(0x4000 | 0b1000_0000_0101, 0x5000 | 0b11))
    assert second.events["x"].tolist() == [100, 102, 111, 112, 113]
    assert set(second.events["y"].tolist()) == {9}
    assert set(second.events["p"].tolist()) == {1}
    assert set(second.events["t"].tolist()) == {1 << 12 | 2}


def test_nothing_decoded_before_a_valid_time() -> None:
    decoder = Evt3Decoder()
    assert decoder.time_us is None
    out = decoder.decode(words(0x0000 | 5, 0x2000 | 1, 0x6000 | 7, 0x2000 | 2, 0x8000 | 3))
    assert out.events.size == 0
    out = decoder.decode(words(0x2000 | 4, 0x6000 | 9, 0x2000 | 5))
    assert out.events["x"].tolist() == [5]
    assert decoder.time_us == 3 << 12 | 9


def test_reset_forgets_the_wrap_count() -> None:
    events = make_events(x=[1, 2], y=[0, 0], t=[10, 2 * WRAP_US + 10], p=[1, 1])
    stream = Evt3Encoder().encode(events)
    decoder = Evt3Decoder()
    decoder.decode(stream)
    decoder.reset()
    assert decoder.decode(stream).events["t"].tolist() == [10, 2 * WRAP_US + 10]


@pytest.mark.parametrize("backend", BACKENDS)
def test_odd_byte_count_is_rejected(backend: str) -> None:
    decoder = Evt3Decoder(backend=backend)  # type: ignore[arg-type]
    with pytest.raises(DecodeError, match="7 bytes is not a multiple"):
        decoder.decode(b"\x00" * 7)


@pytest.mark.parametrize("backend", BACKENDS)
def test_unknown_word_type_is_rejected(backend: str) -> None:
    decoder = Evt3Decoder(backend=backend)  # type: ignore[arg-type]
    with pytest.raises(DecodeError, match=r"unknown event type 0xb in word 2"):
        decoder.decode(words(0x8000, 0x6000, 0xB123))


def test_empty_and_auxiliary_words_decode_to_nothing() -> None:
    decoder = Evt3Decoder()
    assert decoder.decode(b"").events.size == 0
    out = decoder.decode(words(0x8000, 0x6000, 0xE001, 0x7003, 0xF0F0, 0x9000))
    assert out.events.size == 0 and out.triggers.size == 0


def test_trigger_channel_and_value() -> None:
    out = Evt3Decoder().decode(words(0x8002, 0x6003, 0xA000 | 6 << 8 | 1, 0xA000 | 3 << 8))
    assert out.triggers["channel"].tolist() == [6, 3]
    assert out.triggers["value"].tolist() == [1, 0]
    assert out.triggers["t"].tolist() == [2 << 12 | 3] * 2


def test_encoder_rejects_unsorted_times() -> None:
    events = make_events(x=[1, 2], y=[0, 0], t=[10, 9], p=[1, 1])
    with pytest.raises(ValueError, match="non-decreasing"):
        Evt3Encoder().encode(events)
    encoder = Evt3Encoder()
    encoder.encode(make_events(x=[1], y=[0], t=[100], p=[1]))
    with pytest.raises(ValueError, match="non-decreasing"):
        encoder.encode(make_events(x=[1], y=[0], t=[99], p=[1]), empty_triggers(0))


def test_event_time_to_ros_ns_ignores_time_base() -> None:
    assert event_time_to_ros_ns(np.array([1, 2]), time_base=123).tolist() == [1000, 2000]


@pytest.mark.parametrize("backend", BACKENDS)
def test_whole_stream_in_one_call_equals_packet_by_packet(evt3_packets, backend: str) -> None:
    whole = b"".join(p.events for p in evt3_packets)  # > 1 M words: the chunked numpy path
    one = Evt3Decoder(backend=backend).decode(whole)  # type: ignore[arg-type]
    decoder = Evt3Decoder(backend=backend)  # type: ignore[arg-type]
    many = DecodedEvents.concatenate([decoder.decode(p.events) for p in evt3_packets])
    assert np.array_equal(one.events, many.events)
    assert np.array_equal(one.triggers, many.triggers)
