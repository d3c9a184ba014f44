"""Whole recording sessions, live: ``microexp launch record sim:=true ...`` (three simulated
cameras, the protocol node headless, our recorder, the sync monitor) to the end of the plan, the
bag read back; SIGINT and SIGKILL mid-session; never overwriting; exact loss counts."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from microexp.bagio.event_topics import EventTopicDecoder
from microexp.bagio.reader import BagReader, open_bag
from microexp.protocol.events import ProtocolEvent
from microexp.protocol.labels import segments_from_events

from .conftest import RosLauncher, RosProc

pytestmark = pytest.mark.ros

CAMERA_TYPES = {
    "/davis/events": "dv_ros2_msgs/msg/EventArray",
    "/davis/image": "sensor_msgs/msg/Image",
    "/evk4/events": "event_camera_msgs/msg/EventPacket",
    "/webcam/image_raw/compressed": "sensor_msgs/msg/CompressedImage",
}


def _launch(ros: RosLauncher, name: str, *assignments: str) -> RosProc:
    return ros.start(
        name, [sys.executable, "-m", "microexp.cli.main", "-v", "launch", "record", *assignments]
    )


def _wait_exit(proc: RosProc, timeout_s: float) -> int:
    try:
        return int(proc.popen.wait(timeout_s))
    except subprocess.TimeoutExpired:
        proc.interrupt()
        raise AssertionError(  # noqa: B904 - the timeout is the failure
            f"{proc.name} still running after {timeout_s} s:\n{proc.output()[-4000:]}"
        )


def _last(reader: BagReader, topic: str) -> Any:
    msg = None
    for raw in reader.messages(topics=[topic]):
        msg = reader.deserialize(raw)
    assert msg is not None, f"no {topic} in {reader.path}"
    return msg


def _summary_counts(reader: BagReader) -> dict[str, tuple[int, int, int]]:
    """topic -> (messages, lost_messages, qos_lost) of the bag's SyncSummary."""
    s = _last(reader, "/microexp/sync_summary")
    return {
        t: (int(m), int(lost), int(q))
        for t, m, lost, q in zip(
            s.topics,
            np.asarray(s.messages),
            np.asarray(s.lost_messages),
            np.asarray(s.qos_lost),
            strict=True,
        )
    }


def _inspect(bag: Path, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "microexp.cli.main", "inspect", "--json", str(bag)],
        env=env, capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _tree_digest(path: Path) -> dict[str, str]:
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_sim_session_records_every_camera_and_the_protocol_to_the_end(
    ros: RosLauncher, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    diag = ros.script("diag", "echo_sub.py", "diagnostic_msgs/msg/DiagnosticArray", "/diagnostics")
    diag.wait_for("ready")
    t0 = time.monotonic()
    launch = _launch(ros, "launch", "sim:=true", "consent:=true", "plan:=demo_3au",
                     "cameras:=davis,evk4,webcam", f"output_dir:={out}", "subject:=P01",
                     "session:=s1")  # fmt: skip
    # ends by itself: the protocol node exits at the end of the plan, the runner stops the graph
    assert _wait_exit(launch, 150) == 0, launch.output()[-4000:]
    log = launch.output()
    assert time.monotonic() - t0 > 12  # the plan lasts ~15 s once the recording runs
    assert "session ended" in log
    bag = out / "P01_s1"
    assert (bag / "metadata.yaml").is_file()
    with open_bag(bag) as reader:
        topics = reader.topics
        assert reader.notes == []
        for topic, msgtype in CAMERA_TYPES.items():
            assert topics[topic].msgtype == msgtype
            assert topics[topic].count > 100, (topic, topics[topic].count)
        assert topics["/microexp/session"].count == 1
        assert topics["/microexp/consent"].count == 1
        assert topics["/microexp/sync_summary"].count == 1
        consent = _last(reader, "/microexp/consent")  # consent:=true: the study, every modality
        assert (consent.version, consent.subject_id, consent.session_id) == (1, "P01", "s1")
        assert list(consent.study_modalities) == ["events", "grey", "rgb"]
        assert list(consent.sharing_modalities) == []
        session = _last(reader, "/microexp/session")
        assert (session.subject_id, session.session_id, session.consent) == ("P01", "s1", True)
        assert session.plan_name == "demo_3au"
        events = []
        for raw in reader.messages(topics=["/microexp/protocol"]):
            m = reader.deserialize(raw)
            fields = {f: getattr(m, f) for f in (
                "kind", "phase", "session_id", "subject_id", "segment_index", "attempt", "label",
                "au_numbers", "valid", "detail")}  # fmt: skip
            fields["stamp_ns"] = m.header.stamp.sec * 1_000_000_000 + m.header.stamp.nanosec
            events.append(ProtocolEvent.from_dict(fields, where=str(bag)))
        segments = segments_from_events(events)
        main = [s for s in segments if s.run == "main"]
        assert [s.label for s in main] == ["AU12", "AU45", "AU4"]
        assert [s.run for s in segments].count("demo") == 1
        assert all(s.valid and s.perform_start_ns > 0 and s.end_ns > 0 for s in segments), [
            (s.run, s.label, s.attempt, s.valid, s.reason, s.perform_start_ns, s.end_ns)
            for s in segments
        ]
        # the recording holds the whole session: cameras before its start and after its end
        first_ns = {
            t: min(r.log_time_ns for r in reader.messages(topics=[t])) for t in CAMERA_TYPES
        }
        # (recording starts once every camera has published, before the protocol starts; a
        # camera stalled by a loaded machine may send its next message a little later)
        assert min(first_ns.values()) < segments[0].start_ns
        assert all(v < segments[0].end_ns for v in first_ns.values()), first_ns
        # every loss counted, one figure everywhere. The EVK4 stream is best effort (as
        # metavision_driver publishes): under load DDS may drop some, and the bag's seq gaps are
        # the recorder's count; the reliable topics lose nothing.
        dec = EventTopicDecoder("/evk4/events")
        seqs = [int(dec.decode(raw).seq or 0) for raw in reader.messages(topics=["/evk4/events"])]
        assert seqs == sorted(set(seqs))  # in order, no duplicate
        gaps = seqs[-1] - seqs[0] + 1 - len(seqs)
        summary = _summary_counts(reader)
        for topic in summary:
            assert summary[topic][0] == topics[topic].count, (topic, summary[topic])
        assert summary["/evk4/events"][1] == gaps
        for topic in [*CAMERA_TYPES, "/microexp/protocol", "/microexp/session"]:
            if topic != "/evk4/events":
                assert summary[topic][1:] == (0, 0), (topic, summary[topic])
    assert f"/evk4/events: {len(seqs)} msgs, lost {gaps} (seq gaps, " in log
    final = [line for line in diag.output().splitlines() if "name='recorder: /evk4/events'" in line]
    assert final and f"key='lost', value='{gaps}'" in final[-1]  # the last live count
    assert "message='closed'" in final[-1]
    info = _inspect(bag, ros.env)
    assert info["notes"] == []
    evk4 = info["topics"]["/evk4/events"]
    assert (evk4["encoding"], evk4["decode_errors"]) == ("evt3", 0)
    assert evk4["seq_gaps"] == evk4["lost"] == gaps
    assert info["topics"]["/davis/events"]["encoding"] == "dv_event_array"
    assert len(info["topics"]["/microexp/protocol"]["segments"]) == 4
    assert info["consent"]["study"] == ["events", "grey", "rgb"]


@pytest.mark.slow
def test_a_consent_that_does_not_cover_the_cameras_records_nothing(
    ros: RosLauncher, tmp_path: Path
) -> None:
    consent = tmp_path / "P03.yaml"
    consent.write_text(
        "version: 1\nsubject_id: P03\nform: lab form v2\ngiven_on: 2026-01-10\n"
        "valid_until: 2099-01-10\non_expiry: review\nstudy: [events, grey]\nsharing: []\n"
        "publication: []\n"
    )
    out = tmp_path / "rec"
    launch = _launch(ros, "launch", "sim:=true", f"consent_file:={consent}", "plan:=demo_3au",
                     "cameras:=davis,webcam", f"output_dir:={out}", "subject:=P03",
                     "sync_monitor:=false")  # fmt: skip
    assert _wait_exit(launch, 90) == 1, launch.output()[-4000:]
    log = launch.output()
    assert "does not cover this launch; nothing is recorded" in log
    assert "camera webcam records rgb" in log and "no consent for RGB video (study)" in log
    assert not (out / "P03_s1").exists()


@pytest.mark.slow
def test_sigint_closes_a_complete_bag_and_a_second_run_refuses_to_overwrite(
    ros: RosLauncher, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    args = ("sim:=true", "consent:=true", "plan:=demo_3au", "cameras:=evk4", f"output_dir:={out}",
            "subject:=P02", "session:=s1", "sync_monitor:=false")  # fmt: skip
    launch = _launch(ros, "launch", *args)
    launch.wait_for("recording started", timeout_s=60)
    launch.wait_for(r"PHASE DEMO", timeout_s=30)  # mid-session
    assert launch.interrupt() == 0, launch.output()[-4000:]
    assert "session ended" not in launch.output()
    bag = out / "P02_s1"
    with open_bag(bag) as reader:
        assert reader.notes == []  # metadata.yaml and the MCAP summary are there
        counts = {n: i.count for n, i in reader.topics.items()}
        assert counts["/evk4/events"] > 0 and counts["/microexp/protocol"] > 0
        assert counts["/microexp/session"] == 1 and counts["/microexp/sync_summary"] == 1
        assert _summary_counts(reader)["/evk4/events"][0] == counts["/evk4/events"]
    before = _tree_digest(bag)
    again = _launch(ros, "again", *args)
    assert _wait_exit(again, 60) != 0
    assert "exists already, not overwriting" in again.output()
    assert _tree_digest(bag) == before


def _recorder_params(path: Path, bag: Path, topics: dict[str, str]) -> Path:
    params = {
        "output": str(bag),
        "topics": list(topics),
        "types": list(topics.values()),
        "wait_for": list(topics),
        "stats_period_s": 0.2,
    }
    path.write_text(yaml.safe_dump({"recorder": {"ros__parameters": params}}))
    return path


@pytest.mark.slow
def test_sigkill_leaves_a_bag_readable_up_to_its_last_chunk(
    ros: RosLauncher, tmp_path: Path
) -> None:
    bag = tmp_path / "killed"
    topics = {
        "/davis/events": CAMERA_TYPES["/davis/events"],
        "/davis/image": "sensor_msgs/msg/Image",
    }
    rec = ros.node("recorder", "recorder", "--params-file",
                   str(_recorder_params(tmp_path / "p.yaml", bag, topics)))  # fmt: skip
    ros.script("session", "fixture_pub.py", "session", "/microexp/session", "--qos", "latched")
    rec.wait_for("waiting: no message yet on /davis/events")
    ros.node("sim_davis", "sim_camera", "-p", "camera:=davis", "-p", "duration_s:=60.0")
    rec.wait_for("recording started", timeout_s=30)
    mcap = bag / f"{bag.name}.mcap"  # rosbags names it after the folder
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not mcap.exists() or mcap.stat().st_size < 3 << 20):
        time.sleep(0.1)  # a few 1 MiB chunks (DAVIS frames are 90 kB each)
    rec.popen.send_signal(signal.SIGKILL)
    assert rec.popen.wait(10) == -signal.SIGKILL
    assert not (bag / "metadata.yaml").exists()
    info = _inspect(bag, ros.env)
    notes = " ".join(info["notes"])
    assert "no metadata.yaml" in notes and "no MCAP footer" in notes
    davis = info["topics"]["/davis/events"]
    assert davis["messages"] > 100 and davis["decode_errors"] == 0
    assert info["topics"]["/davis/image"]["messages"] > 5
    with open_bag(bag) as reader:  # every message it lists decodes
        dec = EventTopicDecoder("/davis/events")
        n = sum(dec.decode(raw).events.size for raw in reader.messages(topics=["/davis/events"]))
        assert n == davis["events_on"] + davis["events_off"] > 0


@pytest.mark.slow
def test_skipped_packets_are_counted_exactly(ros: RosLauncher, tmp_path: Path) -> None:
    """A simulated EVK4 that drops 3 % of its packets (seeded): the recorder's /diagnostics, its
    log and the bag's SyncSummary give exactly the number of seqs missing from the bag, and of
    those, exactly the ones the camera skipped are not counted as lost in transport."""
    bag = tmp_path / "drops"
    topics = {"/evk4/events": CAMERA_TYPES["/evk4/events"]}
    rec = ros.node("recorder", "recorder", "--params-file",
                   str(_recorder_params(tmp_path / "p.yaml", bag, topics)))  # fmt: skip
    diag = ros.script("diag", "echo_sub.py", "diagnostic_msgs/msg/DiagnosticArray", "/diagnostics")
    ros.script("session", "fixture_pub.py", "session", "/microexp/session", "--qos", "latched")
    rec.wait_for("waiting: no message yet on /evk4/events")
    sim = ros.node("sim_evk4", "sim_camera", "-p", "camera:=evk4", "-p", "width:=320",
                   "-p", "height:=180", "-p", "duration_s:=4.0", "-p", "drop_rate:=0.03",
                   "-p", "seed:=7")  # fmt: skip
    rec.wait_for("recording started", timeout_s=30)
    found = sim.wait_for(r"scene finished: .*dropped (\d+) message\(s\), seqs \[([\d, ]+)\]",
                         timeout_s=40)  # fmt: skip
    dropped = [int(s) for s in found.group(2).split(",")]
    assert len(dropped) == int(found.group(1)) > 5
    time.sleep(0.5)  # the last packets and one more diagnostics period
    with open_bag_after(rec) as reader:
        dec = EventTopicDecoder("/evk4/events")
        seqs = [int(dec.decode(r).seq or 0) for r in reader.messages(topics=["/evk4/events"])]
        expected = [s for s in dropped if seqs[0] < s < seqs[-1]]
        # best effort: DDS may lose some more under load; every loss is counted, and what the
        # driver dropped is told apart from what the transport lost (DDS sequence numbers)
        missing = sorted(set(range(seqs[0], seqs[-1] + 1)) - set(seqs))
        assert set(expected) <= set(missing)
        assert _summary_counts(reader)["/evk4/events"][1:] == (
            len(missing), len(missing) - len(expected))  # fmt: skip
    assert (
        f"/evk4/events: {len(seqs)} msgs, lost {len(missing)} (seq gaps, "
        f"{len(missing) - len(expected)} of them in transport)" in rec.output()
    )
    values = re.findall(r"name='recorder: /evk4/events'.*?key='lost', value='(\d+)'",
                        diag.output())  # fmt: skip
    assert values and int(values[-1]) == len(missing)


@contextlib.contextmanager
def open_bag_after(rec: RosProc) -> Iterator[BagReader]:
    """SIGINT the recorder (it writes the summary and closes the bag), then open its bag."""
    assert rec.interrupt() == 0, rec.output()[-4000:]
    m = re.search(r"recording started: (\S+)", rec.output())
    assert m, rec.output()
    with open_bag(m.group(1)) as reader:
        yield reader
