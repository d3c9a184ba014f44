"""docs/ros_interfaces.md says what the running recorder really does (rows marked 'checked')."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, RosLauncher

pytestmark = pytest.mark.ros

DOC = ROOT / "docs" / "ros_interfaces.md"


def documented_rows(node: str) -> list[dict[str, str]]:
    """The 'checked' rows of the topic table under '### <node>'."""
    text = DOC.read_text()
    section = text.split(f"### {node}\n", 1)[1].split("\n### ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[4] == "yes":
            topic = re.match(r"`([^`]+)`", cells[0])
            msgtype = re.match(r"`([^`]+)`", cells[1])
            assert topic and msgtype, line
            rows.append(
                {
                    "topic": topic.group(1),
                    "type": msgtype.group(1),
                    "direction": cells[2],
                    "qos": cells[3],
                }
            )
    return rows


@pytest.mark.slow
def test_recorder_endpoints_match_the_doc(ros: RosLauncher, tmp_path: Path) -> None:
    rows = documented_rows("recorder")
    assert len(rows) == 4
    params = {
        "output": str(tmp_path / "bag"),
        "topics": ["/evk4/events", "/davis/events"],
        "types": ["event_camera_msgs/msg/EventPacket", "dv_ros2_msgs/msg/EventArray"],
    }
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"recorder": {"ros__parameters": params}}))
    rec = ros.node("recorder", "recorder", "--params-file", str(path))
    ros.script(
        "evk4",
        "fixture_pub.py",
        "event_packet",
        "/evk4/events",
        "--qos",
        "sensor_data",
        "--count",
        "0",
    )
    ros.script("davis", "fixture_pub.py", "event_array", "/davis/events", "--count", "0")
    rec.wait_for("subscribed /evk4/events")
    rec.wait_for("subscribed /davis/events")
    probe = ros.script("probe", "graph_probe.py", "recorder", *[r["topic"] for r in rows])
    probe.wait_for("done", timeout_s=30)
    live = [json.loads(line) for line in probe.output().splitlines() if line.startswith("{")]
    key = lambda r: (r["topic"], r["direction"])  # noqa: E731
    assert sorted(live, key=key) == sorted(rows, key=key)


def topic_rows(node: str) -> list[dict[str, str]]:
    """Every row of the topic table under '### <node>' that names absolute topics (a cell with
    several topics and as many types gives one row per pair); QoS is its first word."""
    text = DOC.read_text()
    section = text.split(f"### {node}", 1)[1].split("\n### ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) not in (4, 5) or not cells[0].startswith("`/"):
            continue
        topics = re.findall(r"`(/[^`]+)`", cells[0].split("(")[0])
        types = re.findall(r"`([^`]+/msg/[^`]+)`", cells[1])
        assert len(topics) == len(types), line
        for topic, msgtype in zip(topics, types, strict=True):
            rows.append(
                {
                    "topic": topic,
                    "type": msgtype,
                    "direction": cells[2].split()[0],
                    "qos": cells[3].split(",")[0].split()[0],
                }
            )
    return rows


@pytest.mark.slow
def test_record_graph_endpoints_match_the_doc(ros: RosLauncher, tmp_path: Path) -> None:
    """The running record graph (three simulated cameras, protocol node, recorder, sync monitor)
    advertises what docs/ros_interfaces.md says, node by node."""
    import sys

    launch = ros.start(
        "launch",
        [sys.executable, "-m", "microexp.cli.main", "launch", "record", "sim:=true",
         "consent:=true", "plan:=demo_3au", "cameras:=davis,evk4,webcam",
         f"output_dir:={tmp_path / 'rec'}", "subject:=P01", "session:=s1"],
    )  # fmt: skip
    launch.wait_for("recording started", timeout_s=60)
    sim_rows = [r for r in topic_rows("sim_camera") if r["topic"] != "/microexp/ground_truth"]
    cams = {"davis": "sim_davis", "evk4": "sim_evk4", "webcam": "sim_webcam"}
    expected: dict[str, list[dict[str, str]]] = {
        "recorder": [r for r in topic_rows("recorder")],
        "protocol_node": topic_rows("protocol_node"),
        "sync_monitor": topic_rows("sync_monitor"),
        **{
            node: [r for r in sim_rows if r["topic"].startswith(f"/{cam}/")]
            for cam, node in cams.items()
        },
    }
    # the sync monitor's camera subscriptions ("each of `topics`", QoS matched to the publisher)
    for r in sim_rows:
        expected["sync_monitor"].append({**r, "direction": "sub"})
    assert all(expected.values()) and len(expected["recorder"]) == 5
    assert len(sim_rows) == 4 and len(expected["protocol_node"]) == 3
    probes = {
        node: ros.script(f"probe_{node}", "graph_probe.py", node, *{r["topic"] for r in rows})
        for node, rows in expected.items()
    }
    key = lambda r: (r["topic"], r["direction"])  # noqa: E731
    for node, probe in probes.items():
        probe.wait_for("done", timeout_s=40)
        live = [json.loads(line) for line in probe.output().splitlines() if line.startswith("{")]
        assert sorted(live, key=key) == sorted(expected[node], key=key), node
    assert launch.interrupt() == 0, launch.output()[-3000:]
