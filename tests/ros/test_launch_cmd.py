"""`microexp launch record` starts the rosgraph as real processes and forwards SIGINT."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from microexp.bagio.reader import open_bag

from .conftest import RosLauncher

pytestmark = pytest.mark.ros


def test_launch_record_runs_the_graph_and_forwards_sigint(ros: RosLauncher, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    launcher = ros.start(
        "launch",
        [
            sys.executable,
            "-m",
            "microexp.cli.main",
            "-v",
            "launch",
            "record",
            "cameras:=none",
            "protocol:=false",
            "sync_monitor:=false",
            f"output_dir:={out}",
            "subject:=P01",
            "session:=s9",
        ],
    )
    launcher.wait_for(r"subscribed /microexp/session")
    ros.script("session", "fixture_pub.py", "session", "/microexp/session", "--qos", "latched")
    # the record graph waits for the consent record too (here no protocol node publishes it)
    launcher.wait_for(r"waiting: no message yet on /microexp/consent", timeout_s=20)
    ros.script("consent", "fixture_pub.py", "consent", "/microexp/consent", "--qos", "latched")
    launcher.wait_for("recording started", timeout_s=20)
    time.sleep(0.3)
    assert launcher.interrupt() == 0, launcher.output()
    with open_bag(out / "P01_s9") as bag:
        counts = {n: i.count for n, i in bag.topics.items()}
    assert counts["/microexp/session"] == 1 and counts["/microexp/sync_summary"] == 1
    assert counts["/microexp/consent"] == 1
