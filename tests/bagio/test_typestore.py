from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from microexp.bagio.typestore import build_typestore, msg_files, new_typestore
from microexp.errors import ConfigError

from .conftest import REAL_RIHS01

OURS = ["ProtocolEvent", "SessionInfo", "AuPrediction", "CameraSync", "SyncSummary",
        "AuGroundTruth", "Consent"]  # fmt: skip


@pytest.mark.parametrize("distro", ["jazzy", "humble"])
def test_event_packet_hash_matches_the_real_bag(distro: str) -> None:
    store = build_typestore(distro=distro)  # type: ignore[arg-type]
    assert store.hash_rihs01("event_camera_msgs/msg/EventPacket") == REAL_RIHS01


def test_hash_equals_the_one_recorded_in_the_real_bag(real_bag: Path) -> None:
    conn = sqlite3.connect(f"file:{real_bag / 'test_events_1.db3'}?mode=ro", uri=True)
    (recorded,) = conn.execute(
        "SELECT type_description_hash FROM message_definitions WHERE topic_type = ?",
        ("event_camera_msgs/msg/EventPacket",),
    ).fetchone()
    assert build_typestore().hash_rihs01("event_camera_msgs/msg/EventPacket") == recorded


def test_every_msg_file_is_registered() -> None:
    store = build_typestore()
    files = msg_files()
    for name in OURS:
        assert f"microexp_msgs/msg/{name}" in files
    for msgtype in files:
        assert msgtype in store.fielddefs
    assert "dv_ros2_msgs/msg/EventArray" in store.fielddefs
    assert "sensor_msgs/msg/CompressedImage" in store.fielddefs  # stock types stay


def test_field_order_comes_from_the_msg_file() -> None:
    _consts, fields = build_typestore().fielddefs["event_camera_msgs/msg/EventPacket"]
    names = [name for name, _ in fields]
    assert names == ["header", "height", "width", "seq", "time_base", "encoding", "is_bigendian",
                     "events"]  # fmt: skip


def test_build_is_cached_and_new_is_private() -> None:
    assert build_typestore(distro="jazzy") is build_typestore(distro="jazzy")
    private = new_typestore()
    assert private is not build_typestore()
    from rosbags.typesys import get_types_from_msg

    private.register(get_types_from_msg("int32 a", "scratch_msgs/msg/Only"))
    assert "scratch_msgs/msg/Only" not in build_typestore().fielddefs


def test_unknown_distro_is_refused() -> None:
    with pytest.raises(ConfigError, match="rolling"):
        new_typestore(distro="rolling")  # type: ignore[arg-type]
