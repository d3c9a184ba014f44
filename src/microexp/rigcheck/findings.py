"""Compare the rig's expectations with what is installed (ROS-free) and with what the running graph
shows (a :class:`GraphSnapshot` that the ``rig_check`` node gathers); every problem comes with how
to fix it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from microexp.errors import ConfigError
from microexp.rigcheck.driver_params import check_node_params
from microexp.rigcheck.expect import QOS_OFFERED, CameraExpectation
from microexp.rosgraph.process import find_executable

__all__ = [
    "Finding",
    "GraphSnapshot",
    "PublisherInfo",
    "exit_status",
    "format_report",
    "live_findings",
    "static_findings",
]

Severity = Literal["error", "warning"]

PARAMS_GRACE_S = 10.0
"""How long the check keeps asking a running node for its parameters before it reports that it
could not list them (a warning) instead of waiting for the full timeout."""

_BUILD_OURS = "run tools/setup_ros.sh and source .ros_build/setup.bash (or colcon build ros2_ws)"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    camera: str
    subject: str  # what is wrong: an executable, a parameter, a topic, a node
    problem: str
    fix: str
    settled: bool = True  # False: waiting longer could clear it (a node or message still to come)


@dataclass(frozen=True)
class PublisherInfo:
    node: str  # fully qualified name of the publishing node
    msgtype: str
    reliable: bool
    transient_local: bool


@dataclass(frozen=True)
class GraphSnapshot:
    """What the running graph showed after ``waited_s`` seconds."""

    nodes: frozenset[str]
    params: Mapping[str, frozenset[str]]  # node -> its declared parameters (absent: not listed)
    publishers: Mapping[str, tuple[PublisherInfo, ...]]  # topic -> its publishers
    received: Mapping[str, int]  # topic -> messages received by the check
    waited_s: float
    notes: tuple[str, ...] = field(default=())


def _install_hint(exp: CameraExpectation) -> str:
    if exp.node.package == "microexp":
        return _BUILD_OURS
    if exp.record is not None and exp.record.install:
        return exp.record.install + "; then source its setup.bash"
    return "build or install the driver (README, 'Native ROS 2'), then source its setup.bash"


def _installed_version(package: str, prefixes: Sequence[Path]) -> str | None:
    for prefix in prefixes:
        xml = prefix / "share" / package / "package.xml"
        if xml.is_file():
            m = re.search(r"<version>([^<]+)</version>", xml.read_text(encoding="utf-8"))
            return m.group(1) if m else None
    return None


def static_findings(
    expectations: Sequence[CameraExpectation], *, prefixes: Sequence[Path]
) -> list[Finding]:
    """What can be checked without a running graph: each node's executable is installed under
    ``prefixes`` (AMENT_PREFIX_PATH), its installed version is the one whose parameters were
    recorded, and every configured key is a parameter the driver declares or reads there."""
    out: list[Finding] = []
    for exp in expectations:
        node = exp.node
        try:
            find_executable(node.package, node.executable, prefixes)
        except ConfigError:
            out.append(
                Finding(
                    "error",
                    exp.camera,
                    f"executable {node.package}/{node.executable}",
                    "not installed under AMENT_PREFIX_PATH",
                    _install_hint(exp),
                )
            )
        if exp.sim:
            continue
        if exp.record is None:
            out.append(
                Finding(
                    "warning",
                    exp.camera,
                    f"parameters of {node.package}",
                    "no recorded parameter list: keys are not compared with the driver's source",
                    f"record one: python tools/driver_params.py {node.package} CHECKOUT "
                    f"(add a rule for the driver first)",
                )
            )
            continue
        installed = _installed_version(node.package, prefixes)
        if installed is not None and installed != exp.record.version:
            out.append(
                Finding(
                    "warning",
                    exp.camera,
                    f"{node.package} version",
                    f"installed {installed}, but its parameters were recorded from "
                    f"{exp.record.version} ({exp.record.commit[:7]})",
                    f"re-record them from that version's source: python tools/driver_params.py "
                    f"{node.package} CHECKOUT -o {exp.record.path}",
                )
            )
        for path in node.param_files():
            for key, problem in check_node_params(
                params_file=path, node_name=node.name, record=exp.record
            ):
                out.append(
                    Finding(
                        "error",
                        exp.camera,
                        f"parameter {key} ({path.name})",
                        problem,
                        f"fix or remove the key in {path}",
                    )
                )
    return out


def _qos_text(reliable: bool, transient_local: bool) -> str:
    return ("reliable" if reliable else "best_effort") + (
        ", transient_local" if transient_local else ", volatile"
    )


def _node_findings(exp: CameraExpectation, snap: GraphSnapshot) -> list[Finding]:
    if exp.fqn not in snap.nodes:
        topics = ", ".join(t.name for t in exp.topics)
        how = (
            "the record graph starts it with sim:=true (microexp launch record sim:=true)"
            if exp.sim
            else "if it was started, read its log: a driver exits when it cannot open the "
            "camera (USB cable, udev rules, another process holding the camera)"
        )
        return [
            Finding(
                "error",
                exp.camera,
                f"node {exp.fqn}",
                f"not running after {snap.waited_s:.0f} s (so nothing publishes {topics})",
                f"start {exp.node.package}/{exp.node.executable} as {exp.fqn}; {how}",
                settled=False,
            )
        ]
    declared = snap.params.get(exp.fqn)
    if declared is None:
        return [
            Finding(
                "warning",
                exp.camera,
                f"parameters of {exp.fqn}",
                "could not be listed (its parameter services did not answer)",
                "check again when the node is idle: ros2 param list " + exp.fqn,
                # a loaded node may not answer for long: past the grace time, report and go on
                settled=snap.waited_s >= PARAMS_GRACE_S,
            )
        ]
    return [
        Finding(
            "error",
            exp.camera,
            f"parameter {key}",
            f"the running {exp.fqn} does not know it, so it ignores the configured value",
            "fix the key in " + ", ".join(str(p) for p in exp.node.param_files()),
            settled=False,  # a node may declare late (gscam, on its pipeline thread)
        )
        for key in sorted(set(exp.configured) - declared)
    ]


def _topic_findings(exp: CameraExpectation, snap: GraphSnapshot) -> list[Finding]:
    out = []
    for topic in exp.topics:
        pubs = snap.publishers.get(topic.name, ())
        if not pubs:
            remapped = [src for src, dst in exp.node.remappings if dst == topic.name]
            out.append(
                Finding(
                    "error",
                    exp.camera,
                    topic.name,
                    "nobody publishes it",
                    (
                        f"{exp.fqn} should publish it (remapped from {remapped[0]!r}); "
                        "check the remapping in rig.yaml and that the stream is enabled in "
                        "its parameters"
                    )
                    if remapped
                    else f"check that {exp.fqn} publishes it (rig.yaml topics)",
                    settled=False,
                )
            )
            continue
        wrong = sorted({p.msgtype for p in pubs if p.msgtype != topic.msgtype})
        if wrong:
            out.append(
                Finding(
                    "error",
                    exp.camera,
                    topic.name,
                    f"published as {', '.join(wrong)}, expected {topic.msgtype}",
                    "a different driver or driver version publishes there: install the pinned "
                    "one, or correct the type in rig.yaml",
                )
            )
        if topic.qos in QOS_OFFERED:
            want = QOS_OFFERED[topic.qos]
            for p in pubs:
                if (p.reliable, p.transient_local) != want:
                    out.append(
                        Finding(
                            "error",
                            exp.camera,
                            topic.name,
                            f"{p.node} offers {_qos_text(p.reliable, p.transient_local)}; "
                            f"rig.yaml expects {topic.qos} ({_qos_text(*want)})",
                            "set qos in rig.yaml to what the driver offers, or the driver's QoS "
                            "parameter (e.g. gscam use_sensor_data_qos) to what rig.yaml says",
                        )
                    )
        if topic.must_publish and not snap.received.get(topic.name) and not wrong:
            out.append(
                Finding(
                    "error",
                    exp.camera,
                    topic.name,
                    f"no message within {snap.waited_s:.0f} s",
                    "is the camera connected, powered and seeing light? read the driver's log "
                    "(a DAVIS with a non-empty sync_device_list waits for those cameras forever)",
                    settled=False,
                )
            )
    return out


def live_findings(
    expectations: Sequence[CameraExpectation], snapshot: GraphSnapshot
) -> list[Finding]:
    """Every way the running graph differs from the expectations."""
    out: list[Finding] = []
    for exp in expectations:
        out += _node_findings(exp, snapshot)
        if exp.fqn in snapshot.nodes:
            out += _topic_findings(exp, snapshot)
    return out


def format_report(
    findings: Sequence[Finding], *, expectations: Sequence[CameraExpectation], live: bool
) -> str:
    """A report for people: one block per finding, then a verdict line."""
    errors = [f for f in findings if f.severity == "error"]
    warnings = [f for f in findings if f.severity == "warning"]
    lines = []
    for f in [*errors, *warnings]:
        lines.append(f"{f.severity.upper()}: {f.camera}: {f.subject}: {f.problem}")
        lines.append(f"    fix: {f.fix}")
    cams = ", ".join(e.camera for e in expectations) or "none"
    kind = "simulated cameras" if any(e.sim for e in expectations) else "cameras"
    what = "installed and configured" if not live else "running and publishing"
    if errors:
        lines.append(
            f"rig check FAILED ({kind} {cams}): {len(errors)} problem(s), "
            f"{len(warnings)} warning(s)"
        )
    else:
        topics = sum(len(e.topics) for e in expectations)
        lines.append(
            f"rig check OK ({kind} {cams}): {what}"
            + (f"; {topics} topic(s) with the expected type and QoS" if live else "")
            + (f"; {len(warnings)} warning(s)" if warnings else "")
        )
    return "\n".join(lines)


def exit_status(findings: Sequence[Finding], *, strict: bool) -> int:
    """0 when the rig is ready, 1 when a finding is an error (or, with ``strict``, a warning)."""
    failing = ("error", "warning") if strict else ("error",)
    return 1 if any(f.severity in failing for f in findings) else 0
