"""Live ROS 2 tests: real processes, real Fast DDS on loopback, real bags.

Skipped (with the reason) when rclpy or the colcon build (``tools/setup_ros.sh``) is absent. Every
test gets its own ``ROS_DOMAIN_ID`` and ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST``; every process
it starts is stopped with SIGINT (then SIGKILL) at teardown.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROS_BUILD = ROOT / ".ros_build"
INSTALL = ROS_BUILD / "install"
SETUP = ROS_BUILD / "setup.bash"
NODES = Path(__file__).resolve().parent / "nodes"

_domains = itertools.count()


def _skip_reason() -> str | None:
    if importlib.util.find_spec("rclpy") is None:
        return "rclpy is not installed (run tools/setup_ros.sh)"
    if not SETUP.is_file() or not (INSTALL / "microexp_msgs").is_dir():
        return f"no colcon build in {ROS_BUILD} (run tools/setup_ros.sh)"
    return None


@pytest.fixture(scope="session")
def ros_base_env() -> dict[str, str]:
    """The environment of ``. .ros_build/setup.bash`` (captured once per session)."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    out = subprocess.run(
        ["bash", "-c", f'. "{SETUP}" >/dev/null && env -0'],
        check=True,
        capture_output=True,
        cwd=ROOT,
    ).stdout
    env = dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def domain_id_for(pid: int, n: int) -> int:
    """A ROS_DOMAIN_ID in 1..101 from the process id and a per-process counter (parallel pytest
    processes and consecutive tests never share one in practice)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").lstrip("gw") or "0"
    return 1 + (pid * 13 + int(worker) * 29 + n) % 101


@pytest.fixture
def ros_env(ros_base_env: dict[str, str]) -> dict[str, str]:
    env = dict(ros_base_env)
    env["ROS_DOMAIN_ID"] = str(domain_id_for(os.getpid(), next(_domains)))
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env.pop("ROS_STATIC_PEERS", None)
    return env


@dataclass
class RosProc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_for(self, pattern: str, *, timeout_s: float = 20.0) -> re.Match[str]:
        """Wait until the process output matches ``pattern`` (fails with the output otherwise)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            m = re.search(pattern, self.output())
            if m:
                return m
            if self.popen.poll() is not None:
                m = re.search(pattern, self.output())
                if m:
                    return m
                break
            time.sleep(0.05)
        raise AssertionError(
            f"{self.name}: no /{pattern}/ within {timeout_s} s "
            f"(exit {self.popen.poll()}):\n{self.output()[-4000:]}"
        )

    def interrupt(self, *, timeout_s: float = 15.0) -> int:
        """SIGINT, wait for the exit status (SIGKILL after ``timeout_s``)."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return int(self.popen.returncode)


@dataclass
class RosLauncher:
    env: dict[str, str]
    logdir: Path
    procs: list[RosProc] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str | Path]) -> RosProc:
        log = self.logdir / f"{name}.log"
        with log.open("wb") as fh:
            popen = subprocess.Popen(
                [str(a) for a in argv],
                env=self.env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                cwd=self.logdir,
            )
        proc = RosProc(name, popen, log)
        self.procs.append(proc)
        return proc

    def node(self, name: str, executable: str, *ros_args: str) -> RosProc:
        """Start an installed microexp executable with ``--ros-args ...``."""
        exe = INSTALL / "microexp" / "lib" / "microexp" / executable
        return self.start(name, [exe, "--ros-args", "-r", f"__node:={name}", *ros_args])

    def script(self, name: str, script: str, *args: str) -> RosProc:
        """Start a helper node from tests/ros/nodes/."""
        return self.start(name, [sys.executable, NODES / script, *args])

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.interrupt(timeout_s=5)


@pytest.fixture
def ros(ros_env: dict[str, str], tmp_path: Path) -> Iterator[RosLauncher]:
    launcher = RosLauncher(ros_env, tmp_path)
    try:
        yield launcher
    finally:
        launcher.stop_all()
