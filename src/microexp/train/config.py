"""Typed training configs (frozen dataclasses) loaded from YAML; unknown or missing keys fail.

``microexp train`` reads a :class:`TrainConfig` (example: ``config/train/paper_snn.yaml``),
``microexp reconstruct`` a :class:`ReconstructConfig` (``config/train/cvae_davis.yaml``). Every
error names the file and the dotted key. Paths in a config are relative to the working directory.
The resolved config (a plain dict, :func:`config_to_dict`) is stored in every checkpoint.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

import yaml

from microexp.dataset.config import config_to_dict
from microexp.errors import ConfigError

__all__ = [
    "CVAEConfig",
    "ReconstructConfig",
    "SyntheticConfig",
    "TrainConfig",
    "TrainRecipe",
    "config_to_dict",
    "from_mapping",
    "load_config",
    "load_reconstruct_config",
    "load_train_config",
]

Modality = Literal["events", "grey", "rgb"]
Device = Literal["auto", "cpu", "cuda"]


@dataclass(frozen=True, slots=True)
class SyntheticConfig:
    """Generate a synthetic dataset at ``dataset`` first (see :mod:`microexp.train.synthetic`)."""

    subjects: tuple[str, ...] = ("s01", "s02", "s03")
    labels: tuple[str, ...] = ("AU2", "AU12", "AU26")
    clips_per_label: int = 2
    t_min: int = 10
    t_max: int = 16
    rgb_camera: str | None = None
    seed: int = 0


@dataclass(frozen=True, slots=True)
class TrainRecipe:
    """The paper's recipe by default: MSE on one-hot, Adam 1e-3, cosine annealing, 100 epochs, batch 8."""

    epochs: int = 100
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 0.0
    loss: Literal["mse", "ce"] = "mse"
    scheduler: Literal["cosine", "none"] = "cosine"
    max_clip_len: int | None = None  # crop longer clips to this many steps (None: keep all)
    crop: Literal["center", "start", "random"] = "center"  # training crop; evaluation uses center
    max_steps_per_epoch: int | None = None  # cap (smoke runs)
    num_workers: int = 0
    eval_batch_size: int = 8
    # evaluate the held-out subject after every epoch (history: test_top1/3/5), for a "best over
    # epochs" row beside the final one: the report quotes its best test accuracy over epochs
    eval_every_epoch: bool = False


@dataclass(frozen=True, slots=True)
class TrainConfig:
    dataset: str
    camera: str
    modality: Modality
    model: dict[str, Any]  # build_model() keywords; num_classes / in_channels are filled in
    classes: str | tuple[str, ...] = "from_dataset"  # or "paper" (21 AUs), "report" (7), a list
    train: TrainRecipe = TrainRecipe()
    folds: str | tuple[str, ...] = "all"  # or a list of test subjects
    seed: int = 0
    device: Device = "auto"
    synthetic: SyntheticConfig | None = None


@dataclass(frozen=True, slots=True)
class CVAEConfig:
    latent: int = 32
    width: int = 32
    size: int = 64


@dataclass(frozen=True, slots=True)
class ReconstructConfig:
    dataset: str
    event_camera: str  # the condition: accumulated event frames of this camera
    target_camera: str = "davis"  # the target: grey face crops of this camera
    window_slices: int = 1  # event slices accumulated into the condition
    cap: float = 4.0  # counts saturate at cap (condition = min(counts, cap) / cap)
    model: CVAEConfig = CVAEConfig()
    epochs: int = 100
    batch_size: int = 16
    lr: float = 1e-3
    beta: float = 1.0  # weight of the KL term
    folds: str | tuple[str, ...] = "all"  # LOSO test subjects, like training
    max_steps_per_epoch: int | None = None
    grid_rows: int = 6
    seed: int = 0
    device: Device = "auto"
    synthetic: SyntheticConfig | None = None


T = TypeVar("T")


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _convert(a, value, where)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[-1] if errors else f"{where}: bad value {value!r}")
    if origin is Literal:
        if value not in get_args(tp):
            raise ConfigError(f"{where}: {value!r} is not one of {list(get_args(tp))}")
        return value
    if dataclasses.is_dataclass(tp):
        return from_mapping(tp, value, where=where)  # type: ignore[arg-type]
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item,) = get_args(tp)[:1]
        return tuple(_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp in (int, str, bool) and type(value) is tp:
        return value
    raise ConfigError(f"{where}: expected {getattr(tp, '__name__', tp)}, got {value!r}")


def from_mapping(cls: type[T], data: Any, *, where: str) -> T:
    """Build dataclass ``cls`` from ``data``; ``where`` prefixes errors (``file.yaml: key``)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    sep = "." if not where.endswith(":") else " "
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where}{sep}{unknown[0]}: unknown key (known: {', '.join(fields)})")
    kwargs = {}
    for name, f in fields.items():
        key = f"{where}{sep}{name}"
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{key}: missing required key")
            continue
        kwargs[name] = _convert(hints[name], data[name], key)
    return cls(**kwargs)


def load_config(cls: type[T], path: str | Path) -> T:
    """Read YAML ``path`` into dataclass ``cls``."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text())
    except OSError as err:
        raise ConfigError(f"{p}: cannot read config: {err}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{p}: invalid YAML: {err}") from err
    return from_mapping(cls, data, where=f"{p}:")


def load_train_config(path: str | Path) -> TrainConfig:
    cfg = load_config(TrainConfig, path)
    if "name" not in cfg.model:
        raise ConfigError(f"{path}: model.name: missing required key")
    if isinstance(cfg.classes, str) and cfg.classes not in ("from_dataset", "paper", "report"):
        raise ConfigError(
            f"{path}: classes: {cfg.classes!r} is not a list nor one of from_dataset, paper, report"
        )
    if cfg.train.epochs < 1 or cfg.train.batch_size < 1:
        raise ConfigError(f"{path}: train.epochs and train.batch_size must be >= 1")
    return cfg


def load_reconstruct_config(path: str | Path) -> ReconstructConfig:
    return load_config(ReconstructConfig, path)
