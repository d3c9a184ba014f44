from __future__ import annotations

import math

import numpy as np
import pytest

from microexp.stream.engine import SlicePrediction
from microexp.stream.scoring import TrueAction, score_predictions

LABELS = ("AU4", "AU12")
MS = 1_000_000


def _pred(i: int, scores: tuple[float, float], onsets: tuple[str, ...] = ()) -> SlicePrediction:
    t0 = i * 33_000
    s = np.array(scores, dtype=np.float32)
    return SlicePrediction(
        index=i, t_start_us=t0, t_end_us=t0 + 33_000, stamp_ns=(t0 + 33_000) * 1000, labels=LABELS,
        rates=s, scores=s, topk=(), onsets=onsets, offsets=(), active=(), emotion=None,
        emotion_score=0.0, events_in_slice=0, latency_ms=0.0, face_box=None,
    )  # fmt: skip


def test_delay_accuracy_and_false_onsets() -> None:
    preds = [_pred(i, (0.1, 0.0)) for i in range(1820)]  # 1820 slices = 60.06 s
    preds[40] = _pred(40, (0.0, 0.9), ("AU12",))  # AU12 true at 1.0 s: onset at 1.353 s
    preds[100] = _pred(100, (0.9, 0.0), ("AU4",))  # an onset outside every AU4 window: false
    preds[400] = _pred(400, (0.2, 0.9), ("AU4",))  # wrong label in AU12's second window: false
    actions = [
        TrueAction("AU12", 1000 * MS, 2000 * MS, "ground_truth"),
        TrueAction("AU12", 13000 * MS, 14000 * MS, "ground_truth"),
        TrueAction("AU9", 20000 * MS, 21000 * MS, "ground_truth"),  # the model has no AU9
    ]
    s = score_predictions(preds, actions)
    assert s.actions == 2 and s.actions_unknown_label == 1
    assert s.detected == 1 and s.detection_accuracy == 0.5
    assert s.delay_median_ms == pytest.approx(353.0) and s.delay_p90_ms == pytest.approx(353.0)
    # Window 1: AU12 wins only in slice 40 of ~30 (AU4 has 0.1 elsewhere): wrong; window 2: wrong.
    assert s.top1_accuracy == 0.0
    assert s.false_onsets == 2
    assert s.minutes == pytest.approx(1820 * 0.033 / 60)
    assert s.false_onsets_per_min == pytest.approx(2 / s.minutes)


def test_nothing_to_score_gives_nan() -> None:
    s = score_predictions([_pred(0, (0.0, 0.0))], [])
    assert s.actions == 0 and math.isnan(s.detection_accuracy) and math.isnan(s.delay_median_ms)
    assert s.false_onsets == 0 and s.source == "none"


def test_stamp_mapper_takes_the_running_median_and_falls_back_to_receive_time() -> None:
    from microexp.stream.replay import StampMapper

    m = StampMapper(window=3)
    s = 1_000_000_000
    assert (
        m.update(t_first_us=1_000, t_last_us=2_000, stamp_ns=100 * s, receive_ns=100 * s)
        == 100 * s - 1_000_000
    )
    assert (
        m.update(t_first_us=1_000, t_last_us=2_000, stamp_ns=100 * s + 10, receive_ns=100 * s)
        == 100 * s - 1_000_000 + 5
    )
    # A header stamp far from the receive time (dv-ros2's 1970 stamps): receive − last event time.
    got = m.update(
        t_first_us=3_000, t_last_us=4_000, stamp_ns=2 * s, receive_ns=100 * s + 3_000_020
    )
    assert got == 100 * s - 1_000_000 + 10  # median of the three samples
    assert m.offset_ns == got
