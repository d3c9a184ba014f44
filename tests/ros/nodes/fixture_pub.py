"""Test helper node: publishes messages serialized by rosbags (our typestore) as raw CDR bytes.

  fixture_pub.py KIND TOPIC [--count N] [--period S] [--qos sensor_data|reliable|latched]
                 [--skip-seq K,...] [--consent 0|1] [--wait-subscribers N]
KIND: event_array (dv_ros2_msgs/EventArray, 10 events), event_packet (event_camera_msgs/EventPacket,
evt3 bytes), protocol (microexp_msgs/ProtocolEvent), session (microexp_msgs/SessionInfo, latched),
consent (microexp_msgs/Consent of subject P01: study, every modality).
Prints "published <i> <hex of the bytes>" per message, then "done"; keeps spinning until SIGINT
(latched messages stay available).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time

import numpy as np
import rclpy
from _helper_node import helper_node, wait_for_subscribers
from microexp_ros._node_utils import msg_class, qos_preset

from microexp.bagio.typestore import build_typestore
from microexp.consent import consent_fields, shorthand_scope

TYPES = {
    "event_array": "dv_ros2_msgs/msg/EventArray",
    "event_packet": "event_camera_msgs/msg/EventPacket",
    "protocol": "microexp_msgs/msg/ProtocolEvent",
    "session": "microexp_msgs/msg/SessionInfo",
    "consent": "microexp_msgs/msg/Consent",
}


def build(kind: str, i: int, *, seq: int, consent: bool) -> object:
    store = build_typestore()
    t = store.types
    now = time.time_ns()
    header = t["std_msgs/msg/Header"](
        stamp=t["builtin_interfaces/msg/Time"](sec=now // 10**9, nanosec=now % 10**9),
        frame_id="cam",
    )
    if kind == "event_array":
        events = [
            t["dv_ros2_msgs/msg/Event"](
                x=j,
                y=2 * j,
                ts=t["builtin_interfaces/msg/Time"](sec=1, nanosec=1000 * (i * 10 + j)),
                polarity=bool(j % 2),
            )
            for j in range(10)
        ]
        return t[TYPES[kind]](header=header, height=260, width=346, events=events)
    if kind == "event_packet":
        return t[TYPES[kind]](
            header=header,
            height=720,
            width=1280,
            seq=seq,
            time_base=0,
            encoding="evt3",
            is_bigendian=False,
            events=np.arange(64, dtype=np.uint8) ^ (i & 0xFF),
        )
    if kind == "protocol":
        return t[TYPES[kind]](
            header=header,
            kind=3,
            phase=4,
            session_id="s1",
            subject_id="P01",
            segment_index=i,
            attempt=1,
            label="AU12",
            au_numbers=np.array([12], dtype=np.uint16),
            valid=True,
            detail=f"#{i}",
        )
    if kind == "consent":
        scope = shorthand_scope(subject_id="P01", session_id="s1", given_on=datetime.date.today())
        return t[TYPES[kind]](header=header, **consent_fields(scope))
    return t[TYPES[kind]](
        header=header,
        subject_id="P01",
        session_id="s1",
        plan_name="demo",
        glasses=False,
        lux=float("nan"),
        lighting="ceiling",
        notes="test",
        consent=consent,
        microexp_version="test",
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=sorted(TYPES))
    ap.add_argument("topic")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--period", type=float, default=0.02)
    ap.add_argument("--qos", default="reliable", choices=["sensor_data", "reliable", "latched"])
    ap.add_argument("--skip-seq", default="", help="seq values never published (makes gaps)")
    ap.add_argument("--consent", type=int, default=1)
    ap.add_argument("--wait-subscribers", type=int, default=0)
    opts = ap.parse_args()
    store = build_typestore()
    msgtype = TYPES[opts.kind]
    qos = qos_preset(opts.qos, depth=100)  # latched: depth 1
    skip = {int(s) for s in opts.skip_seq.split(",") if s}
    with helper_node(f"fixture_pub_{opts.kind}") as node:
        pub = node.create_publisher(msg_class(msgtype), opts.topic, qos)
        wait_for_subscribers(node, pub, count=opts.wait_subscribers, timeout_s=30)
        seqs = (s for s in range(10**9) if s not in skip)
        for i in range(opts.count):
            data = store.serialize_cdr(
                build(opts.kind, i, seq=next(seqs), consent=bool(opts.consent)), msgtype
            )
            pub.publish(bytes(data))
            print(f"published {i} {bytes(data).hex()}", flush=True)
            rclpy.spin_once(node, timeout_sec=opts.period)
        print("done", flush=True)
        rclpy.spin(node)
    return 0


if __name__ == "__main__":
    sys.exit(main())
