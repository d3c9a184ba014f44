"""operator: keyboard console for the protocol node.

Keys: ``p`` pause, ``r`` resume, ``d`` redo (mark the attempt invalid and repeat the segment),
``s`` skip, ``a`` abort, ``q`` quit. On a terminal keys act at once (cbreak mode); with stdin
from a pipe each character of each line is a key. Each key calls the std_srvs/Trigger service
``/microexp/protocol/<command>`` and logs the node's answer.
"""

from __future__ import annotations

import os
import select
import sys
import termios
import tty
from typing import Any

from rclpy.node import Node
from std_srvs.srv import Trigger

from microexp_ros._node_utils import run_node

__all__ = ["KEYS", "OperatorConsole", "main"]

KEYS = {"p": "pause", "r": "resume", "d": "redo", "s": "skip", "a": "abort"}
SERVICE_PREFIX = "/microexp/protocol/"


class OperatorConsole(Node):
    def __init__(self) -> None:
        super().__init__("operator")
        self._trigger_clients = {
            name: self.create_client(Trigger, SERVICE_PREFIX + name) for name in KEYS.values()
        }
        self._fd = sys.stdin.fileno()
        self._tty_attrs: list[Any] | None = None
        if os.isatty(self._fd):
            self._tty_attrs = termios.tcgetattr(self._fd)
            tty.setcbreak(self._fd)
        self._eof = False
        self.create_timer(0.02, self._poll_keys)
        self.get_logger().info("keys: p pause, r resume, d redo, s skip, a abort, q quit")

    def _poll_keys(self) -> None:
        if self._eof:
            return
        while select.select([self._fd], [], [], 0)[0]:
            data = os.read(self._fd, 64)
            if not data:
                self._eof = True  # pipe closed: keep answering pending calls until interrupted
                return
            for ch in data.decode(errors="ignore").lower():
                if ch == "q":
                    raise KeyboardInterrupt("quit")
                if ch in KEYS:
                    self._call(KEYS[ch])

    def _call(self, name: str) -> None:
        client = self._trigger_clients[name]
        if not client.service_is_ready():
            self.get_logger().warning(f"{name}: protocol node not available")
            return
        future = client.call_async(Trigger.Request())
        future.add_done_callback(lambda f, name=name: self._answer(name, f.result()))

    def _answer(self, name: str, res: Any) -> None:
        verdict = "ok" if res.success else "refused"
        self.get_logger().info(f"{name} {verdict}: {res.message}")

    def close(self) -> None:
        if self._tty_attrs is not None:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._tty_attrs)


def main(args: list[str] | None = None) -> int:
    return run_node(OperatorConsole, args)


if __name__ == "__main__":
    raise SystemExit(main())
