from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from microexp.bagio.reader import open_bag
from microexp.bagio.writer import BagWriter
from microexp.errors import BagError, DecodeError

from .conftest import EVENT_TOPIC, write_packet_bag

PACKET = "event_camera_msgs/msg/EventPacket"


def _seqs(path: Path) -> list[int]:
    with open_bag(path) as bag:
        return [int(bag.deserialize(raw).seq) for raw in bag.messages()]


def test_real_bag_streams_every_message(real_bag: Path) -> None:
    with open_bag(real_bag) as bag:
        assert bag.topics[EVENT_TOPIC].msgtype == PACKET
        assert bag.topics[EVENT_TOPIC].count == 517
        assert bag.topics[EVENT_TOPIC].serialization == "cdr"
        raws = list(bag.messages())
        msg = bag.deserialize(raws[0])
        assert bag.notes == []
    assert len(raws) == 517
    assert [r.index for r in raws] == list(range(517))
    stamps = [r.log_time_ns for r in raws]
    assert stamps == sorted(stamps)
    assert msg.encoding == "evt3" and (msg.width, msg.height) == (640, 480)
    assert isinstance(msg.events, np.ndarray) and msg.events.dtype == np.uint8


def test_real_bag_seq_is_contiguous(real_bag: Path) -> None:
    assert _seqs(real_bag) == list(range(5590, 6107))


def test_time_window_and_topic_filter(real_bag: Path) -> None:
    with open_bag(real_bag) as bag:
        stamps = [r.log_time_ns for r in bag.messages(topics=[EVENT_TOPIC])]
        lo, hi = stamps[100], stamps[200]
        window = list(bag.messages(start_ns=lo, stop_ns=hi))
        with pytest.raises(BagError, match="/nope"):
            list(bag.messages(topics=["/nope"]))
    assert [r.log_time_ns for r in window] == [s for s in stamps if lo <= s < hi]


def test_empty_storage_identifier_is_inferred(real_bag_copy: Path) -> None:
    meta = real_bag_copy / "metadata.yaml"
    doc = yaml.safe_load(meta.read_text())
    doc["rosbag2_bagfile_information"]["storage_identifier"] = ""
    meta.write_text(yaml.safe_dump(doc))
    with open_bag(real_bag_copy) as bag:
        assert bag.topics[EVENT_TOPIC].count == 517
        assert sum(1 for _ in bag.messages()) == 517
        assert any("storage_identifier" in n and "sqlite3" in n for n in bag.notes)


def test_missing_metadata_and_bare_file(real_bag_copy: Path) -> None:
    (real_bag_copy / "metadata.yaml").unlink()
    with open_bag(real_bag_copy) as bag:
        assert bag.topics[EVENT_TOPIC].count == 517
        assert any("no metadata.yaml" in n for n in bag.notes)
    with open_bag(real_bag_copy / "test_events_1.db3") as bag:
        assert sum(1 for _ in bag.messages()) == 517


def test_missing_bag(tmp_path: Path) -> None:
    with pytest.raises(BagError, match=r"nothing_here.*does not exist"):
        open_bag(tmp_path / "nothing_here")


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(BagError, match=r"no metadata.yaml and no \.mcap/\.db3"):
        open_bag(tmp_path)


def test_garbage_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a bag at all" * 10)
    with pytest.raises(BagError, match=r"junk.bin.*neither an MCAP nor a sqlite3"):
        open_bag(junk)
    fake_db = tmp_path / "fake.db3"
    fake_db.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    with pytest.raises(BagError, match=r"fake.db3"):
        open_bag(fake_db)
    fake_mcap = tmp_path / "fake.mcap"
    fake_mcap.write_bytes(b"\x89MCAP0\r\n")
    with pytest.raises(BagError, match=r"fake.mcap.*header"):
        open_bag(fake_mcap)


def _chunk_ends(mcap_file: Path) -> list[tuple[int, int]]:
    """(end offset, messages in it) per chunk, from Foxglove's independent MCAP reader."""
    reader_mod = pytest.importorskip("mcap.reader")
    with mcap_file.open("rb") as f:
        summary = reader_mod.make_reader(f).get_summary()
    assert summary is not None
    out = []
    for ci in summary.chunk_indexes:
        # log times are 1 s + i ms, one message per ms
        count = (ci.message_end_time - ci.message_start_time) // 1_000_000 + 1
        out.append((ci.chunk_start_offset + ci.chunk_length, count))
    return out


@pytest.mark.parametrize("compression", [None, "zstd"])
def test_truncated_mcap_reads_up_to_last_complete_chunk(
    tmp_path: Path, compression: str | None
) -> None:
    bag = tmp_path / "bag"
    write_packet_bag(bag, n=40, compression=compression)
    full = bag / "bag.mcap"
    ends = _chunk_ends(full)
    assert len(ends) >= 3
    data = full.read_bytes()
    mid_record = {ends[-1][0] - 1, ends[1][0] + 5}
    for cut in [len(data) - 1, len(data) - 40, *mid_record, ends[1][0]]:
        piece = tmp_path / f"cut_{cut}.mcap"
        piece.write_bytes(data[:cut])
        expected = sum(count for end, count in ends if end <= cut)
        with open_bag(piece) as reader:
            got = [int(reader.deserialize(raw).seq) for raw in reader.messages()]
            assert reader.topics.get(EVENT_TOPIC, None) is None or (
                reader.topics[EVENT_TOPIC].count == expected
            )
            notes = reader.notes
        assert got == list(range(expected)), cut
        assert any("footer" in n for n in notes), notes
        if cut in mid_record:
            assert any("cut off" in n for n in notes), notes
    (tmp_path / "cut_header.mcap").write_bytes(data[:30])
    with pytest.raises(BagError, match=r"cut_header.mcap.*header"):
        open_bag(tmp_path / "cut_header.mcap")


def test_intact_mcap_with_metadata_and_without(tmp_path: Path) -> None:
    bag = tmp_path / "bag"
    write_packet_bag(bag, n=25)
    assert _seqs(bag) == list(range(25))
    (bag / "metadata.yaml").unlink()
    with open_bag(bag) as reader:
        assert reader.topics[EVENT_TOPIC].count == 25
        assert any("no metadata.yaml" in n for n in reader.notes)


def test_killed_recording_is_readable(tmp_path: Path) -> None:
    """SIGKILL while writing an MCAP bag: every chunk flushed before the kill is read back."""
    bag = tmp_path / "live"
    script = f"""
import sys, time
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from bagio.conftest import EVENT_TOPIC
import numpy as np
from microexp.bagio import messages as M
from microexp.bagio.typestore import build_typestore
from microexp.bagio.writer import BagWriter
ts = build_typestore()
bag = BagWriter({str(bag)!r})
bag.__enter__()
bag.add_topic(EVENT_TOPIC, M.EVENT_PACKET)
payload = np.zeros(100_000, dtype=np.uint8)
for i in range(25):
    bag.write_message(EVENT_TOPIC, i + 1, M.event_packet(ts, events=payload, stamp_ns=i, frame_id='',
                      width=1, height=1, seq=i))
print('wrote', flush=True)
time.sleep(60)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "wrote"
    finally:
        proc.kill()
        proc.wait()
    assert not (bag / "metadata.yaml").exists()
    seqs = _seqs(bag)
    assert len(seqs) >= 20  # 10 messages per 1 MiB chunk: two chunks were complete
    assert seqs == list(range(len(seqs)))


def test_sqlite_with_truncated_wal(tmp_path: Path) -> None:
    """A crashed writer left a WAL; its last frame is cut off. Committed rows are read back."""
    bag = tmp_path / "bag"
    write_packet_bag(bag, n=5, payload_bytes=1000, storage="sqlite3")
    db = bag / "bag.db3"
    script = f"""
import os, sqlite3
conn = sqlite3.connect({str(db)!r})
conn.execute('PRAGMA journal_mode=WAL')
conn.execute('PRAGMA wal_autocheckpoint=0')
data = open({str(db)!r}, 'rb').read(0)
for i in range(5, 9):
    conn.execute('INSERT INTO messages(topic_id, timestamp, data) VALUES (1, ?, ?)',
                 (2_000_000_000 + i, b'x' * 10))
    conn.commit()
os._exit(0)
"""
    subprocess.run([sys.executable, "-c", script], check=True)
    wal = db.with_name(db.name + "-wal")
    assert wal.stat().st_size > 0
    os.truncate(wal, wal.stat().st_size - 100)  # cut the last commit's frame
    for name in ("bag.db3-shm",):
        (bag / name).unlink(missing_ok=True)
    bag.chmod(0o555)  # read-only folder: the reader must replay the WAL from a copy
    try:
        with open_bag(bag) as reader:
            stamps = [r.log_time_ns for r in reader.messages()]
            notes = reader.notes
    finally:
        bag.chmod(0o755)
    assert len(stamps) == 8  # 5 written + 3 complete commits in the WAL; the cut one is lost
    assert any("write-ahead log" in n for n in notes)


def test_ros2idl_schema_uses_our_definition_and_unknown_msg_types_register(tmp_path: Path) -> None:
    from rosbags.rosbag2 import Writer
    from rosbags.rosbag2.enums import StoragePlugin

    from microexp.bagio import messages as M
    from microexp.bagio.typestore import build_typestore

    ts = build_typestore()
    idl = "=" * 80 + "\nIDL: event_camera_msgs/msg/EventPacket\nmodule garbage { this is not idl"
    path = tmp_path / "idl"
    with Writer(path, version=8, storage_plugin=StoragePlugin.MCAP) as w:
        conn = w.add_connection(EVENT_TOPIC, PACKET, msgdef=idl, rihs01="RIHS01_" + "0" * 64)
        other = w.add_connection("/other", "scratch_msgs/msg/Pair", msgdef="int32 a\nstring b",
                                 rihs01="RIHS01_" + "1" * 64)  # fmt: skip
        msg = M.event_packet(ts, events=b"\x01\x02", stamp_ns=5, frame_id="f", width=2, height=3,
                             seq=9)  # fmt: skip
        w.write(conn, 10, M.serialize(ts, msg))
        w.write(other, 11, b"\x00\x01\x00\x00" + b"\x07\x00\x00\x00" + b"\x03\x00\x00\x00hi\x00")
    with open_bag(path) as bag:
        raws = list(bag.messages())
        assert bag.deserialize(raws[0]).seq == 9
        pair = bag.deserialize(raws[1])
        assert (pair.a, pair.b) == (7, "hi")
        assert any("scratch_msgs/msg/Pair registered from the bag" in n for n in bag.notes)
        assert any("ros2idl schema for event_camera_msgs" in n for n in bag.notes)


def test_bad_cdr_raises_decode_error_naming_topic_and_index(tmp_path: Path) -> None:
    path = tmp_path / "bad"
    with BagWriter(path) as bag:
        bag.add_topic(EVENT_TOPIC, PACKET)
        bag.write(EVENT_TOPIC, 1, b"\x00\x01\x00\x00\x01")
    with open_bag(path) as reader:
        raw = next(reader.messages())
        with pytest.raises(DecodeError, match=f"{EVENT_TOPIC} message 0"):
            reader.deserialize(raw)


def test_rosbags_reader_agrees_on_the_copy(real_bag_copy: Path, tmp_path: Path) -> None:
    from rosbags.highlevel import AnyReader

    with AnyReader([real_bag_copy]) as ref:
        expected = [(c.topic, t) for c, t, _ in ref.messages()]
    with open_bag(real_bag_copy) as bag:
        got = [(r.topic, r.log_time_ns) for r in bag.messages()]
    assert got == expected
    shutil.rmtree(real_bag_copy)


def _foxglove_mcap(path: Path, *, compressed: bool) -> None:
    """An MCAP written by Foxglove's writer (top-level schema/channel records, chunk CRCs)."""
    writer_mod = pytest.importorskip("mcap.writer")
    from microexp.bagio import messages as M
    from microexp.bagio.typestore import build_typestore

    ts = build_typestore()
    msgtype = "microexp_msgs/msg/SessionInfo"
    msgdef, _ = ts.generate_msgdef(msgtype, ros_version=2)
    compression = writer_mod.CompressionType.ZSTD if compressed else writer_mod.CompressionType.NONE
    with path.open("wb") as f:
        w = writer_mod.Writer(f, compression=compression)
        w.start(profile="ros2", library="test")
        sid = w.register_schema(name=msgtype, encoding="ros2msg", data=msgdef.encode())
        cid = w.register_channel(
            topic="/s", message_encoding="cdr", schema_id=sid, metadata={"offered_qos_profiles": ""}
        )
        for i in range(5):
            msg = M.build_message(ts, msgtype, subject_id=f"s{i}")
            w.add_message(channel_id=cid, log_time=i, publish_time=i, data=M.serialize(ts, msg))
        w.finish()


@pytest.mark.parametrize("compressed", [False, True])
def test_foxglove_written_mcap(tmp_path: Path, compressed: bool) -> None:
    path = tmp_path / "fox.mcap"
    _foxglove_mcap(path, compressed=compressed)
    with open_bag(path) as bag:
        assert bag.topics["/s"].count == 5
        assert [bag.deserialize(r).subject_id for r in bag.messages()] == [
            f"s{i}" for i in range(5)
        ]
        assert bag.notes == []


def test_chunk_crc_mismatch_stops_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "fox.mcap"
    _foxglove_mcap(path, compressed=False)
    data = bytearray(path.read_bytes())
    data[data.find(b"s3") + 1] = ord("9")  # flip one byte inside the (only) chunk
    path.write_bytes(bytes(data))
    with open_bag(path) as bag:
        assert list(bag.messages()) == []
        assert any("CRC mismatch" in n for n in bag.notes)
