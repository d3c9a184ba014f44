"""Simulated bags read back through microexp's own readers, message for message."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from microexp.bagio.event_topics import EventTopicDecoder
from microexp.bagio.reader import open_bag
from microexp.consent import Modality, scope_from_msg
from microexp.protocol.plan import SessionPlan
from microexp.sim.bag import write_session_bag
from microexp.sim.camera_sim import CameraChunk
from microexp.sim.sensors import SensorProfile, rig_profiles
from microexp.sim.session import SessionSimConfig, SimulatedSession, simulate_session


@pytest.fixture(scope="module")
def session(tiny_plan: SessionPlan) -> SimulatedSession:
    return simulate_session(tiny_plan, SessionSimConfig("s03", seed=4))


def _sensors(session: SimulatedSession, *, drop_rate: float = 0.0) -> list[SensorProfile]:
    davis, evk4, webcam = rig_profiles(
        ["davis", "evk4", "webcam"], start_ns=session.start_ns, webcam_size=(64, 48),
        drop_rate=drop_rate,
    )  # fmt: skip
    # the EVK4 at a quarter of its size keeps the test fast; the message format is the same
    return [davis, evk4.with_(width=320, height=180), webcam]


@pytest.fixture(scope="module")
def written(
    session: SimulatedSession, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, list[np.ndarray]], object]:
    path = tmp_path_factory.mktemp("simbag") / "bag"
    chunks: dict[str, list[np.ndarray]] = {}

    def keep(chunk: CameraChunk) -> None:
        chunks.setdefault(chunk.camera, []).append(chunk.events)

    summary = write_session_bag(path, session, _sensors(session), seed=4, on_chunk=keep)
    return path, chunks, summary


def test_topics_types_and_counts(written: tuple, session: SimulatedSession) -> None:
    path, chunks, summary = written
    with open_bag(path) as bag:
        topics = {n: (t.msgtype, t.count) for n, t in bag.topics.items()}
    assert {n: t for n, (t, _) in topics.items()} == {
        "/davis/events": "dv_ros2_msgs/msg/EventArray",
        "/davis/image": "sensor_msgs/msg/Image",
        "/evk4/events": "event_camera_msgs/msg/EventPacket",
        "/webcam/image_raw": "sensor_msgs/msg/Image",
        "/microexp/session": "microexp_msgs/msg/SessionInfo",
        "/microexp/consent": "microexp_msgs/msg/Consent",
        "/microexp/protocol": "microexp_msgs/msg/ProtocolEvent",
        "/microexp/ground_truth": "microexp_msgs/msg/AuGroundTruth",
    }
    duration = session.scene.duration_us / 1e6
    assert topics["/microexp/protocol"][1] == len(session.events)
    assert topics["/microexp/ground_truth"][1] == len(session.ground_truth) == 3
    assert topics["/microexp/session"][1] == topics["/microexp/consent"][1] == 1
    assert topics["/davis/image"][1] == int((duration - 0.01) * 25) + 1
    assert topics["/webcam/image_raw"][1] == int((duration - 1 / 60) * 30) + 1
    # one event message per non-empty 1 ms packet of sensor time; noise fills nearly all
    for camera in ("davis", "evk4"):
        t = np.concatenate(chunks[camera])["t"]
        packets = np.unique(t // 1000).size
        assert topics[f"/{camera}/events"][1] == packets > 0.9 * duration * 1000
    assert summary.messages == {n: c for n, (_, c) in topics.items()}


@pytest.mark.parametrize("topic,camera", [("/davis/events", "davis"), ("/evk4/events", "evk4")])
def test_events_decode_back_exactly(written: tuple, topic: str, camera: str) -> None:
    path, chunks, _ = written
    decoder = EventTopicDecoder(topic)
    seqs, stamps, parts = [], [], []
    with open_bag(path) as bag:
        for raw in bag.messages(topics=[topic]):
            got = decoder.decode(raw)
            parts.append(got.events)
            seqs.append(got.seq)
            stamps.append(got.stamp_ns)
    decoded = np.concatenate(parts)
    simulated = np.concatenate(chunks[camera])
    assert decoded.size == simulated.size > 1000
    for field in ("t", "x", "y", "p"):
        assert np.array_equal(decoded[field], simulated[field]), field
    if camera == "evk4":
        assert seqs == list(range(len(seqs)))
        assert decoded["t"][0] >= 3_000_000  # EVK4 clock counts from camera start
        assert stamps == sorted(stamps)
    else:
        assert decoded["t"][0] // 1_000_000 == 1_767_225_600  # UNIX µs, like dv-processing


def test_protocol_session_and_ground_truth_messages(
    written: tuple, session: SimulatedSession
) -> None:
    path, _, _ = written
    with open_bag(path) as bag:
        msgs = {
            t: [bag.deserialize(r) for r in bag.messages(topics=[t])]
            for t in (
                "/microexp/protocol",
                "/microexp/session",
                "/microexp/ground_truth",
                "/microexp/consent",
            )
        }
    info = msgs["/microexp/session"][0]
    assert (info.subject_id, info.consent, info.plan_name) == ("s03", True, "sim_tiny")
    scope = scope_from_msg(msgs["/microexp/consent"][0], where="sim")
    assert scope == session.consent and scope.session_id == info.session_id
    assert scope.sharing == set(Modality) and "no person" in scope.form  # a simulated subject
    kinds = [int(m.kind) for m in msgs["/microexp/protocol"]]
    assert kinds == [int(e.kind) for e in session.events]
    gts = msgs["/microexp/ground_truth"]
    for gt, action in zip(gts, session.ground_truth, strict=True):
        assert gt.label == action.label
        assert gt.onset_ns == session.to_ros_ns(action.profile.onset_us)
        assert gt.apex_ns == session.to_ros_ns(action.profile.apex_us)
        assert gt.offset_ns == session.to_ros_ns(action.profile.offset_us)
        assert list(gt.au_numbers) == list(action.au_numbers)


def test_images_are_mono8_and_rgb8_of_the_sensor_size(written: tuple) -> None:
    path, _, _ = written
    with open_bag(path) as bag:
        davis = bag.deserialize(next(bag.messages(topics=["/davis/image"])))
        cam = bag.deserialize(next(bag.messages(topics=["/webcam/image_raw"])))
    assert (davis.encoding, davis.width, davis.height, davis.step) == ("mono8", 346, 260, 346)
    assert (cam.encoding, cam.width, cam.height, cam.step) == ("rgb8", 64, 48, 192)
    pixels = np.asarray(davis.data).reshape(260, 346)
    assert 20 < pixels.mean() < 240 and pixels.std() > 5


def _all_messages(path: Path) -> list[tuple[str, int, bytes]]:
    with open_bag(path) as bag:
        return [(r.topic, r.log_time_ns, bytes(r.data)) for r in bag.messages()]


def test_same_seed_gives_the_same_bytes(session: SimulatedSession, tmp_path: Path) -> None:
    short = replace(session, scene=replace(session.scene, duration_us=1_000_000))
    for name in ("a", "b"):
        write_session_bag(tmp_path / name, short, _sensors(short), seed=4)
    write_session_bag(tmp_path / "c", short, _sensors(short), seed=5)
    a = _all_messages(tmp_path / "a")
    assert len(a) > 1000
    assert a == _all_messages(tmp_path / "b")
    assert a != _all_messages(tmp_path / "c")


def test_dropped_messages_leave_seq_gaps(session: SimulatedSession, tmp_path: Path) -> None:
    sensors = _sensors(session, drop_rate=0.1)[1:2]
    summary = write_session_bag(tmp_path / "lossy", session, sensors, seed=9)
    decoder = EventTopicDecoder("/evk4/events")
    with open_bag(tmp_path / "lossy") as bag:
        seqs = [decoder.decode(r).seq for r in bag.messages(topics=["/evk4/events"])]
    assert seqs == sorted(seqs)
    sent = seqs[-1] + 1  # seq counts every message, dropped or not
    assert summary.dropped["evk4"] == sent - len(seqs) > 0
    assert 0.05 < summary.dropped["evk4"] / sent < 0.15
