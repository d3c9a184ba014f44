"""The demo's configuration: a frozen dataclass loaded from YAML (``config/demo/default.yaml``).

Every key is required and unknown keys fail, naming the file and the key. Paths inside the file
(plan, export, training and stream configs) are relative to the file's own directory, so the demo
runs from any working directory. Without ``--config`` the demo looks for
``config/demo/default.yaml`` in the working directory, then in the source checkout.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from microexp.dataset.config import from_mapping
from microexp.errors import ConfigError
from microexp.sim.sensors import SENSOR_NAMES

__all__ = [
    "DEFAULT_CONFIG",
    "DemoConfig",
    "InferSettings",
    "ReportSettings",
    "SimSettings",
    "default_config_path",
    "load_demo_config",
    "subject_ids",
]

DEFAULT_CONFIG = Path("config") / "demo" / "default.yaml"


@dataclass(frozen=True, slots=True)
class SimSettings:
    """How each subject's session is simulated (see ``microexp sim``)."""

    cameras: tuple[str, ...]  # of davis, evk4, webcam; davis is required (training, inference)
    style: Literal["micro", "posed"]
    webcam_size: tuple[int, int]
    webcam_fps: float
    davis_fps: float
    davis_clock_jitter_us: int  # each subject's DAVIS clock is off by a seeded draw in ±this
    chunk_ms: int
    workers: int  # processes simulating subjects in parallel


@dataclass(frozen=True, slots=True)
class InferSettings:
    """Which bag is replayed through the streaming engine, and how."""

    subject: str  # a subject id, "last" or "best" (best fold top-1); replayed with its fold's model
    stream_config: str  # stream config YAML (relative to the demo config)
    backend: Literal["fast", "fast_sparse", "module", "torchscript"]


@dataclass(frozen=True, slots=True)
class ReportSettings:
    rate_bin_ms: int  # event-rate bins of the session timeline
    sample_clips: int  # clips shown as event frames and face crops


@dataclass(frozen=True, slots=True)
class DemoConfig:
    subjects: int
    seed: int
    plan: str  # session plan YAML
    sim: SimSettings
    export_config: str  # export config YAML
    train_config: str  # training config YAML (its `dataset` is replaced by DIR/dataset)
    infer: InferSettings
    report: ReportSettings
    base_dir: str = "."  # directory the relative paths above are resolved against (not in YAML)

    def path(self, value: str) -> Path:
        """A path of this config resolved against its file's directory."""
        p = Path(value)
        return p if p.is_absolute() else Path(self.base_dir) / p


def _check(cfg: DemoConfig, where: str) -> None:
    problems = []
    if cfg.subjects < 2:
        problems.append(f"subjects must be >= 2 for leave-one-subject-out, got {cfg.subjects}")
    unknown = sorted(set(cfg.sim.cameras) - set(SENSOR_NAMES))
    if unknown:
        problems.append(f"sim.cameras: unknown camera(s) {unknown} (known: {list(SENSOR_NAMES)})")
    if "davis" not in cfg.sim.cameras:
        problems.append(
            f"sim.cameras must include davis (training and inference use it), got {list(cfg.sim.cameras)}"
        )
    if cfg.sim.workers < 1 or cfg.sim.chunk_ms < 1:
        problems.append(
            f"sim.workers and sim.chunk_ms must be >= 1 ({cfg.sim.workers}, {cfg.sim.chunk_ms})"
        )
    if cfg.sim.davis_clock_jitter_us < 0:
        problems.append(
            f"sim.davis_clock_jitter_us must be >= 0, got {cfg.sim.davis_clock_jitter_us}"
        )
    if cfg.report.rate_bin_ms < 1 or cfg.report.sample_clips < 1:
        problems.append("report.rate_bin_ms and report.sample_clips must be >= 1")
    for key in ("plan", "export_config", "train_config"):
        if not cfg.path(getattr(cfg, key)).is_file():
            problems.append(f"{key}: no file {cfg.path(getattr(cfg, key))}")
    if not cfg.path(cfg.infer.stream_config).is_file():
        problems.append(f"infer.stream_config: no file {cfg.path(cfg.infer.stream_config)}")
    if problems:
        raise ConfigError(f"{where}: " + "; ".join(problems))


def load_demo_config(path: Path | str) -> DemoConfig:
    """Read and check a demo config; errors name the file and the key."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{p}: cannot read demo config: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{p}: invalid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: a demo config is a mapping, got {type(data).__name__}")
    if "base_dir" in data:
        raise ConfigError(f"{p}: base_dir: unknown key (paths are relative to the file)")
    data = {**data, "base_dir": str(p.resolve().parent)}
    cfg = from_mapping(DemoConfig, data, where=str(p))
    _check(cfg, str(p))
    return cfg


def default_config_path() -> Path:
    """``config/demo/default.yaml`` in the working directory, else in the source checkout."""
    if DEFAULT_CONFIG.is_file():
        return DEFAULT_CONFIG
    checkout = Path(__file__).resolve().parents[3] / DEFAULT_CONFIG
    if checkout.is_file():
        return checkout
    raise ConfigError(
        f"no demo config: {DEFAULT_CONFIG} is neither in {Path.cwd()} nor in the source "
        f"checkout ({checkout}); pass --config"
    )


def subject_ids(n: int) -> list[str]:
    """``s01`` … ``sNN``."""
    return [f"s{i + 1:02d}" for i in range(n)]
