"""Protocol events -> labelled segments (what export and the simulator cut clips from).

One :class:`Segment` per attempt: ``start_ns``/``end_ns`` from SEGMENT_START/SEGMENT_END,
``perform_start_ns`` from the first PERFORM phase event and ``perform_end_ns`` from the event
that ended the last stretch of PERFORM (the next phase, a pause, a command or the segment end).
An attempt is invalid when an ATTEMPT_INVALID names it (redo, skip or abort before the perform
window ended, or an interruption found on resume) or when it never ended; ``reason`` says why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from microexp.protocol.events import EventKind, Phase, ProtocolEvent

__all__ = ["Segment", "segments_from_events"]


@dataclass(frozen=True, slots=True)
class Segment:
    label: str
    au_numbers: tuple[int, ...]
    segment_index: int
    attempt: int
    start_ns: int
    end_ns: int  # -1 when the attempt never ended (interrupted)
    perform_start_ns: int  # -1 when the perform window was never shown
    perform_end_ns: int  # -1 when it never ended
    valid: bool
    reason: str  # "" when valid; else "redo", "skip", "abort", "interrupted", "no end"...
    run: str = "main"  # "demo" or "main" (the demo run precedes the main run)

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns if self.end_ns >= 0 else -1


@dataclass
class _Open:
    ev: ProtocolEvent
    end_ns: int = -1
    perform_start_ns: int = -1
    perform_end_ns: int = -1
    in_perform: bool = False
    valid: bool = True
    reason: str = ""
    ended: bool = False


def segments_from_events(events: Iterable[ProtocolEvent]) -> list[Segment]:
    """Attempts in the order they started, valid or not (filter on ``valid`` for training)."""
    open_: dict[tuple[str, int, int], _Open] = {}
    order: list[tuple[str, int, int]] = []
    invalid: dict[tuple[str, int, int], str] = {}
    for ev in events:
        key = (ev.session_id, ev.segment_index, ev.attempt)
        if ev.kind == EventKind.ATTEMPT_INVALID:
            invalid.setdefault(key, ev.detail or "invalid")
            continue
        if ev.attempt == 0:
            continue  # session-level
        if ev.kind == EventKind.SEGMENT_START:
            if key not in open_:
                order.append(key)
            open_[key] = _Open(ev)
            continue
        o = open_.get(key)
        if o is None or o.ended:
            continue
        if o.in_perform and ev.kind in (EventKind.PHASE, EventKind.SEGMENT_END, EventKind.COMMAND):
            o.perform_end_ns, o.in_perform = ev.stamp_ns, False
        if ev.kind == EventKind.PHASE and ev.phase == Phase.PERFORM:
            if o.perform_start_ns < 0:
                o.perform_start_ns = ev.stamp_ns
            o.in_perform = True
        elif ev.kind == EventKind.SEGMENT_END:
            o.end_ns, o.ended = ev.stamp_ns, True
            if not ev.valid:
                o.valid, o.reason = False, ev.detail or "invalid"
    out: list[Segment] = []
    for key in order:
        o = open_[key]
        valid, reason = o.valid, o.reason
        if key in invalid:
            valid, reason = False, invalid[key]
        elif not o.ended:
            valid, reason = False, "no end"
        elif valid and o.perform_end_ns < 0:
            valid, reason = False, "no perform window"
        out.append(
            Segment(
                label=o.ev.label,
                au_numbers=o.ev.au_numbers,
                segment_index=o.ev.segment_index,
                attempt=o.ev.attempt,
                start_ns=o.ev.stamp_ns,
                end_ns=o.end_ns,
                perform_start_ns=o.perform_start_ns,
                perform_end_ns=o.perform_end_ns,
                valid=valid,
                reason=reason,
                run=o.ev.detail if o.ev.detail in ("demo", "main") else "main",
            )
        )
    return out
