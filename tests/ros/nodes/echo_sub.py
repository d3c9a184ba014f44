"""Test helper node: subscribes to TOPIC of TYPE and prints each message.

  echo_sub.py TYPE TOPIC [--raw] [--qos sensor_data|reliable|latched]
--raw: prints "raw <hex>" of the serialized bytes; otherwise "msg <repr of selected fields>".
Prints "ready" once the subscription exists.
"""

from __future__ import annotations

import argparse
import importlib
import sys

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("msgtype")
    ap.add_argument("topic")
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--qos", default="reliable", choices=["sensor_data", "reliable", "latched"])
    opts = ap.parse_args()
    package, _, name = opts.msgtype.split("/")
    cls = getattr(importlib.import_module(f"{package}.msg"), name)
    qos = QoSProfile(
        depth=100,
        reliability=ReliabilityPolicy.BEST_EFFORT
        if opts.qos == "sensor_data"
        else ReliabilityPolicy.RELIABLE,
        durability=DurabilityPolicy.TRANSIENT_LOCAL
        if opts.qos == "latched"
        else DurabilityPolicy.VOLATILE,
    )

    def on_msg(msg: object) -> None:
        if isinstance(msg, bytes):
            print(f"raw {msg.hex()}", flush=True)
        else:
            fields = {f: getattr(msg, f) for f in msg.get_fields_and_field_types() if f != "header"}
            print(f"msg {fields!r}", flush=True)

    rclpy.init()
    node = rclpy.create_node("echo_sub")
    node.create_subscription(cls, opts.topic, on_msg, qos, raw=opts.raw)
    print("ready", flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
