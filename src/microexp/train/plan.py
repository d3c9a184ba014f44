"""A training run as jobs plus a pooling step, so several runs can share one executor.

``plan_loso`` / ``plan_reconstruction`` open a run directory and return a :class:`RunPlan`: one
job per fold and ``finish``, which turns the folds' results (in fold order) into the run's tables.
:func:`run_plans` submits the jobs of every plan at once (whole Table-5 and Table-6 runs in one
pool of workers) and pools each run when its results are in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from microexp.distributed.jobs import DoneCallback, Executor, Job

__all__ = ["RunPlan", "run_plans"]


@dataclass(frozen=True, slots=True)
class RunPlan:
    name: str  # the run directory
    jobs: list[Job]
    finish: Callable[[list[Any]], dict[str, Any]]  # fold results (job order) -> the run's summary


def run_plans(
    plans: Sequence[RunPlan], executor: Executor, *, on_done: DoneCallback | None = None
) -> list[dict[str, Any]]:
    """Run every plan's jobs on ``executor`` together; return each plan's summary, in order."""
    jobs = [job for plan in plans for job in plan.jobs]
    results = executor.run(jobs, on_done=on_done)
    summaries, i = [], 0
    for plan in plans:
        summaries.append(plan.finish(results[i : i + len(plan.jobs)]))
        i += len(plan.jobs)
    return summaries
