"""The live camera core (what the ROS sim_camera node runs), paced by a fake clock."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from microexp.bagio.typestore import build_typestore
from microexp.errors import ConfigError
from microexp.events.dv_event_array import decode_event_array_cdr
from microexp.sim.live import LiveCamera, LiveCameraConfig
from microexp.sim.session import DEFAULT_START_NS

START = DEFAULT_START_NS


def test_idle_davis_publishes_packets_as_the_clock_passes() -> None:
    cam = LiveCamera(LiveCameraConfig(camera="davis", duration_s=2.0, seed=1), start_ns=START)
    assert cam.topics == {
        "/davis/events": "dv_ros2_msgs/msg/EventArray",
        "/davis/image": "sensor_msgs/msg/Image",
    }
    assert cam.poll(START + 40_000_000) == []  # the first 50 ms chunk is not over yet
    first = cam.poll(START + 50_000_000)
    events = [m for m in first if m.topic == "/davis/events"]
    assert 45 <= len(events) <= 50
    assert [m.log_time_ns for m in first] == sorted(m.log_time_ns for m in first)
    got = decode_event_array_cdr(events[0].data)
    assert got.events.size > 0
    assert np.all(got.events["t"] // 1000 >= START // 1_000_000)  # UNIX µs
    rest = cam.poll(START + 10_000_000_000)
    assert cam.finished
    n_images = sum(m.topic == "/davis/image" for m in first + rest)
    assert n_images == 50  # 25 fps for 2 s


def test_plan_mode_adds_ground_truth(tiny_plan_path: Path) -> None:
    cam = LiveCamera(
        LiveCameraConfig(camera="webcam", plan=str(tiny_plan_path), width=64, height=48,
                         fps=10.0, chunk_ms=500),
        start_ns=START,
    )  # fmt: skip
    assert set(cam.topics) == {"/webcam/image_raw", "/microexp/ground_truth"}
    msgs = cam.poll(START + 60_000_000_000)
    gt = [m for m in msgs if m.topic == "/microexp/ground_truth"]
    assert len(gt) == 3
    store = build_typestore()
    labels = [store.deserialize_cdr(m.data, "microexp_msgs/msg/AuGroundTruth").label for m in gt]
    assert labels == ["AU12", "AU12", "AU4"]
    img = store.deserialize_cdr(
        next(m for m in msgs if m.topic == "/webcam/image_raw").data, "sensor_msgs/msg/Image"
    )
    assert (img.width, img.height, img.encoding) == (64, 48, "rgb8")


def test_evk4_seq_counts_messages_at_reduced_size() -> None:
    cam = LiveCamera(LiveCameraConfig(camera="evk4", width=160, height=90, duration_s=0.3),
                     start_ns=START)  # fmt: skip
    store = build_typestore()
    msgs = cam.poll(START + 1_000_000_000)
    pk = [store.deserialize_cdr(m.data, "event_camera_msgs/msg/EventPacket") for m in msgs]
    assert [p.seq for p in pk] == list(range(len(pk)))
    assert all((p.width, p.height, p.encoding, p.time_base) == (160, 90, "evt3", 0) for p in pk)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"camera": "kinect"}, "kinect"), ({"chunk_ms": 0}, "chunk_ms"), ({"width": 10}, "width")],
)
def test_bad_live_config(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        LiveCameraConfig(**kwargs)
