from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from microexp.bagio import messages as M
from microexp.bagio.reader import open_bag
from microexp.bagio.typestore import build_typestore
from microexp.bagio.writer import BagWriter
from microexp.errors import BagError, OutputExistsError

from .conftest import EVENT_TOPIC, REAL_RIHS01, write_packet_bag


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
@pytest.mark.parametrize("compression", [None, "zstd"])
def test_round_trip_through_rosbags_reader(
    tmp_path: Path, storage: str, compression: str | None
) -> None:
    from rosbags.rosbag2 import Reader

    bag = tmp_path / "bag"
    payloads = write_packet_bag(bag, n=12, payload_bytes=5000, storage=storage,
                                compression=compression)  # fmt: skip
    ts = build_typestore()
    with Reader(bag) as ref:  # rosbags' own reader, independent of ours
        got = [ts.deserialize_cdr(raw, c.msgtype) for c, _, raw in ref.messages()]
        conn = ref.connections[0]
        assert conn.digest == REAL_RIHS01
        assert ref.message_count == 12
    assert [bytes(m.events) for m in got] == payloads
    with open_bag(bag) as ours:
        assert [bytes(ours.deserialize(r).events) for r in ours.messages()] == payloads


def test_metadata_is_readable_by_humble_and_jazzy(tmp_path: Path) -> None:
    bag = tmp_path / "bag"
    with BagWriter(bag, distro="humble") as w:
        w.add_topic(EVENT_TOPIC, M.EVENT_PACKET, qos="sensor_data")
        w.add_topic("/microexp/session", "microexp_msgs/msg/SessionInfo", qos="latched")
    info = yaml.safe_load((bag / "metadata.yaml").read_text())["rosbag2_bagfile_information"]
    assert info["version"] == 8
    assert info["storage_identifier"] == "mcap"
    assert info["custom_data"]  # a null map breaks yaml-cpp's conversion
    topics = {t["topic_metadata"]["name"]: t["topic_metadata"]
              for t in info["topics_with_message_count"]}  # fmt: skip
    assert topics[EVENT_TOPIC]["type_description_hash"] == REAL_RIHS01
    qos = yaml.safe_load(topics[EVENT_TOPIC]["offered_qos_profiles"])
    # integer enums (Humble's parser); 2 = best effort, 2 = volatile
    assert qos[0]["reliability"] == 2 and qos[0]["durability"] == 2 and qos[0]["depth"] == 5
    latched = yaml.safe_load(topics["/microexp/session"]["offered_qos_profiles"])[0]
    assert latched["reliability"] == 1 and latched["durability"] == 1


def test_mcap_is_read_by_foxglove_mcap_ros2(tmp_path: Path) -> None:
    pytest.importorskip("mcap_ros2.decoder")
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory

    bag = tmp_path / "bag"
    write_packet_bag(bag, n=5, payload_bytes=100)
    with (bag / "bag.mcap").open("rb") as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        decoded = list(reader.iter_decoded_messages())
    assert [d.decoded_message.seq for d in decoded] == list(range(5))
    assert {s.encoding for s, _, _, _ in decoded} == {"ros2msg"}
    assert decoded[0].decoded_message.encoding == "evt3"


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(OutputExistsError, match=r"taken.*exists"):
        BagWriter(tmp_path / "taken")


def test_unknown_topic_type_and_bad_use(tmp_path: Path) -> None:
    with BagWriter(tmp_path / "bag", storage="sqlite3") as w:
        with pytest.raises(BagError, match="unknown message type foo_msgs/msg/Bar"):
            w.add_topic("/x", "foo_msgs/msg/Bar")
        w.add_topic("/x", M.EVENT_PACKET)
        with pytest.raises(BagError, match="/x added twice"):
            w.add_topic("/x", M.EVENT_PACKET)
        with pytest.raises(BagError, match="topic /y was not added"):
            w.write("/y", 1, b"")
    with pytest.raises(BagError, match="not open"):
        w.write("/x", 1, b"")
    with pytest.raises(BagError, match="storage 'rosbag1'"):
        BagWriter(tmp_path / "other", storage="rosbag1")  # type: ignore[arg-type]


def test_bag_is_finished_after_an_exception(tmp_path: Path) -> None:
    bag = tmp_path / "bag"
    ts = build_typestore()
    with pytest.raises(RuntimeError), BagWriter(bag) as w:
        w.add_topic("/s", "microexp_msgs/msg/SessionInfo")
        w.write_message("/s", 5, M.build_message(ts, "microexp_msgs/msg/SessionInfo",
                                                 subject_id="s01", consent=True))  # fmt: skip
        raise RuntimeError("boom")
    with open_bag(bag) as r:
        (raw,) = list(r.messages())
        assert r.deserialize(raw).subject_id == "s01"
        assert r.notes == []
