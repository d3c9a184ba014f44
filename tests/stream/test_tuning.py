"""Nested leave-one-subject-out tuning of the streaming thresholds (microexp.stream.tuning)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from stream_testkit import LABELS, save_snn_checkpoint

from microexp.cli.main import main
from microexp.errors import ConfigError
from microexp.models.snn import PaperSNN
from microexp.protocol.plan import parse_plan
from microexp.sim.bag import write_session_bag
from microexp.sim.sensors import davis346
from microexp.sim.session import SessionSimConfig, simulate_session
from microexp.stream.config import StreamConfig, load_stream_config
from microexp.stream.predictor import Predictor
from microexp.stream.replay import replay_bag
from microexp.stream.scoring import StreamScores, TrueAction, score_predictions
from microexp.stream.tuning import (
    DecisionParams,
    RateTrace,
    TuningGrid,
    load_tuning_grid,
    nested_loso,
    redecide,
)

ROOT = Path(__file__).resolve().parents[2]
PLAN = """
name: tiny
labels: [AU12, AU4]
order: fixed
repetitions: 1
timing: {demo_repetitions: 1, demo_clip_s: 0.2, countdown_s: 0.3, neutral_s: 0.0, perform_s: 0.8, rest_s: 0.3}
demo_run: {labels: []}
sync:
  pattern: {flashes: 1, on_s: 0.1, off_s: 0.1}
  at_start: true
  per_segment: false
"""


@pytest.fixture(scope="module")
def bags(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two simulated subjects' DAVIS sessions (real bags with ground truth)."""
    out = {}
    for i, subject in enumerate(("S1", "S2"), start=1):
        session = simulate_session(parse_plan(PLAN), SessionSimConfig(subject_id=subject, seed=i))
        path = tmp_path_factory.mktemp("bags") / subject
        write_session_bag(path, session, [davis346()], seed=i)
        out[subject] = path
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, snn: PaperSNN) -> Path:
    """A LOSO run as ``microexp train`` lays it out: one checkpoint per held-out subject."""
    run = tmp_path_factory.mktemp("run")
    for subject in ("S1", "S2"):
        (run / f"fold_{subject}").mkdir()
        save_snn_checkpoint(snn, run / f"fold_{subject}" / "checkpoint.pt")
    return run


def _params(cfg: StreamConfig) -> DecisionParams:
    names = [f.name for f in dataclasses.fields(DecisionParams)]
    return DecisionParams(**{n: getattr(cfg, n) for n in names})


def test_redecided_traces_equal_the_engine_for_other_settings(
    bags: dict[str, Path], snn: PaperSNN
) -> None:
    """Rates recorded under one setting, re-decided under others, give exactly what the engine
    gives when it runs with those others: scores, onsets and the scores computed from them."""
    base = StreamConfig(window_slices=4, theta_on=0.2, theta_off=0.1)
    predictor = Predictor(snn, classes=LABELS, backend="fast")
    first = replay_bag(bags["S1"], predictor, config=base)
    trace = RateTrace.from_predictions("S1", first.predictions, first.actions)
    others = [
        dataclasses.replace(base, window_slices=2, theta_on=0.05, theta_off=0.02, k_on=1),
        dataclasses.replace(
            base, window_slices=6, theta_on=0.1, theta_off=0.1, m_off=1, onset_top1_only=False
        ),
    ]
    onsets_seen = 0
    for cfg in others:
        predictor.reset()
        engine = replay_bag(bags["S1"], predictor, config=cfg).predictions
        scores, onsets = redecide(trace, _params(cfg), config=cfg)
        np.testing.assert_array_equal(scores, np.stack([p.scores for p in engine]))
        assert onsets == [(p.stamp_ns, lb) for p in engine for lb in p.onsets]
        onsets_seen += len(onsets)
        assert _plain(score_predictions(engine, first.actions)) == _plain(
            _score(trace, scores, onsets)
        )
    assert onsets_seen > 0  # the comparison includes onsets, not only silence


def _plain(scores: StreamScores) -> dict[str, object]:
    """The scores with NaN as None (NaN != NaN)."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v
            for k, v in scores.as_dict().items()}  # fmt: skip


def _score(trace: RateTrace, scores: np.ndarray, onsets: list[tuple[int, str]]) -> StreamScores:
    from microexp.stream.scoring import score_arrays

    return score_arrays(labels=trace.labels, stamps_ns=trace.stamps_ns, scores=scores,
                        onsets=onsets, span_us=trace.span_us, actions=trace.actions)  # fmt: skip


def _trace(subject: str, *, true_rate: float, noise_rate: float, seed: int) -> RateTrace:
    """300 slices, AU12 performed in 4 windows at ``true_rate``; ``noise_rate`` bursts of AU4
    outside them."""
    rng = np.random.default_rng(seed)
    n, ms = 300, 1_000_000
    stamps = (np.arange(n, dtype=np.int64) + 1) * 33 * ms
    rates = np.full((n, 2), 0.01, dtype=np.float32)
    actions = []
    for k in range(4):
        a = 20 + 70 * k
        rates[a : a + 8, 1] = true_rate
        actions.append(TrueAction("AU12", int(stamps[a - 1]), int(stamps[a + 10]), "ground_truth"))
        b = a + 40 + int(rng.integers(0, 5))
        rates[b : b + 6, 0] = noise_rate
    return RateTrace(subject=subject, labels=("AU4", "AU12"), stamps_ns=stamps, rates=rates,
                     stepped=np.ones(n, bool), reset_before=np.zeros(n, bool),
                     span_us=n * 33_000, actions=tuple(actions))  # fmt: skip


def test_a_held_out_subject_is_scored_with_a_setting_chosen_on_the_others() -> None:
    # A and B: actions at 0.5, distractors at 0.35 -> theta_on 0.4 is right (no false onset).
    # C: actions at 0.3 only -> theta_on 0.4 misses every one; 0.25 would be right for C alone.
    traces = [
        _trace("A", true_rate=0.5, noise_rate=0.35, seed=1),
        _trace("B", true_rate=0.5, noise_rate=0.35, seed=2),
        _trace("C", true_rate=0.3, noise_rate=0.0, seed=3),
    ]
    grid = TuningGrid(objective="f1", window_slices=(2,), theta_on=(0.25, 0.4),
                      theta_off_ratio=(0.5,), k_on=(2,), m_off=(3,),
                      onset_top1_only=(True,))  # fmt: skip
    result = nested_loso(traces, grid, config=StreamConfig())
    fold = {f.held_out: f for f in result.folds}
    assert fold["C"].params.theta_on == 0.4  # chosen on A and B only
    assert fold["C"].scores.detected == 0  # ... and honestly bad on C
    assert fold["C"].inner_f1 == 1.0
    assert fold["A"].params.theta_on == 0.25  # B + C: 0.4 loses all of C's actions
    assert fold["A"].scores.false_onsets == 4  # ... which costs A its distractors
    pooled = result.pooled()
    assert pooled["actions"] == 12 and pooled["detected"] == 8
    assert result.candidates == 2


def test_tuning_grid_file_is_strict(tmp_path: Path) -> None:
    grid = load_tuning_grid(ROOT / "config" / "infer" / "tune_stream.yaml")
    assert len(grid.candidates()) == 864
    assert all(p.theta_off <= p.theta_on for p in grid.candidates())
    data = yaml.safe_load((ROOT / "config" / "infer" / "tune_stream.yaml").read_text())
    bad = tmp_path / "grid.yaml"
    bad.write_text(yaml.safe_dump({**data, "theta": [0.1]}))
    with pytest.raises(ConfigError, match=r"grid.yaml: unknown key\(s\) \['theta'\]"):
        load_tuning_grid(bad)
    bad.write_text(yaml.safe_dump({**data, "k_on": []}))
    with pytest.raises(ConfigError, match="k_on must list at least one value"):
        load_tuning_grid(bad)


def test_tune_stream_command_writes_out_of_sample_table_plot_and_config(
    bags: dict[str, Path], run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"objective": "f1", "window_slices": [2, 4],
                                    "theta_on": [0.05, 0.2], "theta_off_ratio": [0.5],
                                    "k_on": [1, 2], "m_off": [3], "onset_top1_only": [True]}))  # fmt: skip
    out = tmp_path / "tune"
    argv = ["tune-stream", str(bags["S1"]), str(bags["S2"]), "--run", str(run_dir), "-o", str(out),
            "--grid", str(grid), "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "8 settings x 2 subjects" in printed and "cost: replay" in printed
    table = (out / "nested_loso.md").read_text(encoding="utf-8")
    assert "| S1 |" in table and "| S2 |" in table and "**pooled**" in table
    assert (out / "nested_loso.png").stat().st_size > 1000
    chosen = load_stream_config(out / "stream_selected.yaml")
    assert chosen.window_slices in (2, 4) and chosen.theta_on in (0.05, 0.2)
    assert (
        "Out-of-sample (nested leave-one-subject-out" in (out / "stream_selected.yaml").read_text()
    )
    header = json.loads(str(np.load(out / "traces" / "S2.npz")["header"]))
    assert header["subject"] == "S2" and len(header["actions"]) == 2
    # a re-run uses the cached rates
    assert main(argv) == 0
    assert "S1: rates from" in capsys.readouterr().out


def test_tune_stream_names_a_missing_fold_checkpoint(
    bags: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["tune-stream", str(bags["S1"]), str(bags["S2"]), "--run", str(tmp_path / "run"),
            "-o", str(tmp_path / "out")]  # fmt: skip
    assert main(argv) == 1
    assert "fold_S1/checkpoint.pt: no checkpoint of the fold that held out S1" in (
        capsys.readouterr().err
    )
