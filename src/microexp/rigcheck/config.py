"""The rig check's settings (the ``rig_check`` node's parameters, ``microexp rig check``'s
options)."""

from __future__ import annotations

from dataclasses import dataclass, field

from microexp.errors import ConfigError

__all__ = ["RigCheckConfig"]


@dataclass(frozen=True)
class RigCheckConfig:
    rig_dir: str = field(default="", metadata={"help": "rig config folder ('': config/rig)"})
    cameras: tuple[str, ...] = field(
        default=(), metadata={"help": "cameras of rig.yaml to check (empty: its default_cameras)"}
    )
    sim: bool = field(default=False, metadata={"help": "check the simulated cameras"})
    timeout_s: float = field(
        default=15.0, metadata={"help": "how long to wait for every node, topic and first message"}
    )
    strict: bool = field(default=False, metadata={"help": "warnings fail the check too"})

    def __post_init__(self) -> None:
        if not self.timeout_s > 0:
            raise ConfigError(f"rig check: timeout_s must be > 0, got {self.timeout_s}")
