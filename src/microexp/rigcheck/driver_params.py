"""The parameters each camera driver declares or reads at its pinned commit, recorded in
``config/rig/driver_params/<package>.yaml`` by ``tools/driver_params.py``, and the check of a
driver's YAML file (``node_name: ros__parameters:``) against them.

Why it matters: metavision_driver declares every key of its YAML file
(``automatically_declare_parameters_from_overrides``) and reads only the ones it knows, so a
misspelt key is accepted and silently ignored; dv-ros2 and gscam drop unknown keys without a word.
A value of the wrong type (``1`` where the driver reads a double) or an empty list (ROS 2's YAML
parser cannot type it: the node receives an unset value) makes the driver throw at start-up.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from microexp.errors import ConfigError

__all__ = [
    "DriverParams",
    "ParamSpec",
    "ParamType",
    "check_node_params",
    "driver_params_dir",
    "load_driver_params",
    "node_param_values",
]

ParamType = Literal[
    "bool",
    "integer",
    "double",
    "string",
    "bool_array",
    "integer_array",
    "double_array",
    "string_array",
    "any",
]
_TYPES: tuple[str, ...] = get_args(ParamType)


@dataclass(frozen=True)
class ParamSpec:
    name: str
    ptype: ParamType
    source: str  # file:line at the recorded commit


@dataclass(frozen=True)
class DriverParams:
    """One driver's recorded parameter list."""

    path: Path
    package: str
    version: str
    commit: str
    repository: str
    undeclared_keys: str
    install: str  # how a user gets this driver
    parameters: Mapping[str, ParamSpec]
    prefixes: Mapping[str, ParamSpec]  # "prophesee_pin_config." -> any key below it

    def lookup(self, key: str) -> ParamSpec | None:
        if key in self.parameters:
            return self.parameters[key]
        return next((s for p, s in self.prefixes.items() if key.startswith(p)), None)

    @property
    def where(self) -> str:
        return (
            f"{self.package} {self.version} ({self.repository or 'upstream'} @ {self.commit[:7]})"
        )


def driver_params_dir(rig_dir: Path) -> Path:
    return rig_dir / "driver_params"


def _specs(obj: Any, where: str) -> dict[str, ParamSpec]:
    if not isinstance(obj, Mapping):
        raise ConfigError(f"{where}: expected a mapping of name -> {{type, source}}")
    out = {}
    for name, spec in obj.items():
        if not isinstance(spec, Mapping) or spec.get("type") not in _TYPES:
            raise ConfigError(f"{where}.{name}: type must be one of {list(_TYPES)}")
        out[str(name)] = ParamSpec(str(name), spec["type"], str(spec.get("source", "")))
    return out


def load_driver_params(path: Path) -> DriverParams:
    """Read one recorded list (written by ``tools/driver_params.py``)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(
            f"{path}: no recorded parameter list ({err.strerror}); record it with "
            "tools/driver_params.py from a checkout of the driver's pinned commit"
        ) from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML: {err}") from err
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path}: expected a mapping")
    missing = sorted({"package", "version", "commit", "parameters"} - set(raw))
    if missing:
        raise ConfigError(f"{path}: missing key(s) {missing}")
    return DriverParams(
        path=path,
        package=str(raw["package"]),
        version=str(raw["version"]),
        commit=str(raw["commit"]),
        repository=str(raw.get("repository", "")),
        undeclared_keys=str(raw.get("undeclared_keys", "")),
        install=str(raw.get("install", "")),
        parameters=_specs(raw["parameters"], f"{path}: parameters"),
        prefixes=_specs(raw.get("prefixes") or {}, f"{path}: prefixes"),
    )


def _flatten(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """ROS 2 YAML nesting -> dotted parameter names (``a: {b: 1}`` is parameter ``a.b``)."""
    for key, value in values.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def node_param_values(params_file: Path, node_name: str) -> dict[str, Any]:
    """The parameters ``params_file`` gives node ``node_name`` (its own section and ``/**``),
    flattened to dotted names."""
    try:
        doc = yaml.safe_load(params_file.read_text(encoding="utf-8")) or {}
    except OSError as err:
        raise ConfigError(f"{params_file}: cannot read: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"{params_file}: invalid YAML: {err}") from err
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{params_file}: expected node_name: ros__parameters: ...")
    out: dict[str, Any] = {}
    name = node_name.lstrip("/")
    for section in ("/**", name, "/" + name):
        body = doc.get(section)
        if body is None:
            continue
        if not isinstance(body, Mapping) or not isinstance(body.get("ros__parameters"), Mapping):
            raise ConfigError(f"{params_file}: {section}: expected a ros__parameters: mapping")
        out.update(_flatten(body["ros__parameters"]))
    return out


def _type_problem(value: Any, ptype: ParamType) -> str | None:
    """Why ``value`` (as YAML loaded it) does not have the ROS type ``ptype``, or None."""
    if ptype == "any":
        return None
    if isinstance(value, list):
        if not value:
            return (
                "is an empty list, which ROS 2's YAML parser cannot type (the node gets an "
                "unset value); leave the key out to keep the driver's default"
            )
        if not ptype.endswith("_array"):
            return f"is a list; the driver reads a {ptype}"
        element = ptype.removesuffix("_array")
        bad = [v for v in value if _type_problem(v, element) is not None]  # type: ignore[arg-type]
        return f"has element(s) {bad!r}; the driver reads a {ptype}" if bad else None
    if ptype.endswith("_array"):
        return f"is a single value; the driver reads a {ptype}"
    ok = {
        "bool": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "double": isinstance(value, float),
        "string": isinstance(value, str),
    }[ptype]
    if ok:
        return None
    hint = (
        " (write it with a decimal point)" if ptype == "double" and isinstance(value, int) else ""
    )
    return f"is {type(value).__name__} {value!r}; the driver reads a {ptype}{hint}"


def check_node_params(
    *, params_file: Path, node_name: str, record: DriverParams
) -> list[tuple[str, str]]:
    """``(key, problem)`` for every key of ``params_file`` for ``node_name`` that the driver does
    not declare or read at the recorded commit, or whose value has the wrong type."""
    problems = []
    known = [*record.parameters, *record.prefixes]
    for key, value in node_param_values(params_file, node_name).items():
        spec = record.lookup(key)
        if spec is None:
            close = difflib.get_close_matches(key, known, n=1)
            problems.append(
                (
                    key,
                    f"{record.where} neither declares nor reads it"
                    + (f" (did you mean {close[0]!r}?)" if close else "")
                    + f"; its parameters are listed in {record.path.name}",
                )
            )
            continue
        issue = _type_problem(value, spec.ptype)
        if issue:
            problems.append((key, f"{issue} ({spec.source})"))
    return problems
