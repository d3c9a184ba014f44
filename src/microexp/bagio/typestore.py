"""The rosbags typestore: stock ROS 2 types plus the drivers' and our message definitions.

The ``.msg`` files under ``bagio/msgdefs/`` (drivers: ``event_camera_msgs``, ``dv_ros2_msgs``; ours:
``microexp_msgs``, a link to ``ros2_ws/src/microexp_msgs``) are the single source of every field
list: they are parsed with :func:`rosbags.typesys.get_types_from_msg`, never restated in Python.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from microexp.errors import ConfigError

__all__ = [
    "MSGDEF_ROOT",
    "OUR_PACKAGES",
    "Distro",
    "build_typestore",
    "msg_files",
    "new_typestore",
]

Distro = Literal["jazzy", "humble"]

MSGDEF_ROOT = Path(__file__).resolve().parent / "msgdefs"
"""Folder holding ``<package>/msg/<Type>.msg`` for every non-stock package we register."""

OUR_PACKAGES = ("event_camera_msgs", "dv_ros2_msgs", "microexp_msgs")

_STORES: dict[str, Stores] = {"jazzy": Stores.ROS2_JAZZY, "humble": Stores.ROS2_HUMBLE}


def msg_files(root: Path = MSGDEF_ROOT) -> dict[str, Path]:
    """Map ``pkg/msg/Type`` to its ``.msg`` file for every package in :data:`OUR_PACKAGES`."""
    found: dict[str, Path] = {}
    for package in OUR_PACKAGES:
        folder = root / package / "msg"
        if not folder.is_dir():
            raise ConfigError(f"message definitions missing: {folder} does not exist")
        for path in sorted(folder.glob("*.msg")):
            found[f"{package}/msg/{path.stem}"] = path
    return found


def new_typestore(*, distro: Distro = "jazzy") -> Typestore:
    """A fresh, private typestore (safe to extend with :meth:`Typestore.register`)."""
    if distro not in _STORES:
        raise ConfigError(f"unknown ROS distro {distro!r}; expected one of {sorted(_STORES)}")
    store = get_typestore(_STORES[distro])
    types = {}
    for msgtype, path in msg_files().items():
        types.update(get_types_from_msg(path.read_text(encoding="utf-8"), msgtype))
    store.register(types)
    return store


@functools.cache
def build_typestore(*, distro: Distro = "jazzy") -> Typestore:
    """The shared typestore for ``distro`` (built once per process, pure).

    Treat the result as read-only: call :func:`new_typestore` for one you register more types into.
    """
    return new_typestore(distro=distro)
