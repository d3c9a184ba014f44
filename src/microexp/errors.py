"""Domain errors shared by the core. Each names the bad input (file, topic, index, value)."""

from __future__ import annotations

__all__ = [
    "BagError",
    "ConfigError",
    "DecodeError",
    "MicroexpError",
    "OutputExistsError",
]


class MicroexpError(Exception):
    """Base class of every error microexp raises on bad input."""


class DecodeError(MicroexpError):
    """An encoded event stream or message could not be decoded."""


class BagError(MicroexpError):
    """A rosbag2 bag is missing, corrupt, truncated or lacks what was asked for."""


class ConfigError(MicroexpError):
    """A YAML config or session plan is invalid; the message names the file and the key/line."""


class OutputExistsError(MicroexpError):
    """An output already exists and overwriting was not asked for."""
