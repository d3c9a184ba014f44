"""Which topics the player publishes and with which QoS: what each driver offers (the rig), type
defaults, a rosbag2 QoS profile file and overrides; bad inputs named."""

from __future__ import annotations

from pathlib import Path

import pytest

from microexp.bagio import messages as M
from microexp.bagio.reader import open_bag
from microexp.bagio.typestore import build_typestore
from microexp.bagio.writer import BagWriter
from microexp.errors import BagError, ConfigError
from microexp.playback import (
    PlayerConfig,
    load_qos_overrides,
    parse_qos_assignments,
    resolve_topic_qos,
    select_topics,
)
from microexp.rosgraph import load_rig


@pytest.fixture(scope="module")
def rig():  # type: ignore[no-untyped-def]
    return load_rig()


def _resolve(topic: str, msgtype: str, rig, *, profiles=None, overrides=None):  # type: ignore[no-untyped-def]
    from microexp.playback import rig_topic_qos

    return resolve_topic_qos(topic, msgtype, overrides=overrides or {}, profiles=profiles or {},
                             rig_qos=rig_topic_qos(rig))  # fmt: skip


def test_the_drivers_qos_comes_from_the_rig(rig) -> None:  # type: ignore[no-untyped-def]
    evk4 = _resolve("/evk4/events", "event_camera_msgs/msg/EventPacket", rig)
    assert (evk4.preset, evk4.depth, evk4.source) == ("sensor_data", 1000, "rig.yaml")
    davis = _resolve("/davis/events", "dv_ros2_msgs/msg/EventArray", rig)
    assert (davis.preset, davis.source) == ("reliable", "rig.yaml")
    webcam = _resolve("/webcam/image_raw/compressed", "sensor_msgs/msg/CompressedImage", rig)
    assert (webcam.preset, webcam.source) == ("reliable", "rig.yaml")
    session = _resolve("/microexp/session", "microexp_msgs/msg/SessionInfo", rig)
    assert session.preset == "latched" and session.depth == 1
    protocol = _resolve("/microexp/protocol", "microexp_msgs/msg/ProtocolEvent", rig)
    assert (protocol.preset, protocol.source) == ("reliable", "rig.yaml")


def test_topics_outside_the_rig_by_type(rig) -> None:  # type: ignore[no-untyped-def]
    other = _resolve("/event_camera/events", "event_camera_msgs/msg/EventPacket", rig)
    assert (other.preset, other.source) == ("sensor_data", "driver default")
    image = _resolve("/side/image_raw", "sensor_msgs/msg/Image", rig)
    assert (image.preset, image.source) == ("reliable", "driver default")


def test_a_rosbag2_profile_file_then_an_override_win(rig) -> None:  # type: ignore[no-untyped-def]
    profiles = load_qos_overrides(rig.file("rosbag2_qos.yaml"))
    q = _resolve("/davis/image", "sensor_msgs/msg/Image", rig, profiles=profiles)
    assert (q.preset, q.depth, q.source) == ("reliable", 100, "rosbag2_qos.yaml")
    over = parse_qos_assignments(["/davis/image=sensor_data"])
    q = _resolve("/davis/image", "sensor_msgs/msg/Image", rig, profiles=profiles, overrides=over)
    assert (q.preset, q.source) == ("sensor_data", "override")


@pytest.mark.parametrize("item", ["/evk4/events", "evk4/events=reliable", "/evk4/events=fast"])
def test_malformed_overrides_are_refused(item: str) -> None:
    with pytest.raises(ConfigError, match="QoS"):
        parse_qos_assignments([item])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("/a: {reliability: reliable}", r"/a: missing key\(s\) \['durability'\]"),
        ("/a: {reliability: reliable, durability: volatile, deadline: 1}", "unsupported key"),
        ("/a: {reliability: sometimes, durability: volatile}", r"/a.reliability: 'sometimes'"),
        ("/a: {reliability: reliable, durability: volatile, depth: 0}", "/a.depth: 0"),
        ("[1, 2]", "expected a mapping"),
        ("/a: {", "invalid YAML"),
    ],
)
def test_bad_qos_files_are_named(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "qos.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match) as err:
        load_qos_overrides(path)
    assert str(path) in str(err.value)


def test_keep_all_history_is_depth_zero(tmp_path: Path) -> None:
    path = tmp_path / "qos.yaml"
    path.write_text("/a: {history: keep_all, reliability: reliable, durability: transient_local}")
    q = load_qos_overrides(path)["/a"]
    assert (q.depth, q.reliable, q.transient_local, q.preset) == (0, True, True, "latched")


def test_selection_of_the_real_bag(real_bag: Path, rig) -> None:  # type: ignore[no-untyped-def]
    with open_bag(real_bag) as reader:
        (t,) = select_topics(reader, PlayerConfig(bag=str(real_bag)), rig=rig, where="x")
        assert (t.name, t.count, t.qos.preset) == ("/event_camera/events", 517, "sensor_data")
        with pytest.raises(BagError, match=r"x: no topic \['/nope'\] to play"):
            select_topics(reader, PlayerConfig(bag="b", topics=("/nope",)), rig=rig, where="x")
        with pytest.raises(ConfigError, match="not played"):
            select_topics(reader, PlayerConfig(bag="b", qos=("/davis/events=reliable",)),
                          rig=rig, where="x")  # fmt: skip


def test_a_written_bag_plays_every_topic_or_the_selected_ones(tmp_path: Path, rig) -> None:  # type: ignore[no-untyped-def]
    bag = tmp_path / "bag"
    ts = build_typestore()
    with BagWriter(bag) as w:
        w.add_topic("/evk4/events", M.EVENT_PACKET, qos="sensor_data")
        w.add_topic("/microexp/session", "microexp_msgs/msg/SessionInfo", qos="latched")
        w.write_message("/evk4/events", 1, M.event_packet(ts, events=b"", stamp_ns=1,
                        frame_id="evk4", width=320, height=180, seq=0))  # fmt: skip
    with open_bag(bag) as reader:
        every = select_topics(reader, PlayerConfig(bag=str(bag)), rig=rig, where=str(bag))
        assert [(t.name, t.count, t.qos.preset) for t in every] == [
            ("/evk4/events", 1, "sensor_data"),
            ("/microexp/session", 0, "latched"),
        ]
        chosen = PlayerConfig(bag=str(bag), topics=("/microexp/session",))
        assert [t.name for t in select_topics(reader, chosen, rig=rig, where="b")] == [
            "/microexp/session"
        ]


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"bag": ""}, "bag is required"),
        ({"rate": 0.0}, "rate must be a positive"),
        ({"wait_timeout_s": -1.0}, "wait_timeout_s"),
        ({"topics": ("davis/events",)}, "absolute"),
        ({"qos": ("x",)}, "expected /TOPIC=PRESET"),
    ],
)
def test_bad_player_configs(kw: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"bag": "b.mcap", **kw}
    with pytest.raises(ConfigError, match=match):
        PlayerConfig(**args)  # type: ignore[arg-type]
