"""Test helper node: declares the fields of a frozen dataclass as parameters through
``microexp_ros._node_utils.params_to_dataclass`` and prints the result (or the error)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal

from microexp_ros._node_utils import params_to_dataclass, run_node
from rclpy.node import Node

from microexp.errors import MicroexpError


@dataclass(frozen=True)
class ProbeConfig:
    name: str
    rate_hz: float = 30.0
    count: int = 3
    enabled: bool = True
    mode: Literal["fast", "slow"] = "fast"
    topics: tuple[str, ...] = ()
    scales: tuple[float, ...] = (1.0, 2.0)

    def __post_init__(self) -> None:
        if self.rate_hz <= 0:
            raise MicroexpError(f"rate_hz must be > 0, got {self.rate_hz}")


class Probe(Node):
    def __init__(self) -> None:
        super().__init__("probe")
        cfg = params_to_dataclass(self, ProbeConfig)
        print(f"config {cfg!r}", flush=True)
        raise KeyboardInterrupt  # done: exit through run_node's normal path


if __name__ == "__main__":
    sys.exit(run_node(Probe))
