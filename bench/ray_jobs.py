"""Ray as the executor of independent jobs: start-up, per-job overhead, scaling over 1 and 2
workers, against the standard library's process pool (``concurrent.futures.ProcessPoolExecutor``,
spawn; what the demo used before) in the same run.

Measured, each for Ray (embedded instance on 127.0.0.1, :class:`RayExecutor`) and for the pool:
  start      time to the first result of an empty job (Ray: ``ray.init`` included)
  empty      wall time per job over N empty jobs (after warm-up): the executor's own overhead
  tiny       N jobs of ~T s of CPU each on 1 and 2 workers: wall time and speed-up
  folds      the smoke LOSO run (synthetic, K subjects, one fold per job) on 1 and 2 workers
Every job runs with one torch thread. On a machine shared with other work, compare the columns
of one run only; the load average is printed.
Run: python bench/ray_jobs.py [--empty 200] [--tiny 8] [--tiny-s 0.5] [--subjects 4]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from microexp.distributed.cluster import RayOptions, ray_session
from microexp.distributed.jobs import DoneCallback, Job
from microexp.distributed.ray_executor import RayExecutor, prepare_worker
from microexp.train.config import TrainConfig, TrainRecipe
from microexp.train.loso import plan_loso
from microexp.train.plan import run_plans
from microexp.train.synthetic import SyntheticSpec, write_synthetic_dataset


def _empty() -> int:
    return os.getpid()


def _busy(seconds: float) -> float:
    t0 = time.process_time()
    x = 0.0
    while time.process_time() - t0 < seconds:  # pure CPU, no allocation
        x += 1.0
    return x


def _pool_call(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    prepare_worker(1, on_gpu=False)
    return fn(**kwargs)


class PoolExecutor:
    """The reference: the same jobs on a spawn process pool (one torch thread per worker)."""

    def __init__(self, workers: int) -> None:
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))

    def run(self, jobs: Sequence[Job], *, on_done: DoneCallback | None = None) -> list[Any]:
        futures = [self.pool.submit(_pool_call, j.fn, dict(j.kwargs)) for j in jobs]
        return [f.result() for f in futures]

    def close(self) -> None:
        self.pool.shutdown()


def _timed(executor: Any, jobs: Sequence[Job]) -> float:
    t0 = time.perf_counter()
    executor.run(jobs)
    return time.perf_counter() - t0


def _smoke(dataset: Path, subjects: int) -> TrainConfig:
    if not (dataset / "manifest.csv").is_file():
        write_synthetic_dataset(dataset, SyntheticSpec(
            subjects=tuple(f"s{i + 1:02d}" for i in range(subjects)), labels=("AU2", "AU12", "AU26"),
            clips_per_label=2, t_min=8, t_max=12, seed=0))  # fmt: skip
    return TrainConfig(dataset=str(dataset), camera="davis", modality="events", model={"name": "snn"},
                       train=TrainRecipe(epochs=2, batch_size=4, max_clip_len=12, max_steps_per_epoch=3),
                       device="cpu")  # fmt: skip


def _folds(executor: Any, cfg: TrainConfig, out: Path) -> float:
    plan = plan_loso(cfg, out)
    t0 = time.perf_counter()
    run_plans([plan], executor)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--empty", type=int, default=200)
    ap.add_argument("--tiny", type=int, default=8)
    ap.add_argument("--tiny-s", type=float, default=0.5)
    ap.add_argument("--subjects", type=int, default=4)
    a = ap.parse_args()
    empty = [Job(key=f"e{i}", fn=_empty) for i in range(a.empty)]
    tiny = [Job(key=f"t{i}", fn=_busy, kwargs={"seconds": a.tiny_s}) for i in range(a.tiny)]
    rows: dict[str, dict[str, float]] = {"ray": {}, "pool": {}}
    with tempfile.TemporaryDirectory(prefix="mxbench") as tmp:
        cfg = _smoke(Path(tmp) / "ds", a.subjects)
        for workers in (1, 2):
            t0 = time.perf_counter()
            with ray_session(RayOptions(workers=workers, temp_dir=f"{tmp}/ray{workers}")):
                ex = RayExecutor(RayOptions(workers=workers))
                ex.run(empty[:1])
                r = rows["ray"]
                r.setdefault("start", time.perf_counter() - t0)
                ex.run(empty[: 2 * workers])  # every worker process up
                r.setdefault("empty", _timed(ex, empty) / len(empty))
                r[f"tiny{workers}"] = _timed(ex, tiny)
                r[f"folds{workers}"] = _folds(ex, cfg, Path(tmp) / f"ray_folds{workers}")
            t0 = time.perf_counter()
            pool = PoolExecutor(workers)
            try:
                pool.run(empty[:1])
                p = rows["pool"]
                p.setdefault("start", time.perf_counter() - t0)
                pool.run(empty[: 2 * workers])
                p.setdefault("empty", _timed(pool, empty) / len(empty))
                p[f"tiny{workers}"] = _timed(pool, tiny)
                p[f"folds{workers}"] = _folds(pool, cfg, Path(tmp) / f"pool_folds{workers}")
            finally:
                pool.close()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {a.tiny} tiny jobs of "
          f"{a.tiny_s} s CPU; smoke LOSO, {a.subjects} folds")  # fmt: skip
    print(
        "| executor | start s | per empty job ms | tiny 1 w s | tiny 2 w s | speed-up | folds 1 w s | folds 2 w s | speed-up |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['start']:.2f} | {1000 * r['empty']:.2f} | {r['tiny1']:.2f} | {r['tiny2']:.2f} | "
              f"{r['tiny1'] / r['tiny2']:.2f} | {r['folds1']:.1f} | {r['folds2']:.1f} | {r['folds1'] / r['folds2']:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
