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
