"""Graph entities -> command lines (real files under a temporary ament prefix)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from microexp.errors import ConfigError
from microexp.rosgraph import NodeSpec, ProcessSpec, entity_argv, find_executable, ros_env


def _prefix(tmp_path: Path) -> Path:
    exe = tmp_path / "prefix" / "lib" / "microexp" / "recorder"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    return tmp_path / "prefix"


def test_node_argv_and_generated_params(tmp_path: Path) -> None:
    prefix = _prefix(tmp_path)
    base = tmp_path / "base.yaml"
    base.write_text("recorder:\n  ros__parameters: {depth: 5}\n")
    spec = NodeSpec(
        package="microexp",
        executable="recorder",
        name="recorder",
        namespace="lab",
        parameters=(base, {"topics": ("/a", "/b"), "depth": 7}),
        remappings=(("x", "/y"),),
    )
    argv = entity_argv(spec, prefixes=[tmp_path / "empty", prefix], params_dir=tmp_path / "p")
    assert argv[:5] == [
        str(prefix / "lib/microexp/recorder"),
        "--ros-args",
        "-r",
        "__node:=recorder",
        "-r",
    ]
    assert argv[5] == "__ns:=/lab"
    files = [argv[i + 1] for i, a in enumerate(argv) if a == "--params-file"]
    assert files[0] == str(base)
    assert yaml.safe_load(Path(files[1]).read_text()) == {
        "/lab/recorder": {"ros__parameters": {"topics": ["/a", "/b"], "depth": 7}}
    }
    assert argv[-2:] == ["-r", "x:=/y"]


def test_process_argv_and_missing_executable(tmp_path: Path) -> None:
    assert entity_argv(
        ProcessSpec(name="p", cmd=("ros2", "bag", "play", "b")), prefixes=[], params_dir=tmp_path
    ) == ["ros2", "bag", "play", "b"]
    with pytest.raises(ConfigError, match=r"metavision_driver/driver_node not found.*sim:=true"):
        find_executable("metavision_driver", "driver_node", [_prefix(tmp_path)])


def test_ros_env_defaults_to_loopback_but_keeps_a_user_choice() -> None:
    assert ros_env({})["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"
    assert (
        ros_env({"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"})["ROS_AUTOMATIC_DISCOVERY_RANGE"]
        == "SUBNET"
    )
    assert os.environ.get("ROS_AUTOMATIC_DISCOVERY_RANGE") in (
        None,
        "LOCALHOST",
        "SUBNET",
        "OFF",
        "SYSTEM_DEFAULT",
    )
