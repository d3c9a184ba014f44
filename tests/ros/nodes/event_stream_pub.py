"""Test helper node: publishes a real-time stream of dv_ros2_msgs/EventArray as raw CDR bytes.

  event_stream_pub.py TOPIC [--seconds S] [--rate EV_PER_S] [--packet-ms MS] [--box X Y W H]
                      [--wait-subscribers N] [--seed K] [--image-topic T]
Event times are ROS time in µs (as dv-ros2 stamps them), packets of MS ms published at real-time
pace with sensor-data QoS; events fall inside the box. With --image-topic, a mono8 346x260 frame
showing a bright ellipse inscribed in the box is published before every fourth packet. Prints "published <events total>" per
packet, then "done <packets> <events>", and spins until SIGINT.
"""

from __future__ import annotations

import argparse
import sys
import time

import cv2
import numpy as np
import rclpy
from _helper_node import helper_node, wait_for_subscribers
from dv_ros2_msgs.msg import EventArray
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from microexp.events.dv_event_array import encode_event_array_cdr
from microexp.events.types import make_events


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("topic")
    ap.add_argument("--seconds", type=float, default=0.5)
    ap.add_argument("--rate", type=float, default=100_000.0)
    ap.add_argument("--packet-ms", type=float, default=10.0)
    ap.add_argument("--box", type=int, nargs=4, default=[100, 60, 128, 128])
    ap.add_argument("--wait-subscribers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--image-topic", default="")
    opts = ap.parse_args()
    rng = np.random.default_rng(opts.seed)
    frame = np.full((260, 346), 30, np.uint8)
    bx, by, bw, bh = opts.box
    cv2.ellipse(frame, (bx + bw // 2, by + bh // 2), (bw // 2, bh // 2), 0, 0, 360, 200, -1)
    with helper_node("event_stream_pub") as node:
        pub = node.create_publisher(EventArray, opts.topic, qos_profile_sensor_data)
        img_pub = node.create_publisher(Image, opts.image_topic, 10) if opts.image_topic else None
        wait_for_subscribers(node, pub, count=opts.wait_subscribers, timeout_s=30)
        if img_pub is not None:  # frames before the match would be lost: the face box would lag
            wait_for_subscribers(node, img_pub, count=opts.wait_subscribers, timeout_s=30)
        time.sleep(0.5)  # let discovery settle both ways
        packet_us = int(opts.packet_ms * 1000)
        n_packets = int(opts.seconds * 1e6 // packet_us)
        t0_us = time.time_ns() // 1000
        total = 0
        x, y, w, h = opts.box
        for i in range(n_packets):
            n = int(rng.poisson(opts.rate * packet_us / 1e6))
            start = t0_us + i * packet_us
            ev = make_events(
                x=rng.integers(x, x + w, n), y=rng.integers(y, y + h, n),
                t=np.sort(rng.integers(start, start + packet_us, n)), p=rng.integers(0, 2, n),
            )  # fmt: skip
            data = encode_event_array_cdr(
                ev, stamp_ns=(start + packet_us) * 1000, frame_id="davis", width=346, height=260
            )
            if img_pub is not None and i % 4 == 0:
                img = Image(height=260, width=346, encoding="mono8", step=346, data=frame.tobytes())
                img.header.stamp.sec, img.header.stamp.nanosec = divmod(start * 1000, 10**9)
                img_pub.publish(img)
            wait = (start + packet_us) / 1e6 - time.time()
            if wait > 0:
                time.sleep(wait)
            pub.publish(data)
            total += n
            print(f"published {total}", flush=True)
        print(f"done {n_packets} {total}", flush=True)
        rclpy.spin(node)
    return 0


if __name__ == "__main__":
    sys.exit(main())
