from __future__ import annotations

import numpy as np
import pytest

from microexp.stream.decisions import HysteresisDetector, ScoreWindow, top_k

LABELS = ("a", "b")


def _run(
    det: HysteresisDetector, seq: list[float]
) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    out = []
    for s in seq:
        tr = det.update([s, 0.0])
        out.append((tr.onsets, tr.offsets))
    return out


def test_onset_needs_k_consecutive_slices_and_offset_m_below_theta_off() -> None:
    det = HysteresisDetector(LABELS, theta_on=0.6, theta_off=0.3, k_on=2, m_off=3)
    seq = [0.7, 0.1, 0.7, 0.65, 0.5, 0.2, 0.35, 0.2, 0.1, 0.0, 0.9]
    events = _run(det, seq)
    onsets = [i for i, (on, _) in enumerate(events) if on]
    offsets = [i for i, (_, off) in enumerate(events) if off]
    # A single slice above θ_on (i=0) is no onset; two in a row (2, 3) are, at the second.
    assert onsets == [3]
    # 0.5 (between the thresholds) keeps it on; 0.35 breaks the run below θ_off; 3 in a row end it.
    assert offsets == [9]
    assert det.active == ()
    assert events[3] == (("a",), ())


def test_reset_reports_active_labels_and_clears_counts() -> None:
    det = HysteresisDetector(LABELS, theta_on=0.5, theta_off=0.5, k_on=1, m_off=1)
    assert det.update([0.9, 0.9]).onsets == ("a", "b")
    assert det.reset() == ("a", "b")
    assert det.active == ()
    assert det.update([0.2, 0.2]).offsets == ()


def test_top1_only_lets_only_the_best_class_start() -> None:
    det = HysteresisDetector(
        ("a", "b", "c"), theta_on=0.5, theta_off=0.2, k_on=2, m_off=1, top1_only=True
    )
    assert det.update([0.9, 0.8, 0.0]).onsets == ()
    assert det.update([0.7, 0.8, 0.0]).onsets == ()  # the best class changed: runs restart
    assert det.update([0.6, 0.9, 0.0]).onsets == ("b",)
    assert det.update([0.95, 0.6, 0.0]).onsets == ()  # "a" needs two slices on top
    tr = det.update([0.9, 0.1, 0.0])
    assert tr.onsets == ("a",) and tr.offsets == ("b",)
    assert det.active == ("a",)


def test_bad_thresholds_are_refused() -> None:
    with pytest.raises(ValueError, match="theta_off"):
        HysteresisDetector(LABELS, theta_on=0.3, theta_off=0.4, k_on=1, m_off=1)
    with pytest.raises(ValueError, match="k_on"):
        HysteresisDetector(LABELS, theta_on=0.5, theta_off=0.4, k_on=0, m_off=1)


def test_score_window_is_a_boxcar_mean_and_softmax_sums_to_one() -> None:
    win = ScoreWindow(num_classes=2, window_slices=3)
    rows = [[0.0, 1.0], [0.3, 0.0], [0.6, 0.5], [0.9, 0.2]]
    got = [win.update(r) for r in rows]
    assert np.allclose(got[0], [0.0, 1.0])
    assert np.allclose(got[1], [0.15, 0.5])
    assert np.allclose(got[3], [0.6, 0.7 / 3])
    win.reset()
    assert np.allclose(win.update([0.2, 0.4]), [0.2, 0.4])
    soft = ScoreWindow(num_classes=3, window_slices=2, mode="softmax", temperature=0.1)
    s = soft.update([0.1, 0.5, 0.2])
    assert s.sum() == pytest.approx(1.0) and int(np.argmax(s)) == 1


def test_top_k_orders_best_first() -> None:
    labels, scores = top_k(["a", "b", "c"], np.array([0.2, 0.7, 0.5], dtype=np.float32), 2)
    assert labels == ["b", "c"] and scores == pytest.approx([0.7, 0.5])
    assert top_k(["a"], np.array([0.1], dtype=np.float32), 5)[0] == ["a"]
