"""Test helper node: records the arrival of every raw message on some topics.

  arrival_sub.py TYPE:TOPIC[:QOS] ... [--depth N]     (QOS: sensor_data | reliable | latched)
Prints "ready" once subscribed; per message "rx TOPIC MONOTONIC_NS SIZE SHA256[:16]" (the
callback's monotonic clock; the digest lets a test compare the stream with the bag); with the first
message of a topic, "pubqos TOPIC RELIABILITY DURABILITY" of each of its publishers.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections.abc import Callable

import rclpy
from _helper_node import helper_node
from microexp_ros._node_utils import qos_preset, raw_subscription
from rclpy.node import Node


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("streams", nargs="+", metavar="TYPE:TOPIC[:QOS]")
    ap.add_argument("--depth", type=int, default=1000)
    opts = ap.parse_args()

    def callback(node: Node, topic: str) -> Callable[[bytes], None]:
        seen = False

        def on_raw(data: bytes) -> None:
            nonlocal seen
            t = time.monotonic_ns()
            if not seen:
                seen = True
                for info in node.get_publishers_info_by_topic(topic):
                    q = info.qos_profile
                    print(f"pubqos {topic} {q.reliability.name.lower()} "
                          f"{q.durability.name.lower()}", flush=True)  # fmt: skip
            digest = hashlib.sha256(data).hexdigest()[:16]
            print(f"rx {topic} {t} {len(data)} {digest}", flush=True)

        return on_raw

    with helper_node("arrival_sub") as node:
        for stream in opts.streams:
            msgtype, topic, *rest = stream.split(":")
            qos = qos_preset(rest[0] if rest else "reliable", depth=opts.depth)
            raw_subscription(node, msgtype, topic, callback(node, topic), qos)
        print("ready", flush=True)
        rclpy.spin(node)
    return 0


if __name__ == "__main__":
    sys.exit(main())
