"""Test helper node: one sync flash on /microexp/protocol and 1 s of DAVIS events on /davis/events
whose burst starts OFFSET_MS after the flash (event ts = host time, as dv-ros2's).

  flash_pub.py OFFSET_MS   -> prints "done" after publishing; spins until SIGINT
"""

from __future__ import annotations

import sys

import numpy as np
import rclpy
from _helper_node import helper_node, wait_for_subscribers
from dv_ros2_msgs.msg import EventArray
from microexp_msgs.msg import ProtocolEvent
from rclpy.qos import QoSProfile, ReliabilityPolicy

from microexp.events.dv_event_array import encode_event_array_cdr
from microexp.events.types import make_events

MS = 1_000_000


def main() -> int:
    offset_ns = int(float(sys.argv[1]) * MS)
    with helper_node("flash_pub") as node:
        ev_pub = node.create_publisher(EventArray, "/davis/events", QoSProfile(depth=100))
        pr_pub = node.create_publisher(
            ProtocolEvent,
            "/microexp/protocol",
            QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE),
        )
        wait_for_subscribers(node, ev_pub, pr_pub, timeout_s=20)
        rng = np.random.default_rng(3)
        start = node.get_clock().now().nanoseconds
        flash = start + 500 * MS
        msg = ProtocolEvent(
            kind=ProtocolEvent.KIND_SYNC_FLASH,
            phase=ProtocolEvent.PHASE_SYNC,
            session_id="s1",
            subject_id="P01",
            detail="flash 0",
        )
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(flash, 1_000_000_000)
        pr_pub.publish(msg)
        t = np.concatenate(
            [
                rng.integers(start, start + 1000 * MS, 5000),
                rng.integers(flash + offset_ns, flash + offset_ns + 4 * MS, 3000),
            ]
        )
        t_us = np.sort(t // 1000)
        events = make_events(
            x=rng.integers(0, 346, t_us.size),
            y=rng.integers(0, 260, t_us.size),
            t=t_us,
            p=rng.integers(0, 2, t_us.size),
        )
        for chunk in np.array_split(events, 50):
            ev_pub.publish(
                encode_event_array_cdr(
                    chunk, stamp_ns=start, frame_id="davis", width=346, height=260
                )
            )
            rclpy.spin_once(node, timeout_sec=0.01)
        print("done", flush=True)
        rclpy.spin(node)
    return 0


if __name__ == "__main__":
    sys.exit(main())
