"""Test helper node: prints, as JSON lines, the endpoints of NODE on each TOPIC once all are seen.

  graph_probe.py NODE TOPIC... -> {"topic", "type", "direction": "pub"|"sub", "qos"} per endpoint
QoS: "latched", "reliable" or "best_effort" (from the discovered reliability and durability).
  graph_probe.py NODE --publishers -> {"topic", "types"} for everything NODE publishes (once
the node is discovered, after 2 s more of discovery).
"""

from __future__ import annotations

import json
import sys
import time

import rclpy
from rclpy.qos import DurabilityPolicy, ReliabilityPolicy


def publishers(node: rclpy.node.Node, node_name: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and node_name not in node.get_node_names():
        rclpy.spin_once(node, timeout_sec=0.1)
    settle = time.monotonic() + 2.0
    while time.monotonic() < settle:
        rclpy.spin_once(node, timeout_sec=0.1)
    for topic, types in node.get_publisher_names_and_types_by_node(node_name, "/"):
        print(json.dumps({"topic": topic, "types": types}), flush=True)


def main() -> int:
    node_name, topics = sys.argv[1], sys.argv[2:]
    rclpy.init()
    node = rclpy.create_node("graph_probe")
    if topics == ["--publishers"]:
        publishers(node, node_name)
        print("done", flush=True)
        node.destroy_node()
        rclpy.try_shutdown()
        return 0
    deadline = time.monotonic() + 20
    found: dict[tuple[str, str], dict[str, str]] = {}
    while time.monotonic() < deadline and len({t for t, _ in found}) < len(topics):
        rclpy.spin_once(node, timeout_sec=0.1)
        for topic in topics:
            for direction, infos in (
                ("pub", node.get_publishers_info_by_topic(topic)),
                ("sub", node.get_subscriptions_info_by_topic(topic)),
            ):
                for info in infos:
                    if info.node_name != node_name:
                        continue
                    q = info.qos_profile
                    if q.durability == DurabilityPolicy.TRANSIENT_LOCAL:
                        qos = "latched"
                    elif q.reliability == ReliabilityPolicy.RELIABLE:
                        qos = "reliable"
                    else:
                        qos = "best_effort"
                    found[(topic, direction)] = {
                        "topic": topic,
                        "type": info.topic_type,
                        "direction": direction,
                        "qos": qos,
                    }
    for entry in found.values():
        print(json.dumps(entry), flush=True)
    print("done", flush=True)
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
