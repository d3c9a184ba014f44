"""Hypothesis strategies for codec round trips: time-sorted events and triggers."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import strategies as st

from microexp.events.types import EventArray, TriggerArray, empty_triggers, make_events

WRAP_US = 1 << 24


@st.composite
def sorted_events(
    draw: st.DrawFn,
    *,
    max_size: int = 300,
    width: int = 640,
    height: int = 480,
    max_gap_us: int = 3 * WRAP_US,
    t0_max: int = 2 * WRAP_US,
) -> EventArray:
    """Events sorted by time, with runs on one row (vectors) and gaps across time wraps."""
    n = draw(st.integers(0, max_size))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    gap_kind = rng.integers(0, 10, n)
    gaps = np.where(
        gap_kind < 6,
        0,
        np.where(gap_kind < 9, rng.integers(0, 5000, n), rng.integers(0, max_gap_us, n)),
    )
    t = draw(st.integers(0, t0_max)) + np.cumsum(gaps)
    x = rng.integers(0, width, n)
    y = rng.integers(0, height, n)
    p = rng.integers(0, 2, n)
    # same-time, same-row runs of increasing x: what a vectorising sensor produces
    run = (gap_kind < 6) & (rng.random(n) < 0.7)
    for i in np.flatnonzero(run):
        if i > 0:
            y[i], p[i] = y[i - 1], p[i - 1]
            x[i] = min(int(x[i - 1]) + int(rng.integers(1, 4)), width - 1)
    return make_events(x=x, y=y, t=t, p=p)


@st.composite
def triggers_within(draw: st.DrawFn, events: EventArray, *, max_size: int = 20) -> TriggerArray:
    """Triggers at sorted times inside the events' span."""
    n = draw(st.integers(0, max_size))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    lo = int(events["t"][0]) if events.size else 0
    hi = int(events["t"][-1]) if events.size else 1000
    trig = empty_triggers(n)
    trig["t"] = np.sort(rng.integers(lo, hi + 1, n))
    trig["channel"] = rng.integers(0, 16, n)
    trig["value"] = rng.integers(0, 2, n)
    return trig


def split_points(draw: st.DrawFn, n_bytes: int, *, word: int, max_splits: int = 8) -> list[int]:
    """Sorted cut positions (multiples of ``word``) inside a stream of ``n_bytes``."""
    n_words = n_bytes // word
    cuts = draw(st.lists(st.integers(0, n_words), max_size=max_splits))
    return sorted(c * word for c in cuts)


def cut(data: bytes, points: list[int]) -> list[bytes]:
    """``data`` cut at ``points`` (may include empty pieces)."""
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]
