"""Export throughput (events/s end to end) and peak RSS on large simulated session bags.

Writes session bags of realistic packet sizes with the drivers' message types (DAVIS346 dv
EventArray 1 ms packets + 40 fps mono8 APS frames, EVK4 evt3 EventPacket 1 ms packets, protocol
with one segment every 4 s), at two sizes, then runs ``microexp export`` on each in a child
process and reports events/s and the child's peak RSS (``ru_maxrss``). For reference, the same
run times a plain read of every message of the bag with rosbags' ``AnyReader`` (no decoding):
the floor any exporter built on a Python bag reader pays.

To keep generation fast, one 1.048576 s block of EVK4 packets is encoded once and repeated with
its EVT 3.0 TIME_HIGH words advanced by 256 per block (1.048576 s = 256 × 4096 µs), which is a
valid continuous stream; DAVIS packets are encoded per packet.

    python bench/export_throughput.py --sizes-gb 0.5 2.0 --workdir /tmp/exportbench
    python bench/export_throughput.py --sizes-gb 2.0 --dataset-dir /dev/shm  # no disk writes
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from microexp.bagio.messages import build_message, event_packet, header, image, serialize
from microexp.bagio.writer import BagWriter
from microexp.events.dv_event_array import encode_event_array_cdr
from microexp.events.evt3 import Evt3Encoder
from microexp.events.types import EVENT_DTYPE
from microexp.protocol.events import EventKind, Phase

S = 1_000_000_000
T0 = 1_767_225_600 * S
BLOCK_US = 1 << 20  # 256 TIME_HIGH units
PACKET_US = 1000


def _events(rng: np.random.Generator, n: int, w: int, h: int, t0_us: int, dt_us: int) -> np.ndarray:
    ev = np.zeros(n, EVENT_DTYPE)
    ev["x"], ev["y"], ev["p"] = rng.integers(0, w, n), rng.integers(0, h, n), rng.integers(0, 2, n)
    ev["t"] = t0_us + np.sort(rng.integers(0, dt_us, n))
    return ev


def write_bag(
    path: Path, *, seconds: float, davis_rate: float, evk4_rate: float, seed: int = 0
) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    n_blocks = int(np.ceil(seconds * 1e6 / BLOCK_US))
    evk4_offset_us = -3_000_000  # sensor clock − protocol clock
    # one block of EVK4 packets, encoded once
    enc = Evt3Encoder()
    block: list[tuple[int, bytes]] = []
    for k in range(BLOCK_US // PACKET_US):
        n = int(rng.poisson(evk4_rate * PACKET_US / 1e6))
        ev = _events(rng, n, 1280, 720, k * PACKET_US, PACKET_US)
        block.append((k * PACKET_US, enc.encode(ev)))
    counts = {"davis": 0, "evk4": 0, "bytes": 0}
    evk4_per_block = 0
    from microexp.events.evt3 import Evt3Decoder

    dec = Evt3Decoder()
    for _, payload in block:
        evk4_per_block += dec.decode(payload).events.size
    face = np.full((260, 346), 50, np.uint8)
    import cv2

    cv2.ellipse(face, (173, 130), (55, 70), 0, 0, 360, 190, -1)
    with BagWriter(path, commit_every=200) as bag:
        ts = bag.typestore
        bag.add_topic("/microexp/session", "microexp_msgs/msg/SessionInfo", qos="latched")
        bag.add_topic("/microexp/protocol", "microexp_msgs/msg/ProtocolEvent")
        bag.add_topic("/davis/events", "dv_ros2_msgs/msg/EventArray", qos="sensor_data")
        bag.add_topic("/davis/image", "sensor_msgs/msg/Image", qos="sensor_data")
        bag.add_topic("/evk4/events", "event_camera_msgs/msg/EventPacket", qos="sensor_data")
        bag.write_message(
            "/microexp/session",
            T0,
            build_message(
                ts,
                "microexp_msgs/msg/SessionInfo",
                header=header(ts, stamp_ns=T0),
                subject_id="B1",
                session_id="bench",
                consent=True,
                lux=np.float32(300),
            ),
        )
        proto = []
        for i, s0 in enumerate(np.arange(0.0, seconds - 4.0, 4.0)):
            base = T0 + int(s0 * S)
            for dt, kind, phase in (
                (0, EventKind.SEGMENT_START, Phase.NONE),
                (1_000_000_000, EventKind.PHASE, Phase.PERFORM),
                (2_500_000_000, EventKind.PHASE, Phase.REST),
                (3_900_000_000, EventKind.SEGMENT_END, Phase.NONE),
            ):
                proto.append(
                    (
                        base + dt,
                        build_message(
                            ts,
                            "microexp_msgs/msg/ProtocolEvent",
                            header=header(ts, stamp_ns=base + dt),
                            kind=int(kind),
                            phase=int(phase),
                            subject_id="B1",
                            session_id="bench",
                            segment_index=i,
                            attempt=1,
                            label="AU12",
                            au_numbers=np.array([12], np.uint16),
                            valid=True,
                            detail="main",
                        ),
                    )
                )
        pi = 0
        frame_period_us = 25_000
        next_frame_us = 0
        for b in range(n_blocks):
            for k, (rel_us, payload) in enumerate(block):
                t_us = b * BLOCK_US + rel_us
                if t_us >= seconds * 1e6:
                    break
                ros = T0 + t_us * 1000
                while pi < len(proto) and proto[pi][0] <= ros:
                    bag.write_message("/microexp/protocol", proto[pi][0], proto[pi][1])
                    pi += 1
                n = int(rng.poisson(davis_rate * PACKET_US / 1e6))
                dv = _events(rng, n, 346, 260, T0 // 1000 + t_us, PACKET_US)
                data = encode_event_array_cdr(
                    dv, stamp_ns=ros + PACKET_US * 1000, frame_id="davis", width=346, height=260
                )
                bag.write("/davis/events", ros + PACKET_US * 1000 + 200_000, data)
                counts["davis"] += n
                words = np.frombuffer(payload, "<u2").copy()
                hi = (words >> 12) == 0x8
                words[hi] = 0x8000 | (((words[hi] & 0xFFF).astype(np.int64) + 256 * b) & 0xFFF)
                stamp = ros + evk4_offset_us * 0  # header: host time of the first event
                msg = event_packet(
                    ts,
                    events=words.view(np.uint8),
                    stamp_ns=stamp,
                    frame_id="evk4",
                    width=1280,
                    height=720,
                    seq=b * len(block) + k,
                )
                bag.write("/evk4/events", ros + 300_000, serialize(ts, msg))
                if t_us >= next_frame_us:
                    img = image(
                        ts, pixels=face, stamp_ns=T0 + next_frame_us * 1000, frame_id="davis"
                    )
                    bag.write_message("/davis/image", ros + 3_000_000, img)
                    next_frame_us += frame_period_us
            counts["evk4"] += evk4_per_block
    counts["bytes"] = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return counts


def run_export(bag: Path, out: Path) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds, peak RSS (bytes) and the report of ``microexp export`` run in a
    child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "microexp.cli.main",
            "export",
            str(bag),
            "-o",
            str(out),
            "--no-progress",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    text = proc.stdout.read() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"export failed:\n{text}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, text


def read_reference(bag: Path) -> float:
    """Seconds for rosbags' AnyReader to read every message (raw bytes, no deserialisation)."""
    from rosbags.highlevel import AnyReader

    from microexp.bagio.typestore import build_typestore

    t0 = time.perf_counter()
    total = 0
    with AnyReader([bag], default_typestore=build_typestore()) as r:
        for _c, _t, raw in r.messages():
            total += len(raw)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes-gb", type=float, nargs="+", default=[0.5, 2.0])
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/microexp_export_bench"))
    ap.add_argument("--davis-rate", type=float, default=3e6, help="DAVIS events/s")
    ap.add_argument("--evk4-rate", type=float, default=12e6, help="EVK4 events/s")
    ap.add_argument("--keep", action="store_true", help="keep the bags and datasets")
    ap.add_argument(
        "--dataset-dir",
        type=Path,
        default=None,
        help="write the datasets here (e.g. /dev/shm) to take disk writes out",
    )
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    bytes_per_s = args.davis_rate * 16.4 + args.evk4_rate * 2.2 + 40 * 90_000
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work shares them)"
    )
    for gb in args.sizes_gb:
        seconds = gb * 1e9 / bytes_per_s
        bag = args.workdir / f"bag_{gb:g}gb"
        out = (args.dataset_dir or args.workdir) / f"ds_{gb:g}gb"
        shutil.rmtree(bag, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        counts = write_bag(
            bag, seconds=seconds, davis_rate=args.davis_rate, evk4_rate=args.evk4_rate
        )
        gen = time.perf_counter() - t0
        events = counts["davis"] + counts["evk4"]
        ref = read_reference(bag)
        secs, cpu, rss, text = run_export(bag, out)
        print(
            f"bag {counts['bytes'] / 1e9:.2f} GB, {seconds:.0f} s session, {events / 1e6:.0f} M events "
            f"(DAVIS {counts['davis'] / 1e6:.0f} M, EVK4 {counts['evk4'] / 1e6:.0f} M), generated in {gen:.0f} s"
        )
        print(
            f"  export: {secs:.1f} s = {events / secs / 1e6:.1f} M events/s end to end, "
            f"{counts['bytes'] / secs / 1e6:.0f} MB/s, peak RSS {rss / 2**20:.0f} MiB; "
            f"CPU {cpu:.1f} s = {events / cpu / 1e6:.1f} M events per CPU-second"
        )
        print(
            f"  reference, rosbags AnyReader raw read of every message: {ref:.1f} s "
            f"({counts['bytes'] / ref / 1e6:.0f} MB/s, {events / ref / 1e6:.1f} M events/s)"
        )
        print("  " + text.strip().splitlines()[0])
        if not args.keep:
            shutil.rmtree(bag, ignore_errors=True)
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
