"""The inference node's intake: 8 malformed EventPackets each rejected under its own cause, then the
real recording accepted; counts, the exit summary and the /diagnostics values."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from microexp.bagio import messages as M
from microexp.bagio.event_topics import REJECT_CAUSES, EventChunk, EventDecodeError
from microexp.bagio.reader import RawMessage, open_bag
from microexp.events.dv_event_array import encode_event_array_cdr
from microexp.events.types import make_events
from microexp.stream.intake import EventIntake, Rejection

HELPER = Path(__file__).resolve().parents[1] / "ros" / "nodes" / "malformed_pub.py"


def _malformed() -> list[tuple[str, bytes]]:
    spec = importlib.util.spec_from_file_location("malformed_pub", HELPER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    packets: list[tuple[str, bytes]] = module.malformed_event_packets()
    return packets


def test_malformed_packets_then_real_data(real_bag: Path) -> None:
    intake = EventIntake(topic="/evk4/events", msgtype=M.EVENT_PACKET)
    packets = _malformed()
    assert len(packets) == 8
    for i, (cause, data) in enumerate(packets):
        out = intake.accept(data, receive_ns=i)
        assert isinstance(out, Rejection), (cause, out)
        assert out.cause == cause, (i, out)
        assert f"topic /evk4/events message {i}" in out.reason
    stats = intake.stats
    assert stats.rejected == {"type": 0, "cdr": 2, "geometry": 2, "encoding": 1, "payload": 2,
                              "outside_sensor": 1}  # fmt: skip
    assert (stats.messages, stats.events, intake.geometry) == (0, 0, None)
    with open_bag(real_bag) as reader:
        chunks = [intake.accept(bytes(r.data), receive_ns=r.log_time_ns) for r in reader.messages()]
    assert all(isinstance(c, EventChunk) for c in chunks)
    assert stats.messages == 517 and intake.geometry == (640, 480)
    # every real event but those before the decoder's first time words (it was reset by the
    # last rejection, as after any loss) -- the full recording holds 343,474
    assert 343_000 < stats.events <= 125_183 + 218_291
    for latency in (1.0, 2.0, 3.0, 10.0):
        stats.observe_prediction(latency)
    assert stats.slices == 4 and stats.latency_ms(50) == pytest.approx(2.5)
    assert stats.describe() == (
        f"517 event messages, {stats.events} events, 4 slices predicted, latency p50 2.50 ms "
        "p99 9.79 ms; rejected 8 messages (cdr 2, geometry 2, encoding 1, payload 2, "
        "outside_sensor 1)"
    )
    values = stats.as_strings()
    assert {k: values[f"rejected_{k}"] for k in REJECT_CAUSES} == {
        "type": "0", "cdr": "2", "geometry": "2", "encoding": "1", "payload": "2",
        "outside_sensor": "1"}  # fmt: skip
    assert values["rejected"] == "8" and values["messages"] == "517"


def test_a_geometry_change_mid_stream_is_rejected() -> None:
    intake = EventIntake(topic="/davis/events", msgtype="dv_ros2_msgs/msg/EventArray")
    ev = make_events(x=[1, 2], y=[3, 4], t=[10, 20], p=[1, 0])
    first = encode_event_array_cdr(ev, stamp_ns=1, frame_id="d", width=346, height=260)
    other = encode_event_array_cdr(ev, stamp_ns=2, frame_id="d", width=640, height=480)
    assert isinstance(intake.accept(first, receive_ns=1), EventChunk)
    out = intake.accept(other, receive_ns=2)
    assert isinstance(out, Rejection) and out.cause == "geometry"
    assert "640x480 differs from the stream's 346x260" in out.reason
    beyond = encode_event_array_cdr(make_events(x=[400], y=[3], t=[30], p=[1]), stamp_ns=3,
                                    frame_id="d", width=346, height=260)  # fmt: skip
    out = intake.accept(beyond, receive_ns=3)
    assert isinstance(out, Rejection) and out.cause == "outside_sensor"
    assert intake.stats.messages == 1 and intake.stats.events == 2


def test_a_message_of_another_type_is_a_type_rejection() -> None:
    from microexp.bagio.event_topics import EventTopicDecoder

    with pytest.raises(EventDecodeError, match="not an event message type") as err:
        EventTopicDecoder("/x").decode(RawMessage("/x", "std_msgs/msg/String", 0, b"", 0))
    assert err.value.cause == "type"


def test_no_latency_before_the_first_slice() -> None:
    stats = EventIntake(topic="/t", msgtype=M.EVENT_PACKET).stats
    assert np.isnan(stats.latency_ms(50))
    assert stats.as_strings()["latency_p50_ms"] == "nan"
