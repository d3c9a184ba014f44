"""Clips trimmed to the expression: ground truth (simulated bags) and event activity (real bags),
checked against the simulator's truth on real bags the test writes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pytest

from microexp.dataset.config import DetectorConfig, ExportConfig, TrimConfig
from microexp.dataset.export import export_bags
from microexp.dataset.manifest import read_manifest
from microexp.dataset.trim import activity_window
from microexp.protocol.plan import parse_plan
from microexp.sim.bag import write_session_bag
from microexp.sim.sensors import davis346
from microexp.sim.session import SessionSimConfig, SimulatedSession, simulate_session

PLAN = """
name: trim
labels: [AU12, AU26, AU4]
order: fixed
repetitions: 1
timing: {demo_repetitions: 1, demo_clip_s: 0.2, countdown_s: 0.5, neutral_s: 0.0, perform_s: 2.0, rest_s: 0.5}
demo_run: {labels: []}
sync:
  pattern: {flashes: 1, on_s: 0.1, off_s: 0.1}
  at_start: true
  per_segment: false
"""
MS = 1_000_000


def _counts(n: int, burst: tuple[int, int], *, seed: int = 0, level: float = 60.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.poisson(8.0, n).astype(float)
    c[burst[0] : burst[1]] += level
    return c


def test_activity_window_finds_the_burst_after_the_neutral_lead_in() -> None:
    c = _counts(120, (60, 72))
    win = activity_window(c, perform=(30, 100), threshold_mad=4.0, merge_gap_slices=3)
    assert win is not None and abs(win.start - 60) <= 1 and abs(win.end - 72) <= 1
    assert 6.0 <= win.baseline <= 10.0 and win.threshold > win.baseline


def test_activity_window_keeps_the_largest_burst_and_merges_close_ones() -> None:
    c = _counts(150, (50, 55), level=30.0)  # a small twitch first
    c[90:96] += 80.0  # the expression, in two parts 4 slices apart (2 after smoothing)
    c[100:106] += 80.0
    win = activity_window(c, perform=(30, 130), threshold_mad=4.0, merge_gap_slices=3)
    assert win is not None and win.start in (89, 90) and win.end in (106, 107)
    split = activity_window(c, perform=(30, 130), threshold_mad=4.0, merge_gap_slices=0)
    assert split is not None and split.end - split.start < 10


def test_activity_window_none_without_a_burst_or_a_window() -> None:
    flat = _counts(100, (0, 0))
    assert activity_window(flat, perform=(30, 90), threshold_mad=4.0, merge_gap_slices=3) is None
    assert activity_window(flat, perform=(90, 30), threshold_mad=4.0, merge_gap_slices=3) is None


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimulatedSession]:
    """A simulated DAVIS session without spontaneous blinks: a blink inside the perform window
    is a bigger burst than a brow movement, and the activity trim would take it (seed 3 has one
    in AU4's window; the module docstring of microexp.dataset.trim says so)."""
    config = SessionSimConfig(subject_id="S1", seed=3, blinks=False)
    session = simulate_session(parse_plan(PLAN), config)
    bag = tmp_path_factory.mktemp("sim") / "S1"
    write_session_bag(bag, session, [davis346()], seed=3)
    return bag, session


def _config(mode: str) -> ExportConfig:
    return replace(
        ExportConfig(), detector=DetectorConfig(kind="bright_ellipse"), trim=TrimConfig(mode=mode)
    )  # type: ignore[arg-type]


def _truth(session: SimulatedSession) -> dict[str, tuple[int, int]]:
    return {
        a.label: (session.to_ros_ns(a.profile.onset_us), session.to_ros_ns(a.profile.offset_us))
        for a in session.ground_truth
    }


def _check_files(d: Path, start_ns: int, end_ns: int, events: int) -> None:
    """The clip's files all cover [start, end): events, event frames, frames."""
    with h5py.File(d / "events_davis.h5") as f:
        ev = f["events"][:]
        assert f["events"].attrs["t0_ns"] == start_ns
    assert ev.size == events > 0
    assert ev["t"].min() >= 0 and ev["t"].max() < (end_ns - start_ns) // 1000
    assert np.load(d / "evframes_davis.npy").shape[0] == -(-(end_ns - start_ns) // (33 * MS))
    times = np.load(d / "frame_times_davis.npy")
    assert times.size > 0 and times.min() >= start_ns and times.max() < end_ns
    n = times.size
    assert np.load(d / "frames_davis.npy").shape[0] == np.load(d / "crops_davis.npy").shape[0] == n
    assert np.load(d / "faces_davis.npy").shape[0] == n


def test_ground_truth_trim_cuts_onset_to_offset_with_the_margin(
    sim: tuple[Path, SimulatedSession], tmp_path: Path
) -> None:
    bag, session = sim
    report = export_bags([bag], tmp_path / "ds", config=_config("ground_truth"))
    assert report.ok, report.text()
    truth = _truth(session)
    for rec in read_manifest(tmp_path / "ds" / "manifest.csv"):
        onset, offset = truth[rec.label]
        assert (rec.start_ns, rec.end_ns) == (onset - 1000 * MS, offset + 1000 * MS)
        label = json.loads((tmp_path / "ds" / rec.dir / "label.json").read_text())
        assert label["trim"] == {"mode": "ground_truth", "source": "ground_truth"}
        assert 2.1 < rec.duration_s < 2.6  # micro-expressions of 170–500 ms + 2 × 1 s
        _check_files(tmp_path / "ds" / rec.dir, rec.start_ns, rec.end_ns, rec.events_davis)
    summary = (tmp_path / "ds" / "summary.md").read_text()
    assert "| davis | events | 346x260 | 1 | 3 |" in summary
    assert "| davis | grey frames | 346x260 | 1 | 3 |" in summary
    assert "## Clip lengths" in summary and "| 2.0–2.5 | " in summary
    assert (tmp_path / "ds" / "clip_lengths.png").stat().st_size > 1000


def test_activity_trim_finds_the_simulated_onset(
    sim: tuple[Path, SimulatedSession], tmp_path: Path
) -> None:
    bag, session = sim
    report = export_bags([bag], tmp_path / "ds", config=_config("activity"))
    assert report.ok, report.text()
    truth = _truth(session)
    recs = read_manifest(tmp_path / "ds" / "manifest.csv")
    assert len(recs) == 3
    for rec in recs:
        label = json.loads((tmp_path / "ds" / rec.dir / "label.json").read_text())
        trim = label["trim"]
        assert trim["mode"] == "activity" and trim["source"] == "activity", trim
        onset, offset = truth[rec.label]
        # the burst starts within ~3 slices of the true onset, ends near the true offset
        assert abs(trim["expression_start_ns"] - onset) <= 100 * MS, (rec.label, trim, onset)
        assert abs(trim["expression_end_ns"] - offset) <= 250 * MS, (rec.label, trim, offset)
        # the clip: the burst ± 1 s (slice-aligned), inside the perform window ± 1 s
        assert rec.start_ns == pytest.approx(trim["expression_start_ns"] - 1000 * MS, abs=33 * MS)
        assert rec.duration_s < 3.0  # the 4 s window (perform ± 1 s) is cut
        _check_files(tmp_path / "ds" / rec.dir, rec.start_ns, rec.end_ns, rec.events_davis)
