"""Launch arguments (``NAME:=VALUE``) -> typed, frozen argument dataclasses."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from microexp.errors import ConfigError

__all__ = ["LaunchArgSpec", "arg_specs", "args_from_strings", "parse_assignments"]

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class LaunchArgSpec:
    """One launch argument: name, default as launch text, description, allowed values."""

    name: str
    default: str
    description: str
    choices: tuple[str, ...] = ()


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """``["a:=1", "b:=x"]`` -> ``{"a": "1", "b": "x"}`` (as ``ros2 launch`` takes them)."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition(":=")
        if not sep or not name:
            raise ConfigError(f"launch argument {item!r}: expected NAME:=VALUE")
        if name in out:
            raise ConfigError(f"launch argument {name} given twice")
        out[name] = value
    return out


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def arg_specs(cls: type[Any]) -> list[LaunchArgSpec]:
    """The launch arguments of an argument dataclass (fields with metadata ``help``)."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else ""
        hint = hints[f.name]
        choices: tuple[str, ...] = ()
        if typing.get_origin(hint) is typing.Literal:
            choices = tuple(_to_text(a) for a in typing.get_args(hint))
        out.append(LaunchArgSpec(f.name, _to_text(default), f.metadata.get("help", ""), choices))
    return out


def _convert(cls_name: str, name: str, hint: Any, text: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is bool:
        low = text.strip().lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise ConfigError(f"{cls_name}: argument {name}:={text!r} is not a boolean (true/false)")
    if hint is int:
        try:
            return int(text)
        except ValueError as err:
            raise ConfigError(f"{cls_name}: argument {name}:={text!r} is not an integer") from err
    if origin is tuple:
        return tuple(s.strip() for s in text.split(",") if s.strip())
    if origin is typing.Literal:
        allowed = typing.get_args(hint)
        if text not in allowed:
            raise ConfigError(
                f"{cls_name}: argument {name}:={text!r}; expected one of {list(allowed)}"
            )
        return text
    return text


def args_from_strings(cls: type[T], values: Mapping[str, str]) -> T:
    """Build the argument dataclass ``cls`` from launch text values (unknown names fail)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(
            f"{cls.__name__}: unknown launch argument(s) {unknown}; known: {sorted(fields)}"
        )
    hints = typing.get_type_hints(cls)
    kwargs = {n: _convert(cls.__name__, n, hints[n], v) for n, v in values.items()}
    try:
        return cls(**kwargs)
    except TypeError as err:
        missing = sorted(
            n for n, f in fields.items() if f.default is dataclasses.MISSING and n not in kwargs
        )
        raise ConfigError(f"{cls.__name__}: missing launch argument(s) {missing}") from err
