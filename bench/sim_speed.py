"""Simulator speed: a single-subject session through one camera, on one core.

    python bench/sim_speed.py                       # DAVIS346, paper_short plan (~2 min)
    python bench/sim_speed.py --camera evk4 --seconds 20
    python bench/sim_speed.py --bag                 # also encode + write the mcap bag

Prints wall time, real-time factor, renders, events and the split between rendering, the event
model and the output. No reference event simulator (v2e, ESIM) is installable here (v2e is not
on the package index; it needs its own torch), so the figures stand alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2

from microexp.protocol.plan import load_plan
from microexp.sim.bag import write_session_bag
from microexp.sim.camera_sim import CameraSimulator
from microexp.sim.sensors import sensor_profile
from microexp.sim.session import SessionSimConfig, simulate_session

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--plan", default=str(ROOT / "config/protocol/paper_short.yaml"))
    ap.add_argument("--camera", default="davis", choices=["davis", "evk4", "webcam"])
    ap.add_argument("--seconds", type=float, default=0.0, help="cut the session (0 = whole)")
    ap.add_argument("--bag", action="store_true", help="write the bag too")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    cv2.setNumThreads(1)

    t0 = time.perf_counter()
    session = simulate_session(load_plan(args.plan), SessionSimConfig("bench", seed=args.seed))
    if args.seconds > 0:
        scene = replace(session.scene, duration_us=int(args.seconds * 1e6))
        session = replace(session, scene=scene)
    t_plan = time.perf_counter() - t0
    sensor = sensor_profile(args.camera)
    duration = session.scene.duration_us / 1e6
    print(f"plan {Path(args.plan).name}: session {duration:.1f} s, protocol {t_plan:.2f} s")

    if args.bag:
        tmp = Path(tempfile.mkdtemp())
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            summary = write_session_bag(tmp / "bag", session, [sensor], seed=args.seed)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            size = sum(f.stat().st_size for f in (tmp / "bag").iterdir())
        finally:
            shutil.rmtree(tmp)
        print(
            f"{args.camera} {sensor.width}x{sensor.height} + bag: {wall:.1f} s wall "
            f"({cpu:.1f} s CPU) for {duration:.1f} s session = {wall / duration:.2f} x real "
            f"time (load average {os.getloadavg()[0]:.1f}); "
            f"events {summary.events}, messages {sum(summary.messages.values())}, "
            f"{size / 1e6:.0f} MB"
        )
        return

    sim = CameraSimulator(session.scene, sensor, seed=args.seed)
    # time the two stages separately by wrapping them
    spent = {"render": 0.0, "events": 0.0}
    render, model = sim.irradiance_at, sim.model

    def timed_render(t_us: int):  # type: ignore[no-untyped-def]
        a = time.perf_counter()
        out = render(t_us)
        spent["render"] += time.perf_counter() - a
        return out

    sim.irradiance_at = timed_render  # type: ignore[method-assign]
    if model is not None:
        step = model.step

        def timed_step(frame, t_us):  # type: ignore[no-untyped-def]
            a = time.perf_counter()
            out = step(frame, t_us)
            spent["events"] += time.perf_counter() - a
            return out

        model.step = timed_step  # type: ignore[method-assign]
    n_ev = n_fr = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for chunk in sim.chunks():
        n_ev += chunk.events.size
        n_fr += len(chunk.frames)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"{args.camera} {sensor.width}x{sensor.height}: {wall:.1f} s wall ({cpu:.1f} s CPU) for "
        f"{duration:.1f} s session = {wall / duration:.2f} x real time, {cpu / duration:.2f} "
        f"in CPU time (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    print(
        f"  renders {sim.renders} ({spent['render']:.1f} s, "
        f"{1e3 * spent['render'] / max(sim.renders, 1):.2f} ms each), event model "
        f"{spent['events']:.1f} s, other {wall - spent['render'] - spent['events']:.1f} s"
    )
    print(f"  events {n_ev:,} ({n_ev / duration / 1e3:.0f} kev/s), frames {n_fr}")


if __name__ == "__main__":
    main()
