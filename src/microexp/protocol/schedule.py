"""The schedule of a session: the steps (constant display stretches) of the session prelude and
of every segment attempt, and the view of one display frame."""

from __future__ import annotations

from dataclasses import dataclass

from microexp.protocol.events import Phase
from microexp.protocol.plan import PlannedSegment, SessionPlan, seconds_to_ns

__all__ = ["FrameView", "Step", "prelude_steps", "segment_steps"]


@dataclass(frozen=True, slots=True)
class Step:
    """A stretch of constant display: one phase, or one on/off half of a sync flash."""

    phase: Phase
    duration_ns: int
    flash: int = 0  # 1-based number of a sync flash's "on" step; 0 otherwise
    flashes: int = 0


def _sync_steps(plan: SessionPlan) -> list[Step]:
    p = plan.sync.pattern
    out: list[Step] = []
    for i in range(1, p.flashes + 1):
        out.append(Step(Phase.SYNC, seconds_to_ns(p.on_s), flash=i, flashes=p.flashes))
        if p.off_s > 0:
            out.append(Step(Phase.SYNC, seconds_to_ns(p.off_s)))
    return out


def prelude_steps(plan: SessionPlan) -> tuple[Step, ...]:
    """Steps shown once when the session starts (the session sync flashes, if any)."""
    return tuple(_sync_steps(plan)) if plan.sync.at_start else ()


def segment_steps(plan: SessionPlan) -> tuple[Step, ...]:
    """Steps of every segment attempt: [sync] demo countdown neutral perform rest (non-zero)."""
    t = plan.timing
    steps = _sync_steps(plan) if plan.sync.per_segment else []
    steps.append(Step(Phase.DEMO, t.demo_repetitions * seconds_to_ns(t.demo_clip_s)))
    for phase, s in (
        (Phase.COUNTDOWN, t.countdown_s),
        (Phase.NEUTRAL, t.neutral_s),
        (Phase.PERFORM, t.perform_s),
        (Phase.REST, t.rest_s),
    ):
        steps.append(Step(phase, seconds_to_ns(s)))
    return tuple(s for s in steps if s.duration_ns > 0)


@dataclass(frozen=True, slots=True)
class FrameView:
    """What one display frame shows (from :meth:`ProtocolEngine.prepare_frame`)."""

    t_ns: int
    started: bool
    finished: bool
    paused: bool
    phase: Phase  # the step's phase (PAUSED is shown as ``paused``)
    segment: PlannedSegment | None  # None in the session prelude and after the end
    attempt: int
    elapsed_ns: int  # time since the step started
    step_duration_ns: int
    flash: int  # >0 while a sync flash is on
