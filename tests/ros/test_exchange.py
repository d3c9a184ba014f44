"""Two real processes exchange messages over Fast DDS on loopback."""

from __future__ import annotations

import ast
import re

import pytest

from microexp.bagio.typestore import build_typestore

from .conftest import RosLauncher

pytestmark = pytest.mark.ros


def test_raw_event_array_bytes_arrive_unchanged(ros: RosLauncher) -> None:
    sub = ros.script(
        "echo",
        "echo_sub.py",
        "dv_ros2_msgs/msg/EventArray",
        "/davis/events",
        "--raw",
        "--qos",
        "sensor_data",
    )
    sub.wait_for("ready")
    pub = ros.script(
        "pub",
        "fixture_pub.py",
        "event_array",
        "/davis/events",
        "--count",
        "5",
        "--qos",
        "sensor_data",
        "--wait-subscribers",
        "1",
        "--period",
        "0.05",
    )
    pub.wait_for("done")
    sent = [bytes.fromhex(h) for h in re.findall(r"published \d+ ([0-9a-f]+)", pub.output())]
    sub.wait_for(r"(raw [0-9a-f]+\s*){5}", timeout_s=10)
    got = [bytes.fromhex(h) for h in re.findall(r"raw ([0-9a-f]+)", sub.output())]
    assert len(sent) == 5
    # best effort over loopback: every message arrives, in order, with the bytes rosbags
    # serialized; Fast DDS pads the payload with zeros to a multiple of 4 bytes
    assert len(got) == 5
    store = build_typestore()
    for i, (s, g) in enumerate(zip(sent, got, strict=True)):
        pad = (-len(s)) % 4
        assert len(g) == len(s) + pad, i
        assert g[: len(s)] == s and g[len(s) :] == bytes(pad), i
        msg = store.deserialize_cdr(g, "dv_ros2_msgs/msg/EventArray")
        assert (msg.width, msg.height, len(msg.events)) == (346, 260, 10)
        assert [e.ts.nanosec for e in msg.events] == [1000 * (i * 10 + j) for j in range(10)]


def test_protocol_event_decodes_in_rclpy(ros: RosLauncher) -> None:
    sub = ros.script("echo", "echo_sub.py", "microexp_msgs/msg/ProtocolEvent", "/microexp/protocol")
    sub.wait_for("ready")
    pub = ros.script(
        "pub",
        "fixture_pub.py",
        "protocol",
        "/microexp/protocol",
        "--count",
        "3",
        "--wait-subscribers",
        "1",
    )
    pub.wait_for("done")
    sub.wait_for(r"(msg .*\n){3}", timeout_s=10)
    lines = [ln[4:] for ln in sub.output().splitlines() if ln.startswith("msg ")]
    first = lines[0]
    assert "'label': 'AU12'" in first and "'segment_index': 0" in first
    assert "'subject_id': 'P01'" in first and "'kind': 3" in first
    assert [int(re.search(r"'segment_index': (\d+)", ln).group(1)) for ln in lines] == [0, 1, 2]  # type: ignore[union-attr]
    detail = ast.literal_eval(re.search(r"'detail': ('[^']*')", first).group(1))  # type: ignore[union-attr]
    assert detail == "#0"
