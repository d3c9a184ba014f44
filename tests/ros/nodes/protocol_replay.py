"""Test helper node: publishes the protocol events of a JSONL file (``microexp.protocol.events``)
on /microexp/protocol (reliable), all at once, with their own stamps.

  protocol_replay.py EVENTS.jsonl [--wait-subscribers N]  -> "done" after publishing; spins
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import rclpy
from _helper_node import helper_node, wait_for_subscribers
from microexp_msgs.msg import ProtocolEvent
from rclpy.qos import QoSProfile, ReliabilityPolicy

from microexp.protocol.events import read_events_jsonl


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("events", type=Path)
    ap.add_argument("--wait-subscribers", type=int, default=1)
    opts = ap.parse_args()
    with helper_node("protocol_replay") as node:
        pub = node.create_publisher(
            ProtocolEvent,
            "/microexp/protocol",
            QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE),
        )
        wait_for_subscribers(node, pub, count=opts.wait_subscribers, timeout_s=20)
        n = 0
        for ev in read_events_jsonl(opts.events):
            msg = ProtocolEvent(
                kind=int(ev.kind), phase=int(ev.phase), session_id=ev.session_id,
                subject_id=ev.subject_id, segment_index=ev.segment_index, attempt=ev.attempt,
                label=ev.label, au_numbers=list(ev.au_numbers), valid=ev.valid, detail=ev.detail,
            )  # fmt: skip
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(ev.stamp_ns, 1_000_000_000)
            pub.publish(msg)
            n += 1
        print(f"done {n}", flush=True)
        rclpy.spin(node)
    return 0


if __name__ == "__main__":
    sys.exit(main())
