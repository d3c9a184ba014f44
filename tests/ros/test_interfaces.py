"""The replica and our interface packages, as built by colcon, carry the same RIHS01 type hashes
that rosbags computes from the single-source .msg files (and that the real bag records)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from microexp.bagio.typestore import build_typestore, msg_files

from .conftest import INSTALL, ROOT, _skip_reason

pytestmark = pytest.mark.ros


@pytest.fixture(scope="module")
def built() -> Path:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    return INSTALL


def _rosidl_hash(install: Path, msgtype: str) -> str:
    package, _, name = msgtype.split("/")
    path = install / package / "share" / package / "msg" / f"{name}.json"
    data = json.loads(path.read_text())
    by_name = {t["type_name"]: t["hash_string"] for t in data["type_hashes"]}
    return str(by_name[msgtype])


@pytest.mark.parametrize("msgtype", sorted(msg_files()))
def test_rosidl_hash_equals_rosbags_hash(built: Path, msgtype: str) -> None:
    store = build_typestore()
    assert _rosidl_hash(built, msgtype) == store.hash_rihs01(msgtype)


def test_replica_event_packet_hash_equals_real_bag(built: Path, real_bag: Path) -> None:
    meta = yaml.safe_load((real_bag / "metadata.yaml").read_text())
    topics = meta["rosbag2_bagfile_information"]["topics_with_message_count"]
    recorded = {
        t["topic_metadata"]["type"]: t["topic_metadata"]["type_description_hash"] for t in topics
    }
    msgtype = "event_camera_msgs/msg/EventPacket"
    assert _rosidl_hash(built, msgtype) == recorded[msgtype]


def test_workspace_msgs_are_the_registered_ones() -> None:
    """ros2_ws/src/microexp_msgs/msg (what colcon builds) and bagio's microexp_msgs (what rosbags
    registers) hold the same definitions."""
    ws = ROOT / "ros2_ws" / "src" / "microexp_msgs" / "msg"
    built_names = sorted(p.name for p in ws.glob("*.msg"))
    registered = {
        k.split("/")[-1] + ".msg": v
        for k, v in msg_files().items()
        if k.startswith("microexp_msgs/")
    }
    assert built_names == sorted(registered)
    for name in built_names:
        assert (ws / name).read_text() == registered[name].read_text(), name
