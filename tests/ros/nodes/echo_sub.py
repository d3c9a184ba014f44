"""Test helper node: subscribes to TOPIC of TYPE and prints each message.

  echo_sub.py TYPE TOPIC [--raw] [--qos sensor_data|reliable|latched]
--raw: prints "raw <hex>" of the serialized bytes; otherwise "msg <repr of selected fields>".
Prints "ready" once the subscription exists.
"""

from __future__ import annotations

import argparse
import sys

import rclpy
from _helper_node import helper_node
from microexp_ros._node_utils import msg_class, qos_preset


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("msgtype")
    ap.add_argument("topic")
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--qos", default="reliable", choices=["sensor_data", "reliable", "latched"])
    opts = ap.parse_args()
    cls = msg_class(opts.msgtype)
    qos = qos_preset(opts.qos, depth=100)

    def on_msg(msg: object) -> None:
        if isinstance(msg, bytes):
            print(f"raw {msg.hex()}", flush=True)
        else:
            fields = {f: getattr(msg, f) for f in msg.get_fields_and_field_types() if f != "header"}
            print(f"msg {fields!r}", flush=True)

    with helper_node("echo_sub") as node:
        node.create_subscription(cls, opts.topic, on_msg, qos, raw=opts.raw)
        print("ready", flush=True)
        rclpy.spin(node)
    return 0


if __name__ == "__main__":
    sys.exit(main())
