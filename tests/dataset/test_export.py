"""End-to-end export of session bags written here (real mcap, real CDR) against known truth."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from sessionbag import T0_NS, S, SegmentSpec, SessionTruth, count_in, write_session_bag

from microexp.cli.main import main
from microexp.dataset.config import ExportConfig
from microexp.dataset.export import export_bags
from microexp.dataset.manifest import read_manifest, read_rejects
from microexp.errors import OutputExistsError

MARGIN_NS = S  # default margin_s = 1.0


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SessionTruth, Path]:
    d = tmp_path_factory.mktemp("export")
    segs = [
        SegmentSpec("AU12", (12,), 0, start_s=0.5),
        SegmentSpec("AU4", (4,), 1, attempt=1, start_s=4.5, invalid="redo"),
        SegmentSpec("AU4", (4,), 1, attempt=2, start_s=8.5),
    ]
    truth = write_session_bag(d / "bag", segments=segs, duration_s=13.0, seed=1)
    out = d / "ds"
    report = export_bags([d / "bag"], out, config=ExportConfig())
    assert report.ok, report.text()
    return d / "bag", truth, out


def _label(out: Path, clip_id: str) -> dict:
    return json.loads((out / "clips" / clip_id / "label.json").read_text())


def test_clip_boundaries_match_protocol_stamps(session: tuple[Path, SessionTruth, Path]) -> None:
    _, _, out = session
    lab = _label(out, "S1_sess1_AU12_0_1")
    perform0, perform1 = T0_NS + int(1.5 * S), T0_NS + int(3.0 * S)  # start 0.5 + (1.0, 2.5)
    assert (lab["onset_ns"], lab["offset_ns"]) == (perform0, perform1)
    assert (lab["start_ns"], lab["end_ns"]) == (perform0 - MARGIN_NS, perform1 + MARGIN_NS)
    lab2 = _label(out, "S1_sess1_AU4_1_2")
    assert lab2["onset_ns"] == T0_NS + int(9.5 * S) and lab2["attempt"] == 2


def test_event_counts_equal_bag_events_in_interval(
    session: tuple[Path, SessionTruth, Path],
) -> None:
    _, truth, out = session
    for rec in read_manifest(out / "manifest.csv"):
        for cam in ("davis", "evk4"):
            with h5py.File(out / rec.dir / f"events_{cam}.h5") as f:
                ev = f["events"][:]
                assert f["events"].attrs["t0_ns"] == rec.start_ns
            expected = count_in(truth, cam, rec.start_ns, rec.end_ns)
            assert ev.size == expected > 1000
            assert getattr(rec, f"events_{cam}") == expected
            # t is ROS-time µs since the clip start: equal to the truth's times
            t_true = truth.events[cam]["t"]
            sel = np.sort(t_true[(t_true >= rec.start_ns) & (t_true < rec.end_ns)])
            np.testing.assert_array_equal(np.sort(ev["t"]), (sel - rec.start_ns) // 1000)


def test_redone_attempt_rejected_with_reason(session: tuple[Path, SessionTruth, Path]) -> None:
    _, _, out = session
    rejects = read_rejects(out / "rejects.csv")
    assert [(r.segment_index, r.attempt, r.reason) for r in rejects] == [(1, 1, "redo")]
    ids = [r.clip_id for r in read_manifest(out / "manifest.csv")]
    assert ids == ["S1_sess1_AU12_0_1", "S1_sess1_AU4_1_2"]


def test_crops_contain_the_face(session: tuple[Path, SessionTruth, Path]) -> None:
    _, truth, out = session
    x, y, w, h = truth.face_box_davis
    d = out / "clips" / "S1_sess1_AU12_0_1"
    boxes = np.load(d / "faces_davis.npy")
    frames = np.load(d / "frames_davis.npy")
    crops = np.load(d / "crops_davis.npy")
    assert frames.shape[1:] == (260, 346) and crops.shape == (frames.shape[0], 64, 64)
    assert (boxes[:, 2] > 0).all()
    # APS frames are stamped in the DAVIS clock and mapped to ROS time like its events
    lab = _label(out, d.name)
    times = np.load(d / "frame_times_davis.npy")
    assert times.size == frames.shape[0] == 87  # 25 fps: k = 13..99 in [0.5 s, 4.0 s)
    assert ((times - T0_NS) % 40_000_000 == 0).all()
    assert times.min() >= lab["start_ns"] and times.max() < lab["end_ns"]
    cx, cy = boxes[:, 0] + boxes[:, 2] / 2, boxes[:, 1] + boxes[:, 3] / 2
    assert (abs(cx - (x + w / 2)) < w * 0.15).all() and (abs(cy - (y + h / 2)) < h * 0.2).all()
    # the crop's centre is face (bright skin, 190), its corners background or face edge
    assert crops[:, 24:40, 24:40].mean() > 120
    ev = np.load(d / "evframes_davis.npy")
    assert ev.shape == (ev.shape[0], 2, 64, 64) and ev.dtype == np.uint8
    assert ev.shape[0] == -(
        -(_label(out, d.name)["end_ns"] - _label(out, d.name)["start_ns"]) // 33_000_000
    )
    lab = _label(out, d.name)
    assert lab["event_face_box"]["evk4"]["source"].startswith("mapped:davis")
    webcam = np.load(d / "crops_webcam.npy")
    assert webcam.shape[1:] == (64, 64) and webcam[:, 24:40, 24:40].mean() > 120


def test_splits_summary_provenance(session: tuple[Path, SessionTruth, Path]) -> None:
    _, _, out = session
    splits = json.loads((out / "splits.json").read_text())
    assert splits == {
        "loso": [
            {"test_subject": "S1", "train": [], "test": ["S1_sess1_AU12_0_1", "S1_sess1_AU4_1_2"]}
        ]
    }
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["sources"][0]["name"] == "bag" and len(meta["sources"][0]["sha256"]) == 64
    assert meta["config"]["slice_us"] == 33000 and meta["clips"] == 2
    assert "| davis | events | 346x260 | 1 | 2 |" in (out / "summary.md").read_text()


def test_rerun_skips_and_resumes(session: tuple[Path, SessionTruth, Path], tmp_path: Path) -> None:
    bag, _, out = session
    ds = tmp_path / "ds"
    shutil.copytree(out, ds)
    again = export_bags([bag], ds, config=ExportConfig())
    assert (
        again.ok
        and again.written == []
        and sorted(again.skipped) == ["S1_sess1_AU12_0_1", "S1_sess1_AU4_1_2"]
    )
    # an interrupted run: one clip half written (no DONE), left as .partial
    clip = ds / "clips" / "S1_sess1_AU4_1_2"
    (clip / "DONE").unlink()
    os.rename(clip, clip.with_name(clip.name + ".partial"))
    resumed = export_bags([bag], ds, config=ExportConfig())
    assert resumed.written == ["S1_sess1_AU4_1_2"] and resumed.skipped == ["S1_sess1_AU12_0_1"]
    assert not clip.with_name(clip.name + ".partial").exists() and (clip / "DONE").is_file()
    assert len(read_manifest(ds / "manifest.csv")) == 2


def test_existing_output_not_overwritten_unless_force(
    session: tuple[Path, SessionTruth, Path], tmp_path: Path
) -> None:
    bag, _, out = session
    ds = tmp_path / "ds"
    shutil.copytree(out, ds)
    other = ExportConfig(margin_s=0.5)
    with pytest.raises(OutputExistsError, match="other sources or another config"):
        export_bags([bag], ds, config=other)
    report = export_bags([bag], ds, config=other, force=True)
    assert report.ok and len(report.written) == 2
    assert _label(ds, "S1_sess1_AU12_0_1")["start_ns"] == T0_NS + int(1.0 * S)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    with pytest.raises(OutputExistsError, match="not a microexp dataset"):
        export_bags([bag], foreign, config=ExportConfig(), force=True)
    assert (foreign / "keep.txt").read_text() == "mine"


def test_cli_export_exit_codes(
    session: tuple[Path, SessionTruth, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag, _, _ = session
    assert main(["export", str(bag), "-o", str(tmp_path / "a"), "--no-progress"]) == 0
    assert "clips written: 2" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "missing"), "-o", str(tmp_path / "b")]) == 1
    assert "bag(s) not found" in capsys.readouterr().err


def test_sync_offset_applied_and_loso_over_two_subjects(tmp_path: Path) -> None:
    segs = [SegmentSpec("AU12", (12,), 0, start_s=0.5), SegmentSpec("AU4", (4,), 1, start_s=4.5)]
    sync = 37_000_000  # EVK4 host clock 37 ms ahead of the protocol clock
    t1 = write_session_bag(
        tmp_path / "b1",
        subject="S1",
        segments=segs,
        duration_s=9.0,
        rate_hz=5000,
        cameras=("evk4",),
        evk4_sync_offset_ns=sync,
    )
    write_session_bag(
        tmp_path / "b2",
        subject="S2",
        segments=segs[:1],
        duration_s=5.0,
        rate_hz=5000,
        cameras=("evk4",),
        seed=2,
    )
    cfg = ExportConfig(box_source={})
    report = export_bags([tmp_path / "b1", tmp_path / "b2"], tmp_path / "ds", config=cfg)
    assert report.ok, report.text()
    recs = read_manifest(tmp_path / "ds" / "manifest.csv")
    for rec in (r for r in recs if r.subject == "S1"):
        assert rec.events_evk4 == count_in(t1, "evk4", rec.start_ns, rec.end_ns)
        assert _label(tmp_path / "ds", rec.clip_id)["sync_offset_ns"]["evk4"] == sync
    folds = json.loads((tmp_path / "ds" / "splits.json").read_text())["loso"]
    assert [(f["test_subject"], len(f["train"]), len(f["test"])) for f in folds] == [
        ("S1", 1, 2),
        ("S2", 2, 1),
    ]
