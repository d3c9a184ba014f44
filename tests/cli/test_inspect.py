from __future__ import annotations

import json
from pathlib import Path

import pytest

from microexp.cli.main import main

REAL_BAG = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "data"
    / "real"
    / ("event_camera_py_test_events_1")
)
TOPIC = "/event_camera/events"


@pytest.fixture(scope="module")
def real_bag() -> Path:
    if not REAL_BAG.is_dir():
        pytest.skip(f"shared real data absent: {REAL_BAG}")
    return REAL_BAG


def test_inspect_json_on_the_real_bag(real_bag: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "--json", str(real_bag)]) == 0
    doc = json.loads(capsys.readouterr().out)  # exactly one JSON object
    assert set(doc) == {"bag", "topics", "notes"}
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
    assert "lost msgs" in out


def test_inspect_missing_bag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ERROR: ") and "nope" in err and "does not exist" in err
