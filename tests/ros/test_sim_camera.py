"""The sim_camera node live: real process, real DDS on loopback, messages decoded by the core."""

from __future__ import annotations

import re

import numpy as np
import pytest

from microexp.bagio.typestore import build_typestore
from microexp.events.dv_event_array import decode_event_array_cdr
from microexp.events.evt3 import Evt3Decoder

from .conftest import RosLauncher

pytestmark = pytest.mark.ros


def _raw(output: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in re.findall(r"raw ([0-9a-f]+)", output)]


def test_davis_events_and_frames_arrive_as_dv_ros2_messages(ros: RosLauncher) -> None:
    events = ros.script("events", "echo_sub.py", "dv_ros2_msgs/msg/EventArray", "/davis/events",
                        "--raw", "--qos", "reliable")  # fmt: skip
    frames = ros.script("frames", "echo_sub.py", "sensor_msgs/msg/Image", "/davis/image",
                        "--raw", "--qos", "reliable")  # fmt: skip
    events.wait_for("ready")
    frames.wait_for("ready")
    node = ros.node("sim_camera", "sim_camera", "-p", "camera:=davis", "-p", "subject:=s05",
                    "-p", "duration_s:=30.0")  # fmt: skip
    node.wait_for("publishing")
    events.wait_for(r"(raw [0-9a-f]+\s*){100}", timeout_s=30)
    frames.wait_for(r"(raw [0-9a-f]+\s*){3}", timeout_s=30)
    msgs = [decode_event_array_cdr(b) for b in _raw(events.output())]
    assert all((m.width, m.height) == (346, 260) for m in msgs)
    t = np.concatenate([m.events["t"] for m in msgs])
    assert t.size > 100
    assert np.all(np.diff(t) >= 0)  # reliable, in order, events sorted across packets
    stamps = [m.stamp_ns for m in msgs]
    assert stamps == sorted(stamps)
    assert abs(stamps[0] / 1e3 - t[0]) < 5e6  # header stamp (ROS time) near sensor time (UNIX µs)
    img = build_typestore().deserialize_cdr(_raw(frames.output())[0], "sensor_msgs/msg/Image")
    assert (img.encoding, img.width, img.height) == ("mono8", 346, 260)
    assert node.interrupt() == 0


def test_evk4_packets_are_best_effort_evt3_with_counting_seq(ros: RosLauncher) -> None:
    sub = ros.script("events", "echo_sub.py", "event_camera_msgs/msg/EventPacket", "/evk4/events",
                     "--raw", "--qos", "sensor_data")  # fmt: skip
    sub.wait_for("ready")
    node = ros.node("sim_camera", "sim_camera", "-p", "camera:=evk4", "-p", "width:=320",
                    "-p", "height:=180", "-p", "duration_s:=30.0")  # fmt: skip
    node.wait_for("publishing")
    sub.wait_for(r"(raw [0-9a-f]+\s*){100}", timeout_s=30)
    store = build_typestore()
    pk = [store.deserialize_cdr(b, "event_camera_msgs/msg/EventPacket") for b in _raw(sub.output())]
    assert all((p.encoding, p.width, p.height, p.time_base) == ("evt3", 320, 180, 0) for p in pk)
    seqs = [int(p.seq) for p in pk]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    decoder = Evt3Decoder()
    n = sum(decoder.decode(np.asarray(p.events, dtype=np.uint8)).events.size for p in pk)
    assert n > 100
    assert node.interrupt() == 0
