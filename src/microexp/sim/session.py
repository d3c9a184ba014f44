"""A whole simulated recording session: the protocol on a fake clock, a subject performing it.

:func:`simulate_session` runs :class:`~microexp.protocol.engine.ProtocolEngine` on a
:class:`~microexp.protocol.clock.FakeClock` (no display, time mode), turns its events into
segments, and lets the simulated subject perform each segment's label inside the perform window
with a randomised onset/apex/offset (the ground truth). Sync flashes light the face. Spontaneous
blinks and slow head sway are the distractors. The result is a :class:`Scene` that every camera
samples, plus everything the bag needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from microexp.consent.scope import ConsentScope, Modality
from microexp.errors import ConfigError
from microexp.protocol.clock import FakeClock
from microexp.protocol.engine import ProtocolEngine
from microexp.protocol.events import EventKind, ProtocolEvent, SessionInfo
from microexp.protocol.labels import Segment, segments_from_events
from microexp.protocol.plan import SessionPlan, seconds_to_ns
from microexp.sim.au_motion import Style, random_profile
from microexp.sim.scene import Flash, Lighting, PerformedAction, Scene, random_blinks
from microexp.sim.subject import Subject

__all__ = [
    "DEFAULT_START_NS",
    "SessionSimConfig",
    "SimulatedSession",
    "idle_scene",
    "sim_consent",
    "simulate_session",
]

DEFAULT_START_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z: ROS time of session start
_STEP_NS = 50_000_000


@dataclass(frozen=True, slots=True)
class SessionSimConfig:
    """How the simulated subject behaves and what the room is like."""

    subject_id: str
    seed: int = 0
    session_id: str = ""  # default: "sim-<subject>-<seed>"
    style: Style = "micro"
    start_ns: int = DEFAULT_START_NS
    lighting: Lighting = field(default_factory=Lighting)
    blinks: bool = True
    head_motion: bool = True
    flash_gain: float = 0.4
    reaction_us: tuple[int, int] = (150_000, 500_000)  # cue -> onset
    peak: tuple[float, float] = (0.7, 1.0)
    tail_us: int = 500_000  # recording continues after the session end
    consent: ConsentScope | None = None  # None: :func:`sim_consent` (every modality and use)

    @property
    def resolved_session_id(self) -> str:
        return self.session_id or f"sim-{self.subject_id}-{self.seed}"


@dataclass(frozen=True, slots=True)
class SimulatedSession:
    """The protocol's record, the scene and the ground truth of one simulated session."""

    plan: SessionPlan
    info: SessionInfo
    config: SessionSimConfig
    events: tuple[ProtocolEvent, ...]  # stamped in ROS time (ns)
    segments: tuple[Segment, ...]
    scene: Scene  # protocol time: µs since start_ns
    ground_truth: tuple[PerformedAction, ...]  # what was performed, one per valid segment
    consent: ConsentScope  # recorded on /microexp/consent

    @property
    def start_ns(self) -> int:
        return self.config.start_ns

    def to_ros_ns(self, t_us: int) -> int:
        """Protocol µs -> ROS time ns."""
        return self.config.start_ns + int(t_us) * 1000


def sim_consent(*, subject_id: str, session_id: str) -> ConsentScope:
    """The consent recorded for a simulated subject (no person): every modality, every use."""
    every = frozenset(Modality)
    return ConsentScope(
        subject_id=subject_id,
        session_id=session_id,
        study=every,
        sharing=every,
        publication=every,
        form="simulated subject (no person)",
    )


def _run_protocol(plan: SessionPlan, info: SessionInfo, start_ns: int) -> list[ProtocolEvent]:
    engine = ProtocolEngine(plan, info, clock=FakeClock(start_ns))
    events = engine.advance_to(start_ns)
    t = start_ns
    limit = start_ns + 24 * 3600 * 1_000_000_000
    while not engine.finished:
        t += _STEP_NS
        if t > limit:  # pragma: no cover - a plan never ends only through a bug
            raise RuntimeError(f"plan {plan.name}: protocol did not finish within 24 h")
        events.extend(engine.advance_to(t))
    return events


def simulate_session(plan: SessionPlan, config: SessionSimConfig) -> SimulatedSession:
    """Run ``plan`` for the subject of ``config`` and build the scene and the ground truth."""
    subject = Subject.from_seed(config.subject_id, seed=config.seed)
    if not config.head_motion:
        subject = _replace_subject(subject, head_jitter=0.0)
    info = SessionInfo(
        subject_id=config.subject_id,
        session_id=config.resolved_session_id,
        consent=True,
        plan_name=plan.name,
        glasses=subject.glasses,
        lux=float(config.lighting.level * 1000.0),
        lighting="simulated",
        notes=f"microexp sim seed={config.seed} style={config.style}",
    )
    if config.consent is None:
        consent = sim_consent(subject_id=info.subject_id, session_id=info.session_id)
    elif config.consent.subject_id != info.subject_id:
        raise ConfigError(
            f"consent of subject {config.consent.subject_id!r} for simulated subject "
            f"{info.subject_id!r}"
        )
    else:
        consent = config.consent.with_ids(subject_id=info.subject_id, session_id=info.session_id)
    start = config.start_ns
    events = _run_protocol(plan, info, start)
    segments = segments_from_events(events)
    rng = np.random.default_rng([config.seed, 0x51A])
    actions: list[PerformedAction] = []
    for seg in segments:
        if seg.perform_start_ns < 0 or seg.perform_end_ns < 0:
            continue
        ps = (seg.perform_start_ns - start) // 1000
        pe = (seg.perform_end_ns - start) // 1000
        reaction = int(rng.uniform(*config.reaction_us))
        window = pe - ps - reaction
        if window < 150_000:
            continue
        profile = random_profile(
            rng,
            start_us=ps + reaction,
            window_us=window,
            style=config.style,
            au_numbers=seg.au_numbers,
            peak=float(rng.uniform(*config.peak)),
        )
        actions.append(
            PerformedAction(seg.label, seg.au_numbers, profile, seg.segment_index, seg.attempt)
        )
    on_us = int(seconds_to_ns(plan.sync.pattern.on_s) // 1000)
    flashes = [
        Flash(
            (e.stamp_ns - start) // 1000,
            (e.stamp_ns - start) // 1000 + on_us,
            gain=config.flash_gain,
        )
        for e in events
        if e.kind == EventKind.SYNC_FLASH
    ]
    duration_us = (events[-1].stamp_ns - start) // 1000 + config.tail_us
    distractors: list[PerformedAction] = []
    if config.blinks:
        avoid = [(a.profile.onset_us, a.profile.offset_us) for a in actions]
        avoid += [(f.on_us, f.off_us) for f in flashes]
        distractors = random_blinks(
            rng, rate_hz=subject.blink_rate_hz, duration_us=duration_us, avoid=avoid
        )
    scene = Scene(
        subject,
        duration_us,
        tuple(actions + distractors),
        tuple(flashes),
        config.lighting,
        sway_seed=config.seed,
    )
    return SimulatedSession(
        plan, info, config, tuple(events), tuple(segments), scene, tuple(actions), consent
    )


def idle_scene(
    subject: Subject,
    *,
    duration_us: int,
    seed: int = 0,
    blink_rate_hz: float | None = None,
    lighting: Lighting | None = None,
) -> Scene:
    """A subject sitting still (head sway and blinks only), e.g. for a free-running camera."""
    rng = np.random.default_rng([seed, 0x1D1E])
    rate = subject.blink_rate_hz if blink_rate_hz is None else blink_rate_hz
    blinks = random_blinks(rng, rate_hz=rate, duration_us=duration_us)
    return Scene(subject, duration_us, tuple(blinks), (), lighting or Lighting(), sway_seed=seed)


def _replace_subject(subject: Subject, *, head_jitter: float) -> Subject:
    from dataclasses import replace

    return replace(subject, head_jitter=head_jitter)
