"""Step 4 of the demo: leave-one-subject-out training, one Ray job per fold.

The paper's SNN at batch 8 barely gains from a second torch thread on a small CPU (measured here:
T = 32 steps, one training step ~0.7 s with one thread and about the same wall time with two),
so the demo trains whole folds side by side, one thread each: the folds of
:func:`microexp.train.loso.plan_loso` go to a :class:`~microexp.distributed.ray_executor.RayExecutor`
on an embedded Ray instance bound to 127.0.0.1 (``workers`` jobs at once; ``RAY_ADDRESS`` sends
them to a cluster instead). A fold's seed depends only on its index, so the pooled results,
tables and confusion matrix equal those of a sequential ``microexp train --no-ray``.

:data:`WORKER_ENV` / :func:`worker_env` are the environment the demo's other worker processes
(the simulation) start with; Ray's workers get the same from :mod:`microexp.distributed.cluster`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from microexp.distributed.jobs import Job
from microexp.train.config import TrainConfig

__all__ = ["WORKER_ENV", "train_demo", "worker_env"]

log = logging.getLogger(__name__)

WORKER_ENV = {
    # idle OpenMP threads sleep instead of spinning (a busy 2-core machine)
    "OMP_WAIT_POLICY": "PASSIVE",
}
"""Environment of the worker processes (read at their start), unless the user set these."""


@contextmanager
def worker_env() -> Iterator[None]:
    """Set :data:`WORKER_ENV` (where unset) while worker processes are started, then restore."""
    added = {k: v for k, v in WORKER_ENV.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for k in added:
            os.environ.pop(k, None)


def train_demo(
    cfg: TrainConfig,
    run_dir: Path,
    *,
    workers: int,
    echo: Callable[[str], Any] = lambda _s: None,
    progress: bool = False,
) -> dict[str, Any]:
    """Train every fold of ``cfg`` into ``run_dir`` on Ray; return ``train_loso``'s summary."""
    from microexp.distributed.cluster import RayOptions, ray_session
    from microexp.distributed.ray_executor import RayExecutor
    from microexp.train.loso import plan_loso
    from microexp.train.plan import run_plans

    def done(job: Job, result: dict[str, Any], seconds: float) -> None:
        h = result["history"]
        echo(f"  fold {result['test_subject']}: {len(h)} epochs, loss {h[0]['loss']:.4f} → "
             f"{h[-1]['loss']:.4f}, top-1 {100 * result['metrics']['top1']:.1f} % ({seconds:.1f} s)")  # fmt: skip

    plan = plan_loso(cfg, run_dir)
    options = RayOptions(workers=max(1, min(workers, len(plan.jobs))))
    with ray_session(options) as session:
        log.info("Ray at %s: %d CPUs, %d node(s)", session.address, session.cpus, session.nodes)
        executor = RayExecutor(options, progress=progress, desc="folds")
        return run_plans([plan], executor, on_done=done)[0]
