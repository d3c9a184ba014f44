"""The sweep config (``config/sweep/NAME.yaml``): a frozen dataclass; unknown or missing keys fail.

Example (``config/sweep/smoke.yaml``)::

    train: ../train/smoke.yaml      # the base training config (relative to this file)
    search:                         # what Tune varies; each key one of PARAMS
      lr: {loguniform: [1.0e-4, 1.0e-2]}
      max_clip_len: {choice: [6, 10]}
      dropout: {uniform: [0.0, 0.5]}
    samples: 4                      # configurations tried per outer fold
    scheduler: {name: asha, grace_epochs: 1, reduction_factor: 2}
    outer_folds: all                # or a list of held-out subjects
    seed: 0
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import yaml

from microexp.errors import ConfigError
from microexp.train.config import TrainConfig, from_mapping, load_train_config

__all__ = ["PARAMS", "Param", "SchedulerConfig", "SearchParam", "SweepConfig", "apply_params",
           "load_sweep_config", "sample_configs"]  # fmt: skip

Param = Literal["lr", "weight_decay", "batch_size", "max_clip_len", "dropout"]
PARAMS: tuple[str, ...] = get_args(Param)
"""Hyperparameters a sweep may vary: the recipe's ``train.*`` keys and the model's dropout."""

Kind = Literal["loguniform", "uniform", "choice"]


@dataclass(frozen=True, slots=True)
class SearchParam:
    name: Param
    kind: Kind
    values: tuple[Any, ...]  # (low, high) for loguniform/uniform, the options for choice


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    name: Literal["asha", "fifo"] = "asha"  # fifo: every configuration runs all its epochs
    grace_epochs: int = 1  # ASHA: epochs before a configuration can be stopped
    reduction_factor: int = 2  # ASHA: keep 1 in this many at each rung


@dataclass(frozen=True, slots=True)
class _SweepFile:
    train: str
    search: dict[str, Any]
    samples: int
    scheduler: SchedulerConfig = SchedulerConfig()
    outer_folds: str | tuple[str, ...] = "all"
    seed: int = 0


@dataclass(frozen=True, slots=True)
class SweepConfig:
    train: TrainConfig  # the base config; each trial changes only the searched keys
    train_path: str
    search: tuple[SearchParam, ...]
    samples: int
    scheduler: SchedulerConfig
    outer_folds: str | tuple[str, ...]
    seed: int


def _param(name: str, spec: Any, where: str) -> SearchParam:
    if name not in PARAMS:
        raise ConfigError(f"{where}.{name}: unknown hyperparameter (known: {', '.join(PARAMS)})")
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise ConfigError(f"{where}.{name}: expected one of {{loguniform|uniform|choice: [...]}}")
    ((kind, values),) = spec.items()
    if kind not in get_args(Kind):
        raise ConfigError(f"{where}.{name}: {kind!r} is not one of {list(get_args(Kind))}")
    if not isinstance(values, list) or not values:
        raise ConfigError(f"{where}.{name}.{kind}: expected a non-empty list, got {values!r}")
    if kind != "choice":
        if len(values) != 2 or not all(isinstance(v, int | float) for v in values):
            raise ConfigError(f"{where}.{name}.{kind}: expected [low, high], got {values!r}")
        low, high = float(values[0]), float(values[1])
        if not low < high or (kind == "loguniform" and low <= 0):
            raise ConfigError(f"{where}.{name}.{kind}: bad range {values!r}")
    return SearchParam(name, kind, tuple(values))  # type: ignore[arg-type]


def load_sweep_config(path: str | Path) -> SweepConfig:
    """Read the sweep YAML; ``train`` is resolved against the sweep file's directory."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text())
    except OSError as err:
        raise ConfigError(f"{p}: cannot read config: {err}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{p}: invalid YAML: {err}") from err
    raw = from_mapping(_SweepFile, data, where=f"{p}:")
    if not raw.search:
        raise ConfigError(f"{p}: search: nothing to search")
    search = tuple(_param(k, v, f"{p}: search") for k, v in raw.search.items())
    if raw.samples < 1:
        raise ConfigError(f"{p}: samples: must be >= 1, got {raw.samples}")
    if raw.scheduler.grace_epochs < 1 or raw.scheduler.reduction_factor < 2:
        raise ConfigError(f"{p}: scheduler: grace_epochs >= 1 and reduction_factor >= 2 needed")
    train_path = Path(raw.train) if Path(raw.train).is_absolute() else p.parent / raw.train
    return SweepConfig(load_train_config(train_path), str(train_path), search, raw.samples,
                       raw.scheduler, raw.outer_folds, raw.seed)  # fmt: skip


def sample_configs(cfg: SweepConfig) -> list[dict[str, Any]]:
    """The ``samples`` configurations, drawn once from ``seed`` (the same for every outer fold)."""
    rng = np.random.default_rng(cfg.seed)
    out = []
    for _ in range(cfg.samples):
        c: dict[str, Any] = {}
        for s in cfg.search:
            if s.kind == "choice":
                c[s.name] = s.values[int(rng.integers(len(s.values)))]
            elif s.kind == "uniform":
                c[s.name] = float(rng.uniform(s.values[0], s.values[1]))
            else:
                lo, hi = np.log(float(s.values[0])), np.log(float(s.values[1]))
                c[s.name] = float(np.exp(rng.uniform(lo, hi)))
        out.append(c)
    return out


def apply_params(base: TrainConfig, params: Mapping[str, Any]) -> TrainConfig:
    """``base`` with the searched hyperparameters set."""
    recipe = {
        k: v for k, v in params.items() if k in ("lr", "weight_decay", "batch_size", "max_clip_len")
    }
    model = dict(base.model)
    if "dropout" in params:
        model["dropout"] = float(params["dropout"])
    return dataclasses.replace(base, train=dataclasses.replace(base.train, **recipe), model=model)
