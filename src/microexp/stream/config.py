"""Configuration of the streaming engine (frozen; from YAML with strict keys)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from microexp.errors import ConfigError

__all__ = ["CropSource", "StreamConfig", "load_stream_config"]

CropSource = Literal["fixed", "tracked"]


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """How the engine slices, crops, scores and decides.

    - ``slice_us``: slice length in sensor µs (the paper's T = 33 ms).
    - ``size``: side of the crop fed to the model (64).
    - ``crop``: ``"fixed"`` uses ``roi`` (x, y, width, height in sensor pixels; None = whole
      sensor); ``"tracked"`` uses the last box given to ``update_face_box`` (from a face tracker).
    - ``score_mode`` / ``window_slices`` / ``softmax_temperature``: see :mod:`.decisions`.
    - ``theta_on``/``k_on``, ``theta_off``/``m_off``: hysteresis of onsets and offsets;
      ``onset_top1_only``: only the best-scoring class of a slice counts towards an onset.
    - ``top_k``: labels listed per slice; ``emotion_threshold``: score at which a label counts as
      active for the emotion rules of :mod:`microexp.aus`.
    - ``gap_reset_us``: a silence in sensor time longer than this resets model and decisions.
    - ``face_lost_reset``: in ``tracked`` mode, losing the face resets model and decisions.
    - ``box_margin``: in ``tracked`` mode, a detected box becomes the square around its centre
      enlarged by this fraction per side (the exporter's crop, :func:`microexp.faces.square_box`).
    - ``clip_counts``: per-cell count clip (255, as the dataset's uint8 event frames).
    """

    slice_us: int = 33_000
    size: int = 64
    crop: CropSource = "fixed"
    roi: tuple[int, int, int, int] | None = None
    score_mode: Literal["rate", "softmax"] = "rate"
    window_slices: int = 2
    softmax_temperature: float = 0.1
    theta_on: float = 0.3
    theta_off: float = 0.15
    k_on: int = 2
    m_off: int = 3
    onset_top1_only: bool = True
    top_k: int = 3
    emotion_threshold: float = 0.5
    gap_reset_us: int = 500_000
    face_lost_reset: bool = True
    box_margin: float = 0.15
    clip_counts: int = 255

    def __post_init__(self) -> None:
        problems = []
        if self.slice_us <= 0:
            problems.append(f"slice_us must be positive, got {self.slice_us}")
        if self.size <= 0:
            problems.append(f"size must be positive, got {self.size}")
        if self.crop not in ("fixed", "tracked"):
            problems.append(f"crop must be 'fixed' or 'tracked', got {self.crop!r}")
        if self.roi is not None and (len(self.roi) != 4 or self.roi[2] <= 0 or self.roi[3] <= 0):
            problems.append(f"roi must be [x, y, width, height] with positive size, got {self.roi}")
        if self.score_mode not in ("rate", "softmax"):
            problems.append(f"score_mode must be 'rate' or 'softmax', got {self.score_mode!r}")
        if self.window_slices < 1:
            problems.append(f"window_slices must be ≥ 1, got {self.window_slices}")
        if self.theta_off > self.theta_on:
            problems.append(f"theta_off {self.theta_off} exceeds theta_on {self.theta_on}")
        if self.k_on < 1 or self.m_off < 1:
            problems.append(f"k_on and m_off must be ≥ 1, got {self.k_on}, {self.m_off}")
        if not 0.0 <= self.box_margin < 1.0:
            problems.append(f"box_margin must be in [0, 1), got {self.box_margin}")
        if self.top_k < 1:
            problems.append(f"top_k must be ≥ 1, got {self.top_k}")
        if self.gap_reset_us <= self.slice_us:
            problems.append(
                f"gap_reset_us {self.gap_reset_us} must exceed slice_us {self.slice_us}"
            )
        if problems:
            raise ConfigError("stream config: " + "; ".join(problems))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "<mapping>") -> StreamConfig:
        """Build from a mapping; every field is required, unknown keys are refused."""
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(names))
        missing = [n for n in names if n not in data]
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {', '.join(unknown)} in stream config")
        if missing:
            raise ConfigError(f"{source}: missing key(s) {', '.join(missing)} in stream config")
        values = dict(data)
        if values["roi"] is not None:
            values["roi"] = tuple(int(v) for v in values["roi"])
        try:
            return cls(**values)
        except ConfigError as err:
            raise ConfigError(f"{source}: {err}") from err
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{source}: bad stream config value: {err}") from err

    def to_mapping(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        if self.roi is not None:
            out["roi"] = list(self.roi)
        return out


def load_stream_config(path: str | Path) -> StreamConfig:
    """Read a YAML file holding the stream config (top level, or under a ``stream:`` key)."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{p}: cannot read stream config: {err}") from err
    if isinstance(data, Mapping) and set(data) == {"stream"}:
        data = data["stream"]
    if not isinstance(data, Mapping):
        raise ConfigError(f"{p}: stream config must be a mapping, got {type(data).__name__}")
    return StreamConfig.from_mapping(data, source=str(p))
