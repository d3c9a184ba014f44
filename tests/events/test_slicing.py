from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microexp.errors import MicroexpError
from microexp.events.slicing import iter_time_slices, slice_by_count, slice_by_time
from microexp.events.types import make_events


@st.composite
def sorted_events(draw: st.DrawFn) -> np.ndarray:
    ts = sorted(draw(st.lists(st.integers(0, 100_000), max_size=300)))
    n = len(ts)
    return make_events(x=np.arange(n) % 50, y=np.arange(n) % 40, t=np.array(ts, dtype=np.int64),
                       p=np.arange(n) % 2)  # fmt: skip


@settings(max_examples=80, deadline=None)
@given(ev=sorted_events(), window=st.integers(300, 30_000))
def test_time_slices_partition_the_events(ev: np.ndarray, window: int) -> None:
    slices = slice_by_time(ev, window_us=window)
    joined = np.concatenate(slices) if slices else ev[:0]
    assert np.array_equal(joined, ev)
    t0 = int(ev["t"][0]) if ev.size else 0
    for k, s in enumerate(slices):
        assert ((s["t"] >= t0 + k * window) & (s["t"] < t0 + (k + 1) * window)).all()


@settings(max_examples=80, deadline=None)
@given(ev=sorted_events(), count=st.integers(1, 70))
def test_count_slices_partition_the_events(ev: np.ndarray, count: int) -> None:
    slices = slice_by_count(ev, count=count)
    assert all(s.size == count for s in slices[:-1])
    assert (np.concatenate(slices) if slices else ev[:0]).tolist() == ev.tolist()


@settings(max_examples=80, deadline=None)
@given(ev=sorted_events(), window=st.integers(1, 30_000),
       cuts=st.lists(st.integers(0, 300), max_size=6))  # fmt: skip
def test_streaming_slices_equal_batch_slices(ev: np.ndarray, window: int, cuts: list[int]) -> None:
    bounds = [0, *sorted(min(c, ev.size) for c in cuts), ev.size]
    chunks = [ev[a:b] for a, b in itertools.pairwise(bounds)]
    streamed = list(iter_time_slices(chunks, window_us=window))
    batch = slice_by_time(ev, window_us=window)
    # batch may end with empty slices only if the stream does; compare the non-trailing part
    assert [s.tolist() for _, s in streamed] == [s.tolist() for s in batch]
    t0 = int(ev["t"][0]) if ev.size else 0
    assert [start for start, _ in streamed] == [t0 + k * window for k in range(len(batch))]


def test_explicit_window_and_errors() -> None:
    ev = make_events(x=[0] * 5, y=[0] * 5, t=[5, 10, 20, 30, 45], p=[1] * 5)
    slices = slice_by_time(ev, window_us=10, t_start_us=10, n_slices=2)
    assert [s["t"].tolist() for s in slices] == [[10], [20]]
    streamed = list(iter_time_slices([ev], window_us=10, t_start_us=10))
    assert [(a, s["t"].tolist()) for a, s in streamed] == [(10, [10]), (20, [20]), (30, [30]),
                                                           (40, [45])]  # fmt: skip
    with pytest.raises(MicroexpError, match="count must be positive, got 0"):
        slice_by_count(ev, count=0)
    with pytest.raises(MicroexpError, match="window_us must be positive, got -1"):
        list(iter_time_slices([ev], window_us=-1))
