from __future__ import annotations

import json
from pathlib import Path

import pytest

from microexp.cli.main import main

TOPIC = "/event_camera/events"


def test_inspect_json_on_the_real_bag(real_bag: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "--json", str(real_bag)]) == 0
    doc = json.loads(capsys.readouterr().out)  # exactly one JSON object
    assert set(doc) == {"bag", "topics", "consent", "notes"}
    assert doc["consent"] is None  # a driver's test bag: no protocol, no consent recorded
    topic = doc["topics"][TOPIC]
    assert topic["type"] == "event_camera_msgs/msg/EventPacket"
    assert topic["messages"] == 517
    assert (topic["events_on"], topic["events_off"], topic["triggers"]) == (125183, 218291, 4157)
    assert (topic["encoding"], topic["width"], topic["height"]) == ("evt3", 640, 480)
    assert topic["t_first_us"] <= topic["t_last_us"]
    assert topic["seq_gaps"] == 0  # seq 5590..6106 contiguous
    assert (topic["seq_first"], topic["seq_last"]) == (5590, 6106)
    span_s = (topic["t_last_us"] - topic["t_first_us"]) / 1e6
    assert topic["event_rate_hz"] == pytest.approx((125183 + 218291) / span_s)
    assert doc["notes"] == []


def test_inspect_table(real_bag: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(real_bag)]) == 0
    out = capsys.readouterr().out
    assert "event_camera_msgs/msg/EventPacket" in out
    assert "125,183" in out and "218,291" in out and "4,157" in out
    assert "seq gaps" in out
    assert "consent: none recorded" in out


def test_inspect_missing_bag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ERROR: ") and "nope" in err and "does not exist" in err


def test_inspect_table_with_segments_and_dv_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np

    from microexp.bagio import messages as M
    from microexp.bagio.typestore import build_typestore
    from microexp.bagio.writer import BagWriter
    from microexp.events.dv_event_array import encode_event_array_cdr
    from microexp.events.types import make_events

    ts = build_typestore()
    bag = tmp_path / "session"
    events = make_events(x=np.arange(10), y=np.arange(10), t=np.arange(10) * 100, p=[1, 0] * 5)
    with BagWriter(bag, storage="sqlite3") as w:
        w.add_topic("/davis/events", "dv_ros2_msgs/msg/EventArray", qos="sensor_data")
        w.add_topic("/microexp/protocol", "microexp_msgs/msg/ProtocolEvent")
        w.write("/davis/events", 1, encode_event_array_cdr(
            events, stamp_ns=1, frame_id="davis", width=346, height=260))  # fmt: skip
        for kind, stamp in ((3, 2_000_000_000), (4, 2_500_000_000)):
            msg = M.build_message(ts, "microexp_msgs/msg/ProtocolEvent", kind=kind, label="AU45",
                                  attempt=1, valid=True,
                                  header=M.header(ts, stamp_ns=stamp))  # fmt: skip
            w.write_message("/microexp/protocol", stamp, msg)
    assert main(["inspect", str(bag)]) == 0
    out = capsys.readouterr().out
    assert "segments on /microexp/protocol:" in out
    row = next(line for line in out.splitlines() if "AU45" in line)
    assert row.split()[-2:] == ["500", "yes"]  # 500 ms, valid
    davis = next(
        line for line in out.splitlines() if line.startswith("/davis/events") and "346x260" in line
    )
    assert davis.split()[1:6] == ["dv_event_array", "346x260", "5", "5", "0"]
    assert main(["inspect", "--json", str(bag)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["topics"]["/davis/events"]["seq_gaps"] == 0
    assert doc["topics"]["/davis/events"]["t_last_us"] == 900
    assert doc["topics"]["/microexp/protocol"]["segments"][0]["end_ns"] == 2_500_000_000
