"""Where jobs run: an embedded Ray instance on this machine, or an existing Ray cluster.

Without an address (``RayOptions.address`` or ``RAY_ADDRESS``) :func:`ray_session` starts Ray
inside this process tree, bound to 127.0.0.1 only: GCS, raylet, object manager and workers listen
on loopback, there is no dashboard and no metrics port, and nothing is left running afterwards.
With an address it connects to that cluster and leaves it running.

Why loopback needs help: on Linux, Ray replaces ``127.0.0.1`` as a node address by the address
of the interface that routes outwards (``services.resolve_ip_for_localhost``), and its servers
then listen on every interface. Ray keeps a single-node instance on loopback where
``ray_constants.ENABLE_RAY_CLUSTER`` is false (its default on macOS and Windows, from
``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER``); :func:`_loopback_node` sets both while Ray starts, so the
node address stays 127.0.0.1 and every server binds it (checked by tests/distributed).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from microexp.errors import ConfigError

__all__ = ["ENV_ADDRESS", "RayOptions", "RaySession", "ray_session"]

log = logging.getLogger(__name__)

ENV_ADDRESS = "RAY_ADDRESS"
"""Ray's own environment variable for the cluster address (``host:port`` of the head's GCS)."""

_LOCALHOSTS = ("127.0.0.1", "localhost")

_START_ENV = {
    # idle OpenMP threads sleep instead of spinning (a busy 2-core machine); workers inherit it
    "OMP_WAIT_POLICY": "PASSIVE",
    # no usage report (the embedded instance never talks to anything outside this machine)
    "RAY_USAGE_STATS_ENABLED": "0",
}


@dataclass(frozen=True, slots=True)
class RayOptions:
    """How :func:`ray_session` gets a Ray instance and how jobs are placed on it."""

    address: str | None = None  # host:port of a cluster; None: RAY_ADDRESS, else embedded
    workers: int | None = None  # embedded: jobs at once (None: the CPUs of this machine)
    gpus: int | None = None  # embedded: GPUs Ray may hand out (None: those Ray detects)
    cpus_per_job: int = 1  # CPUs (and torch threads) each job reserves
    gpus_per_job: float | Literal["auto"] = "auto"  # auto: 1 per GPU job where the cluster has GPUs
    max_retries: int = 2  # re-runs of a job whose worker process died (not of a job that raised)
    object_store_mb: int = 256  # embedded: the object store (results only; datasets stay on disk)
    temp_dir: str | None = None  # embedded: Ray's session files (None: Ray's default)

    def __post_init__(self) -> None:
        if self.workers is not None and self.workers < 1:
            raise ConfigError(f"workers: must be >= 1, got {self.workers}")
        if self.cpus_per_job < 1:
            raise ConfigError(f"cpus_per_job: must be >= 1, got {self.cpus_per_job}")
        if self.max_retries < 0:
            raise ConfigError(f"max_retries: must be >= 0, got {self.max_retries}")
        if self.gpus_per_job != "auto" and not float(self.gpus_per_job) >= 0:
            raise ConfigError(f"gpus_per_job: must be 'auto' or >= 0, got {self.gpus_per_job}")


@dataclass(frozen=True, slots=True)
class RaySession:
    """The instance in use: its GCS address, whether this process started it, its resources."""

    address: str
    embedded: bool
    cpus: float
    gpus: float
    nodes: int


@contextmanager
def _loopback_node() -> Iterator[None]:
    """While Ray starts: keep 127.0.0.1 as the node address (see the module docstring)."""
    from ray._private import ray_constants

    saved_flag = ray_constants.ENABLE_RAY_CLUSTER
    env = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", **_START_ENV}
    saved_env = {k: os.environ.get(k) for k in env}
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    for k, v in _START_ENV.items():
        os.environ.setdefault(k, v)
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved_flag
        for k, old in saved_env.items():
            if old is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = old


def _is_loopback(address: str) -> bool:
    host = address.removeprefix("ray://").rsplit(":", 1)[0].strip("[]")
    return host in _LOCALHOSTS


@contextmanager
def ray_session(options: RayOptions | None = None) -> Iterator[RaySession]:
    """A Ray instance for the block: the one already initialised in this process, the cluster at
    ``options.address`` / ``RAY_ADDRESS``, or an embedded one on loopback (shut down after)."""
    import ray

    options = options or RayOptions()
    started = False
    if not ray.is_initialized():
        address = options.address or os.environ.get(ENV_ADDRESS) or None
        if address:
            log.info("connecting to the Ray cluster at %s", address)
            try:
                if _is_loopback(address):  # a head on this machine, bound to loopback
                    with _loopback_node():
                        ray.init(address=address, log_to_driver=True)
                else:
                    ray.init(address=address, log_to_driver=True)
            except (ConnectionError, ValueError) as err:
                raise ConfigError(f"ray address {address}: cannot connect: {err}") from err
        else:
            cpus = (options.workers or os.cpu_count() or 1) * options.cpus_per_job
            if options.temp_dir is not None:
                os.makedirs(options.temp_dir, exist_ok=True)
            with _loopback_node():
                ray.init(
                    num_cpus=cpus,
                    num_gpus=options.gpus,
                    include_dashboard=False,
                    _node_ip_address="127.0.0.1",
                    object_store_memory=options.object_store_mb * 2**20,
                    _temp_dir=None
                    if options.temp_dir is None
                    else os.path.abspath(options.temp_dir),
                    log_to_driver=True,
                )
            log.info("started an embedded Ray instance on 127.0.0.1 with %d CPUs", cpus)
        started = True
    try:
        res = ray.cluster_resources()
        ctx = ray.get_runtime_context()
        yield RaySession(
            address=ctx.gcs_address,
            embedded=started and not (options.address or os.environ.get(ENV_ADDRESS)),
            cpus=float(res.get("CPU", 0.0)),
            gpus=float(res.get("GPU", 0.0)),
            nodes=sum(1 for n in ray.nodes() if n.get("Alive")),
        )
    finally:
        if started:
            ray.shutdown()
