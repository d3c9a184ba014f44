"""Run :class:`~microexp.distributed.jobs.Job` lists on Ray (embedded or a cluster).

Each job becomes one Ray task with ``cpus_per_job`` CPUs, a GPU where it can use one and the
cluster has them, and ``max_retries`` re-runs if its worker process dies (a job that raises is not
re-run: its error is the answer). In the worker, torch gets ``cpus_per_job`` threads (the SNN at
batch 8 gains nothing from a second thread on a small CPU, so whole jobs side by side use the
cores better) and glibc keeps large blocks in the heap (:mod:`microexp.train.allocator`).
The driver shows a tqdm over finished jobs (or one line per finished job through ``echo``), calls
``on_done`` per job and returns the results in job order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ray
from ray.exceptions import RayTaskError
from tqdm import tqdm

from microexp.distributed.cluster import RayOptions
from microexp.distributed.jobs import DoneCallback, Job, JobFailedError
from microexp.errors import MicroexpError

__all__ = ["RayExecutor", "prepare_worker"]

log = logging.getLogger(__name__)


def prepare_worker(cpus: int, *, on_gpu: bool) -> None:
    """A Ray worker process before a job: torch threads = its CPUs, large blocks kept in heap."""
    import torch

    from microexp.train.allocator import keep_large_blocks_in_heap

    if not on_gpu:
        torch.set_num_threads(cpus)
    keep_large_blocks_in_heap()  # a Ray worker process is ours: half a step's CPU otherwise
    logging.getLogger("torch._library.triton").setLevel(logging.ERROR)  # "Triton not available"


@ray.remote
def _run_job(
    fn: Callable[..., Any], kwargs: Mapping[str, Any], cpus: int, gpus: float
) -> tuple[Any, float, str]:
    """``(fn(**kwargs), seconds it ran, id of the node that ran it)``."""
    t0 = time.perf_counter()
    prepare_worker(cpus, on_gpu=gpus > 0)
    result = fn(**kwargs)
    return result, time.perf_counter() - t0, ray.get_runtime_context().get_node_id()


class RayExecutor:
    """Runs jobs as Ray tasks on the instance that :func:`~.cluster.ray_session` opened."""

    def __init__(
        self,
        options: RayOptions | None = None,
        *,
        progress: bool = False,
        desc: str = "jobs",
        echo: Callable[[str], Any] | None = None,
    ) -> None:
        self.options = options or RayOptions()
        self.progress = progress
        self.desc = desc
        self.echo = echo
        """Called with one line per finished job (``[k/n] KEY done in S s on node ID``), if given."""
        self.nodes: list[str] = []
        """After :meth:`run`: the id of the node that ran each job (job order; "" if it failed)."""

    def _gpus(self, job: Job) -> float:
        if not job.gpu:
            return 0.0
        if self.options.gpus_per_job == "auto":
            return 1.0 if ray.cluster_resources().get("GPU", 0.0) > 0 else 0.0
        return float(self.options.gpus_per_job)

    def run(self, jobs: Sequence[Job], *, on_done: DoneCallback | None = None) -> list[Any]:
        if not ray.is_initialized():
            raise RuntimeError("RayExecutor.run needs an open ray_session()")
        cpus = self.options.cpus_per_job
        refs: dict[ray.ObjectRef, int] = {}
        for i, job in enumerate(jobs):
            gpus = self._gpus(job)
            task = _run_job.options(
                num_cpus=cpus, num_gpus=gpus, max_retries=self.options.max_retries,
                retry_exceptions=False, name=job.key,
            )  # fmt: skip
            refs[task.remote(job.fn, dict(job.kwargs), cpus, gpus)] = i
        results: list[Any] = [None] * len(jobs)
        self.nodes = [""] * len(jobs)
        errors: list[tuple[int, Job, BaseException]] = []
        pending = list(refs)
        with tqdm(total=len(jobs), desc=self.desc, unit="job", disable=not self.progress) as bar:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    i = refs[ref]
                    try:
                        results[i], seconds, self.nodes[i] = ray.get(ref)
                    except RayTaskError as err:
                        cause = err.cause if isinstance(err.cause, BaseException) else err
                        errors.append((i, jobs[i], cause))
                        log.error("job %s failed: %s", jobs[i].key, cause)
                    except ray.exceptions.RayError as err:  # worker died more than max_retries
                        errors.append((i, jobs[i], err))
                        log.error("job %s failed: %s", jobs[i].key, err)
                    else:
                        if on_done is not None:
                            on_done(jobs[i], results[i], seconds)
                        if self.echo is not None:
                            self.echo(
                                f"[{bar.n + 1}/{len(jobs)}] {jobs[i].key} done in {seconds:.1f} s "
                                f"on node {self.nodes[i][:12]}"
                            )
                    bar.update(1)
        if errors:  # the first failed job in job order, whichever failed first
            _i, job, cause = min(errors, key=lambda e: e[0])
            if len(errors) == 1 and isinstance(cause, MicroexpError):
                raise cause
            others = f" ({len(errors) - 1} more job(s) failed)" if len(errors) > 1 else ""
            raise JobFailedError(
                f"job {job.key}: {type(cause).__name__}: {cause}{others}"
            ) from cause
        return results
