"""AEDAT4 import: the real sample under report-style names, name parsing, failures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from microexp.cli.main import main
from microexp.dataset.aedat4_import import import_aedat4, movement_code, parse_take_name
from microexp.dataset.config import ImportConfig
from microexp.dataset.manifest import read_manifest


@pytest.mark.parametrize(
    ("name", "movement", "subject", "take", "noisy"),
    [
        ("frown_5_1_(noise).aedat4", "frown", "5", 1, True),
        ("upper lid raiser_12_2.aedat4", "upper_lid_raiser", "12", 2, False),
        ("Upper_Lid_Raiser_3_1.aedat4", "upper_lid_raiser", "3", 1, False),
        ("blink eyes_7_3(noise).aedat4", "blink", "7", 3, True),
        ("open-mouth_1_1.aedat4", "open_mouth", "1", 1, False),
        ("contract jaw_22_1.aedat4", "contract_jaw", "22", 1, False),
        ("nose_wrinkle_9_2.aedat4", "nose_wrinkle", "9", 2, False),
        ("smile_alice_1.aedat4", "smile", "alice", 1, False),
    ],
)
def test_parse_take_name(name: str, movement: str, subject: str, take: int, noisy: bool) -> None:
    t = parse_take_name(Path(name))
    assert (t.movement, t.subject, t.take, t.noisy) == (movement, subject, take, noisy)


@pytest.mark.parametrize("name", ["frown.aedat4", "frown_5_x.aedat4", "grimace_5_1.aedat4"])
def test_bad_take_names(name: str) -> None:
    with pytest.raises(ValueError, match=name.split("_")[0].split(".")[0]):
        parse_take_name(Path(name))


def test_movement_codes_cover_catalog() -> None:
    from microexp.aus import MOVEMENT_CODES

    for code in MOVEMENT_CODES:
        assert movement_code(code) == code


def test_real_sample_imports(sample_aedat4: Path, tmp_path: Path) -> None:
    src = tmp_path / "takes" / "subj5"
    src.mkdir(parents=True)
    shutil.copy(sample_aedat4, src / "frown_5_1_(noise).aedat4")
    shutil.copy(sample_aedat4, src / "smile_6_2.aedat4")
    report = import_aedat4(tmp_path / "takes", tmp_path / "ds", config=ImportConfig())
    assert report.ok, report.text()
    recs = {r.label: r for r in read_manifest(tmp_path / "ds" / "manifest.csv")}
    assert recs["frown"].noisy and not recs["smile"].noisy
    assert recs["frown"].au_numbers == "4" and recs["smile"].au_numbers == "6;12"
    d = tmp_path / "ds" / recs["frown"].dir
    with h5py.File(d / "events_davis.h5") as f:
        ev = f["events"][:]
        assert (f["events"].attrs["width"], f["events"].attrs["height"]) == (320, 240)
    # README of the shared data: 111,954 events, 55,023 ON, x <= 319, y <= 239
    assert ev.size == 111_954 and int(ev["p"].sum()) == 55_023
    assert ev["t"].min() == 0 and ev["t"].max() == 1605537494308262 - 1605537493718345
    lab = json.loads((d / "label.json").read_text())
    assert lab["event_face_box"]["davis"] == {
        "box": [0, 0, 320, 240],
        "source": "whole_sensor (no frames, no roi configured)",
    }
    frames = np.load(d / "evframes_davis.npy")
    assert frames.shape == (18, 2, 64, 64)  # 0.59 s / 33 ms
    assert int(frames.sum()) <= ev.size and int(frames[:, 1].sum()) > 0
    splits = json.loads((tmp_path / "ds" / "splits.json").read_text())
    assert [f["test_subject"] for f in splits["loso"]] == ["5", "6"]
    # roi crop: only events inside the box are counted
    report2 = import_aedat4(
        tmp_path / "takes", tmp_path / "ds2", config=ImportConfig(roi=(100, 50, 120, 120))
    )
    d2 = tmp_path / "ds2" / recs["frown"].dir
    inside = (ev["x"] >= 100) & (ev["x"] < 220) & (ev["y"] >= 50) & (ev["y"] < 170)
    assert report2.ok and int(np.load(d2 / "evframes_davis.npy").astype(int).sum()) == int(
        inside.sum()
    )


def test_unknown_movement_fails_but_others_import(
    sample_aedat4: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "takes").mkdir()
    shutil.copy(sample_aedat4, tmp_path / "takes" / "grimace_1_1.aedat4")
    shutil.copy(sample_aedat4, tmp_path / "takes" / "frown_1_1.aedat4")
    code = main(["import", str(tmp_path / "takes"), "-o", str(tmp_path / "ds")])
    out = capsys.readouterr()
    assert code == 1 and "unknown movement 'grimace'" in out.out and "grimace_1_1.aedat4" in out.out
    assert [r.label for r in read_manifest(tmp_path / "ds" / "manifest.csv")] == ["frown"]
    # a second run skips the finished take and fails again on the bad one
    assert main(["import", str(tmp_path / "takes"), "-o", str(tmp_path / "ds")]) == 1
    assert "skipped (already done): 1" in capsys.readouterr().out


def test_not_an_aedat4_file(tmp_path: Path) -> None:
    (tmp_path / "takes").mkdir()
    (tmp_path / "takes" / "smile_1_1.aedat4").write_bytes(b"not aedat4")
    report = import_aedat4(tmp_path / "takes", tmp_path / "ds", config=ImportConfig())
    assert not report.ok and "smile_1_1.aedat4" in report.failures[0]


def test_take_with_aps_frames_gets_face_boxes_and_crops(tmp_path: Path) -> None:
    pytest.importorskip("dlib", reason="dlib-bin is not installed")
    import dv_processing as dv
    from sessionbag import face_frame

    (tmp_path / "takes").mkdir()
    path = tmp_path / "takes" / "smile_4_1.aedat4"
    writer = dv.io.MonoCameraWriter(
        str(path), dv.io.MonoCameraWriter.DAVISConfig("DAVIS346", (346, 260))
    )
    rng = np.random.default_rng(5)
    t0 = 1_700_000_000_000_000
    store = dv.EventStore()
    for t, x, y, p in zip(
        np.arange(0, 1_000_000, 50),
        rng.integers(0, 346, 20000),
        rng.integers(0, 260, 20000),
        rng.integers(0, 2, 20000),
        strict=True,
    ):
        store.push_back(int(t0 + t), int(x), int(y), bool(p))
    writer.writeEvents(store)
    for k in range(25):  # 25 fps over 1 s
        writer.writeFrame(dv.Frame(t0 + k * 40_000, face_frame(346, 260, (120, 60, 110, 140), rng)))
    del writer
    report = import_aedat4(tmp_path / "takes", tmp_path / "ds", config=ImportConfig())
    assert report.ok, report.text()
    (rec,) = read_manifest(tmp_path / "ds" / "manifest.csv")
    d = tmp_path / "ds" / rec.dir
    assert rec.events_davis == 20000 and rec.label == "smile"
    boxes, crops = np.load(d / "faces_davis.npy"), np.load(d / "crops_davis.npy")
    assert (
        boxes.shape == (25, 4) and (boxes[:, 2] > 0).all() and crops[:, 24:40, 24:40].mean() > 120
    )
    lab = json.loads((d / "label.json").read_text())
    assert lab["event_face_box"]["davis"]["source"] == "frames:davis"
    np.testing.assert_array_equal(
        np.load(d / "frame_times_davis.npy"), (t0 + np.arange(25) * 40_000) * 1000
    )
