"""GPU jobs ask Ray for a GPU when the instance has GPUs; other jobs never get one. The instance
here declares one GPU to Ray (a logical resource: this machine has none), so two GPU jobs must
take turns on it while CPU jobs run beside them."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time

import ray
from ray import cloudpickle

from microexp.distributed.cluster import RayOptions, ray_session
from microexp.distributed.jobs import Job
from microexp.distributed.ray_executor import RayExecutor

cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _hold(*, seconds: float) -> tuple[list[int], float, float]:
    """(the GPU ids Ray gave this job, start, end)."""
    t0 = time.time()
    time.sleep(seconds)
    return [int(i) for i in ray.get_gpu_ids()], t0, time.time()


def test_gpu_jobs_get_the_gpu_one_at_a_time_and_cpu_jobs_none() -> None:
    temp = tempfile.mkdtemp(prefix="mxray")
    try:
        with ray_session(RayOptions(workers=3, gpus=1, temp_dir=temp)) as session:
            assert session.gpus == 1 and session.cpus == 3
            jobs = [
                Job(key=f"gpu{i}", fn=_hold, kwargs={"seconds": 1.5}, gpu=True) for i in range(2)
            ]
            jobs.append(Job(key="cpu", fn=_hold, kwargs={"seconds": 1.5}))
            (g0, s0, e0), (g1, s1, e1), (gc, _sc, _ec) = RayExecutor(RayOptions(workers=3)).run(
                jobs
            )
            assert g0 == g1 == [0] and gc == []
            assert e0 <= s1 or e1 <= s0  # never at the same time on the one GPU
            fixed = RayExecutor(RayOptions(workers=3, gpus_per_job=0)).run(jobs[:1])
            assert fixed[0][0] == []  # gpus_per_job=0: no GPU even for a GPU job
    finally:
        shutil.rmtree(temp, ignore_errors=True)
