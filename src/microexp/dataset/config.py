"""Typed export/import configuration, loaded from YAML; unknown or missing keys fail by name.

Example (``config/dataset/export.yaml``)::

    margin_s: 1.0
    slice_us: 33000
    crop_size: 64
    protocol_topic: /microexp/protocol
    session_topic: /microexp/session
    cameras:
      - {name: davis, events_topic: /davis/events, frames_topic: /davis/image,
         frame_clock: sensor, frames_modality: grey}
      - {name: evk4, events_topic: /evk4/events, frames_topic: "", frame_clock: ros,
         frames_modality: ""}
      - {name: webcam, events_topic: "", frames_topic: /webcam/image_raw, frame_clock: ros,
         frames_modality: rgb}
    detector: {kind: dlib_hog, every_n_frames: 5, hold_frames: 15, smoothing: 0.5, ...}
    box_source: {evk4: davis}
    view_mappings: {evk4: {source: davis, matrix: [[...], [...], [...]]}}
    trim: {mode: activity, camera: davis, threshold_mad: 4.0, merge_gap_slices: 3}
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

import yaml

from microexp.errors import ConfigError

__all__ = [
    "CameraConfig",
    "DetectorConfig",
    "ExportConfig",
    "ImportConfig",
    "TrimConfig",
    "TrimMode",
    "ViewMappingConfig",
    "config_to_dict",
    "from_mapping",
    "load_export_config",
    "load_import_config",
]

DetectorKind = Literal["dlib_hog", "bright_ellipse", "fixed"]


@dataclass(frozen=True, slots=True)
class CameraConfig:
    name: str  # "davis", "evk4", "webcam" (file names use it)
    events_topic: str = ""  # empty: camera has no events
    frames_topic: str = ""  # empty: camera has no frames
    # clock of the frames' header.stamp: "ros" (host time: webcams) or "sensor" (the camera's own
    # clock, mapped like its events: dv-ros2 stamps DAVIS APS frames with the exposure start)
    frame_clock: Literal["ros", "sensor"] = "ros"
    # what the frames are, for the subject's consent: "grey" (DAVIS346 APS), "rgb" (webcam
    # video); "" for a camera without frames
    frames_modality: Literal["", "grey", "rgb"] = ""


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Face detector and tracker settings (see :mod:`microexp.faces`)."""

    kind: DetectorKind = "dlib_hog"
    every_n_frames: int = 5  # run the detector on every n-th frame
    hold_frames: int = 15  # keep the last box this many frames when detection fails
    smoothing: float = 0.5  # exponential smoothing of box corners (0 = none)
    upsample: int = 0  # dlib HOG: image upsampling steps (faces < 80 px need 1; 4x slower)
    margin: float = 0.15  # enlarge boxes by this fraction on each side before cropping
    fixed_box: tuple[int, ...] = ()  # x, y, w, h for kind "fixed" (empty: whole image)
    fallback: DetectorKind | Literal[""] = ""  # tried when the main detector finds nothing
    max_side: int = 640  # frames are downscaled to this longest side for detection


TrimMode = Literal["perform_window", "ground_truth", "activity"]


@dataclass(frozen=True, slots=True)
class TrimConfig:
    """How a clip's interval is chosen (``margin_s`` is added on each side of it).

    - ``perform_window``: the protocol's perform window (the whole instructed interval);
    - ``ground_truth``: onset → offset of the simulator's ``/microexp/ground_truth`` action in the
      perform window (simulated bags; falls back to ``perform_window`` where there is none);
    - ``activity``: the burst of event activity in ``camera``'s face crop inside the perform
      window (real bags; :mod:`microexp.dataset.trim`), like the paper's onset → apex → offset
      clips. Falls back to ``perform_window`` when no burst stands out.
    """

    mode: TrimMode = "perform_window"
    camera: str = "davis"  # activity: the event camera whose face-crop event rate is measured
    threshold_mad: float = 4.0  # activity: above baseline median + this many robust sigmas (MAD)
    merge_gap_slices: int = 3  # activity: bursts this close (slices) are one burst


@dataclass(frozen=True, slots=True)
class ViewMappingConfig:
    """A 3×3 homography from ``source`` camera pixels to this camera's pixels."""

    source: str
    matrix: tuple[tuple[float, ...], ...] = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


def _default_cameras() -> tuple[CameraConfig, ...]:
    return (
        CameraConfig("davis", "/davis/events", "/davis/image", "sensor", "grey"),
        CameraConfig("evk4", "/evk4/events", ""),
        CameraConfig("webcam", "", "/webcam/image_raw", "ros", "rgb"),
    )


@dataclass(frozen=True, slots=True)
class ExportConfig:
    """Settings of ``microexp export`` (bags → dataset)."""

    margin_s: float = 1.0  # neutral margin before onset and after offset
    slice_us: int = 33000  # event-frame slice (paper: 33 ms)
    crop_size: int = 64  # crops and event frames are crop_size × crop_size
    protocol_topic: str = "/microexp/protocol"
    session_topic: str = "/microexp/session"
    cameras: tuple[CameraConfig, ...] = field(default_factory=_default_cameras)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    box_source: dict[str, str] = field(default_factory=lambda: {"evk4": "davis"})
    view_mappings: dict[str, ViewMappingConfig] = field(default_factory=dict)
    offset_window_packets: int = 51  # running median window of the sensor→ROS offset
    close_slack_s: float = 2.0  # a clip is finalised once the bag is this far past its end
    trim: TrimConfig = field(default_factory=TrimConfig)  # the clip's interval (TrimConfig)

    def __post_init__(self) -> None:
        if self.margin_s < 0 or self.slice_us <= 0 or self.crop_size <= 0:
            raise ConfigError(
                f"margin_s, slice_us, crop_size must be >= 0, > 0, > 0 "
                f"(got {self.margin_s}, {self.slice_us}, {self.crop_size})"
            )
        names = [c.name for c in self.cameras]
        if len(set(names)) != len(names):
            raise ConfigError(f"camera names repeat: {names}")
        for c in self.cameras:
            if bool(c.frames_topic) != bool(c.frames_modality):
                raise ConfigError(
                    f"camera {c.name}: frames_modality {c.frames_modality!r} with frames_topic "
                    f"{c.frames_topic!r}: a camera with frames says whether they are grey or rgb "
                    "(the subject's consent decides per modality), one without says ''"
                )
        if self.trim.mode == "activity" and self.trim.camera not in names:
            raise ConfigError(f"trim.camera {self.trim.camera!r} is not one of the cameras {names}")
        if self.trim.threshold_mad <= 0 or self.trim.merge_gap_slices < 0:
            raise ConfigError(
                f"trim: threshold_mad must be > 0 and merge_gap_slices >= 0 (got "
                f"{self.trim.threshold_mad}, {self.trim.merge_gap_slices})"
            )

    @property
    def margin_ns(self) -> int:
        return round(self.margin_s * 1e9)

    def camera(self, name: str) -> CameraConfig:
        for c in self.cameras:
            if c.name == name:
                return c
        raise ConfigError(f"no camera {name!r} in the export config")


@dataclass(frozen=True, slots=True)
class ImportConfig:
    """Settings of ``microexp import`` (AEDAT4 takes → dataset)."""

    slice_us: int = 33000
    crop_size: int = 64
    roi: tuple[int, ...] = ()  # x, y, w, h face box on the sensor; empty: whole sensor
    onset_s: float = 5.0  # the report's hand signal: movement cued 5 s after the start
    margin_s: float = 1.0
    perform_s: float = 3.0  # assumed movement length after the cue (labels carry no offset)
    camera: str = "davis"  # file suffix used for the events of a take
    whole_take: bool = True  # keep the whole take (the report's clips are ~8 s) else cue window


T = TypeVar("T")


def _convert(tp: Any, value: Any, where: str, strict: bool = True) -> Any:
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return from_mapping(tp, value, where=where, strict=strict)
    if origin is Literal:
        if value not in get_args(tp):
            raise ConfigError(f"{where}: {value!r} is not one of {get_args(tp)}")
        return value
    if origin in (typing.Union, types.UnionType):
        errors = []
        for arg in get_args(tp):
            try:
                return _convert(arg, value, where, strict)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(f"{where}: {value!r} fits none of {tp} ({'; '.join(errors)})")
    if origin is tuple:
        args = get_args(tp)
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{where}[{i}]", strict) for i, v in enumerate(value))
        if len(args) != len(value):
            raise ConfigError(f"{where}: expected {len(args)} items, got {value!r}")
        return tuple(
            _convert(a, v, f"{where}[{i}]", strict)
            for i, (a, v) in enumerate(zip(args, value, strict=True))
        )
    if origin is dict:
        kt, vt = get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return {
            _convert(kt, k, where, strict): _convert(vt, v, f"{where}.{k}", strict)
            for k, v in value.items()
        }
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp in (int, str, bool):
        if type(value) is not tp:
            raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}")
        return value
    return value


def from_mapping(cls: type[T], data: Any, *, where: str, strict: bool = True) -> T:
    """Build dataclass ``cls`` from a mapping; unknown keys and bad types raise ConfigError.

    With ``strict`` (the default) every field must be given, defaults or not: a config file
    states every setting (the shipped ``config/dataset/*.yaml`` are complete templates).
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping for {cls.__name__}, got {data!r}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown} (known: {sorted(fields)})")
    kwargs = {}
    for name, f in fields.items():
        if name not in data:
            if strict or (
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            ):
                raise ConfigError(f"{where}: missing key {name!r}")
            continue
        kwargs[name] = _convert(hints[name], data[name], f"{where}.{name}", strict)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: {err}") from err


def _load(cls: type[T], path: Path | None) -> T:
    if path is None:
        return cls()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError(f"{path}: cannot read config: {err}") from err
    return from_mapping(cls, data or {}, where=str(path))


def load_export_config(path: Path | None) -> ExportConfig:
    """The export config in ``path`` (every key required), or the defaults when ``path`` is None."""
    return _load(ExportConfig, path)


def load_import_config(path: Path | None) -> ImportConfig:
    return _load(ImportConfig, path)


def config_to_dict(cfg: Any) -> Any:
    """Plain dicts / lists (JSON-, YAML- and torch.save-safe) of a config dataclass: recorded in
    dataset.json and in every training checkpoint."""
    if dataclasses.is_dataclass(cfg) and not isinstance(cfg, type):
        return {f.name: config_to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, tuple | list):
        return [config_to_dict(v) for v in cfg]
    if isinstance(cfg, dict):
        return {k: config_to_dict(v) for k, v in cfg.items()}
    return cfg
