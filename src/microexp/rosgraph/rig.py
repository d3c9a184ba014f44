"""The rig description (``config/rig/rig.yaml``) as frozen dataclasses, strictly validated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from microexp.errors import ConfigError

__all__ = ["CameraRig", "DriverRef", "RigConfig", "RigTopic", "default_rig_dir", "load_rig"]


@dataclass(frozen=True)
class RigTopic:
    name: str
    msgtype: str
    qos: str  # auto | reliable | sensor_data | latched
    wait: bool  # recording waits for it
    sim: bool  # the simulator publishes it too
    modality: str = ""  # camera topics: what it records of the face (events, grey, rgb, none)


@dataclass(frozen=True)
class DriverRef:
    package: str
    executable: str
    name: str
    params: Path


@dataclass(frozen=True)
class CameraRig:
    name: str
    driver: DriverRef
    remappings: tuple[tuple[str, str], ...]
    topics: tuple[RigTopic, ...]
    sim_params: Path


@dataclass(frozen=True)
class RigConfig:
    directory: Path
    cameras: Mapping[str, CameraRig]
    default_cameras: tuple[str, ...]
    protocol_topics: tuple[RigTopic, ...]
    sim_topics: tuple[RigTopic, ...]

    def file(self, name: str) -> Path:
        """A file of the rig directory (must exist)."""
        path = self.directory / name
        if not path.is_file():
            raise ConfigError(
                f"{self.directory / 'rig.yaml'}: referenced file {path} does not exist"
            )
        return path


def default_rig_dir() -> Path:
    """``config/rig`` of the repository this module is in (a source checkout)."""
    return Path(__file__).resolve().parents[3] / "config" / "rig"


def _keys(
    obj: Any, where: str, required: set[str], optional: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(obj, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(obj).__name__}")
    missing = sorted(required - set(obj))
    unknown = sorted(set(obj) - required - optional)
    if missing:
        raise ConfigError(f"{where}: missing key(s) {missing}")
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}")
    return dict(obj)


_MODALITIES = ("events", "grey", "rgb", "none")


def _topics(obj: Any, where: str, *, camera: bool = False) -> tuple[RigTopic, ...]:
    keys = {"type", "qos", "wait", "sim"} | ({"modality"} if camera else set())
    if not isinstance(obj, Mapping):
        raise ConfigError(f"{where}: expected a mapping of topic -> {sorted(keys)}")
    out = []
    for name, spec in obj.items():
        d = _keys(spec, f"{where}.{name}", keys)
        if camera and d["modality"] not in _MODALITIES:
            raise ConfigError(
                f"{where}.{name}.modality: {d['modality']!r} is not one of {list(_MODALITIES)}"
            )
        if d["qos"] not in ("auto", "reliable", "sensor_data", "latched"):
            raise ConfigError(
                f"{where}.{name}.qos: {d['qos']!r} is not auto/reliable/sensor_data/latched"
            )
        if not str(name).startswith("/"):
            raise ConfigError(f"{where}: topic {name!r} must be absolute")
        out.append(
            RigTopic(
                str(name),
                str(d["type"]),
                str(d["qos"]),
                bool(d["wait"]),
                bool(d["sim"]),
                str(d.get("modality", "")),
            )
        )
    return tuple(out)


def load_rig(directory: Path | None = None) -> RigConfig:
    """Load ``rig.yaml`` from ``directory`` (default: the repository's ``config/rig``)."""
    directory = Path(directory) if directory is not None else default_rig_dir()
    path = directory / "rig.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the rig description: {err}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML: {err}") from err
    top = _keys(raw, str(path), {"cameras", "default_cameras", "protocol_topics", "sim_topics"})
    cameras = {}
    for cam, spec in _keys(
        top["cameras"], f"{path}: cameras", set(), set(top["cameras"] or {})
    ).items():
        where = f"{path}: cameras.{cam}"
        d = _keys(spec, where, {"driver", "remappings", "topics", "sim_params"})
        drv = _keys(d["driver"], f"{where}.driver", {"package", "executable", "name", "params"})
        remaps = d["remappings"] or {}
        if not isinstance(remaps, Mapping):
            raise ConfigError(f"{where}.remappings: expected a mapping from -> to")
        cameras[str(cam)] = CameraRig(
            name=str(cam),
            driver=DriverRef(
                str(drv["package"]),
                str(drv["executable"]),
                str(drv["name"]),
                directory / str(drv["params"]),
            ),
            remappings=tuple((str(k), str(v)) for k, v in remaps.items()),
            topics=_topics(d["topics"], f"{where}.topics", camera=True),
            sim_params=directory / str(d["sim_params"]),
        )
    defaults = tuple(str(c) for c in top["default_cameras"] or ())
    unknown = sorted(set(defaults) - set(cameras))
    if unknown:
        raise ConfigError(f"{path}: default_cameras names unknown camera(s) {unknown}")
    return RigConfig(
        directory=directory,
        cameras=cameras,
        default_cameras=defaults,
        protocol_topics=_topics(top["protocol_topics"], f"{path}: protocol_topics"),
        sim_topics=_topics(top["sim_topics"], f"{path}: sim_topics"),
    )
