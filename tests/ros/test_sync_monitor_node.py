"""The sync monitor node measures a known camera offset at a sync flash and publishes it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from .conftest import RosLauncher

pytestmark = pytest.mark.ros


@pytest.mark.slow
def test_offset_at_a_flash_is_published(ros: RosLauncher, tmp_path: Path) -> None:
    params = tmp_path / "p.yaml"
    params.write_text(
        yaml.safe_dump(
            {
                "sync_monitor": {
                    "ros__parameters": {
                        "topics": ["/davis/events"],
                        "types": ["dv_ros2_msgs/msg/EventArray"],
                        "report_period_s": 0.2,
                    }
                }
            }
        )
    )
    mon = ros.node("sync_monitor", "sync_monitor", "--params-file", str(params))
    echo = ros.script(
        "echo", "echo_sub.py", "microexp_msgs/msg/CameraSync", "/microexp/camera_sync"
    )
    echo.wait_for("ready")
    ros.script("flash", "flash_pub.py", "12.0").wait_for("done")
    found = mon.wait_for(r"flash 0: /davis/events offset (-?[\d.]+) ms ± 1\.000", timeout_s=20)
    assert abs(float(found.group(1)) - 12.0) <= 1.0  # onset resolution: 1 ms bins
    line = echo.wait_for(r"msg .*").group(0)
    assert "'camera': 'davis'" in line and "'flash_index': 0" in line
    assert abs(int(re.search(r"'offset_ns': (-?\d+)", line).group(1)) - 12_000_000) <= 1_000_000  # type: ignore[union-attr]
    assert "'topic': '/davis/events'" in line
