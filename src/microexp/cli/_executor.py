"""``--ray-address / --workers / --no-ray``: where the jobs of a command run.

By default a command starts an embedded Ray instance bound to 127.0.0.1 (nothing to set up) and
runs its jobs there, ``--workers`` at a time; with ``--ray-address`` or ``RAY_ADDRESS`` the same
command runs its jobs on that cluster; ``--no-ray`` runs them one after the other in this process.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from microexp.distributed.cluster import RayOptions
from microexp.distributed.jobs import Executor, InProcessExecutor

__all__ = ["add_executor_arguments", "open_executor", "ray_options"]


def add_executor_arguments(parser: argparse.ArgumentParser, *, no_ray: bool = True) -> None:
    group = parser.add_argument_group("where jobs run (Ray)")
    group.add_argument(
        "--ray-address",
        default=None,
        help="host:port of a Ray cluster's head (default: $RAY_ADDRESS, else an embedded "
        "instance on 127.0.0.1)",
    )
    group.add_argument(
        "--workers",
        type=int,
        default=None,
        help="embedded instance: jobs at once (default: the number of CPUs)",
    )
    if no_ray:
        group.add_argument(
            "--no-ray", action="store_true", help="run the jobs one after the other in this process"
        )


def ray_options(args: argparse.Namespace) -> RayOptions:
    """The Ray options of ``--ray-address`` (or ``RAY_ADDRESS``) and ``--workers``."""
    return RayOptions(address=args.ray_address or os.environ.get("RAY_ADDRESS") or None,
                      workers=args.workers)  # fmt: skip


@contextmanager
def open_executor(args: argparse.Namespace, *, progress: bool, desc: str) -> Iterator[Executor]:
    """The executor the arguments ask for, open for the block."""
    if getattr(args, "no_ray", False):
        yield InProcessExecutor()
        return
    from microexp.distributed.cluster import ray_session
    from microexp.distributed.ray_executor import RayExecutor

    options = ray_options(args)
    with ray_session(options):
        # a bar over the finished jobs on a terminal, else one line per finished job
        echo = None if progress else (lambda line: print(line, file=sys.stderr, flush=True))
        yield RayExecutor(options, progress=progress, desc=desc, echo=echo)
