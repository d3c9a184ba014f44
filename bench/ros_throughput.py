"""ROS 2 throughput on this machine, one run, real processes over Fast DDS on loopback.

1. ``dv_ros2_msgs/EventArray`` with 10,000 events from one process to another: pre-serialized CDR
   bytes (``publish(bytes)``) against ``Event`` objects built and published by rclpy.
2. Our recorder node (``microexp recorder``, installed by tools/setup_ros.sh): offered rate stepped
   up (EventPacket, best effort like metavision_driver, ``seq`` counting), recorded MB/s and
   messages lost per step; the disk's own sequential write speed (write + fsync) beside it.
3. The paper's rig at once: DAVIS346 EventArray 12 Mev/s (reliable), EVK4 EventPacket evt3 30 Mev/s
   (best effort), webcam 1080p30 MJPEG CompressedImage (reliable): losses per topic.

Run after ``. .ros_build/setup.bash``:  python bench/ros_throughput.py [--seconds 3]
Every process runs with ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST and a ROS_DOMAIN_ID of its own.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from microexp.bagio.messages import compressed_image, event_packet, serialize
from microexp.bagio.reader import open_bag
from microexp.bagio.typestore import build_typestore
from microexp.events.dv_event_array import encode_event_array_cdr
from microexp.events.types import make_events
from microexp.recording.cdr import peek_header_stamp_ns

ARRAY = "dv_ros2_msgs/msg/EventArray"
PACKET = "event_camera_msgs/msg/EventPacket"
JPEG = "sensor_msgs/msg/CompressedImage"
SEQ_MAGIC = 0x0123456789ABCDEF


SHM_PROFILE = Path(__file__).resolve().parents[1] / "config" / "rig" / "fastdds_shm.xml"


# ----------------------------------------------------------------------------- message bytes ---
def event_array_bytes(n: int, *, stamp_ns: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    t = np.sort(rng.integers(0, 1000, n)) + 1_700_000_000_000_000
    ev = make_events(x=rng.integers(0, 346, n), y=rng.integers(0, 260, n), t=t,
                     p=rng.integers(0, 2, n))  # fmt: skip
    return bytes(encode_event_array_cdr(ev, stamp_ns=stamp_ns, frame_id="davis", width=346,
                                        height=260))  # fmt: skip


def payload_bytes(msgtype: str, size: int, *, stamp_ns: int) -> tuple[bytes, int]:
    """A message of about ``size`` bytes and the offset of its ``seq`` field (-1: none)."""
    store = build_typestore()
    rng = np.random.default_rng(1)
    if msgtype == ARRAY:
        return event_array_bytes(max(1, size // 16), stamp_ns=stamp_ns), -1
    blob = rng.integers(0, 256, size, dtype=np.uint8)
    if msgtype == PACKET:
        msg = event_packet(store, events=blob, stamp_ns=stamp_ns, frame_id="evk4", width=1280,
                           height=720, seq=SEQ_MAGIC)  # fmt: skip
        data = serialize(store, msg)
        return data, data.index(SEQ_MAGIC.to_bytes(8, "little"))
    msg = compressed_image(store, data=blob.tobytes(), stamp_ns=stamp_ns, frame_id="webcam")
    return serialize(store, msg), -1


# ------------------------------------------------------------------------- child processes ---
def role_pub(a: argparse.Namespace) -> int:
    """Publish ``--rate`` msg/s (0: as fast as possible) for ``--seconds`` after one warm-up
    message (stamp 0, seq 0) and ``--lead`` seconds; prints 'published N bytes B'."""
    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    rclpy.init()
    node = rclpy.create_node(f"bench_pub_{os.getpid()}")
    pkg, _, name = a.type.split("/")
    cls = getattr(__import__(f"{pkg}.msg", fromlist=[name]), name)
    qos = QoSProfile(depth=a.depth, reliability=ReliabilityPolicy.BEST_EFFORT if a.best_effort
                     else ReliabilityPolicy.RELIABLE)  # fmt: skip
    pub = node.create_publisher(cls, a.topic, qos)
    deadline = time.monotonic() + 30
    while pub.get_subscription_count() < a.subs and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)
    if a.objects:  # rclpy message objects, built per message as a driver would
        from dv_ros2_msgs.msg import Event, EventArray

        def build() -> Any:
            msg = EventArray(width=346, height=260)
            msg.events = [
                Event(x=i % 346, y=i % 260, polarity=bool(i & 1)) for i in range(a.events)
            ]
            return msg

        n = 0
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < a.seconds:
            pub.publish(build())
            n += 1
        print(f"published {n} bytes 0 seconds {time.perf_counter() - t0:.3f}", flush=True)
        return _spin_until_sigint(node, rclpy)
    warm, seq_at = payload_bytes(a.type, a.size, stamp_ns=0)
    if a.type == ARRAY and a.events:
        warm = event_array_bytes(a.events, stamp_ns=0)
    pub.publish(warm)
    time.sleep(a.lead)
    data = bytearray(warm)
    data[4:8] = int(time.time()).to_bytes(4, "little")  # header.stamp.sec != 0: a timed message
    n = 0
    period = 1.0 / a.rate if a.rate > 0 else 0.0
    t0 = time.perf_counter()
    while True:
        now = time.perf_counter()
        if now - t0 >= a.seconds:
            break
        if period and now < t0 + n * period:
            time.sleep(min(0.002, t0 + n * period - now))
            continue
        if seq_at >= 0:
            data[seq_at : seq_at + 8] = (n + 1).to_bytes(8, "little")
        pub.publish(bytes(data))
        n += 1
    dt = time.perf_counter() - t0
    print(f"published {n} bytes {n * len(data)} seconds {dt:.3f}", flush=True)
    return _spin_until_sigint(node, rclpy)


def _spin_until_sigint(node: Any, rclpy: Any) -> int:
    from rclpy.executors import ExternalShutdownException

    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


def role_sub(a: argparse.Namespace) -> int:
    """Raw subscription counting messages; prints 'received N' on SIGINT."""
    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    rclpy.init()
    node = rclpy.create_node(f"bench_sub_{os.getpid()}")
    pkg, _, name = a.type.split("/")
    cls = getattr(__import__(f"{pkg}.msg", fromlist=[name]), name)
    count = [0, 0]

    def on_msg(data: bytes) -> None:
        count[0] += 1
        count[1] += len(data)

    qos = QoSProfile(depth=a.depth, reliability=ReliabilityPolicy.RELIABLE)
    node.create_subscription(cls, a.topic, on_msg, qos, raw=True)
    print("ready", flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        print(f"received {count[0]} bytes {count[1]}", flush=True)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


# ------------------------------------------------------------------------------- harness ---
class Procs:
    def __init__(self, env: dict[str, str], logdir: Path) -> None:
        self.env, self.logdir, self.procs = env, logdir, []  # type: ignore[var-annotated]

    def start(
        self, name: str, argv: list[str], *, extra_env: dict[str, str] | None = None
    ) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.logdir / f"{name}.log"
        with log.open("wb") as fh:
            env = {**self.env, **(extra_env or {})}
            p = subprocess.Popen(argv, env=env, stdout=fh, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p, log

    def stop(self, p: subprocess.Popen[bytes]) -> float:
        """SIGINT and reap; returns the CPU seconds (user + system) the process used."""
        if p.returncode is not None:
            return 0.0
        p.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                p.returncode = os.waitstatus_to_exitcode(status)
                return float(usage.ru_utime + usage.ru_stime)
            time.sleep(0.02)
        p.kill()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        return float(usage.ru_utime + usage.ru_stime)

    def stop_all(self) -> None:
        for p in reversed(self.procs):
            self.stop(p)


def wait_log(log: Path, pattern: str, timeout_s: float = 30.0) -> re.Match[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        m = re.search(pattern, log.read_text(errors="replace"))
        if m:
            return m
        time.sleep(0.05)
    raise RuntimeError(f"no /{pattern}/ in {log} within {timeout_s} s:\n{log.read_text()[-2000:]}")


def me(role: str, *args: object) -> list[str]:
    return [sys.executable, __file__, "--role", role, *(str(x) for x in args)]


def bench_raw_vs_objects(procs: Procs, seconds: float) -> dict[str, float]:
    out = {}
    for mode in ("raw", "objects"):
        sub, slog = procs.start(f"sub_{mode}", me("sub", "--type", ARRAY, "--topic", "/bench/array",
                                                  "--depth", 1000))  # fmt: skip
        wait_log(slog, "ready")
        extra = ["--objects"] if mode == "objects" else []
        pub, plog = procs.start(f"pub_{mode}", me("pub", "--type", ARRAY, "--topic", "/bench/array",
                                                  "--events", 10_000, "--seconds", seconds,
                                                  "--rate", 0, "--lead", 0.5, "--depth", 1000,
                                                  *extra))  # fmt: skip
        wait_log(plog, r"published \d+", timeout_s=seconds + 60)
        time.sleep(1.0)
        procs.stop(sub)
        procs.stop(pub)
        got = int(wait_log(slog, r"received (\d+)").group(1)) - (0 if mode == "objects" else 1)
        pub_s = float(wait_log(plog, r"seconds ([\d.]+)").group(1))
        out[mode] = got * 10_000 / pub_s / 1e6
    return out


def disk_write_mb_s(
    directory: Path, *, size_mb: int = 512, block_mb: int = 4
) -> tuple[float, float]:
    """Sequential write: (MB/s without fsync, MB/s including the final fsync)."""
    path = directory / "dd.bin"
    block = np.random.default_rng(0).integers(0, 256, block_mb << 20, dtype=np.uint8).tobytes()
    t0 = time.perf_counter()
    with path.open("wb") as fh:
        for _ in range(size_mb // block_mb):
            fh.write(block)
        fh.flush()
        t1 = time.perf_counter()
        os.fsync(fh.fileno())
    t2 = time.perf_counter()
    path.unlink()
    mb = size_mb * (1 << 20) / 1e6
    return mb / (t1 - t0), mb / (t2 - t0)


def recorder_run(procs: Procs, workdir: Path, name: str, streams: list[dict[str, Any]],
                 seconds: float, extra_env: dict[str, str] | None = None
                 ) -> dict[str, dict[str, float]]:  # fmt: skip
    """One recorder + one publisher per stream; returns per topic: offered, recorded, lost."""
    bag = workdir / f"bag_{name}"
    params = {
        "output": str(bag),
        "topics": [s["topic"] for s in streams],
        "types": [s["type"] for s in streams],
        "qos": ["sensor_data" if s.get("best_effort") else "reliable" for s in streams],
        "wait_for": [s["topic"] for s in streams],
        "require_consent": False,
        "depth": 1000,
        "stats_period_s": 1.0,
    }
    pfile = workdir / f"rec_{name}.yaml"
    pfile.write_text(yaml.safe_dump({"recorder": {"ros__parameters": params}}))
    exe = Path(os.environ.get("MICROEXP_RECORDER", "")) if os.environ.get("MICROEXP_RECORDER") else (
        next(Path(p) / "lib/microexp/recorder" for p in os.environ["AMENT_PREFIX_PATH"].split(":")
             if (Path(p) / "lib/microexp/recorder").exists()))  # fmt: skip
    rec, rlog = procs.start(f"rec_{name}", [str(exe), "--ros-args", "--params-file", str(pfile)],
                            extra_env=extra_env)  # fmt: skip
    pubs = []
    for i, s in enumerate(streams):
        argv = me("pub", "--type", s["type"], "--topic", s["topic"], "--size", s["size"],
                  "--rate", s["rate"], "--seconds", seconds, "--lead", 2.0, "--depth",
                  s.get("depth", 1000), *(["--best-effort"] if s.get("best_effort") else []))  # fmt: skip
        pubs.append(procs.start(f"pub_{name}_{i}", argv, extra_env=extra_env))
    for _, plog in pubs:
        wait_log(plog, r"published \d+", timeout_s=seconds + 60)
    time.sleep(1.5)
    rec_cpu_s = procs.stop(rec)
    for p, _ in pubs:
        procs.stop(p)
    result: dict[str, dict[str, float]] = {}
    lost_seq = {m.group(1): int(m.group(2)) for m in re.finditer(
        r"\]: (\S+): \d+ msgs, lost (\d+)", rlog.read_text())}  # fmt: skip
    with open_bag(bag) as reader:
        for s, (_, plog) in zip(streams, pubs, strict=True):
            m = wait_log(plog, r"published (\d+) bytes (\d+) seconds ([\d.]+)")
            sent, sent_bytes, dt = int(m.group(1)), int(m.group(2)), float(m.group(3))
            got = got_bytes = 0
            for raw in reader.messages(topics=[s["topic"]]):
                if peek_header_stamp_ns(raw.data) > 0:  # the warm-up message has stamp 0
                    got += 1
                    got_bytes += len(raw.data)
            result[s["topic"]] = {
                "offered_mb_s": sent_bytes / dt / 1e6,
                "recorded_mb_s": got_bytes / dt / 1e6,
                "sent": sent,
                "lost": sent - got,
                "lost_seq": lost_seq.get(s["topic"], 0),
                "recorder_cpu": rec_cpu_s / dt,  # CPU seconds per second of publishing
            }
    for mcap in bag.glob("*.mcap"):
        mcap.unlink()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--role", choices=["main", "pub", "sub"], default="main")
    ap.add_argument("--type", default=ARRAY)
    ap.add_argument("--topic", default="/bench/array")
    ap.add_argument("--events", type=int, default=0)
    ap.add_argument("--size", type=int, default=256 * 1024)
    ap.add_argument("--rate", type=float, default=0.0)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--lead", type=float, default=0.5)
    ap.add_argument("--depth", type=int, default=1000)
    ap.add_argument("--subs", type=int, default=1)
    ap.add_argument("--objects", action="store_true")
    ap.add_argument("--best-effort", action="store_true")
    ap.add_argument("--steps", default="50,100,150,200,250,300,400", help="offered MB/s")
    ap.add_argument(
        "--workdir", type=Path, default=None, help="where bags go (default: a temp dir)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the work dir (logs, bags)")
    ap.add_argument("--skip", default="", help="comma list of parts to skip: raw,steps,rig")
    a = ap.parse_args()
    if a.role == "pub":
        return role_pub(a)
    if a.role == "sub":
        return role_sub(a)
    env = dict(os.environ)
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env["ROS_DOMAIN_ID"] = str(150 + os.getpid() % 80)
    env["PYTHONUNBUFFERED"] = "1"
    skip = set(a.skip.split(","))
    summary: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="ros_bench_", dir=a.workdir))
    try:
        procs = Procs(env, work)
        print(f"# ros_throughput: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
              f"{a.seconds:.0f} s per step, bags in {work}")  # fmt: skip
        try:
            if "raw" not in skip:
                r = bench_raw_vs_objects(procs, a.seconds)
                print("\n## EventArray, 10,000 events per message, process to process")
                print(f"| publishing | received Mev/s |\n|---|---:|\n| raw CDR bytes | {r['raw']:.1f} |"
                      f"\n| Event objects | {r['objects']:.2f} |\n| ratio | {r['raw'] / r['objects']:.0f}x |")  # fmt: skip
            d_nosync, d_sync = disk_write_mb_s(work)
            print(f"\n## disk, sequential 512 MB in 4 MB blocks: {d_nosync:.0f} MB/s written, "
                  f"{d_sync:.0f} MB/s with fsync")  # fmt: skip
            variants = {
                "default": None,
                "shm64": {"FASTRTPS_DEFAULT_PROFILES_FILE": str(SHM_PROFILE)},
            }
            if "steps" not in skip:
                print("\n## recorder, EventPacket 256 KiB best effort, offered rate stepped up")
                print("transports: default = Fast DDS built-ins (512 KiB shared-memory segment); "
                      "shm64 = config/rig/fastdds_shm.xml in every process (64 MiB segment)")  # fmt: skip
                print("| transports | offered MB/s | recorded MB/s | sent | lost | lost (seq, recorder) "
                      "| recorder CPU |\n|---|---:|---:|---:|---:|---:|---:|")  # fmt: skip
                for vname, venv in variants.items():
                    best = 0.0
                    above = ""
                    for step in (float(x) for x in a.steps.split(",")):
                        size = 256 * 1024
                        res = recorder_run(procs, work, f"{vname}{int(step)}", [{
                            "topic": "/bench/events", "type": PACKET, "size": size,
                            "rate": step * 1e6 / size, "best_effort": True}], a.seconds,
                            venv)  # fmt: skip
                        r1 = res["/bench/events"]
                        print(f"| {vname} | {r1['offered_mb_s']:.0f} | {r1['recorded_mb_s']:.0f} | "
                              f"{r1['sent']} | {r1['lost']} | {r1['lost_seq']} | "
                              f"{100 * r1['recorder_cpu']:.0f} % |", flush=True)  # fmt: skip
                        if r1["lost"] == 0:
                            best = max(best, r1["recorded_mb_s"])
                        elif not above:
                            above = f"; at {r1['offered_mb_s']:.0f} MB/s offered: {r1['lost']} lost"
                    summary.append(f"{vname}: highest recorded rate with zero loss {best:.0f} MB/s"
                                   f"{above}")  # fmt: skip
                for line in summary:
                    print(line)
                print(f"(disk: {d_nosync:.0f} MB/s written, {d_sync:.0f} MB/s with fsync)")
            if "rig" not in skip:
                rig = [
                    {"topic": "/davis/events", "type": ARRAY, "size": 12_000 * 16, "rate": 1000.0},
                    {"topic": "/evk4/events", "type": PACKET, "size": 30_000 * 2, "rate": 1000.0,
                     "best_effort": True},
                    {"topic": "/webcam/image_raw/compressed", "type": JPEG, "size": 400_000,
                     "rate": 30.0},
                ]  # fmt: skip
                print("\n## the paper's rig at once (DAVIS 12 Mev/s EventArray, EVK4 30 Mev/s evt3 "
                      "at ~2 B/event, webcam 1080p30 MJPEG 400 kB)")  # fmt: skip
                print("| transports | topic | offered MB/s | recorded MB/s | sent | lost |"
                      "\n|---|---|---:|---:|---:|---:|")  # fmt: skip
                for vname, venv in variants.items():
                    res = recorder_run(procs, work, f"rig_{vname}", rig, a.seconds, venv)
                    for topic, r1 in res.items():
                        print(f"| {vname} | {topic} | {r1['offered_mb_s']:.0f} | "
                              f"{r1['recorded_mb_s']:.0f} | {r1['sent']} | {r1['lost']} |")  # fmt: skip
                    cpu = next(iter(res.values()))["recorder_cpu"]
                    print(f"| {vname} | (recorder CPU) | | {100 * cpu:.0f} % | | |")
        finally:
            procs.stop_all()
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
