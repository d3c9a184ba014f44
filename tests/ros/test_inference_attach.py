"""The inference node, live, on a stream it did not start: its publishers exist before any event
(``ros2 topic echo`` started then finds the type), 8 malformed EventPackets are each rejected and
counted by cause on /diagnostics and in the exit summary, and the real recording that follows
(played by ``microexp play``) is predicted on."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest
import yaml

from .conftest import RosLauncher
from .test_inference_node import _checkpoint

pytestmark = pytest.mark.ros

EXPECTED = {"type": 0, "cdr": 2, "geometry": 2, "encoding": 1, "payload": 2, "outside_sensor": 1}


@pytest.mark.slow
def test_malformed_packets_are_counted_by_cause_then_real_data_is_predicted(
    ros: RosLauncher, tmp_path: Path, real_bag: Path
) -> None:
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"inference_node": {"ros__parameters": {
        "checkpoint": str(_checkpoint(tmp_path / "snn.pt")), "events_topic": "/evk4/events",
        "events_type": "event_camera_msgs/msg/EventPacket", "roi": [0, 0, 640, 480],
        "threads": 1, "idle_close_ms": 150.0}}}))  # fmt: skip
    node = ros.node("inference_node", "inference_node", "--params-file", str(params))
    node.wait_for(r"ready: /evk4/events", timeout_s=60)
    # started before any event message: finds the publisher's type (--spin-time: discovery on a
    # loaded machine) and keeps listening
    echo = ros.start("echo", ["ros2", "topic", "echo", "--no-daemon", "--spin-time", "10",
                              "/microexp/au_predictions"])  # fmt: skip
    diag = ros.script("diag", "echo_sub.py", "diagnostic_msgs/msg/DiagnosticArray", "/diagnostics")
    diag.wait_for(r"name='inference_node: /evk4/events'.*key='rejected', value='0'", timeout_s=30)
    # (once the echo, still discovering, has subscribed)
    bad = ros.script("bad", "malformed_pub.py", "/evk4/events", "--after-subscriber",
                     "/microexp/au_predictions")  # fmt: skip
    assert bad.wait_for(r"done (\d+)", timeout_s=60).group(1) == "8"
    # every rejection on /diagnostics, by cause
    diag.wait_for(r"name='inference_node: /evk4/events'.*key='rejected', value='8'", timeout_s=20)
    last = [line for line in diag.output().splitlines() if "inference_node: /evk4/events" in line][
        -1
    ]
    for cause, n in EXPECTED.items():
        assert f"key='rejected_{cause}', value='{n}'" in last, (cause, last)
    assert "key='messages', value='0'" in last
    # the real recording, played under the topic the node listens to
    play = ros.start("play", [sys.executable, "-m", "microexp.cli.main", "play", str(real_bag),
                              "--remap", "/event_camera/events:=/evk4/events",
                              "--wait-for", "/event_camera/events"])  # fmt: skip
    assert play.popen.wait(90) == 0, play.output()[-3000:]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and echo.output().count("source_topic: /evk4/events") < 30:
        time.sleep(0.2)
    assert echo.popen.poll() is None, echo.output()[-2000:]  # no "could not determine the type"
    assert echo.output().count("source_topic: /evk4/events") >= 30  # 2 s at 33 ms per slice
    assert node.interrupt() == 0, node.output()[-4000:]
    summary = node.wait_for(r"summary: (\d+) event messages, (\d+) events, (\d+) slices predicted,"
                            r" latency p50 ([\d.]+) ms p99 ([\d.]+) ms; rejected (\d+) messages "
                            r"\(([^)]*)\)")  # fmt: skip
    messages, events, slices = (int(summary.group(i)) for i in (1, 2, 3))
    assert 400 < messages <= 517 and events > 250_000 and slices >= 30
    assert float(summary.group(4)) <= float(summary.group(5))
    assert summary.group(6) == "8"
    assert summary.group(7) == "cdr 2, geometry 2, encoding 1, payload 2, outside_sensor 1"
    # each cause's first rejection was logged, named
    log = node.output()
    for cause in ("cdr", "geometry", "encoding", "payload", "outside_sensor"):
        assert re.search(rf"rejected \({cause}, 1 so far\): topic /evk4/events message \d", log)
    assert "Traceback" not in log


def _evk4_bag(real_bag: Path, out: Path) -> Path:
    """The real recording's packets as the rig's EVK4 topic (raw bytes, log times kept)."""
    from microexp.bagio.reader import open_bag
    from microexp.bagio.writer import BagWriter

    with open_bag(real_bag) as reader, BagWriter(out) as bag:
        bag.add_topic("/evk4/events", "event_camera_msgs/msg/EventPacket", qos="sensor_data")
        for raw in reader.messages():
            bag.write("/evk4/events", raw.log_time_ns, raw.data)
    return out


@pytest.mark.slow
def test_infer_launch_plays_a_bag_with_the_microexp_player(
    ros: RosLauncher, tmp_path: Path, real_bag: Path
) -> None:
    bag = _evk4_bag(real_bag, tmp_path / "evk4_bag")
    ckpt = _checkpoint(tmp_path / "snn.pt")
    echo = ros.start("echo", ["ros2", "topic", "echo", "--no-daemon", "/microexp/au_predictions",
                              "microexp_msgs/msg/AuPrediction"])  # fmt: skip
    launch = ros.start("launch", ["ros2", "launch", "microexp", "infer.launch.py", f"bag:={bag}",
                                  f"checkpoint:={ckpt}", "cameras:=evk4"])  # fmt: skip
    # the player waits for the inference node (it loads torch and the model first), then plays
    launch.wait_for(r"\[player\]: waiting for subscribers on \['/evk4/events'\]", timeout_s=60)
    played = launch.wait_for(r"\[player\]: played .*: finished: (\d+) messages", timeout_s=120)
    assert played.group(1) == "517"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and echo.output().count("source_topic: /evk4/events") < 30:
        time.sleep(0.2)
    assert echo.output().count("source_topic: /evk4/events") >= 30, echo.output()[-2000:]
    assert launch.interrupt(timeout_s=30) == 0, launch.output()[-4000:]
    summary = launch.wait_for(r"\[inference_evk4\]: summary: (\d+) event messages")
    assert 400 < int(summary.group(1)) <= 517  # best effort, like metavision_driver
    assert "ros2 bag" not in launch.output()
