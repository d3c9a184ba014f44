"""What happens in front of the cameras: performed actions, blinks, head sway, lighting, flashes.

A :class:`Scene` is a plain timeline on the *protocol clock* (µs). It answers two questions for
any time: the face's :class:`FaceParams` and the global illumination. Cameras sample it at their
own rates; :meth:`Scene.is_busy` tells them where to sample densely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from microexp.sim.au_motion import ActionProfile, FaceParams, face_params
from microexp.sim.subject import Subject

__all__ = ["Flash", "Lighting", "PerformedAction", "Scene", "random_blinks"]


@dataclass(frozen=True, slots=True)
class PerformedAction:
    """One action the subject performs (ground truth)."""

    label: str  # catalog code, e.g. "AU12", "smile", or "blink" for a distractor
    au_numbers: tuple[int, ...]
    profile: ActionProfile
    segment_index: int = -1  # -1: not part of the protocol (a distractor)
    attempt: int = 0

    @property
    def is_distractor(self) -> bool:
        return self.segment_index < 0


@dataclass(frozen=True, slots=True)
class Flash:
    """A screen flash lighting the face: illumination x (1 + gain) from on_us to off_us."""

    on_us: int
    off_us: int
    gain: float = 0.4
    rise_us: int = 4000  # screen response


@dataclass(frozen=True, slots=True)
class Lighting:
    """Global illumination: ``level`` x (1 + flicker_amp * sin(2π f t))."""

    level: float = 0.8
    flicker_hz: float = 100.0
    flicker_amp: float = 0.0


@dataclass(frozen=True)
class Scene:
    """A subject, what they do and the light, over ``[0, duration_us)``."""

    subject: Subject
    duration_us: int
    actions: Sequence[PerformedAction] = ()
    flashes: Sequence[Flash] = ()
    lighting: Lighting = field(default_factory=Lighting)
    sway_seed: int = 0

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.sway_seed)
        # 3 slow sinusoids per axis: (freq Hz, phase) for x, y, roll
        object.__setattr__(self, "_sway_f", rng.uniform(0.05, 0.4, size=(3, 3)))
        object.__setattr__(self, "_sway_ph", rng.uniform(0, 2 * np.pi, size=(3, 3)))
        on = np.array([a.profile.onset_us for a in self.actions], dtype=np.int64)
        off = np.array([a.profile.offset_us for a in self.actions], dtype=np.int64)
        object.__setattr__(self, "_on", on)
        object.__setattr__(self, "_off", off)
        f_on = np.array([f.on_us for f in self.flashes], dtype=np.int64)
        f_off = np.array([f.off_us + f.rise_us for f in self.flashes], dtype=np.int64)
        object.__setattr__(self, "_f_on", f_on)
        object.__setattr__(self, "_f_off", f_off)

    def _active(self, t0_us: int, t1_us: int) -> np.ndarray:
        on: np.ndarray = self._on  # type: ignore[attr-defined]
        off: np.ndarray = self._off  # type: ignore[attr-defined]
        return np.flatnonzero((on < t1_us) & (off > t0_us))

    def params_at(self, t_us: int) -> FaceParams:
        """Face state at ``t_us``."""
        amp = self.subject.head_jitter
        base = FaceParams()
        if amp > 0:
            ts = t_us * 1e-6
            f: np.ndarray = self._sway_f  # type: ignore[attr-defined]
            ph: np.ndarray = self._sway_ph  # type: ignore[attr-defined]
            sway = np.sin(2 * np.pi * f * ts + ph).sum(axis=1) / 3.0
            base = FaceParams(
                head_dx=amp * sway[0], head_dy=amp * 0.6 * sway[1], roll=amp * 0.5 * sway[2]
            )
        intens: dict[int, float] = {}
        k = self.subject.expressiveness
        for i in self._active(t_us, t_us + 1):
            a = self.actions[int(i)]
            pr = a.profile
            if pr.onset_us < t_us < pr.offset_us:
                v = float(pr.intensity(t_us))
                scale = 1.0 if a.is_distractor else k
                for n in a.au_numbers:
                    intens[n] = min(1.0, intens.get(n, 0.0) + v * scale)
        return face_params(intens, base=base)

    def illumination_at(self, t_us: int) -> float:
        """Global illumination multiplier at ``t_us``."""
        li = self.lighting
        g = li.level
        if li.flicker_amp > 0:
            g *= 1.0 + li.flicker_amp * np.sin(2 * np.pi * li.flicker_hz * t_us * 1e-6)
        for fl in self.flashes:
            if fl.on_us <= t_us < fl.off_us + fl.rise_us:
                up = min(1.0, (t_us - fl.on_us) / fl.rise_us)
                down = 1.0 - min(1.0, max(0.0, (t_us - fl.off_us) / fl.rise_us))
                g *= 1.0 + fl.gain * min(up, down)
        return float(g)

    def is_busy(self, t0_us: int, t1_us: int) -> bool:
        """True when something fast (action, blink, flash, flicker) happens in [t0_us, t1_us)."""
        if self.lighting.flicker_amp > 0:
            return True
        if self._active(t0_us, t1_us).size:
            return True
        f_on: np.ndarray = self._f_on  # type: ignore[attr-defined]
        f_off: np.ndarray = self._f_off  # type: ignore[attr-defined]
        return bool(np.any((f_on < t1_us) & (f_off > t0_us)))


def random_blinks(
    rng: np.random.Generator,
    *,
    rate_hz: float,
    duration_us: int,
    avoid: Sequence[tuple[int, int]] = (),
) -> list[PerformedAction]:
    """Spontaneous blinks (distractors) as a Poisson process, outside the ``avoid`` intervals."""
    out: list[PerformedAction] = []
    if rate_hz <= 0:
        return out
    t = 0.0
    while True:
        t += rng.exponential(1e6 / rate_hz)
        if t >= duration_us - 400_000:
            break
        total = rng.uniform(120e3, 300e3)
        on = int(t)
        if any(a0 - 300_000 < on < a1 for a0, a1 in avoid):
            continue
        rise = int(total * 0.4)
        prof = ActionProfile(on, on + rise, on + rise, on + int(total), 1.0)
        out.append(PerformedAction("blink", (45,), prof))
    return out
