from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from microexp.events.types import empty_events, make_events
from microexp.stream.slicer import EventSlicer, SlicePart


def _events(ts: list[int]) -> np.ndarray:
    n = len(ts)
    return make_events(x=np.arange(n) % 7, y=np.arange(n) % 5, t=ts, p=np.arange(n) % 2)


def _collect(parts: list[SlicePart]) -> dict[int, list[np.ndarray]]:
    out: dict[int, list[np.ndarray]] = {}
    for part in parts:
        out.setdefault(part.span.index, []).append(part.events)
    return out


@settings(max_examples=150, deadline=None)
@given(
    gaps=st.lists(st.integers(0, 90), min_size=1, max_size=300),
    start=st.integers(-(10**12), 10**12),
    slice_us=st.integers(1, 60),
    cuts=st.lists(st.integers(0, 300), max_size=20),
)
def test_every_event_lands_in_exactly_one_slice_that_contains_it(
    gaps: list[int], start: int, slice_us: int, cuts: list[int]
) -> None:
    events = _events((start + np.cumsum(gaps)).tolist())
    slicer = EventSlicer(slice_us=slice_us)
    parts: list[SlicePart] = []
    for packet in np.split(events, sorted(c % (len(gaps) + 1) for c in cuts)):
        parts.extend(slicer.push(packet))
    parts.extend(slicer.flush())
    got = np.concatenate([p.events for p in parts])
    assert np.array_equal(got, events)  # every event once, in order
    t0 = int(events["t"][0])
    closed = [p for p in parts if p.closes]
    # Slices are consecutive, each closed once, and every part's events lie in its slice.
    assert [p.span.index for p in closed] == list(range(len(closed)))
    for part in parts:
        assert part.span.t_start_us == t0 + part.span.index * slice_us
        assert part.span.t_end_us - part.span.t_start_us == slice_us
        if part.events.size:
            assert part.events["t"].min() >= part.span.t_start_us
            assert part.events["t"].max() < part.span.t_end_us
    assert closed[-1].span.t_end_us > int(events["t"][-1])
    per_slice = _collect(parts)
    expected = np.bincount((events["t"] - t0) // slice_us, minlength=len(closed))
    assert [
        sum(a.size for a in per_slice.get(i, [])) for i in range(len(closed))
    ] == expected.tolist()


def test_packet_straddling_boundaries_and_empty_slices() -> None:
    slicer = EventSlicer(slice_us=10, t_origin_us=100)
    parts = slicer.push(_events([105, 109, 110, 145, 152]))
    assert [(p.span.index, p.events["t"].tolist(), p.closes) for p in parts] == [
        (0, [105, 109], True),
        (1, [110], True),
        (2, [], True),
        (3, [], True),
        (4, [145], True),
        (5, [152], False),
    ]
    assert slicer.open_span is not None and slicer.open_span.t_start_us == 150


def test_late_and_unsorted_events_are_kept_in_the_open_slice() -> None:
    slicer = EventSlicer(slice_us=10)
    slicer.push(_events([0, 25]))  # closes slices 0 and 1, slice 2 open
    parts = slicer.push(_events([5, 27]))  # 5 is late
    assert slicer.late_events == 1
    assert [(p.span.index, p.events["t"].tolist()) for p in parts] == [(2, [5, 27])]
    parts = slicer.push(_events([39, 31, 33]))
    assert slicer.unsorted_packets == 1
    assert [(p.span.index, p.events["t"].tolist(), p.closes) for p in parts] == [
        (2, [], True),
        (3, [31, 33, 39], False),
    ]


def test_advance_to_closes_quiet_slices_and_flush_closes_the_open_one() -> None:
    slicer = EventSlicer(slice_us=10)
    assert slicer.advance_to(1000) == [] and slicer.flush() == []
    slicer.push(_events([3]))  # origin 3: slices [3, 13), [13, 23), [23, 33), ...
    assert slicer.advance_to(12) == []
    parts = slicer.advance_to(30)
    assert [(p.span.index, p.closes) for p in parts] == [(0, True), (1, True)]
    assert [p.span.index for p in slicer.flush()] == [2]
    assert slicer.push(empty_events()) == []
    slicer.reset()
    assert slicer.open_span is None
    assert slicer.push(_events([500]))[0].span == type(parts[0].span)(0, 500, 510)
