"""Several training runs as one pool of jobs (``microexp batch``): whole Table-5 and Table-6 runs.

A batch config lists runs, each a ``train`` (LOSO classification, Table 5) or ``reconstruct``
(cVAE, Table 6) config; every fold of every run becomes one job, so the workers stay busy until
the last fold of the last run (``config/batch/synthetic_benchmark.yaml``). Paths in the file are
relative to its directory; each run writes ``OUT/<name>/`` exactly as its own command would.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from microexp.errors import ConfigError
from microexp.train.config import load_config, load_reconstruct_config, load_train_config
from microexp.train.loso import plan_loso
from microexp.train.plan import RunPlan
from microexp.train.reconstruct import plan_reconstruction

__all__ = ["BatchConfig", "BatchRun", "load_batch_config", "plan_batch"]


@dataclass(frozen=True, slots=True)
class BatchRun:
    name: str  # the run's directory under OUT
    kind: Literal["train", "reconstruct"]
    config: str  # its config YAML (relative to the batch file)


@dataclass(frozen=True, slots=True)
class BatchConfig:
    runs: tuple[BatchRun, ...]
    base_dir: str = "."  # the batch file's directory (not in YAML)


@dataclass(frozen=True, slots=True)
class _BatchFile:
    runs: tuple[BatchRun, ...]


def load_batch_config(path: str | Path) -> BatchConfig:
    raw = load_config(_BatchFile, path)
    names = [r.name for r in raw.runs]
    if not names:
        raise ConfigError(f"{path}: runs: no run listed")
    if len(set(names)) != len(names) or any(not n or "/" in n for n in names):
        raise ConfigError(f"{path}: runs: names must be unique directory names, got {names}")
    return BatchConfig(raw.runs, str(Path(path).parent))


def plan_batch(
    cfg: BatchConfig, out_dir: str | Path, *, dataset: str | None = None, resume: bool = False
) -> list[RunPlan]:
    """One :class:`RunPlan` per run (``dataset`` replaces every run's dataset when given)."""
    out = Path(out_dir)
    plans = []
    for run in cfg.runs:
        path = (
            Path(run.config) if Path(run.config).is_absolute() else Path(cfg.base_dir) / run.config
        )
        if run.kind == "train":
            t = load_train_config(path)
            t = t if dataset is None else dataclasses.replace(t, dataset=dataset)
            plans.append(plan_loso(t, out / run.name, resume=resume))
        else:
            r = load_reconstruct_config(path)
            r = r if dataset is None else dataclasses.replace(r, dataset=dataset)
            plans.append(plan_reconstruction(r, out / run.name, resume=resume))
    return plans
