from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
import pytest
from stream_testkit import LABELS, random_events, split_random

from microexp.models.snn import PaperSNN
from microexp.stream.config import StreamConfig
from microexp.stream.engine import SlicePrediction, StreamingEngine
from microexp.stream.framer import Box, frame_events
from microexp.stream.predictor import Predictor

W, H = 346, 260
BOX = (100, 60, 128, 128)
T0 = 1_700_000_000_000_000  # sensor µs (dv timestamps are µs since 1970)


def _run(engine: StreamingEngine, packets: list[np.ndarray]) -> list[SlicePrediction]:
    out: list[SlicePrediction] = []
    for packet in packets:
        out.extend(engine.push_events(packet))
    out.extend(engine.flush())
    return out


@pytest.mark.parametrize("backend", ["fast", "module", "torchscript"])
def test_slice_by_slice_equals_the_offline_multi_step_model(snn: PaperSNN, backend: str) -> None:
    events = random_events(
        n=40_000, width=W, height=H, t0_us=T0, duration_us=15 * 33_000 - 7, seed=1, box=BOX
    )
    predictor = Predictor(snn, classes=LABELS, backend=backend)  # type: ignore[arg-type]
    engine = StreamingEngine(predictor, config=StreamConfig(roi=BOX), width=W, height=H)
    out = _run(engine, split_random(events, seed=2))

    frames = frame_events(events, box=Box(*BOX), width=W, height=H, size=64, slice_us=33_000)
    reference = Predictor(snn, classes=LABELS, backend="module").run_clip(frames)
    rates = np.stack([p.rates for p in out])
    assert rates.shape == reference.shape == (15, len(LABELS))
    assert rates.any() and 0 < rates.mean() < 1  # spikes, not zeros
    # Votes are multiples of 1/10: equal spike counts, and equal floats up to the last bit.
    assert np.array_equal(np.rint(rates * 10), np.rint(reference * 10))
    np.testing.assert_allclose(rates, reference, rtol=0, atol=1e-6)
    inside = (events["x"] >= 100) & (events["x"] < 228) & (events["y"] >= 60) & (events["y"] < 188)
    assert sum(p.events_in_slice for p in out) == events.size  # every event counted in a slice
    assert inside.sum() < events.size
    assert [p.t_end_us - p.t_start_us for p in out] == [33_000] * 15
    assert out[0].t_start_us == int(events["t"][0]) and all(p.face_box == BOX for p in out)
    assert all(p.latency_ms >= 0 for p in out)


def test_gap_resets_state_and_ends_active_labels(snn: PaperSNN) -> None:
    config = StreamConfig(
        roi=BOX, theta_on=0.05, theta_off=0.0, k_on=1, m_off=1, gap_reset_us=200_000
    )
    first = random_events(
        n=20_000, width=W, height=H, t0_us=T0, duration_us=200_000, seed=5, box=BOX
    )
    second = random_events(
        n=20_000, width=W, height=H, t0_us=T0 + 900_000, duration_us=200_000, seed=6, box=BOX
    )
    engine = StreamingEngine(Predictor(snn, classes=LABELS), config=config, width=W, height=H)
    out = _run(engine, [first[:7000], first[7000:], np.concatenate([second[:50], second[50:]])])
    fresh = StreamingEngine(Predictor(snn, classes=LABELS), config=config, width=W, height=H)
    expected = _run(fresh, [second])
    after = out[-len(expected) :]
    before = out[: -len(expected)]
    assert engine.stats.resets_gap == 1
    assert after[0].reset_before and not any(p.reset_before for p in after[1:] + before)
    assert after[0].t_start_us == int(second["t"][0])
    assert before[-1].t_end_us <= int(first["t"][-1]) + 33_000
    assert all(np.array_equal(a.rates, b.rates) for a, b in zip(after, expected, strict=True))
    assert before[-1].active  # something was on before the gap ...
    assert set(before[-1].active) <= set(after[0].offsets)  # ... and ends at the reset


def test_a_gap_inside_one_packet_also_resets(snn: PaperSNN) -> None:
    config = StreamConfig(roi=BOX, gap_reset_us=100_000)
    a = random_events(n=3000, width=W, height=H, t0_us=T0, duration_us=60_000, seed=7, box=BOX)
    b = random_events(
        n=3000, width=W, height=H, t0_us=T0 + 400_000, duration_us=60_000, seed=8, box=BOX
    )
    engine = StreamingEngine(Predictor(snn, classes=LABELS), config=config, width=W, height=H)
    out = _run(engine, [np.concatenate([a, b])])
    assert engine.stats.resets_gap == 1
    assert len(out) == 4  # two slices per burst, none for the silence
    assert [p.reset_before for p in out] == [False, False, True, False]


def test_tracked_face_box_latches_per_slice_and_face_loss_resets(snn: PaperSNN) -> None:
    config = StreamConfig(crop="tracked", box_margin=0.0)
    engine = StreamingEngine(Predictor(snn, classes=LABELS), config=config, width=W, height=H)
    ev = random_events(
        n=30_000, width=W, height=H, t0_us=T0, duration_us=10 * 33_000, seed=9, box=BOX
    )
    slot = (ev["t"] - ev["t"][0]) // 33_000
    out = engine.push_events(ev[slot < 2])  # no face yet: slice 0 closes without a model step
    assert [p.face_box for p in out] == [None] and engine.stats.steps == 0
    assert not out[0].rates.any()
    engine.update_face_box(BOX)  # slice 1 is open with events: the box applies from slice 2
    out = engine.push_events(ev[(slot >= 2) & (slot < 6)])
    assert [p.face_box for p in out] == [None, BOX, BOX, BOX]
    engine.update_face_box(None)  # face lost: reset
    assert engine.stats.resets_face == 1
    rest = _run(engine, [ev[slot >= 6]])
    assert rest[0].reset_before and all(p.face_box is None for p in rest)
    assert engine.stats.steps == 3
    # With a margin, a detected box becomes the exporter's square crop around its centre.
    squared = StreamingEngine(
        Predictor(snn, classes=LABELS), config=StreamConfig(crop="tracked"), width=W, height=H
    )
    squared.update_face_box((100, 60, 100, 50))
    out = _run(squared, [ev[slot < 1]])
    assert out[0].face_box == (85, 20, 130, 130)


class ScriptedRates:
    """A stand-in model that returns given rates per step (tests the decisions, not the SNN)."""

    def __init__(self, classes: tuple[str, ...], rates: list[list[float]]) -> None:
        self.classes = classes
        self._rates = rates
        self._i = 0
        self.resets = 0

    def step(self, frame: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        assert frame.shape == (2, 64, 64)
        r = self._rates[self._i % len(self._rates)]
        self._i += 1
        return np.asarray(r, dtype=np.float32)

    def reset(self) -> None:
        self.resets += 1


def test_onsets_offsets_topk_and_emotion_from_scores() -> None:
    classes = ("AU6", "AU12", "AU45")
    seq = [[0.0, 0.0, 0.1]] * 2 + [[0.9, 0.8, 0.0]] * 4 + [[0.0, 0.0, 0.0]] * 4
    config = dataclasses.replace(
        StreamConfig(),
        window_slices=1,
        theta_on=0.5,
        theta_off=0.2,
        k_on=2,
        m_off=2,
        top_k=2,
        onset_top1_only=False,
    )
    engine = StreamingEngine(ScriptedRates(classes, seq), config=config, width=W, height=H)
    ev = random_events(n=500, width=W, height=H, t0_us=T0, duration_us=10 * 33_000, seed=10)
    ev = ev[ev["t"] - ev["t"][0] < 10 * 33_000 - 1]
    out = _run(engine, [ev])
    assert len(out) == 10
    assert [p.onsets for p in out].index(("AU6", "AU12")) == 3
    assert [p.offsets for p in out].index(("AU6", "AU12")) == 7
    assert out[4].topk == (("AU6", pytest.approx(0.9)), ("AU12", pytest.approx(0.8)))
    assert [p.emotion for p in out[2:6]] == ["happiness"] * 4
    assert out[0].emotion is None and out[0].emotion_score == 0.0
    assert out[4].emotion_score == pytest.approx(0.85)
    assert out[5].active == ("AU6", "AU12") and out[8].active == ()


def test_push_packet_decodes_evt3_across_the_time_wrap(snn: PaperSNN) -> None:
    """EVT 3.0 packets (24-bit time, wraps every 16.77 s) give the same slices as the events."""
    from microexp.events.evt3 import Evt3Encoder

    w, h = 1280, 720
    box = (500, 200, 256, 256)
    t0 = (1 << 24) - 5 * 33_000  # five slices before the wrap
    events = random_events(
        n=30_000, width=w, height=h, t0_us=t0, duration_us=10 * 33_000, seed=11, box=box
    )
    encoder = Evt3Encoder()
    packets = [encoder.encode(p) for p in split_random(events, seed=12) if p.size]
    config = StreamConfig(roi=box)
    by_packet = StreamingEngine(Predictor(snn, classes=LABELS), config=config, width=w, height=h)
    got = [p for data in packets for p in by_packet.push_packet(data, encoding="evt3")]
    got += by_packet.flush()
    by_events = StreamingEngine(Predictor(snn, classes=LABELS), config=config, width=w, height=h)
    expected = _run(by_events, [events])
    assert len(got) == len(expected) == 10
    assert [p.events_in_slice for p in got] == [p.events_in_slice for p in expected]
    assert all(np.array_equal(a.rates, b.rates) for a, b in zip(got, expected, strict=True))
    assert got[-1].t_end_us > 1 << 24  # time unrolled past the wrap


def test_advance_to_closes_quiet_slices_only_up_to_the_gap(snn: PaperSNN) -> None:
    config = StreamConfig(roi=BOX, gap_reset_us=100_000)
    engine = StreamingEngine(Predictor(snn, classes=LABELS), config=config, width=W, height=H)
    assert engine.advance_to(T0 + 10**6) == []  # nothing seen yet
    ev = random_events(n=1000, width=W, height=H, t0_us=T0, duration_us=50_000, seed=13, box=BOX)
    out = engine.push_events(ev)
    assert len(out) == 1  # slice 0 closed, slice 1 open
    t_last = int(ev["t"][-1])
    quiet = engine.advance_to(T0 + 10**7)  # 10 s of silence: closes up to last event + 100 ms
    assert quiet[-1].t_end_us <= t_last + 100_000 < quiet[-1].t_end_us + 33_000
    assert [p.events_in_slice for p in quiet][1:] == [0] * (len(quiet) - 1)
    assert engine.advance_to(T0 + 2 * 10**7) == []
    later = random_events(
        n=100, width=W, height=H, t0_us=T0 + 10**7, duration_us=40_000, seed=14, box=BOX
    )
    resumed = _run(engine, [later])
    # The slice left open at the pause closes empty, then the engine resets for the new burst.
    assert resumed[0].events_in_slice == 0 and not resumed[0].reset_before
    assert resumed[1].reset_before and resumed[1].t_start_us == int(later["t"][0])
    assert engine.stats.resets_gap == 1
