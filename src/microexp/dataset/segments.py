"""Protocol messages of a session bag → :class:`microexp.protocol.labels.Segment`, and which
segments may become clips.

Segments come from :func:`microexp.protocol.labels.segments_from_events` (one per attempt; redone,
skipped, aborted or unfinished attempts are invalid there with a reason). The export adds its own
checks (:func:`validate_segments`): demo-run segments, unknown AU codes, empty perform windows and
overlapping performances are rejected with a reason naming the bag, topic and segment.

:func:`clip_interval` gives each clip's interval: the perform window, or (simulated bags) the
ground-truth action's onset → offset inside it, with the neutral margin on each side. Trimming
to the event activity of real recordings happens once the clip's events are known
(:mod:`microexp.dataset.trim`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from microexp.aus import lookup
from microexp.errors import ConfigError
from microexp.protocol.labels import Segment, segments_from_events

__all__ = [
    "Segment",
    "TruthAction",
    "clip_interval",
    "offset_ns",
    "onset_ns",
    "segments_from_events",
    "validate_segments",
]


def onset_ns(seg: Segment) -> int:
    """Start of the perform window (the segment start when there was none)."""
    return seg.perform_start_ns if seg.perform_start_ns >= 0 else seg.start_ns


def offset_ns(seg: Segment) -> int:
    """End of the perform window (the segment end when there was none)."""
    return seg.perform_end_ns if seg.perform_end_ns >= 0 else seg.end_ns


@dataclass(frozen=True, slots=True)
class TruthAction:
    """A performed action as the simulator recorded it (``/microexp/ground_truth``), ROS ns."""

    label: str
    onset_ns: int
    offset_ns: int


def clip_interval(
    seg: Segment, *, truth: Sequence[TruthAction], mode: str, margin_ns: int
) -> tuple[int, int, str]:
    """``(start_ns, end_ns, source)`` of the clip of ``seg``.

    ``mode="ground_truth"``: the truth action of the segment's label whose onset lies in the
    perform window (the first one), ± margin; else (and for the other modes) the perform window
    ± margin. ``source`` says which was used.
    """
    lo, hi = onset_ns(seg), offset_ns(seg)
    if mode == "ground_truth":
        for act in truth:
            if act.label == seg.label and lo <= act.onset_ns < hi:
                return act.onset_ns - margin_ns, act.offset_ns + margin_ns, "ground_truth"
        return lo - margin_ns, hi + margin_ns, "perform_window (no ground truth in the window)"
    return lo - margin_ns, hi + margin_ns, "perform_window"


def validate_segments(
    segments: Sequence[Segment], *, where: str
) -> tuple[list[Segment], list[bool]]:
    """Segments with the export's checks applied, and per segment whether a rejection is an error.

    Normal rejections (not errors): invalid attempts (redone, skipped, ...) and demo-run segments.
    Errors (bad input): unknown AU code, empty perform window, performance overlapping the
    previous valid one (the first stays valid). ``where`` (bag and topic) prefixes each reason.
    """
    out: list[Segment] = []
    errors: list[bool] = []
    last: Segment | None = None
    for seg in sorted(segments, key=lambda s: s.start_ns):
        error = False
        name = f"{where} segment {seg.segment_index} attempt {seg.attempt}"
        if seg.valid and seg.run == "demo":
            seg = replace(seg, valid=False, reason="demo run (not exported)")
        if seg.valid:
            try:
                entry = lookup(seg.label, where=name)
                if not seg.au_numbers:
                    seg = replace(seg, au_numbers=entry.au_numbers)
            except ConfigError as err:
                seg, error = replace(seg, valid=False, reason=str(err).split(" (known:")[0]), True
        if seg.valid and offset_ns(seg) <= onset_ns(seg):
            seg, error = (
                replace(
                    seg,
                    valid=False,
                    reason=(f"{name}: empty perform window {onset_ns(seg)}..{offset_ns(seg)} ns"),
                ),
                True,
            )
        if seg.valid and last is not None and onset_ns(seg) < offset_ns(last):
            seg, error = (
                replace(
                    seg,
                    valid=False,
                    reason=(
                        f"{name} overlaps segment {last.segment_index} attempt {last.attempt} "
                        f"(onset {onset_ns(seg)} < previous offset {offset_ns(last)} ns)"
                    ),
                ),
                True,
            )
        if seg.valid:
            last = seg
        out.append(seg)
        errors.append(error)
    return out, errors
