"""The session recorder without ROS: bytes in, a bag out that reads back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from microexp.bagio.messages import build_message, event_packet, header, serialize
from microexp.bagio.reader import open_bag
from microexp.bagio.typestore import build_typestore
from microexp.errors import OutputExistsError
from microexp.protocol.events import SessionInfo
from microexp.recording import (
    RecorderState,
    SessionRecorder,
    adapt_qos,
    recorder_config_from_params,
)
from microexp.sim.bag import session_info_cdr

EP = "event_camera_msgs/msg/EventPacket"


def _packet(seq: int, stamp_ns: int) -> bytes:
    ts = build_typestore()
    msg = event_packet(
        ts, events=np.zeros(4, dtype=np.uint8), stamp_ns=stamp_ns, frame_id="f", width=1280,
        height=720, seq=seq,
    )  # fmt: skip
    return serialize(ts, msg)


def _session(consent: bool) -> bytes:
    info = SessionInfo(
        subject_id="P01", session_id="s7", consent=consent, plan_name="demo", glasses=False,
        lux=float("nan"), lighting="ceiling", notes="", microexp_version="t",
    )  # fmt: skip
    return session_info_cdr(build_typestore(), info, stamp_ns=1)


def _recorder(tmp_path: Path, **extra: object) -> SessionRecorder:
    params = {
        "output": str(tmp_path / "bag"),
        "topics": ["/evk4/events"],
        "types": [EP],
        "wait_for": ["/evk4/events"],
        **extra,
    }
    return SessionRecorder(recorder_config_from_params(params))


def test_gate_then_record_then_summary(tmp_path: Path) -> None:
    rec = _recorder(tmp_path)
    rec.set_offered_qos("/evk4/events", "sensor_data")
    assert len(rec.waiting_for()) == 2
    rec.on_message("/evk4/events", _packet(0, 5), 10)  # no consent yet: dropped
    rec.on_message("/microexp/session", _session(False), 20)
    assert rec.state is RecorderState.WAITING and "consent=false received" in rec.waiting_for()[0]
    rec.on_message("/microexp/session", _session(True), 30)
    assert rec.state is RecorderState.RECORDING and rec.session_id == "s7"
    for i, seq in enumerate([1, 2, 5, 6]):
        rec.on_message("/evk4/events", _packet(seq, 100 + i), 200 + i)
    snaps = {s.topic: s for s in rec.close(now_ns=1_000)}
    assert snaps["/evk4/events"].messages == 4 and snaps["/evk4/events"].lost_seq == 2
    assert rec.state is RecorderState.CLOSED
    rec.on_message("/evk4/events", _packet(7, 1), 2_000)  # after close: ignored
    with open_bag(tmp_path / "bag") as bag:
        counts = {n: i.count for n, i in bag.topics.items()}
        assert counts == {"/evk4/events": 4, "/microexp/session": 1, "/microexp/sync_summary": 1}
        (summary,) = [bag.deserialize(m) for m in bag.messages(topics=["/microexp/sync_summary"])]
        assert list(summary.topics) == ["/evk4/events", "/microexp/session"]
        assert np.asarray(summary.lost_messages).tolist() == [2, 0]
        stamps = [m.log_time_ns for m in bag.messages(topics=["/evk4/events"])]
        assert stamps == [200, 201, 202, 203]


def test_consent_withdrawn_closes_the_bag(tmp_path: Path) -> None:
    rec = _recorder(tmp_path, wait_for=[])
    rec.on_message("/microexp/session", _session(True), 1)
    assert rec.state is RecorderState.RECORDING
    rec.on_message("/evk4/events", _packet(0, 1), 2)
    rec.on_message("/microexp/session", _session(False), 3)
    assert rec.state is RecorderState.CLOSED
    with open_bag(tmp_path / "bag") as bag:
        assert bag.topics["/microexp/session"].count == 2


def test_without_consent_requirement_starts_on_cameras(tmp_path: Path) -> None:
    rec = _recorder(tmp_path, require_consent=False)
    rec.on_message("/evk4/events", _packet(0, 1), 2)
    assert rec.state is RecorderState.RECORDING
    rec.close(now_ns=3)


def test_refuses_existing_output(tmp_path: Path) -> None:
    (tmp_path / "bag").mkdir()
    with pytest.raises(OutputExistsError, match="exists already"):
        _recorder(tmp_path)


@pytest.mark.parametrize(
    ("offered", "preset"),
    [
        ([], "reliable"),
        ([(True, False)], "reliable"),
        ([(False, False)], "sensor_data"),
        ([(True, True)], "latched"),
        ([(True, True), (True, False)], "reliable"),
        ([(True, False), (False, False)], "sensor_data"),
    ],
)
def test_adapt_qos(offered: list[tuple[bool, bool]], preset: str) -> None:
    assert adapt_qos(offered) == preset


def test_one_loss_count_from_seq_or_dds_sequence_numbers_agrees_with_inspect(
    tmp_path: Path,
) -> None:
    """Lost = seq gaps for EventPacket (the driver's drops and the transport's), DDS publication
    sequence gaps for other types; losses before the recording started are not in the bag and not
    counted. The recorder's log, its snapshots, the bag's summary and inspect give one figure."""
    from microexp.bagio.inspect import inspect_bag

    ts = build_typestore()
    proto = "microexp_msgs/msg/ProtocolEvent"
    rec = _recorder(tmp_path, topics=["/evk4/events", "/microexp/protocol"], types=[EP, proto])
    event = serialize(ts, build_message(ts, proto, header=header(ts, stamp_ns=0), kind=1))
    # while waiting: DDS numbers 1..3 then 9 (a gap of 5, before the recording: not counted)
    for dds in (1, 2, 3, 9):
        rec.on_message("/evk4/events", _packet(dds, 1), dds, dds_seq=dds)
    rec.on_message("/microexp/session", _session(True), 10, dds_seq=1)
    assert rec.state is RecorderState.RECORDING
    # EventPacket: seq 10..19 with 12, 13 dropped by the driver (DDS numbers contiguous) and 16
    # lost in transport (DDS number 14 missing too)
    dds = 10
    for seq in (10, 11, 14, 15, 17, 18, 19):
        dds += 2 if seq == 17 else 1
        rec.on_message("/evk4/events", _packet(seq, 1), 100 + seq, dds_seq=dds)
    # ProtocolEvent, no seq: DDS numbers 4, 5, 8, 9 -> 2 lost
    for n in (4, 5, 8, 9):
        rec.on_message("/microexp/protocol", event, 200 + n, dds_seq=n)
    snaps = {s.topic: s for s in rec.close(now_ns=1_000)}
    evk4, protocol = snaps["/evk4/events"], snaps["/microexp/protocol"]
    assert (evk4.lost, evk4.lost_seq, evk4.lost_in_transport, evk4.counted_from) == (3, 3, 1, "seq")
    assert (protocol.lost, protocol.lost_seq, protocol.lost_in_transport) == (2, 0, 2)
    assert protocol.counted_from == "dds"
    assert evk4.describe() == "/evk4/events: 7 msgs, lost 3 (seq gaps, 1 of them in transport)"
    assert protocol.describe() == "/microexp/protocol: 4 msgs, lost 2 (DDS sequence gaps)"
    assert evk4.as_strings()["lost"] == "3" and protocol.as_strings()["lost"] == "2"
    info = inspect_bag(tmp_path / "bag")
    assert info.notes == []
    assert (info.topics["/evk4/events"].lost, info.topics["/evk4/events"].lost_in_transport) == (
        3, 1)  # fmt: skip
    assert info.topics["/evk4/events"].events.seq_gaps == 3  # type: ignore[union-attr]
    assert (info.topics["/microexp/protocol"].lost, info.topics["/microexp/session"].lost) == (2, 0)


def test_inspect_names_a_recount_that_disagrees_with_the_recorder(tmp_path: Path) -> None:
    from microexp.bagio.inspect import inspect_bag

    rec = _recorder(tmp_path, wait_for=[])
    rec.on_message("/microexp/session", _session(True), 1)
    for seq in (1, 2, 4):
        rec.on_message("/evk4/events", _packet(seq, 1), 10 + seq)
    rec.stats["/evk4/events"].gaps.lost = 5  # a recorder that miscounted
    rec.close(now_ns=100)
    info = inspect_bag(tmp_path / "bag")
    assert info.topics["/evk4/events"].lost == 5
    assert info.notes == [
        "/evk4/events: the recorder counted 5 lost messages, the bag's seq has 1 gaps"
    ]
