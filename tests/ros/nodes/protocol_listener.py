"""Test helper node: prints every /microexp/protocol event as one JSON line ("event {...}") and the
latched /microexp/session and /microexp/consent messages ("session {...}", "consent {...}");
prints "ready" once subscribed."""

from __future__ import annotations

import json
import sys

import rclpy
from _helper_node import helper_node
from microexp_msgs.msg import Consent, ProtocolEvent, SessionInfo
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy


def _fields(msg: object) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in msg.get_fields_and_field_types():  # type: ignore[attr-defined]
        value = getattr(msg, name)
        if name == "header":
            value = value.stamp.sec * 1_000_000_000 + value.stamp.nanosec
            name = "stamp_ns"
        elif not isinstance(value, str | int | float | bool):
            value = list(value)
        out[name] = value
    return out


def main() -> int:
    reliable = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
    latched = QoSProfile(
        depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
    )
    with helper_node("protocol_listener") as node:
        node.create_subscription(
            ProtocolEvent,
            "/microexp/protocol",
            lambda m: print("event " + json.dumps(_fields(m)), flush=True),
            reliable,
        )
        node.create_subscription(
            SessionInfo,
            "/microexp/session",
            lambda m: print("session " + json.dumps(_fields(m)), flush=True),
            latched,
        )
        node.create_subscription(
            Consent,
            "/microexp/consent",
            lambda m: print("consent " + json.dumps(_fields(m)), flush=True),
            latched,
        )
        print("ready", flush=True)
        rclpy.spin(node)
    return 0


if __name__ == "__main__":
    sys.exit(main())
