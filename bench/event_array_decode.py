"""dv_ros2_msgs/EventArray decoding: our numpy CDR decoder vs rosbags' generic deserialize_cdr.

Workload: ``--messages`` EventArray messages of ``--events`` random DAVIS346 events each,
serialised by rosbags (the bytes a dv-ros2 bag holds). rosbags is timed twice: deserialising
alone (one Python object per event; a lower bound of its cost) and deserialising plus copying
into the house event dtype (what a consumer needs). Our decoder's output is checked equal.

Run: python bench/event_array_decode.py [--messages 200] [--events 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rosbags.typesys import Stores, get_types_from_msg, get_typestore

from microexp.events.dv_event_array import decode_event_array_cdr, encode_event_array_cdr
from microexp.events.types import EVENT_DTYPE, make_events

ROOT = Path(__file__).resolve().parents[1]
MSG_DIR = ROOT / "src/microexp/bagio/msgdefs/dv_ros2_msgs/msg"
MSGTYPE = "dv_ros2_msgs/msg/EventArray"


def typestore() -> Any:
    store = get_typestore(Stores.ROS2_HUMBLE)
    types = {}
    for name in ("Event", "EventArray"):
        text = (MSG_DIR / f"{name}.msg").read_text()
        types.update(get_types_from_msg(text, f"dv_ros2_msgs/msg/{name}"))
    store.register(types)
    return store


def timed_once(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall-clock and process CPU time of one run."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    store = typestore()
    rng = np.random.default_rng(0)
    messages: list[bytes] = []
    truth = []
    t0_us = 1_700_000_000_000_000
    for i in range(args.messages):
        n = args.events
        ev = make_events(
            x=rng.integers(0, 346, n),
            y=rng.integers(0, 260, n),
            t=t0_us + i * 10_000 + np.sort(rng.integers(0, 10_000, n)),
            p=rng.integers(0, 2, n),
        )
        raw = encode_event_array_cdr(
            ev, stamp_ns=(t0_us + i * 10_000) * 1000, frame_id="davis", width=346, height=260
        )
        if i == 0:  # the bytes are rosbags' own serialisation (checked once, it is slow)
            msg = store.deserialize_cdr(raw, MSGTYPE)
            assert bytes(store.serialize_cdr(msg, MSGTYPE)) == raw
        messages.append(raw)
        truth.append(ev)
    total = args.messages * args.events

    def ours() -> list[np.ndarray]:
        return [decode_event_array_cdr(m).events for m in messages]

    def rosbags_only() -> list[Any]:
        return [store.deserialize_cdr(m, MSGTYPE) for m in messages]

    def rosbags_to_array() -> list[np.ndarray]:
        out = []
        for m in messages:
            msg = store.deserialize_cdr(m, MSGTYPE)
            arr = np.empty(len(msg.events), dtype=EVENT_DTYPE)
            arr["x"] = [e.x for e in msg.events]
            arr["y"] = [e.y for e in msg.events]
            arr["t"] = [e.ts.sec * 1_000_000 + e.ts.nanosec // 1000 for e in msg.events]
            arr["p"] = [e.polarity for e in msg.events]
            out.append(arr)
        return out

    candidates: list[tuple[str, Callable[[], Any]]] = [
        ("microexp decode_event_array_cdr", ours),
        ("rosbags 0.11.9 deserialize_cdr", rosbags_only),
        ("rosbags deserialize_cdr + copy to event dtype", rosbags_to_array),
    ]
    checks = {}
    for name, fn in candidates:  # untimed warm-up run, also the correctness check
        out = fn()
        if name.startswith("rosbags 0.11.9"):
            checks[name] = "objects"
        else:
            ok = all(np.array_equal(a, b) for a, b in zip(out, truth, strict=True))
            checks[name] = "identical" if ok else "DIFFERENT"
    walls: dict[str, list[float]] = {name: [] for name, _ in candidates}
    cpus: dict[str, list[float]] = {name: [] for name, _ in candidates}
    for _ in range(args.repeats):  # round robin: load changes hit every candidate alike
        for name, fn in candidates:
            wall, cpu, _out = timed_once(fn)
            walls[name].append(wall)
            cpus[name].append(cpu)
            del _out
    mine_wall = min(walls[candidates[0][0]])
    mine_cpu = min(cpus[candidates[0][0]])
    print(
        f"{args.messages} messages x {args.events:,} events ({len(messages[0]):,} bytes each); "
        f"M events/s, wall best/median of {args.repeats}, CPU-time best; ratios to ours"
    )
    for name, _ in candidates:
        best, median, cpu = min(walls[name]), statistics.median(walls[name]), min(cpus[name])
        print(
            f"  {name:48s} wall best {total / best / 1e6:8.2f} median {total / median / 1e6:8.2f}"
            f"  cpu best {total / cpu / 1e6:8.2f}  ({cpu / args.messages * 1e6:8.1f} us/msg cpu)"
            f"  ours x{best / mine_wall:6.1f} wall x{cpu / mine_cpu:6.1f} cpu  {checks[name]}"
        )


if __name__ == "__main__":
    main()
