"""Bad input to the export: each case gives a clear message, keeps going, exits non-zero."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sessionbag import SegmentSpec, count_in, write_session_bag

from microexp.cli.main import main
from microexp.dataset.config import ExportConfig
from microexp.dataset.export import export_bags
from microexp.dataset.manifest import read_manifest, read_rejects


def _export(bag: Path, out: Path):  # type: ignore[no-untyped-def]
    return export_bags(
        [bag],
        out,
        config=ExportConfig(detector=ExportConfig().detector.__class__(kind="bright_ellipse")),
    )


def test_no_protocol_topic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_session_bag(tmp_path / "bag", with_protocol=False, duration_s=3.0, cameras=("davis",))
    code = main(["export", str(tmp_path / "bag"), "-o", str(tmp_path / "ds"), "--no-progress"])
    err = capsys.readouterr()
    assert code == 1
    assert "no protocol topic /microexp/protocol" in err.out and "bag" in err.out
    assert (tmp_path / "ds" / "manifest.csv").is_file()  # the dataset files are still written


def test_unknown_au_code_and_overlap_rejected_others_kept(tmp_path: Path) -> None:
    segs = [
        SegmentSpec("AU12", (12,), 0, start_s=0.2),
        SegmentSpec("AU99", (99,), 1, start_s=3.0),
        SegmentSpec("AU4", (4,), 2, start_s=5.0, end_s=4.0),
        SegmentSpec("AU5", (5,), 3, start_s=6.0),  # perform 7.0 < previous offset 7.5
    ]
    write_session_bag(
        tmp_path / "bag", segments=segs, duration_s=10.0, rate_hz=5000, cameras=("davis",)
    )
    report = _export(tmp_path / "bag", tmp_path / "ds")
    assert not report.ok
    reasons = {r.segment_index: r.reason for r in read_rejects(tmp_path / "ds" / "rejects.csv")}
    assert "unknown AU code 'AU99'" in reasons[1] and "segment 1" in reasons[1]
    assert "segment 3 attempt 1 overlaps segment 2 attempt 1" in reasons[3]
    assert "bag /microexp/protocol" in reasons[3]
    labels = sorted(r.label for r in read_manifest(tmp_path / "ds" / "manifest.csv"))
    assert labels == ["AU12", "AU4"]


def test_segment_without_events_and_camera_missing_in_part(tmp_path: Path) -> None:
    segs = [SegmentSpec("AU12", (12,), 0, start_s=0.2), SegmentSpec("AU4", (4,), 1, start_s=5.0)]
    # DAVIS (the only camera) drops out from 4.5 s to the end: segment 1 has no events at all
    write_session_bag(
        tmp_path / "bag",
        segments=segs,
        duration_s=10.0,
        rate_hz=5000,
        cameras=("davis",),
        davis_gap_s=(4.5, 11.0),
    )
    report = _export(tmp_path / "bag", tmp_path / "ds")
    assert not report.ok
    assert any("no events on /davis/events" in f and "segment 1" in f for f in report.failures)
    assert [r.label for r in read_manifest(tmp_path / "ds" / "manifest.csv")] == ["AU12"]
    assert not list((tmp_path / "ds" / "clips").glob("*AU4*"))
    # with the EVK4 still recording, the clip is kept without DAVIS and a warning names the topic
    write_session_bag(
        tmp_path / "bag2",
        segments=segs,
        duration_s=10.0,
        rate_hz=5000,
        cameras=("davis", "evk4"),
        davis_gap_s=(4.5, 11.0),
    )
    report2 = _export(tmp_path / "bag2", tmp_path / "ds2")
    assert report2.ok, report2.text()
    assert any(
        "camera davis (/davis/events) has no data in segment 1" in w for w in report2.warnings
    )
    rec = {r.label: r for r in read_manifest(tmp_path / "ds2" / "manifest.csv")}
    assert rec["AU4"].sensors == "evk4" and rec["AU12"].sensors == "davis;evk4"


def test_truncated_bag_keeps_finished_clips(tmp_path: Path) -> None:
    segs = [SegmentSpec("AU12", (12,), 0, start_s=0.2), SegmentSpec("AU4", (4,), 1, start_s=6.0)]
    write_session_bag(
        tmp_path / "bag", segments=segs, duration_s=11.0, rate_hz=20000, cameras=("davis",)
    )
    mcap = next((tmp_path / "bag").glob("*.mcap"))
    data = mcap.read_bytes()
    mcap.write_bytes(data[: int(len(data) * 0.7)])
    report = _export(tmp_path / "bag", tmp_path / "ds")
    assert not report.ok
    assert any(str(tmp_path / "bag") in f for f in report.failures), report.text()
    assert [r.label for r in read_manifest(tmp_path / "ds" / "manifest.csv")] == ["AU12"]
    assert not list((tmp_path / "ds" / "clips").glob("*.partial"))


def test_undecodable_packet_skipped_and_reported(tmp_path: Path) -> None:
    segs = [SegmentSpec("AU12", (12,), 0, start_s=0.2)]
    # 10 ms packets: packet 150 lies at 1.5 s, inside the clip [0.2, 3.7) s
    truth = write_session_bag(
        tmp_path / "bag",
        segments=segs,
        duration_s=4.5,
        rate_hz=5000,
        cameras=("davis",),
        corrupt_davis_packets=(150,),
    )
    report = _export(tmp_path / "bag", tmp_path / "ds")
    assert not report.ok
    assert len(report.failures) == 1
    assert "1 undecodable message(s) on /davis/events" in report.failures[0]
    (rec,) = read_manifest(tmp_path / "ds" / "manifest.csv")
    assert rec.events_davis == count_in(truth, "davis", rec.start_ns, rec.end_ns)
    lab = json.loads((tmp_path / "ds" / rec.dir / "label.json").read_text())
    assert lab["decode_errors"] == 1
