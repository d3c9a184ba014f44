"""Typed YAML config, manifest round trip, clip ids, LOSO splits, summary, atomic writes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from microexp.dataset.atomic import NpyAppender, atomic_write_text
from microexp.dataset.config import ExportConfig, TrimConfig, config_to_dict, load_export_config
from microexp.dataset.manifest import ClipRecord, make_clip_id, read_manifest, write_manifest
from microexp.dataset.splits import loso_splits
from microexp.dataset.summary import length_histogram, summary_rows
from microexp.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_shipped_configs_load() -> None:
    # the template is the defaults, except that it trims real recordings to the activity burst
    paper = replace(ExportConfig(), trim=TrimConfig(mode="activity"))
    assert load_export_config(REPO / "config" / "dataset" / "export.yaml") == paper
    for name in ("dataset/export_synthetic.yaml", "demo/export.yaml"):
        assert load_export_config(REPO / "config" / name).trim.mode == "perform_window"


def test_activity_trim_needs_a_known_camera() -> None:
    with pytest.raises(ConfigError, match=r"trim.camera 'dvs' is not one of the cameras"):
        ExportConfig(trim=TrimConfig(mode="activity", camera="dvs"))


def test_config_errors_name_file_and_key(tmp_path: Path) -> None:
    good = config_to_dict(ExportConfig())
    p = tmp_path / "c.yaml"
    bad = dict(good, margin_z=1)
    p.write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigError, match=r"c\.yaml: unknown key\(s\) \['margin_z'\]"):
        load_export_config(p)
    missing = {k: v for k, v in good.items() if k != "slice_us"}
    p.write_text(yaml.safe_dump(missing))
    with pytest.raises(ConfigError, match="missing key 'slice_us'"):
        load_export_config(p)
    p.write_text(yaml.safe_dump(dict(good, detector=dict(good["detector"], kind="mtcnn"))))
    with pytest.raises(ConfigError, match=r"c\.yaml\.detector\.kind: 'mtcnn' is not one of"):
        load_export_config(p)
    p.write_text(yaml.safe_dump(dict(good, slice_us="33ms")))
    with pytest.raises(ConfigError, match=r"slice_us: expected int"):
        load_export_config(p)


def _rec(clip_id: str, subject: str, label: str = "AU12", dur: float = 2.0) -> ClipRecord:
    return ClipRecord(
        clip_id,
        subject,
        "s",
        label,
        "12",
        1,
        0,
        int(dur * 1e9),
        dur,
        "davis;evk4",
        "daylight",
        300.0,
        False,
        10,
        20,
        False,
        "bag",
        f"clips/{clip_id}",
    )


def test_manifest_round_trip(tmp_path: Path) -> None:
    recs = [_rec("b", "S2"), _rec("a", "S1")]
    write_manifest(tmp_path / "m.csv", recs)
    assert read_manifest(tmp_path / "m.csv") == sorted(recs, key=lambda r: r.clip_id)


def test_clip_id_is_safe() -> None:
    assert (
        make_clip_id(
            subject="Ana María", session="2024/1", label="AU12", segment_index=3, attempt=2
        )
        == "Ana-Mar-a_2024-1_AU12_3_2"
    )


def test_loso_leaves_each_subject_out_once() -> None:
    rng = np.random.default_rng(3)
    recs = [_rec(f"c{i}", f"S{rng.integers(1, 6)}") for i in range(40)]
    folds = loso_splits(recs)["loso"]
    subjects = sorted({r.subject for r in recs})
    assert [f["test_subject"] for f in folds] == subjects
    by_id = {r.clip_id: r.subject for r in recs}
    for f in folds:
        assert {by_id[c] for c in f["test"]} == {f["test_subject"]}
        assert f["test_subject"] not in {by_id[c] for c in f["train"]}
        assert sorted(f["train"] + f["test"]) == sorted(by_id)


def test_summary_rows() -> None:
    recs = [_rec("a", "S1", "AU12", 2.0), _rec("b", "S2", "AU4", 3.0)]
    rows = summary_rows(recs)
    davis = next(r for r in rows if r["name"] == "davis")
    assert (davis["subjects"], davis["clips"], davis["mean_s"]) == (2, 2, 2.5)
    assert [r["name"] for r in rows if r["group"] == "label"] == ["AU12", "AU4"]
    # with the clips' streams: Table 2's layout, DAVIS events and grey frames on separate rows
    streams = {
        "a": [("davis", "events", "346x260"), ("davis", "grey frames", "346x260")],
        "b": [("davis", "events", "346x260"), ("webcam", "RGB frames", "1280x720")],
    }
    rows = summary_rows(recs, streams)
    got = [
        (r["name"], r["modality"], r["resolution"], r["clips"])
        for r in rows
        if r["group"] == "sensor"
    ]
    assert got == [
        ("davis", "events", "346x260", 2),
        ("davis", "grey frames", "346x260", 1),
        ("webcam", "RGB frames", "1280x720", 1),
    ]


def test_length_histogram_bins() -> None:
    assert length_histogram([0.2, 2.4, 2.6, 2.6]) == [(0.0, 1), (0.5, 0), (1.0, 0), (1.5, 0),
                                                      (2.0, 1), (2.5, 2)]  # fmt: skip
    assert length_histogram([]) == []


def test_npy_appender_and_atomic_text(tmp_path: Path) -> None:
    a = NpyAppender(tmp_path / "f.npy", row_shape=(2, 3), dtype=np.dtype(np.uint8))
    blocks = [np.full((k, 2, 3), k, np.uint8) for k in (1, 4, 2)]
    for b in blocks:
        a.append(b)
    a.close()
    np.testing.assert_array_equal(np.load(tmp_path / "f.npy"), np.concatenate(blocks))
    atomic_write_text(tmp_path / "t.txt", "old")
    with (
        pytest.raises(RuntimeError),
        __import__("microexp.dataset.atomic", fromlist=["x"]).atomic_open(tmp_path / "t.txt") as fh,
    ):
        fh.write("new")
        raise RuntimeError("crash mid-write")
    assert (tmp_path / "t.txt").read_text() == "old" and len(list(tmp_path.iterdir())) == 2
