"""The sync monitor node measures a known camera offset at a sync flash and publishes it."""

from __future__ import annotations

import re
import time
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
    time.sleep(1.0)  # the echo's subscription matches the monitor's publisher (volatile QoS)
    ros.script("flash", "flash_pub.py", "12.0").wait_for("done")
    found = mon.wait_for(r"flash 0: /davis/events offset (-?[\d.]+) ms ± 1\.000", timeout_s=20)
    assert abs(float(found.group(1)) - 12.0) <= 1.0  # onset resolution: 1 ms bins
    line = echo.wait_for(r"msg .*").group(0)
    assert "'camera': 'davis'" in line and "'flash_index': 0" in line
    assert abs(int(re.search(r"'offset_ns': (-?\d+)", line).group(1)) - 12_000_000) <= 1_000_000  # type: ignore[union-attr]
    assert "'topic': '/davis/events'" in line


SYNC_PLAN = """\
name: sync_test
description: "three short segments, a flash pair at the start of each"
labels: [AU12, AU45, AU4]
order: fixed
repetitions: 1
timing: {demo_repetitions: 1, demo_clip_s: 0.4, countdown_s: 0.5, neutral_s: 0.0,
         perform_s: 1.0, rest_s: 0.5}
demo_run: {labels: []}
sync:
  pattern: {flashes: 2, on_s: 0.1, off_s: 0.1}
  at_start: false
  per_segment: true
"""
CAMS = {
    "/davis/events": "dv_ros2_msgs/msg/EventArray",
    "/evk4/events": "event_camera_msgs/msg/EventPacket",
    "/webcam/image_raw/compressed": "sensor_msgs/msg/CompressedImage",
}


@pytest.mark.slow
def test_simulated_session_offsets_and_gaps(ros: RosLauncher, tmp_path: Path) -> None:
    """Three simulated cameras play one session from a common start; the DAVIS clock runs 7 ms
    behind, the EVK4 sensor clock 5 ms ahead (its header stamps are host time: seen as ~0) and
    the EVK4 drops 2 % of its packets. The monitor measures each camera at every sync flash
    (events within 1 ms, webcam within one frame period) and counts every dropped seq."""
    from microexp.protocol.events import EventKind, write_events_jsonl
    from microexp.protocol.plan import load_plan
    from microexp.sim.session import SessionSimConfig, simulate_session

    plan = tmp_path / "sync_test.yaml"
    plan.write_text(SYNC_PLAN)
    # every node is up by then; a whole ms, so that the flashes fall on the monitor's 1 ms bins
    start_ns = (time.time_ns() // 1_000_000 + 5_000) * 1_000_000
    session = simulate_session(
        load_plan(plan), SessionSimConfig("P01", seed=0, start_ns=start_ns, flash_gain=2.0)
    )
    flashes = [e for e in session.events if e.kind == EventKind.SYNC_FLASH]
    # the first segment's pair lights the very first frames (no baseline before): left out
    flashes = [e for e in flashes if e.stamp_ns >= start_ns + 1_000_000_000]
    assert len(flashes) == 4
    write_events_jsonl(tmp_path / "flashes.jsonl", flashes)
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"sync_monitor": {"ros__parameters": {
        "topics": list(CAMS), "types": list(CAMS.values()), "report_period_s": 0.2}}}))  # fmt: skip
    mon = ros.node("sync_monitor", "sync_monitor", "--params-file", str(params))
    diag = ros.script("diag", "echo_sub.py", "diagnostic_msgs/msg/DiagnosticArray", "/diagnostics")
    # a screen flash tripling the light on the face: the sensors respond within ~0.6 ms of its onset
    common = ["-p", f"plan:={plan}", "-p", "subject:=P01", "-p", "seed:=0",
              "-p", f"start_ns:={start_ns}", "-p", "flash_gain:=2.0"]  # fmt: skip
    # small sensors keep three simulations with flashes real-time on two loaded cores
    ros.node("sim_davis", "sim_camera", "-p", "camera:=davis", *common, "-p", "width:=173",
             "-p", "height:=130", "-p", "clock_offset_us:=-7000")  # fmt: skip
    evk4 = ros.node("sim_evk4", "sim_camera", "-p", "camera:=evk4", *common, "-p", "width:=160",
                    "-p", "height:=90", "-p", "clock_offset_us:=5000", "-p", "drop_rate:=0.02")  # fmt: skip
    ros.node("sim_webcam", "sim_camera", "-p", "camera:=webcam", *common, "-p", "width:=160",
             "-p", "height:=120", "-p", "compressed:=true")  # fmt: skip
    ros.script("replay", "protocol_replay.py", str(tmp_path / "flashes.jsonl")).wait_for("done 4")
    found = evk4.wait_for(
        r"scene finished: .*dropped (\d+) message\(s\), seqs \[([\d, ]+)\]; published (\d+)",
        timeout_s=60,
    )
    total = int(found.group(1)) + int(found.group(3))
    dropped = [int(s) for s in found.group(2).split(",")]
    kept = sorted(set(range(total)) - set(dropped))
    injected = [s for s in dropped if kept[0] < s < kept[-1]]
    assert len(injected) > 3
    pattern = r"flash (\d): (\S+) offset (-?[\d.]+) ms ± ([\d.]+)"
    mon.wait_for(r"(?s)(flash 3: .*){3}", timeout_s=30)
    offsets = {(int(m[0]), m[1]): float(m[2]) for m in re.findall(pattern, mon.output())}
    assert len(offsets) == 12, mon.output()[-3000:]
    for (_, topic), ms in offsets.items():
        if topic == "/davis/events":
            assert abs(ms - -7.0) <= 1.0, offsets
        elif topic == "/evk4/events":
            assert abs(ms) <= 1.0, offsets
        else:
            assert abs(ms) <= 1000 / 30, offsets  # one webcam frame period
    # the monitor may still be working through its queue on a loaded machine: wait until its
    # diagnostics report the exact count (a wrong count, higher or lower, times out and fails)
    expected = rf"name='sync_monitor: /evk4/events'.*?key='lost_seq', value='{len(injected)}'"
    try:
        diag.wait_for(expected, timeout_s=30)
    except AssertionError as err:
        lost = re.findall(
            r"name='sync_monitor: /evk4/events'.*?key='lost_seq', value='(\d+)'", diag.output()
        )
        raise AssertionError(f"lost_seq never reached {len(injected)}: last {lost[-3:]}") from err
    restarts = re.findall(
        r"name='sync_monitor: /evk4/events'.*?key='publisher_restarts', value='(\d+)'",
        diag.output(),
    )
    assert restarts[-1] == "0"
