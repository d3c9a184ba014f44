"""``microexp infer`` over a bag written by the simulator (real message types, real CDR)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from stream_testkit import LABELS, save_snn_checkpoint

from microexp.bagio.reader import open_bag
from microexp.cli.main import main
from microexp.events.dv_event_array import decode_event_array_cdr
from microexp.models.snn import PaperSNN
from microexp.protocol.plan import parse_plan
from microexp.sim.bag import write_session_bag
from microexp.sim.sensors import davis346
from microexp.sim.session import SessionSimConfig, SimulatedSession, simulate_session

PLAN = """
name: tiny
labels: [AU12, AU45]
order: fixed
repetitions: 1
timing: {demo_repetitions: 1, demo_clip_s: 0.2, countdown_s: 0.3, neutral_s: 0.0, perform_s: 0.7, rest_s: 0.2}
demo_run: {labels: []}
sync:
  pattern: {flashes: 1, on_s: 0.1, off_s: 0.1}
  at_start: true
  per_segment: false
"""


@pytest.fixture(scope="module")
def sim_session() -> SimulatedSession:
    return simulate_session(parse_plan(PLAN), SessionSimConfig(subject_id="S1", seed=1))


@pytest.fixture(scope="module")
def sim_bag(
    tmp_path_factory: pytest.TempPathFactory, sim_session: SimulatedSession
) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("sim") / "session"
    write_session_bag(path, sim_session, [davis346()], seed=1)
    return path, sim_session.start_ns


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, snn: PaperSNN) -> Path:
    return save_snn_checkpoint(snn, tmp_path_factory.mktemp("ckpt") / "snn.pt")


def _bag_events(path: Path) -> np.ndarray:
    with open_bag(path) as bag:
        parts = [
            decode_event_array_cdr(raw.data).events
            for raw in bag.messages(topics=["/davis/events"])
        ]
    return np.concatenate(parts)


def test_infer_writes_one_row_per_slice_and_scores(
    sim_bag: tuple[Path, int], checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag, start_ns = sim_bag
    out, scores_json = tmp_path / "pred.csv", tmp_path / "scores.json"
    argv = ["infer", str(bag), "--checkpoint", str(checkpoint), "-o", str(out), "--no-progress"]
    assert main([*argv, "--scores-json", str(scores_json)]) == 0
    printed = capsys.readouterr().out
    assert "scores against ground_truth (2 actions" in printed

    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    events = _bag_events(bag)
    t = events["t"]
    assert len(rows) == (int(t.max()) - int(t[0])) // 33_000 + 1  # one row per slice, no gaps
    assert [int(r["index"]) for r in rows] == list(range(len(rows)))
    assert all(int(r["t_end_us"]) - int(r["t_start_us"]) == 33_000 for r in rows)
    assert int(rows[0]["t_start_us"]) == int(t[0])
    assert sum(int(r["events"]) for r in rows) == events.size
    stamps = np.array([int(r["stamp_ns"]) for r in rows])
    assert np.all(np.diff(stamps) > 0)
    assert abs(int(stamps[0]) - start_ns) < 1_000_000_000  # ROS time near the session start
    score_cols = [c for c in rows[0] if c.startswith("score_")]
    assert score_cols == [f"score_{lb}" for lb in LABELS]
    scores = np.array([[float(r[c]) for c in score_cols] for r in rows])
    assert scores.min() >= 0.0 and scores.max() <= 1.0 and scores.max() > 0.0
    assert {r["top1"] for r in rows} <= set(LABELS)

    summary = json.loads(scores_json.read_text(encoding="utf-8"))
    assert summary["actions"] == 2 and summary["source"] == "ground_truth"
    assert summary["slices"] == len(rows)
    assert summary["false_onsets_per_min"] >= 0.0

    assert main(argv) == 1  # refuses to overwrite
    assert "ERROR:" in capsys.readouterr().err


def test_infer_names_a_missing_topic(
    sim_bag: tuple[Path, int], checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bag, _ = sim_bag
    argv = ["infer", str(bag), "--checkpoint", str(checkpoint), "-o", str(tmp_path / "p.csv")]
    assert main([*argv, "--topic", "/evk4/events", "--no-progress"]) == 1
    assert "no topic /evk4/events" in capsys.readouterr().err
    assert main([*argv, "--topic", "/davis/image", "--no-progress"]) == 1
    assert "not an event topic" in capsys.readouterr().err


def test_replay_with_a_face_topic_crops_the_tracked_face(
    sim_bag: tuple[Path, int], snn: PaperSNN
) -> None:
    from microexp.dataset.config import DetectorConfig
    from microexp.errors import BagError
    from microexp.stream.config import StreamConfig
    from microexp.stream.predictor import Predictor
    from microexp.stream.replay import replay_bag

    bag, _ = sim_bag
    detector = DetectorConfig(kind="fixed", fixed_box=(100, 80, 120, 120))
    result = replay_bag(
        bag,
        Predictor(snn, classes=LABELS),
        config=StreamConfig(),
        face_topic="/davis/image",
        detector=detector,
    )
    assert result.frames > 50 and result.frames_with_face == result.frames
    boxes = [p.face_box for p in result.predictions]
    # The box is squared and enlarged by box_margin (0.15 per side) like the exporter's crops.
    assert boxes.count((82, 62, 156, 156)) >= len(boxes) - 2
    with pytest.raises(BagError, match="not an image"):
        replay_bag(
            bag,
            Predictor(snn, classes=LABELS),
            config=StreamConfig(),
            face_topic="/microexp/protocol",
        )


def test_truth_from_the_protocol_messages_of_the_bag(
    sim_bag: tuple[Path, int], sim_session: SimulatedSession
) -> None:
    """Without ground truth, the valid perform windows of the protocol are the truth."""
    from microexp.stream.replay import PROTOCOL_TOPIC, actions_from_protocol

    bag, _ = sim_bag
    with open_bag(bag) as reader:
        msgs = [reader.deserialize(raw) for raw in reader.messages(topics=[PROTOCOL_TOPIC])]
    actions = actions_from_protocol(msgs)
    expected = [
        (s.label, s.perform_start_ns, s.perform_end_ns)
        for s in sim_session.segments
        if s.valid and s.perform_start_ns >= 0 and s.run != "demo"
    ]
    assert [(a.label, a.onset_ns, a.window_end_ns) for a in actions] == expected
    assert [a.label for a in actions] == ["AU12", "AU45"] and {a.source for a in actions} == {
        "protocol"
    }
