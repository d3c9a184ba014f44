"""Jobs and the executor protocol; :class:`InProcessExecutor` is the sequential reference.

A :class:`Job` names a module-level function and its keyword arguments. Executors run a list of
jobs and return their results in the order of the list, whichever finished first, so everything
computed from the results (tables, pooled metrics) is the same for every executor. A job must be
restartable: it reads its inputs from files, writes its outputs atomically and picks up its own
checkpoint, because a distributed executor re-runs a job whose worker died.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from microexp.errors import MicroexpError

__all__ = ["DoneCallback", "Executor", "InProcessExecutor", "Job", "JobFailedError"]


@dataclass(frozen=True, slots=True)
class Job:
    """One independent piece of work: ``fn(**kwargs)``.

    ``fn`` must be a module-level function (a worker imports it by name); ``kwargs`` must pickle.
    ``gpu``: the job can use a GPU (training); executors give it one where the cluster has GPUs.
    """

    key: str
    fn: Callable[..., Any]
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    gpu: bool = False


DoneCallback = Callable[[Job, Any, float], None]
"""Called in the driver when a job finished: (job, its result, wall seconds it took)."""


class JobFailedError(MicroexpError):
    """A job raised; the message names the job and carries the job's own error."""


class Executor(Protocol):
    """Runs jobs; returns their results in the order of ``jobs``."""

    def run(self, jobs: Sequence[Job], *, on_done: DoneCallback | None = None) -> list[Any]: ...


class InProcessExecutor:
    """Runs the jobs one after the other in this process (no Ray): the sequential reference.

    A job's error propagates unchanged (a :class:`~microexp.errors.MicroexpError` stays one).
    """

    def run(self, jobs: Sequence[Job], *, on_done: DoneCallback | None = None) -> list[Any]:
        results = []
        for job in jobs:
            t0 = time.perf_counter()
            result = job.fn(**job.kwargs)
            results.append(result)
            if on_done is not None:
                on_done(job, result, time.perf_counter() - t0)
        return results
