"""``microexp rig check`` and the record graph's check before it records, live against simulated
cameras (``sim_camera`` nodes with the rig's own sim.yaml): a healthy graph passes; a missing,
silent, wrongly typed or wrongly QoS'd camera fails with the reason and how to fix it; the record
launch (``microexp launch record`` and ``ros2 launch``) then refuses to record."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, RosLauncher, RosProc

pytestmark = pytest.mark.ros

RIG_DIR = ROOT / "config" / "rig"
SIM_YAML = RIG_DIR / "sim.yaml"


def _sim(ros: RosLauncher, camera: str, *extra: str) -> RosProc:
    return ros.node(f"sim_{camera}", "sim_camera", "--params-file", str(SIM_YAML), *extra)


def _publishing(*procs: RosProc) -> None:
    """Started together, waited for together (each imports and renders for seconds)."""
    for proc in procs:
        proc.wait_for(r"sim_camera \w+ .*publishing", timeout_s=60)


def _rig_check(ros: RosLauncher, *args: str, timeout_s: float = 120) -> tuple[int, str]:
    proc = ros.start(
        "rig_check", [sys.executable, "-m", "microexp.cli.main", "rig", "check", *args]
    )
    try:
        status = proc.popen.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.interrupt()
        raise AssertionError(f"rig check still running after {timeout_s} s:\n{proc.output()}")  # noqa: B904
    return int(status), proc.output()


@pytest.mark.slow
def test_healthy_simulated_cameras_pass(ros: RosLauncher) -> None:
    _publishing(*(_sim(ros, camera) for camera in ("davis", "evk4", "webcam")))
    status, out = _rig_check(ros, "--sim", "--timeout-s", "60")
    assert status == 0, out
    assert "rig check OK (simulated cameras davis, evk4, webcam): running and publishing" in out
    assert "4 topic(s) with the expected type and QoS" in out
    assert "ERROR" not in out


@pytest.mark.slow
def test_missing_silent_mistyped_and_wrong_qos_cameras_fail_with_fixes(ros: RosLauncher) -> None:
    # DAVIS: up, but every message dropped (the simulator drops all but one in 10 million messages): silent
    davis = _sim(ros, "davis", "-p", "drop_rate:=0.9999999")
    # EVK4: the simulator's topic moved away; in its place a reliable EventArray publisher
    evk4 = _sim(ros, "evk4", "-r", "/evk4/events:=/evk4/elsewhere")
    wrong = ros.script(
        "wrong", "fixture_pub.py", "event_array", "/evk4/events", "--count", "100000",
        "--period", "0.05", "--qos", "reliable",
    )  # fmt: skip
    wrong.wait_for("published 0")
    _publishing(davis, evk4)
    # webcam: never started
    status, out = _rig_check(ros, "--sim", "--timeout-s", "12")
    assert status == 1, out
    assert "ERROR: davis: /davis/events: no message within 12 s" in out
    assert "ERROR: evk4: /evk4/events: published as dv_ros2_msgs/msg/EventArray, expected " \
        "event_camera_msgs/msg/EventPacket" in out  # fmt: skip
    assert re.search(
        r"ERROR: evk4: /evk4/events: /fixture_pub\w* offers reliable, volatile; rig.yaml "
        r"expects sensor_data \(best_effort, volatile\)",
        out,
    )
    assert "ERROR: webcam: node /sim_webcam: not running after 12 s" in out
    assert out.count("    fix: ") >= 4
    assert "rig check FAILED (simulated cameras davis, evk4, webcam): 4 problem(s)" in out
    # what the simulated DAVIS does publish is fine: its grey frames
    assert "/davis/image" not in out


@pytest.mark.slow
def test_a_parameter_the_running_camera_node_does_not_know_fails(
    ros: RosLauncher, tmp_path: Path
) -> None:
    rig = tmp_path / "rig"
    shutil.copytree(RIG_DIR, rig)
    sim = yaml.safe_load(SIM_YAML.read_text())
    sim["sim_webcam"]["ros__parameters"]["frame_rate"] = 30.0  # the node's parameter is fps
    (rig / "sim.yaml").write_text(yaml.safe_dump(sim))
    webcam = ros.node("sim_webcam", "sim_camera", "--params-file", str(rig / "sim.yaml"))
    _publishing(webcam)
    status, out = _rig_check(
        ros, "--sim", "--cameras", "webcam", "--rig", str(rig), "--timeout-s", "8"
    )
    assert status == 1, out
    assert "ERROR: webcam: parameter frame_rate: the running /sim_webcam does not know it" in out
    assert f"fix: fix the key in {rig / 'sim.yaml'}" in out
    assert "1 problem(s)" in out


def test_offline_check_finds_a_misspelt_driver_key(tmp_path: Path, ros_env: dict[str, str]) -> None:
    rig = tmp_path / "rig"
    shutil.copytree(RIG_DIR, rig)
    evk4 = rig / "evk4.yaml"
    evk4.write_text(evk4.read_text().replace("trigger_in_mode:", "trigger_in_mod:"))
    proc = subprocess.run(
        [sys.executable, "-m", "microexp.cli.main", "rig", "check", "--offline", "--rig", str(rig)],
        env=ros_env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert (
        "ERROR: evk4: parameter trigger_in_mod (evk4.yaml): metavision_driver 3.0.0" in proc.stdout
    )
    assert "did you mean 'trigger_in_mode'?" in proc.stdout
    # the drivers are not installed here: each says how to get it
    assert "executable gscam/gscam_node: not installed" in proc.stdout


def _silent_davis_rig(tmp_path: Path) -> Path:
    """A copy of config/rig whose simulated DAVIS drops every message, checked for 5 s."""
    rig = tmp_path / "rig"
    shutil.copytree(RIG_DIR, rig)
    sim = yaml.safe_load(SIM_YAML.read_text())
    sim["sim_davis"]["ros__parameters"]["drop_rate"] = 0.9999999
    (rig / "sim.yaml").write_text(yaml.safe_dump(sim))
    check = yaml.safe_load((rig / "rig_check.yaml").read_text())
    check["rig_check"]["ros__parameters"]["timeout_s"] = 5.0
    (rig / "rig_check.yaml").write_text(yaml.safe_dump(check))
    return rig


@pytest.mark.slow
def test_launch_record_refuses_to_record_when_the_check_fails(
    ros: RosLauncher, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    launch = ros.start(
        "launch",
        [
            sys.executable, "-m", "microexp.cli.main", "launch", "record", "--rig",
            str(_silent_davis_rig(tmp_path)), "sim:=true", "cameras:=davis", "consent:=true",
            f"output_dir:={out}", "subject:=P01",
        ],
    )  # fmt: skip
    status = launch.popen.wait(120)
    text = launch.output()
    assert status == 1, text
    assert "ERROR: davis: /davis/events: no message within 5 s" in text
    assert "rig_check failed (exit 1): nothing more is started" in text
    assert not out.exists()  # no recorder ran, no bag
    assert "[recorder]" not in text and "[protocol" not in text


@pytest.mark.slow
def test_ros2_launch_refuses_to_record_when_a_camera_topic_has_the_wrong_qos(
    ros: RosLauncher, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    # a reliable EventPacket publisher beside the simulated EVK4 (metavision_driver: best effort)
    intruder = ros.script(
        "intruder", "fixture_pub.py", "event_packet", "/evk4/events", "--count", "100000",
        "--period", "0.05", "--qos", "reliable",
    )  # fmt: skip
    intruder.wait_for("published 0")
    launch = ros.start(
        "ros2_launch",
        [
            "ros2", "launch", "microexp", "record.launch.py", "sim:=true", "cameras:=evk4",
            "consent:=true", f"output_dir:={out}", "subject:=P02",
        ],
    )  # fmt: skip
    launch.wait_for(r"rig_check failed \(exit 1\): not recording", timeout_s=120)
    assert launch.popen.wait(60) == 1
    text = launch.output()
    assert re.search(
        r"/fixture_pub\w* offers reliable, volatile; rig.yaml expects sensor_data", text
    )
    assert not out.exists()
    assert "recorder-" not in text  # launch names processes <executable>-<n>: never started


def test_bad_arguments_are_reported_before_anything_runs(
    tmp_path: Path, ros_env: dict[str, str]
) -> None:
    def check(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "microexp.cli.main", "rig", "check", *args],
            env=ros_env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    proc = check("--rig", str(tmp_path / "nowhere"))
    assert proc.returncode == 1
    assert proc.stderr.startswith("ERROR: ") and "nowhere/rig.yaml" in proc.stderr
    proc = check("--cameras", "davis,thermal")
    assert proc.returncode == 1 and "unknown camera(s) ['thermal']" in proc.stderr
