"""ament_python package of the microexp ROS nodes.

launch/ and config/ live at the repository root (one copy for ROS and non-ROS users); they are
installed into share/microexp from there. The repository layout (ros2_ws/src/microexp) is fixed.
"""

import os
from glob import glob

from setuptools import find_packages, setup

PACKAGE = "microexp"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))


def _repo_files(pattern: str) -> list[str]:
    """Files of the repository root matching pattern, as paths relative to this directory."""
    return sorted(
        os.path.relpath(p, HERE) for p in glob(os.path.join(REPO, pattern)) if os.path.isfile(p)
    )


def _config_tree() -> list[tuple[str, list[str]]]:
    entries: dict[str, list[str]] = {}
    for path in glob(os.path.join(REPO, "config", "**", "*.yaml"), recursive=True):
        rel_dir = os.path.relpath(os.path.dirname(path), REPO)
        entries.setdefault(os.path.join("share", PACKAGE, rel_dir), []).append(
            os.path.relpath(path, HERE)
        )
    return sorted((k, sorted(v)) for k, v in entries.items())


os.chdir(HERE)  # data_files are resolved relative to the working directory
setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test"]),
    data_files=[
        ("share/ament_index/resource_index/packages", ["resource/" + PACKAGE]),
        ("share/" + PACKAGE, ["package.xml"]),
        ("share/" + PACKAGE + "/launch", _repo_files("launch/*.launch.py")),
        *_config_tree(),
    ],
    install_requires=["setuptools"],
    zip_safe=True,
    maintainer="microexp maintainers",
    maintainer_email="maintainers@microexp.dev",
    description="Thin rclpy nodes of the microexp stack over the ROS-free microexp core.",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [
            "protocol_node = microexp_ros.protocol_node:main",
            "operator = microexp_ros.operator_console:main",
            "sim_camera = microexp_ros.sim_camera_node:main",
            "inference_node = microexp_ros.inference_node:main",
            "recorder = microexp_ros.recorder_node:main",
            "sync_monitor = microexp_ros.sync_monitor_node:main",
            "rig_check = microexp_ros.rig_check_node:main",
            "player = microexp_ros.player_node:main",
        ],
    },
)
