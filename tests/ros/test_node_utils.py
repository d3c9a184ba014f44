"""``microexp_ros._node_utils.params_to_dataclass`` inside a real rclpy node."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .conftest import RosLauncher

pytestmark = pytest.mark.ros


def _run(ros: RosLauncher, tmp_path: Path, params: dict[str, object]) -> tuple[int, str]:
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"probe": {"ros__parameters": params}}))
    proc = ros.script("probe", "params_probe.py", "--ros-args", "--params-file", str(path))
    return proc.popen.wait(30), proc.output()


def test_values_and_defaults(ros: RosLauncher, tmp_path: Path) -> None:
    status, out = _run(
        ros, tmp_path, {"name": "cam", "count": 5, "topics": ["/a", "/b"], "mode": "slow"}
    )
    assert status == 0, out
    assert (
        "config ProbeConfig(name='cam', rate_hz=30.0, count=5, enabled=True, mode='slow', "
        "topics=('/a', '/b'), scales=(1.0, 2.0))"
    ) in out


def test_missing_required_and_invalid_values_fail(ros: RosLauncher, tmp_path: Path) -> None:
    status, out = _run(ros, tmp_path, {"count": 1})
    assert status == 1 and "parameter name is required" in out
    status, out = _run(ros, tmp_path, {"name": "x", "mode": "medium"})
    assert status == 1 and "parameter mode is 'medium'; expected one of ['fast', 'slow']" in out
    status, out = _run(ros, tmp_path, {"name": "x", "rate_hz": -1.0})
    assert status == 1 and "rate_hz must be > 0, got -1.0" in out


def test_drain_takes_every_message_already_delivered(ros: RosLauncher) -> None:
    """What the recorder runs after SIGINT: messages DDS delivered but nobody took yet are not lost."""
    proc = ros.script("drain", "drain_probe.py", "200")
    assert proc.popen.wait(60) == 0, proc.output()
    out = proc.output()
    assert "acked True" in out, out
    assert "taken before drain 0" in out, out
    assert "drained 200" in out and "received 200 in order True" in out, out
