"""Shared fixtures for the codec tests: the real EVT 3.0 packets of test_events_1."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EVENT_PACKET_MSG = (
    REPO_ROOT
    / "src"
    / "microexp"
    / "bagio"
    / "msgdefs"
    / "event_camera_msgs"
    / "msg"
    / "EventPacket.msg"
)


@dataclass(frozen=True)
class Packet:
    """The fields of one EventPacket that the codec tests need."""

    encoding: str
    width: int
    height: int
    time_base: int
    seq: int
    events: bytes


@cache
def read_event_packets(bag: Path) -> tuple[Packet, ...]:
    """Every EventPacket of a rosbag2 bag, in log order (rosbags only, no microexp.bagio)."""
    from rosbags.rosbag2 import Reader
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    typestore = get_typestore(Stores.ROS2_HUMBLE)
    typestore.register(
        get_types_from_msg(EVENT_PACKET_MSG.read_text(), "event_camera_msgs/msg/EventPacket")
    )
    packets = []
    with Reader(bag) as reader:
        for conn, _, raw in reader.messages():
            msg = typestore.deserialize_cdr(raw, conn.msgtype)
            packets.append(
                Packet(
                    encoding=msg.encoding,
                    width=int(msg.width),
                    height=int(msg.height),
                    time_base=int(msg.time_base),
                    seq=int(msg.seq),
                    events=msg.events.tobytes(),
                )
            )
    return tuple(packets)


@pytest.fixture(scope="session")
def evt3_packets(real_bag: Path) -> tuple[Packet, ...]:
    """The 517 EVT 3.0 packets of event_camera_py's test_events_1."""
    return read_event_packets(real_bag)
