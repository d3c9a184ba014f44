"""Step 1 of the demo: simulate each subject's session into a real rosbag2 (MCAP) bag.

One job per subject (:class:`SubjectJob`, picklable), run in a small process pool: the simulator
is numpy and single-threaded, so two processes use two cores. Each subject gets its own face
(seeded by its id), its own behaviour seed, and a DAVIS clock off by a seeded amount, which the
export must recover (the report shows estimated against true offsets).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from microexp.demo.config import DemoConfig, subject_ids

__all__ = ["SubjectJob", "SubjectResult", "make_jobs", "simulate_subject", "simulate_subjects"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SubjectJob:
    subject: str
    seed: int
    plan: str
    bag: str
    cameras: tuple[str, ...]
    style: str
    webcam_size: tuple[int, int]
    webcam_fps: float
    davis_fps: float
    chunk_ms: int
    extra_offsets_us: dict[str, int] = field(default_factory=dict)
    progress: bool = False
    position: int = 0


@dataclass(frozen=True, slots=True)
class SubjectResult:
    subject: str
    seed: int
    bag: str
    duration_s: float
    start_ns: int
    messages: dict[str, int]
    events: dict[str, int]
    clock_offset_us: dict[str, int]  # sensor clock − protocol clock per camera
    true_offset_ns: dict[str, int]  # ROS ns − sensor µs·1000 per camera (what export estimates)
    actions: int
    cpu_s: float
    wall_s: float

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


def make_jobs(
    cfg: DemoConfig, layout_bag: Callable[[str], Path], *, progress: bool
) -> list[SubjectJob]:
    """One job per subject; seeds and clock offsets derive from ``cfg.seed`` and the index."""
    rng = np.random.default_rng([cfg.seed, 0xDE70])
    jobs = []
    for i, subject in enumerate(subject_ids(cfg.subjects)):
        jitter = cfg.sim.davis_clock_jitter_us
        offset = int(rng.integers(-jitter, jitter + 1)) if jitter else 0
        jobs.append(
            SubjectJob(
                subject=subject,
                seed=cfg.seed * 100 + i + 1,
                plan=str(cfg.path(cfg.plan)),
                bag=str(layout_bag(subject)),
                cameras=tuple(cfg.sim.cameras),
                style=cfg.sim.style,
                webcam_size=cfg.sim.webcam_size,
                webcam_fps=cfg.sim.webcam_fps,
                davis_fps=cfg.sim.davis_fps,
                chunk_ms=cfg.sim.chunk_ms,
                extra_offsets_us={"davis": offset},
                progress=progress,
                position=i % max(cfg.sim.workers, 1),
            )
        )
    return jobs


def simulate_subject(job: SubjectJob) -> SubjectResult:
    """Simulate one subject's session into ``job.bag`` (must not exist)."""
    from microexp.protocol.plan import load_plan
    from microexp.sim.bag import seconds_progress, write_session_bag
    from microexp.sim.sensors import rig_profiles
    from microexp.sim.session import SessionSimConfig, simulate_session

    cpu0, wall0 = time.process_time(), time.perf_counter()
    plan = load_plan(job.plan)
    session = simulate_session(
        plan,
        SessionSimConfig(job.subject, seed=job.seed, style=job.style),  # type: ignore[arg-type]
    )
    offsets = {k: v for k, v in job.extra_offsets_us.items() if k in job.cameras}
    sensors = rig_profiles(
        list(job.cameras), start_ns=session.start_ns, offsets_us=offsets,
        webcam_size=job.webcam_size, webcam_fps=job.webcam_fps, davis_aps_fps=job.davis_fps,
    )  # fmt: skip
    with seconds_progress(
        session.scene.duration_us, desc=f"sim {job.subject}", enabled=job.progress,
        position=job.position, leave=False,
    ) as progress:  # fmt: skip
        summary = write_session_bag(
            job.bag, session, sensors, seed=job.seed, chunk_us=job.chunk_ms * 1000,
            progress=progress,
        )  # fmt: skip
    clock = {s.name: int(s.clock_offset_us) for s in sensors}
    return SubjectResult(
        subject=job.subject,
        seed=job.seed,
        bag=job.bag,
        duration_s=summary.duration_s,
        start_ns=session.start_ns,
        messages=dict(summary.messages),
        events={k: int(v) for k, v in summary.events.items()},
        clock_offset_us=clock,
        true_offset_ns={k: session.start_ns - v * 1000 for k, v in clock.items()},
        actions=len(session.ground_truth),
        cpu_s=time.process_time() - cpu0,
        wall_s=time.perf_counter() - wall0,
    )


def simulate_subjects(
    jobs: Sequence[SubjectJob],
    *,
    workers: int,
    on_done: Callable[[SubjectResult], Any] | None = None,
) -> list[SubjectResult]:
    """Run the jobs, ``workers`` at a time (1: in this process); results in job order."""
    results: dict[str, SubjectResult] = {}
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            results[job.subject] = simulate_subject(job)
            if on_done is not None:
                on_done(results[job.subject])
    else:
        # spawn: the parent may already hold torch/OpenMP threads, which fork does not survive
        from microexp.demo.train import worker_env

        with (
            worker_env(),
            ProcessPoolExecutor(
                max_workers=min(workers, len(jobs)), mp_context=get_context("spawn")
            ) as pool,
        ):
            futures = {pool.submit(simulate_subject, job): job for job in jobs}
            for fut in as_completed(futures):
                res = fut.result()
                results[res.subject] = res
                if on_done is not None:
                    on_done(res)
    return [results[j.subject] for j in jobs]
