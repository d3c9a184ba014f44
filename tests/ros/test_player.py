"""``microexp play``, live: the real recording and a bag written here are republished complete, in
order, at the recorded pace (and at a rate factor), with the drivers' QoS; loop and Ctrl-C."""

from __future__ import annotations

import hashlib
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from microexp.bagio import messages as M
from microexp.bagio.reader import open_bag
from microexp.bagio.typestore import build_typestore
from microexp.bagio.writer import BagWriter

from .conftest import RosLauncher, RosProc

pytestmark = pytest.mark.ros

REAL_TOPIC = "/event_camera/events"
PACKET = "event_camera_msgs/msg/EventPacket"


def _play(ros: RosLauncher, name: str, bag: Path, *options: str) -> RosProc:
    return ros.start(name, [sys.executable, "-m", "microexp.cli.main", "play", str(bag), *options])


def _arrivals(sub: RosProc, topic: str) -> list[tuple[int, str]]:
    """(monotonic ns, digest) of every message the helper received on ``topic``."""
    out = []
    for line in sub.output().splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] == "rx" and parts[1] == topic:
            out.append((int(parts[2]), parts[4]))
    return out


def _bag_stream(bag: Path, topic: str) -> list[tuple[int, str]]:
    with open_bag(bag) as reader:
        return [(r.log_time_ns, hashlib.sha256(bytes(r.data)).hexdigest()[:16])
                for r in reader.messages(topics=[topic])]  # fmt: skip


def _wait_count(sub: RosProc, topic: str, n: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while len(_arrivals(sub, topic)) < n:
        assert time.monotonic() < deadline, f"{len(_arrivals(sub, topic))} of {n} on {topic}"
        time.sleep(0.1)


def _wait_exit(proc: RosProc, timeout_s: float) -> int:
    try:
        return int(proc.popen.wait(timeout_s))
    except subprocess.TimeoutExpired:
        proc.interrupt()
        raise AssertionError(  # noqa: B904 - the timeout is the failure
            f"{proc.name} still running after {timeout_s} s:\n{proc.output()[-4000:]}"
        )


def _assert_paced(arrivals: list[int], log_times: list[int], rate: float) -> None:
    """Arrival gaps follow the log-time gaps / rate. Robust under load: the player never sends
    early, so each message's delay beyond the least-delayed one is what load added; its median
    stays small (a burst would put it near half the span), and the stream ends not much later
    than its recorded span (no stall). A late first message must not fail it (no span ratio)."""
    due = (np.array(log_times, dtype=np.int64) - log_times[0]) / rate
    offsets = np.array(arrivals, dtype=np.int64) - arrivals[0] - due
    excess_ms = (offsets - offsets.min()) / 1e6
    span_s, wall_s = due[-1] / 1e9, (arrivals[-1] - arrivals[0]) / 1e9
    assert statistics.median(excess_ms.tolist()) < 50.0, np.percentile(excess_ms, [50, 90, 99])
    assert wall_s <= span_s + 5.0, (span_s, wall_s)


@pytest.mark.parametrize("rate", [1.0, 2.0])
def test_the_real_recording_arrives_complete_in_order_at_pace(
    ros: RosLauncher, real_bag: Path, rate: float
) -> None:
    # reliable end to end (an override) so that completeness is a fair demand on a loaded machine
    sub = ros.script("sub", "arrival_sub.py", f"{PACKET}:{REAL_TOPIC}:reliable")
    sub.wait_for("ready")
    play = _play(ros, "play", real_bag, "--rate", str(rate), "--qos", f"{REAL_TOPIC}=reliable",
                 "--wait-for", REAL_TOPIC)  # fmt: skip
    assert _wait_exit(play, 60) == 0, play.output()[-4000:]
    summary = play.wait_for(r"finished: (\d+) messages .* at rate (\S+) .* 1 complete pass")
    assert int(summary.group(1)) == 517 and float(summary.group(2)) == rate
    expected = _bag_stream(real_bag, REAL_TOPIC)
    _wait_count(sub, REAL_TOPIC, 517, timeout_s=10)
    got = _arrivals(sub, REAL_TOPIC)
    assert [d for _, d in got] == [d for _, d in expected]  # complete, in order, byte-identical
    _assert_paced([t for t, _ in got], [t for t, _ in expected], rate)
    assert f"pubqos {REAL_TOPIC} reliable volatile" in sub.output()


def _write_rig_bag(path: Path) -> None:
    """1.5 s of an EVK4 stream (1 kHz packets with seq), DAVIS frames at 25 Hz and the latched
    session info, as the recorder writes them."""
    ts = build_typestore()
    rng = np.random.default_rng(3)
    t0 = 1_700_000_000_000_000_000
    with BagWriter(path) as bag:
        bag.add_topic("/microexp/session", "microexp_msgs/msg/SessionInfo", qos="latched")
        bag.add_topic("/evk4/events", PACKET, qos="sensor_data")
        bag.add_topic("/davis/image", "sensor_msgs/msg/Image", qos="reliable")
        session = M.build_message(ts, "microexp_msgs/msg/SessionInfo", subject_id="P01",
                                  consent=True)  # fmt: skip
        bag.write_message("/microexp/session", t0, session)
        for i in range(1500):
            stamp = t0 + 1_000_000 * i
            payload = rng.integers(0, 256, 512, dtype=np.uint8).tobytes()
            bag.write_message("/evk4/events", stamp, M.event_packet(
                ts, events=payload, stamp_ns=stamp, frame_id="evk4", width=320, height=180,
                seq=100 + i))  # fmt: skip
            if i % 40 == 0:
                img = M.image(ts, stamp_ns=stamp, frame_id="davis",
                              pixels=rng.integers(0, 256, (26, 34), dtype=np.uint8))  # fmt: skip
                bag.write_message("/davis/image", stamp, img)


def test_a_rig_bag_is_played_with_the_drivers_qos(ros: RosLauncher, tmp_path: Path) -> None:
    bag = tmp_path / "rig_bag"
    _write_rig_bag(bag)
    sub = ros.script(
        "sub", "arrival_sub.py", f"{PACKET}:/evk4/events:sensor_data",
        "sensor_msgs/msg/Image:/davis/image:reliable",
        "microexp_msgs/msg/SessionInfo:/microexp/session:latched",
    )  # fmt: skip
    sub.wait_for("ready")
    play = _play(ros, "play", bag, "--wait-for", "/evk4/events", "/davis/image")
    assert _wait_exit(play, 60) == 0, play.output()[-4000:]
    out = play.output()
    assert (
        "/evk4/events [event_camera_msgs/msg/EventPacket] 1500 msgs, qos sensor_data "
        "(rig.yaml)" in out
    )
    assert "/davis/image [sensor_msgs/msg/Image] 38 msgs, qos reliable (rig.yaml)" in out
    assert "/microexp/session [microexp_msgs/msg/SessionInfo] 1 msgs, qos latched" in out
    play.wait_for(r"finished: 1539 messages")
    sub.wait_for(r"rx /microexp/session ")
    log = sub.output()
    # the drivers' QoS as the subscriber sees the publisher: metavision_driver's best effort,
    # dv-ros2's reliable frames, our latched session info
    assert "pubqos /evk4/events best_effort volatile" in log
    assert "pubqos /davis/image reliable volatile" in log
    assert "pubqos /microexp/session reliable transient_local" in log
    # the reliable topic arrives complete and in order; on the best-effort one every message that
    # arrives is in order, and what is missing is exactly what its seq gaps say
    assert [d for _, d in _arrivals(sub, "/davis/image")] == [
        d for _, d in _bag_stream(bag, "/davis/image")]  # fmt: skip
    sent = [d for _, d in _bag_stream(bag, "/evk4/events")]
    got = [d for _, d in _arrivals(sub, "/evk4/events")]
    positions = [sent.index(d) for d in got]
    assert positions == sorted(positions) and len(got) > 0.9 * len(sent)
    arrivals = [t for t, _ in _arrivals(sub, "/evk4/events")]
    _assert_paced(arrivals, [p * 1_000_000 for p in positions], 1.0)  # packet i logged at i ms


def test_loop_plays_until_ctrl_c_and_then_exits_cleanly(ros: RosLauncher, real_bag: Path) -> None:
    sub = ros.script("sub", "arrival_sub.py", f"{PACKET}:{REAL_TOPIC}:reliable")
    sub.wait_for("ready")
    play = _play(ros, "play", real_bag, "--loop", "--rate", "4", "--qos",
                 f"{REAL_TOPIC}=reliable", "--wait-for", REAL_TOPIC)  # fmt: skip
    _wait_count(sub, REAL_TOPIC, 1100, timeout_s=60)  # into the third pass
    assert play.interrupt() == 0, play.output()[-4000:]
    found = play.wait_for(r"interrupted: (\d+) messages .* (\d+) complete pass\(es\)")
    assert int(found.group(2)) >= 2 and int(found.group(1)) >= 1100
    assert "Traceback" not in play.output()
    digests = [d for _, d in _arrivals(sub, REAL_TOPIC)]
    one_pass = [d for _, d in _bag_stream(real_bag, REAL_TOPIC)]
    assert digests[:1034] == one_pass * 2
    assert re.search(r"sent late p50 [\d.]+ ms", play.output())
