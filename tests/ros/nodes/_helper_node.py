"""Plumbing shared by the test helper nodes in this folder (run as scripts, so they import it as a
sibling module): a plain node that lives until SIGINT or an external shutdown, and the wait for
subscribers before publishing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.publisher import Publisher

__all__ = ["helper_node", "wait_for_subscribers"]


@contextmanager
def helper_node(name: str) -> Iterator[Node]:
    """``rclpy.init`` and a node called ``name``; SIGINT (KeyboardInterrupt) or an external shutdown
    ends the block quietly; the node is destroyed and rclpy shut down on the way out."""
    rclpy.init()
    node = rclpy.create_node(name)
    try:
        yield node
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


def wait_for_subscribers(node: Node, *pubs: Publisher, count: int = 1, timeout_s: float) -> None:
    """Spin ``node`` until each of ``pubs`` has ``count`` subscribers, or ``timeout_s`` passed."""
    deadline = time.monotonic() + timeout_s
    while any(p.get_subscription_count() < count for p in pubs) and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)
