"""The recorder node records a bag from live publishers, gated on consent and cameras."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from microexp.bagio.reader import open_bag

from .conftest import RosLauncher

pytestmark = pytest.mark.ros


def _params(path: Path, bag: Path, **extra: object) -> Path:
    params = {
        "output": str(bag),
        "topics": ["/evk4/events", "/davis/events", "/microexp/protocol"],
        "types": [
            "event_camera_msgs/msg/EventPacket",
            "dv_ros2_msgs/msg/EventArray",
            "microexp_msgs/msg/ProtocolEvent",
        ],
        "qos": ["auto", "auto", "reliable"],
        "wait_for": ["/evk4/events", "/davis/events"],
        "stats_period_s": 0.2,
        **extra,
    }
    path.write_text(yaml.safe_dump({"recorder": {"ros__parameters": params}}))
    return path


@pytest.mark.slow
def test_records_a_bag_that_reads_back(ros: RosLauncher, tmp_path: Path) -> None:
    bag = tmp_path / "session_bag"
    rec = ros.node("recorder", "recorder", "--params-file", str(_params(tmp_path / "p.yaml", bag)))
    diag = ros.script("diag", "echo_sub.py", "diagnostic_msgs/msg/DiagnosticArray", "/diagnostics")
    ros.script("session", "fixture_pub.py", "session", "/microexp/session", "--qos", "latched")
    davis = ros.script(
        "davis",
        "fixture_pub.py",
        "event_array",
        "/davis/events",
        "--qos",
        "reliable",
        "--count",
        "1000",
        "--wait-subscribers",
        "1",
        "--period",
        "0.05",
    )
    rec.wait_for(r"subscribed /davis/events .* qos=reliable")
    rec.wait_for("waiting: no message yet on /evk4/events")
    evk4 = ros.script(
        "evk4",
        "fixture_pub.py",
        "event_packet",
        "/evk4/events",
        "--qos",
        "sensor_data",
        "--count",
        "40",
        "--skip-seq",
        "20,21,30",
        "--wait-subscribers",
        "1",
        "--period",
        "0.02",
    )
    rec.wait_for(r"subscribed /evk4/events .* qos=sensor_data")
    rec.wait_for("recording started", timeout_s=20)
    evk4.wait_for("done")
    davis.wait_for(r"published 5\d ")
    # live stats on /diagnostics: per topic, with the losses counted so far; the 3 seqs the
    # publisher skipped are lost, and so is whatever DDS dropped on this best-effort topic
    diag.wait_for(r"name='recorder: /evk4/events'.*key='lost_seq', value='([3-9]|\d\d)'",
                  timeout_s=10)  # fmt: skip
    assert rec.interrupt() == 0, rec.output()
    final = re.search(r"/evk4/events: (\d+) msgs, lost (\d+) \(seq gaps, (\d+) of them in "
                      r"transport\)", rec.output())  # fmt: skip
    assert final, rec.output()[-3000:]
    n, lost, transport = (int(final.group(i)) for i in (1, 2, 3))
    assert lost - transport == 3 and n + transport == 40  # exact, whatever DDS lost
    with open_bag(bag) as reader:
        topics = reader.topics
        assert topics["/microexp/session"].msgtype == "microexp_msgs/msg/SessionInfo"
        counts = {name: info.count for name, info in topics.items()}
        assert counts["/microexp/session"] == 1
        assert counts["/microexp/sync_summary"] == 1
        # recording starts on the first message of the last awaited camera (EVK4): every EVK4
        # message that arrived is in the bag, the DAVIS messages before it are not
        assert counts["/evk4/events"] == n
        assert 0 < counts["/davis/events"] < int(re.findall(r"published (\d+)", davis.output())[-1])
        summary = None
        for raw in reader.messages(topics=["/microexp/sync_summary"]):
            summary = reader.deserialize(raw)
        assert summary is not None
        lost_by_topic = dict(
            zip(summary.topics, np.asarray(summary.lost_messages).tolist(), strict=True)
        )
        assert lost_by_topic["/evk4/events"] == lost and lost_by_topic["/davis/events"] == 0


def test_refuses_to_record_without_consent(ros: RosLauncher, tmp_path: Path) -> None:
    bag = tmp_path / "no_consent"
    rec = ros.node("recorder", "recorder", "--params-file", str(_params(tmp_path / "p.yaml", bag)))
    ros.script(
        "session",
        "fixture_pub.py",
        "session",
        "/microexp/session",
        "--qos",
        "latched",
        "--consent",
        "0",
    )
    ros.script(
        "evk4",
        "fixture_pub.py",
        "event_packet",
        "/evk4/events",
        "--qos",
        "sensor_data",
        "--count",
        "1000",
        "--wait-subscribers",
        "1",
        "--period",
        "0.02",
    )
    ros.script(
        "davis",
        "fixture_pub.py",
        "event_array",
        "/davis/events",
        "--count",
        "1000",
        "--wait-subscribers",
        "1",
        "--period",
        "0.02",
    )
    rec.wait_for(r"waiting: .*consent=false received", timeout_s=20)
    assert rec.interrupt() == 0
    assert not bag.exists()


def test_refuses_to_overwrite(ros: RosLauncher, tmp_path: Path) -> None:
    bag = tmp_path / "exists"
    bag.mkdir()
    rec = ros.node("recorder", "recorder", "--params-file", str(_params(tmp_path / "p.yaml", bag)))
    rec.wait_for("exists already, not overwriting")
    assert rec.popen.wait(10) == 1
