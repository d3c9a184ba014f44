"""Test helper node: publishes 8 malformed EventPackets on TOPIC, one every 50 ms, then exits.

  malformed_pub.py TOPIC [--wait-subscribers N] [--after-subscriber OTHER_TOPIC]
The packets (:func:`malformed_event_packets`, also used by the unit tests of the intake): random
bytes, truncated CDR, zero and 65535² geometry, an unknown encoding, an event beyond the width,
random event words and a cut word; each with the rejection cause it must be counted under.
Prints "sent CAUSE" per packet and "done 8". ``--after-subscriber``: starts only once OTHER_TOPIC
has a subscription somewhere in the graph (e.g. a ``ros2 topic echo`` still discovering).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from microexp.bagio import messages as M
from microexp.bagio.typestore import build_typestore
from microexp.events.evt3 import Evt3Encoder
from microexp.events.types import make_events

WIDTH, HEIGHT = 640, 480  # the real recording's geometry (test_events_1)


def malformed_event_packets() -> list[tuple[str, bytes]]:
    """(expected rejection cause, CDR bytes) of the 8 malformed EventPackets, seeded."""
    ts = build_typestore()
    rng = np.random.default_rng(18)
    good = Evt3Encoder().encode(make_events(x=[10, 20], y=[5, 6], t=[1_000, 1_010], p=[1, 0]))

    def packet(events: bytes, *, width: int = WIDTH, height: int = HEIGHT,
               encoding: str = "evt3") -> bytes:  # fmt: skip
        msg = M.event_packet(ts, events=events, stamp_ns=1_000_000_000, frame_id="evk4",
                             width=width, height=height, seq=1, encoding=encoding)  # fmt: skip
        return bytes(M.serialize(ts, msg))

    beyond = Evt3Encoder().encode(make_events(x=[700], y=[5], t=[1_000], p=[1]))
    # TIME_HIGH, TIME_LOW (the decoder syncs on them), then words of random types: the unknown
    # ones (0x1, 0xB, 0xC, 0xD) are refused
    words = np.concatenate([[0x8000, 0x6000], rng.integers(0, 1 << 16, 64)]).astype("<u2")
    return [
        ("cdr", rng.integers(0, 256, 300, dtype=np.uint8).tobytes()),
        ("cdr", packet(good)[:40]),
        ("geometry", packet(good, width=0, height=0)),
        ("geometry", packet(good, width=65535, height=65535)),
        ("encoding", packet(good, encoding="evt5")),
        ("outside_sensor", packet(beyond)),
        ("payload", packet(words.tobytes())),
        ("payload", packet(good[:-1])),
    ]


def main() -> int:
    import rclpy
    from _helper_node import helper_node, wait_for_subscribers
    from microexp_ros._node_utils import qos_preset, raw_publisher

    ap = argparse.ArgumentParser()
    ap.add_argument("topic")
    ap.add_argument("--wait-subscribers", type=int, default=1)
    ap.add_argument("--after-subscriber", default="")
    opts = ap.parse_args()
    with helper_node("malformed_pub") as node:
        deadline = time.monotonic() + 60
        while opts.after_subscriber and node.count_subscribers(opts.after_subscriber) < 1:
            if time.monotonic() > deadline:
                print(f"no subscriber on {opts.after_subscriber}", flush=True)
                return 1
            rclpy.spin_once(node, timeout_sec=0.1)
        pub = raw_publisher(node, M.EVENT_PACKET, opts.topic, qos_preset("sensor_data", depth=100))
        wait_for_subscribers(node, pub, count=opts.wait_subscribers, timeout_s=60)
        time.sleep(0.5)  # the subscriber's side of the match
        packets = malformed_event_packets()
        for cause, data in packets:
            pub.publish(data)
            print(f"sent {cause}", flush=True)
            rclpy.spin_once(node, timeout_sec=0.05)
        print(f"done {len(packets)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
