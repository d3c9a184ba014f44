"""Compile every numba kernel once, through the code paths that use them, so that numba's on-disk
cache (``cache=True``: ``__pycache__/*.nbi|*.nbc`` next to each module) is warm before the first
session: ``tools/install.sh`` calls :func:`warm_jit_caches`.

Why: without it, the first live session after an install compiles the EVT 3.0 decoder inside the
sync monitor (and the framers inside the inference node) while the simulated cameras start, on the
same two cores: seconds of a busy core in which the best-effort EVK4 stream loses messages that
later sessions do not. Each kernel is called with the array types the product passes (numba
compiles and caches per signature), on a few events. Without numba this does nothing.
"""

from __future__ import annotations

import importlib.util
import logging
import time

import numpy as np

__all__ = ["warm_jit_caches"]

log = logging.getLogger(__name__)


def warm_jit_caches() -> dict[str, float]:
    """Run each numba-backed path once; returns seconds per path (empty without numba)."""
    if importlib.util.find_spec("numba") is None:
        return {}
    from microexp.dataset.representation import CropFrameAccumulator
    from microexp.events.evt3 import Evt3Decoder, Evt3Encoder
    from microexp.events.frames import count_frames
    from microexp.events.types import SensorSize, make_events
    from microexp.faces.types import Box
    from microexp.stream.framer import Box as StreamBox
    from microexp.stream.framer import CropFramer

    def framer() -> None:
        f = CropFramer(width=16, height=16, size=8, backend="numba")
        f.set_box(StreamBox(0, 0, 16, 16))
        f.add(events)

    events = make_events(x=[1, 5, 9], y=[2, 4, 6], t=[100, 200, 40_000], p=[1, 0, 1])
    packet = np.frombuffer(Evt3Encoder().encode(events), dtype=np.uint8)
    steps = {
        "evt3 decoder": lambda: Evt3Decoder(backend="numba").decode(packet),
        "count frames": lambda: count_frames(
            events, sensor=SensorSize(16, 16), slice_us=33_000, backend="numba"
        ),
        "stream framer": framer,
        "clip frames": lambda: CropFrameAccumulator(
            box=Box(0, 0, 16, 16), size=8, slice_us=33_000, duration_us=66_000
        ).add(events),
    }
    seconds = {}
    for name, step in steps.items():
        t0 = time.perf_counter()
        step()
        seconds[name] = time.perf_counter() - t0
        log.info("numba: %s ready in %.2f s", name, seconds[name])
    return seconds
