"""Turn a launch graph into processes without ``ros2 launch``: the installed executables under the
ament prefixes, started with ``--ros-args``; SIGINT is forwarded and every child is reaped."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from microexp.errors import ConfigError
from microexp.rosgraph.spec import GATE_ROLE, LaunchEntity, ProcessSpec

__all__ = ["GraphRunner", "ament_prefixes", "entity_argv", "find_executable", "ros_env"]

log = logging.getLogger(__name__)


def ament_prefixes(env: Mapping[str, str]) -> list[Path]:
    return [Path(p) for p in env.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]


def ros_env(base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with loopback-only discovery unless the user chose otherwise."""
    env = dict(base)
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    return env


def find_executable(package: str, executable: str, prefixes: Sequence[Path]) -> Path:
    for prefix in prefixes:
        path = prefix / "lib" / package / executable
        if path.is_file() and os.access(path, os.X_OK):
            return path
    hint = (
        " (drivers: build ros2_ws/drivers.repos, or use sim:=true)"
        if package != "microexp"
        else (" (run tools/setup_ros.sh and source .ros_build/setup.bash)")
    )
    raise ConfigError(
        f"executable {package}/{executable} not found under AMENT_PREFIX_PATH "
        f"{[str(p) for p in prefixes]}{hint}"
    )


def _yaml_value(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def entity_argv(entity: LaunchEntity, *, prefixes: Sequence[Path], params_dir: Path) -> list[str]:
    """The command line of one graph entity (dict parameters go to a YAML file in ``params_dir``)."""
    if isinstance(entity, ProcessSpec):
        return list(entity.cmd)
    exe = find_executable(entity.package, entity.executable, prefixes)
    argv = [str(exe), "--ros-args", "-r", f"__node:={entity.name}"]
    if entity.namespace:
        argv += ["-r", f"__ns:=/{entity.namespace.strip('/')}"]
    for path in entity.param_files():
        argv += ["--params-file", str(path)]
    params = entity.param_dict()
    if params:
        params_dir.mkdir(parents=True, exist_ok=True)
        path = params_dir / f"{entity.fqn.strip('/').replace('/', '__')}.yaml"
        doc = {entity.fqn: {"ros__parameters": {k: _yaml_value(v) for k, v in params.items()}}}
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        argv += ["--params-file", str(path)]
    for src, dst in entity.remappings:
        argv += ["-r", f"{src}:={dst}"]
    return argv


@dataclass
class GraphRunner:
    """Start every entity of a graph; :meth:`wait` until SIGINT/SIGTERM or until a ``stop_on`` role
    exits; :meth:`stop` sends SIGINT (then SIGKILL after ``grace_s``) in reverse start order.

    A gate (role :data:`GATE_ROLE`, the rig check) holds back what follows it: :meth:`start`
    waits for it, and when it fails stops what it started; :meth:`wait` then returns its status."""

    graph: Sequence[LaunchEntity]
    env: Mapping[str, str]
    params_dir: Path
    grace_s: float = 15.0
    procs: list[tuple[LaunchEntity, subprocess.Popen[bytes]]] = field(default_factory=list)
    gate_status: int = 0

    def commands(self) -> list[list[str]]:
        prefixes = ament_prefixes(self.env)
        return [entity_argv(e, prefixes=prefixes, params_dir=self.params_dir) for e in self.graph]

    def start(self) -> None:
        cmds = self.commands()  # resolve everything before starting anything
        for entity, argv in zip(self.graph, cmds, strict=True):
            extra = entity.env if isinstance(entity, ProcessSpec) else {}
            log.info("start %s: %s", entity.name, " ".join(argv))
            # own session: a terminal's Ctrl-C reaches only us, and we forward it once
            popen = subprocess.Popen(argv, env={**self.env, **extra}, start_new_session=True)
            self.procs.append((entity, popen))
            if entity.role == GATE_ROLE and not self._passed(entity, popen):
                return

    def _passed(self, gate: LaunchEntity, popen: subprocess.Popen[bytes]) -> bool:
        """Wait for the gate; on failure (or Ctrl-C) stop everything started so far."""
        try:
            status = popen.wait()
        except KeyboardInterrupt:
            self.stop()
            raise
        if status == 0:
            return True
        log.error(
            "%s failed (exit %d): nothing more is started; its report above says what to fix",
            gate.name,
            status,
        )
        self.gate_status = status
        self.stop()
        return False

    def wait(
        self,
        *,
        stop_on: Sequence[str] = ("recorder", "protocol"),
        poll_s: float = 0.2,
        settle_s: float = 1.0,
    ) -> int:
        """Block until interrupted or a ``stop_on`` role (or every process) exits; then stop all
        (after ``settle_s``, so that the recorder receives the last messages of the session).
        Returns 0, or the first non-zero exit status of a process that ended by itself."""
        if self.gate_status:
            return self.gate_status
        interrupted = False

        def _on_signal(_signum: int, _frame: object) -> None:
            nonlocal interrupted
            interrupted = True

        old = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        status = 0
        try:
            while not interrupted:
                ended = [(e, p) for e, p in self.procs if p.poll() is not None]
                for e, p in ended:
                    if p.returncode and not status:
                        log.error("%s exited with status %d", e.name, p.returncode)
                        status = p.returncode
                if any(e.role in stop_on for e, _ in ended) or len(ended) == len(self.procs):
                    time.sleep(settle_s)
                    break
                time.sleep(poll_s)
        finally:
            self.stop()
            for s, handler in old.items():
                signal.signal(s, handler)
        return status

    def stop(self) -> None:
        live = [(e, p) for e, p in reversed(self.procs) if p.poll() is None]
        for _, p in live:
            p.send_signal(signal.SIGINT)
        deadline = time.monotonic() + self.grace_s
        for e, p in live:
            try:
                p.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0f s: killing it", e.name, self.grace_s)
                p.kill()
                p.wait()
