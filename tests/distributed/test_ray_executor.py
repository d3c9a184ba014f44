"""LOSO folds on an embedded Ray instance: results byte-identical to the sequential run, every
Ray server on loopback, a job's error reaches the driver, a killed worker's fold is retried."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import ray
import torch
from ray import cloudpickle
from raykit import listening, not_loopback, run_bytes, sequential_run, tree

from microexp.distributed.cluster import RayOptions, RaySession
from microexp.distributed.jobs import Job, JobFailedError
from microexp.distributed.ray_executor import RayExecutor
from microexp.errors import ConfigError
from microexp.train.config import TrainConfig
from microexp.train.loso import train_loso


def test_ray_run_equals_sequential_run_byte_for_byte_on_loopback(
    ray_local: RaySession, smoke_config: TrainConfig, tmp_path: Path
) -> None:
    assert ray_local.embedded and ray_local.nodes == 1 and ray_local.cpus == 2
    assert ray_local.address.startswith("127.0.0.1:")
    sockets: list[tuple[int, str, str, int]] = []

    def look(job: Job, _result: object, seconds: float) -> None:  # mid-run: workers alive
        assert seconds > 0
        sockets.extend(listening(tree([os.getpid()])))

    executor = RayExecutor(RayOptions(workers=2))
    from microexp.train.loso import plan_loso
    from microexp.train.plan import run_plans

    plan = plan_loso(smoke_config, tmp_path / "ray")
    run_plans([plan], executor, on_done=look)
    names = {name for _pid, name, _ip, _port in sockets}
    assert {"gcs_server", "raylet"} <= names, names  # the Ray servers were seen listening
    assert not_loopback(sockets) == [], "Ray listens beyond loopback"
    assert [j.key.split("/")[-1] for j in plan.jobs] == ["fold_s01", "fold_s02", "fold_s03"]
    assert all(executor.nodes)
    assert run_bytes(tmp_path / "ray") == sequential_run(smoke_config, tmp_path / "seq")


# the job functions below live in this test module, which Ray's workers cannot import by name
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _fails(*, what: str) -> None:
    raise ConfigError(f"{what}: bad on purpose")


def _sleeps(*, seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_job_errors_reach_the_driver_naming_the_job(ray_local: RaySession) -> None:
    ex = RayExecutor(RayOptions(workers=2))
    with pytest.raises(ConfigError, match=r"x\.yaml: bad on purpose"):  # the job's own error type
        ex.run(
            [
                Job(key="a", fn=_fails, kwargs={"what": "x.yaml"}),
                Job(key="b", fn=_sleeps, kwargs={"seconds": 0}),
            ]
        )
    with pytest.raises(JobFailedError, match=r"job a: ConfigError: 1: bad on purpose \(1 more"):
        ex.run(
            [
                Job(key="a", fn=_fails, kwargs={"what": "1"}),
                Job(key="b", fn=_fails, kwargs={"what": "2"}),
            ]
        )
    # results come back in job order whatever finished first
    got = ex.run(
        [
            Job(key="slow", fn=_sleeps, kwargs={"seconds": 1.0}),
            Job(key="fast", fn=_sleeps, kwargs={"seconds": 0}),
        ]
    )
    assert len(got) == 2 and all(isinstance(p, int) for p in got)


def _worker_running(title: str) -> psutil.Process | None:
    """The Ray worker whose process title names the running task ``title``."""
    for p in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if title in " ".join(p.cmdline()):
                return p
        except psutil.NoSuchProcess:
            continue
    return None


def test_killed_worker_mid_fold_is_retried_and_the_table_is_unchanged(
    ray_local: RaySession, tiny_dataset: Path, smoke_config: TrainConfig, tmp_path: Path
) -> None:
    import dataclasses

    cfg = dataclasses.replace(
        smoke_config, train=dataclasses.replace(smoke_config.train, epochs=6, max_steps_per_epoch=1)
    )
    out = tmp_path / "ray"
    killed: list[int] = []

    def kill_mid_fold() -> None:  # once s02's fold saved an epoch but is not done: SIGKILL it
        ckpt = out / "fold_s02" / "checkpoint.pt"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            if ckpt.is_file():
                state = torch.load(ckpt, weights_only=True)
                if state["done"]:
                    return
                worker = _worker_running("fold_s02")
                if worker is not None:
                    worker.send_signal(signal.SIGKILL)
                    killed.append(int(state["epoch"]))
                    return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_mid_fold)
    killer.start()
    try:
        train_loso(
            cfg, out, progress=False, executor=RayExecutor(RayOptions(workers=2, max_retries=2))
        )
    finally:
        killer.join()
    assert killed, "the fold finished before its worker could be killed"
    log = (out / "fold_s02" / "train.log").read_text()
    assert "fold s02: resuming after epoch" in log  # the retry picked up the checkpoint
    assert run_bytes(out) == sequential_run(cfg, tmp_path / "seq")
    assert ray.is_initialized()
