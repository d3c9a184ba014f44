"""Step 4 of the demo: leave-one-subject-out training, folds spread over worker processes.

The paper's SNN at batch 8 barely gains from a second torch thread on a small CPU (measured here:
T = 32 steps, one training step ~0.7 s with one thread and about the same wall time with two),
so the demo trains whole folds side by side, one process and one thread each. Each worker runs
:func:`microexp.train.loso.train_loso` on its share of the folds in ``parts/<k>``; the finished
fold directories are then moved into the run directory and a final ``train_loso(resume=True)``
over all folds finds every fold done (a fold's seed depends only on its index among all folds,
so the result equals a sequential run) and writes the pooled results, tables and confusion
matrix exactly as ``microexp train`` does.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, wait
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from microexp.train.config import TrainConfig

__all__ = ["WORKER_ENV", "fold_subjects", "train_demo", "worker_env"]

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


def fold_subjects(dataset: Path) -> list[str]:
    """Test subjects of the dataset's LOSO folds, in fold order."""
    from microexp.dataset.torch_dataset import loso_folds, read_clips

    return [f.test_subject for f in loso_folds(dataset, read_clips(dataset)) if f.train and f.test]


def _train_part(cfg: TrainConfig, out: str, threads: int, messages: Any | None) -> dict[str, Any]:
    import torch

    from microexp.train.allocator import keep_large_blocks_in_heap
    from microexp.train.loso import train_loso

    torch.set_num_threads(threads)
    keep_large_blocks_in_heap()  # this worker process is ours: half a step's CPU otherwise
    logging.getLogger("torch._library.triton").setLevel(logging.ERROR)  # "Triton not available"

    def on_epoch(subject: str, epoch: int, stats: dict[str, float]) -> None:
        if messages is not None:
            messages.put(
                f"  fold {subject} epoch {epoch}/{cfg.train.epochs}: loss {stats['loss']:.4f}, "
                f"{stats['seconds']:.1f} s"
            )

    return train_loso(cfg, out, progress=False, on_epoch_end=on_epoch)


def train_demo(
    cfg: TrainConfig,
    run_dir: Path,
    *,
    workers: int,
    echo: Callable[[str], Any] = lambda _s: None,
    progress: bool = False,
) -> dict[str, Any]:
    """Train every fold of ``cfg`` into ``run_dir``; return ``train_loso``'s summary."""
    from microexp.train.loso import train_loso

    subjects = fold_subjects(Path(cfg.dataset))
    workers = max(1, min(workers, len(subjects)))
    if workers == 1:

        def on_epoch(subject: str, epoch: int, stats: dict[str, float]) -> None:
            echo(f"  fold {subject} epoch {epoch}/{cfg.train.epochs}: loss {stats['loss']:.4f}, "
                 f"{stats['seconds']:.1f} s")  # fmt: skip

        return train_loso(cfg, run_dir, progress=progress, on_epoch_end=on_epoch)
    shares: list[list[str]] = [subjects[k::workers] for k in range(workers)]
    parts_root = run_dir.parent / f"{run_dir.name}_parts"
    ctx = get_context("spawn")  # torch/OpenMP threads do not survive fork
    with worker_env(), ctx.Manager() as manager:
        messages = manager.Queue()
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [
                pool.submit(
                    _train_part,
                    dataclasses.replace(cfg, folds=tuple(share)),
                    str(parts_root / f"worker{k}"),
                    1,
                    messages,
                )
                for k, share in enumerate(shares)
            ]
            pending = set(futures)
            while pending:
                _done, pending = wait(pending, timeout=0.5)
                _drain(messages, echo)
            _drain(messages, echo)
            for fut in futures:
                fut.result()  # re-raise a worker's error here
    run_dir.mkdir(parents=True, exist_ok=True)
    for k in range(workers):
        for fold in sorted((parts_root / f"worker{k}").glob("fold_*")):
            shutil.move(str(fold), str(run_dir / fold.name))
    t0 = time.perf_counter()
    summary = train_loso(cfg, run_dir, resume=True, progress=False)
    log.info("pooled %d folds in %.1f s", len(subjects), time.perf_counter() - t0)
    return summary


def _drain(messages: Any, echo: Callable[[str], Any]) -> None:
    while True:
        try:
            echo(messages.get_nowait())
        except queue.Empty:
            return
        except (EOFError, OSError):  # manager gone
            return
