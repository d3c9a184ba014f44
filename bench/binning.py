"""Count-frame binning: microexp.events.frames.count_frames vs tonic 1.7.0 ToFrame, same run.

10 M random events on a 346x260 sensor over ~1 s, 33 ms slices. Both must give identical frames.
Run: python bench/binning.py [--events N] [--repeats R]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from microexp.events.frames import count_frames
from microexp.events.types import SensorSize, make_events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--span-us", type=int, default=1_000_000)
    args = parser.parse_args()

    import tonic  # type: ignore[import-untyped]
    from tonic.transforms import ToFrame  # type: ignore[import-untyped]

    rng = np.random.default_rng(0)
    n = args.events
    events = make_events(
        x=rng.integers(0, 346, n), y=rng.integers(0, 260, n),
        t=np.sort(rng.integers(0, args.span_us, n)), p=rng.integers(0, 2, n),
    )  # fmt: skip
    to_frame = ToFrame(sensor_size=(346, 260, 2), time_window=33000)
    sensor = SensorSize(346, 260)

    def best(fn):  # type: ignore[no-untyped-def]
        times, out = [], None
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        return min(times), out

    t_tonic, ref = best(lambda: to_frame(events))
    # tonic starts at the first event and drops the incomplete last slice
    print(
        f"tonic {tonic.__version__} ToFrame: {n / t_tonic / 1e6:6.1f} M events/s "
        f"({t_tonic * 1e3:.0f} ms, best of {args.repeats})"
    )
    ok = True
    for backend in ("numpy", "numba"):
        try:
            count_frames(events[:10], sensor=sensor, backend=backend)  # compile outside the clock
        except ImportError as err:
            print(f"microexp count_frames[{backend}]: skipped ({err})")
            continue
        t_ours, ours = best(lambda b=backend: count_frames(
            events, sensor=sensor, slice_us=33000, n_slices=len(ref), backend=b))  # fmt: skip
        identical = ref.shape == ours.shape and bool(np.array_equal(ref, ours))
        ok = ok and identical
        print(
            f"microexp count_frames[{backend}]: {n / t_ours / 1e6:6.1f} M events/s "
            f"({t_ours * 1e3:.0f} ms); identical to tonic: {identical}; "
            f"speed-up vs tonic: {t_tonic / t_ours:.1f}x"
        )
    if not ok:
        raise SystemExit("frames differ from tonic")


if __name__ == "__main__":
    main()
