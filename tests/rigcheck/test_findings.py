"""The rig check's verdicts on the real config/rig: what is installed (an ament prefix the test lays
out like colcon does) and what a graph shows (the snapshots the rig_check node gathers; the live
tests in tests/ros/test_rig_check.py take them from real nodes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from microexp.rigcheck import (
    CameraExpectation,
    GraphSnapshot,
    PublisherInfo,
    exit_status,
    format_report,
    live_findings,
    rig_expectations,
    static_findings,
)
from microexp.rosgraph import load_rig

RIG_DIR = Path(__file__).resolve().parents[2] / "config" / "rig"


@pytest.fixture(scope="module")
def drivers() -> list[CameraExpectation]:
    return rig_expectations(load_rig(RIG_DIR), cameras=(), sim=False)


def _install(prefix: Path, package: str, executable: str, version: str) -> None:
    exe = prefix / "lib" / package / executable
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    share = prefix / "share" / package
    share.mkdir(parents=True, exist_ok=True)
    (share / "package.xml").write_text(f"<package><version>{version}</version></package>")


def test_expectations_follow_the_rig(drivers: list[CameraExpectation]) -> None:
    davis, evk4, webcam = drivers
    assert (davis.fqn, evk4.fqn, webcam.fqn) == (
        "/dv_ros2_capture",
        "/event_camera",
        "/gscam_publisher",
    )
    assert [(t.name, t.qos, t.must_publish) for t in davis.topics] == [
        ("/davis/events", "reliable", True),
        ("/davis/image", "reliable", False),
        ("/davis/trigger", "reliable", False),
    ]
    assert [(t.name, t.qos) for t in evk4.topics] == [("/evk4/events", "sensor_data")]
    assert evk4.configured["trigger_in_mode"] == "external"
    assert webcam.record is not None and webcam.record.version == "2.0.2"
    sim = rig_expectations(load_rig(RIG_DIR), cameras=("davis",), sim=True)
    assert [t.name for t in sim[0].topics] == ["/davis/events", "/davis/image"]  # no trigger
    assert sim[0].record is None and sim[0].node.executable == "sim_camera"


def test_installed_drivers_pass_and_missing_ones_say_how_to_get_them(
    tmp_path: Path, drivers: list[CameraExpectation]
) -> None:
    prefix = tmp_path / "install"
    _install(prefix, "dv_ros2_capture", "dv_ros2_capture_node", "0.0.0")
    _install(prefix, "metavision_driver", "driver_node", "3.0.0")
    _install(prefix, "gscam", "gscam_node", "2.0.2")
    assert static_findings(drivers, prefixes=[prefix]) == []
    shutil.rmtree(prefix / "lib" / "gscam")
    (finding,) = static_findings(drivers, prefixes=[prefix])
    assert (finding.severity, finding.camera) == ("error", "webcam")
    assert (
        "gscam/gscam_node" in finding.subject and "apt install ros-$ROS_DISTRO-gscam" in finding.fix
    )
    assert exit_status([finding], strict=False) == 1
    report = format_report([finding], expectations=drivers, live=False)
    assert report.splitlines()[-1].startswith("rig check FAILED (cameras davis, evk4, webcam)")


def test_another_driver_version_is_a_warning_unless_strict(
    tmp_path: Path, drivers: list[CameraExpectation]
) -> None:
    prefix = tmp_path / "install"
    _install(prefix, "dv_ros2_capture", "dv_ros2_capture_node", "0.0.0")
    _install(prefix, "metavision_driver", "driver_node", "3.1.0")
    _install(prefix, "gscam", "gscam_node", "2.0.2")
    (finding,) = static_findings(drivers, prefixes=[prefix])
    assert finding.severity == "warning" and "installed 3.1.0" in finding.problem
    assert "tools/driver_params.py metavision_driver" in finding.fix
    assert exit_status([finding], strict=False) == 0
    assert exit_status([finding], strict=True) == 1


def _healthy(drivers: list[CameraExpectation]) -> GraphSnapshot:
    pubs = {
        "/davis/events": ("/dv_ros2_capture", "dv_ros2_msgs/msg/EventArray", True),
        "/davis/image": ("/dv_ros2_capture", "sensor_msgs/msg/Image", True),
        "/davis/trigger": ("/dv_ros2_capture", "dv_ros2_msgs/msg/Trigger", True),
        "/evk4/events": ("/event_camera", "event_camera_msgs/msg/EventPacket", False),
        "/webcam/image_raw/compressed": (
            "/gscam_publisher",
            "sensor_msgs/msg/CompressedImage",
            True,
        ),
    }
    return GraphSnapshot(
        nodes=frozenset(e.fqn for e in drivers) | {"/rig_check"},
        params={e.fqn: frozenset(e.configured) | {"use_sim_time"} for e in drivers},
        publishers={t: (PublisherInfo(n, ty, rel, False),) for t, (n, ty, rel) in pubs.items()},
        received={"/davis/events": 3, "/evk4/events": 40, "/webcam/image_raw/compressed": 2},
        waited_s=1.5,
    )


def test_a_healthy_graph_passes(drivers: list[CameraExpectation]) -> None:
    snap = _healthy(drivers)
    assert live_findings(drivers, snap) == []
    report = format_report([], expectations=drivers, live=True)
    assert report == (
        "rig check OK (cameras davis, evk4, webcam): running and publishing; "
        "5 topic(s) with the expected type and QoS"
    )


def test_each_fault_is_named_with_a_fix(drivers: list[CameraExpectation]) -> None:
    snap = _healthy(drivers)
    broken = GraphSnapshot(
        nodes=snap.nodes - {"/gscam_publisher"},
        params={**snap.params, "/event_camera": snap.params["/event_camera"] - {"serial"}},
        publishers={
            **snap.publishers,
            # gscam with use_sensor_data_qos would offer best effort; here the DAVIS does
            "/davis/events": (
                PublisherInfo("/dv_ros2_capture", "dv_ros2_msgs/msg/EventArray", False, False),
            ),
            "/davis/image": (),
            "/evk4/events": (PublisherInfo("/other", "sensor_msgs/msg/Image", False, False),),
        },
        received={"/davis/events": 0},
        waited_s=20.0,
    )
    found = {(f.camera, f.subject): f for f in live_findings(drivers, broken)}
    assert set(found) == {
        ("davis", "/davis/events"),
        ("davis", "/davis/image"),
        ("evk4", "parameter serial"),
        ("evk4", "/evk4/events"),
        ("webcam", "node /gscam_publisher"),
    }
    assert all(f.severity == "error" for f in found.values())
    qos = [f for f in live_findings(drivers, broken) if f.subject == "/davis/events"]
    assert [f.problem for f in qos] == [
        "/dv_ros2_capture offers best_effort, volatile; rig.yaml expects reliable "
        "(reliable, volatile)",
        "no message within 20 s",
    ]
    assert "remapped from 'camera/frame'" in found[("davis", "/davis/image")].fix
    assert "published as sensor_msgs/msg/Image" in found[("evk4", "/evk4/events")].problem
    assert "ignores the configured value" in found[("evk4", "parameter serial")].problem
    assert "evk4.yaml" in found[("evk4", "parameter serial")].fix
    gone = found[("webcam", "node /gscam_publisher")]
    assert (
        "not running after 20 s" in gone.problem and "/webcam/image_raw/compressed" in gone.problem
    )
    assert "gscam/gscam_node" in gone.fix


def test_unlisted_parameters_are_a_warning(drivers: list[CameraExpectation]) -> None:
    snap = _healthy(drivers)
    partial = GraphSnapshot(
        nodes=snap.nodes,
        params={k: v for k, v in snap.params.items() if k != "/event_camera"},
        publishers=snap.publishers,
        received=snap.received,
        waited_s=snap.waited_s,
    )
    (finding,) = live_findings(drivers, partial)
    assert finding.severity == "warning" and finding.subject == "parameters of /event_camera"
