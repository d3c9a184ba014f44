"""Shared helpers of the protocol tests: plan files and an independent timeline of a plan.

``expected_timeline`` recomputes, from the raw YAML (``yaml.safe_load``, not the code under test),
the events a plan must produce when nothing goes wrong, with their times in ns.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLANS = REPO / "config" / "protocol"

S = 1_000_000_000

# AU code -> FACS numbers, written out here for the labels the plans use.
AU_NUMBERS = {
    "upper_lid_raiser": (5,), "smile": (6, 12), "open_mouth": (25, 26), "nose_wrinkle": (9,),
    "frown": (4,), "blink": (45,), "contract_jaw": (31,),
}  # fmt: skip


def au_numbers(code: str) -> tuple[int, ...]:
    return AU_NUMBERS.get(code) or (int(code[2:]),)


def ns(seconds: float) -> int:
    return round(seconds * S)


def expected_timeline(raw: dict) -> list[tuple[str, str, int, int, str, int]]:
    """(kind, phase, segment_index, attempt, label, t_ns) of an uninterrupted run from t = 0."""
    out: list[tuple[str, str, int, int, str, int]] = []
    t = 0
    out.append(("SESSION_START", "NONE", 0, 0, "", t))
    pat = raw["sync"]["pattern"]

    def flashes(t: int, seg: int, att: int, label: str) -> int:
        if pat["flashes"] == 0:
            return t
        out.append(("PHASE", "SYNC", seg, att, label, t))
        for _ in range(pat["flashes"]):
            out.append(("SYNC_FLASH", "SYNC", seg, att, label, t))
            t += ns(pat["on_s"]) + ns(pat["off_s"])
        return t

    if raw["sync"]["at_start"]:
        t = flashes(t, 0, 0, "")
    labels = list(raw["demo_run"]["labels"]) + list(raw["labels"]) * raw["repetitions"]
    tm = raw["timing"]
    for idx, label in enumerate(labels):
        first = (
            "SYNC"
            if raw["sync"]["per_segment"]
            else ("DEMO" if tm["demo_repetitions"] * tm["demo_clip_s"] > 0 else "COUNTDOWN")
        )
        out.append(("SEGMENT_START", first, idx, 1, label, t))
        if raw["sync"]["per_segment"]:
            t = flashes(t, idx, 1, label)
        for phase, dur in (
            ("DEMO", tm["demo_repetitions"] * ns(tm["demo_clip_s"])),
            ("COUNTDOWN", ns(tm["countdown_s"])),
            ("NEUTRAL", ns(tm["neutral_s"])),
            ("PERFORM", ns(tm["perform_s"])),
            ("REST", ns(tm["rest_s"])),
        ):
            if dur:
                out.append(("PHASE", phase, idx, 1, label, t))
                t += dur
        out.append(("SEGMENT_END", "NONE", idx, 1, label, t))
    out.append(("SESSION_END", "NONE", 0, 0, "", t))
    return out


@pytest.fixture
def demo_plan_path() -> Path:
    return PLANS / "demo_3au.yaml"
