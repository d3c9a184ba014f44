"""EVT 3.0 decoding speed: microexp.events.Evt3Decoder vs expelliarmus 1.1.12 vs evt3 0.4.1.

Workload: the real EVT 3.0 stream of event_camera_py's test_events_1 (tests/data/real, put there
by tools/fetch_test_data.sh), its 517 packets concatenated, trigger words removed (expelliarmus rejects them), repeated
``--copies`` times (100: 112 M words, 34.3 M events; each copy restarts the sensor time, which
the decoders see as a wrap). Written once to a Prophesee .raw file for the file-based decoders.
Every decoder's output is compared with ours (x, y, p must be identical; expelliarmus and evt3
unroll TIME_HIGH steps back differently, so their t differs). Each candidate gets one untimed
warm-up run. Rates are given by wall clock (best, median) and by process CPU time (best): on a
shared machine the CPU-time figure is the one-core cost.

Run: python bench/evt3_decode.py [--copies 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.rosbag2 import Reader
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from microexp.events.evt3 import Evt3Decoder
from microexp.events.raw_file import read_raw

ROOT = Path(__file__).resolve().parents[1]
BAG = ROOT / "tests" / "data" / "real" / "event_camera_py_test_events_1"
HEADER = b"% evt 3.0\n% format EVT3;height=480;width=640\n% end\n"
MSG = ROOT / "src/microexp/bagio/msgdefs/event_camera_msgs/msg/EventPacket.msg"


def load_words() -> np.ndarray:
    store = get_typestore(Stores.ROS2_HUMBLE)
    store.register(get_types_from_msg(MSG.read_text(), "event_camera_msgs/msg/EventPacket"))
    chunks = []
    with Reader(BAG) as reader:
        for conn, _, raw in reader.messages():
            chunks.append(np.frombuffer(store.deserialize_cdr(raw, conn.msgtype).events, "<u2"))
    words = np.concatenate(chunks)
    return words[(words >> 12) != 0xA]  # drop EXT_TRIGGER words


def timed_once(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall-clock and process CPU time of one run (CPU time is what one core spends, robust on
    a shared machine; for a multi-threaded decoder it sums the threads)."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import evt3  # type: ignore[import-untyped]
    from expelliarmus import Wizard  # type: ignore[import-untyped]

    data = np.tile(load_words(), args.copies).astype("<u2").tobytes()
    tmp = Path(tempfile.mkdtemp(prefix="evt3bench_"))
    raw_path = tmp / "workload.raw"
    raw_path.write_bytes(HEADER + data)
    print(f"workload: {len(data) // 2:,} words, {len(data) / 1e6:.0f} MB, file {raw_path}")

    def ours_file(backend: str) -> Callable[[], Any]:
        def run() -> Any:
            payload = np.memmap(raw_path, dtype=np.uint8, mode="r", offset=len(HEADER))
            return Evt3Decoder(backend=backend).decode(payload).events  # type: ignore[arg-type]

        return run

    candidates: list[tuple[str, Callable[[], Any]]] = []
    backends = ["numba", "numpy"] if Evt3Decoder().backend == "numba" else ["numpy"]
    for backend in backends:
        candidates.append((f"microexp Evt3Decoder[{backend}] (file, memmap)", ours_file(backend)))
        candidates.append(
            (
                f"microexp Evt3Decoder[{backend}] (bytes in memory)",
                lambda b=backend: Evt3Decoder(backend=b).decode(data).events,  # type: ignore[misc]
            )
        )
    candidates.append(
        (
            "microexp read_raw (file, 4 MB chunks, default backend)",
            lambda: read_raw(raw_path).events,
        )
    )
    wizard = Wizard(encoding="evt3")
    candidates.append(("expelliarmus 1.1.12 Wizard.read (file)", lambda: wizard.read(raw_path)))
    candidates.append(("evt3 0.4.1 decode_file (file)", lambda: evt3.decode_file(str(raw_path))))
    candidates.append(
        ("evt3 0.4.1 decode_bytes (bytes in memory)", lambda: evt3.decode_bytes(data))
    )

    reference = Evt3Decoder(backend="numpy").decode(data).events
    n = reference.size
    # round robin: every repeat runs every candidate, so a load change on a shared machine
    # hits all of them alike; one untimed warm-up run each (JIT cache, page cache) first
    walls: dict[str, list[float]] = {name: [] for name, _ in candidates}
    cpus: dict[str, list[float]] = {name: [] for name, _ in candidates}
    checks = {name: _same(reference, fn()) for name, fn in candidates}
    for _ in range(args.repeats):
        for name, fn in candidates:
            wall, cpu, _out = timed_once(fn)
            walls[name].append(wall)
            cpus[name].append(cpu)
            del _out
    results = [
        (name, min(walls[name]), statistics.median(walls[name]), min(cpus[name]), checks[name])
        for name, _ in candidates
    ]
    ref_wall, ref_cpu = next((r[1], r[3]) for r in results if r[0].startswith("expelliarmus"))
    print(
        f"{n:,} events; M events/s, best of {args.repeats} and median (wall clock), best by "
        f"CPU time; ratios = expelliarmus time / this time"
    )
    for name, best, median, cpu, check in results:
        print(
            f"  {name:55s} wall best {n / best / 1e6:6.1f} median {n / median / 1e6:6.1f}  "
            f"cpu best {n / cpu / 1e6:6.1f}  x{ref_wall / best:4.2f} wall x{ref_cpu / cpu:4.2f} "
            f"cpu  {check}"
        )
    raw_path.unlink()
    tmp.rmdir()


def _same(reference: np.ndarray, out: Any) -> str:
    """Compare with our decoder: x, y, p must agree; t may differ by the time-high rule."""
    if isinstance(out, np.ndarray) and out.dtype.names and "t" in out.dtype.names:
        cols = {"x": out["x"], "y": out["y"], "t": out["t"], "p": out["p"]}
    else:  # evt3.Events
        cols = {"x": out.x, "y": out.y, "t": out.timestamp, "p": out.polarity}
    if len(cols["x"]) != reference.size:
        return f"DIFFERENT count {len(cols['x']):,}"
    equal = {
        f: np.array_equal(np.asarray(c).astype(np.int64), reference[f].astype(np.int64))
        for f, c in cols.items()
    }
    if all(equal.values()):
        return "identical"
    if equal["x"] and equal["y"] and equal["p"]:
        t = np.asarray(cols["t"]).astype(np.int64)
        n_diff = int(np.count_nonzero(t != reference["t"]))
        return f"x,y,p identical; t differs in {n_diff:,} events (time-high wrap/jitter rule)"
    return "DIFFERENT"


if __name__ == "__main__":
    main()
