"""Test helper node: subscribes to TOPIC of TYPE and prints each message.

  echo_sub.py TYPE TOPIC [--raw] [--qos sensor_data|reliable|latched] [--wait-publishers N]
--raw: prints "raw <hex>" of the serialized bytes; otherwise "msg <repr of selected fields>".
Prints "ready" once the subscription exists and, with --wait-publishers, once it has seen N
publishers (a volatile publisher drops what it sends before the match).
"""

from __future__ import annotations

import argparse
import sys
import time

import rclpy
from _helper_node import helper_node
from microexp_ros._node_utils import msg_class, qos_preset


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("msgtype")
    ap.add_argument("topic")
    ap.add_argument("--raw", action="store_true")
    ap.add_argument("--qos", default="reliable", choices=["sensor_data", "reliable", "latched"])
    ap.add_argument("--wait-publishers", type=int, default=0)
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
        deadline = time.monotonic() + 30
        while node.count_publishers(opts.topic) < opts.wait_publishers:
            if time.monotonic() > deadline:
                print(f"no {opts.wait_publishers} publisher(s) on {opts.topic}", flush=True)
                return 1
            rclpy.spin_once(node, timeout_sec=0.05)
        if opts.wait_publishers:
            time.sleep(0.5)  # let the publisher's side of the match settle too
        print("ready", flush=True)
        rclpy.spin(node)
    return 0


if __name__ == "__main__":
    sys.exit(main())
