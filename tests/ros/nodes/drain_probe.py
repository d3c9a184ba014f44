"""Test helper: a reliable publisher and a subscriber in one process. Publishes N messages, waits
until DDS acknowledged all of them (they now sit in the subscriber's queue: nothing has spun it),
then runs ``microexp_ros._node_utils.drain_pending`` on the subscriber and prints
``taken before drain <n>``, ``drained <n>`` and ``received <n>``."""

from __future__ import annotations

import sys

import rclpy
from _helper_node import wait_for_subscribers
from microexp_ros._node_utils import drain_pending, qos_preset
from rclpy.duration import Duration
from std_msgs.msg import UInt32


def main() -> int:
    count = int(sys.argv[1])
    rclpy.init()
    pub_node = rclpy.create_node("drain_probe_pub")
    sub_node = rclpy.create_node("drain_probe_sub")
    got: list[int] = []
    qos = qos_preset("reliable", depth=count)
    sub_node.create_subscription(UInt32, "/drain_probe", lambda m: got.append(m.data), qos)
    pub = pub_node.create_publisher(UInt32, "/drain_probe", qos)
    wait_for_subscribers(pub_node, pub, count=1, timeout_s=20)
    for i in range(count):
        pub.publish(UInt32(data=i))
    acked = pub.wait_for_all_acked(Duration(seconds=10))
    print(f"acked {acked}", flush=True)
    print(f"taken before drain {len(got)}", flush=True)
    print(f"drained {drain_pending(sub_node, progress=lambda: len(got))}", flush=True)
    print(f"received {len(got)} in order {got == list(range(count))}", flush=True)
    pub_node.destroy_node()
    sub_node.destroy_node()
    rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
