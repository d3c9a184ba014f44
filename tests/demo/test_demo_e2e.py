"""``microexp demo`` end to end at a tiny size, then ``microexp report`` on its output."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from microexp.bagio.inspect import inspect_bag
from microexp.bagio.reader import open_bag
from microexp.cli.main import main
from microexp.dataset.manifest import read_manifest
from microexp.demo.workspace import MARKER
from microexp.report.timeline import session_timeline

pytestmark = pytest.mark.slow

SUBJECTS = ["s01", "s02"]
TOPICS = {
    "/davis/events", "/davis/image", "/webcam/image_raw",
    "/microexp/protocol", "/microexp/session", "/microexp/ground_truth",
}  # fmt: skip


def _refs(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]*)"', html)


def test_every_step_left_its_outputs(tiny_demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (tiny_demo / MARKER).is_file()
    demo = json.loads((tiny_demo / "demo.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in demo["steps"]] == [
        "simulate", "inspect", "export", "train", "evaluate", "infer", "report",
    ]  # fmt: skip
    assert all(s["wall_s"] >= 0 and s["cpu_s"] >= 0 for s in demo["steps"])
    assert [s["subject"] for s in demo["subjects"]] == SUBJECTS
    for subject in SUBJECTS:
        with open_bag(tiny_demo / "bags" / subject) as bag:
            assert set(bag.topics) >= TOPICS, subject
            assert bag.topics["/microexp/ground_truth"].count == 2
        info = json.loads((tiny_demo / "inspect" / f"{subject}.json").read_text(encoding="utf-8"))
        assert info["topics"]["/davis/events"]["decode_errors"] == 0
        assert len(info["topics"]["/microexp/protocol"]["segments"]) == 2
    assert (tiny_demo / "demo.log").stat().st_size > 0


def test_dataset_has_one_clip_per_performed_segment(tiny_demo: Path) -> None:
    demo = json.loads((tiny_demo / "demo.json").read_text(encoding="utf-8"))
    recs = read_manifest(tiny_demo / "dataset" / "manifest.csv")
    assert len(recs) == demo["export"]["written"] == demo["headline"]["clips"] == 4
    assert sorted((r.subject, r.label) for r in recs) == [
        (s, lb) for s in SUBJECTS for lb in ("AU12", "AU26")
    ]
    for r in recs:
        ev = np.load(tiny_demo / "dataset" / r.dir / "evframes_davis.npy")
        assert ev.shape[1:] == (2, 64, 64) and ev.sum() > 0


def test_results_have_one_row_per_fold(tiny_demo: Path) -> None:
    run = tiny_demo / "runs" / "snn"
    with (run / "folds.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["test_subject"] for r in rows] == [*SUBJECTS, "mean"]
    for r in rows:
        assert 0.0 <= float(r["top1"]) <= float(r["top3"]) <= 1.0
    for s in SUBJECTS:
        assert (run / f"fold_{s}" / "checkpoint.pt").is_file()
    assert (run / "confusion.png").is_file() and (run / "table5.csv").is_file()


def test_replay_predictions_are_valid_probabilities(tiny_demo: Path) -> None:
    with (tiny_demo / "infer" / "predictions.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows
    cols = [c for c in rows[0] if c.startswith("score_")]
    assert cols == ["score_AU12", "score_AU26"]
    scores = np.array([[float(r[c]) for c in cols] for r in rows])
    assert np.all((scores >= 0.0) & (scores <= 1.0))
    stamps = np.array([int(r["stamp_ns"]) for r in rows])
    assert np.all(np.diff(stamps) > 0)
    scores_json = json.loads((tiny_demo / "infer" / "scores.json").read_text(encoding="utf-8"))
    assert scores_json["subject"] == "s02" and scores_json["actions"] == 2
    assert scores_json["slices"] == len(rows)
    assert "fold_s02" in scores_json["checkpoint"]  # the fold that held s02 out


def test_timeline_counts_every_event_of_the_bag(tiny_demo: Path) -> None:
    bag = tiny_demo / "bags" / "s01"
    info = inspect_bag(bag).topics["/davis/events"].events
    assert info is not None
    tl = session_timeline(bag, bin_us=100_000)
    assert int(tl.counts["davis"].sum()) == info.events_on + info.events_off
    assert [s.label for s in tl.segments] == ["AU12", "AU26"] and len(tl.truth) == 2


def _check_report(report: Path) -> None:
    html = (report / "index.html").read_text(encoding="utf-8")
    refs = _refs(html)
    assert refs
    for ref in refs:
        assert (report / ref).exists(), ref
    pngs = [r for r in refs if r.endswith(".png")]
    assert {"timeline.png", "sync.png", "samples.png", "confusion.png", "inference.png"} <= set(
        pngs
    )
    import matplotlib.image as mpimg

    for png in pngs:
        img = mpimg.imread(report / png)
        assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100, png
    assert "synthetic" in html and "paper" in html


def test_report_references_only_existing_files(tiny_demo: Path) -> None:
    _check_report(tiny_demo / "report")


def test_report_command_rebuilds_the_page(
    tiny_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tiny_demo / "report"
    for f in report.iterdir():
        f.unlink()
    assert main(["report", str(tiny_demo)]) == 0
    assert "index.html" in capsys.readouterr().out
    _check_report(report)


def test_refuses_a_non_empty_directory(
    tiny_demo: Path, tiny_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sorted(p.name for p in tiny_demo.iterdir())
    assert main(["demo", "-o", str(tiny_demo), "--config", str(tiny_config)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert sorted(p.name for p in tiny_demo.iterdir()) == before
    other = tmp_path / "mine"
    other.mkdir()
    (other / "thesis.tex").write_text("precious")
    assert main(["demo", "-o", str(other), "--config", str(tiny_config), "--force"]) == 1
    assert "not a previous demo" in capsys.readouterr().err
    assert (other / "thesis.tex").read_text() == "precious"
    assert main(["report", str(other)]) == 1
    assert "not a microexp demo directory" in capsys.readouterr().err
    fresh = tmp_path / "fresh"
    assert main(["demo", "-o", str(fresh), "--config", str(tiny_config), "--subjects", "1"]) == 1
    assert "needs >= 2" in capsys.readouterr().err
    assert not fresh.exists()
