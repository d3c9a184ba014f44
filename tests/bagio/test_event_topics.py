from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from microexp.bagio import messages as M
from microexp.bagio.event_topics import DV_EVENT_ARRAY, EventTopicDecoder
from microexp.bagio.reader import RawMessage, open_bag
from microexp.bagio.typestore import build_typestore
from microexp.bagio.writer import BagWriter
from microexp.errors import DecodeError
from microexp.events.types import make_events

from .conftest import EVENT_TOPIC

TS = build_typestore()


def _random_events(n: int, *, seed: int, width: int, height: int, t0: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return make_events(x=rng.integers(0, width, n), y=rng.integers(0, height, n),
                       t=t0 + np.sort(rng.integers(0, 10_000, n)), p=rng.integers(0, 2, n))  # fmt: skip


def test_real_bag_published_counts(real_bag: Path) -> None:
    decoder = EventTopicDecoder(EVENT_TOPIC)
    on = off = triggers = t_sum = 0
    seqs = []
    with open_bag(real_bag) as bag:
        for raw in bag.messages():
            chunk = decoder.decode(raw)
            assert (chunk.width, chunk.height, chunk.encoding, chunk.time_base) == (
                640,
                480,
                "evt3",
                0,
            )
            on += int(chunk.events["p"].sum())
            off += int((chunk.events["p"] == 0).sum())
            triggers += chunk.triggers.size
            t_sum += int(chunk.events["t"].sum()) + int(chunk.triggers["t"].sum())
            seqs.append(chunk.seq)
    assert (on, off, triggers) == (125_183, 218_291, 4_157)
    assert t_sum == 2_885_601_049_874  # needs the decoder state kept across packets
    assert seqs == list(range(5590, 6107))


def test_evt3_packets_round_trip_through_a_bag(tmp_path: Path) -> None:
    from microexp.events.evt3 import Evt3Encoder

    encoder = Evt3Encoder()
    sent = [_random_events(500, seed=i, width=1280, height=720, t0=i * 10_000) for i in range(4)]
    bag = tmp_path / "bag"
    with BagWriter(bag) as w:
        w.add_topic(EVENT_TOPIC, M.EVENT_PACKET, qos="sensor_data")
        for i, events in enumerate(sent):
            msg = M.event_packet(TS, events=encoder.encode(events), stamp_ns=i, frame_id="evk4",
                                 width=1280, height=720, seq=i)  # fmt: skip
            w.write_message(EVENT_TOPIC, i, msg)
    decoder = EventTopicDecoder(EVENT_TOPIC)
    with open_bag(bag) as r:
        got = np.concatenate([decoder.decode(raw).events for raw in r.messages()])
    want = np.concatenate(sent)
    for field in ("x", "y", "t", "p"):
        assert np.array_equal(np.sort(got[field]), np.sort(want[field])), field
    assert got.size == want.size


def test_dv_event_array_topic(tmp_path: Path) -> None:
    from microexp.events.dv_event_array import encode_event_array_cdr

    sent = [_random_events(300, seed=i, width=346, height=260, t0=1_000_000 + i * 10_000)
            for i in range(3)]  # fmt: skip
    bag = tmp_path / "bag"
    with BagWriter(bag, storage="sqlite3") as w:
        w.add_topic("/davis/events", DV_EVENT_ARRAY, qos="sensor_data")
        for i, ev in enumerate(sent):
            w.write("/davis/events", i, encode_event_array_cdr(
                ev, stamp_ns=5_000 + i, frame_id="davis", width=346, height=260))  # fmt: skip
    decoder = EventTopicDecoder("/davis/events")
    with open_bag(bag) as r:
        chunks = [decoder.decode(raw) for raw in r.messages()]
    assert [c.stamp_ns for c in chunks] == [5_000, 5_001, 5_002]
    assert all(c.seq is None and c.triggers.size == 0 and (c.width, c.height) == (346, 260)
               for c in chunks)  # fmt: skip
    for chunk, ev in zip(chunks, sent, strict=True):
        assert np.array_equal(chunk.events, ev)


def test_wrong_type_names_topic_and_index() -> None:
    raw = RawMessage("/microexp/session", "microexp_msgs/msg/SessionInfo", 0, b"", 3)
    with pytest.raises(DecodeError, match=r"topic /microexp/session message 3: .*SessionInfo"):
        EventTopicDecoder("/microexp/session").decode(raw)


def test_bad_message_then_the_stream_goes_on() -> None:
    decoder = EventTopicDecoder(EVENT_TOPIC)
    bad = RawMessage(EVENT_TOPIC, M.EVENT_PACKET, 0, b"\x00\x01\x00\x00\x02", 0)
    with pytest.raises(DecodeError, match=f"topic {EVENT_TOPIC} message 0"):
        decoder.decode(bad)
    array = RawMessage("/d", DV_EVENT_ARRAY, 0, b"\x00\x01\x00\x00\x02", 7)
    with pytest.raises(DecodeError, match="topic /d message 7"):
        EventTopicDecoder("/d").decode(array)
    from microexp.events.evt3 import Evt3Encoder

    events = _random_events(50, seed=3, width=64, height=64)
    good = M.event_packet(TS, events=Evt3Encoder().encode(events), stamp_ns=0, frame_id="",
                          width=64, height=64, seq=1)  # fmt: skip
    chunk = decoder.decode(RawMessage(EVENT_TOPIC, M.EVENT_PACKET, 1, M.serialize(TS, good), 1))
    assert chunk.events.size == 50
